"""Reading the audit trail: a person's trail for their managers, and the CSV export
(which is itself written to the trail)."""

import csv
import datetime
import json
from typing import Protocol

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet

from recoverybridge.accounts import access
from recoverybridge.audit import actions
from recoverybridge.audit.models import AuditAction, AuditEvent
from recoverybridge.care.models import Person

User = AbstractBaseUser | AnonymousUser

COLUMNS = (
    "at",
    "action",
    "actor",
    "actor_organisation",
    "object_type",
    "object_id",
    "person_reference",
    "request_id",
    "remote_addr",
    "changes",
    "detail",
)


class Writable(Protocol):
    def write(self, text: str, /) -> object: ...


def person_trail(user: User, person: Person) -> QuerySet[AuditEvent]:
    """Every event about this person, newest first; for managers of the person's team only."""
    if not access.can(user, "person.audit", person):
        raise PermissionDenied("Only the team's managers may read a person's audit trail.")
    return (
        AuditEvent.objects.filter(person_id=person.pk)
        .select_related("actor", "actor_organisation")
        .order_by("-at", "-id")
    )


def events_for(user: User) -> QuerySet[AuditEvent]:
    """Events about the people of the teams the user manages."""
    people = Person.objects.filter(team__in=access.managed_teams_for(user)).values("pk")
    return AuditEvent.objects.filter(person_id__in=people)


def _cell(value: object) -> str:
    """Plain text, with spreadsheet formulas defused (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def export_csv(
    user: User,
    out: Writable,
    *,
    person: Person | None = None,
    since: datetime.datetime | None = None,
    until: datetime.datetime | None = None,
) -> int:
    """Write the audit events the user may see (one person's, or all their teams') as CSV
    to `out`, and record the export. Returns the number of rows."""
    if person is not None:
        events = person_trail(user, person)
    elif access.managed_teams_for(user).exists():
        events = events_for(user)
    else:
        raise PermissionDenied("Only managers may export the audit trail.")
    if since is not None:
        events = events.filter(at__gte=since)
    if until is not None:
        events = events.filter(at__lt=until)
    events = events.select_related("actor", "actor_organisation").order_by("at", "id")
    references: dict[int | None, str] = dict(
        Person.objects.filter(pk__in=events.values("person_id")).values_list("pk", "reference")
    )
    with transaction.atomic():
        count = events.count()
        actions.record(
            user,
            AuditAction.EXPORT,
            None,
            object_type="audit.auditevent",
            person=person,
            changes={"since": {"new": since}, "until": {"new": until}},
            detail=f"audit export, {count} events",
        )
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for event in events[:count].iterator(chunk_size=2000):
        writer.writerow(
            [
                _cell(event.at.isoformat()),
                _cell(event.action),
                _cell(event.actor.get_username() if event.actor else ""),
                _cell(event.actor_organisation.name if event.actor_organisation else ""),
                _cell(event.object_type),
                _cell(event.object_id),
                _cell(references.get(event.person_id, event.person_id)),
                _cell(event.request_id),
                _cell(event.remote_addr),
                _cell(json.dumps(event.changes, sort_keys=True) if event.changes else ""),
                _cell(event.detail),
            ]
        )
    return count
