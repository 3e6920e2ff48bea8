"""Every change to care records: one function each, one transaction each, and the audit row
written in that same transaction. Each action checks access itself (through
`accounts.access`), so a page or API that forgets to check cannot leak or change a record.

Pass `now=` to control the clock (tests, imports); it defaults to the current time.
"""

import base64
import datetime
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.dispatch import Signal
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle

from recoverybridge.accounts import access
from recoverybridge.accounts.actors import Actor, deny, require, signed_in
from recoverybridge.audit import actions as audit
from recoverybridge.audit import queries as trail
from recoverybridge.audit.models import AuditAction, DisclosureChannel, Recipient
from recoverybridge.care import attendance, fhir, queries, states
from recoverybridge.care.drafts import STEPS, Answers, Matters
from recoverybridge.care.errors import (
    ConsentRequired,
    DraftIncomplete,
    InvalidTransition,
    NoRecipient,
    StaleVersion,
)
from recoverybridge.care.messages import Refusal, channel_states, meeting_context, person_zone
from recoverybridge.care.models import (
    AssistedStep,
    AssistedStepKind,
    AttendanceAsk,
    AttendancePreference,
    Consent,
    ConsentPurpose,
    Contact,
    Episode,
    FollowUp,
    FollowUpResult,
    GroupGenderPreference,
    IntroductionRequest,
    IntroductionStatus,
    MutualAidMilestone,
    Person,
    Referral,
    ReferralBarrier,
    ReferralDraft,
    ReferralOption,
    ReferralTargetKind,
    RelatedPerson,
    ReportedBy,
    TaskStatus,
)
from recoverybridge.directory import timing
from recoverybridge.directory.models import Fellowship, Meeting
from recoverybridge.messaging import outbox, texts
from recoverybridge.messaging.models import Channel, Message, MessageKind
from recoverybridge.organisations.models import Organisation, Team

PERSON_FIELDS = (
    "given_name",
    "family_name",
    "date_of_birth",
    "email",
    "phone",
    "postcode",
    "latitude",
    "longitude",
    "preferred_language",
    "spiritual_preference",
    "on_moud",
    "attendance_preference",
    "group_gender_preference",
    "navigator",
    "time_zone",
)
SERVICE_KINDS = frozenset(
    {
        ReferralTargetKind.TREATMENT,
        ReferralTargetKind.DETOX,
        ReferralTargetKind.RESIDENTIAL_REHAB,
        ReferralTargetKind.HOUSING,
        ReferralTargetKind.OTHER_SERVICE,
    }
)


def _now(now: datetime.datetime | None) -> datetime.datetime:
    return now or timezone.now()


def new_reference() -> str:
    """A pseudonymous reference such as RB-K3QF7ZQA: random, so it says nothing about the person."""
    return "RB-" + base64.b32encode(secrets.token_bytes(5)).decode("ascii")


# ---------------------------------------------------------------- people


def create_person(actor: Actor, team: Team, *, now: datetime.datetime | None = None, **fields: Any) -> Person:
    user = require(actor, "team.add_people", team, None, "add people to this team")
    unknown = set(fields) - set(PERSON_FIELDS)
    if unknown:
        raise TypeError(f"unknown person fields: {sorted(unknown)}")
    for _attempt in range(5):
        reference = new_reference()
        try:
            with transaction.atomic():
                person = Person.objects.create(team=team, reference=reference, **fields)
                audit.record(
                    user,
                    AuditAction.CREATE,
                    person,
                    changes=audit.diff({}, audit.snapshot(person, ("team", *fields))),
                    at=_now(now),
                )
                return person
        except IntegrityError:
            # A reference collision (one in a trillion): draw another.
            if Person.objects.filter(reference=reference).exists():
                continue
            raise
    raise RuntimeError("could not draw a unique person reference")


def update_person(
    actor: Actor, person: Person, *, now: datetime.datetime | None = None, **fields: Any
) -> Person:
    user = require(actor, "person.change", person, person, "change this person")
    unknown = set(fields) - {*PERSON_FIELDS, "team"}
    if unknown:
        raise TypeError(f"unknown person fields: {sorted(unknown)}")
    if "team" in fields and not access.can(user, "team.add_people", fields["team"]):
        raise deny(user, person, person, "move this person to that team")
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=person.pk)
        before = audit.snapshot(person, fields)
        for name, value in fields.items():
            setattr(person, name, value)
        changes = audit.diff(before, audit.snapshot(person, fields))
        if changes:
            person.save(update_fields=[*fields, "updated_at"])
            audit.record(user, AuditAction.UPDATE, person, changes=changes, at=_now(now))
    return person


RELATED_PERSON_FIELDS = ("name", "relationship", "contact", "as_person")


def _check_link(user: User, person: Person, as_person: Person | None) -> None:
    """A related person may be linked only to someone else's record that the user may see."""
    if as_person is None:
        return
    if as_person.pk == person.pk:
        raise ValueError("a person cannot be their own related person")
    if not access.can(user, "person.view", as_person):
        raise deny(user, as_person, as_person, "link a related person to this record")


def add_related_person(
    actor: Actor,
    person: Person,
    *,
    name: str,
    relationship: str,
    contact: str = "",
    as_person: Person | None = None,
    now: datetime.datetime | None = None,
) -> RelatedPerson:
    user = require(actor, "person.change", person, person, "change this person")
    _check_link(user, person, as_person)
    with transaction.atomic():
        related = RelatedPerson.objects.create(
            person=person, name=name, relationship=relationship, contact=contact, as_person=as_person
        )
        audit.record(
            user,
            AuditAction.CREATE,
            related,
            person=person,
            changes=audit.diff({}, audit.snapshot(related, RELATED_PERSON_FIELDS)),
            at=_now(now),
        )
    return related


def update_related_person(
    actor: Actor, related: RelatedPerson, *, now: datetime.datetime | None = None, **fields: Any
) -> RelatedPerson:
    """Correct a related person's details, or link them to (or unlink them from) their own record.
    Raises RelatedPerson.DoesNotExist when someone else removed them meanwhile."""
    person = related.person
    user = require(actor, "person.change", person, person, "change this person")
    unknown = set(fields) - set(RELATED_PERSON_FIELDS)
    if unknown:
        raise TypeError(f"unknown related person fields: {sorted(unknown)}")
    if "as_person" in fields and fields["as_person"] != related.as_person:
        _check_link(user, person, fields["as_person"])
    with transaction.atomic():
        related = RelatedPerson.objects.select_for_update().get(pk=related.pk, person=person)
        before = audit.snapshot(related, fields)
        for name, value in fields.items():
            setattr(related, name, value)
        changes = audit.diff(before, audit.snapshot(related, fields))
        if changes:
            related.save(update_fields=list(fields))
            audit.record(user, AuditAction.UPDATE, related, person=person, changes=changes, at=_now(now))
    return related


def remove_related_person(
    actor: Actor, related: RelatedPerson, *, now: datetime.datetime | None = None
) -> None:
    """Delete the row: a family member's details are theirs, not the person's care record, and
    nothing refers to them. The DELETE event keeps who removed which one and when, with the old
    values (name and contact masked, as the trail always does). Removing twice changes nothing."""
    person = related.person
    user = require(actor, "person.change", person, person, "change this person")
    with transaction.atomic():
        current = RelatedPerson.objects.select_for_update().filter(pk=related.pk, person=person).first()
        if current is None:
            return
        audit.record(
            user,
            AuditAction.DELETE,
            current,
            person=person,
            changes={
                name: {"old": value, "new": None}
                for name, value in audit.snapshot(current, RELATED_PERSON_FIELDS).items()
            },
            detail="related person removed",
            at=_now(now),
        )
        current.delete()


