"""An introduction to a volunteer member, end to end in a real browser (Debian's Chromium,
Playwright, axe-core), with screenshots at 375 and 1280 px in
test-artifacts/screenshots/volunteers-*.png.

Bob (peer worker) arranges contact with a member for Pat from her referral; Sol, a volunteer,
signs in and says yes without seeing who; Pat says yes through the private link that came by
e-mail; both get the other's contact details (read from the messaging outbox); Sol records
their first meeting together; Bob sees the referral's milestone. Everyone signs in through the
sign-in form."""

import re

import pytest
from django.core import mail
from django.utils import timezone

from recoverybridge.accounts.models import Role
from recoverybridge.care import actions as care
from recoverybridge.care.models import ConsentPurpose, IntroductionKind, ReferralTargetKind
from recoverybridge.directory.models import Attribute, AttributeMapping, Fellowship
from recoverybridge.directory.vocabulary import load_vocabulary
from recoverybridge.messaging.models import Message, MessageKind
from recoverybridge.volunteers import actions
from recoverybridge.volunteers.models import Introduction, IntroductionState, VolunteerStatus
from tests.care_world import build_world, make_user
from tests.web.test_browser import PHONE, chromium, page, screenshots  # noqa: F401  (fixtures)
from tests.web.test_staff_browser import PASSWORD

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


@pytest.fixture
def story(transactional_db, live_server, settings):
    settings.SITE_URL = live_server.url  # the links in messages point at this server
    load_vocabulary(Fellowship, Attribute, AttributeMapping)
    world = build_world()
    vera = make_user("vera", world.navigators, Role.VOLUNTEER_COORDINATOR)
    for user in (world.bob,):
        user.set_password(PASSWORD)
        user.save()
    sol_user = make_user("sol", world.navigators, Role.VOLUNTEER)
    sol_user.set_password(PASSWORD)
    sol_user.save()
    sol = actions.register_volunteer(
        vera,
        user=sol_user,
        organisation=world.bridge,
        fellowships=[Fellowship.objects.get(slug="aa")],
        first_name="Sol",
        email="sol@members.example.org",
        phone="+447700900123",
        languages=["en", "es"],
        moud_welcoming=True,
        latitude=50.873,
        longitude=0.009,
        capacity=2,
    )
    actions.set_volunteer_status(vera, sol, VolunteerStatus.ACTIVE)
    # Pat agreed to messages by e-mail, and asked for a member to go along to a first AA meeting.
    care.give_consent(world.bob, world.pat, purpose=ConsentPurpose.MESSAGES_BY_EMAIL)
    referral = care.create_referral(
        world.bob,
        world.pat,
        target_kind=ReferralTargetKind.FELLOWSHIP,
        fellowship=Fellowship.objects.get(slug="aa"),
        introduction=IntroductionKind.ACCOMPANY,
    )
    return world, sol, referral


