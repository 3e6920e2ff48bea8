"""Signing in as each demo role: the sign-in POST and the start page it lands on.

    DEMO_STAFF_PASSWORD=... DEMO_ADMIN_PASSWORD=... .venv/bin/python bench/sign_in.py \
        --database-url postgres://postgres@127.0.0.1:5432/rb_signin_demo [--runs 20]

Runs against a database made by `manage.py migrate` and `manage.py demo_data` with those
passwords set (the demo staff and the `admin` user), in process through django.test.Client with
DEBUG off. For each role it prints where the sign-in lands, p50/p95 of the sign-in POST (Argon2id
checks the password: most of it by design) and of the start page, and the start page's database
queries (a fixed number, whatever the caseload). Prints a Markdown table for docs/benchmarks.md.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
ROLES = [
    ("alice", "team manager"),
    ("sam", "service manager"),
    ("bob", "peer worker"),
    ("carol", "clinician"),
    ("cora", "commissioner"),
    ("eddie", "directory editor"),
    ("admin", "administrator"),
]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("SECRET_KEY", "bench-only-not-secret")
    os.environ["DEBUG"] = "0"
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ["DJANGO_SETTINGS_MODULE"] = "recoverybridge.settings"

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    settings.STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    passwords = {"admin": os.environ["DEMO_ADMIN_PASSWORD"]}
    print("| role | lands on | sign-in POST p50 / p95 ms | start page p50 / p95 ms | queries |")
    print("|---|---|---:|---:|---:|")
    for username, role in ROLES:
        password = passwords.get(username, os.environ["DEMO_STAFF_PASSWORD"])
        posts, pages, queries, landed = [], [], 0, ""
        for _ in range(args.runs):
            client = Client()
            started = time.perf_counter()
            response = client.post("/accounts/login/", {"username": username, "password": password})
            posts.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 302, (username, response.status_code)
            landed = response["Location"]
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                page = client.get(landed)
                pages.append((time.perf_counter() - started) * 1000)
            assert page.status_code == 200, (username, landed, page.status_code)
            queries = len(captured)
        print(
            f"| {username} ({role}) | `{landed}` | {statistics.median(posts):.0f} / {percentile(posts, 0.95):.0f}"
            f" | {statistics.median(pages):.0f} / {percentile(pages, 0.95):.0f} | {queries} |"
        )

    from django.contrib.auth.hashers import check_password, make_password

    hashed = make_password("a passphrase to check")
    checks = []
    for _ in range(args.runs):
        started = time.perf_counter()
        check_password("a passphrase to check", hashed)
        checks.append((time.perf_counter() - started) * 1000)
    print(f"\nThe Argon2id password check alone: p50 {statistics.median(checks):.0f} ms.")


if __name__ == "__main__":
    main()
