"""Every change to volunteers and introductions: one function and one transaction each, the
audit row written in it, messages queued in it (they leave after the commit).

Disclosures: the person's agreed fields go to the volunteer once, when both sides said yes (one
`disclose` event, to a mutual-aid member, under the introduction's consent); the volunteer's
contact details go to the person by the channel they chose (care.actions.send_message, which
writes its own event). Before that the volunteer is told nothing about the person but the kind
of contact asked for, the language, the group and whether in person or online.
"""

import datetime
import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from recoverybridge.accounts import access
from recoverybridge.accounts.actors import Actor, deny, require, signed_in
from recoverybridge.accounts.models import Membership, Role
from recoverybridge.audit import actions as audit
from recoverybridge.audit.models import AuditAction, DisclosureChannel, Recipient
from recoverybridge.care import actions as care
from recoverybridge.care.messages import channel_states
from recoverybridge.care.models import Consent, ConsentPurpose, IntroductionRequest, Referral
from recoverybridge.messaging import outbox
from recoverybridge.messaging.models import Channel, MessageKind
from recoverybridge.organisations.models import Organisation
from recoverybridge.volunteers import matching, queries
from recoverybridge.volunteers.errors import (
    AlreadyOpen,
    ChannelUnusable,
    EmailInUse,
    IntroductionError,
    LinkUnusable,
    NotAvailable,
)
from recoverybridge.volunteers.models import (
    CONNECTED_STATES,
    OPEN_STATES,
    EndedBy,
    Introduction,
    IntroductionState,
    SafetyReport,
    Volunteer,
    VolunteerStatus,
)

VOLUNTEER_FIELDS = (
    "first_name",
    "email",
    "phone",
    "approaches",
    "languages",
    "gender",
    "moud_welcoming",
    "latitude",
    "longitude",
    "area",
    "reach_km",
    "online",
    "availability",
    "capacity",
)
# What the person may agree to share with a volunteer: the consent's scope names these.
AGREED_FIELDS = ("chosen_name", "language", "looking_for", "channel")


def _now(now: datetime.datetime | None) -> datetime.datetime:
    return now or timezone.now()


def offer_days() -> int:
    """Days an introduction waits for an answer (volunteer, then person) before it expires."""
    return int(getattr(settings, "INTRODUCTION_OFFER_DAYS", 7))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def link_for(token: str) -> str:
    return outbox.absolute_url("volunteers:answer", token)


# ---------------------------------------------------------------- volunteers


def register_volunteer(
    actor: Actor,
    *,
    user: User,
    organisation: Organisation,
    fellowships: list[Any] = (),  # type: ignore[assignment]
    now: datetime.datetime | None = None,
    **fields: Any,
) -> Volunteer:
    """A member's offer, recorded by a coordinator of `organisation`: pending until vetted."""
    coordinator = signed_in(actor)
    if not access.can(coordinator, "organisation.coordinate", organisation):
        raise deny(coordinator, organisation, None, "register a volunteer for this organisation")
    unknown = set(fields) - set(VOLUNTEER_FIELDS)
    if unknown:
        raise ValueError(f"not a volunteer's field: {sorted(unknown)}")
    now = _now(now)
    with transaction.atomic():
        volunteer = Volunteer.objects.create(user=user, organisation=organisation, joined_at=now, **fields)
        volunteer.fellowships.set(fellowships)
        if not volunteer.approaches:
            volunteer.approaches = sorted({f.approach for f in volunteer.fellowships.all()})
            volunteer.save(update_fields=["approaches"])
        audit.record(
            coordinator,
            AuditAction.CREATE,
            volunteer,
            changes=audit.diff({}, audit.snapshot(volunteer, ("organisation", "capacity", "status"))),
            at=now,
        )
    return volunteer


