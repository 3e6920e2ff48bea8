"""The evaluation report page (/staff/evaluation/report/) for a service manager: server time
on about 20,000 episodes, cold (the report built) and warm (from the "evaluation" cache).

    .venv/bin/python bench/evaluation_pages.py [--people 14200] [--cold 5] [--warm 20]
    DATABASE_URL=postgres://... .venv/bin/python bench/evaluation_pages.py

Builds the `make demo` world (vocabulary, a small directory, the demo care teams) and
`evaluation.demo.load_demo_evaluation(people=...)`; Sam, the demo service manager, sees the
Detox and Community teams, about three quarters of the people. Times the whole request in
process through Django's test client (middleware, access, audit, cache, template) with the
default form: every kind of episode, peer bridging on attending mutual aid within 28 days and
the change in recovery capital, ATE. Cold runs empty the cache first. Then the split of a cold
build: `cohorts.build_cohort` and `reports.build_report` timed alone, and the PDF and CSV
downloads once warm. Without DATABASE_URL it uses a fresh SQLite file
(var/bench/evaluation_pages.sqlite3); with it, that database is flushed first.
"""

import argparse
import os
import statistics
import sys
import time
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

QUERY = "treatment=peer_bridged&outcomes=mutual_aid_28d&outcomes=recovery_capital_change&estimand=ate"
REPORT = "/staff/evaluation/report/"


def setup() -> str:
    from bench.page_database import fresh_page_database

    return fresh_page_database("evaluation_pages")


def fill(people: int) -> str:
    from django.core.management import call_command

    from recoverybridge.demo.evaluation import load_demo_evaluation
    from recoverybridge.directory.generate import generate_directory

    call_command("load_vocabulary", verbosity=0)
    generate_directory(300, 1)
    call_command("demo_care", stdout=StringIO())
    return load_demo_evaluation(people=people)


def percentiles(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    return statistics.median(times), times[max(round(len(times) * 0.95) - 1, 0)]


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=14_200)
    parser.add_argument("--cold", type=int, default=5)
    parser.add_argument("--warm", type=int, default=20)
    args = parser.parse_args()
    vendor = setup()
    from django.contrib.auth.models import User
    from django.core.cache import caches
    from django.http import QueryDict
    from django.test import Client
    from django.test.utils import override_settings

    from recoverybridge.accounts.access import evaluation_scope_for
    from recoverybridge.evaluation import builds, cohorts, reports

    # This benchmark times the build inside the request; bench/evaluation_background.py the queue.
    builds.BACKGROUND_EPISODES = 10**9
    started = time.perf_counter()
    print(fill(args.people), f"({time.perf_counter() - started:.1f} s)")
    sam = User.objects.get(username="sam")
    client = Client()
    client.force_login(sam)
    cache = caches[builds.REPORT_CACHE]
    scope = evaluation_scope_for(sam)
    form = builds.report_form(scope, QueryDict(QUERY))
    assert form.is_valid(), form.errors
    plain_static = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }

    def get(path: str) -> float:
        began = time.perf_counter()
        response = client.get(f"{path}?{QUERY}")
        elapsed = time.perf_counter() - began
        assert response.status_code == 200, response.status_code
        return elapsed * 1000

    print(f"\nload average before: {load()} ({os.cpu_count()} cores)")
    with override_settings(STORAGES=plain_static):
        cold = []
        for _ in range(args.cold):
            cache.clear()
            cold.append(get(REPORT))
        warm = [get(REPORT) for _ in range(args.warm)]
        csv_warm = [get("/staff/evaluation/report.csv") for _ in range(3)]
        pdf_warm = [get("/staff/evaluation/report.pdf") for _ in range(3)]
    split_cohort, split_report = [], []
    for _ in range(args.cold):
        began = time.perf_counter()
        cohort = cohorts.build_cohort(builds.cohort_spec(form, scope))
        split_cohort.append((time.perf_counter() - began) * 1000)
        began = time.perf_counter()
        reports.build_report(cohort.frame, builds.report_spec(form, cohort), audience=scope.audience)
        split_report.append((time.perf_counter() - began) * 1000)
    print(f"load average after: {load()}")

    print(f"\n## Evaluation report page, service manager ({vendor}, {cohort.n_episodes:,} episodes)\n")
    print("| request | runs | p50 ms | p95 ms |\n|---|---:|---:|---:|")
    for label, times in [
        ("report page, cold (cohort and report built)", cold),
        ("report page, warm (from the cache)", warm),
        ("CSV, warm", csv_warm),
        ("PDF, warm (WeasyPrint renders every time)", pdf_warm),
        ("of a cold build: `cohorts.build_cohort`", split_cohort),
        ("of a cold build: `reports.build_report`", split_report),
    ]:
        p50, p95 = percentiles(times)
        print(f"| {label} | {len(times)} | {p50:,.0f} | {p95:,.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
