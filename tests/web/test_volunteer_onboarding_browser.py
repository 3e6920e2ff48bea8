"""Adding a volunteer, end to end in a real browser (Debian's Chromium, Playwright, axe-core),
with screenshots at 375 and 1280 px in test-artifacts/screenshots/volunteer-onboarding-*.png.

Vera (volunteer coordinator) signs in and adds Noor from her page; the e-mail Noor gets (read
from the test mail backend) holds a link to choose a password; Noor follows it on a phone,
chooses one, signs in through the sign-in form and lands on her own page, waiting to be vetted;
Vera vets and activates her, and Noor's page says so."""

import re

import pytest
from django.core import mail

from recoverybridge.accounts.models import Role
from recoverybridge.directory.models import Attribute, AttributeMapping, Fellowship
from recoverybridge.directory.vocabulary import load_vocabulary
from recoverybridge.volunteers.models import Volunteer, VolunteerStatus
from tests.care_world import build_world, make_user
from tests.web.test_browser import PHONE, chromium, page, screenshots  # noqa: F401  (fixtures)
from tests.web.test_staff_browser import PASSWORD
from tests.web.test_volunteers_browser import sign_in_as

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

NOOR = "noor@members.example.org"


@pytest.fixture
def coordinator(transactional_db, live_server, settings):
    settings.SITE_URL = live_server.url  # the link in the e-mail points at this server
    load_vocabulary(Fellowship, Attribute, AttributeMapping)
    world = build_world()
    vera = make_user("vera", world.navigators, Role.VOLUNTEER_COORDINATOR)
    vera.set_password(PASSWORD)
    vera.save()
    return vera


def test_a_coordinator_adds_a_volunteer_who_chooses_a_password_and_is_vetted(
    live_server,
    page,  # noqa: F811
    chromium,  # noqa: F811
    coordinator,
):
    sign_in_as(page, live_server, "vera", "/staff/volunteers/")
    page.get_by_role("heading", name="Volunteer members", level=1).wait_for()
    page.get_by_role("link", name="Add a volunteer").click()
    page.get_by_role("heading", name="Add a volunteer", level=1).wait_for()
    screenshots(page, "volunteer-onboarding-form")

    page.get_by_label("First name").fill("Noor")
    page.get_by_label("E-mail address").fill(NOOR)
    page.get_by_label(Fellowship.objects.get(slug="na").name, exact=True).check()
    page.get_by_label("English", exact=True).check()
    page.get_by_label("Woman", exact=True).check()
    page.get_by_label("Evenings").check()
    # Neither a place nor online: the form says what is missing and keeps what was typed.
    page.get_by_role("button", name="Add the volunteer").click()
    page.get_by_role("alert").wait_for()
    assert page.get_by_text("Give a town or postcode, or tick that they meet online.").first.is_visible()
    assert page.get_by_label("E-mail address").input_value() == NOOR
    assert not Volunteer.objects.exists()
    screenshots(page, "volunteer-onboarding-error")
    page.get_by_label("Meets online").check()
    page.get_by_role("button", name="Add the volunteer").click()
    page.get_by_text("Noor is added, waiting to be vetted.").wait_for()
    assert page.get_by_role("cell", name="Waiting to be vetted").is_visible()
    screenshots(page, "volunteer-onboarding-added")

    # The e-mail: a link to choose a password, and the username to sign in with.
    [email] = [m for m in mail.outbox if m.to == [NOOR]]
    found = re.search(r"https?://\S+/accounts/reset/\S+/\S+/", email.body)
    assert found is not None, email.body
    noors = chromium.new_context(viewport=PHONE, locale="en-GB")
    phone = noors.new_page()
    phone.goto(found.group(0))
    phone.get_by_role("heading", name="Choose your password", level=1).wait_for()
    assert phone.get_by_text(f"Your username is {NOOR}.").is_visible()
    screenshots(phone, "volunteer-onboarding-password")
    phone.get_by_label("New password", exact=True).fill(PASSWORD)
    phone.get_by_label("New password confirmation").fill(PASSWORD)
    phone.get_by_role("button", name="Save my password").click()
    phone.get_by_role("heading", name="Your password is saved", level=1).wait_for()
    screenshots(phone, "volunteer-onboarding-saved")

    # Noor signs in through the form and lands on her own page, waiting to be vetted.
    phone.get_by_role("link", name="Sign in").click()
    phone.get_by_label("Username").fill(NOOR)
    phone.get_by_label("Password").fill(PASSWORD)
    phone.get_by_role("button", name="Sign in").click()
    phone.get_by_role("heading", name="My introductions", level=1).wait_for()
    assert phone.get_by_text(re.compile("Your status: Waiting to be vetted")).is_visible()
    screenshots(phone, "volunteer-onboarding-waiting")

    # The link worked once.
    used = noors.new_page()
    used.goto(found.group(0))
    used.get_by_text("This link no longer works").wait_for()

    # Vera vets and activates her.
    page.reload()
    page.get_by_role("button", name="Vet and activate Noor").click()
    page.get_by_text("Noor is now: Active.").wait_for()
    noor = Volunteer.objects.get(email=NOOR)
    assert noor.status == VolunteerStatus.ACTIVE and noor.vetted_by == coordinator
    phone.reload()
    assert phone.get_by_text(re.compile("Your status: Active")).is_visible()
    noors.close()