def set_password_link(user: User) -> str:
    """Django's password reset link (accounts/reset/...): usable once, until the password
    changes, for PASSWORD_RESET_TIMEOUT; nothing of it is stored here."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    path = reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token})
    return settings.SITE_URL + path


def refuse_enrolment(actor: Actor) -> PermissionDenied:
    """Record that someone who coordinates no organisation tried to add a volunteer."""
    user = signed_in(actor)
    with transaction.atomic():
        audit.record(
            user,
            AuditAction.DENIED,
            None,
            object_type="volunteers.volunteer",
            detail="add a volunteer: not a coordinator",
        )
    return PermissionDenied("You may not add a volunteer.")


def enrol_volunteer(
    actor: Actor,
    *,
    organisation: Organisation,
    fellowships: list[Any] = (),  # type: ignore[assignment]
    now: datetime.datetime | None = None,
    **fields: Any,
) -> Volunteer:
    """A new volunteer, added by a coordinator of `organisation` from their page: an account
    (no password yet) with the volunteer role in the coordinator's team there, their offer
    (pending until vetted, `register_volunteer`), and an e-mail with a link to choose a password.
    All or nothing: an address that already has an account creates nothing."""
    coordinator = signed_in(actor)
    if not access.can(coordinator, "organisation.coordinate", organisation):
        raise deny(coordinator, organisation, None, "add a volunteer to this organisation")
    email = User.objects.normalize_email(fields.get("email", "")).strip().lower()
    if not email:
        raise ValueError("a new volunteer needs an e-mail address")
    fields["email"] = email
    # Where their role lives: the team in which this coordinator coordinates the organisation.
    team = (
        access.memberships(coordinator, [Role.VOLUNTEER_COORDINATOR])
        .filter(team__organisation=organisation)
        .order_by("team_id")
        .values_list("team_id", flat=True)
        .first()
    )
    assert team is not None  # coordinating the organisation means a membership in one of its teams
    taken = (
        User.objects.filter(username__iexact=email).exists()
        or User.objects.filter(email__iexact=email).exists()
    )
    if taken or Volunteer.objects.filter(email__iexact=email).exists():
        raise EmailInUse
    now = _now(now)
    try:
        with transaction.atomic():
            # They sign in with their e-mail address as username, once they chose a password.
            user = User(username=email, email=email, first_name=fields.get("first_name", ""))
            user.set_unusable_password()
            user.save()
            membership = Membership.objects.create(user=user, team_id=team, role=Role.VOLUNTEER)
            audit.record(
                coordinator,
                AuditAction.CREATE,
                membership,
                changes={"role": {"old": None, "new": Role.VOLUNTEER}},
                at=now,
            )
            volunteer = register_volunteer(
                coordinator, user=user, organisation=organisation, fellowships=fellowships, now=now, **fields
            )
            _send_password_link(volunteer)
    except IntegrityError:
        # The same address added at the same moment by someone else.
        raise EmailInUse from None
    return volunteer


def _send_password_link(volunteer: Volunteer) -> None:
    """The e-mail with a link to choose a password (queued: it leaves after the commit)."""
    with translation.override(_volunteer_language(volunteer)):
        _notify_volunteer(
            volunteer,
            _("RecoveryBridge: choose your password"),
            _(
                "Hello %(name)s,\n\n%(organisation)s added you as a volunteer member. Choose "
                "your password here: %(link)s\n\nThen sign in with your e-mail address "
                "(%(email)s) as your username. The link works once, for %(days)s days; if it "
                "has run out, ask your coordinator for a new one.\n\nA coordinator will talk "
                "with you before you are offered any introduction."
            )
            % {
                "name": volunteer.first_name,
                "organisation": volunteer.organisation.name,
                "link": set_password_link(volunteer.user),
                "email": volunteer.user.get_username(),
                "days": settings.PASSWORD_RESET_TIMEOUT // 86400,
            },
        )


def resend_password_link(actor: Actor, volunteer: Volunteer, *, now: datetime.datetime | None = None) -> None:
    """A new link for a volunteer who has not chosen a password yet (the first ran out or was
    lost), asked for by their coordinator; once they have a password, nothing is sent."""
    coordinator = require(
        actor, "volunteer.coordinate", volunteer, None, "send this volunteer a password link"
    )
    if volunteer.user.has_usable_password():
        raise ValueError("this volunteer has already chosen a password")
    with transaction.atomic():
        audit.record(
            coordinator, AuditAction.UPDATE, volunteer, detail="password link sent again", at=_now(now)
        )
        _send_password_link(volunteer)


def _status_change(user: User, volunteer: Volunteer, status: str, now: datetime.datetime) -> Volunteer:
    old = volunteer.status
    volunteer.status = status
    fields = ["status"]
    if status == VolunteerStatus.ACTIVE and volunteer.vetted_at is None:
        volunteer.vetted_by, volunteer.vetted_at = user, now
        fields += ["vetted_by", "vetted_at"]
    volunteer.save(update_fields=fields)
    audit.record(user, AuditAction.UPDATE, volunteer, changes={"status": {"old": old, "new": status}}, at=now)
    return volunteer


def set_volunteer_status(
    actor: Actor, volunteer: Volunteer, status: str, *, now: datetime.datetime | None = None
) -> Volunteer:
    """A coordinator vets and activates, pauses or records that a volunteer left; a volunteer
    pauses, resumes (once vetted) or leaves themselves. Leaving ends nothing already connected,
    but no new introduction is offered."""
    if status not in VolunteerStatus.values:
        raise ValueError(f"unknown status {status!r}")
    user = signed_in(actor)
    now = _now(now)
    coordinator = access.can(user, "volunteer.coordinate", volunteer)
    myself = access.can(user, "volunteer.self", volunteer)
    allowed = coordinator or (
        myself
        and (
            status in (VolunteerStatus.PAUSED, VolunteerStatus.LEFT)
            or (status == VolunteerStatus.ACTIVE and volunteer.vetted_at is not None)
        )
    )
    if not allowed:
        raise deny(user, volunteer, None, f"set this volunteer {status}")
    with transaction.atomic():
        volunteer = Volunteer.objects.select_for_update().get(pk=volunteer.pk)
        if volunteer.status == status:
            return volunteer
        if volunteer.status == VolunteerStatus.LEFT and not coordinator:
            raise deny(user, volunteer, None, "come back without a coordinator")
        return _status_change(user, volunteer, status, now)


# ---------------------------------------------------------------- introductions


def _person_id(introduction: Introduction) -> int:
    return introduction.request.referral.person_id


def _load(introduction: Introduction) -> Introduction:
    return Introduction.objects.select_related(
        "request__referral__person", "request__referral__team", "volunteer__user", "consent"
    ).get(pk=introduction.pk)


def _notify_volunteer(volunteer: Volunteer, subject: str, body: str) -> None:
    """An e-mail to the volunteer (their own address, their first language): never the person's id."""
    if volunteer.email:
        outbox.send_email([volunteer.email], subject, body, kind=MessageKind.VOLUNTEER_NOTICE)


