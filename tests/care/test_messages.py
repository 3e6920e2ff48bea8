"""Messages to the person: Zebedee Quuxley is on Bob's team's caseload. Bob may send him a link
or his chosen meeting by text or e-mail only with his active consent for that channel, to a
usable number or address that has not replied STOP. Every send and every refusal is audited with
the person, channel and kind, never the body or the address; no message body ever carries his
name, reference, team or service."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import sms
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from recoverybridge.audit.models import AuditAction, AuditEvent
from recoverybridge.care import actions
from recoverybridge.care.messages import Refusal, channel_states, meeting_context, person_zone
from recoverybridge.care.models import ConsentPurpose
from recoverybridge.messaging import optout, outbox
from recoverybridge.messaging.models import Channel, Message, MessageKind
from recoverybridge.messaging.segments import count, is_gsm, to_gsm
from recoverybridge.messaging.texts import TEXTS, render
from tests.care_world import make_person
from tests.factories import make_location, make_meeting
from tests.messaging.twilio_server import twilio  # noqa: F401

NOW = timezone.now()
LINK = "https://recoverybridge.example.org/q/" + "T" * 43 + "/"
PERSONAL = ("Zebedee", "Quuxley", "RB-ZEB00001", "Detox", "Harbour", "Recovery")


@pytest.fixture
def zebedee(world):
    return make_person(
        world.detox,
        "RB-ZEB00001",
        "Zebedee",
        family_name="Quuxley",
        phone="07911 123456",
        email="zebedee.quuxley@example.net",
    )


def consent(world, person, *purposes: str) -> None:
    for purpose in purposes:
        actions.give_consent(world.bob, person, purpose=purpose)


def context_for(kind: str) -> dict:
    if kind == MessageKind.MEETING:
        return {
            "meeting": "Lewes SMART",
            "when": "every Monday, 6 p.m.",
            "where": "Lewes Town Hall",
            "link": LINK,
        }
    if kind == MessageKind.INTRODUCTION_CONTACT:
        return {"contact": "Sam, +447700900123", "link": LINK}
    return {"link": LINK, "until": NOW + datetime.timedelta(days=14)}


def person_kinds() -> list[str]:
    return [
        kind
        for kind in MessageKind.values
        if kind not in (MessageKind.STAFF_REMINDER, MessageKind.VOLUNTEER_NOTICE)
    ]


def test_every_kind_of_message_to_a_person_has_its_texts():
    assert sorted(TEXTS) == sorted(person_kinds())


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("kind", person_kinds())
def test_no_message_names_the_person(world, zebedee, kind, language, django_capture_on_commit_callbacks):
    consent(world, zebedee, ConsentPurpose.MESSAGES_BY_TEXT, ConsentPurpose.MESSAGES_BY_EMAIL)
    with django_capture_on_commit_callbacks(execute=True):
        for channel in (Channel.SMS, Channel.EMAIL):
            sending = actions.send_message(
                world.bob, zebedee, channel=channel, kind=kind, context=context_for(kind), language=language
            )
            assert sending.refusal == "" and sending.message is not None
    [text] = sms.outbox
    [email] = mail.outbox
    assert text.recipients == ["+447911123456"] and email.to == ["zebedee.quuxley@example.net"]
    for body in (text.body, email.subject, email.body):
        assert LINK in body or "Your" in body or "Su" in body or "Tu" in body
        for word in PERSONAL:
            assert word not in body, (word, body)
    assert Message.objects.filter(sent_at__isnull=False).count() == 2


def test_a_message_cannot_be_asked_to_carry_a_name(world, zebedee):
    consent(world, zebedee, ConsentPurpose.MESSAGES_BY_TEXT)
    with pytest.raises(ValueError, match="may not carry"):
        actions.send_message(
            world.bob,
            zebedee,
            channel=Channel.SMS,
            kind=MessageKind.QUESTIONNAIRE_LINK,
            context={"link": LINK, "until": NOW, "name": "Zebedee"},
        )
    assert not Message.objects.exists()


def test_a_send_is_audited_without_its_body_or_address(world, zebedee, django_capture_on_commit_callbacks):
    consent(world, zebedee, ConsentPurpose.MESSAGES_BY_TEXT)
    with django_capture_on_commit_callbacks(execute=True):
        sending = actions.send_message(
            world.bob,
            zebedee,
            channel=Channel.SMS,
            kind=MessageKind.QUESTIONNAIRE_LINK,
            context=context_for(""),
        )
    assert sending.state == "sent"
    queued, delivered = AuditEvent.objects.filter(object_type="messaging.message").order_by("pk")
    assert (queued.action, queued.actor, queued.person_id) == (AuditAction.DISCLOSE, world.bob, zebedee.pk)
    assert queued.changes == {
        "channel": {"new": "sms"},
        "kind": {"new": "questionnaire_link"},
        # On the person's accounting of disclosures: to them, by text, under their consent.
        "disclosed_to": {
            "new": {
                "recipient": "person",
                "channel": "sms",
                "organisation": None,
                "basis": "consent to messages",
                "content": "questionnaire_link",
            }
        },
    }
    assert (delivered.action, delivered.actor, delivered.person_id) == (AuditAction.UPDATE, None, zebedee.pk)
    assert delivered.detail == "Text message delivered"
    for event in AuditEvent.objects.all():
        recorded = str(event.changes) + event.detail
        assert "T" * 43 not in recorded and "7911" not in recorded and "Zebedee" not in recorded


@pytest.mark.parametrize(
    ("change", "channel", "refusal"),
    [
        ({}, Channel.SMS, Refusal.NO_CONSENT),
        ({}, Channel.EMAIL, Refusal.NO_CONSENT),
        ({"phone": ""}, Channel.SMS, Refusal.NO_NUMBER),
        ({"phone": "12345"}, Channel.SMS, Refusal.INVALID_NUMBER),
        ({"phone": "01273 123456"}, Channel.SMS, Refusal.NOT_MOBILE),  # a landline
        ({"email": ""}, Channel.EMAIL, Refusal.NO_EMAIL),
    ],
)
def test_refusals_are_audited_and_send_nothing(world, zebedee, change, channel, refusal):
    if change:
        consent(world, zebedee, ConsentPurpose.MESSAGES_BY_TEXT, ConsentPurpose.MESSAGES_BY_EMAIL)
        for name, value in change.items():
            setattr(zebedee, name, value)
        zebedee.save()
    sending = actions.send_message(
        world.bob, zebedee, channel=channel, kind=MessageKind.CHECK_IN_LINK, context=context_for("")
    )
    assert (sending.message, sending.refusal, sending.state) == (None, refusal, "refused")
    assert not Message.objects.exists() and sms.outbox == [] and mail.outbox == []
    event = AuditEvent.objects.get(action=AuditAction.DENIED)
    assert (event.actor, event.person_id, event.object_type) == (world.bob, zebedee.pk, "messaging.message")
    assert event.changes == {"channel": {"new": channel}, "kind": {"new": "check_in_link"}}
    assert event.detail == f"{channel} message not sent: {refusal}"


def test_consent_for_one_channel_is_not_consent_for_the_other(world, zebedee):
    consent(world, zebedee, ConsentPurpose.MESSAGES_BY_EMAIL)
    states = channel_states(zebedee)
    assert states[Channel.EMAIL].usable and states[Channel.EMAIL].shown_address == "z•••@example.net"
    assert states[Channel.SMS].refusal == Refusal.NO_CONSENT


def test_an_expired_or_revoked_consent_is_no_consent(world, zebedee):
    actions.give_consent(
        world.bob,
        zebedee,
        purpose=ConsentPurpose.MESSAGES_BY_TEXT,
        given_at=NOW - datetime.timedelta(days=30),
        expires_at=NOW - datetime.timedelta(days=1),
        now=NOW - datetime.timedelta(days=30),
    )
    assert channel_states(zebedee)[Channel.SMS].refusal == Refusal.NO_CONSENT
    revoked = actions.give_consent(world.bob, zebedee, purpose=ConsentPurpose.MESSAGES_BY_TEXT)
    assert channel_states(zebedee)[Channel.SMS].usable
    actions.revoke_consent(world.bob, revoked)
    assert channel_states(zebedee)[Channel.SMS].refusal == Refusal.NO_CONSENT


def test_a_number_that_replied_stop_is_refused_before_queueing(world, zebedee):
    consent(world, zebedee, ConsentPurpose.MESSAGES_BY_TEXT)
    optout.set_opted_out("+447911123456", True, "STOP")
    state = channel_states(zebedee)[Channel.SMS]
    assert state.refusal == Refusal.OPTED_OUT and state.stopped_at is not None
    sending = actions.send_message(
        world.bob, zebedee, channel=Channel.SMS, kind=MessageKind.MEETING, context=context_for("meeting")
    )
    assert sending.refusal == Refusal.OPTED_OUT and not Message.objects.exists()


def test_texts_switched_off(world, zebedee, settings):
    settings.SMS_BACKEND = "off"
    consent(world, zebedee, ConsentPurpose.MESSAGES_BY_TEXT)
    assert channel_states(zebedee)[Channel.SMS].refusal == Refusal.TEXTS_OFF


def test_consent_withdrawn_while_a_text_waits_stops_it(
    world,
    zebedee,
    twilio,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    """The provider was down when Bob sent it; Zebedee withdraws his consent before the retry."""
    given = actions.give_consent(world.bob, zebedee, purpose=ConsentPurpose.MESSAGES_BY_TEXT)
    twilio.refuse(503, 20503)
    with django_capture_on_commit_callbacks(execute=True):
        sending = actions.send_message(
            world.bob, zebedee, channel=Channel.SMS, kind=MessageKind.CHECK_IN_LINK, context=context_for("")
        )
    assert sending.state == "pending"
    actions.revoke_consent(world.bob, given)
    Message.objects.update(not_before=None)  # its retry is due
    assert outbox.deliver_pending() == 0
    message = Message.objects.get()
    assert (message.state, message.last_error, message.body) == (
        "failed",
        "no active consent for this channel",
        "",
    )
    assert len(twilio.received) == 1
    assert AuditEvent.objects.filter(
        action=AuditAction.DENIED,
        person_id=zebedee.pk,
        detail="Text message not delivered: no active consent for this channel",
    ).exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_change_that_rolls_back_sends_nothing():
    from tests.care_world import build_world

    world = build_world()
    actions.give_consent(world.bob, world.pat, purpose=ConsentPurpose.MESSAGES_BY_TEXT)
    with pytest.raises(RuntimeError), transaction.atomic():
        actions.send_message(
            world.bob, world.pat, channel=Channel.SMS, kind=MessageKind.CHECK_IN_LINK, context=context_for("")
        )
        raise RuntimeError("the change that caused it failed")
    assert sms.outbox == [] and not Message.objects.exists()


def test_only_the_persons_team_may_send(world, zebedee):
    consent(world, zebedee, ConsentPurpose.MESSAGES_BY_TEXT)
    for user in (world.dave, world.nina, world.cora):
        with pytest.raises(PermissionDenied):
            actions.send_message(
                user, zebedee, channel=Channel.SMS, kind=MessageKind.CHECK_IN_LINK, context=context_for("")
            )
    assert not Message.objects.exists()
    assert (
        AuditEvent.objects.filter(action=AuditAction.DENIED, detail="send this person a message").count() == 3
    )


# ---------------------------------------------------------------- a meeting in two segments


LONG_NAMES = [
    "Lewes SMART",
    "Thursday Night Big Book Step Study and Speaker Meeting of the Lewes and District Intergroup",
    "Grupo Esperanza – Sesión de la mañana “Solo por hoy” en español para recién llegados",  # noqa: RUF001
    "Recovery Dharma Brighton: Meditation, Inquiry and Sangha for People in Recovery from Addiction",
    "Медицинская группа поддержки выздоровления",  # Cyrillic: UCS-2 whatever is done
]


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("name", LONG_NAMES)
@pytest.mark.parametrize("mode", ["in_person", "online", "hybrid"])
def test_a_meeting_fits_two_segments(db, settings, language, name, mode):
    settings.SITE_URL = "https://recoverybridge.example.org"
    hall = make_location(name="Ringmer Village Hall and Community Centre", timezone="Europe/London")
    meeting = make_meeting(
        "smart",
        location=None if mode == "online" else hall,
        attendance_mode=mode,
        name=name,
        weekday=3,
        timezone="America/Toronto" if mode == "online" else "Europe/London",
    )
    link = outbox.absolute_url("outcomes:take", "T" * 43)
    context = meeting_context(meeting, link=link, zone=ZoneInfo("Europe/London"), language=language, now=NOW)
    body = render(MessageKind.MEETING, Channel.SMS, context, language, ZoneInfo("Europe/London")).body
    assert count(body).count <= 2, (count(body), body)
    assert body.endswith(link)  # the link is whole
    if is_gsm(to_gsm(name)):
        assert to_gsm(name)[:30] in body  # enough of the name to know it by
    else:
        # A name in another script keeps the text in UCS-2 (134 units in two segments, the link
        # takes 81): it gives way to "...", and the link says which meeting it is.
        assert ": ..., " in body


def test_a_short_meeting_reads_in_full_in_the_persons_zone(db):
    online = make_meeting(
        "smart",
        location=None,
        attendance_mode="online",
        name="SMART Toronto Online",
        weekday=4,  # Thursday 7 p.m. in Toronto is Friday midnight in London
        start_time=datetime.time(19, 0),
        timezone="America/Toronto",
    )
    london = ZoneInfo("Europe/London")
    context = meeting_context(online, link=LINK, zone=london, language="en", now=NOW)
    assert render(MessageKind.MEETING, Channel.SMS, context, "en", london).body == (
        f"Meeting: SMART Toronto Online, every Friday, midnight (your time), online. Details: {LINK}"
    )
    context = meeting_context(online, link=LINK, zone=london, language="es", now=NOW)
    assert context["when"] == "cada viernes, 00:00 (su hora)" and context["where"] == "en línea"


def test_the_person_reads_times_in_the_sites_zone(world, settings):
    settings.TIME_ZONE = "Europe/London"
    assert person_zone(world.pat) == ZoneInfo("Europe/London")