# ---------------------------------------------------------------- consent


def give_consent(
    actor: Actor,
    person: Person,
    *,
    purpose: str,
    recipient: Organisation | None = None,
    scope: str = "",
    given_at: datetime.datetime | None = None,
    expires_at: datetime.datetime | None = None,
    now: datetime.datetime | None = None,
) -> Consent:
    user = require(actor, "person.change", person, person, "record consent for this person")
    given_at = given_at or _now(now)
    if expires_at is not None and expires_at <= given_at:
        raise ValueError("a consent must expire after it is given")
    with transaction.atomic():
        consent = Consent.objects.create(
            person=person,
            purpose=purpose,
            recipient=recipient,
            scope=scope,
            given_at=given_at,
            expires_at=expires_at,
            recorded_by=user,
        )
        audit.record(
            user,
            AuditAction.CREATE,
            consent,
            person=person,
            changes=audit.diff(
                {}, audit.snapshot(consent, ("purpose", "recipient", "scope", "given_at", "expires_at"))
            ),
            at=_now(now),
        )
    return consent


# Sent with `consent=`, `user=` and `now=` inside the revoking transaction: an app above care that
# discloses under a consent of its own (volunteers: an introduction) ends what it covered.
consent_revoked = Signal()


def revoke_consent(actor: Actor, consent: Consent, *, now: datetime.datetime | None = None) -> Consent:
    """Revoke from `now` on: from this moment nothing more is disclosed under it."""
    user = require(actor, "person.change", consent.person, consent.person, "revoke this consent")
    now = _now(now)
    with transaction.atomic():
        consent = Consent.objects.select_for_update().get(pk=consent.pk)
        if consent.revoked_at is not None:
            return consent
        consent.revoked_at = now
        consent.save(update_fields=["revoked_at"])
        audit.record(
            user,
            AuditAction.UPDATE,
            consent,
            person=consent.person_id,
            changes={"revoked_at": {"old": None, "new": now}},
            detail="consent revoked",
            at=now,
        )
        consent_revoked.send(sender=Consent, consent=consent, user=user, now=now)
    return consent


# ---------------------------------------------------------------- messages to the person


@dataclass(frozen=True)
class Sending:
    """What became of a message: queued (`message`, delivered after the commit) or refused."""

    channel: str
    kind: str
    message: Message | None
    refusal: str  # a care.messages.Refusal, or ""

    @property
    def state(self) -> str:
        """pending, sent or failed as the outbox has it now (it may have changed since the send)."""
        if self.message is None:
            return "refused"
        self.message.refresh_from_db(fields=["sent_at", "failed_at"])
        return self.message.state

    @property
    def refusal_text(self) -> str:
        return str(Refusal(self.refusal).label) if self.refusal else ""


def send_message(
    actor: Actor,
    person: Person,
    *,
    channel: str,
    kind: str,
    context: Mapping[str, str | datetime.datetime],
    language: str | None = None,
    now: datetime.datetime | None = None,
) -> Sending:
    """Send the person a message of `kind` (messaging.texts) by `channel`, filled in from
    `context` (a link, a date, a meeting: never their name), in their language and time zone.

    Refused, without raising, when they have not consented to that channel, have no usable
    number or address, or replied STOP: the refusal is audited and returned. Otherwise the
    message is queued in this transaction and leaves once it commits (so a caller's change that
    rolls back sends nothing). Either way the audit row names the person, channel and kind,
    never the body or the address."""
    user = require(actor, "person.change", person, person, "send this person a message")
    now = _now(now)
    state = channel_states(person, now)[Channel(channel)]
    changes = {"channel": {"new": channel}, "kind": {"new": kind}}
    if state.refusal:
        with transaction.atomic():
            audit.record(
                user,
                AuditAction.DENIED,
                None,
                object_type="messaging.message",
                person=person,
                changes=changes,
                detail=f"{channel} message not sent: {state.refusal}",
                at=now,
            )
        return Sending(channel, kind, None, state.refusal)
    text = texts.render(
        kind, channel, context, language or person.preferred_language or "en", person_zone(person)
    )
    with transaction.atomic():
        if channel == Channel.SMS:
            message = outbox.send_sms(state.address, text.body, kind=kind, person_id=person.pk)
        else:
            [message] = outbox.send_email(
                [state.address], text.subject, text.body, kind=kind, person_id=person.pk
            )
        # To the person, under their consent for the channel: on their accounting of disclosures.
        sent = audit.disclosure(
            Recipient.PERSON,
            channel=DisclosureChannel.SMS if channel == Channel.SMS else DisclosureChannel.EMAIL,
            basis="consent to messages",
            content=kind,
        )
        audit.record(
            user,
            AuditAction.DISCLOSE,
            message,
            person=person,
            changes=changes | sent,
            detail=f"{channel} message queued",
            at=now,
        )
    return Sending(channel, kind, message, "")


# ---------------------------------------------------------------- referrals


def _assignee_id(referral: Referral) -> Any:
    """Follow-ups go to the person's navigator, or to whoever referred them."""
    return referral.person.navigator_id or referral.referred_by_id


def _schedule_follow_ups(
    referral: Referral, now: datetime.datetime, dates: Sequence[datetime.date] | None = None
) -> list[FollowUp]:
    """Follow-ups on the dates the worker planned; by default FOLLOW_UP_DAYS after it is sent."""
    if dates is None:
        today = timezone.localdate(now)
        dates = [today + datetime.timedelta(days=days) for days in settings.FOLLOW_UP_DAYS]
    return FollowUp.objects.bulk_create(
        FollowUp(referral=referral, assigned_to_id=_assignee_id(referral), due_on=day)
        for day in sorted(set(dates))
    )


def _consent_for(referral: Referral, now: datetime.datetime) -> Consent | None:
    """The consent that allows sending this referral, or ConsentRequired when one is needed."""
    target = referral.target_organisation
    if target is None or target.pk == referral.team.organisation_id:
        return None
    consent = Consent.objects.covering(referral.person, target, now)
    if consent is None:
        raise ConsentRequired(target.name)
    return consent


def _request_introduction(
    user: User, referral: Referral, kind: str, note: str, matters: Matters | None, now: datetime.datetime
) -> IntroductionRequest:
    """ "Arrange contact with a member": what a match needs, taken from the referral and what matters."""
    person = referral.person
    fellowship = referral.fellowship or (referral.meeting.fellowship if referral.meeting else None)
    preferred = matters.approaches[0] if matters and matters.approaches else ""
    introduction = IntroductionRequest.objects.create(
        referral=referral,
        kind=kind,
        fellowship=fellowship,
        approach=fellowship.approach if fellowship else preferred,
        language=matters.language if matters else person.preferred_language,
        group_gender=matters.gender if matters else person.group_gender_preference,
        on_moud=matters.on_moud if matters else person.on_moud,
        attendance=matters.attendance if matters else person.attendance_preference,
        note=note,
        requested_at=now,
        requested_by=user,
    )
    audit.record(
        user,
        AuditAction.CREATE,
        introduction,
        person=person,
        changes=audit.diff(
            {},
            audit.snapshot(introduction, ("referral", "kind", "fellowship", "approach", "language", "note")),
        ),
        at=now,
    )
    return introduction


def _sent_to(referral: Referral) -> dict[str, dict[str, Any]]:
    """The disclosure a referral makes when it is sent under consent to another organisation."""
    if not referral.consent_id:
        return {}
    return audit.disclosure(
        Recipient.ORGANISATION,
        channel=DisclosureChannel.REFERRAL,
        organisation=referral.target_organisation_id,
        basis=f"consent {referral.consent_id}",
        content="referral",
    )


