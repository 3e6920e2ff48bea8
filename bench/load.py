"""Public searches under load: many concurrent searchers against gunicorn, optionally during an import.

    .venv/bin/python bench/load.py [--meetings 5000] [--searchers 200] [--duration 60]
        [--max-requests 50000] [--workers 2*cores+1] [--conditional 0.3] [--think 0]
        [--import-feed] [--database-url URL]

1. A database with the demo data (`manage.py demo_data --meetings N`: the synthetic directory,
   demo care and evaluation records), by default SQLite in var/bench/load-N.sqlite3, made once
   and reused; static files collected into var/bench/static (production refuses to start
   without them).
2. gunicorn with DEBUG=0 on 127.0.0.1 (loopback only), `--workers` workers (2 x cores + 1,
   gunicorn's own advice) of `--threads` threads each (1: the sync worker; more: gthread), its
   access log off as docs/operations.md says.
3. N searcher threads (standard library only: http.client), each asking in turn, for at most
   `--duration` seconds and `--max-requests` requests in all: half the finder's HTML page, half
   the JSON API, over the demo directory's cities, filters and pages; a share (`--conditional`)
   are a searcher asking again for a search it already has, with the ETag it was given
   (If-None-Match), as a browser does on reload or back. `--think` waits up to that many
   seconds (uniformly) between one searcher's requests; 0 is a stress test (each searcher asks
   again as soon as it is answered).
4. With `--import-feed`, a Meeting Guide feed (tests/fixtures/feeds/meeting-guide/sussexaa.json,
   every record's notes stamped with the run's time so that every meeting changes) is imported
   by `manage.py import_feed` a few seconds into the run.
5. Prints throughput, p50/p95/p99 (all, and per kind of request), status counts and errors,
   the meetings before and after (none may be lost: every meeting id before is still there),
   and the load average before and after (the machine is shared).

Exit status 1 when a request failed or a meeting was lost.
"""

import argparse
import http.client
import json
import os
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
FEED = ROOT / "tests" / "fixtures" / "feeds" / "meeting-guide" / "sussexaa.json"
HOST = "127.0.0.1"

# Places of the synthetic directory (directory/generate.py) and what people filter by.
CITIES = [
    ("New York", 40.7128, -74.0060),
    ("Chicago", 41.8781, -87.6298),
    ("Boston", 42.3601, -71.0589),
    ("Houston", 29.7604, -95.3698),
    ("Denver", 39.7392, -104.9903),
    ("London", 51.5074, -0.1278),
    ("Manchester", 53.4808, -2.2426),
    ("Madrid", 40.4168, -3.7038),
    ("Sydney", -33.8688, 151.2093),
    ("Toronto", 43.6532, -79.3832),
    ("Mexico City", 19.4326, -99.1332),
    ("Berlin", 52.5200, 13.4050),
]
PAGE_FILTERS = [
    {},
    {"when": "now"},
    {"when": "today"},
    {"mode": "in_person"},
    {"moud": "on"},
    {"approach": "secular"},
    {"when": "1", "time": "evening"},
]
API_FILTERS = [
    {},
    {"starting_within": "120"},
    {"day": "1"},
    {"moud_friendly": "true"},
    {"mode": "in_person"},
    {"page": "2"},
]
WIDE = [
    ("page", {"mode": "online"}),
    ("page", {"moud": "on"}),
    ("page", {"when": "now", "mode": "online"}),
    ("api", {"mode": "online", "starting_within": "60"}),
    ("api", {"moud_friendly": "true"}),
]


def search_urls() -> list[tuple[str, str]]:
    """(kind, path) of every search the searchers pick from: 12 cities x filters, and wide searches."""
    urls: list[tuple[str, str]] = []
    for city, lat, lon in CITIES:
        for extra in PAGE_FILTERS:
            urls.append(("page", "/?" + urlencode({"where": city, "tz": "UTC", **extra})))
        for extra in API_FILTERS:
            query = {"lat": lat, "lon": lon, "radius_km": 25, **extra}
            urls.append(("api", "/api/v1/meetings?" + urlencode(query)))
    for kind, query in WIDE:
        path = "/?" if kind == "page" else "/api/v1/meetings?"
        urls.append((kind, path + urlencode(query)))
    return urls


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    times: dict[str, list[float]] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    count: int = 0

    def add(self, kind: str, seconds: float, status: int) -> None:
        with self.lock:
            self.times.setdefault(kind, []).append(seconds)
            self.statuses[status] = self.statuses.get(status, 0) + 1

    def claim(self, limit: int) -> bool:
        """One more request, unless the run's count is spent."""
        with self.lock:
            if self.count >= limit:
                return False
            self.count += 1
            return True


