"""Send a link: Bob creates Pat's questionnaire link and sends it by text or e-mail, offered only
for channels Pat consented to and that can reach Pat; the page always shows the link too, with a
copy button and a way to read it out. "What to send" is one required choice (no questionnaire
marked optional and then demanded)."""

import re

import pytest
import sms
from django.core import mail

from recoverybridge.audit.models import AuditAction, AuditEvent
from recoverybridge.care import actions as care_actions
from recoverybridge.messaging import optout
from recoverybridge.messaging.models import Message
from recoverybridge.messaging.segments import count
from recoverybridge.outcomes.models import Invitation, InvitationKind
from tests.care_world import build_world
from tests.outcomes.pages_world import client_for

URL = "/staff/people/{}/outcomes/links/new/"
BARC = {"what": "questionnaire:barc-10", "language": "en", "valid_days": "14"}


def consent(world, *purposes: str) -> None:
    for purpose in purposes:
        care_actions.give_consent(world.bob, world.pat, purpose=purpose)


def test_without_consent_nothing_is_offered_and_the_page_says_why(world):
    html = client_for(world.bob).get(URL.format(world.pat.pk)).content.decode()
    assert 'type="radio" name="send_by"' not in html
    assert "It cannot be sent to them from here:" in html
    assert "Text message: no consent recorded for messages this way." in html
    assert "E-mail: no consent recorded for messages this way." in html
    back = f"/staff/people/{world.pat.pk}/outcomes/links/new/"  # and back here after
    assert f'href="/staff/people/{world.pat.pk}/consent/?purpose=messages_by_text&amp;next={back}"' in html
    assert "Create the link" in html


def test_the_questionnaire_is_not_labelled_optional(world):
    html = client_for(world.bob).get(URL.format(world.pat.pk)).content.decode()
    assert "(optional)" not in html
    assert "<legend>What to send</legend>" in html
    assert 'value="questionnaire:barc-10"' in html and 'value="check_in"' in html


def test_consented_channels_are_offered_with_enough_of_the_address_to_check(world):
    consent(world, "messages_by_text", "messages_by_email")
    html = client_for(world.bob).get(URL.format(world.pat.pk)).content.decode()
    assert "By text message to •••• 456" in html and "By e-mail to p•••@example.net" in html
    assert "7911123456" not in html.split("<main", 1)[-1].split("</main>")[0].replace("+447911123456", "")
    assert re.search(r'<input type="radio" name="send_by" value="sms"[^>]*checked', html)
    assert "Do not send it: I will read it out or copy it" in html
    assert "Not offered:" not in html


def test_a_number_that_replied_stop_is_not_offered(world):
    consent(world, "messages_by_text", "messages_by_email")
    optout.set_opted_out("+447911123456", True, "STOP")
    html = client_for(world.bob).get(URL.format(world.pat.pk)).content.decode()
    assert 'value="sms"' not in html and 'value="email"' in html
    assert "Text message: they replied STOP to our texts" in html
    assert "They can text START to the same number to get texts again." in html


def test_sent_by_e_mail(world, django_capture_on_commit_callbacks):
    consent(world, "messages_by_email")
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(world.bob).post(URL.format(world.pat.pk), {**BARC, "send_by": "email"})
    assert response.status_code == 200
    [email] = mail.outbox
    assert email.to == ["pat@example.net"] and email.subject == "Your private link"
    link = re.search(r"http://localhost:8000/q/[^/\s]+/", email.body).group(0)
    html = response.content.decode()
    assert f'value="{link}"' in html  # the same link on the page
    assert "Pat" not in email.body and "BARC" not in email.body and "Recovery" not in email.body
    assert sms.outbox == []


def test_a_check_in_link_by_text(world, django_capture_on_commit_callbacks):
    consent(world, "messages_by_text")
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(world.bob).post(
            URL.format(world.pat.pk),
            {"what": "check_in", "language": "es", "valid_days": "7", "send_by": "sms"},
        )
    assert response.status_code == 200
    assert Invitation.objects.get().kind == InvitationKind.CHECK_IN
    [text] = sms.outbox
    assert text.recipients == ["+447911123456"]
    # In Spanish, with its link, it would take three UCS-2 segments; without its accents it is
    # GSM-7 and takes two.
    assert text.body.startswith("Su enlace privado para contar como le va. Funciona una vez, hasta el ")
    assert count(text.body).count == 2 and count(text.body).encoding == "GSM-7"


def test_not_sending_it_sends_nothing(world):
    consent(world, "messages_by_text")
    response = client_for(world.bob).post(URL.format(world.pat.pk), {**BARC, "send_by": "none"})
    assert response.status_code == 200 and Invitation.objects.count() == 1
    assert not Message.objects.exists()
    assert "Sent by" not in response.content.decode()


def test_a_channel_that_went_away_meanwhile_is_a_clear_error(world):
    """Pat replied STOP while Bob had the form open: Bob is told, nothing is created."""
    consent(world, "messages_by_text")
    optout.set_opted_out("+447911123456", True, "STOP")
    response = client_for(world.bob).post(URL.format(world.pat.pk), {**BARC, "send_by": "sms"})
    assert response.status_code == 400
    assert "That way of sending it is not possible now: choose another." in response.content.decode()
    assert not Invitation.objects.exists() and not Message.objects.exists()


def test_the_link_is_shown_with_a_copy_button_and_to_read_out(world):
    response = client_for(world.bob).post(URL.format(world.pat.pk), BARC)
    html = response.content.decode()
    token = re.search(r'value="http://localhost:8000/q/([^/"]+)/"', html).group(1)
    assert re.search(r'<button type="button" class="button-secondary" data-copy="the-link"[^>]*hidden>', html)
    groups = " ".join(token[i : i + 4] for i in range(0, len(token), 4))
    assert f"http://localhost:8000/q/ {groups} /" in html
    assert "<summary>Read it out</summary>" in html
    assert (
        "<script" not in html.split("</head>", 1)[1] and "style=" not in html
    )  # CSP: no inline script or style


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_page_says_it_was_sent():
    world = build_world()
    consent(world, "messages_by_text")
    response = client_for(world.bob).post(URL.format(world.pat.pk), {**BARC, "send_by": "sms"})
    html = response.content.decode()
    assert "Sent by text message to •••• 456." in html
    [text] = sms.outbox
    link = re.search(r'value="(http://localhost:8000/q/[^/"]+/)"', html).group(1)
    assert text.body.startswith("Your private link to answer a few questions. It works once, until ")
    assert text.body.endswith(f": {link}")
    message = Message.objects.get()
    assert message.state == "sent" and message.body == ""  # the token is not kept in the outbox
    sent = AuditEvent.objects.get(action=AuditAction.DISCLOSE)
    assert sent.person_id == world.pat.pk and sent.changes["kind"] == {"new": "questionnaire_link"}
