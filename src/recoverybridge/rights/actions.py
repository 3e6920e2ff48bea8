"""Every change to requests about records and to legal holds: one function each, one transaction
each, starting with `require` and writing the audit row in the same transaction (as care.actions).

Who does what: anyone on the person's care team records a request (the worker the person asked);
the team's managers answer it (produce the copy and decide what is withheld, make or refuse a
correction, erase or refuse to), extend it, and place or lift a legal hold. A change to the record
itself goes through care.actions (a correction through `update_person`, an erasure through
rights.retention and `erase_person`), so it is audited there as any other.

Pass `now=` to control the clock; it defaults to the current time.
"""

import datetime
import hashlib
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from recoverybridge.accounts.actors import Actor, require
from recoverybridge.audit import actions as audit
from recoverybridge.audit.models import AuditAction, DisclosureChannel, Recipient
from recoverybridge.care import actions as care
from recoverybridge.care.models import Person
from recoverybridge.care.takeaway import language_for
from recoverybridge.outcomes.actions import add_months
from recoverybridge.rights import queries, retention
from recoverybridge.rights.copy import copy_pdf, record_copy
from recoverybridge.rights.errors import (
    ExtendedAlready,
    HeldAlready,
    NothingCorrected,
    NothingDelivered,
    RecordGone,
    RequestClosed,
    TooLateToExtend,
    UnderLegalHold,
)
from recoverybridge.rights.fhir import record_bundle
from recoverybridge.rights.models import (
    ErasureGround,
    LegalHold,
    ReplyChannel,
    RequestKind,
    RequestOutcome,
    RightsRequest,
)
from recoverybridge.rights.notices import Notice, tell

# The formats of a copy of the record, and what each disclosure event calls it.
COPY_FORMATS = {"pdf": "record-pdf", "fhir": "record-fhir"}


class OtherRequestsOpen(ValueError):
    """An erasure waits until the person's other open requests are answered (a copy they asked
    for first would otherwise be lost)."""


def _now(now: datetime.datetime | None) -> datetime.datetime:
    return now or timezone.now()


# ---------------------------------------------------------------- deadlines


def due_on(received: datetime.date) -> datetime.date:
    """One calendar month after receipt (UK GDPR Art. 12(3); the month's last day when the date
    does not exist), and no later than RIGHTS_DEADLINES["max_days"] after it (HIPAA: 30 days)."""
    rules = settings.RIGHTS_DEADLINES
    due = add_months(received, rules["months"])
    if rules["max_days"]:
        due = min(due, received + datetime.timedelta(days=rules["max_days"]))
    return due


def extended_due_on(received: datetime.date, due: datetime.date) -> datetime.date:
    """At most two further months (UK GDPR Art. 12(3)), and no more than one extension of
    RIGHTS_DEADLINES["extension_max_days"] (HIPAA: 30 days)."""
    rules = settings.RIGHTS_DEADLINES
    later = add_months(received, rules["months"] + rules["extension_months"])
    if rules["extension_max_days"]:
        later = min(later, due + datetime.timedelta(days=rules["extension_max_days"]))
    return later


# ---------------------------------------------------------------- requests


def record_request(
    actor: Actor,
    person: Person,
    *,
    kind: str,
    received_on: datetime.date,
    details: str = "",
    reply_by: str = ReplyChannel.IN_PERSON,
    language: str | None = None,
    now: datetime.datetime | None = None,
) -> RightsRequest:
    """Record a request the person made (in person, by phone, letter or e-mail: any way counts)
    on `received_on`; it is due a month later. When they asked to be told by e-mail, they are told
    it arrived and when it will be answered."""
    user = require(actor, "person.change", person, person, "record a request about this person's record")
    now = _now(now)
    if kind not in RequestKind.values:
        raise ValueError(f"unknown kind of request {kind!r}")
    if reply_by not in ReplyChannel.values:
        raise ValueError(f"unknown way to reply {reply_by!r}")
    if received_on > timezone.localdate(now):
        raise ValueError("a request cannot be received in the future")
    with transaction.atomic():
        request = RightsRequest.objects.create(
            team=person.team,
            person=person,
            subject_id=person.pk,
            kind=kind,
            received_on=received_on,
            due_on=due_on(received_on),
            details=details,
            reply_by=reply_by,
            language=language_for(language or person.preferred_language),
            recorded_by=user,
            recorded_at=now,
        )
        audit.record(
            user,
            AuditAction.CREATE,
            request,
            person=person,
            changes=audit.diff({}, audit.snapshot(request, ("kind", "received_on", "due_on", "reply_by"))),
            at=now,
        )
        tell(request, Notice.RECEIVED, actor=user, now=now)
    return request


def _open(request: RightsRequest, kind: str | None = None) -> RightsRequest:
    """The request, locked, if it is still open (and of `kind`); RequestClosed otherwise."""
    # Lock the request's own row: PostgreSQL cannot lock the outer-joined (maybe erased) person.
    locked = (
        RightsRequest.objects.select_for_update(of=("self",))
        .select_related("person__team__organisation")
        .get(pk=request.pk)
    )
    if not locked.is_open:
        raise RequestClosed("This request has been answered already.")
    if kind is not None and locked.kind != kind:
        raise ValueError(f"this is not a request of kind {kind}")
    return locked


