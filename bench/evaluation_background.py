"""A large evaluation report built in the background: the page, the task worker, the page again.

    .venv/bin/python bench/evaluation_background.py [--people 14200]
    DATABASE_URL=postgres://... .venv/bin/python bench/evaluation_background.py

Builds the `make demo` world and `load_demo_evaluation(people=...)` as bench/evaluation_pages.py
does (Sam, the demo service manager, sees about 20,000 episodes, above the background size), then
times what a user waits for: the first request (it queues the build and answers with the progress
page), the task worker's build (`manage.py db_worker --batch`, in process: the cohort read from
the database and the report), a poll of the progress endpoint, and the report page once built.
Prints the peak RSS of the process (the worker's build included). For a million episodes the
report part of the build is what bench/evaluation.py measures (the cohort is read the same way,
in a dozen set-based queries).
"""

import argparse
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

QUERY = "treatment=peer_bridged&outcomes=mutual_aid_28d&outcomes=recovery_capital_change&estimand=ate"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=14_200)
    args = parser.parse_args()
    from bench.evaluation_pages import fill, setup

    setup()
    fill(args.people)
    from django.contrib.auth.models import User
    from django.core.cache import caches
    from django.core.management import call_command
    from django.test import Client

    from recoverybridge.evaluation import builds

    caches[builds.REPORT_CACHE].clear()
    client = Client()
    client.force_login(User.objects.get(username="sam"))
    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} cores)")

    def timed(label: str, action):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        result = action()
        print(f"{label:<60} {1000 * (time.perf_counter() - started):>10,.0f} ms")
        return result

    first = timed(
        "report page, first request (queues the build)",
        lambda: client.get(f"/staff/evaluation/report/?{QUERY}"),
    )
    assert first.status_code == 202, first.status_code
    timed("progress poll while queued", lambda: client.get(f"/staff/evaluation/report/progress/?{QUERY}"))
    timed(
        "task worker: cohort and report built (db_worker --batch)",
        lambda: call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0),
    )
    done = timed(
        "progress poll when built (tells the page to reload)",
        lambda: client.get(f"/staff/evaluation/report/progress/?{QUERY}"),
    )
    assert done.get("HX-Refresh") == "true"
    page = timed("report page, built", lambda: client.get(f"/staff/evaluation/report/?{QUERY}"))
    assert page.status_code == 200
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
