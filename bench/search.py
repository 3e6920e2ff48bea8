"""Search latency through the HTTP API, at 10k, 100k and 200k meetings, on SQLite and PostgreSQL.

    .venv/bin/python bench/search.py [--sizes 10000,100000,200000] [--runs 200] [--no-postgres]

Each directory is built by `generate_directory` (cities on six continents,
realistic fellowship mix, ~25% online) in a throwaway database:
a SQLite file under var/bench/ and, when a server answers at
BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/recoverybridge_bench),
a PostgreSQL database of that name. For every search it prints p50/p95/p99 of
the full request (django.test.Client, in process) and of the raw
bounding-box query for the same filters (the floor).

Target at 200k meetings: "25 km + weekday + attribute" p95 under 25 ms on
SQLite and within 3x of its floor.
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

# Search centres: the generator's busiest cities and both sides of the antimeridian.
CENTRES = [
    (40.7128, -74.0060),  # New York
    (34.0522, -118.2437),  # Los Angeles
    (41.8781, -87.6298),  # Chicago
    (51.5074, -0.1278),  # London
    (-33.8688, 151.2093),  # Sydney
    (-18.1248, 178.4501),  # Suva
    (52.5200, 13.4050),  # Berlin
    (19.4326, -99.1332),  # Mexico City
]
SEARCHES = [
    ("25 km + weekday + attribute", {"radius_km": 25, "day": True, "attribute": "women"}),
    ("25 km + weekday", {"radius_km": 25, "day": True}),
    ("25 km", {"radius_km": 25}),
    ("10 km, starting within 2 h", {"radius_km": 10, "starting_within": 120}),
    ("anywhere, fellowship + weekday", {"fellowship": "smart", "day": True}),
    ("anywhere, online + weekday + language", {"mode": "online", "day": True, "language": "es"}),
    ("anywhere, no filter", {}),
]
TARGET = "25 km + weekday + attribute"


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recoverybridge.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    import django

    django.setup()


def build(meetings: int, seed: int) -> None:
    """The project's synthetic directory (generate_directory), as a user would build it."""
    from django.core.management import call_command

    from recoverybridge.directory.generate import generate_directory

    call_command("migrate", verbosity=0)
    # Start empty: the directory holds exactly the generated meetings.
    call_command("flush", interactive=False, verbosity=0)
    call_command("load_vocabulary", verbosity=0)
    generate_directory(meetings, seed)  # ends by refreshing the planner's statistics


def floor_query(params: dict[str, object], lat: float, lon: float) -> None:
    """The raw candidate query a hand-written search would run: box, weekday, attribute."""
    from django.db.models import Exists, OuterRef

    from recoverybridge.directory.models import Attribute, Meeting
    from recoverybridge.directory.queries import bounding_box

    meetings = Meeting.objects.filter(status="active").order_by()
    if "radius_km" in params:
        lat_min, lat_max, lons = bounding_box(lat, lon, float(params["radius_km"]))  # type: ignore[arg-type]
        meetings = meetings.filter(
            location__latitude__gte=lat_min,
            location__latitude__lte=lat_max,
            location__longitude__gte=lons[0][0],
            location__longitude__lte=lons[0][1],
        )
    if "day" in params:
        meetings = meetings.filter(weekday=params["day"])
    if "attribute" in params:
        attribute = Attribute.objects.get(slug=params["attribute"]).pk
        through = Meeting.attributes.through.objects.filter(meeting_id=OuterRef("pk"), attribute_id=attribute)
        meetings = meetings.filter(Exists(through))
    list(meetings.values_list("id", "location__latitude", "location__longitude"))


def percentiles(samples: list[float]) -> str:
    q = statistics.quantiles(samples, n=100, method="inclusive")
    return f"p50 {q[49]:7.2f}  p95 {q[94]:7.2f}  p99 {q[98]:7.2f} ms"


def measure(runs: int, seed: int) -> dict[str, float]:
    from django.test import Client

    client = Client()
    rng = random.Random(seed)
    p95s = {}
    for label, spec in SEARCHES:
        api, floor = [], []
        for _ in range(runs):
            lat, lon = rng.choice(CENTRES)
            params: dict[str, object] = {k: v for k, v in spec.items() if k != "day"}
            if spec.get("day"):
                params["day"] = rng.randint(0, 6)
            if "radius_km" in spec:
                params.update(lat=lat, lon=lon)
            started = time.perf_counter()
            response = client.get("/api/v1/meetings", params)
            api.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.content
            started = time.perf_counter()
            floor_query(params, lat, lon)
            floor.append((time.perf_counter() - started) * 1000)
        p95s[label] = statistics.quantiles(api, n=100)[94]
        print(f"  {label:40s} api   {percentiles(api)}")
        print(f"  {'':40s} floor {percentiles(floor)}")
    return p95s


def run_one(database_url: str, sizes: list[int], runs: int, seed: int) -> None:
    setup_django(database_url)
    from django.db import connection

    for size in sizes:
        started = time.perf_counter()
        build(size, seed)
        print(f"{connection.vendor}, {size:,} meetings (built in {time.perf_counter() - started:.0f} s)")
        measure(runs, seed)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000,200000")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.database_url:
        run_one(args.database_url, sizes, args.runs, args.seed)
        return 0

    # One child process per database: Django settings are read once per process.
    bench_dir = ROOT / "var" / "bench"
    bench_dir.mkdir(parents=True, exist_ok=True)
    urls = [f"sqlite:///{bench_dir / 'search.sqlite3'}"]
    pg = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/recoverybridge_bench")
    if not args.no_postgres:
        if subprocess.call([sys.executable, str(ROOT / "bench" / "pg_available.py"), pg]) == 0:
            ensure_postgres_database(pg)
            urls.append(pg)
        else:
            print(f"PostgreSQL not reachable at {pg}: skipped")
    common = ["--sizes", args.sizes, "--runs", str(args.runs), "--seed", str(args.seed)]
    for url in urls:
        code = subprocess.call([sys.executable, __file__, "--database-url", url, *common])
        if code:
            return code
    return 0


def ensure_postgres_database(url: str) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


if __name__ == "__main__":
    sys.exit(main())