def _volunteer_language(volunteer: Volunteer) -> str:
    return next((code for code in volunteer.languages if code in ("en", "es")), "en")


def arrange_introduction(
    actor: Actor,
    request: IntroductionRequest,
    volunteer: Volunteer,
    *,
    chosen_name: str,
    looking_for: str,
    channel: str,
    language: str | None = None,
    times: frozenset[str] = frozenset(),
    now: datetime.datetime | None = None,
) -> Introduction:
    """Offer the person's request to one volunteer, under a new consent of theirs to share the
    agreed fields (recorded here, as the worker asked them): the volunteer is told that there is
    an introduction to answer, nothing about who."""
    referral = request.referral
    user = require(actor, "referral.request", referral, referral.person, "arrange contact with a member")
    now = _now(now)
    if channel not in Channel.values or not channel_states(referral.person, now)[Channel(channel)].usable:
        raise ChannelUnusable
    chosen_name = chosen_name.strip()[:60]
    if not chosen_name:
        raise ValueError("a first name or chosen name is needed")
    with transaction.atomic():
        IntroductionRequest.objects.select_for_update().get(pk=request.pk)
        if Introduction.objects.filter(
            request=request, state__in=(*OPEN_STATES, IntroductionState.MET)
        ).exists():
            raise AlreadyOpen
        locked = Volunteer.objects.select_for_update().get(pk=volunteer.pk)
        need = queries.need_of(request, language=language, times=times)
        found = matching.rank(need, [queries.offer_of(locked)], limit=1)
        if not found:
            raise NotAvailable
        consent = care.give_consent(
            user,
            referral.person,
            purpose=ConsentPurpose.INTRODUCTION,
            scope="first name or chosen name, language, what they are looking for, "
            f"contact by {Channel(channel).label}",
            now=now,
        )
        introduction = Introduction.objects.create(
            request=request,
            volunteer=locked,
            consent=consent,
            chosen_name=chosen_name,
            language=need.language,
            looking_for=looking_for.strip()[:255],
            channel=channel,
            reasons=[[r.code, r.value] for r in found[0].reasons],
            created_by=user,
            created_at=now,
            expires_at=now + datetime.timedelta(days=offer_days()),
        )
        audit.record(
            user,
            AuditAction.CREATE,
            introduction,
            person=referral.person_id,
            changes=audit.diff({}, {"volunteer": locked.pk, "consent": consent.pk, "channel": channel}),
            at=now,
        )
        with translation.override(_volunteer_language(locked)):
            _notify_volunteer(
                locked,
                _("RecoveryBridge: an introduction to answer"),
                _(
                    "Hello %(name)s,\n\nSomeone new would like contact with a member. Sign in to say "
                    "yes or no: %(link)s\n\nYou will see who they are only if you both say yes."
                )
                % {"name": locked.first_name, "link": outbox.absolute_url("volunteers:mine")},
            )
    return introduction