def _answered(
    request: RightsRequest, user: Any, outcome: str, now: datetime.datetime, **changes: Any
) -> RightsRequest:
    """Close the request with `outcome`, audit it, and tell the person if they asked to be told."""
    request.outcome = outcome
    request.answered_by = user
    request.answered_at = now
    request.save()
    audit.record(
        user,
        AuditAction.UPDATE,
        request,
        person=request.subject_id,
        changes={"outcome": {"old": RequestOutcome.OPEN, "new": outcome}, **changes},
        at=now,
    )
    tell(request, Notice.ANSWERED, actor=user, now=now)
    return request


def extend_request(
    actor: Actor, request: RightsRequest, *, reason: str, now: datetime.datetime | None = None
) -> RightsRequest:
    """Give the answer more time, once, with a reason the person is told (it must be decided
    before the answer is due)."""
    user = require(actor, "rightsrequest.manage", request, request.person, "extend this request")
    now = _now(now)
    if not reason.strip():
        raise ValueError("say why the answer needs more time")
    with transaction.atomic():
        request = _open(request)
        if request.extension_reason:
            raise ExtendedAlready("this request has been extended already")
        if timezone.localdate(now) > request.due_on:
            raise TooLateToExtend("the answer was due already: it can no longer be extended")
        old = request.due_on
        request.due_on = extended_due_on(request.received_on, old)
        request.extension_reason = reason.strip()
        request.save(update_fields=["due_on", "extension_reason"])
        audit.record(
            user,
            AuditAction.UPDATE,
            request,
            person=request.subject_id,
            changes={"due_on": {"old": old, "new": request.due_on}, "reason": {"old": "", "new": reason}},
            at=now,
        )
        tell(request, Notice.EXTENDED, actor=user, now=now)
    return request


def refuse_request(
    actor: Actor, request: RightsRequest, *, reason: str, now: datetime.datetime | None = None
) -> RightsRequest:
    """Refuse, with the reason the person is given (and told they may complain to the regulator)."""
    user = require(actor, "rightsrequest.manage", request, request.person, "answer this request")
    now = _now(now)
    if not reason.strip():
        raise ValueError("say why the request is refused")
    with transaction.atomic():
        request = _open(request)
        request.answer = reason.strip()
        return _answered(request, user, RequestOutcome.REFUSED, now, reason={"old": "", "new": reason})


# ---------------------------------------------------------------- access


def withhold_notes(
    actor: Actor,
    request: RightsRequest,
    *,
    contact_ids: list[int],
    reason: str,
    now: datetime.datetime | None = None,
) -> RightsRequest:
    """Decide which contact notes the copy withholds under the serious-harm exemption (rights.copy),
    with the professional's reason; an empty list withholds none."""
    user = require(actor, "rightsrequest.manage", request, request.person, "answer this request")
    now = _now(now)
    with transaction.atomic():
        request = _open(request, RequestKind.ACCESS)
        if request.person is None:
            raise RecordGone
        ids = sorted(set(contact_ids))
        if len(ids) != request.person.contacts.filter(pk__in=ids).count():
            raise ValueError("those notes are not all this person's")
        if ids and not reason.strip():
            raise ValueError("say why the notes are withheld")
        old = request.withheld_contacts
        request.withheld_contacts = ids
        request.withholding_reason = reason.strip() if ids else ""
        request.save(update_fields=["withheld_contacts", "withholding_reason"])
        audit.record(
            user,
            AuditAction.UPDATE,
            request,
            person=request.subject_id,
            changes={"withheld_contacts": {"old": old, "new": ids}, "reason": {"old": "", "new": reason}},
            at=now,
        )
    return request


def disclose_copy(
    actor: Actor, request: RightsRequest, *, form: str, now: datetime.datetime | None = None
) -> bytes:
    """A copy of the record for the person, as a PDF (`form="pdf"`) or a FHIR Bundle ("fhir"),
    minus what is withheld; each copy made is one disclosure to the person in the audit trail (with
    its SHA-256, so what was given can be proved without keeping a second copy)."""
    user = require(actor, "rightsrequest.manage", request, request.person, "give a copy of this record")
    if form not in COPY_FORMATS:
        raise ValueError(f"unknown format {form!r}")
    now = _now(now)
    # As it stands now (what is withheld may have just changed), not as the caller loaded it.
    request = RightsRequest.objects.select_related("person__team__organisation").get(pk=request.pk)
    if request.kind != RequestKind.ACCESS or not request.is_open:
        raise RequestClosed("Copies are given for an open access request.")
    if request.person is None:
        raise RecordGone
    copy = record_copy(request, now=now)
    content = copy_pdf(copy) if form == "pdf" else record_bundle(copy).model_dump_json(indent=2).encode()
    with transaction.atomic():
        request = _open(request, RequestKind.ACCESS)
        audit.record(
            user,
            AuditAction.DISCLOSE,
            request,
            person=request.subject_id,
            changes=audit.disclosure(
                Recipient.PERSON,
                channel=DisclosureChannel.COPY,
                basis=f"request {request.pk}",
                content=COPY_FORMATS[form],
            )
            | {"sha256": {"old": None, "new": hashlib.sha256(content).hexdigest()}},
            detail=f"copy of the record ({form}) for the person",
            at=now,
        )
    return content


