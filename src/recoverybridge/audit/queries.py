"""Reading the audit trail out: the CSV every export writes (who scopes the events, and records
the export itself, is the caller's business: care exports a person's trail to their managers)."""

import csv
import json
from collections.abc import Mapping
from typing import Protocol

from django.db.models import QuerySet

from recoverybridge.audit.models import AuditEvent

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


def _cell(value: object) -> str:
    """Plain text, with spreadsheet formulas defused (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_csv(out: Writable, events: QuerySet[AuditEvent], references: Mapping[int | None, str]) -> None:
    """Write `events` as CSV in their order (select their actor and actor_organisation), each
    person named by their pseudonymous reference from `references` (their id when it has none)."""
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for event in events.iterator(chunk_size=2000):
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
