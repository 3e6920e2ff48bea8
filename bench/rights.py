"""People's rights at scale: the accounting of disclosures, a copy of a long record, and a
retention run over thousands of records.

    .venv/bin/python bench/rights.py [--people 5000] [--events 40] [--runs 30] [--database-url URL]

Builds (or reuses) a database (var/bench/rights-N.sqlite3 unless --database-url) with `people`
people on 20 teams, each with two episodes, two referrals (one sent to another organisation
under consent), three contacts, a BARC-10 response and `events` audit events (every tenth a
disclosure), sealed into the audit chain as production writes them. Then measures, in process:

1. the accounting of disclosures of one person (`rights.queries.disclosures`) over the whole
   trail: p50 / p95 and the number of queries, for people picked at random;
2. the copy of the longest record (200 contacts, 40 responses, 20 referrals): PDF and FHIR
   Bundle, seconds and size;
3. retention as of ten years on, when every record is due: the dry run (deciding what is due)
   and the real run (anonymising and erasing) on a copy of the database (SQLite only).

Prints a Markdown section for docs/benchmarks.md with the load average before and after.
"""

import argparse
import os
import random
import shutil
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from bench.care import percentile, setup_django  # noqa: E402

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
MADE = NOW - timedelta(days=400)
TEAMS = 20


