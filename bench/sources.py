"""Refreshing feed sources on their schedules: 50 sources of 2,000 meetings each.

    .venv/bin/python bench/sources.py [--sources 50] [--meetings 2000] [--postgres]

A local HTTP server (tests/directory/feed_server.py: ETag, Last-Modified, 304) publishes 50
synthetic Meeting Guide feeds (bench/import.py's generator, a seed per source). Then, timed:
- the first fetch of every source (100,000 meetings into an empty directory),
- a refresh where nothing changed: every source answers 304,
- a refresh where every feed changed 10% of its meetings (200 each: under the hold thresholds).
The two refreshes run through the real task queue: `refresh_feeds` queued, `manage.py db_worker`
(one batch) fetching every due source. SQLite (a file under var/bench/) by default; with
--postgres also PostgreSQL at BENCH_SOURCES_POSTGRES_URL (default
postgres://postgres@127.0.0.1:5432/recoverybridge_bench_sources).
"""

import argparse
import importlib
import os
import subprocess
import sys
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]


def run_one(database_url: str, count: int, size: int) -> None:
    bench_import = importlib.import_module("bench.import")
    bench_import.setup_django(database_url)
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone
    from tests.directory.feed_server import FeedServer, handler_for

    from recoverybridge.directory.actions import sources
    from recoverybridge.directory.models import (
        AttemptOutcome,
        FeedAttempt,
        FeedSource,
        Fellowship,
        Meeting,
        MeetingSource,
    )
    from recoverybridge.directory.tasks import refresh_feeds

    call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0)
    call_command("load_vocabulary", verbosity=0)

    state = FeedServer()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(state))
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()

    aa = Fellowship.objects.get(slug="aa")
    feeds = {}
    for number in range(count):
        feed = bench_import.synthetic_feed(size, seed=number)
        feeds[number] = feed
        FeedSource.objects.create(
            name=f"source-{number:02d}",
            format="meeting-guide",
            location=state.publish(f"/source-{number:02d}.json", feed),
            fellowship=aa,
            refresh_minutes=60,
        )
    megabytes = sum(len(published.body) for published in state.feeds.values()) / 1e6
    print(f"{connection.vendor}: {count} sources of {size:,} meetings ({megabytes:.0f} MB of JSON in all)")

    def report(label: str, seconds: float, outcome: str) -> None:
        attempts = FeedAttempt.objects.filter(started_at__gte=started_at)
        outcomes = {
            o: attempts.filter(outcome=o).count()
            for o in AttemptOutcome.values
            if attempts.filter(outcome=o).exists()
        }
        assert outcomes == {outcome: count}, outcomes
        each = sorted((attempt.finished_at - attempt.started_at).total_seconds() for attempt in attempts)
        print(
            f"  {label:<28} {seconds:7.2f} s  {count / seconds:7.1f} sources/s  "
            f"per source median {each[len(each) // 2] * 1000:7.0f} ms, slowest {each[-1] * 1000:7.0f} ms"
        )

    def make_due() -> None:
        FeedSource.objects.update(next_refresh_at=timezone.now())

    def through_worker() -> float:
        make_due()
        refresh_feeds.enqueue()
        began = time.perf_counter()
        call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)
        return time.perf_counter() - began

    started_at = timezone.now()
    began = time.perf_counter()
    sources.refresh_due_sources()
    report("first fetch (all imported)", time.perf_counter() - began, AttemptOutcome.OK)
    # A few records of different sources fall within 100 m at the same hour and are merged.
    assert MeetingSource.objects.count() == count * size
    print(f"  ({Meeting.objects.count():,} meetings after merging the same meeting from two sources)")

    started_at = timezone.now()
    report("unchanged (all 304)", through_worker(), AttemptOutcome.NOT_MODIFIED)

    for number, feed in feeds.items():
        for record in feed[::10]:
            record["name"] = f"{record['name']} (renamed)"
        state.publish(f"/source-{number:02d}.json", feed)
    started_at = timezone.now()
    report("10% of each feed changed", through_worker(), AttemptOutcome.OK)
    updated = FeedAttempt.objects.filter(started_at__gte=started_at).values_list("updated", flat=True)
    assert set(updated) == {size // 10}, set(updated)
    server.shutdown()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sources", type=int, default=50)
    parser.add_argument("--meetings", type=int, default=2000)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.database_url:
        run_one(args.database_url, args.sources, args.meetings)
        return 0
    bench_dir = ROOT / "var" / "bench"
    bench_dir.mkdir(parents=True, exist_ok=True)
    urls = [f"sqlite:///{bench_dir / 'sources.sqlite3'}"]
    if args.postgres:
        pg = os.environ.get(
            "BENCH_SOURCES_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/recoverybridge_bench_sources"
        )
        if subprocess.call([sys.executable, str(ROOT / "bench" / "pg_available.py"), pg]) == 0:
            importlib.import_module("bench.import").ensure_postgres_database(pg)
            urls.append(pg)
        else:
            print(f"PostgreSQL not reachable at {pg}: skipped")
    for url in urls:
        # One child process per database: Django reads its settings once per process.
        command = [sys.executable, __file__, "--database-url", url]
        command += ["--sources", str(args.sources), "--meetings", str(args.meetings)]
        code = subprocess.call(command)
        if code:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
