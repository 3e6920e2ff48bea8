"""Every change to care records: one function each, one transaction each, and the audit row
written in that same transaction. Each action checks access itself (through
`accounts.access`), so a page or API that forgets to check cannot leak or change a record.

Pass `now=` to control the clock (tests, imports); it defaults to the current time.
"""

import base64
import datetime
import secrets
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle

from recoverybridge.accounts import access
from recoverybridge.accounts.actors import Actor, deny, require, signed_in
from recoverybridge.audit import actions as audit
from recoverybridge.audit import queries as trail
from recoverybridge.audit.models import AuditAction, Channel, Recipient
from recoverybridge.care import fhir, queries, states
from recoverybridge.care.errors import ConsentRequired, InvalidTransition, NoRecipient
from recoverybridge.care.models import (
    AssistedStep,
    AssistedStepKind,
    AttendancePreference,
    Consent,
    ConsentPurpose,
    Contact,
    Episode,
    FollowUp,
    GroupGenderPreference,
    MutualAidMilestone,
    Person,
    Referral,
    ReferralOption,
    ReferralTargetKind,
    RelatedPerson,
    TaskStatus,
)
from recoverybridge.directory.models import Fellowship, Meeting
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
    return consent


# ---------------------------------------------------------------- referrals


def _schedule_follow_ups(referral: Referral, now: datetime.datetime) -> list[FollowUp]:
    """Follow-ups at FOLLOW_UP_DAYS after the referral is sent, for the person's navigator
    (or whoever referred them)."""
    assignee_id = referral.person.navigator_id or referral.referred_by_id
    today = timezone.localdate(now)
    return FollowUp.objects.bulk_create(
        FollowUp(referral=referral, assigned_to_id=assignee_id, due_on=today + datetime.timedelta(days=days))
        for days in settings.FOLLOW_UP_DAYS
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


def _sent_to(referral: Referral) -> dict[str, dict[str, Any]]:
    """The disclosure a referral makes when it is sent under consent to another organisation."""
    if not referral.consent_id:
        return {}
    return audit.disclosure(
        Recipient.ORGANISATION,
        channel=Channel.REFERRAL,
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
    now: datetime.datetime | None = None,
) -> Referral:
    """Refer a person: records every option presented and the ones they chose to try.

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
    if meeting is not None:
        presented_ids.add(meeting.pk)
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
            authored_on=now,
        )
        if submit:
            referral.consent = _consent_for(referral, now)
        referral.save()
        ReferralOption.objects.bulk_create(
            ReferralOption(referral=referral, meeting_id=pk, chosen=pk in chosen_ids)
            for pk in sorted(presented_ids)
        )
        if submit:
            _schedule_follow_ups(referral, now)
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
                },
            )
            | _sent_to(referral),
            detail=detail,
            at=now,
        )
    return referral


def _visible(
    organisation: Organisation | None, user: User | None, now: datetime.datetime
) -> QuerySet[Referral]:
    """The referrals an organisation (through its API token) or a user may see now."""
    if organisation is not None:
        return Referral.objects.received_by([organisation.pk], now)
    return Referral.objects.restrict(user, "view", now=now)


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
        changes = {"status": {"old": old, "new": status}}
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
    return referral


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
        old = referral.business_status
        if old == milestone:
            return referral
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
    return referral


def record_assisted_step(
    actor: Actor,
    referral: Referral,
    *,
    kind: str,
    on: datetime.date,
    note: str = "",
    now: datetime.datetime | None = None,
) -> AssistedStep:
    """Introduced to a member, or accompanied to a meeting."""
    user = require(actor, "referral.request", referral, referral.person, "update this referral")
    with transaction.atomic():
        step = AssistedStep.objects.create(referral=referral, kind=kind, on=on, by=user, note=note)
        # Introducing the person to a member tells that member who they are.
        introduced = (
            audit.disclosure(Recipient.MEMBER, channel=Channel.IN_PERSON, content="introduction")
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
            at=_now(now),
        )
    return step


def complete_follow_up(
    actor: Actor, follow_up: FollowUp, *, outcome: str = "", now: datetime.datetime | None = None
) -> FollowUp:
    user = require(
        actor, "followup.complete", follow_up, follow_up.referral.person, "complete this follow-up"
    )
    now = _now(now)
    with transaction.atomic():
        follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
        if follow_up.completed_at is not None:
            return follow_up
        follow_up.completed_at = now
        follow_up.outcome = outcome
        follow_up.save(update_fields=["completed_at", "outcome"])
        audit.record(
            user,
            AuditAction.UPDATE,
            follow_up,
            person=follow_up.referral.person_id,
            changes={"completed_at": {"old": None, "new": now}, "outcome": {"old": "", "new": outcome}},
            at=now,
        )
    return follow_up


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
    with transaction.atomic():
        audit.record(
            user,
            AuditAction.EXPORT,
            referral,
            person=referral.person_id,
            actor_organisation=organisation,
            changes=audit.disclosure(
                Recipient.ORGANISATION,
                channel=Channel.FHIR,
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
        Recipient.ORGANISATION, channel=Channel.TASK_API, organisation=organisation.pk, content="referral"
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


def export_referral(
    referral: Referral,
    *,
    base_url: str,
    actor: Any = None,
    actor_organisation: Organisation | None = None,
) -> Bundle:
    """The referral as a Bundle for its receiving organisation, with an audit row of the export.

    An export is a disclosure outside RecoveryBridge, so it needs the person's active
    consent to refer to that organisation (even an organisation's own internal referral
    is not exported without one). Refusals raise NoRecipient or ConsentRequired and are
    audited as denied.
    """
    recipient = referral.target_organisation
    given = Consent.objects.covering(referral.person, recipient) if recipient is not None else None
    if recipient is None or given is None:
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
    # The core's disclosure action checks visibility and consent again and writes the export row.
    record_disclosure(
        actor_organisation or actor,
        referral,
        detail=f"FHIR Bundle (ServiceRequest, Task, Consent {given.pk}) for organisation {recipient.pk}",
        basis=f"consent {given.pk}",
    )
    return bundle