def build(people: int, events: int, seed: int) -> None:
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import transaction

    from recoverybridge.accounts.models import Membership, Role
    from recoverybridge.audit import actions as audit
    from recoverybridge.audit.models import AuditAction, DisclosureChannel, Recipient
    from recoverybridge.care.models import (
        Consent,
        ConsentPurpose,
        Contact,
        Episode,
        EpisodeKind,
        Person,
        Referral,
        ReferralTargetKind,
    )
    from recoverybridge.organisations.models import Organisation, OrganisationKind, Team
    from recoverybridge.outcomes import instruments, scoring
    from recoverybridge.outcomes.models import CollectionMode, Response, ResponseStatus

    call_command("migrate", verbosity=0)
    if Person.objects.count() >= people:
        return
    rng = random.Random(seed)
    harbour = Organisation.objects.create(name="Harbour", kind=OrganisationKind.TREATMENT)
    bridge = Organisation.objects.create(name="Bridge", kind=OrganisationKind.PEER_RECOVERY)
    teams = [Team.objects.create(organisation=harbour, name=f"Team {n}") for n in range(TEAMS)]
    worker = User.objects.create(username="worker")
    manager = User.objects.create(username="manager", first_name="Mia", last_name="Manager")
    for team in teams:
        Membership.objects.create(user=worker, team=team, role=Role.PEER_WORKER)
        Membership.objects.create(user=manager, team=team, role=Role.TEAM_MANAGER)
    barc = instruments.get("barc-10")
    answers, scores = scoring.validate_and_score(
        barc, {f"barc-{n}": "4" for n in range(1, 11)}, complete=True
    )

    def long_record(index: int) -> int:
        return 10 if index == 0 else 1

    with transaction.atomic():
        found = Person.objects.bulk_create(
            Person(
                team=teams[i % TEAMS],
                reference=f"RB-B{i:08d}",
                given_name=f"Given{i}",
                family_name="Example",
                date_of_birth=date(1960, 1, 1) + timedelta(days=rng.randrange(40 * 365)),
                email=f"p{i}@example.net",
                navigator=worker,
            )
            for i in range(people)
        )
        Person.objects.update(created_at=MADE, updated_at=MADE)
        consents = Consent.objects.bulk_create(
            [
                Consent(person=p, purpose=ConsentPurpose.REFERRAL, recipient=bridge, given_at=MADE)
                for p in found
            ]
            + [
                Consent(person=p, purpose=ConsentPurpose.EVALUATION, given_at=MADE)
                for p in found
                if rng.random() < 0.7
            ]
        )
        referral_consent = {c.person_id: c for c in consents if c.purpose == ConsentPurpose.REFERRAL}
        Episode.objects.bulk_create(
            Episode(
                person=p,
                kind=kind,
                started_on=(MADE + timedelta(days=offset)).date(),
                ended_on=(MADE + timedelta(days=offset + 20)).date(),
                end_reason="completed",
            )
            for p in found
            for kind, offset in ((EpisodeKind.DETOX, 0), (EpisodeKind.COMMUNITY_TREATMENT, 25))
        )
        referrals = Referral.objects.bulk_create(
            Referral(
                person=p,
                team=p.team,
                referred_by=worker,
                target_kind=ReferralTargetKind.OTHER_SERVICE,
                target_organisation=bridge,
                consent=referral_consent[p.pk],
                reason="Peer support",
                status="requested",
                authored_on=MADE + timedelta(days=n),
            )
            for i, p in enumerate(found)
            for n in range(2 * long_record(i))
        )
        Referral.objects.update(updated_at=MADE)
        Contact.objects.bulk_create(
            Contact(person=p, worker=worker, kind="phone", at=MADE + timedelta(days=n), note=f"Note {n}")
            for i, p in enumerate(found)
            for n in range(3 * long_record(i) * (7 if i == 0 else 1))
        )
        Response.objects.bulk_create(
            Response(
                person=p,
                instrument=barc.id,
                instrument_version=barc.version,
                time_point="ad-hoc",
                answers=answers,
                scores=scores,
                status=ResponseStatus.COMPLETED,
                mode=CollectionMode.STAFF,
                collected_by=worker,
                started_at=MADE + timedelta(days=n),
                completed_at=MADE + timedelta(days=n),
            )
            for i, p in enumerate(found)
            for n in range(4 * long_record(i))
        )
    sent = audit.disclosure(
        Recipient.ORGANISATION, channel=DisclosureChannel.REFERRAL, organisation=bridge.pk
    )
    batch = []
    for referral in referrals:
        for n in range(events // 2):
            disclosure = n % 10 == 0
            batch.append(
                audit.event(
                    worker,
                    AuditAction.CREATE if disclosure else AuditAction.VIEW,
                    referral,
                    person=referral.person_id,
                    changes=sent if disclosure else None,
                    at=MADE + timedelta(minutes=n),
                )
            )
        if len(batch) >= 5000:
            audit.record_many(batch)
            batch = []
    audit.record_many(batch)


def accounting(runs: int, seed: int) -> tuple[float, float, int, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from recoverybridge.audit.models import AuditEvent
    from recoverybridge.care.models import Person
    from recoverybridge.rights import queries

    ids = list(Person.objects.values_list("pk", flat=True))
    rng = random.Random(seed)
    times, rows = [], 0
    for _ in range(runs):
        pk = rng.choice(ids)
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as captured:
            rows = len(queries.disclosures(pk))
        times.append((time.perf_counter() - started) * 1000)
    return (
        statistics.median(times),
        percentile(times, 0.95),
        len(captured),
        rows,
        AuditEvent.objects.count(),
    )


def copy_of_longest() -> tuple[float, int, float, int, int]:
    from django.contrib.auth.models import User

    from recoverybridge.care.models import Person
    from recoverybridge.rights import actions

    person = Person.objects.get(reference="RB-B00000000")
    manager = User.objects.get(username="manager")
    request = actions.record_request(manager, person, kind="access", received_on=NOW.date(), now=NOW)
    started = time.perf_counter()
    pdf = actions.disclose_copy(manager, request, form="pdf", now=NOW)
    pdf_seconds = time.perf_counter() - started
    started = time.perf_counter()
    bundle = actions.disclose_copy(manager, request, form="fhir", now=NOW)
    fhir_seconds = time.perf_counter() - started
    return pdf_seconds, len(pdf), fhir_seconds, len(bundle), person.contacts.count()


def retention_runs(
    database: Path | None,
) -> tuple[float, dict[str, int], float | None, dict[str, int] | None]:
    from django.db import connections

    from recoverybridge.rights import retention

    later = NOW + timedelta(days=3660)
    started = time.perf_counter()
    dry = retention.apply(now=later, dry_run=True)
    dry_seconds = time.perf_counter() - started
    if database is None:
        return dry_seconds, dry.report, None, None
    connections.close_all()
    scratch = database.with_suffix(".retention.sqlite3")
    shutil.copyfile(database, scratch)
    connections["default"].settings_dict["NAME"] = str(scratch)
    try:
        started = time.perf_counter()
        real = retention.apply(now=later)
        real_seconds = time.perf_counter() - started
    finally:
        connections.close_all()
        scratch.unlink(missing_ok=True)
    return dry_seconds, dry.report, real_seconds, real.report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--events", type=int, default=40, help="audit events per person")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    database = None
    url = args.database_url
    if not url:
        database = ROOT / "var" / "bench" / f"rights-{args.people}.sqlite3"
        database.parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{database}"
    setup_django(url)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    build(args.people, args.events, args.seed)
    built = time.perf_counter() - started
    p50, p95, query_count, rows, total = accounting(args.runs, args.seed)
    pdf_seconds, pdf_size, fhir_seconds, fhir_size, contacts = copy_of_longest()
    dry_seconds, dry, real_seconds, real = retention_runs(database)
    load_after = os.getloadavg()[0]
    engine = "SQLite" if database else "PostgreSQL"
    print(f"### People's rights, {args.people:,} people, {total:,} audit events ({engine})\n")
    print(
        f"Built or reused in {built:.0f} s; load average {load_before:.1f} before, {load_after:.1f} after.\n"
    )
    print("| measure | result |")
    print("|---|---|")
    print(
        f"| accounting of disclosures of one person ({args.runs} people) | p50 {p50:.1f} ms, "
        f"p95 {p95:.1f} ms, {query_count} queries, {rows} rows each |"
    )
    print(
        f"| copy of the longest record ({contacts} contacts), PDF | {pdf_seconds:.2f} s, {pdf_size / 1024:.0f} KiB |"
    )
    print(f"| the same, FHIR Bundle | {fhir_seconds:.2f} s, {fhir_size / 1024:.0f} KiB |")
    print(f"| retention dry run, everything due | {dry_seconds:.1f} s: {dry} |")
    if real_seconds is not None and real is not None:
        done = real["anonymised"] + real["erased"]
        print(
            f"| retention run, everything due | {real_seconds:.1f} s, "
            f"{real_seconds / max(done, 1) * 1000:.1f} ms a record: {real} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