def sign_in_as(page, live_server, username: str, next_path: str = "") -> None:  # noqa: F811
    page.goto(f"{live_server.url}/accounts/login/" + (f"?next={next_path}" if next_path else ""))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def test_introduction_request_to_first_meeting(live_server, page, chromium, story):  # noqa: F811
    _world, _sol, referral = story

    # Bob, from Pat's referral.
    sign_in_as(page, live_server, "bob", f"/staff/referrals/{referral.pk}/")
    page.get_by_role("heading", name="Contact with a member").wait_for()
    page.get_by_role("link", name="Arrange contact with a volunteer member").click()
    page.get_by_role("heading", name="Arrange contact with a member", level=1).wait_for()
    assert page.get_by_text("a member of the group they chose").first.is_visible()
    screenshots(page, "volunteers-arrange")
    page.get_by_label(re.compile("^Sol")).check()
    page.get_by_label("What they are looking for").fill("someone to go with me the first time")
    page.get_by_label(re.compile("By e-mail")).check()
    page.get_by_label(re.compile("They agreed to share these details")).check()
    page.get_by_role("button", name="Ask this volunteer").click()
    page.get_by_text("The volunteer has been asked.").wait_for()
    assert page.get_by_text("Waiting for the volunteer").is_visible()
    screenshots(page, "volunteers-arranged")

    # Sol signs in on a phone and lands on their introductions; answers without seeing who.
    sols = chromium.new_context(viewport=PHONE, locale="en-GB")
    phone = sols.new_page()
    sign_in_as(phone, live_server, "sol")
    phone.get_by_role("heading", name="My introductions", level=1).wait_for()
    screenshots(phone, "volunteers-sol-list")
    phone.get_by_role("link", name=re.compile(r"\d")).first.click()
    phone.get_by_role("button", name="Yes, I can").wait_for()
    assert "Pat" not in phone.content() and "someone to go with me" not in phone.content()
    screenshots(phone, "volunteers-sol-answer")
    phone.get_by_role("button", name="Yes, I can").click()
    phone.get_by_text("Thank you: your answer is recorded.").wait_for()
    assert "Pat" not in phone.content()

    # Pat's link came by e-mail: sent from the outbox (which keeps no body once a message has
    # gone), read here from the test mail backend.
    invitation = Message.objects.get(kind=MessageKind.INTRODUCTION_LINK)
    assert invitation.to == "pat@example.net" and invitation.sent_at is not None
    [email] = [m for m in mail.outbox if m.to == ["pat@example.net"]]
    found = re.search(r"https?://\S+/introduction/\S+/", email.body)
    assert found is not None, email.body
    link = found.group(0)
    pats = chromium.new_context(viewport=PHONE, locale="en-GB")
    pat = pats.new_page()
    pat.goto(link)
    pat.get_by_role("heading", name="A member offered to meet you", level=1).wait_for()
    assert pat.get_by_text(re.compile("Sol, a volunteer member")).is_visible()
    screenshots(pat, "volunteers-pat-answer")
    pat.get_by_role("button", name="Yes, share our contact details").click()
    pat.get_by_role("heading", name="Thank you", level=1).wait_for()
    screenshots(pat, "volunteers-pat-thanks")
    pats.close()

    # Both have the other's contact details (sent through the outbox), nothing clinical to Sol.
    assert Message.objects.get(kind=MessageKind.INTRODUCTION_CONTACT, to="pat@example.net").sent_at
    assert (
        Message.objects.filter(kind=MessageKind.VOLUNTEER_NOTICE, to="sol@members.example.org").count() == 2
    )
    to_pat = [m for m in mail.outbox if m.to == ["pat@example.net"]][-1]
    assert "Sol, +447700900123" in to_pat.body
    to_sol = [m for m in mail.outbox if m.to == ["sol@members.example.org"]][-1]
    assert "Name: Pat" in to_sol.body and "pat@example.net" in to_sol.body
    assert "Example" not in to_sol.body and "RB-PAT" not in to_sol.body

    # Sol now sees Pat's agreed details, and records their first meeting together.
    phone.reload()
    phone.get_by_role("heading", name="Who you are meeting").wait_for()
    assert phone.locator(".agreed-name").inner_text() == "Pat"
    screenshots(phone, "volunteers-sol-connected")
    phone.get_by_label("Date of the first meeting together").fill(timezone.localdate().isoformat())
    phone.get_by_role("button", name="Record the first meeting").click()
    phone.get_by_text("First meeting together recorded.").wait_for()
    sols.close()
    assert Introduction.objects.get().state == IntroductionState.MET

    # Bob sees the milestone on the referral.
    page.goto(f"{live_server.url}/staff/referrals/{referral.pk}/")
    page.get_by_text("Attended first meeting").first.wait_for()
    steps = page.get_by_role("region", name="Assisted steps")
    assert steps.get_by_text(re.compile("^Introduced to a member, .* sol")).is_visible()
    screenshots(page, "volunteers-bob-milestone")
