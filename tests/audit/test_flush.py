"""`flush` works on a database of any age: with the audit trigger in place, and before the audit
table exists (a database migrated only part of the way, as a benchmark's old file may be)."""

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection

from recoverybridge.audit.models import AuditEvent
from recoverybridge.directory.models import Fellowship


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_flush_empties_a_database_whose_audit_table_is_append_only():
    AuditEvent.objects.create(at="2026-01-01T00:00:00Z", action="view", object_type="person")

    call_command("flush", interactive=False, verbosity=0)

    assert AuditEvent.objects.count() == 0
    AuditEvent.objects.create(at="2026-01-01T00:00:00Z", action="view", object_type="person")
    with pytest.raises(DatabaseError, match="append-only"), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent")  # below the ORM: the trigger is back


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the trigger is lifted only on SQLite")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_flush_before_the_audit_table_exists():
    call_command("migrate", "audit", "zero", verbosity=0)
    try:
        call_command("flush", interactive=False, verbosity=0)
        assert Fellowship.objects.count() == 0
    finally:
        call_command("migrate", verbosity=0)
