"""Messages leave only after the change that causes them commits, and a failed delivery is kept
and tried again; a reminder digest marks its items in the same transaction as its e-mail."""

import socket

import pytest
from django.core import mail
from django.db import transaction

from recoverybridge.care.models import FollowUp
from recoverybridge.care.tasks import send_follow_up_reminders
from recoverybridge.messaging import outbox
from recoverybridge.messaging.models import Message
from tests.care.test_follow_ups import refer
from tests.care_world import build_world


class Refused(Exception):
    pass


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_rolled_back_change_sends_nothing():
    with pytest.raises(Refused), transaction.atomic():
        outbox.send_email(["bob@example.org"], "Subject", "Body")
        raise Refused

    assert mail.outbox == []
    assert not Message.objects.exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_committed_change_sends_once_it_commits():
    with transaction.atomic():
        outbox.send_email(["bob@example.org"], "Subject", "Body")
        assert mail.outbox == []  # not before the commit

    assert [m.to for m in mail.outbox] == [["bob@example.org"]]
    assert Message.objects.get().sent_at is not None


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_rolled_back_reminder_run_sends_nothing_and_marks_nothing(monkeypatch):
    world = build_world()
    refer(world)
    mail.outbox.clear()

    def mark_then_fail(ids: list[int]) -> None:
        FollowUp.objects.filter(pk__in=ids).update(outcome="touched")
        raise Refused

    monkeypatch.setattr("recoverybridge.care.tasks._mark_reminded", mark_then_fail)
    with pytest.raises(Refused):
        send_follow_up_reminders.call(today="2026-03-09")

    assert mail.outbox == []
    assert not Message.objects.exists()
    assert not FollowUp.objects.filter(outcome="touched").exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_failed_delivery_stays_pending_and_is_tried_again(settings):
    # A real SMTP connection to a port nobody listens on: the mail server is down.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed_port()
    outbox.send_email(["bob@example.org"], "Subject", "Body")
    message = Message.objects.get()
    assert message.sent_at is None
    assert (message.attempts, message.last_error) == (1, "ConnectionRefusedError")

    assert outbox.deliver_pending() == 0  # not before its retry is due (MESSAGE_RETRY_SECONDS)
    Message.objects.update(not_before=None)

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert outbox.deliver_pending() == 1
    assert [m.to for m in mail.outbox] == [["bob@example.org"]]
    assert outbox.deliver_pending() == 0  # sent messages are not sent again


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_deliver_messages_command_sends_what_is_due(settings):
    from io import StringIO

    from django.core.management import call_command

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed_port()
    outbox.send_email(["bob@example.org"], "Subject", "Body")
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    out = StringIO()
    call_command("deliver_messages", stdout=out)
    assert out.getvalue() == "Delivered 0 message(s).\n"  # its retry is not due yet
    Message.objects.update(not_before=None)
    call_command("deliver_messages", stdout=out)
    assert out.getvalue().endswith("Delivered 1 message(s).\n")
    assert [m.to for m in mail.outbox] == [["bob@example.org"]]
