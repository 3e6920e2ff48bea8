"""Every change to outcome records: one function each, one transaction each, with its audit row
in the same transaction (as `care.actions`). Staff actions check access through
`accounts.actors.require`; self-completion has no user, so its audit rows have no actor and say
"self-completion" — and never carry answers.

Pass `now=` to control the clock (tests, imports); it defaults to the current time.
"""

import calendar
import datetime
import hashlib
import secrets
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from recoverybridge.accounts import access
from recoverybridge.accounts.actors import Actor, deny, require, signed_in
from recoverybridge.audit import actions as audit
from recoverybridge.audit.models import AuditAction
from recoverybridge.care import actions as care_actions
from recoverybridge.care.models import Episode, Person, Referral
from recoverybridge.directory.models import Fellowship, Meeting
from recoverybridge.messaging.models import MessageKind
from recoverybridge.messaging.outbox import absolute_url
from recoverybridge.outcomes import instruments, scoring
from recoverybridge.outcomes.models import (
    DEFAULT_SCHEDULE_INSTRUMENTS,
    DEFAULT_SCHEDULE_MONTHS,
    MONTHS_TIME_POINT,
    CheckIn,
    CollectionMode,
    Invitation,
    InvitationKind,
    OutcomeSchedule,
    Response,
    ResponseStatus,
    ScheduledAssessment,
    TimePoint,
)

# How long a self-completion link works unless the worker says otherwise.
INVITATION_LIFETIME = datetime.timedelta(days=14)
SELF_COMPLETION = "self-completion"
# A fellowship not in the directory can still be counted.
OTHER_FELLOWSHIP = "other"


class InvitationUnusable(Exception):
    """The link is unknown, completed, expired or revoked: all look the same to its holder."""