def _usable_or_raise(introduction: Introduction, states: tuple[str, ...], now: datetime.datetime) -> None:
    if introduction.state not in states:
        raise IntroductionError
    if (
        introduction.state in (IntroductionState.OFFERED, IntroductionState.ASKED)
        and introduction.expires_at <= now
    ):
        raise IntroductionError


def _consent_active(introduction: Introduction, now: datetime.datetime) -> bool:
    return Consent.objects.active(now).filter(pk=introduction.consent_id).exists()


def _set_state(
    user: User | None,
    introduction: Introduction,
    state: str,
    now: datetime.datetime,
    *,
    fields: tuple[str, ...] = (),
    changes: dict[str, dict[str, Any]] | None = None,
    detail: str = "",
) -> None:
    old = introduction.state
    introduction.state = state
    introduction.save(update_fields=["state", *fields])
    audit.record(
        user,
        AuditAction.UPDATE,
        introduction,
        person=_person_id(introduction),
        changes={"state": {"old": old, "new": state}} | (changes or {}),
        detail=detail,
        at=now,
    )


def answer_as_volunteer(
    actor: Actor, introduction: Introduction, *, accept: bool, now: datetime.datetime | None = None
) -> str:
    """The volunteer says yes or no, knowing nothing of who. Yes sends the person a private link
    to say yes or no in turn (by the channel they agreed to, on behalf of their worker); returns
    the link's token ("" on a no), which is kept only as a hash."""
    user = require(actor, "introduction.answer", introduction, None, "answer this introduction")
    now = _now(now)
    with transaction.atomic():
        introduction = _load(Introduction.objects.select_for_update().get(pk=introduction.pk))
        _usable_or_raise(introduction, (IntroductionState.OFFERED,), now)
        if not accept:
            introduction.answered_at = introduction.ended_at = now
            introduction.ended_by = EndedBy.VOLUNTEER
            _set_state(
                user,
                introduction,
                IntroductionState.DECLINED,
                now,
                fields=("answered_at", "ended_at", "ended_by"),
            )
            return ""
        if not _consent_active(introduction, now):
            raise IntroductionError
        token = secrets.token_urlsafe(32)
        introduction.token_hash = hash_token(token)
        introduction.answered_at = now
        introduction.expires_at = now + datetime.timedelta(days=offer_days())
        _set_state(
            user,
            introduction,
            IntroductionState.ASKED,
            now,
            fields=("token_hash", "answered_at", "expires_at"),
        )
        sending = care.send_message(
            introduction.created_by,
            introduction.request.referral.person,
            channel=introduction.channel,
            kind=MessageKind.INTRODUCTION_LINK,
            context={"link": link_for(token), "until": introduction.expires_at},
            language=introduction.language,
            now=now,
        )
        if sending.refusal:
            # Their consent for the channel or the number went meanwhile: nobody to ask.
            raise ChannelUnusable
    return token


