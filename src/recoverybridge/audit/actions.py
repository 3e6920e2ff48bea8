"""Writing the audit trail. Call `record` inside the transaction of the change it describes,
so the change and its audit row are committed together or not at all. Every event is sealed
into the tamper-evident chain as it is written (audit.chain)."""

import datetime
import decimal
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser, User
from django.db import models, transaction
from django.utils import timezone

from recoverybridge.audit import chain
from recoverybridge.audit.middleware import current
from recoverybridge.audit.models import AppendOnlyError, AuditEvent
from recoverybridge.organisations.models import Organisation

# Values of these fields never enter the trail: it records that they changed, not what they were.
SENSITIVE_FIELDS = frozenset(
    {
        "given_name",
        "family_name",
        "name",
        "date_of_birth",
        "email",
        "phone",
        "contact",
        "postcode",
        "latitude",
        "longitude",
        "note",
        "notes",
        "outcome",
        "reason",
        "status_reason",
        "scope",
    }
)
MASKED = "[hidden]"


def _plain(value: Any) -> Any:
    """A JSON-safe form of a field value."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, datetime.date | datetime.time):  # datetime is a date too
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    return value


def mask(changes: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """{"field": {"old": x, "new": y}} with JSON-safe values and sensitive ones hidden."""
    masked: dict[str, dict[str, Any]] = {}
    for field, change in changes.items():
        if field in SENSITIVE_FIELDS:
            masked[field] = {"old": MASKED, "new": MASKED}
        else:
            masked[field] = {key: _plain(value) for key, value in change.items()}
    return masked


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    """Field values (foreign keys as ids) to compare before and after a change."""
    values = {}
    for name in fields:
        field = obj._meta.get_field(name)
        attname = getattr(field, "attname", name)
        values[name] = getattr(obj, attname)
    return values


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: {"old": before.get(name), "new": value}
        for name, value in after.items()
        if before.get(name) != value
    }


# The key of `changes` that marks an event as a disclosure outside the service.
DISCLOSED_TO = "disclosed_to"


def disclosure(
    recipient: str, *, channel: str, organisation: int | None = None, basis: str = "", content: str = ""
) -> dict[str, dict[str, Any]]:
    """The `changes` entry that makes an event a disclosure outside the service: to whom
    (`Recipient`, with the organisation's id when it is one), how (`DisclosureChannel`), under what
    (`basis`, e.g. "consent 7" or "request 3") and what went (`content`, a kind of record, never
    its text). Every disclosure is one event carrying it, whatever its action (a referral sent, a
    FHIR export, a Task read, a message, a copy of the record); the accounting of disclosures
    lists exactly these. Merge it into the event's other changes."""
    entry = {"recipient": recipient, "channel": channel, "organisation": organisation}
    entry.update({name: value for name, value in (("basis", basis), ("content", content)) if value})
    return {DISCLOSED_TO: {"new": entry}}


def event(
    actor: AbstractBaseUser | AnonymousUser | None,
    action: str,
    obj: models.Model | None,
    *,
    person: models.Model | int | None = None,
    changes: Mapping[str, Mapping[str, Any]] | None = None,
    detail: str = "",
    actor_organisation: Organisation | None = None,
    object_type: str = "",
    object_id: str = "",
    at: datetime.datetime | None = None,
) -> AuditEvent:
    """The audit event `record` would append, not yet saved: build several for `record_many`."""
    if person is None and obj is not None and obj._meta.label_lower == "care.person":
        person = obj
    person_id = person.pk if isinstance(person, models.Model) else person
    context = current()
    return AuditEvent(
        at=at or timezone.now(),
        actor=actor if isinstance(actor, User) else None,
        actor_organisation=actor_organisation,
        action=action,
        object_type=object_type or (obj._meta.label_lower if obj is not None else ""),
        object_id=object_id or (str(obj.pk) if obj is not None and obj.pk is not None else ""),
        person_id=person_id,
        request_id=context.request_id,
        remote_addr=context.remote_addr,
        changes=mask(changes or {}),
        detail=detail[:255],
    )


def record(
    actor: AbstractBaseUser | AnonymousUser | None,
    action: str,
    obj: models.Model | None,
    *,
    person: models.Model | int | None = None,
    changes: Mapping[str, Mapping[str, Any]] | None = None,
    detail: str = "",
    actor_organisation: Organisation | None = None,
    object_type: str = "",
    object_id: str = "",
    at: datetime.datetime | None = None,
) -> AuditEvent:
    """Append one audit event; `detail` must not contain personal data (names, notes)."""
    built = event(
        actor,
        action,
        obj,
        person=person,
        changes=changes,
        detail=detail,
        actor_organisation=actor_organisation,
        object_type=object_type,
        object_id=object_id,
        at=at,
    )
    with transaction.atomic():
        chain.seal([built])
        built.save(force_insert=True)
    return built


def record_many(events: Iterable[AuditEvent]) -> list[AuditEvent]:
    """Append events built by `event` in one INSERT (a list page audits every row it shows).
    The rows are those `record` would write one by one, sealed into the chain in the same order
    (no signal fires on insert; the database triggers refuse only UPDATE and DELETE). Give the
    events one `at` for one read. All are written or none; they come back with ids."""
    built = list(events)
    if any(item.pk is not None for item in built):
        raise AppendOnlyError("audit events cannot be changed")
    if not built:
        return []
    with transaction.atomic():
        chain.seal(built)
        return AuditEvent.objects.bulk_create(built)
