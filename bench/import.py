"""Feed import throughput: a synthetic Meeting Guide feed through the whole pipeline.

    .venv/bin/python bench/import.py [--sizes 20000,50000] [--no-postgres]

For each size it builds a Meeting Guide feed in memory (its own small
generator: cities on several continents, ~3 meetings per building, ~25%
online, a mix of "19:30" and "7:30 pm" times, day arrays), then times, from
JSON bytes to committed rows:
- the first import into an empty directory,
- a re-import of the same feed (nothing changes),
- a re-import with 10% of the records changed.
It runs on SQLite (a file under var/bench/) and, when a server answers at
BENCH_IMPORT_POSTGRES_URL (default
postgres://postgres@127.0.0.1:5432/recoverybridge_bench_import), on PostgreSQL.

Target: 5,000 meetings/s or better.
"""

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

# City, state, country, postal code, latitude, longitude (zones come from the coordinates).
CITIES = [
    ("New York", "NY", "USA", "10001", 40.7128, -74.0060),
    ("Chicago", "IL", "USA", "60601", 41.8781, -87.6298),
    ("Houston", "TX", "USA", "77002", 29.7604, -95.3698),
    ("Denver", "CO", "USA", "80202", 39.7392, -104.9903),
    ("Los Angeles", "CA", "USA", "90012", 34.0522, -118.2437),
    ("Toronto", "ON", "Canada", "M5H 2N2", 43.6532, -79.3832),
    ("Mexico City", "CDMX", "Mexico", "06000", 19.4326, -99.1332),
    ("London", "", "UK", "SW1A 1AA", 51.5074, -0.1278),
    ("Dublin", "", "Ireland", "D01", 53.3498, -6.2603),
    ("Madrid", "", "Spain", "28013", 40.4168, -3.7038),
    ("Berlin", "", "Germany", "10117", 52.5200, 13.4050),
    ("Johannesburg", "", "South Africa", "2001", -26.2041, 28.0473),
    ("Mumbai", "", "India", "400001", 19.0760, 72.8777),
    ("Sydney", "NSW", "Australia", "2000", -33.8688, 151.2093),
    ("Auckland", "", "New Zealand", "1010", -36.8485, 174.7633),
]
TYPES = ["O", "C", "D", "SP", "B", "ST", "W", "M", "Y", "X", "S", "BE", "LGBTQ", "12x12", "MED"]
STREETS = ["Main St", "High St", "Church Rd", "Park Ave", "Station Rd", "Mill Lane", "Oak St"]


def synthetic_feed(meetings: int, seed: int) -> list[dict[str, object]]:
    rng = random.Random(seed)
    buildings = []
    for number in range(max(1, meetings // 3)):
        city, state, country, postal, lat, lon = rng.choice(CITIES)
        street = f"{rng.randint(1, 999)} {rng.choice(STREETS)}"
        region = f"{state} {postal}".strip()
        buildings.append(
            {
                "location": f"Hall {number}",
                "formatted_address": f"{street}, {city}, {region}, {country}",
                "latitude": round(lat + rng.uniform(-0.2, 0.2), 6),
                "longitude": round(lon + rng.uniform(-0.2, 0.2), 6),
                "regions": [city, f"District {number % 40}"],
            }
        )
    feed: list[dict[str, object]] = []
    for number in range(meetings):
        hour, minute = rng.randint(6, 21), rng.choice([0, 0, 15, 30])
        record: dict[str, object] = {
            "slug": f"meeting-{number}",
            "name": f"Group {number}",
            "day": rng.randint(0, 6),
            "time": f"{hour:02d}:{minute:02d}"
            if rng.random() < 0.8
            else f"{(hour - 1) % 12 + 1}:{minute:02d} {'pm' if hour >= 12 else 'am'}",
            "end_time": f"{hour + 1:02d}:{minute:02d}",
            "types": rng.sample(TYPES, rng.randint(1, 4)),
            "notes": "Use the side door." if rng.random() < 0.3 else "",
            "updated": "2024-05-01 12:00:00",
            **rng.choice(buildings),
        }
        if rng.random() < 0.25:
            record["conference_url"] = f"https://zoom.us/j/{rng.randint(10**9, 10**10)}"
            record["approximate"] = "yes"
        feed.append(record)
    return feed


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recoverybridge.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def timed_import(source, body: bytes) -> tuple[float, object]:
    from recoverybridge.directory.actions import imports
    from recoverybridge.directory.feeds import loading, meeting_guide

    started = time.perf_counter()
    parsed = meeting_guide.parse(loading.decode_json(body, "bench feed"))
    run = imports.import_feed(source, parsed)
    return time.perf_counter() - started, run


def run_one(database_url: str, sizes: list[int], seed: int) -> None:
    setup_django(database_url)
    from django.core.management import call_command
    from django.db import connection

    from recoverybridge.directory.actions import imports
    from recoverybridge.directory.models import Fellowship, Meeting

    for size in sizes:
        call_command("flush", interactive=False, verbosity=0)
        call_command("migrate", verbosity=0)
        call_command("load_vocabulary", verbosity=0)
        source = imports.register_feed_source(
            "bench", "meeting-guide", "memory", fellowship=Fellowship.objects.get(slug="aa")
        )
        feed = synthetic_feed(size, seed)
        body = json.dumps(feed).encode()
        for record in feed[::10]:
            record["name"] = f"{record['name']} (renamed)"
        changed_body = json.dumps(feed).encode()

        print(f"{connection.vendor}, {size:,} meetings ({len(body) / 1e6:.1f} MB of JSON)")
        for label, data in (("first import", body), ("re-import", body), ("10% changed", changed_body)):
            seconds, run = timed_import(source, data)
            assert run.status == "succeeded", run.message
            print(
                f"  {label:<13} {seconds:6.2f} s  {size / seconds:>9,.0f} meetings/s"
                f"  (created {run.created}, updated {run.updated}, unchanged {run.unchanged})"
            )
        assert Meeting.objects.count() == size


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="20000,50000")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.database_url:
        run_one(args.database_url, sizes, args.seed)
        return 0

    # One child process per database: Django reads its settings once per process.
    bench_dir = ROOT / "var" / "bench"
    bench_dir.mkdir(parents=True, exist_ok=True)
    urls = [f"sqlite:///{bench_dir / 'import.sqlite3'}"]
    pg = os.environ.get(
        "BENCH_IMPORT_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/recoverybridge_bench_import"
    )
    if not args.no_postgres:
        if subprocess.call([sys.executable, str(ROOT / "bench" / "pg_available.py"), pg]) == 0:
            ensure_postgres_database(pg)
            urls.append(pg)
        else:
            print(f"PostgreSQL not reachable at {pg}: skipped")
    for url in urls:
        code = subprocess.call(
            [sys.executable, __file__, "--database-url", url, "--sizes", args.sizes, "--seed", str(args.seed)]
        )
        if code:
            return code
    return 0


def ensure_postgres_database(url: str) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


if __name__ == "__main__":
    sys.exit(main())