def complete_access(
    actor: Actor, request: RightsRequest, *, answer: str = "", now: datetime.datetime | None = None
) -> RightsRequest:
    """The copy was given: close the request (a copy must have been made)."""
    user = require(actor, "rightsrequest.manage", request, request.person, "answer this request")
    now = _now(now)
    with transaction.atomic():
        request = _open(request, RequestKind.ACCESS)
        if not queries.copies_disclosed(request):
            raise NothingDelivered("Make the copy first: the request is answered by it.")
        request.answer = answer.strip()
        return _answered(request, user, RequestOutcome.GRANTED, now)


# ---------------------------------------------------------------- correction


def accept_correction(
    actor: Actor,
    request: RightsRequest,
    *,
    fields: dict[str, Any],
    answer: str = "",
    now: datetime.datetime | None = None,
) -> RightsRequest:
    """Make the correction: the person's details through care's `update_person` (audited there),
    anything else through care's own pages, said in `answer`. The request keeps which fields
    changed and what was done; the person's words stay with it."""
    user = require(actor, "rightsrequest.manage", request, request.person, "answer this request")
    now = _now(now)
    with transaction.atomic():
        request = _open(request, RequestKind.CORRECTION)
        person = request.person
        if person is None:
            raise RecordGone
        before = audit.snapshot(person, fields)
        person = care.update_person(user, person, now=now, **fields)
        changed = sorted(
            name for name, value in audit.snapshot(person, fields).items() if value != before[name]
        )
        if not changed and not answer.strip():
            raise NothingCorrected("nothing was changed: say what was corrected, or refuse with a reason")
        request.changed_fields = changed
        request.answer = answer.strip()
        return _answered(
            request,
            user,
            RequestOutcome.GRANTED,
            now,
            changed_fields={"old": [], "new": changed},
        )


# ---------------------------------------------------------------- erasure


def accept_erasure(
    actor: Actor, request: RightsRequest, *, ground: str, now: datetime.datetime | None = None
) -> RightsRequest:
    """Erase the person's record on their request, on a ground of UK GDPR Article 17(1), through
    the retention path (rights.retention.erase). Refused while a legal hold is on it, or while
    another of their requests is open. The person is told (if they asked) before the address goes."""
    user = require(actor, "rightsrequest.manage", request, request.person, "answer this request")
    now = _now(now)
    if ground not in ErasureGround.values:
        raise ValueError(f"unknown ground {ground!r}")
    with transaction.atomic():
        request = _open(request, RequestKind.ERASURE)
        person = request.person
        if person is None:
            raise RecordGone
        if retention.under_hold(person):
            raise UnderLegalHold
        others = RightsRequest.objects.filter(person=person, outcome=RequestOutcome.OPEN).exclude(
            pk=request.pk
        )
        if others.exists():
            raise OtherRequestsOpen
        request.erasure_ground = ground
        request.details = ""
        _answered(request, user, RequestOutcome.GRANTED, now, erasure_ground={"old": "", "new": ground})
        retention.erase(person, actor=user, detail=f"erased on request {request.pk} ({ground})", now=now)
        request.person = None
    return request


# ---------------------------------------------------------------- legal holds


def place_hold(
    actor: Actor, person: Person, *, reason: str, now: datetime.datetime | None = None
) -> LegalHold:
    """Keep the record as it is (no anonymisation, no erasure) until the hold is lifted: for a
    claim, an inquiry or an investigation. One hold at a time."""
    user = require(actor, "person.audit", person, person, "place a legal hold on this record")
    now = _now(now)
    if not reason.strip():
        raise ValueError("say why the record must be kept")
    with transaction.atomic():
        Person.objects.select_for_update().filter(pk=person.pk).first()
        if queries.active_hold(person) is not None:
            raise HeldAlready("this record is under a legal hold already")
        hold = LegalHold.objects.create(person=person, reason=reason.strip(), placed_by=user, placed_at=now)
        audit.record(
            user,
            AuditAction.CREATE,
            hold,
            person=person,
            changes={"reason": {"old": "", "new": reason}},
            at=now,
        )
    return hold


def lift_hold(actor: Actor, hold: LegalHold, *, now: datetime.datetime | None = None) -> LegalHold:
    user = require(actor, "person.audit", hold.person, hold.person, "lift this legal hold")
    now = _now(now)
    with transaction.atomic():
        hold = LegalHold.objects.select_for_update().get(pk=hold.pk)
        if hold.lifted_at is None:
            hold.lifted_at, hold.lifted_by = now, user
            hold.save(update_fields=["lifted_at", "lifted_by"])
            audit.record(
                user,
                AuditAction.UPDATE,
                hold,
                person=hold.person_id,
                changes={"lifted_at": {"old": None, "new": now}},
                at=now,
            )
    return hold