def create_referral(
    actor: Actor,
    person: Person,
    *,
    target_kind: str,
    meeting: Meeting | None = None,
    fellowship: Fellowship | None = None,
    target_organisation: Organisation | None = None,
    reason: str = "",
    presented: Iterable[Meeting] = (),
    chosen: Iterable[Meeting] = (),
    submit: bool = True,
    matters: Matters | None = None,
    barriers: Iterable[str] = (),
    barrier_note: str = "",
    introduction: str = "",
    introduction_note: str = "",
    follow_up_dates: Sequence[datetime.date] | None = None,
    now: datetime.datetime | None = None,
) -> Referral:
    """Refer a person: records every option presented and the ones they chose to try, what
    mattered to them and what may get in their way (coded), contact with a member if they want
    it, and follow-ups on the planned dates (FOLLOW_UP_DAYS after sending by default).

    `submit=False` keeps it a draft (nothing disclosed, no follow-ups); otherwise it is
    requested at once, which needs consent when it goes to another organisation.
    """
    user = require(actor, "person.change", person, person, "refer this person")
    now = _now(now)
    chosen_meetings = list(chosen)
    chosen_ids = {m.pk for m in chosen_meetings}
    presented_ids = {m.pk for m in presented} | chosen_ids
    if target_kind == ReferralTargetKind.MEETING and meeting is None and len(chosen_meetings) == 1:
        meeting = chosen_meetings[0]
    if target_kind == ReferralTargetKind.MEETING and meeting is None:
        raise ValueError("a referral to a meeting names the meeting")
    if target_kind == ReferralTargetKind.FELLOWSHIP and fellowship is None:
        raise ValueError("a referral to a group names the fellowship")
    if target_kind in SERVICE_KINDS and target_organisation is None:
        raise ValueError("a referral to a service names the organisation")
    if follow_up_dates and min(follow_up_dates) < timezone.localdate(now):
        raise ValueError("a follow-up cannot be planned in the past")
    if meeting is not None:
        presented_ids.add(meeting.pk)
    barrier_codes = sorted(set(barriers))
    with transaction.atomic():
        referral = Referral(
            person=person,
            team=person.team,
            referred_by=user,
            target_kind=target_kind,
            meeting=meeting,
            fellowship=fellowship,
            target_organisation=target_organisation,
            reason=reason,
            status=TaskStatus.REQUESTED if submit else TaskStatus.DRAFT,
            matters=matters.as_json() if matters else {},
            barrier_note=barrier_note,
            authored_on=now,
        )
        if submit:
            referral.consent = _consent_for(referral, now)
        referral.save()
        ReferralOption.objects.bulk_create(
            ReferralOption(referral=referral, meeting_id=pk, chosen=pk in chosen_ids)
            for pk in sorted(presented_ids)
        )
        ReferralBarrier.objects.bulk_create(ReferralBarrier(referral=referral, code=c) for c in barrier_codes)
        follow_ups: list[FollowUp] = []
        if submit:
            follow_ups = _schedule_follow_ups(referral, now, follow_up_dates)
        detail = "referral sent" if submit else "referral drafted"
        if referral.consent_id:
            detail += f"; disclosed to organisation {referral.target_organisation_id} under consent {referral.consent_id}"
        audit.record(
            user,
            AuditAction.CREATE,
            referral,
            person=person,
            changes=audit.diff(
                {},
                {
                    **audit.snapshot(
                        referral,
                        ("status", "target_kind", "meeting", "fellowship", "target_organisation", "reason"),
                    ),
                    "options_presented": sorted(presented_ids),
                    "options_chosen": sorted(chosen_ids),
                    "matters": referral.matters,
                    "barriers": barrier_codes,
                    "note": barrier_note,
                    "follow_ups": [f.due_on for f in follow_ups],
                },
            )
            | _sent_to(referral),
            detail=detail,
            at=now,
        )
        if introduction:
            _request_introduction(user, referral, introduction, introduction_note, matters, now)
    return referral


def _visible(
    organisation: Organisation | None, user: User | None, now: datetime.datetime
) -> QuerySet[Referral]:
    """The referrals an organisation (through its API token) or a user may see now."""
    if organisation is not None:
        return Referral.objects.received_by([organisation.pk], now)
    return Referral.objects.restrict(user, "view", now=now)


def _transition(
    referral: Referral,
    status: str,
    *,
    user: User | None,
    organisation: Organisation | None = None,
    reason: str = "",
    now: datetime.datetime,
) -> None:
    """Move a locked referral to `status` (checked by the caller) and write its audit row."""
    old = referral.status
    fields = ["status", "status_reason", "updated_at"]
    if old == TaskStatus.DRAFT and status == TaskStatus.REQUESTED:
        referral.consent = _consent_for(referral, now)
        referral.authored_on = now
        fields += ["consent", "authored_on"]
        _schedule_follow_ups(referral, now)
    referral.status = status
    referral.status_reason = reason
    referral.save(update_fields=fields)
    changes: dict[str, dict[str, Any]] = {"status": {"old": old, "new": status}}
    if reason:
        changes["status_reason"] = {"old": "", "new": reason}
    audit.record(
        user,
        AuditAction.UPDATE,
        referral,
        person=referral.person_id,
        actor_organisation=organisation,
        changes=changes | (_sent_to(referral) if "consent" in fields else {}),
        at=now,
    )


def set_referral_status(
    actor: AbstractBaseUser | AnonymousUser | Organisation | None,
    referral: Referral,
    status: str,
    *,
    reason: str = "",
    now: datetime.datetime | None = None,
) -> Referral:
    """Move the referral's Task to `status`: a valid transition, by the side allowed to set it.

    `actor` is a staff user, or an Organisation acting through its API token.
    """
    now = _now(now)
    organisation = actor if isinstance(actor, Organisation) else None
    user = None if organisation else signed_in(actor)  # type: ignore[arg-type]
    who = organisation or user
    with transaction.atomic():
        referral = Referral.objects.select_for_update().select_related("team", "person").get(pk=referral.pk)
        if not _visible(organisation, user, now).filter(pk=referral.pk).exists():
            raise PermissionDenied("This referral is not yours to update.")
        if status not in states.TRANSITIONS[referral.status]:
            raise InvalidTransition(f"A referral cannot go from {referral.status} to {status}.")
        if status not in states.allowed_statuses(who, referral, now):
            side = (
                "the receiving organisation" if status in states.PERFORMER_STATUSES else "the referring team"
            )
            raise PermissionDenied(f"Only {side} may set a referral to {status}.")
        _transition(referral, status, user=user, organisation=organisation, reason=reason, now=now)
    return referral


def _set_milestone(
    referral: Referral,
    milestone: str,
    *,
    user: User | None,
    organisation: Organisation | None = None,
    now: datetime.datetime,
) -> None:
    """Set a locked referral's milestone and write its audit row (nothing when it is already set)."""
    old = referral.business_status
    if old == milestone:
        return
    referral.business_status = milestone
    referral.save(update_fields=["business_status", "updated_at"])
    audit.record(
        user,
        AuditAction.UPDATE,
        referral,
        person=referral.person_id,
        actor_organisation=organisation,
        changes={"business_status": {"old": old, "new": milestone}},
        at=now,
    )