def ask(path: str, headers: dict[str, str], timeout: float) -> tuple[int, str, int]:
    """(status, ETag, body length); a new connection each time (gunicorn's sync workers close it)."""
    connection = http.client.HTTPConnection(HOST, PORT, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Accept-Language": "en", **headers})
        response = connection.getresponse()
        body = response.read()
        return response.status, response.getheader("ETag") or "", len(body)
    finally:
        connection.close()


PORT = 0


def searcher(
    number: int, urls: list[tuple[str, str]], args: argparse.Namespace, stop: threading.Event, tally: Tally
) -> None:
    rng = random.Random(number)
    seen: dict[str, str] = {}
    while not stop.is_set() and tally.claim(args.max_requests):
        again = seen and rng.random() < args.conditional
        if again:
            path = rng.choice(list(seen))
            kind = ("page" if path.startswith("/?") else "api") + ", asked again with its ETag"
            headers = {"If-None-Match": seen[path]}
        else:
            kind, path = rng.choice(urls)
            headers = {}
        started = time.perf_counter()
        try:
            status, etag, _size = ask(path, headers, args.timeout)
        except (OSError, http.client.HTTPException) as error:
            with tally.lock:
                tally.errors.append(f"{path}: {type(error).__name__}: {error}")
            tally.add(kind, time.perf_counter() - started, 0)
            continue
        tally.add(kind, time.perf_counter() - started, status)
        if status not in (200, 304):
            with tally.lock:
                tally.errors.append(f"{path}: HTTP {status}")
        if etag:
            seen[path] = etag
        if args.think:
            stop.wait(rng.uniform(0, args.think))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


# ---------------------------------------------------------------- database and server


def environment(database_url: str, static_root: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only"),
        "DEBUG": "0",
        "ALLOWED_HOSTS": HOST,
        "STATIC_ROOT": str(static_root),
        "DJANGO_SETTINGS_MODULE": "recoverybridge.settings",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
        "LOG_LEVEL": "WARNING",
    }


def prepare(meetings: int, database_url: str, env: dict[str, str]) -> None:
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True)
    if meeting_ids(database_url)[0]:
        return
    print(f"loading the demo data ({meetings:,} meetings) into {database_url} ...", file=sys.stderr)
    subprocess.run([*manage, "demo_data", "--meetings", str(meetings)], env=env, check=True)


def meeting_ids(database_url: str) -> tuple[set[int], int]:
    """Every meeting's id, and how many are active."""
    sql_all = "SELECT id, status FROM directory_meeting"
    if database_url.startswith("sqlite:///"):
        path = database_url.removeprefix("sqlite:///")
        if not Path(path).exists():
            return set(), 0
        with sqlite3.connect(path) as conn:
            try:
                rows = conn.execute(sql_all).fetchall()
            except sqlite3.OperationalError:
                return set(), 0
    else:
        import psycopg

        with psycopg.connect(database_url) as conn:
            rows = conn.execute(sql_all).fetchall()
    return {row[0] for row in rows}, sum(1 for row in rows if row[1] == "active")


