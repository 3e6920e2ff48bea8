"""The daily audit check runs on the real task queue and tells the people responsible when the
chain is broken, with where and nothing about the person."""

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.core.management import call_command

from recoverybridge.audit.actions import record
from recoverybridge.audit.models import AuditAction
from recoverybridge.operations.tasks import verify_audit_chain
from tests.audit.test_chain import as_superuser

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def run_worker() -> None:
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)


def test_a_broken_chain_is_reported_to_the_administrators():
    User.objects.create_superuser("ada", "ada@example.org", "a long admin passphrase")
    User.objects.create_user("bob", "bob@example.org")  # a worker: not told
    events = [
        record(None, AuditAction.VIEW, None, object_type="care.person", object_id="7") for _ in range(3)
    ]
    as_superuser("UPDATE audit_auditevent SET object_id = %s WHERE id = %s", ["8", events[1].id])
    mail.outbox.clear()

    verify_audit_chain.enqueue()
    run_worker()

    (message,) = mail.outbox
    assert message.to == ["ada@example.org"]
    assert "tampered" in message.subject
    assert f"event 2 (id {events[1].id})" in message.body


def test_an_intact_chain_tells_nobody():
    User.objects.create_superuser("ada", "ada@example.org", "a long admin passphrase")
    record(None, AuditAction.VIEW, None, object_type="care.person", object_id="7")
    mail.outbox.clear()
    verify_audit_chain.enqueue()
    run_worker()
    assert mail.outbox == []
