"""The FHIR API at scale, on the data of bench/care.py (50k people, 200k referrals).

    .venv/bin/python bench/fhir_tasks.py [--runs 20] [--no-postgres] [--no-sqlite]

Builds (or reuses) the databases bench/care.py builds, gives the organisation that receives
the most requested referrals an API token, then times in process with django.test.Client,
counting each request's queries: `GET Task?status=requested` (pages of 50: the first page and
one deep in the list; every request writes 50 audit events, as in production), the total alone
(`_count=0`), a `_lastUpdated` search, one Task read, a conditional read answered 304, the
ServiceRequest its focus names, and a versioned update (`PATCH` with If-Match, the milestone
alternating). Prints a Markdown table for docs/benchmarks.md with the load average before and
after.
"""

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from bench.care import (  # noqa: E402
    build,
    ensure_postgres_database,
    percentile,
    setup_django,
    time_calls,
)


def busiest_receiver() -> tuple[object, int]:
    """The organisation with the most requested Tasks it may see, and how many."""
    from django.db.models import Count

    from recoverybridge.care.models import Referral
    from recoverybridge.organisations.models import Organisation

    targets = (
        Referral.objects.filter(status="requested", target_organisation__isnull=False)
        .values("target_organisation")
        .annotate(n=Count("pk"))
        .order_by("-n")[:5]
    )
    best: tuple[object, int] | None = None
    for row in targets:
        organisation = Organisation.objects.get(pk=row["target_organisation"])
        visible = Referral.objects.received_by([organisation.pk]).filter(status="requested").count()
        if best is None or visible > best[1]:
            best = (organisation, visible)
    assert best is not None and best[1] > 0, "no organisation receives requested referrals"
    return best


def interactions(client: object, runs: int) -> list[tuple[str, float, float, int]]:
    """The other interactions, on the first requested Task of the list."""
    from recoverybridge.care import fhir

    task = client.get("/api/v1/fhir/Task", {"status": "requested", "_count": 1}).json()["entry"][0][
        "resource"
    ]
    task_url = f"/api/v1/fhir/Task/{task['id']}"
    milestones = iter(["attended-first-meeting", "attending-regularly"] * (runs + 2))

    def expect(response: object, status: int) -> None:
        assert response.status_code == status, response.content[:300]

    def patch() -> None:
        etag = client.get(task_url)["ETag"]
        body = {"businessStatus": {"coding": [{"system": fhir.MILESTONE_SYSTEM, "code": next(milestones)}]}}
        expect(client.patch(task_url, body, content_type="application/fhir+json", HTTP_IF_MATCH=etag), 200)

    calls = {
        "total alone (_count=0)": lambda: expect(client.get("/api/v1/fhir/Task", {"_count": 0}), 200),
        "_lastUpdated=ge (last 30 days), page of 50": lambda: expect(
            client.get("/api/v1/fhir/Task", {"_lastUpdated": "ge2026-01-01"}), 200
        ),
        "Task read": lambda: expect(client.get(task_url), 200),
        "Task conditional read (304)": lambda: expect(
            client.get(task_url, HTTP_IF_NONE_MATCH=client.get(task_url)["ETag"]), 304
        ),
        "ServiceRequest read": lambda: expect(client.get(f"/api/v1/fhir/ServiceRequest/{task['id']}"), 200),
        "read + PATCH with If-Match": patch,
    }
    rows = []
    for label, call in calls.items():
        timings, count = time_calls(call, runs)
        rows.append((label, statistics.median(timings), percentile(timings, 0.95), count))
    return rows


def run_one(url: str, args: argparse.Namespace) -> None:
    setup_django(url)
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings, setup_test_environment

    from recoverybridge.accounts.actions import issue_api_token

    build(args.people, args.referrals, args.audit, args.seed)
    setup_test_environment()
    plain = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    override_settings(STORAGES={**settings.STORAGES, "staticfiles": plain}).enable()
    organisation, visible = busiest_receiver()
    token = issue_api_token(organisation)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    deep = max(0, (visible // 50 - 1) * 50)
    load_before = os.getloadavg()
    rows = []
    for label, offset in (("first page", 0), (f"page at offset {deep}", deep)):

        def get(offset: int = offset) -> None:
            response = client.get("/api/v1/fhir/Task", {"status": "requested", "_offset": offset})
            assert response.status_code == 200, response.content[:300]
            assert len(response.json()["entry"]) == 50

        timings, count = time_calls(get, args.runs)
        rows.append((label, statistics.median(timings), percentile(timings, 0.95), count))
    rows += interactions(client, args.runs)
    load_after = os.getloadavg()
    print(
        f"\n### {connection.vendor}: {visible:,} requested Tasks visible to the busiest receiving"
        f" organisation; pages of 50, {args.runs} runs each; load average (1 min)"
        f" {load_before[0]:.2f} before, {load_after[0]:.2f} after\n"
    )
    print("| request | p50 ms | p95 ms | queries |")
    print("|---|---|---|---|")
    for label, p50, p95, count in rows:
        print(f"| {label} | {p50:.1f} | {p95:.1f} | {count} |")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--referrals", type=int, default=200_000)
    parser.add_argument("--audit", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.database_url:
        run_one(args.database_url, args)
        return 0

    # One child process per database (Django reads its settings once), on bench/care.py's files.
    urls = []
    if not args.no_sqlite:
        (ROOT / "var" / "bench").mkdir(parents=True, exist_ok=True)
        urls.append(f"sqlite:///{ROOT / 'var' / 'bench' / f'care-{args.people}.sqlite3'}")
    pg = os.environ.get("BENCH_CARE_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/rb_bench_care")
    if not args.no_postgres:
        if subprocess.call([sys.executable, str(ROOT / "bench" / "pg_available.py"), pg]) == 0:
            ensure_postgres_database(pg)
            urls.append(pg)
        else:
            print(f"PostgreSQL not reachable at {pg}: skipped")
    for url in urls:
        code = subprocess.call([sys.executable, __file__, "--database-url", url, *sys.argv[1:]])
        if code:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