def set_business_status(
    actor: AbstractBaseUser | AnonymousUser | Organisation | None,
    referral: Referral,
    milestone: str,
    *,
    now: datetime.datetime | None = None,
) -> Referral:
    """Record a mutual-aid milestone (attended first meeting, attending regularly, ...)."""
    if milestone not in MutualAidMilestone.values:
        raise ValueError(f"unknown milestone {milestone!r}")
    now = _now(now)
    organisation = actor if isinstance(actor, Organisation) else None
    user = None if organisation else signed_in(actor)  # type: ignore[arg-type]
    if organisation:
        allowed = Referral.objects.received_by([organisation.pk], now).filter(pk=referral.pk).exists()
    else:
        allowed = access.can(user, "referral.request", referral) or access.can(
            user, "referral.perform", referral, now=now
        )
    if not allowed:
        raise PermissionDenied("This referral is not yours to update.")
    if referral.status in (TaskStatus.DRAFT, TaskStatus.ENTERED_IN_ERROR):
        raise InvalidTransition("A draft or mistaken referral has no milestones.")
    with transaction.atomic():
        referral = Referral.objects.select_for_update().get(pk=referral.pk)
        _set_milestone(referral, milestone, user=user, organisation=organisation, now=now)
    return referral


def update_task(
    organisation: Organisation,
    referral: Referral,
    *,
    status: str,
    reason: str,
    milestone: str,
    expected_version: str | None = None,
    now: datetime.datetime | None = None,
) -> Referral:
    """The receiving organisation's update of the referral's Task (FHIR PUT or PATCH): status and
    milestone together or not at all, each audited by its own action. With `expected_version`
    (the If-Match of the request) it applies only to that version, checked under the row's lock,
    so of two updates made on one version the second is refused (StaleVersion), never lost."""
    now = _now(now)
    with transaction.atomic():
        current = Referral.objects.select_for_update().get(pk=referral.pk)
        if expected_version is not None and str(current.version) != expected_version:
            raise StaleVersion(expected_version, current.version)
        if status != current.status:
            current = set_referral_status(organisation, current, status, reason=reason, now=now)
        if milestone != current.business_status:
            current = set_business_status(organisation, current, milestone, now=now)
    return current


def record_assisted_step(
    actor: Actor,
    referral: Referral,
    *,
    kind: str,
    on: datetime.date,
    note: str = "",
    now: datetime.datetime | None = None,
) -> AssistedStep:
    """Introduced to a member (which fulfils a request for contact with one), or accompanied to a meeting."""
    user = require(actor, "referral.request", referral, referral.person, "update this referral")
    now = _now(now)
    with transaction.atomic():
        step = AssistedStep.objects.create(referral=referral, kind=kind, on=on, by=user, note=note)
        # Introducing the person to a member tells that member who they are.
        introduced = (
            audit.disclosure(Recipient.MEMBER, channel=DisclosureChannel.IN_PERSON, content="introduction")
            if kind == AssistedStepKind.INTRODUCED
            else {}
        )
        audit.record(
            user,
            AuditAction.CREATE,
            step,
            person=referral.person_id,
            changes=audit.diff({}, {"referral": referral.pk, "kind": kind, "on": on, "note": note})
            | introduced,
            at=now,
        )
        if kind == AssistedStepKind.INTRODUCED:
            requested = (
                IntroductionRequest.objects.select_for_update()
                .filter(referral=referral, status=IntroductionStatus.REQUESTED)
                .first()
            )
            if requested is not None:
                requested.status = IntroductionStatus.INTRODUCED
                requested.save(update_fields=["status"])
                audit.record(
                    user,
                    AuditAction.UPDATE,
                    requested,
                    person=referral.person_id,
                    changes={
                        "status": {"old": IntroductionStatus.REQUESTED, "new": IntroductionStatus.INTRODUCED}
                    },
                    at=now,
                )
    return step


def record_met_member(
    user: User, referral: Referral, *, on: datetime.date, now: datetime.datetime | None = None
) -> AssistedStep | None:
    """The person and the volunteer member they were introduced to went to a first meeting
    together: the assisted step "introduced to a member" (once) and, on a referral to mutual aid
    that is still open, the milestone "attended first meeting".

    The caller decided that `user` may record it (volunteers.actions: the volunteer of the
    introduction, or a worker of the referral's team); the step is theirs."""
    now = _now(now)
    with transaction.atomic():
        locked = Referral.objects.select_for_update().get(pk=referral.pk)
        step = None
        if not AssistedStep.objects.filter(referral=locked, kind=AssistedStepKind.INTRODUCED).exists():
            step = AssistedStep.objects.create(
                referral=locked, kind=AssistedStepKind.INTRODUCED, on=on, by=user
            )
            audit.record(
                user,
                AuditAction.CREATE,
                step,
                person=locked.person_id,
                changes=audit.diff(
                    {}, {"referral": locked.pk, "kind": AssistedStepKind.INTRODUCED, "on": on}
                ),
                at=now,
            )
            requested = IntroductionRequest.objects.filter(
                referral=locked, status=IntroductionStatus.REQUESTED
            ).first()
            if requested is not None:
                requested.status = IntroductionStatus.INTRODUCED
                requested.save(update_fields=["status"])
                audit.record(
                    user,
                    AuditAction.UPDATE,
                    requested,
                    person=locked.person_id,
                    changes={
                        "status": {"old": IntroductionStatus.REQUESTED, "new": IntroductionStatus.INTRODUCED}
                    },
                    at=now,
                )
        open_statuses = (TaskStatus.REQUESTED, TaskStatus.ACCEPTED, TaskStatus.IN_PROGRESS)
        if locked.has_milestones and locked.status in open_statuses and not locked.business_status:
            _set_milestone(locked, MutualAidMilestone.ATTENDED_FIRST, user=user, now=now)
    return step


# ---------------------------------------------------------------- follow-ups


def plan_follow_up(
    actor: Actor, referral: Referral, *, due_on: datetime.date, now: datetime.datetime | None = None
) -> FollowUp:
    """Another follow-up of a sent referral, on a day from today on."""
    user = require(actor, "referral.request", referral, referral.person, "plan a follow-up of this referral")
    now = _now(now)
    if due_on < timezone.localdate(now):
        raise ValueError("a follow-up cannot be planned in the past")
    if referral.status in (TaskStatus.DRAFT, TaskStatus.ENTERED_IN_ERROR):
        raise InvalidTransition("Follow-ups are planned once a referral is sent.")
    with transaction.atomic():
        follow_up = FollowUp.objects.create(
            referral=referral, assigned_to_id=_assignee_id(referral), due_on=due_on
        )
        audit.record(
            user,
            AuditAction.CREATE,
            follow_up,
            person=referral.person_id,
            changes=audit.diff({}, audit.snapshot(follow_up, ("referral", "due_on", "assigned_to"))),
            at=now,
        )
    return follow_up


def _open_follow_up(follow_up: FollowUp) -> FollowUp:
    """The follow-up, locked, while still open; InvalidTransition once done (or gone)."""
    found = FollowUp.objects.select_for_update().filter(pk=follow_up.pk, completed_at__isnull=True).first()
    if found is None:
        raise InvalidTransition("That follow-up has been done already.")
    return found


def move_follow_up(
    actor: Actor, follow_up: FollowUp, *, due_on: datetime.date, now: datetime.datetime | None = None
) -> FollowUp:
    person = follow_up.referral.person
    user = require(actor, "followup.complete", follow_up, person, "move this follow-up")
    now = _now(now)
    if due_on < timezone.localdate(now):
        raise ValueError("a follow-up cannot be moved into the past")
    with transaction.atomic():
        follow_up = _open_follow_up(follow_up)
        old = follow_up.due_on
        if old == due_on:
            return follow_up
        follow_up.due_on = due_on
        # A reminder is due again on the new day.
        follow_up.reminder_sent_at = None
        follow_up.save(update_fields=["due_on", "reminder_sent_at"])
        audit.record(
            user,
            AuditAction.UPDATE,
            follow_up,
            person=person,
            changes={"due_on": {"old": old, "new": due_on}},
            at=now,
        )
    return follow_up