def usable_link(token: str, *, now: datetime.datetime | None = None, lock: bool = False) -> Introduction:
    """The introduction a person's link opens while it is theirs to answer or to end; an unknown,
    expired or ended one is LinkUnusable alike (the page tells the holder nothing more)."""
    now = _now(now)
    found = Introduction.objects.select_related("volunteer", "request__referral__person")
    if lock:
        found = found.select_for_update(of=("self",))
    introduction = found.filter(token_hash=hash_token(token)).first() if token else None
    if introduction is None or introduction.state not in (IntroductionState.ASKED, *CONNECTED_STATES):
        raise LinkUnusable
    if introduction.state == IntroductionState.ASKED and introduction.expires_at <= now:
        raise LinkUnusable
    if not _consent_active(introduction, now):
        raise LinkUnusable
    return introduction


def _contact_of(volunteer: Volunteer) -> str:
    return ", ".join(part for part in (volunteer.first_name, volunteer.phone or volunteer.email) if part)


def answer_as_person(token: str, *, accept: bool, now: datetime.datetime | None = None) -> Introduction:
    """The person says yes or no through their link. Yes exchanges contact details: the
    volunteer's to the person (by their channel), the agreed fields to the volunteer (by e-mail),
    each a disclosure on the audit trail; nothing clinical goes either way."""
    now = _now(now)
    with transaction.atomic():
        introduction = usable_link(token, now=now, lock=True)
        introduction = _load(introduction)
        if introduction.state != IntroductionState.ASKED:
            raise IntroductionError
        person = introduction.request.referral.person
        volunteer = introduction.volunteer
        introduction.accepted_at = now
        if not accept:
            introduction.ended_at, introduction.ended_by = now, EndedBy.PERSON
            _set_state(
                None,
                introduction,
                IntroductionState.ENDED,
                now,
                fields=("accepted_at", "ended_at", "ended_by"),
                detail="declined by the person through their link",
            )
            return introduction
        address = channel_states(person, now)[Channel(introduction.channel)].address
        if not address:
            raise LinkUnusable
        _set_state(
            None,
            introduction,
            IntroductionState.CONNECTED,
            now,
            fields=("accepted_at",),
            detail="accepted by the person through their link",
        )
        sending = care.send_message(
            introduction.created_by,
            person,
            channel=introduction.channel,
            kind=MessageKind.INTRODUCTION_CONTACT,
            context={"contact": _contact_of(volunteer), "link": link_for(token)},
            language=introduction.language,
            now=now,
        )
        if sending.refusal:
            raise LinkUnusable
        how = Channel(introduction.channel).label
        with translation.override(_volunteer_language(volunteer)):
            _notify_volunteer(
                volunteer,
                _("RecoveryBridge: contact details for your introduction"),
                _(
                    "Hello %(name)s,\n\nThey said yes. Their details, to be used only to arrange "
                    "meeting up:\n\nName: %(chosen)s\nLanguage: %(language)s\nLooking for: %(looking)s\n"
                    "%(how)s: %(address)s\n\nWhen you have been to a first meeting together, please "
                    "record it: %(link)s"
                )
                % {
                    "name": volunteer.first_name,
                    "chosen": introduction.chosen_name,
                    "language": introduction.language,
                    "looking": introduction.looking_for or "-",
                    "how": how,
                    "address": address,
                    "link": outbox.absolute_url("volunteers:introduction", introduction.pk),
                },
            )
        audit.record(
            None,
            AuditAction.DISCLOSE,
            introduction,
            person=person,
            changes=audit.disclosure(
                Recipient.MEMBER,
                channel=DisclosureChannel.EMAIL,
                basis=f"consent {introduction.consent_id}",
                content="introduction: " + ", ".join(AGREED_FIELDS),
            ),
            detail="agreed fields sent to the volunteer member",
            at=now,
        )
    return introduction


