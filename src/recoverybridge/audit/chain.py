"""The audit trail as a tamper-evident chain.

Each event is sealed with HMAC-SHA256(key, previous seal + the event's canonical form), and
numbered. Changing, deleting or inserting an event anywhere breaks every seal after it, and
the key (AUDIT_CHAIN_KEY, from the environment; never in the database) is needed to forge
new seals, so even a database superuser who lifts the append-only trigger and rewrites a row
cannot hide it. `verify` walks the chain and names the first broken link.
"""

import datetime
import hashlib
import hmac
import ipaddress
import json
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from recoverybridge.audit.models import AuditEvent, ChainHead

CHUNK = 5000


def _key() -> bytes:
    return hashlib.sha256(b"recoverybridge-audit-chain:" + settings.AUDIT_CHAIN_KEY.encode()).digest()


def canonical(event: AuditEvent) -> bytes:
    """The event's stored fields in one fixed form (as they read back from the database)."""
    address = str(ipaddress.ip_address(event.remote_addr)) if event.remote_addr else ""
    fields = [
        event.seq,
        event.at.astimezone(datetime.UTC).isoformat() if event.at else None,
        event.actor_id,
        event.actor_organisation_id,
        event.action,
        event.object_type,
        event.object_id,
        event.person_id,
        event.request_id,
        address,
        event.changes,
        event.detail,
    ]
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str).encode()


def _sealed(previous: str, event: AuditEvent) -> str:
    return hmac.new(_key(), previous.encode() + canonical(event), hashlib.sha256).hexdigest()


def seal(events: list[AuditEvent]) -> None:
    """Number and seal unsaved events, in order, after the chain's head; the caller saves them in
    the same transaction (the head is locked until it commits)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit events are sealed inside the transaction that saves them")
    head, _created = ChainHead.objects.select_for_update().get_or_create(pk=1)
    for event in events:
        head.seq += 1
        event.seq = head.seq
        event.seal = head.seal = _sealed(head.seal, event)
    head.save()


@dataclass(frozen=True)
class Verdict:
    checked: int
    unchained_before: int  # events written before the chain began
    broken_at: int | None  # the seq of the first broken link
    event_id: int | None
    reason: str

    @property
    def intact(self) -> bool:
        return self.broken_at is None


def _chained() -> Iterator[AuditEvent]:
    last = 0
    while True:
        batch = list(AuditEvent.objects.filter(seq__gt=last).order_by("seq")[:CHUNK])
        if not batch:
            return
        yield from batch
        last = batch[-1].seq or last


def verify() -> Verdict:
    """Walk the chain from its start: every seal recomputed, numbers without gap, no unsealed
    event after the chain began, and the head at the last event."""
    first = AuditEvent.objects.filter(seq__isnull=False).order_by("seq").values_list("id", flat=True).first()
    before = AuditEvent.objects.filter(seq__isnull=True)
    unchained_before = before.filter(id__lt=first).count() if first is not None else before.count()
    previous, expected, checked = "", 1, 0
    for event in _chained():
        if event.seq != expected:
            return Verdict(checked, unchained_before, expected, event.id, f"event {expected} is missing")
        if not hmac.compare_digest(event.seal or "", _sealed(previous, event)):
            return Verdict(
                checked, unchained_before, event.seq, event.id, "the event or its seal was changed"
            )
        previous, expected, checked = event.seal or "", expected + 1, checked + 1
    if first is not None:
        stray = before.filter(id__gt=first).order_by("id").first()
        if stray is not None:
            return Verdict(checked, unchained_before, expected, stray.id, "an unsealed event was inserted")
    head = ChainHead.objects.filter(pk=1).first()
    if head is not None and (head.seq, head.seal) != (checked, previous):
        return Verdict(checked, unchained_before, checked + 1, None, "events after the last one were removed")
    return Verdict(checked, unchained_before, None, None, "intact")