def remove_follow_up(actor: Actor, follow_up: FollowUp, *, now: datetime.datetime | None = None) -> None:
    """Take an open follow-up off the plan (a done one is part of the record and stays)."""
    person = follow_up.referral.person
    user = require(actor, "followup.complete", follow_up, person, "remove this follow-up")
    with transaction.atomic():
        follow_up = _open_follow_up(follow_up)
        audit.record(
            user,
            AuditAction.DELETE,
            follow_up,
            person=person,
            changes={"due_on": {"old": follow_up.due_on, "new": None}},
            detail="follow-up removed",
            at=_now(now),
        )
        follow_up.delete()


def record_follow_up_result(
    follow_up: FollowUp,
    *,
    result: str,
    barriers: Iterable[str] = (),
    outcome: str = "",
    reported_by: str,
    user: User | None,
    now: datetime.datetime,
) -> FollowUp:
    """Record how it went and move the referral on (care.attendance), in one transaction.

    The caller has established who may say so: `user` (a worker, checked by complete_follow_up),
    or nobody signed in when the person answers through their own private link
    (reported_by=PERSON). A follow-up already done is left as it is."""
    if result not in FollowUpResult.values:
        raise ValueError(f"unknown result {result!r}")
    codes = sorted(set(barriers)) if result in attendance.WITH_BARRIERS else []
    if result == FollowUpResult.BARRIER and not codes:
        raise ValueError("say what got in the way")
    with transaction.atomic():
        follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
        if follow_up.completed_at is not None:
            return follow_up
        referral = (
            # Only the referral's row is locked (PostgreSQL cannot lock the nullable side of a join).
            Referral.objects.select_for_update(of=("self",))
            .select_related("team", "person", "target_organisation")
            .get(pk=follow_up.referral_id)
        )
        follow_up.completed_at = now
        follow_up.outcome = outcome
        follow_up.result = result
        follow_up.reported_by = reported_by
        follow_up.save(update_fields=["completed_at", "outcome", "result", "reported_by"])
        ReferralBarrier.objects.bulk_create(
            ReferralBarrier(referral=referral, follow_up=follow_up, code=code) for code in codes
        )
        audit.record(
            user,
            AuditAction.UPDATE,
            follow_up,
            person=referral.person_id,
            changes={
                "completed_at": {"old": None, "new": now},
                "result": {"old": "", "new": result},
                "barriers": {"old": [], "new": codes},
                "outcome": {"old": "", "new": outcome},
            },
            detail=f"reported by {reported_by}",
            at=now,
        )
        if user is not None:
            performs = bool(states.allowed_statuses(user, referral, now) & states.PERFORMER_STATUSES)
        else:
            performs = referral.target_organisation_id in (None, referral.team.organisation_id)
        following = attendance.follow(
            referral.status,
            referral.business_status,
            result,
            mutual_aid=referral.has_milestones,
            performs=performs,
        )
        reason = str(FollowUpResult(result).label)
        for status in following.statuses:
            _transition(referral, status, user=user, reason=reason, now=now)
        if following.milestone is not None:
            _set_milestone(referral, following.milestone, user=user, now=now)
    return follow_up


def complete_follow_up(
    actor: Actor,
    follow_up: FollowUp,
    *,
    result: str,
    barriers: Iterable[str] = (),
    outcome: str = "",
    now: datetime.datetime | None = None,
) -> FollowUp:
    """The worker records how it went (from talking with the person)."""
    user = require(
        actor, "followup.complete", follow_up, follow_up.referral.person, "complete this follow-up"
    )
    return record_follow_up_result(
        follow_up,
        result=result,
        barriers=barriers,
        outcome=outcome,
        reported_by=ReportedBy.WORKER,
        user=user,
        now=_now(now),
    )


# ---------------------------------------------------------------- the referral wizard's drafts


def _draft_expiry(now: datetime.datetime) -> datetime.datetime:
    return now + datetime.timedelta(days=settings.REFERRAL_DRAFT_DAYS)


def start_referral_draft(
    actor: Actor, person: Person, *, now: datetime.datetime | None = None
) -> ReferralDraft:
    """The user's draft referral of this person: the one they started (a second tab, a double
    click), or a new one starting from their record's preferences (an expired draft not yet
    cleaned up is replaced)."""
    user = require(actor, "person.change", person, person, "refer this person")
    now = _now(now)
    with transaction.atomic():
        current = ReferralDraft.objects.select_for_update().filter(person=person, owner=user).first()
        if current is not None and current.expires_at > now:
            return current
        if current is not None:
            audit.record(
                user, AuditAction.DELETE, current, person=person, detail="referral draft expired", at=now
            )
            current.delete()
        draft = ReferralDraft.objects.create(
            person=person,
            owner=user,
            step=STEPS[0],
            answers=Answers.start(person).as_json(),
            started_at=now,
            saved_at=now,
            expires_at=_draft_expiry(now),
        )
        audit.record(user, AuditAction.CREATE, draft, person=person, detail="referral draft started", at=now)
    return draft


# Parts of the answers that hold free text: the trail records that they changed, not what they say.
DRAFT_TEXT = frozenset({"barrier_note", "introduction_note"})


def _draft_changes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, dict[str, Any]]:
    changes: dict[str, dict[str, Any]] = {}
    for key, value in new.items():
        before = old.get(key)
        if key == "target" and isinstance(value, dict):
            before_target = before if isinstance(before, dict) else {}
            if before_target.get("reason") != value.get("reason"):
                changes["reason"] = {"old": before_target.get("reason"), "new": value.get("reason")}
            value = {k: v for k, v in value.items() if k != "reason"}
            before = {k: v for k, v in before_target.items() if k != "reason"}
        if before != value:
            changes["note" if key in DRAFT_TEXT else key] = {"old": before, "new": value}
    return changes


def save_referral_draft(
    actor: Actor, draft: ReferralDraft, answers: Answers, *, step: str, now: datetime.datetime | None = None
) -> ReferralDraft:
    """Keep the answers so far; `step` is where the worker will carry on. Saving extends the draft's
    life to REFERRAL_DRAFT_DAYS from now."""
    if step not in STEPS:
        raise ValueError(f"unknown step {step!r}")
    user = require(actor, "referraldraft.change", draft, draft.person, "change this referral draft")
    now = _now(now)
    with transaction.atomic():
        draft = ReferralDraft.objects.select_for_update().get(pk=draft.pk)
        new = answers.as_json()
        changes = _draft_changes(draft.answers, new)
        draft.answers = new
        draft.step = step
        draft.saved_at = now
        draft.expires_at = _draft_expiry(now)
        draft.save(update_fields=["answers", "step", "saved_at", "expires_at"])
        if changes:
            audit.record(user, AuditAction.UPDATE, draft, person=draft.person_id, changes=changes, at=now)
    return draft


def discard_referral_draft(
    actor: Actor, draft: ReferralDraft, *, now: datetime.datetime | None = None
) -> None:
    user = require(actor, "referraldraft.change", draft, draft.person, "discard this referral draft")
    with transaction.atomic():
        audit.record(
            user,
            AuditAction.DELETE,
            draft,
            person=draft.person_id,
            detail="referral draft discarded",
            at=_now(now),
        )
        ReferralDraft.objects.filter(pk=draft.pk).delete()


