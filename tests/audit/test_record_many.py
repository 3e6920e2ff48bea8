"""A page that lists many records audits each of them in one INSERT (`record_many`): the rows
are the ones `record` writes one at a time, field for field, and they are as append-only."""

from datetime import UTC, datetime

import pytest
from django.db import DatabaseError, connection, transaction
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from recoverybridge.audit import actions as audit
from recoverybridge.audit.middleware import AuditContextMiddleware
from recoverybridge.audit.models import AppendOnlyError, AuditAction, AuditEvent

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
# Every field but the row's id and its place in the chain (seq, seal), which follow the order of
# writing; tests/audit/test_chain.py checks those.
FIELDS = [
    field.attname for field in AuditEvent._meta.concrete_fields if field.attname not in ("id", "seq", "seal")
]


def row(event):
    return {name: getattr(event, name) for name in FIELDS}


def in_request(view, request_id="req-1", address="192.0.2.7"):
    """Run `view` inside a request as the middleware sets it up (request id, client address)."""
    request = RequestFactory().get("/", HTTP_X_REQUEST_ID=request_id, REMOTE_ADDR=address)
    AuditContextMiddleware(lambda r: view() or HttpResponse("ok"))(request)


def calls(world):
    """Audit calls of every kind a list could make: user or organisation as actor, a person as
    the object or named apart, changes with a sensitive field, a detail longer than the column."""
    return [
        (world.bob, AuditAction.VIEW, world.pat, {"detail": "caseload"}),
        (world.bob, AuditAction.VIEW, world.quinn, {}),
        (
            None,
            AuditAction.VIEW,
            world.detox,
            {"person": world.rowan.pk, "actor_organisation": world.bridge, "detail": "x" * 300},
        ),
        (
            world.alice,
            AuditAction.EXPORT,
            None,
            {
                "object_type": "audit.auditevent",
                "person": world.pat,
                "changes": {"email": {"old": "a@b", "new": "c@d"}, "since": {"new": NOW}},
            },
        ),
    ]


def test_record_many_writes_what_record_writes_field_for_field(world):
    one_by_one, together = [], []

    def write_one_by_one():
        for actor, action, obj, extra in calls(world):
            one_by_one.append(audit.record(actor, action, obj, at=NOW, **extra))

    def write_together():
        together.extend(
            audit.record_many(
                audit.event(actor, action, obj, at=NOW, **extra) for actor, action, obj, extra in calls(world)
            )
        )

    in_request(write_one_by_one)
    in_request(write_together)

    assert len(together) == len(one_by_one) == 4
    # As returned, and as read back from the database.
    assert [row(event) for event in together] == [row(event) for event in one_by_one]
    stored = {event.pk: row(event) for event in AuditEvent.objects.all()}
    assert all(event.pk is not None for event in together)
    assert [stored[event.pk] for event in together] == [stored[event.pk] for event in one_by_one]
    # The request context and the masking apply to both.
    assert stored[together[0].pk]["request_id"] == "req-1"
    assert stored[together[0].pk]["remote_addr"] == "192.0.2.7"
    assert stored[together[3].pk]["changes"]["email"] == {"old": "[hidden]", "new": "[hidden]"}
    assert len(stored[together[2].pk]["detail"]) == 255


def test_record_many_is_one_insert_however_many_events(world):
    people = [world.pat, world.quinn, world.rowan] * 20
    with CaptureQueriesContext(connection) as queries:
        written = audit.record_many(audit.event(world.bob, AuditAction.VIEW, p, at=NOW) for p in people)
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 1
    assert len(written) == AuditEvent.objects.count() == 60
    assert len({event.pk for event in written}) == 60


def test_nothing_to_record_is_no_query(world):
    with CaptureQueriesContext(connection) as queries:
        assert audit.record_many([]) == []
    assert queries.captured_queries == []


def test_events_written_together_are_append_only_too(world):
    written = audit.record_many(audit.event(world.bob, AuditAction.VIEW, p) for p in (world.pat, world.quinn))
    with pytest.raises(AppendOnlyError):
        audit.record_many(written)  # saved events cannot be written again
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=written[0].pk).update(detail="edited")
    for sql in ("UPDATE audit_auditevent SET detail = 'edited'", "DELETE FROM audit_auditevent"):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)
    assert sorted(AuditEvent.objects.values_list("detail", flat=True)) == ["", ""]


def test_nothing_is_written_when_the_surrounding_change_fails(world):
    with pytest.raises(RuntimeError), transaction.atomic():
        audit.record_many(audit.event(world.bob, AuditAction.VIEW, p) for p in (world.pat, world.quinn))
        raise RuntimeError("the change failed")
    assert not AuditEvent.objects.exists()
