"""STOP and START: replies reach /sms/inbound/ from Twilio, signed with the account's auth token.
A signed STOP (or a synonym) stops every later text to that number, kept as a keyed hash of the
number only; START undoes it; the confirmation goes back as TwiML. An unsigned or forged request
is refused with 403 and changes nothing; its audit row says nothing of what it carried."""

import pytest
from django.test import Client

from recoverybridge.audit.models import AuditAction, AuditEvent
from recoverybridge.messaging import optout, outbox
from recoverybridge.messaging.models import Message, OptOut
from recoverybridge.messaging.sms_backends import twilio_signature, valid_twilio_signature

TOKEN = "local-test-auth-token"
NUMBER = "+447911123456"
URL = "http://localhost:8000/sms/inbound/"


@pytest.fixture(autouse=True)
def _twilio_account(settings):
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.SITE_URL = "http://localhost:8000"


def reply(body: str, number: str = NUMBER, *, signature: str | None = None, **extra: str):
    form = {
        "MessageSid": "SM" + "3" * 32,
        "AccountSid": "AC" + "1" * 32,
        "From": number,
        "To": "+447400000001",
    }
    form |= {"Body": body, **extra}
    signed = (
        twilio_signature(TOKEN, URL, {k: [v] for k, v in form.items()}) if signature is None else signature
    )
    return Client().post("/sms/inbound/", form, headers={"X-Twilio-Signature": signed})


def test_the_signature_is_twilios():
    """Twilio's own published example (its SDKs' tests), repeated parameters included."""
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    params = {
        "CallSid": ["CA1234567890ABCDE"],
        "Caller": ["+14158675309"],
        "Digits": ["1234"],
        "From": ["+14158675309"],
        "To": ["+18005551212"],
    }
    assert twilio_signature("12345", url, params) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    repeated = {"Sid": ["CA123"], "SidAccount": ["AC123"], "Digits": ["5678", "1234", "1234"]}
    assert twilio_signature("12345", url, repeated) == "IK+Dwps556ElfBT0I3Rgjkr1wJU="


@pytest.mark.django_db
@pytest.mark.parametrize("word", ["STOP", "stop", "Stop.", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"])
def test_stop_and_its_synonyms(word):
    response = reply(word)
    assert response.status_code == 200 and response["Content-Type"] == "text/xml; charset=utf-8"
    html = response.content.decode()
    assert html.startswith('<?xml version="1.0" encoding="UTF-8"?><Response><Message>')
    assert "You will get no more texts from this number. Reply START to get them again." in html
    assert "No recibirá más mensajes de este número. Responda START para volver a recibirlos." in html
    assert optout.is_opted_out(NUMBER)


@pytest.mark.django_db
def test_the_number_is_kept_only_as_a_keyed_hash(settings):
    reply("STOP")
    row = OptOut.objects.get()
    assert row.number_hash == optout.number_hash(NUMBER) and len(row.number_hash) == 64
    assert NUMBER not in row.number_hash and "7911123456" not in str(OptOut.objects.values().get())
    event = AuditEvent.objects.get(object_type="messaging.optout")
    assert event.person_id is None and "7911" not in str(event.changes) + event.detail
    # Another key, another hash: the table alone does not let anyone test numbers against it.
    settings.SMS_NUMBER_KEY = "another key"
    assert optout.number_hash(NUMBER) != row.number_hash


@pytest.mark.django_db
def test_a_stopped_number_gets_no_more_texts(django_capture_on_commit_callbacks):
    import sms

    reply("stop please")
    # Written in any form, the number is the same number.
    with django_capture_on_commit_callbacks(execute=True):
        outbox.send_sms(
            "+44 7911 123456".replace(" ", ""), "Meeting: Lewes SMART", kind="meeting", person_id=7
        )
    assert sms.outbox == []
    message = Message.objects.get()
    assert (message.state, message.last_error, message.body) == ("failed", "the number replied STOP", "")
    refused = AuditEvent.objects.get(object_type="messaging.message")
    assert refused.action == AuditAction.DENIED and refused.person_id == 7
    assert refused.detail == "Text message not delivered: the number replied STOP"


@pytest.mark.django_db
@pytest.mark.parametrize("word", ["START", "unstop", "Yes"])
def test_start_undoes_stop(word, django_capture_on_commit_callbacks):
    import sms

    reply("STOP")
    response = reply(word)
    assert "You will get texts from this number again. Reply STOP to stop them." in response.content.decode()
    assert not optout.is_opted_out(NUMBER)
    with django_capture_on_commit_callbacks(execute=True):
        outbox.send_sms(NUMBER, "Meeting: Lewes SMART", kind="meeting")
    assert [m.recipients for m in sms.outbox] == [[NUMBER]]


@pytest.mark.django_db
def test_twilios_own_reading_of_the_keyword_wins():
    """With Advanced Opt-Out, Twilio sends OptOutType (STOP, START, HELP) for its own keyword list."""
    reply("ARRET", OptOutType="STOP")
    assert optout.is_opted_out(NUMBER)


@pytest.mark.django_db
@pytest.mark.parametrize("body", ["HELP", "I went to the meeting!", "", "stopping by later"])
def test_anything_else_is_told_that_nobody_reads_replies(body):
    response = reply(body)
    assert (
        "Replies to this number are not read: please contact your worker directly."
        in response.content.decode()
    )
    assert not OptOut.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "signature", ["", "forged=", twilio_signature("another token", URL, {"Body": ["STOP"]})]
)
def test_unsigned_or_forged_replies_are_refused(signature):
    response = reply("STOP", signature=signature)
    assert response.status_code == 403
    assert not OptOut.objects.exists()
    event = AuditEvent.objects.get()
    assert (event.action, event.object_type, event.person_id) == (
        AuditAction.DENIED,
        "messaging.inbound",
        None,
    )
    assert NUMBER not in str(event.changes) + event.detail and "STOP" not in event.detail


@pytest.mark.django_db
def test_without_an_auth_token_nothing_is_accepted(settings):
    settings.TWILIO_AUTH_TOKEN = ""
    assert reply("STOP").status_code == 403
    assert not valid_twilio_signature(twilio_signature("", URL, {}), URL, {})


@pytest.mark.django_db
def test_a_reply_signed_for_another_address_is_refused():
    """The signature covers the URL: one made for another site does not open ours."""
    form = {"From": NUMBER, "Body": "STOP"}
    signature = twilio_signature(
        TOKEN, "https://elsewhere.example/sms/inbound/", {k: [v] for k, v in form.items()}
    )
    assert Client().post("/sms/inbound/", form, headers={"X-Twilio-Signature": signature}).status_code == 403


@pytest.mark.django_db
def test_only_post():
    assert Client().get("/sms/inbound/").status_code == 405


@pytest.mark.django_db
def test_a_reply_from_a_number_that_is_not_one_changes_nothing():
    response = reply("STOP", number="not a number")
    assert response.content.decode() == '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
    assert not OptOut.objects.exists()
