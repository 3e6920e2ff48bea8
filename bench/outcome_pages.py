"""The person outcomes page (/staff/people/<id>/outcomes/): server time with 5 years of
monthly responses.

    .venv/bin/python bench/outcome_pages.py [--runs 50]
    DATABASE_URL=postgres://... .venv/bin/python bench/outcome_pages.py

One person with 60 monthly completed responses to each of the 4 instruments (240), another
on the team with 500 months' worth (2,000), as in bench/outcomes.py. Times the whole request
in process through Django's test client (middleware, access checks, the audited view, the
charts, the template), p50/p95, with its query count; also the same page for a person with no
responses, to show the cost of the data. Without DATABASE_URL it uses a fresh SQLite file
(var/bench/outcome_pages.sqlite3); with it, that database is flushed first.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]


def setup() -> str:
    from bench.page_database import fresh_page_database

    return fresh_page_database("outcome_pages")


def fill():
    from bench.outcomes import five_years_of_responses

    world = five_years_of_responses()
    # Quinn's responses belong to the Community team; move Quinn to Detox so Bob's scope holds both.
    world.quinn.team = world.detox
    world.quinn.save()
    return world


def time_page(client, path: str, runs: int) -> tuple[float, float, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(path)  # warm: session, instruments, templates
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    times.sort()
    return (
        statistics.median(times),
        times[max(int(len(times) * 0.95) - 1, 0)],
        len(captured),
        len(response.content),
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    vendor = setup()
    from django.test import Client
    from django.test.utils import override_settings
    from tests.care_world import make_person

    world = fill()
    empty = make_person(world.detox, "RB-EMPTY001", "Emery")
    client = Client()
    client.force_login(world.bob)
    plain_static = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    print(f"## Person outcomes page ({vendor}, {args.runs} runs)\n")
    print("| person | p50 ms | p95 ms | queries | HTML bytes |\n|---|---:|---:|---:|---:|")
    with override_settings(STORAGES=plain_static):
        for label, person in [
            ("5 years monthly x 4 instruments (240 responses)", world.pat),
            ("no responses", empty),
        ]:
            p50, p95, queries, size = time_page(client, f"/staff/people/{person.pk}/outcomes/", args.runs)
            print(f"| {label} | {p50:.1f} | {p95:.1f} | {queries} | {size:,} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