def send_referral_draft(
    actor: Actor, draft: ReferralDraft, *, now: datetime.datetime | None = None
) -> Referral:
    """Send the referral the draft describes, and discard the draft, in one transaction.

    Raises DraftIncomplete (which step needs what) or ConsentRequired; the draft is then kept
    as it was."""
    user = require(actor, "referraldraft.change", draft, draft.person, "send this referral draft")
    now = _now(now)
    person = draft.person
    answers = Answers.from_json(draft.answers, person)
    meetings = queries.active_meetings(
        [*answers.presented, *answers.chosen, *filter(None, [answers.target.meeting])]
    )
    today = timezone.localdate(now)
    problems = answers.problems(today, set(meetings))
    if problems:
        raise DraftIncomplete(problems)
    target = answers.target
    organisation = (
        queries.recipients().filter(pk=target.organisation).first() if target.organisation else None
    )
    fellowship = Fellowship.objects.filter(pk=target.fellowship).first() if target.fellowship else None
    with transaction.atomic():
        referral = create_referral(
            user,
            person,
            target_kind=target.kind,
            meeting=meetings.get(target.meeting)
            if target.kind == ReferralTargetKind.MEETING and target.meeting
            else None,
            fellowship=fellowship if target.kind == ReferralTargetKind.FELLOWSHIP else None,
            target_organisation=organisation if target.kind in SERVICE_KINDS else None,
            reason=target.reason,
            presented=[meetings[pk] for pk in answers.presented if pk in meetings],
            chosen=[meetings[pk] for pk in answers.chosen if pk in meetings],
            matters=answers.matters,
            barriers=answers.barriers,
            barrier_note=answers.barrier_note,
            introduction=answers.introduction,
            introduction_note=answers.introduction_note,
            follow_up_dates=answers.follow_up_dates(today),
            now=now,
        )
        if answers.remember:
            matters = answers.matters
            update_person(
                user,
                person,
                spiritual_preference=matters.spiritual,
                preferred_language=matters.language,
                group_gender_preference=matters.gender,
                on_moud=matters.on_moud,
                attendance_preference=matters.attendance,
                now=now,
            )
        audit.record(
            user,
            AuditAction.DELETE,
            draft,
            person=person,
            detail=f"referral draft sent as referral {referral.pk}",
            at=now,
        )
        ReferralDraft.objects.filter(pk=draft.pk).delete()
    return referral


def discard_expired_referral_drafts(*, now: datetime.datetime | None = None) -> int:
    """Delete the drafts nobody has saved for REFERRAL_DRAFT_DAYS (the daily task); each deletion
    is in the trail. Returns how many."""
    now = _now(now)
    with transaction.atomic():
        expired = list(ReferralDraft.objects.select_for_update().filter(expires_at__lte=now))
        audit.record_many(
            audit.event(
                None,
                AuditAction.DELETE,
                draft,
                person=draft.person_id,
                detail="referral draft expired",
                at=now,
            )
            for draft in expired
        )
        ReferralDraft.objects.filter(pk__in=[d.pk for d in expired]).delete()
    return len(expired)


# ---------------------------------------------------------------- journeys


def start_episode(
    actor: Actor,
    person: Person,
    *,
    kind: str,
    started_on: datetime.date,
    navigator: User | None = None,
    now: datetime.datetime | None = None,
) -> Episode:
    user = require(actor, "person.change", person, person, "change this person")
    with transaction.atomic():
        episode = Episode.objects.create(person=person, kind=kind, started_on=started_on, navigator=navigator)
        audit.record(
            user,
            AuditAction.CREATE,
            episode,
            person=person,
            changes=audit.diff({}, audit.snapshot(episode, ("kind", "started_on", "navigator"))),
            at=_now(now),
        )
    return episode


def end_episode(
    actor: Actor,
    episode: Episode,
    *,
    ended_on: datetime.date,
    end_reason: str,
    now: datetime.datetime | None = None,
) -> Episode:
    user = require(actor, "person.change", episode.person, episode.person, "change this person")
    if ended_on < episode.started_on:
        raise ValueError("an episode cannot end before it starts")
    with transaction.atomic():
        episode = Episode.objects.select_for_update().get(pk=episode.pk)
        before = audit.snapshot(episode, ("ended_on", "end_reason"))
        episode.ended_on = ended_on
        episode.end_reason = end_reason
        episode.save(update_fields=["ended_on", "end_reason"])
        audit.record(
            user,
            AuditAction.UPDATE,
            episode,
            person=episode.person_id,
            changes=audit.diff(before, audit.snapshot(episode, ("ended_on", "end_reason"))),
            at=_now(now),
        )
    return episode


def log_contact(
    actor: Actor,
    person: Person,
    *,
    kind: str,
    at: datetime.datetime,
    duration_minutes: int = 0,
    note: str = "",
    confidential: bool = False,
    episode: Episode | None = None,
    now: datetime.datetime | None = None,
) -> Contact:
    user = require(actor, "person.change", person, person, "change this person")
    if episode is not None and episode.person_id != person.pk:
        raise ValueError("the episode belongs to someone else")
    with transaction.atomic():
        contact = Contact.objects.create(
            person=person,
            episode=episode,
            worker=user,
            kind=kind,
            at=at,
            duration_minutes=duration_minutes,
            note=note,
            confidential=confidential,
        )
        audit.record(
            user,
            AuditAction.CREATE,
            contact,
            person=person,
            changes=audit.diff(
                {},
                audit.snapshot(
                    contact, ("kind", "at", "duration_minutes", "note", "confidential", "episode")
                ),
            ),
            at=_now(now),
        )
    return contact


# ---------------------------------------------------------------- retention
#
# Retention is the service's own act: rights.retention decides what is due, and rights.actions
# authorises an erasure the person asked for, before calling these. `actor` is the user who
# answered that request, or None for the scheduled run: recorded here, not checked.

# What an anonymised person's details become: nothing that identifies them, and the defaults for
# what no evaluation reads. Their team, navigator, MOUD and secular-or-spiritual flags stay.
ANONYMISED_DETAILS: dict[str, Any] = {
    "given_name": "",
    "family_name": "",
    "email": "",
    "phone": "",
    "postcode": "",
    "latitude": None,
    "longitude": None,
    "preferred_language": settings.LANGUAGE_CODE,
    "attendance_preference": AttendancePreference.EITHER,
    "group_gender_preference": GroupGenderPreference.ANY,
}


def anonymise_person(
    actor: User | None,
    person: Person,
    *,
    date_of_birth: datetime.date | None,
    now: datetime.datetime | None = None,
) -> Person:
    """Take out of a person's record everything that identifies them, keeping what evaluation reads:
    episodes, referrals (their options and assisted steps), consents' dates, outcome responses and
    check-ins. Details are cleared and the reference drawn again (copies disclosed under the old one
    no longer match); `date_of_birth` is the caller's coarsened date. Contact notes, related people
    and follow-ups go; free text (reasons, notes, scopes) is emptied; consents other than to
    evaluation end now, so nothing more is disclosed. Doing it twice changes nothing."""
    now = _now(now)
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=person.pk)
        if person.anonymised_at is not None:
            return person
        for name, value in ANONYMISED_DETAILS.items():
            setattr(person, name, value)
        person.date_of_birth = date_of_birth
        person.reference = new_reference()
        person.anonymised_at = now
        person.save()
        contacts, _kinds = Contact.objects.filter(person=person).delete()
        related, _kinds = RelatedPerson.objects.filter(person=person).delete()
        RelatedPerson.objects.filter(as_person=person).update(as_person=None)
        referrals = Referral.objects.filter(person=person)
        # update(), never save(): a referral's updated_at dates its milestone in evaluation.
        referrals.update(reason="", status_reason="")
        FollowUp.objects.filter(referral__in=referrals).delete()
        AssistedStep.objects.filter(referral__in=referrals).update(note="")
        consents = Consent.objects.filter(person=person)
        consents.update(scope="")
        consents.exclude(purpose=ConsentPurpose.EVALUATION).filter(revoked_at__isnull=True).update(
            revoked_at=now
        )
        cleared = (*ANONYMISED_DETAILS, "date_of_birth", "reference")
        audit.record(
            actor,
            AuditAction.UPDATE,
            person,
            changes={name: {"old": audit.MASKED, "new": audit.MASKED} for name in cleared},
            detail=f"anonymised past retention; {contacts} contacts and {related} related people removed",
            at=now,
        )
    return person


