"""Care pages at scale: 50k people, 200k referrals, 1M audit events.

    .venv/bin/python bench/care.py [--people 50000] [--referrals 200000] [--audit 1000000]
                                   [--runs 50] [--no-postgres] [--rebuild]

1. Builds (or reuses) the care data with directory.bulk (multi-row INSERT on
   SQLite, COPY on PostgreSQL): 40 organisations, 200 teams of 4 workers and a
   manager, people spread over the teams (each with a navigator), a referral
   consent each, referrals (to meetings, groups and services; statuses and
   milestones as a live service would have them), one follow-up per referral,
   episodes, contacts and the audit trail. A small generated directory
   (generate_directory, 2,000 meetings) gives the meetings to refer to.
2. Measures, in process (django.test.Client, a signed-in peer worker), the
   server time p50/p95 of the staff dashboard and the person timeline, and the
   number of queries each page runs, for people and workers with little and with
   much data, to show the count stays constant (no N+1).
   When the staff pages are not there yet, it measures the read queries behind
   them (care.queries and accounts.access) instead, and says so.

On SQLite (var/bench/care-N.sqlite3) and on PostgreSQL when reachable
(BENCH_CARE_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/rb_bench_care).
Prints a Markdown section for docs/benchmarks.md.
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

ORGANISATIONS = 40
TEAMS_PER_ORGANISATION = 5
WORKERS_PER_TEAM = 4
MEETINGS = 2000
TARGET_MS = 150
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recoverybridge.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    import django

    django.setup()


# ---------------------------------------------------------------- building


def build(people: int, referrals: int, audit_events: int, seed: int) -> None:
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection, transaction

    from recoverybridge.accounts.models import Membership, Role
    from recoverybridge.audit.models import AuditEvent
    from recoverybridge.care.models import Consent, Contact, Episode, FollowUp, Person, Referral
    from recoverybridge.directory import bulk
    from recoverybridge.directory.models import Meeting
    from recoverybridge.organisations.models import Organisation, OrganisationKind, Team

    rng = random.Random(seed)
    call_command("migrate", verbosity=0)
    if Person.objects.count() >= people:
        return
    if not Meeting.objects.exists():
        call_command("generate_directory", meetings=MEETINGS, seed=seed, verbosity=0)
    meetings = list(Meeting.objects.values_list("pk", "fellowship_id"))
    started = time.perf_counter()

    def step(label: str) -> None:
        print(f"  {label} ({time.perf_counter() - started:.0f} s)", file=sys.stderr)

    with transaction.atomic():
        kinds = list(OrganisationKind.values)
        organisation_ids = bulk.insert(
            Organisation,
            [
                {
                    "name": f"Bench organisation {n:02d}",
                    "kind": kinds[n % len(kinds)],
                    "area": f"Area {n % 8}",
                }
                for n in range(ORGANISATIONS)
            ],
        )
        team_rows = [
            {"organisation_id": org, "name": f"Team {t}", "area": f"Area {t}"}
            for org in organisation_ids
            for t in range(TEAMS_PER_ORGANISATION)
        ]
        team_ids = bulk.insert(Team, team_rows)
        team_org = {team: row["organisation_id"] for team, row in zip(team_ids, team_rows, strict=True)}
        user_rows = [
            {
                "username": f"bench-{team}-{w}",
                "password": "!",  # unusable: the bench signs in with force_login
                "email": "",
                "first_name": "",
                "last_name": "",
                "is_staff": False,
                "is_active": True,
                "is_superuser": False,
                "date_joined": NOW,
                "last_login": None,
            }
            for team in team_ids
            for w in range(WORKERS_PER_TEAM + 1)
        ]
        user_ids = bulk.insert(User, user_rows)
        workers: dict[int, list[int]] = {}
        membership_rows = []
        for n, user in enumerate(user_ids):
            team = team_ids[n // (WORKERS_PER_TEAM + 1)]
            manager = n % (WORKERS_PER_TEAM + 1) == WORKERS_PER_TEAM
            role = Role.TEAM_MANAGER if manager else (Role.PEER_WORKER if n % 2 else Role.CLINICIAN)
            if not manager:
                workers.setdefault(team, []).append(user)
            membership_rows.append({"user_id": user, "team_id": team, "role": role, "created_at": NOW})
        bulk.insert(Membership, membership_rows)
    step("organisations, teams, workers")

    with transaction.atomic():
        person_rows = []
        for n in range(people):
            team = team_ids[n % len(team_ids)]
            person_rows.append(
                {
                    "team_id": team,
                    "reference": f"B{n:07d}",
                    "given_name": f"Given{n % 997}",
                    "family_name": f"Family{n % 1009}",
                    "date_of_birth": date(1960 + n % 45, 1 + n % 12, 1 + n % 28),
                    "postcode": "",
                    "on_moud": n % 3 == 0,
                    "navigator_id": rng.choice(workers[team]),
                    "created_at": NOW - timedelta(days=n % 700),
                    "updated_at": NOW,
                }
            )
        person_ids = bulk.insert(Person, person_rows)
        person_team = {pk: row["team_id"] for pk, row in zip(person_ids, person_rows, strict=True)}
        person_navigator = {pk: row["navigator_id"] for pk, row in zip(person_ids, person_rows, strict=True)}
    step(f"{people:,} people")

    with transaction.atomic():
        # A referral consent each, to an organisation other than the person's own.
        consent_rows = []
        consent_recipient = {}
        for pk in person_ids:
            own = team_org[person_team[pk]]
            recipient = rng.choice([org for org in organisation_ids[:8] if org != own])
            consent_recipient[pk] = recipient
            revoked = rng.random() < 0.05
            consent_rows.append(
                {
                    "person_id": pk,
                    "purpose": "referral",
                    "recipient_id": recipient,
                    "scope": "",
                    "given_at": NOW - timedelta(days=rng.randrange(1, 400)),
                    "expires_at": NOW + timedelta(days=rng.randrange(-30, 365)),
                    "revoked_at": NOW - timedelta(days=1) if revoked else None,
                    "recorded_by_id": person_navigator[pk],
                }
            )
        consent_ids = bulk.insert(Consent, consent_rows)
        person_consent = dict(zip(person_ids, consent_ids, strict=True))
    step(f"{people:,} consents")

    statuses = (
        ["requested"] * 15
        + ["accepted"] * 10
        + ["in-progress"] * 20
        + ["on-hold"] * 3
        + ["completed"] * 30
        + ["rejected"] * 5
        + ["cancelled"] * 5
        + ["failed"] * 5
        + ["draft"] * 5
        + ["entered-in-error"] * 2
    )
    milestones = [
        "",
        "",
        "attended-first-meeting",
        "attending-regularly",
        "tried-and-stopped",
        "chose-another-group",
    ]

    def skewed(n: int) -> int:
        """Everyone once, then a long tail: a few people have ~100 referrals and ~700 audit events."""
        if n < len(person_ids):
            return person_ids[n]
        return person_ids[int(len(person_ids) * rng.random() ** 1.5)]

    with transaction.atomic():
        referral_rows = []
        for n in range(referrals):
            person = skewed(n)
            choice = rng.random()
            meeting, fellowship = rng.choice(meetings)
            row = {
                "person_id": person,
                "team_id": person_team[person],
                "referred_by_id": person_navigator[person],
                "target_kind": "meeting",
                "meeting_id": meeting,
                "fellowship_id": fellowship,
                "target_organisation_id": None,
                "consent_id": None,
                "reason": "",
                "status": rng.choice(statuses),
                "business_status": "",
                "status_reason": "",
                "authored_on": NOW - timedelta(minutes=rng.randrange(0, 730 * 24 * 60)),
                "updated_at": NOW,
            }
            if choice < 0.4:
                row["business_status"] = rng.choice(milestones)
            elif choice < 0.7:
                row.update(target_kind="treatment", meeting_id=None, fellowship_id=None)
            else:
                row.update(target_kind="housing", meeting_id=None, fellowship_id=None)
            if choice >= 0.2:  # through an organisation: peer bridging or a service
                row["target_organisation_id"] = consent_recipient[person]
                row["consent_id"] = person_consent[person]
            referral_rows.append(row)
        referral_ids = bulk.insert(Referral, referral_rows)
    step(f"{referrals:,} referrals")

    with transaction.atomic():
        today = NOW.date()
        follow_rows = []
        for pk, row in zip(referral_ids, referral_rows, strict=True):
            due = row["authored_on"].date() + timedelta(days=7)
            done = due < today - timedelta(days=14) or rng.random() < 0.5
            follow_rows.append(
                {
                    "referral_id": pk,
                    "assigned_to_id": row["referred_by_id"],
                    "due_on": due,
                    "completed_at": NOW - timedelta(days=1) if done else None,
                    "outcome": "",
                    "reminder_sent_at": None,
                }
            )
        bulk.insert(FollowUp, follow_rows)
        episode_rows = []
        contact_rows = []
        kinds = ["detox", "community_treatment", "residential_rehab", "aftercare", "prison_release"]
        for n, pk in enumerate(person_ids):
            start = today - timedelta(days=rng.randrange(30, 700))
            episode_rows.append(
                {
                    "person_id": pk,
                    "kind": kinds[n % len(kinds)],
                    "started_on": start,
                    "ended_on": start + timedelta(days=10) if n % 2 else None,
                    "end_reason": "completed" if n % 2 else "",
                    "navigator_id": person_navigator[pk],
                }
            )
            for c in range(3):
                contact_rows.append(
                    {
                        "person_id": pk,
                        "episode_id": None,
                        "worker_id": person_navigator[pk],
                        "kind": "phone",
                        "at": NOW - timedelta(hours=rng.randrange(0, 700 * 24)),
                        "duration_minutes": 15 + c * 5,
                        "note": "",
                        "confidential": c == 2,
                    }
                )
        bulk.insert(Episode, episode_rows)
        bulk.insert(Contact, contact_rows)
    step("follow-ups, episodes, contacts")

    actions = ["view"] * 12 + ["update"] * 4 + ["create"] * 2 + ["export", "print"]
    attnames = [
        "at",
        "actor_id",
        "actor_organisation_id",
        "action",
        "object_type",
        "object_id",
        "person_id",
        "request_id",
        "remote_addr",
        "changes",
        "detail",
    ]
    chunk = 100_000
    for start in range(0, audit_events, chunk):
        with transaction.atomic():
            rows = []
            for n in range(start, start + min(chunk, audit_events - start)):
                person = skewed(n)
                rows.append(
                    (
                        NOW - timedelta(seconds=rng.randrange(0, 730 * 86400)),
                        person_navigator[person],
                        None,
                        rng.choice(actions),
                        "care.person",
                        str(person),
                        person,
                        "",
                        None,
                        "{}",  # JSON text: the raw insert skips the field's own adaptation
                        "",
                    )
                )
            bulk.insert_rows(AuditEvent, attnames, rows)
    step(f"{audit_events:,} audit events")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    step("ANALYZE")


# ---------------------------------------------------------------- measuring


def describe(people: list[int], workers: list[object]) -> str:
    """How much data the measured people and workers have, to show the query count does not follow it."""
    from recoverybridge.audit.models import AuditEvent
    from recoverybridge.care.models import FollowUp, Person, Referral

    sizes = [
        f"{Referral.objects.filter(person_id=pk).count()} referrals/{AuditEvent.objects.filter(person_id=pk).count()} events"
        for pk in people
    ]
    loads = [
        f"{Person.objects.filter(navigator=user).count()} people/"
        f"{FollowUp.objects.filter(assigned_to=user, completed_at__isnull=True).count()} open follow-ups"
        for user in workers
    ]
    return f"timeline people: {', '.join(sizes)}; dashboard workers: {', '.join(loads)}"


def subjects() -> tuple[object, list[int], list[object]]:
    """A peer worker with a full caseload, people of theirs from little to much data, and a light worker."""
    from django.contrib.auth.models import User
    from django.db.models import Count

    from recoverybridge.care.models import Person

    busiest = (
        Person.objects.values("navigator_id").annotate(n=Count("pk")).order_by("-n", "navigator_id").first()
    )
    assert busiest is not None
    worker = User.objects.get(pk=busiest["navigator_id"])
    team_people = (
        Person.objects.filter(team__memberships__user=worker)
        .annotate(n=Count("referrals", distinct=True))
        .order_by("n", "pk")
        .values_list("pk", flat=True)
    )
    ordered = list(team_people)
    people = [ordered[0], ordered[len(ordered) // 2], ordered[-1]]
    lightest = (
        Person.objects.values("navigator_id").annotate(n=Count("pk")).order_by("n", "navigator_id").first()
    )
    assert lightest is not None
    return worker, people, [worker, User.objects.get(pk=lightest["navigator_id"])]


def time_calls(call, runs: int) -> tuple[list[float], int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call()  # warm caches and connections
    with CaptureQueriesContext(connection) as queries:
        call()
    count = len(queries.captured_queries)  # now: the next request clears the log
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        timings.append((time.perf_counter() - started) * 1000)
    return timings, count


def page_urls(person_ids: list[int]) -> tuple[str, list[str]] | None:
    from django.urls import NoReverseMatch, reverse

    for dashboard, timeline in (("workspace:dashboard", "care:person"), ("staff:dashboard", "staff:person")):
        try:
            return reverse(dashboard), [reverse(timeline, args=[pk]) for pk in person_ids]
        except NoReverseMatch:
            continue
    return None


def measure(runs: int) -> list[tuple[str, float, float, str]]:
    from django.conf import settings
    from django.test import Client
    from django.test.utils import override_settings, setup_test_environment

    setup_test_environment()
    plain = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    override_settings(STORAGES={**settings.STORAGES, "staticfiles": plain}).enable()
    worker, people, workers = subjects()
    print(describe(people, workers), file=sys.stderr)
    rows: list[tuple[str, float, float, str]] = []
    urls = page_urls(people)
    if urls is not None:
        dashboard, timelines = urls
        dash_counts = []
        for user in workers:
            client = Client()
            client.force_login(user)

            def get(url: str = dashboard, client: Client = client) -> None:
                response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)

            timings, count = time_calls(get, runs)
            dash_counts.append(count)
            if user == worker:
                rows.append(
                    ("dashboard (busiest worker)", statistics.median(timings), percentile(timings, 0.95), "")
                )
        rows[-1] = (*rows[-1][:3], "/".join(map(str, dash_counts)))
        client = Client()
        client.force_login(worker)
        counts = []
        all_timings = []
        for url in timelines:

            def get_timeline(url: str = url) -> None:
                response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)

            timings, count = time_calls(get_timeline, runs)
            counts.append(count)
            all_timings += timings
        rows.append(
            (
                "person timeline (least, median, most referrals)",
                statistics.median(all_timings),
                percentile(all_timings, 0.95),
                "/".join(map(str, counts)),
            )
        )
        return rows
    # Fallback: the read side the pages are built on.
    from recoverybridge.audit.models import AuditEvent
    from recoverybridge.care import queries
    from recoverybridge.care.models import Person, Referral

    counts = []
    for user in workers:

        def dashboard_queries(user: object = user) -> None:
            queue = queries.work_queue(user, today=NOW.date())
            list(queue.overdue[:50]), list(queue.due_today), list(queue.upcoming[:50])
            list(Person.objects.restrict(user).filter(navigator=user).order_by("family_name")[:50])
            list(
                Referral.objects.restrict(user)
                .select_related("person", "meeting", "target_organisation")
                .order_by("-authored_on")[:20]
            )

        timings, count = time_calls(dashboard_queries, runs)
        counts.append(count)
        if user == worker:
            rows.append(
                (
                    "dashboard queries (care.queries)",
                    statistics.median(timings),
                    percentile(timings, 0.95),
                    "",
                )
            )
    rows[-1] = (*rows[-1][:3], "/".join(map(str, counts)))
    all_timings, counts = [], []
    for pk in people:

        def timeline_queries(pk: int = pk) -> None:
            person = Person.objects.restrict(worker).get(pk=pk)
            list(person.episodes.all())
            list(
                person.referrals.select_related("meeting__fellowship", "target_organisation").order_by(
                    "-authored_on"
                )
            )
            list(person.contacts.order_by("-at")[:50])
            list(person.consents.select_related("recipient"))
            list(AuditEvent.objects.filter(person_id=pk).order_by("-at")[:50])

        timings, count = time_calls(timeline_queries, runs)
        counts.append(count)
        all_timings += timings
    rows.append(
        (
            "person timeline queries",
            statistics.median(all_timings),
            percentile(all_timings, 0.95),
            "/".join(map(str, counts)),
        )
    )
    return rows


def run_one(url: str, args: argparse.Namespace) -> None:
    setup_django(url)
    from django.db import connection

    started = time.perf_counter()
    build(args.people, args.referrals, args.audit, args.seed)
    built = time.perf_counter() - started
    from recoverybridge.audit.models import AuditEvent
    from recoverybridge.care.models import Person, Referral

    sizes = (Person.objects.count(), Referral.objects.count(), AuditEvent.objects.count())
    rows = measure(args.runs)
    pages = not rows[0][0].endswith("(care.queries)")
    print(
        f"\n### {connection.vendor}: {sizes[0]:,} people, {sizes[1]:,} referrals, {sizes[2]:,} audit events"
        f" (built or reused in {built:.0f} s; {args.runs} runs each)\n"
    )
    if not pages:
        print("The staff pages are not there yet: these are the read queries behind them.\n")
    print("| what | p50 ms | p95 ms | queries per page |")
    print("|---|---|---|---|")
    for label, p50, p95, counts in rows:
        flag = "" if p95 < TARGET_MS else " (over target)"
        print(f"| {label} | {p50:.1f} | {p95:.1f}{flag} | {counts} |")


def ensure_postgres_database(url: str) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def drop_postgres_database(url: str) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=50_000)
    parser.add_argument("--referrals", type=int, default=200_000)
    parser.add_argument("--audit", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--rebuild", action="store_true", help="start from empty databases")
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.database_url:
        run_one(args.database_url, args)
        return 0

    # One child process per database: Django reads its settings once per process.
    bench_dir = ROOT / "var" / "bench"
    bench_dir.mkdir(parents=True, exist_ok=True)
    urls = []
    if not args.no_sqlite:
        sqlite = bench_dir / f"care-{args.people}.sqlite3"
        if args.rebuild:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{sqlite}{suffix}").unlink(missing_ok=True)
        urls.append(f"sqlite:///{sqlite}")
    pg = os.environ.get("BENCH_CARE_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/rb_bench_care")
    if not args.no_postgres:
        if subprocess.call([sys.executable, str(ROOT / "bench" / "pg_available.py"), pg]) == 0:
            if args.rebuild:
                drop_postgres_database(pg)
            ensure_postgres_database(pg)
            urls.append(pg)
        else:
            print(f"PostgreSQL not reachable at {pg}: skipped")
    passed = [arg for arg in sys.argv[1:] if arg != "--rebuild"]
    for url in urls:
        code = subprocess.call([sys.executable, __file__, "--database-url", url, *passed])
        if code:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
