"""Bob sends Pat a questionnaire link by text, in a real browser (Debian's Chromium, Playwright,
axe-core), with screenshots at phone and desktop widths in test-artifacts/screenshots/sms-*.png.

Bob signs in through the sign-in form, records Pat's consent to messages by text, and sends a
BARC-10 link from "Send a link"; the page says it was sent and shows the link with a copy button.
The test reads the text from the in-memory outbox (the test SMS backend), opens its link as Pat
in a fresh browser, and Pat completes the questionnaire on a phone."""

import re

import pytest
import sms

from recoverybridge.messaging.segments import count
from recoverybridge.outcomes.models import Response, ResponseStatus
from tests.care_world import build_world
from tests.web.test_browser import CHROMIUM_ARGS, PHONE, chromium, page, screenshots  # noqa: F401  (fixtures)
from tests.web.test_staff_browser import PASSWORD, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def world(transactional_db, live_server, settings):
    settings.SITE_URL = live_server.url  # the links in messages point at this server
    world = build_world()
    world.bob.set_password(PASSWORD)
    world.bob.save()
    return world


def send_pat_a_link(page, live_server, world) -> str:  # noqa: F811
    """Bob's part of the journey, up to the page that shows the link; returns the link."""
    sign_in(page, live_server, f"/staff/people/{world.pat.pk}/")
    page.get_by_role("heading", name="Pat Example", level=1).wait_for()
    assert page.get_by_text("Text messages: no (no consent recorded for messages this way)").is_visible()

    page.get_by_role("link", name="Outcomes", exact=True).click()
    page.get_by_role("link", name="Send a link", exact=True).click()
    page.get_by_role("heading", name="Send a link", level=1).wait_for()
    # Nothing can be sent yet, and the page says why and how to change that.
    assert page.get_by_text("It cannot be sent to them from here:").is_visible()
    screenshots(page, "sms-send-link-no-consent")
    page.get_by_role("link", name="Record their consent (Messages by text)").click()

    page.get_by_role("heading", name="Record consent", level=1).wait_for()
    assert page.get_by_label("Purpose").input_value() == "messages_by_text"
    screenshots(page, "sms-consent")
    page.get_by_role("button", name="Record consent").click()

    # Back on Send a link, with texts offered now and chosen.
    page.get_by_role("heading", name="Send a link", level=1).wait_for()
    by_text = page.get_by_label("By text message to •••• 456")
    assert by_text.is_checked()
    page.get_by_label("Brief Assessment of Recovery Capital (BARC-10)").check()
    screenshots(page, "sms-send-link")
    page.get_by_role("button", name="Create and send the link").click()

    page.get_by_role("heading", name="Link created", level=1).wait_for()
    assert page.get_by_role("status").filter(has_text="Sent by text message to •••• 456.").is_visible()
    link = page.get_by_label("The link").input_value()
    assert link.startswith(f"{live_server.url}/q/")
    return link


def test_bob_texts_pat_a_questionnaire_and_pat_completes_it(live_server, page, world, chromium):  # noqa: F811
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    link = send_pat_a_link(page, live_server, world)

    # The copy button copies the link.
    page.get_by_role("button", name="Copy the link").click()
    page.get_by_text("Link copied.").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == link
    page.get_by_text("Read it out").click()
    assert page.locator(".read-out-link").is_visible()
    screenshots(page, "sms-link-sent")

    # The text Pat gets: the same link, nothing about Pat, two segments at most.
    [text] = sms.outbox
    assert text.recipients == ["+447911123456"]
    assert text.body.startswith("Your private link to answer a few questions. It works once, until ")
    assert text.body.endswith(f": {link}")
    assert "Pat" not in text.body and "BARC" not in text.body and count(text.body).count <= 2

    # Pat opens it on a phone, in a browser of their own.
    pats = chromium.new_context(viewport=PHONE, locale="en-GB")
    phone = pats.new_page()
    phone.goto(re.search(r"https?://\S+", text.body).group(0))
    phone.get_by_role("heading", name="Your questionnaire", level=1).wait_for()
    assert "Pat" not in phone.content()
    screenshots(phone, "sms-pat-question")
    for n in range(1, 11):
        phone.get_by_text(f"Question {n} of 10").wait_for()
        phone.get_by_label("Agree", exact=True).check()
        phone.get_by_role("button", name=re.compile("Save and (continue|finish)")).click()
    phone.get_by_role("button", name="Send my answers").click()
    phone.get_by_role("heading", name="Thank you").wait_for()
    screenshots(phone, "sms-pat-thanks")
    pats.close()

    response = Response.objects.get()
    assert response.status == ResponseStatus.COMPLETED and response.mode == "self"
    assert response.person_id == world.pat.pk and response.scores["total"] == 50


def test_without_a_clipboard_the_copy_button_selects_the_link_and_says_how(live_server, page, world):  # noqa: F811
    # A browser without the asynchronous clipboard (an older one, or one that refuses it).
    page.context.add_init_script("Object.defineProperty(navigator, 'clipboard', {value: undefined});")
    send_pat_a_link(page, live_server, world)
    page.get_by_role("button", name="Copy the link").click()
    page.get_by_text("The link is selected: press Ctrl+C (or Command+C on a Mac) to copy it.").wait_for()
    selected = page.evaluate(
        "() => { const f = document.activeElement; return [f.id, f.selectionStart, f.selectionEnd, f.value.length]; }"
    )
    assert selected[0] == "the-link" and selected[1] == 0 and selected[2] == selected[3]
    screenshots(page, "sms-copy-fallback")
