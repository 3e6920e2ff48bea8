"""Retention: what is kept, for how long, and what happens after (settings.RETENTION; the legal
basis of each period is in docs/privacy.md).

A person's care record is due once it has ceased to be operational for `care_record_years`: no
open episode, and nothing recorded, changed, viewed or asked about it since (the NHS Records
Management Code of Practice counts from when a record ceases to be used, and starts again when it
comes back into use). A due record is then
- kept, while a legal hold is on it or one of the person's requests is still open;
- anonymised, when the person's consent to evaluation is active and they have an episode: the
  evaluation app's frame (`evaluation.cohorts`) reads episodes, referrals, options, assisted
  steps, consents' dates, outcome responses, check-ins and, of the person, their team, navigator,
  MOUD and secular flags and their age at each episode's start. All of that stays; names, contact
  details, notes and related people go, the birth date becomes the earliest one that gives the
  same ages (`coarse_birth_date`), so every evaluation figure is the same before and after;
- erased otherwise: there is nothing evaluation may keep.
An anonymised record is erased in turn once the consent to evaluation ends. An erasure the person
asked for (rights.actions.accept_erasure) goes through `erase` here too.

Also due: answered requests and lifted legal holds (`rights_documentation_years` after), and sent
e-mails in the outbox (`sent_messages_days` after). The audit trail is never cut: it is
append-only and sealed, and names people by id only (docs/privacy.md).

`apply(now=...)` runs every rule as of `now` (time travel for tests and the dry run), records a
RetentionRun with the counts and one audit event, and returns the run.
"""

import datetime
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from recoverybridge.audit import actions as audit
from recoverybridge.audit.models import AuditAction, AuditEvent
from recoverybridge.care import actions as care
from recoverybridge.care.models import Consent, ConsentPurpose, Contact, Episode, Person, Referral
from recoverybridge.messaging.outbox import erase_sent
from recoverybridge.outcomes.models import CheckIn, Response
from recoverybridge.rights.errors import UnderLegalHold
from recoverybridge.rights.models import LegalHold, RequestOutcome, RetentionRun, RightsRequest


def years_before(moment: datetime.datetime, years: int) -> datetime.datetime:
    """The same moment `years` earlier (29 February becomes the 28th)."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)


def _birthday_stamp(day: datetime.date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def age_at(born: datetime.date, day: datetime.date) -> int:
    """Whole years, as evaluation.cohorts counts them."""
    return (_birthday_stamp(day) - _birthday_stamp(born)) // 10000


def coarse_birth_date(born: datetime.date | None, starts: Iterable[datetime.date]) -> datetime.date | None:
    """The earliest birth date giving the same age in whole years at every one of `starts` (the
    person's episodes' starts, where evaluation reads their age). It says no more than those ages
    do; None when there is no date or no episode (nothing reads it then)."""
    starts = list(starts)
    if born is None or not starts:
        return None
    earliest = datetime.date.min
    for start in starts:
        # Younger than age + 1 at `start`: born after the same day age + 1 years before it.
        year = start.year - age_at(born, start) - 1
        try:
            bound = datetime.date(year, start.month, start.day) + datetime.timedelta(days=1)
        except ValueError:  # 29 February in a year without one: 1 March is the next date
            bound = datetime.date(year, 3, 1)
        earliest = max(earliest, bound)
    return earliest


# What a request keeps of the person's words once their record is anonymised or erased: nothing.
FORGOTTEN = {
    "details": "",
    "answer": "",
    "extension_reason": "",
    "withholding_reason": "",
    "withheld_contacts": [],
}


def held(person_ids: Iterable[int] | QuerySet[Person]) -> QuerySet[LegalHold]:
    return LegalHold.objects.filter(person_id__in=person_ids, lifted_at__isnull=True)


def under_hold(person: Person) -> bool:
    return held([person.pk]).exists()


def evaluation_consented(now: datetime.datetime) -> Exists:
    return Exists(
        Consent.objects.active(now).filter(purpose=ConsentPurpose.EVALUATION, person_id=OuterRef("pk"))
    )


def _used_since(cutoff: datetime.datetime) -> Q:
    """Anything recorded, changed, viewed or asked about the person since `cutoff` (or an episode
    still open): the record is operational."""
    day = cutoff.date()
    person = OuterRef("pk")
    return (
        Q(created_at__gte=cutoff)
        | Q(updated_at__gte=cutoff)
        | Exists(Episode.objects.filter(Q(started_on__gte=day) | Q(ended_on__gte=day), person=person))
        | Exists(
            Referral.objects.filter(Q(authored_on__gte=cutoff) | Q(updated_at__gte=cutoff), person=person)
        )
        | Exists(Contact.objects.filter(person=person, at__gte=cutoff))
        | Exists(Consent.objects.filter(Q(given_at__gte=cutoff) | Q(revoked_at__gte=cutoff), person=person))
        | Exists(
            Response.objects.filter(Q(started_at__gte=cutoff) | Q(completed_at__gte=cutoff), person=person)
        )
        | Exists(CheckIn.objects.filter(person=person, at__gte=cutoff))
        | Exists(AuditEvent.objects.filter(person_id=person, at__gte=cutoff))
        | Exists(
            RightsRequest.objects.filter(Q(received_on__gte=day) | Q(answered_at__gte=cutoff), person=person)
        )
    )


@dataclass
class DueRecords:
    anonymise: list[int]
    erase: list[int]
    kept_under_hold: int
    kept_open_episode: int
    kept_open_request: int


def due_records(now: datetime.datetime) -> DueRecords:
    """Which people's records are due, as of `now`, and which of those are kept and why."""
    cutoff = years_before(now, settings.RETENTION["care_record_years"])
    open_episode = Exists(Episode.objects.filter(person=OuterRef("pk"), ended_on__isnull=True))
    open_request = Exists(RightsRequest.objects.filter(person=OuterRef("pk"), outcome=RequestOutcome.OPEN))
    hold = Exists(LegalHold.objects.filter(person=OuterRef("pk"), lifted_at__isnull=True))
    past = (
        Person.objects.filter(anonymised_at__isnull=True)
        .exclude(_used_since(cutoff))
        .annotate(
            open_episode=open_episode,
            open_request=open_request,
            hold=hold,
            evaluation=evaluation_consented(now),
            has_episode=Exists(Episode.objects.filter(person=OuterRef("pk"))),
        )
        .values_list("pk", "open_episode", "open_request", "hold", "evaluation", "has_episode")
    )
    due = DueRecords([], [], 0, 0, 0)
    for pk, is_open, asked, is_held, consented, has_episode in past.order_by("pk"):
        if is_held:
            due.kept_under_hold += 1
        elif is_open:
            due.kept_open_episode += 1
        elif asked:
            due.kept_open_request += 1
        elif consented and has_episode:
            due.anonymise.append(pk)
        else:
            due.erase.append(pk)
    # Anonymised records outlive their evaluation consent by nothing.
    lapsed = (
        Person.objects.filter(anonymised_at__isnull=False)
        .exclude(evaluation_consented(now))
        .annotate(hold=Exists(LegalHold.objects.filter(person=OuterRef("pk"), lifted_at__isnull=True)))
        .values_list("pk", "hold")
    )
    for pk, is_held in lapsed.order_by("pk"):
        if is_held:
            due.kept_under_hold += 1
        else:
            due.erase.append(pk)
    return due