def record_agreed_view(
    actor: Actor, introduction: Introduction, *, now: datetime.datetime | None = None
) -> None:
    """The volunteer's page showed the person's agreed fields (both sides said yes): a view of
    what was already disclosed to them, on the person's trail."""
    user = require(actor, "introduction.agreed", introduction, None, "see who this introduction is for")
    with transaction.atomic():
        audit.record(
            user,
            AuditAction.VIEW,
            introduction,
            person=_person_id(introduction),
            detail="agreed fields shown to the volunteer member",
            at=_now(now),
        )


def _side(user: User, introduction: Introduction) -> str | None:
    if access.can(user, "introduction.answer", introduction):
        return EndedBy.VOLUNTEER
    if access.can(user, "introduction.arrange", introduction):
        return EndedBy.WORKER
    if access.can(user, "volunteer.coordinate", introduction.volunteer):
        return EndedBy.COORDINATOR
    return None


def _end(user: User | None, introduction: Introduction, by: str, now: datetime.datetime) -> Introduction:
    if introduction.state not in (*OPEN_STATES, IntroductionState.MET):
        return introduction
    introduction.ended_at, introduction.ended_by = now, by
    _set_state(user, introduction, IntroductionState.ENDED, now, fields=("ended_at", "ended_by"))
    return introduction


def end_introduction(
    actor: Actor, introduction: Introduction, *, now: datetime.datetime | None = None
) -> Introduction:
    """Either side ends it, at any time: the volunteer, the worker, the coordinator."""
    user = signed_in(actor)
    side = _side(user, introduction)
    if side is None:
        raise deny(user, introduction, None, "end this introduction")
    now = _now(now)
    with transaction.atomic():
        introduction = _load(Introduction.objects.select_for_update().get(pk=introduction.pk))
        return _end(user, introduction, side, now)


def end_by_person(token: str, *, now: datetime.datetime | None = None) -> Introduction:
    now = _now(now)
    with transaction.atomic():
        introduction = _load(usable_link(token, now=now, lock=True))
        return _end(None, introduction, EndedBy.PERSON, now)


def end_under_revoked_consent(
    sender: Any, consent: Consent, user: User | None, now: datetime.datetime, **kwargs: Any
) -> None:
    """care.actions.consent_revoked's receiver: an introduction stops with its consent."""
    if consent.purpose != ConsentPurpose.INTRODUCTION:
        return
    for introduction in (
        Introduction.objects.select_for_update().filter(consent=consent).select_related("request__referral")
    ):
        _end(user, introduction, EndedBy.CONSENT, now)