def erase_person(
    actor: User | None, person: Person, *, detail: str, now: datetime.datetime | None = None
) -> dict[str, int]:
    """Delete the person's record and everything in it (outcome records too: they cascade). The
    DELETE event keeps who, when, why (`detail`, no personal data) and how many rows of each kind
    went; the audit trail keeps its events, which name the person by id only. Returns those counts
    ({} when the person was already gone)."""
    now = _now(now)
    with transaction.atomic():
        found = Person.objects.select_for_update().filter(pk=person.pk).first()
        if found is None:
            return {}
        _total, referrals = Referral.objects.filter(person=found).delete()
        _total, rest = found.delete()
        every = {label: referrals.get(label, 0) + rest.get(label, 0) for label in {*referrals, *rest}}
        counts = {label.lower(): count for label, count in sorted(every.items()) if count}
        audit.record(
            actor,
            AuditAction.DELETE,
            None,
            object_type="care.person",
            object_id=str(person.pk),
            person=person.pk,
            changes={"erased": {"old": None, "new": counts}},
            detail=detail,
            at=now,
        )
    return counts


# ---------------------------------------------------------------- reads that are audited


def export_audit_trail(
    actor: Actor,
    out: trail.Writable,
    *,
    person: Person | None = None,
    since: datetime.datetime | None = None,
    until: datetime.datetime | None = None,
) -> int:
    """Write the audit events the user may see (one person's, or all their managed teams') as
    CSV to `out`, and record the export in the trail. Returns the number of rows."""
    user = signed_in(actor)
    if person is not None:
        events = queries.person_trail(user, person)
    elif access.may(user, "teams.manage"):
        events = queries.audited_events(user)
    else:
        raise PermissionDenied("Only managers may export the audit trail.")
    if since is not None:
        events = events.filter(at__gte=since)
    if until is not None:
        events = events.filter(at__lt=until)
    with transaction.atomic():
        count = events.count()
        audit.record(
            user,
            AuditAction.EXPORT,
            None,
            object_type="audit.auditevent",
            person=person,
            changes={"since": {"new": since}, "until": {"new": until}},
            detail=f"audit export, {count} events",
        )
    exported = events.select_related("actor", "actor_organisation").order_by("at", "id")[:count]
    trail.write_csv(out, exported, queries.references_of(events))
    return count


def record_view(
    user: Actor, person: Person, *, detail: str = "", now: datetime.datetime | None = None
) -> None:
    """Call when a page shows a person's record: checks access and writes the VIEW event.
    Raises PermissionDenied (and records the attempt) when the user may not see them."""
    staff = require(user, "person.view", person, person, "see this person")
    with transaction.atomic():
        audit.record(staff, AuditAction.VIEW, person, detail=detail, at=_now(now))


def record_list_view(
    user: Actor, person_ids: Iterable[int | None], *, detail: str, now: datetime.datetime | None = None
) -> None:
    """Call when a list page (a dashboard, a queue) shows people's names and references: one VIEW
    event per person shown, in one INSERT at one instant, so a person's trail says every page
    that named them. The read side already limited the list to people the user may see."""
    shown = sorted({pid for pid in person_ids if pid is not None})
    if not shown or not getattr(user, "is_authenticated", False):
        return
    at = _now(now)
    audit.record_many(
        audit.event(
            user,
            AuditAction.VIEW,
            None,
            person=pid,
            object_type="care.person",
            object_id=str(pid),
            detail=detail,
            at=at,
        )
        for pid in shown
    )


def record_print(
    user: Actor, person: Person, *, detail: str = "", now: datetime.datetime | None = None
) -> None:
    """Call when a person's record (e.g. the take-away options list) is printed or downloaded."""
    staff = require(user, "person.view", person, person, "print this person's record")
    with transaction.atomic():
        audit.record(staff, AuditAction.PRINT, person, detail=detail, at=_now(now))


def record_disclosure(
    actor: AbstractBaseUser | AnonymousUser | Organisation | None,
    referral: Referral,
    *,
    detail: str = "",
    basis: str = "",
    now: datetime.datetime | None = None,
) -> None:
    """Call when a referral leaves the system (FHIR export, the receiving organisation's API).
    Refuses, with ConsentRequired, when no active consent covers the recipient any more."""
    now = _now(now)
    organisation = actor if isinstance(actor, Organisation) else None
    user = None if organisation else signed_in(actor)  # type: ignore[arg-type]
    if not _visible(organisation, user, now).filter(pk=referral.pk).exists():
        raise PermissionDenied("This referral is not yours to export.")
    if not Referral.objects.disclosable(now).filter(pk=referral.pk).exists():
        assert referral.target_organisation is not None
        raise ConsentRequired(referral.target_organisation.name)
    # An organisation's own internal referral does not leave it: exported, but not disclosed.
    internal = referral.target_organisation_id == referral.team.organisation_id
    with transaction.atomic():
        audit.record(
            user,
            AuditAction.EXPORT,
            referral,
            person=referral.person_id,
            actor_organisation=organisation,
            changes={}
            if internal
            else audit.disclosure(
                Recipient.ORGANISATION,
                channel=DisclosureChannel.FHIR,
                organisation=referral.target_organisation_id,
                basis=basis,
                content="referral",
            ),
            detail=detail,
            at=now,
        )


# The audit detail of a Task listed or read by its receiving organisation.
TASK_READ = "FHIR Task read by the receiving organisation"


def record_task_reads(
    organisation: Organisation, referrals: Iterable[Referral], *, now: datetime.datetime | None = None
) -> None:
    """The receiving organisation read these Tasks (through its API token): one VIEW event each,
    as a read of each would write, in one INSERT at one instant (a list page of 50 is one query)."""
    at = _now(now)
    # A read by another organisation is a disclosure to it; the team's own organisation reading
    # its internal referrals through its token is not.
    read = audit.disclosure(
        Recipient.ORGANISATION,
        channel=DisclosureChannel.TASK_API,
        organisation=organisation.pk,
        content="referral",
    )
    audit.record_many(
        audit.event(
            None,
            AuditAction.VIEW,
            referral,
            person=referral.person_id,
            actor_organisation=organisation,
            changes=read if referral.team.organisation_id != organisation.pk else None,
            detail=TASK_READ,
            at=at,
        )
        for referral in referrals
    )


def record_api_reads(
    organisation: Organisation,
    objects: Iterable[tuple[Any, int | None]],
    *,
    detail: str,
    now: datetime.datetime | None = None,
) -> None:
    """The receiving organisation read these records through the FHIR API (a ServiceRequest, a
    Patient, a Consent, an Organization): one VIEW event for each (object, person id)."""
    at = _now(now)
    audit.record_many(
        audit.event(
            None,
            AuditAction.VIEW,
            obj,
            person=person_id,
            actor_organisation=organisation,
            detail=detail,
            at=at,
        )
        for obj, person_id in objects
    )