def anonymise(person: Person, *, now: datetime.datetime) -> Person:
    """Anonymise one record past retention (see the module's docstring for what stays)."""
    if under_hold(person):
        raise UnderLegalHold
    starts = Episode.objects.filter(person=person).values_list("started_on", flat=True)
    born = coarse_birth_date(person.date_of_birth, starts)
    with transaction.atomic():
        # Their requests stay (answered: an open one keeps the record), without their words and
        # no longer pointing at the record: the person's id stays on them, as in the trail.
        RightsRequest.objects.filter(person=person).update(person=None, **FORGOTTEN)
        return care.anonymise_person(None, person, date_of_birth=born, now=now)


def erase(person: Person, *, actor: User | None, detail: str, now: datetime.datetime) -> dict[str, int]:
    """Erase one record, past retention or on request: every row of it (care.actions.erase_person);
    the person's requests keep their kind, dates and outcome but lose their text. Refused
    (UnderLegalHold) while a legal hold is on."""
    with transaction.atomic():
        if held([person.pk]).select_for_update().exists():
            raise UnderLegalHold
        RightsRequest.objects.filter(person=person).update(**FORGOTTEN)
        return care.erase_person(actor, person, detail=detail, now=now)


@dataclass
class Report:
    anonymised: int = 0
    erased: int = 0
    kept_under_hold: int = 0
    kept_open_episode: int = 0
    kept_open_request: int = 0
    requests_erased: int = 0
    holds_erased: int = 0
    messages_erased: int = 0

    def summary(self) -> str:
        return ", ".join(f"{name.replace('_', ' ')} {count}" for name, count in asdict(self).items())


def apply(*, now: datetime.datetime | None = None, dry_run: bool = False) -> RetentionRun:
    """Run every retention rule as of `now`; a dry run changes nothing but says what it would do.
    Each record is anonymised or erased in a transaction of its own, so one that fails (a hold
    placed meanwhile) leaves the others done, and the next run tries it again."""
    now = now or timezone.now()
    due = due_records(now)
    documentation = years_before(now, settings.RETENTION["rights_documentation_years"])
    old_requests = RightsRequest.objects.exclude(outcome=RequestOutcome.OPEN).filter(
        answered_at__lt=documentation
    )
    old_holds = LegalHold.objects.filter(lifted_at__lt=documentation)
    sent_before = now - datetime.timedelta(days=settings.RETENTION["sent_messages_days"])
    report = Report(
        kept_under_hold=due.kept_under_hold,
        kept_open_episode=due.kept_open_episode,
        kept_open_request=due.kept_open_request,
    )
    if dry_run:
        report.anonymised, report.erased = len(due.anonymise), len(due.erase)
        report.requests_erased, report.holds_erased = old_requests.count(), old_holds.count()
    else:
        for person in Person.objects.filter(pk__in=due.anonymise).order_by("pk"):
            try:
                anonymise(person, now=now)
            except UnderLegalHold:
                report.kept_under_hold += 1
            else:
                report.anonymised += 1
        for person in Person.objects.filter(pk__in=due.erase).order_by("pk"):
            try:
                erase(person, actor=None, detail="erased past retention", now=now)
            except UnderLegalHold:
                report.kept_under_hold += 1
            else:
                report.erased += 1
        report.requests_erased, _kinds = old_requests.delete()
        report.holds_erased, _kinds = old_holds.delete()
    report.messages_erased = erase_sent(before=sent_before, dry_run=dry_run)
    with transaction.atomic():
        run = RetentionRun.objects.create(now=now, dry_run=dry_run, report=asdict(report))
        audit.record(
            None,
            AuditAction.VIEW if dry_run else AuditAction.DELETE,
            run,
            detail=("retention dry run: " if dry_run else "retention: ") + report.summary(),
            at=now,
        )
    return run