def expire_introductions(*, now: datetime.datetime | None = None) -> int:
    """Offers nobody answered in time (volunteer or person) expire; returns how many."""
    now = _now(now)
    count = 0
    with transaction.atomic():
        due = Introduction.objects.select_for_update().filter(
            state__in=(IntroductionState.OFFERED, IntroductionState.ASKED), expires_at__lte=now
        )
        for introduction in due.select_related("request__referral"):
            introduction.ended_at = now
            _set_state(None, introduction, IntroductionState.EXPIRED, now, fields=("ended_at",))
            count += 1
    return count


def record_first_meeting(
    actor: Actor, introduction: Introduction, *, on: datetime.date, now: datetime.datetime | None = None
) -> Introduction:
    """They went to a first meeting together (told by the volunteer or the worker): the
    referral's assisted step "introduced to a member" and its milestone follow (care)."""
    user = require(
        actor, "introduction.meet", introduction, None, "record a first meeting for this introduction"
    )
    now = _now(now)
    if on > timezone.localdate(now):
        raise ValueError("a first meeting cannot be in the future")
    with transaction.atomic():
        introduction = _load(Introduction.objects.select_for_update().get(pk=introduction.pk))
        if introduction.state != IntroductionState.CONNECTED:
            raise IntroductionError
        introduction.met_on = on
        _set_state(user, introduction, IntroductionState.MET, now, fields=("met_on",))
        referral = Referral.objects.get(pk=introduction.request.referral_id)
        care.record_met_member(user, referral, on=on, now=now)
    return introduction


def _report(
    user: User | None, introduction: Introduction, text: str, now: datetime.datetime, *, by_person: bool
) -> SafetyReport:
    text = text.strip()
    if not text:
        raise ValueError("a safety report needs a few words")
    report = SafetyReport.objects.create(
        introduction=introduction, reported_by=user, by_person=by_person, text=text[:4000], reported_at=now
    )
    audit.record(
        user,
        AuditAction.CREATE,
        report,
        person=_person_id(introduction),
        changes={"note": {"new": text}},  # masked on the trail: what happened stays in the report
        at=now,
    )
    coordinators = User.objects.filter(
        memberships__role=Role.VOLUNTEER_COORDINATOR,
        memberships__team__organisation_id=introduction.volunteer.organisation_id,
        is_active=True,
    ).exclude(email="")
    # The coordinator reads it behind the sign-in: the e-mail says only that there is one.
    outbox.send_email(
        sorted({u.email for u in coordinators}),
        "RecoveryBridge: a safety report to read",
        f"A safety report about introduction {introduction.pk} is waiting: "
        + outbox.absolute_url("volunteers:reports"),
        kind=MessageKind.STAFF_REMINDER,
    )
    return report


def report_safety(
    actor: Actor, introduction: Introduction, text: str, *, now: datetime.datetime | None = None
) -> SafetyReport:
    """A concern raised by the volunteer or the worker, for the volunteer's coordinator."""
    user = require(actor, "introduction.view", introduction, None, "report on this introduction")
    with transaction.atomic():
        return _report(user, introduction, text, _now(now), by_person=False)


def report_safety_by_person(token: str, text: str, *, now: datetime.datetime | None = None) -> SafetyReport:
    now = _now(now)
    with transaction.atomic():
        introduction = _load(usable_link(token, now=now, lock=True))
        return _report(None, introduction, text, now, by_person=True)


def mark_report_handled(
    actor: Actor, report: SafetyReport, *, now: datetime.datetime | None = None
) -> SafetyReport:
    user = require(
        actor, "volunteer.coordinate", report.introduction.volunteer, None, "handle this safety report"
    )
    now = _now(now)
    with transaction.atomic():
        report = SafetyReport.objects.select_for_update().get(pk=report.pk)
        if report.handled_at is None:
            report.handled_at, report.handled_by = now, user
            report.save(update_fields=["handled_at", "handled_by"])
            audit.record(user, AuditAction.UPDATE, report, changes={"handled_at": {"new": now}}, at=now)
    return report