def start_server(env: dict[str, str], workers: int, threads: int) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "gunicorn", "--pythonpath", "src", "--bind", f"{HOST}:0"]
    command += ["--workers", str(workers), "--threads", str(threads), "--timeout", "60", "--backlog", "2048"]
    command += ["recoverybridge.wsgi"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    deadline = time.monotonic() + 120
    global PORT
    booted = 0
    while time.monotonic() < deadline and booted < workers:
        line = process.stderr.readline()
        if not line and process.poll() is not None:
            raise SystemExit("gunicorn did not start")
        found = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", line)
        if found:
            PORT = int(found.group(1))
        if "Booting worker" in line:
            booted += 1
    # Drain its log so that it never blocks on a full pipe; keep it for the errors.
    threading.Thread(target=lambda: sys.stderr.write(process.stderr.read()), daemon=True).start()  # type: ignore[union-attr]
    for _ in range(200):  # each worker loads Django on its first request: wait for one answer
        try:
            ask("/which-group/", {}, 30)
            break
        except OSError:
            time.sleep(0.1)
    return process


def stamped_feed(folder: Path) -> Path:
    """The sample feed with every record's notes stamped now: each of its meetings changes."""
    records = json.loads(FEED.read_text())
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    for record in records:
        record["notes"] = f"{record.get('notes') or ''} (load run {stamp})".strip()
    path = folder / "feed.json"
    path.write_text(json.dumps(records))
    return path


def run_import(env: dict[str, str], feed: Path, delay: float, out: dict[str, object]) -> None:
    time.sleep(delay)
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "manage.py"),
            "import_feed",
            "--format",
            "meeting-guide",
            "--source",
            "load-sussex",
            "--fellowship",
            "aa",
            str(feed),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    out["seconds"] = time.perf_counter() - started
    out["status"] = done.returncode
    out["said"] = (done.stdout.strip().splitlines() or [""])[-1][:200]
    if done.returncode:
        out["said"] = done.stderr.strip()[-400:]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--meetings", type=int, default=5000)
    parser.add_argument("--searchers", type=int, default=200)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds, at most 600")
    parser.add_argument("--max-requests", type=int, default=50_000, help="at most 500,000")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument(
        "--threads", type=int, default=1, help="per worker; more than 1 is gunicorn's gthread worker"
    )
    parser.add_argument(
        "--conditional", type=float, default=0.3, help="share of requests asked again with an ETag"
    )
    parser.add_argument(
        "--think", type=float, default=0.0, help="each searcher waits up to this many seconds"
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds a request may take")
    parser.add_argument("--import-feed", action="store_true", help="import a feed during the run")
    parser.add_argument("--database-url", help="default: SQLite in var/bench/load-N.sqlite3")
    args = parser.parse_args()
    args.duration = min(args.duration, 600.0)
    args.max_requests = min(args.max_requests, 500_000)

    bench = ROOT / "var" / "bench"
    bench.mkdir(parents=True, exist_ok=True)
    database_url = args.database_url or f"sqlite:///{bench / f'load-{args.meetings}.sqlite3'}"
    env = environment(database_url, bench / "static")
    prepare(args.meetings, database_url, env)
    if not (bench / "static" / "staticfiles.json").exists():  # production refuses to start without them
        manage = [sys.executable, str(ROOT / "manage.py")]
        subprocess.run([*manage, "collectstatic", "--no-input", "-v0"], env=env, check=True)

    before_ids, before_active = meeting_ids(database_url)
    server = start_server(env, args.workers, args.threads)
    urls = search_urls()
    tally = Tally()
    stop = threading.Event()
    imported: dict[str, object] = {}
    load_before = os.getloadavg()
    try:
        with tempfile.TemporaryDirectory() as folder:
            importer = None
            if args.import_feed:
                feed = stamped_feed(Path(folder))
                importer = threading.Thread(
                    target=run_import, args=(env, feed, min(5.0, args.duration / 4), imported)
                )
                importer.start()
            threads = [
                threading.Thread(target=searcher, args=(n, urls, args, stop, tally), daemon=True)
                for n in range(args.searchers)
            ]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            deadline = started + args.duration
            while time.perf_counter() < deadline and any(t.is_alive() for t in threads):
                time.sleep(0.2)
            stop.set()
            for thread in threads:
                thread.join(args.timeout + 5)
            elapsed = time.perf_counter() - started
            if importer is not None:
                importer.join(600)
    finally:
        server.terminate()
        server.wait(timeout=30)
    load_after = os.getloadavg()
    after_ids, after_active = meeting_ids(database_url)

    every = [t for times in tally.times.values() for t in times]
    lost = before_ids - after_ids
    print(
        f"### {args.searchers} searchers, {args.duration:.0f} s, gunicorn {args.workers} workers x {args.threads} threads,"
        f" {len(before_ids):,} meetings ({'SQLite' if database_url.startswith('sqlite') else 'PostgreSQL'}),"
        f" conditional share {args.conditional:.0%}, think time up to {args.think:g} s"
        f"{', during an import' if args.import_feed else ''}\n"
    )
    print(
        f"load average (1/5/15 min) before {load_before[0]:.1f}/{load_before[1]:.1f}/{load_before[2]:.1f},"
        f" after {load_after[0]:.1f}/{load_after[1]:.1f}/{load_after[2]:.1f}\n"
    )
    print("| requests | kind | per second | p50 ms | p95 ms | p99 ms |")
    print("|---|---|---|---|---|---|")
    rows = [("all", every), *sorted(tally.times.items())]
    for kind, times in rows:
        if not times:
            continue
        print(
            f"| {len(times):,} | {kind} | {len(times) / elapsed:.1f} | {statistics.median(times) * 1000:.0f}"
            f" | {percentile(times, 0.95) * 1000:.0f} | {percentile(times, 0.99) * 1000:.0f} |"
        )
    print()
    statuses = ", ".join(f"{status or 'no answer'}: {n:,}" for status, n in sorted(tally.statuses.items()))
    print(f"- answers: {statuses}; errors: {len(tally.errors)}")
    for error in tally.errors[:10]:
        print(f"  - {error}")
    if imported:
        print(
            f"- import during the run: exit {imported.get('status')} after {imported.get('seconds', 0):.1f} s"
            f" ({imported.get('said')})"
        )
    print(
        f"- meetings before {len(before_ids):,} ({before_active:,} active), after {len(after_ids):,}"
        f" ({after_active:,} active); lost: {len(lost)}"
    )
    return 1 if tally.errors or lost or imported.get("status") else 0


if __name__ == "__main__":
    sys.exit(main())
