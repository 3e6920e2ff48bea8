"""Texts through Twilio's REST API, against a local server that answers as Twilio does
(tests/messaging/twilio_server.py): accepted, refused for good, refused for now, too slow, or
not there at all. What Twilio says goes no further than its code: its messages echo the number."""

import datetime
import socket

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from recoverybridge.messaging import optout, outbox
from recoverybridge.messaging.models import Message, MessageKind
from tests.messaging.twilio_server import ACCOUNT_SID, AUTH_TOKEN, FROM_NUMBER, twilio  # noqa: F401  (fixture)

NUMBER = "+447911123456"


def send(capture) -> Message:
    with capture(execute=True):
        message = outbox.send_sms(
            NUMBER, "Your private link: https://example.org/q/abc/", kind="questionnaire_link"
        )
    message.refresh_from_db()
    return message


def retries() -> list[DBTaskResult]:
    return list(
        DBTaskResult.objects.filter(task_path="recoverybridge.messaging.tasks.deliver_pending_messages")
    )


@pytest.mark.django_db
def test_an_accepted_text(twilio, django_capture_on_commit_callbacks):  # noqa: F811
    message = send(django_capture_on_commit_callbacks)

    [request] = twilio.received
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert request.credentials == f"{ACCOUNT_SID}:{AUTH_TOKEN}"
    assert request.form == {
        "To": NUMBER,
        "From": FROM_NUMBER,
        "Body": "Your private link: https://example.org/q/abc/",
    }
    assert message.state == "sent" and message.attempts == 1
    assert message.provider_id.startswith("SM") and len(message.provider_id) == 34
    # Sent: the body (and the single-use link in it) is not kept.
    assert message.body == ""
    assert retries() == []


@pytest.mark.django_db
def test_a_messaging_service_sends_in_place_of_a_number(twilio, settings, django_capture_on_commit_callbacks):  # noqa: F811
    settings.DEFAULT_FROM_SMS = "MG" + "2" * 32
    send(django_capture_on_commit_callbacks)
    assert twilio.received[0].form["MessagingServiceSid"] == "MG" + "2" * 32
    assert "From" not in twilio.received[0].form


@pytest.mark.django_db
def test_a_number_twilio_refuses_is_given_up_without_the_number_in_our_records(
    twilio,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    twilio.refuse(400, 21211)
    message = send(django_capture_on_commit_callbacks)
    assert message.state == "failed" and message.failed_at is not None
    assert message.last_error == "Twilio 21211 (HTTP 400)"
    assert NUMBER not in message.last_error and message.body == ""
    assert retries() == []  # tried once: sending it again would not help
    assert outbox.deliver_pending() == 0


@pytest.mark.django_db
def test_wrong_credentials_are_a_refusal(twilio, settings, django_capture_on_commit_callbacks):  # noqa: F811
    settings.TWILIO_AUTH_TOKEN = "not-the-token"
    message = send(django_capture_on_commit_callbacks)
    assert (message.state, message.last_error) == ("failed", "Twilio 20003 (HTTP 401)")


@pytest.mark.django_db
def test_twilios_own_stop_list_becomes_ours(twilio, django_capture_on_commit_callbacks):  # noqa: F811
    """21610: the person replied STOP to Twilio (its Advanced Opt-Out answered them). We record
    the opt-out too, so no later send even tries."""
    twilio.refuse(400, 21610)
    message = send(django_capture_on_commit_callbacks)
    assert message.state == "failed" and message.last_error == "Twilio 21610 (HTTP 400)"
    assert optout.is_opted_out(NUMBER)
    later = send(django_capture_on_commit_callbacks)
    assert (later.state, later.last_error) == ("failed", "the number replied STOP")
    assert len(twilio.received) == 1


@pytest.mark.django_db
@pytest.mark.parametrize(("status", "code"), [(500, 20500), (503, 20503), (429, 20429)])
def test_a_passing_error_stays_pending_with_a_retry_queued(
    twilio,  # noqa: F811
    status,
    code,
    django_capture_on_commit_callbacks,
):
    twilio.refuse(status, code)
    before = timezone.now()
    message = send(django_capture_on_commit_callbacks)
    assert message.state == "pending" and message.attempts == 1
    assert message.last_error == f"Twilio {code} (HTTP {status})"
    assert message.body.startswith("Your private link")  # kept to try again
    # Not before the first wait (MESSAGE_RETRY_SECONDS), and the worker is asked to come back then.
    assert message.not_before >= before + datetime.timedelta(seconds=60)
    [retry] = retries()
    assert retry.run_after == message.not_before
    assert outbox.deliver_pending() == 0  # not due yet


@pytest.mark.django_db
def test_a_slow_provider_is_left_to_the_worker(twilio, django_capture_on_commit_callbacks):  # noqa: F811
    twilio.hang(3)  # SMS_TIMEOUT_SECONDS is 0.5 here
    started = timezone.now()
    message = send(django_capture_on_commit_callbacks)
    assert timezone.now() - started < datetime.timedelta(seconds=2.5)  # the page did not wait it out
    assert (message.state, message.last_error) == ("pending", "Twilio timed out")
    assert len(retries()) == 1


@pytest.mark.django_db
def test_no_provider_at_all(twilio, settings, django_capture_on_commit_callbacks):  # noqa: F811
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        settings.TWILIO_API_URL = f"http://127.0.0.1:{probe.getsockname()[1]}"
    message = send(django_capture_on_commit_callbacks)
    assert (message.state, message.last_error) == ("pending", "Twilio unreachable (ConnectionRefusedError)")


@pytest.mark.django_db
def test_given_up_after_the_last_attempt(twilio, settings, django_capture_on_commit_callbacks):  # noqa: F811
    settings.MESSAGE_RETRY_SECONDS = 0
    for _ in range(outbox.MAX_ATTEMPTS):
        twilio.refuse(500, 20500)
    message = send(django_capture_on_commit_callbacks)
    for _ in range(outbox.MAX_ATTEMPTS):  # one more than needed: a given-up message is left alone
        assert outbox.deliver_pending() == 0
    message.refresh_from_db()
    assert message.state == "failed" and message.attempts == outbox.MAX_ATTEMPTS
    assert message.last_error == f"Twilio 20500 (HTTP 500); gave up after {outbox.MAX_ATTEMPTS} tries"
    assert message.body == "" and len(twilio.received) == outbox.MAX_ATTEMPTS


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_task_worker_delivers_what_the_page_could_not(twilio, settings):  # noqa: F811
    """The provider fails while the page waits; the real worker (manage.py db_worker) sends it."""
    settings.MESSAGE_RETRY_SECONDS = 0
    twilio.refuse(503, 20503)
    message = outbox.send_sms(NUMBER, "Meeting: Lewes SMART, every Monday, 6 p.m.", kind=MessageKind.MEETING)
    message.refresh_from_db()
    assert message.state == "pending" and len(retries()) == 1

    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)

    message.refresh_from_db()
    assert message.state == "sent" and message.attempts == 2
    assert [r.form["Body"] for r in twilio.received] == ["Meeting: Lewes SMART, every Monday, 6 p.m."] * 2