def record_api_refusal(
    organisation: Organisation,
    object_type: str,
    object_id: str,
    *,
    detail: str,
    now: datetime.datetime | None = None,
) -> None:
    """The FHIR API refused the receiving organisation something about this record (not found for
    it, not allowed, a stale version): a DENIED event on the person's trail when the record is
    theirs, in a transaction of its own so it outlives the refused change."""
    person_id = None
    if object_type == "care.referral" and object_id.isdecimal() and len(object_id) <= 18:
        person_id = Referral.objects.filter(pk=int(object_id)).values_list("person_id", flat=True).first()
    with transaction.atomic():
        audit.record(
            None,
            AuditAction.DENIED,
            None,
            object_type=object_type,
            object_id=object_id[:64],
            person=person_id,
            actor_organisation=organisation,
            detail=detail,
            at=_now(now),
        )


def export_referral(
    referral: Referral,
    *,
    base_url: str,
    actor: Any = None,
    actor_organisation: Organisation | None = None,
) -> Bundle:
    """The referral as a Bundle for its receiving organisation, with an audit row of the export.

    Sending it to another organisation needs the person's active consent to refer to that
    organisation; an organisation's own internal referral (its team referred to it) needs none,
    as on its Task API: the organisation already holds the record, nothing leaves it. Refusals
    raise NoRecipient or ConsentRequired and are audited as denied.
    """
    recipient = referral.target_organisation
    internal = recipient is not None and recipient.pk == referral.team.organisation_id
    given = Consent.objects.covering(referral.person, recipient) if recipient is not None else None
    if recipient is None or (given is None and not internal):
        audit.record(
            actor,
            AuditAction.DENIED,
            referral,
            person=referral.person_id,
            actor_organisation=actor_organisation,
            detail="FHIR export refused: "
            + ("no receiving organisation" if recipient is None else "no active consent"),
        )
        if recipient is None:
            raise NoRecipient("This referral goes to no organisation, so there is nobody to export it to.")
        raise ConsentRequired(recipient.name)
    bundle = fhir.referral_bundle(referral, given, base_url)
    covered_by = f"Consent {given.pk}" if given is not None else "internal, no consent needed"
    # The core's disclosure action checks visibility and consent again and writes the export row.
    record_disclosure(
        actor_organisation or actor,
        referral,
        detail=f"FHIR Bundle (ServiceRequest, Task; {covered_by}) for organisation {recipient.pk}",
        basis=f"consent {given.pk}" if given is not None else "the organisation's own referral",
    )
    return bundle


# ---------------------------------------------------------------- the person closes the loop

# At most this many chosen meetings are sent, one message each (the take-away list has the rest).
MEETINGS_SENT = 3
# Asked this long after the first chosen meeting starts (it has ended by then); a week after
# sending when no chosen meeting has a time (by appointment).
ASK_AFTER_MEETING = datetime.timedelta(hours=3)
ASK_WITHOUT_TIME = datetime.timedelta(days=7)
# What the person may answer through their link, of FollowUpResult.
PERSON_RESULTS = (FollowUpResult.ATTENDED, FollowUpResult.NOT_YET, FollowUpResult.BARRIER)


def first_meeting_after(meetings: Sequence[Meeting], now: datetime.datetime) -> datetime.datetime | None:
    """When the first of these meetings next starts (None when none has a day and time)."""
    starts = [
        timing.next_occurrence(m.weekday, m.start_time, m.timezone, now, grace=datetime.timedelta(0))
        for m in meetings
        if m.weekday is not None and m.start_time is not None
    ]
    return min(starts, default=None)


def send_chosen_meetings(
    actor: Actor,
    referral: Referral,
    *,
    channel: str,
    ask_after: bool = True,
    now: datetime.datetime | None = None,
) -> list[Sending]:
    """Send the person the meetings they chose (one message each, in their language and time
    zone, with a link to the meeting's public page) by `channel`, under their consent for it;
    with `ask_after`, once the first of them has been held they are sent a private link to say
    whether they went (outcomes.actions.send_attendance_links makes and sends it)."""
    user = require(actor, "referral.request", referral, referral.person, "send this person their meetings")
    now = _now(now)
    referral = Referral.objects.select_related("person").get(pk=referral.pk)  # its status now
    if referral.status in states.TERMINAL or referral.status == TaskStatus.DRAFT:
        raise InvalidTransition("Meetings are sent for a referral that is open.")
    person = referral.person
    meetings = [
        option.meeting
        for option in referral.options.filter(chosen=True)
        .select_related("meeting__location")
        .order_by("pk")[:MEETINGS_SENT]
    ]
    if not meetings:
        raise ValueError("no meeting was chosen")
    zone = person_zone(person)
    language = person.preferred_language or "en"
    with transaction.atomic():
        sent = [
            send_message(
                user,
                person,
                channel=channel,
                kind=MessageKind.MEETING,
                context=meeting_context(
                    meeting,
                    link=outbox.absolute_url("directory:meeting", meeting.pk),
                    zone=zone,
                    language=language,
                    now=now,
                ),
                now=now,
            )
            for meeting in meetings
        ]
        if ask_after and all(sending.message is not None for sending in sent):
            first = first_meeting_after(meetings, now)
            due = first + ASK_AFTER_MEETING if first is not None else now + ASK_WITHOUT_TIME
            ask, _created = AttendanceAsk.objects.update_or_create(
                referral=referral,
                defaults={
                    "channel": channel,
                    "requested_by": user,
                    "due_at": due,
                    "asked_at": None,
                    "refusal": "",
                },
            )
            audit.record(
                user,
                AuditAction.CREATE,
                ask,
                person=person,
                changes=audit.diff({}, {"channel": channel, "due_at": due}),
                detail="will ask after the first meeting",
                at=now,
            )
    return sent


def attendance_asks_due(now: datetime.datetime) -> QuerySet[AttendanceAsk]:
    """Asks whose time has come and that nobody has sent yet, of referrals still open."""
    return (
        AttendanceAsk.objects.filter(asked_at__isnull=True, due_at__lte=now)
        .exclude(referral__status__in=states.TERMINAL)
        .select_related("referral__person", "requested_by")
        .order_by("due_at", "pk")
    )


def mark_attendance_asked(ask: AttendanceAsk, *, refusal: str = "", now: datetime.datetime) -> None:
    """The ask has been sent (or could not be: `refusal` says why); it is not tried again."""
    AttendanceAsk.objects.filter(pk=ask.pk).update(asked_at=now, refusal=refusal)


def record_person_report(
    referral: Referral,
    *,
    result: str,
    barriers: Iterable[str] = (),
    now: datetime.datetime,
) -> FollowUp:
    """What the person said through their own link: the referral's next open follow-up is done
    with their answer (one due today is made when none is open), and the referral follows."""
    if result not in PERSON_RESULTS:
        raise ValueError(f"the person cannot answer {result!r}")
    with transaction.atomic():
        follow_up = (
            FollowUp.objects.select_for_update()
            .filter(referral=referral, completed_at__isnull=True)
            .order_by("due_on", "pk")
            .first()
        )
        if follow_up is None:
            follow_up = FollowUp.objects.create(
                referral=referral, assigned_to_id=_assignee_id(referral), due_on=timezone.localdate(now)
            )
            audit.record(
                None,
                AuditAction.CREATE,
                follow_up,
                person=referral.person_id,
                detail="follow-up for the person's own answer",
                at=now,
            )
        return record_follow_up_result(
            follow_up,
            result=result,
            barriers=barriers,
            reported_by=ReportedBy.PERSON,
            user=None,
            now=now,
        )