def _now(now: datetime.datetime | None) -> datetime.datetime:
    return now or timezone.now()


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` later, or the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def value_sets() -> dict[str, Collection[str]]:
    """Codes of the value sets our Questionnaires point at (one small query)."""
    slugs = set(Fellowship.objects.values_list("slug", flat=True))
    return {instruments.FELLOWSHIP_VALUE_SET: slugs | {OTHER_FELLOWSHIP}}


def _open_scheduled(person: Person, instrument_id: str, time_point: str) -> ScheduledAssessment | None:
    return (
        ScheduledAssessment.objects.select_for_update()
        .filter(
            person=person,
            instrument=instrument_id,
            time_point=time_point,
            cancelled_at__isnull=True,
            response__isnull=True,
        )
        .order_by("due_on")
        .first()
    )


def _fill(
    response: Response,
    instrument: instruments.Instrument,
    answers: Mapping[str, Any],
    *,
    complete: bool,
    now: datetime.datetime,
) -> None:
    """Validate, score and set the answers of an unsaved or locked response."""
    clean, scores = scoring.validate_and_score(
        instrument, answers, complete=complete, value_sets=value_sets()
    )
    response.answers = clean
    response.scores = scores
    if complete:
        response.status = ResponseStatus.COMPLETED
        response.completed_at = now


# ---------------------------------------------------------------- staff-entered responses


def record_response(
    actor: Actor,
    person: Person,
    instrument_id: str,
    answers: Mapping[str, Any],
    *,
    time_point: str = TimePoint.AD_HOC,
    complete: bool = True,
    version: str | None = None,
    language: str = "en",
    scheduled: ScheduledAssessment | None = None,
    now: datetime.datetime | None = None,
) -> Response:
    """Record answers a worker entered (or started: `complete=False` saves them in progress).

    Uses the instrument's latest version unless `version` is given. A completed response at a
    scheduled time point fulfils that open scheduled assessment (or the one given).
    InvalidAnswers names each item that is wrong; nothing is saved then.
    """
    user = require(actor, "person.change", person, person, "record outcomes for this person")
    instrument = instruments.get(instrument_id, version)
    if time_point not in TimePoint.values:
        raise ValueError(f"unknown time point {time_point!r}")
    at = _now(now)
    with transaction.atomic():
        response = Response(
            person=person,
            instrument=instrument.id,
            instrument_version=instrument.version,
            time_point=time_point,
            language=language,
            mode=CollectionMode.STAFF,
            collected_by=user,
            started_at=at,
        )
        _fill(response, instrument, answers, complete=complete, now=at)
        response.save()
        if complete:
            _fulfil(response, scheduled)
        audit.record(
            user,
            AuditAction.CREATE,
            response,
            person=person,
            changes=audit.diff(
                {},
                {
                    "instrument": instrument.id,
                    "instrument_version": instrument.version,
                    "time_point": time_point,
                    "status": response.status,
                },
            ),
            at=at,
        )
    return response


def update_response(
    actor: Actor,
    response: Response,
    answers: Mapping[str, Any],
    *,
    complete: bool = True,
    now: datetime.datetime | None = None,
) -> Response:
    """Carry on with an in-progress response (answers replace the saved ones)."""
    user = require(
        actor, "person.change", response.person, response.person, "record outcomes for this person"
    )
    at = _now(now)
    with transaction.atomic():
        response = Response.objects.select_for_update().get(pk=response.pk)
        if response.status == ResponseStatus.COMPLETED:
            raise ValueError("a completed response cannot be changed")
        instrument = instruments.get(response.instrument, response.instrument_version)
        _fill(response, instrument, answers, complete=complete, now=at)
        response.save()
        if complete:
            _fulfil(response, None)
        audit.record(
            user,
            AuditAction.UPDATE,
            response,
            person=response.person_id,
            changes={"status": {"old": ResponseStatus.IN_PROGRESS, "new": response.status}},
            at=at,
        )
    return response


def _fulfil(response: Response, scheduled: ScheduledAssessment | None) -> None:
    if scheduled is None and response.time_point != TimePoint.AD_HOC:
        scheduled = _open_scheduled(response.person, response.instrument, response.time_point)
    if scheduled is None:
        return
    if scheduled.person_id != response.person_id or scheduled.instrument != response.instrument:
        raise ValueError("that scheduled assessment is for another person or instrument")
    if scheduled.response_id is None and scheduled.cancelled_at is None:
        scheduled.response = response
        scheduled.save(update_fields=["response"])


# ---------------------------------------------------------------- self-completion links


def create_invitation(
    actor: Actor,
    person: Person,
    *,
    instrument_id: str = "",
    kind: str = InvitationKind.QUESTIONNAIRE,
    language: str | None = None,
    scheduled: ScheduledAssessment | None = None,
    referral: Referral | None = None,
    valid_for: datetime.timedelta = INVITATION_LIFETIME,
    now: datetime.datetime | None = None,
) -> tuple[Invitation, str]:
    """A single-use link for the person; returns the invitation and the raw token, which is
    shown once (only its SHA-256 is stored). An attendance link asks about `referral`."""
    user = require(actor, "person.change", person, person, "send this person a link")
    version = ""
    if kind == InvitationKind.QUESTIONNAIRE:
        if scheduled is not None:
            instrument_id = instrument_id or scheduled.instrument
            if scheduled.person_id != person.pk or scheduled.instrument != instrument_id:
                raise ValueError("that scheduled assessment is for another person or instrument")
        version = instruments.get(instrument_id).version
    elif kind == InvitationKind.ATTENDANCE:
        if referral is None or referral.person_id != person.pk:
            raise ValueError("an attendance link asks about one of the person's referrals")
    elif kind != InvitationKind.CHECK_IN:
        raise ValueError(f"unknown invitation kind {kind!r}")
    at = _now(now)
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        invitation = Invitation.objects.create(
            token_hash=hash_token(token),
            kind=kind,
            person=person,
            instrument=instrument_id if kind == InvitationKind.QUESTIONNAIRE else "",
            instrument_version=version,
            language=language or person.preferred_language or "en",
            scheduled=scheduled,
            referral=referral if kind == InvitationKind.ATTENDANCE else None,
            created_by=user,
            created_at=at,
            expires_at=at + valid_for,
        )
        audit.record(
            user,
            AuditAction.CREATE,
            invitation,
            person=person,
            changes=audit.diff(
                {}, {"kind": kind, "instrument": invitation.instrument, "expires_at": invitation.expires_at}
            ),
            at=at,
        )
    return invitation, token


def link_for(token: str) -> str:
    """The address of a self-completion link, at SITE_URL: what the person opens, however the
    worker reached the site."""
    return absolute_url("outcomes:take", token)


def send_invitation(
    actor: Actor, invitation: Invitation, token: str, *, channel: str, now: datetime.datetime | None = None
) -> care_actions.Sending:
    """Send the person their link by `channel` (text or e-mail), in the link's language: only
    under their consent for it, never to a number that replied STOP (care.actions.send_message
    checks, refuses and audits). The message says what the link is for and until when, nothing
    else: not the questionnaire's name, which could say what it measures."""
    if hash_token(token) != invitation.token_hash:
        raise ValueError("that token does not open this invitation")
    kind = {
        InvitationKind.QUESTIONNAIRE: MessageKind.QUESTIONNAIRE_LINK,
        InvitationKind.ATTENDANCE: MessageKind.ATTENDANCE_LINK,
    }.get(InvitationKind(invitation.kind), MessageKind.CHECK_IN_LINK)
    return care_actions.send_message(
        actor,
        invitation.person,
        channel=channel,
        kind=kind,
        context={"link": link_for(token), "until": invitation.expires_at},
        language=invitation.language,
        now=now,
    )


def revoke_invitation(
    actor: Actor, invitation: Invitation, *, now: datetime.datetime | None = None
) -> Invitation:
    person = invitation.person
    user = require(actor, "person.change", person, person, "revoke this link")
    at = _now(now)
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.revoked_at is None and invitation.completed_at is None:
            invitation.revoked_at = at
            invitation.save(update_fields=["revoked_at"])
            audit.record(
                user,
                AuditAction.UPDATE,
                invitation,
                person=person,
                changes={"revoked_at": {"old": None, "new": at}},
                at=at,
            )
    return invitation


def usable_invitation(token: str, *, now: datetime.datetime | None = None, lock: bool = False) -> Invitation:
    """The invitation a raw token opens, or InvitationUnusable (unknown, completed, expired
    or revoked alike, so the page says nothing more to whoever holds the link)."""
    at = _now(now)
    found = Invitation.objects.select_related("person", "response")
    if lock:
        # Lock the invitation row only (PostgreSQL cannot lock the outer-joined response).
        found = found.select_for_update(of=("self",))
    invitation = found.filter(token_hash=hash_token(token)).first()
    if (
        invitation is None
        or invitation.completed_at is not None
        or invitation.revoked_at is not None
        or invitation.expires_at <= at
    ):
        raise InvitationUnusable
    return invitation


def _save_through(
    token: str, answers: Mapping[str, Any], *, complete: bool, now: datetime.datetime | None
) -> Response:
    at = _now(now)
    with transaction.atomic():
        invitation = usable_invitation(token, now=at, lock=True)
        if invitation.kind != InvitationKind.QUESTIONNAIRE:
            raise InvitationUnusable
        instrument = instruments.get(invitation.instrument, invitation.instrument_version)
        response = invitation.response
        created = response is None
        if response is None:
            time_point = invitation.scheduled.time_point if invitation.scheduled else TimePoint.AD_HOC
            response = Response(
                person=invitation.person,
                instrument=instrument.id,
                instrument_version=instrument.version,
                time_point=time_point,
                language=invitation.language,
                mode=CollectionMode.SELF,
                started_at=at,
            )
        _fill(response, instrument, answers, complete=complete, now=at)
        response.save()
        fields = []
        if created:
            invitation.response = response
            fields.append("response")
        if complete:
            invitation.completed_at = at
            fields.append("completed_at")
            _fulfil(response, invitation.scheduled)
        if fields:
            invitation.save(update_fields=fields)
        audit.record(
            None,
            AuditAction.CREATE if created else AuditAction.UPDATE,
            response,
            person=invitation.person_id,
            changes={
                "status": {"old": None if created else ResponseStatus.IN_PROGRESS, "new": response.status}
            },
            detail=f"{SELF_COMPLETION} (invitation {invitation.pk})",
            at=at,
        )
    return response


def save_invitation_answers(
    token: str, answers: Mapping[str, Any], *, now: datetime.datetime | None = None
) -> Response:
    """Save partial answers through a link; the link keeps working until completed."""
    return _save_through(token, answers, complete=False, now=now)


def complete_invitation(
    token: str, answers: Mapping[str, Any], *, now: datetime.datetime | None = None
) -> Response:
    """Complete the response through a link; the link stops working."""
    return _save_through(token, answers, complete=True, now=now)


# ---------------------------------------------------------------- schedules


def schedule_for(organisation_id: int) -> tuple[list[int], list[str]]:
    """(months, instrument ids) of an organisation's schedule, or the defaults."""
    setting = OutcomeSchedule.objects.filter(organisation_id=organisation_id).first()
    if setting is None:
        return list(DEFAULT_SCHEDULE_MONTHS), list(DEFAULT_SCHEDULE_INSTRUMENTS)
    return (
        list(setting.months or DEFAULT_SCHEDULE_MONTHS),
        list(setting.instruments or DEFAULT_SCHEDULE_INSTRUMENTS),
    )


def set_schedule(
    actor: Actor,
    organisation_id: int,
    *,
    months: Iterable[int],
    instrument_ids: Iterable[str],
    now: datetime.datetime | None = None,
) -> OutcomeSchedule:
    """Set an organisation's schedule (its service managers only)."""
    user = signed_in(actor)
    if not access.managed_organisations_for(user).filter(pk=organisation_id).exists():
        raise deny(user, None, None, "change this organisation's outcome schedule")
    months = sorted(set(months))
    unknown = [m for m in months if m not in MONTHS_TIME_POINT]
    if unknown:
        raise ValueError(f"months must be among {sorted(MONTHS_TIME_POINT)}; not {unknown}")
    instrument_ids = list(dict.fromkeys(instrument_ids))
    for instrument_id in instrument_ids:
        instruments.get(instrument_id)  # KeyError for an unknown instrument
    at = _now(now)
    with transaction.atomic():
        setting, _created = OutcomeSchedule.objects.select_for_update().get_or_create(
            organisation_id=organisation_id
        )
        before = {"months": setting.months, "instruments": setting.instruments}
        setting.months, setting.instruments = months, instrument_ids
        setting.save()
        audit.record(
            user,
            AuditAction.UPDATE,
            setting,
            changes=audit.diff(before, {"months": months, "instruments": instrument_ids}),
            at=at,
        )
    return setting


def generate_schedule(
    actor: Actor, episode: Episode, *, now: datetime.datetime | None = None
) -> list[ScheduledAssessment]:
    """Schedule the organisation's instruments at its months from the start of the journey.
    Running it again adds only what is missing."""
    person = episode.person
    user = require(actor, "person.change", person, person, "schedule outcomes for this person")
    months, instrument_ids = schedule_for(person.team.organisation_id)
    at = _now(now)
    with transaction.atomic():
        existing = set(
            ScheduledAssessment.objects.filter(episode=episode).values_list("instrument", "time_point")
        )
        new = [
            ScheduledAssessment(
                person=person,
                episode=episode,
                instrument=instrument_id,
                time_point=MONTHS_TIME_POINT[month],
                due_on=add_months(episode.started_on, month),
            )
            for month in months
            for instrument_id in instrument_ids
            if (instrument_id, MONTHS_TIME_POINT[month]) not in existing
        ]
        created = ScheduledAssessment.objects.bulk_create(new)
        audit.record(
            user,
            AuditAction.CREATE,
            episode,
            person=person,
            object_type="outcomes.scheduledassessment",
            detail=f"scheduled {len(created)} assessments",
            at=at,
        )
    return created


def cancel_schedule(actor: Actor, episode: Episode, *, now: datetime.datetime | None = None) -> int:
    """Cancel the journey's assessments not yet done (e.g. the episode ended early)."""
    person = episode.person
    user = require(actor, "person.change", person, person, "schedule outcomes for this person")
    at = _now(now)
    with transaction.atomic():
        cancelled = ScheduledAssessment.objects.filter(
            episode=episode, response__isnull=True, cancelled_at__isnull=True
        ).update(cancelled_at=at)
        audit.record(
            user,
            AuditAction.UPDATE,
            episode,
            person=person,
            object_type="outcomes.scheduledassessment",
            detail=f"cancelled {cancelled} scheduled assessments",
            at=at,
        )
    return cancelled


# ---------------------------------------------------------------- check-ins


def _check_in_values(meetings_count: int | None, mood: int | None, cravings: int | None) -> None:
    if meetings_count is not None and not 0 <= meetings_count <= 100:
        raise ValueError("meetings this week must be between 0 and 100")
    if mood is not None and not 1 <= mood <= 5:
        raise ValueError("mood must be between 1 and 5")
    if cravings is not None and not 0 <= cravings <= 10:
        raise ValueError("cravings must be between 0 and 10")


def _create_check_in(
    person: Person,
    *,
    meetings: Iterable[Meeting],
    meetings_count: int | None,
    mood: int | None,
    cravings: int | None,
    mode: str,
    recorded_by: Any,
    invitation: Invitation | None,
    at: datetime.datetime,
) -> CheckIn:
    _check_in_values(meetings_count, mood, cravings)
    meetings = list(meetings)
    check_in = CheckIn.objects.create(
        person=person,
        at=at,
        meetings_count=meetings_count
        if meetings_count is not None
        else (len(meetings) if meetings else None),
        mood=mood,
        cravings=cravings,
        mode=mode,
        recorded_by=recorded_by,
        invitation=invitation,
    )
    if meetings:
        check_in.meetings.set(meetings)
    return check_in


def record_check_in(
    actor: Actor,
    person: Person,
    *,
    meetings: Iterable[Meeting] = (),
    meetings_count: int | None = None,
    mood: int | None = None,
    cravings: int | None = None,
    now: datetime.datetime | None = None,
) -> CheckIn:
    """A check-in the person gave their worker in person or by phone."""
    user = require(actor, "person.change", person, person, "record a check-in for this person")
    at = _now(now)
    with transaction.atomic():
        check_in = _create_check_in(
            person,
            meetings=meetings,
            meetings_count=meetings_count,
            mood=mood,
            cravings=cravings,
            mode=CollectionMode.STAFF,
            recorded_by=user,
            invitation=None,
            at=at,
        )
        audit.record(user, AuditAction.CREATE, check_in, person=person, at=at)
    return check_in


def check_in_through(
    token: str,
    *,
    meetings: Iterable[Meeting] = (),
    meetings_count: int | None = None,
    mood: int | None = None,
    cravings: int | None = None,
    now: datetime.datetime | None = None,
) -> CheckIn:
    """A check-in by the person through a check-in link (single use)."""
    at = _now(now)
    with transaction.atomic():
        invitation = usable_invitation(token, now=at, lock=True)
        if invitation.kind != InvitationKind.CHECK_IN:
            raise InvitationUnusable
        check_in = _create_check_in(
            invitation.person,
            meetings=meetings,
            meetings_count=meetings_count,
            mood=mood,
            cravings=cravings,
            mode=CollectionMode.SELF,
            recorded_by=None,
            invitation=invitation,
            at=at,
        )
        invitation.completed_at = at
        invitation.save(update_fields=["completed_at"])
        audit.record(
            None,
            AuditAction.CREATE,
            check_in,
            person=invitation.person_id,
            detail=f"{SELF_COMPLETION} (invitation {invitation.pk})",
            at=at,
        )
    return check_in


# ---------------------------------------------------------------- the person closes the loop

ATTENDANCE_LINK_LIFETIME = datetime.timedelta(days=14)


def send_attendance_links(*, now: datetime.datetime | None = None) -> int:
    """For each referral whose first chosen meeting has been held (care.AttendanceAsk due), make
    the person a private link to say whether they went and send it by the channel their
    meetings went by, on behalf of who sent them. Refused sends (consent withdrawn, STOP, the
    sender no longer on the team) are audited and not tried again. Returns how many were sent."""
    at = _now(now)
    sent = 0
    for ask in care_actions.attendance_asks_due(at):
        referral = ask.referral
        try:
            invitation, token = create_invitation(
                ask.requested_by,
                referral.person,
                kind=InvitationKind.ATTENDANCE,
                referral=referral,
                valid_for=ATTENDANCE_LINK_LIFETIME,
                now=at,
            )
            sending = send_invitation(ask.requested_by, invitation, token, channel=ask.channel, now=at)
            if sending.message is None:  # refused and audited: a link nobody has is closed
                revoke_invitation(ask.requested_by, invitation, now=at)
        except PermissionDenied:
            care_actions.mark_attendance_asked(ask, refusal="sender-without-access", now=at)
            continue
        care_actions.mark_attendance_asked(ask, refusal=sending.refusal, now=at)
        sent += sending.message is not None
    return sent


def answer_attendance(
    token: str, *, result: str, barriers: Iterable[str] = (), now: datetime.datetime | None = None
) -> Invitation:
    """The person's answer through their attendance link (single use): the referral's next
    follow-up is done with it, reported by the person, and the referral moves on."""
    at = _now(now)
    with transaction.atomic():
        invitation = usable_invitation(token, now=at, lock=True)
        if invitation.kind != InvitationKind.ATTENDANCE or invitation.referral is None:
            raise InvitationUnusable
        care_actions.record_person_report(invitation.referral, result=result, barriers=barriers, now=at)
        invitation.completed_at = at
        invitation.save(update_fields=["completed_at"])
        audit.record(
            None,
            AuditAction.UPDATE,
            invitation,
            person=invitation.person_id,
            changes={"completed_at": {"old": None, "new": at}},
            detail=f"{SELF_COMPLETION} (attendance, invitation {invitation.pk})",
            at=at,
        )
    return invitation
