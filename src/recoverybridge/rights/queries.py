"""The read side of rights: a person's requests and holds, the work queue's open requests, and the
accounting of disclosures (from the audit trail). Scoped with `restrict` like every staff read."""

import datetime
from dataclasses import dataclass

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from recoverybridge.accounts import access
from recoverybridge.accounts.actors import deny
from recoverybridge.audit.actions import DISCLOSED_TO
from recoverybridge.audit.models import AuditEvent, DisclosureChannel, Recipient
from recoverybridge.care.models import Contact, Person
from recoverybridge.organisations.models import Organisation
from recoverybridge.rights.models import LegalHold, RequestOutcome, RightsRequest

User = AbstractBaseUser | AnonymousUser

QUEUE_ROWS = 200


def requests_of(person: Person) -> list[RightsRequest]:
    return list(
        RightsRequest.objects.filter(person=person)
        .select_related("recorded_by", "answered_by")
        .order_by("-received_on", "-pk")
    )


def request_in_scope(user: User, request_id: int) -> RightsRequest | None:
    """A request the user may see (its team is one of theirs); None otherwise, like a missing one."""
    return (
        RightsRequest.objects.restrict(user)
        .select_related("person__team__organisation", "team__organisation", "recorded_by", "answered_by")
        .filter(pk=request_id)
        .first()
    )


def open_requests(user: User) -> QuerySet[RightsRequest]:
    """Open requests of the user's teams, the soonest due first (the work queue's panel)."""
    return (
        RightsRequest.objects.restrict(user)
        .filter(outcome=RequestOutcome.OPEN)
        .select_related("person")
        .order_by("due_on", "pk")
    )


def holds_of(person: Person) -> list[LegalHold]:
    return list(person.legal_holds.select_related("placed_by", "lifted_by").order_by("-placed_at", "-pk"))


def active_hold(person: Person) -> LegalHold | None:
    return person.legal_holds.filter(lifted_at__isnull=True).first()


def hold_of(person: Person, hold_id: int) -> LegalHold | None:
    return person.legal_holds.filter(pk=hold_id).first()


def notes_of(person: Person) -> list[Contact]:
    """The person's contact notes, newest first: what a manager weighs before giving a copy."""
    return list(person.contacts.exclude(note="").select_related("worker").order_by("-at", "-pk"))


def copies_disclosed(request: RightsRequest) -> list[AuditEvent]:
    """The copies of the record given for this access request (one DISCLOSE event each)."""
    return list(
        AuditEvent.objects.filter(
            person_id=request.subject_id,  # the index; the trail is long
            object_type="rights.rightsrequest",
            object_id=str(request.pk),
            **{f"changes__{DISCLOSED_TO}__new__channel": DisclosureChannel.COPY},
        )
        .select_related("actor")
        .order_by("at", "id")
    )


# ---------------------------------------------------------------- accounting of disclosures

CONTENT = {
    "referral": gettext_lazy("A referral: what it is for, its status and a pseudonymous reference"),
    "introduction": gettext_lazy("The person's name, and that they are looking for support"),
    "record-pdf": gettext_lazy("A copy of the record (PDF)"),
    "record-fhir": gettext_lazy("A copy of the record (FHIR)"),
    "notice-received": gettext_lazy("A notice that a request was received"),
    "notice-extended": gettext_lazy("A notice that a request needs more time"),
    "notice-answered": gettext_lazy("A notice that a request was answered"),
}


@dataclass(frozen=True)
class Disclosure:
    at: datetime.datetime
    recipient: str
    channel: str
    content: str
    basis: str
    by: str


def _basis(code: str) -> str:
    kind, _space, number = code.partition(" ")
    if kind == "consent":
        return _("Consent no. %(number)s") % {"number": number}
    if kind == "request":
        return _("Request no. %(number)s") % {"number": number}
    return code


def disclosures(
    person_id: int, *, since: datetime.datetime | None = None, until: datetime.datetime | None = None
) -> list[Disclosure]:
    """Every disclosure of the person's record outside the service in [since, until), oldest first:
    the audit events that carry `audit.actions.disclosure` (two queries however many there are).
    Labels are in the active language."""
    events = AuditEvent.objects.filter(person_id=person_id, changes__has_key=DISCLOSED_TO)
    if since is not None:
        events = events.filter(at__gte=since)
    if until is not None:
        events = events.filter(at__lt=until)
    rows = list(events.select_related("actor", "actor_organisation").order_by("at", "id"))
    entries = [row.changes[DISCLOSED_TO]["new"] for row in rows]
    names = dict(
        Organisation.objects.filter(pk__in={e.get("organisation") for e in entries} - {None}).values_list(
            "pk", "name"
        )
    )
    found = []
    for row, entry in zip(rows, entries, strict=True):
        organisation = entry.get("organisation")
        recipient = entry.get("recipient", "")
        if recipient == Recipient.ORGANISATION and organisation in names:
            shown = names[organisation]
        else:
            shown = str(Recipient(recipient).label) if recipient in Recipient.values else recipient
        channel = entry.get("channel", "")
        content = entry.get("content", "")
        if row.actor is not None:
            by = row.actor.get_full_name() or row.actor.get_username()
        else:
            by = row.actor_organisation.name if row.actor_organisation else _("RecoveryBridge")
        found.append(
            Disclosure(
                at=row.at,
                recipient=shown,
                channel=str(DisclosureChannel(channel).label)
                if channel in DisclosureChannel.values
                else channel,
                content=str(CONTENT[content]) if content in CONTENT else content,
                basis=_basis(entry.get("basis", "")),
                by=by,
            )
        )
    return found


def person_disclosures(
    user: User, person: Person, *, since: datetime.datetime | None, until: datetime.datetime | None
) -> list[Disclosure]:
    """The accounting of disclosures, for the managers of the person's team (it is read from the
    audit trail, which only they may read)."""
    if not access.can(user, "person.audit", person):
        raise deny(user, person, person, "read the accounting of disclosures")
    return disclosures(person.pk, since=since, until=until)
