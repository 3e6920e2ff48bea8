"""The staff pages in a real browser (Debian's Chromium, Playwright, axe-core), with
screenshots at phone and desktop widths in test-artifacts/screenshots/staff-*.png:
a peer worker refers Pat through the wizard, then works through the work queue."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from recoverybridge.care import actions
from recoverybridge.care.models import FollowUp, Referral, ReferralOption, TaskStatus
from recoverybridge.directory.models import Attribute, AttributeMapping, Fellowship
from recoverybridge.directory.vocabulary import load_vocabulary
from tests.care_world import build_world
from tests.factories import make_location, make_meeting
from tests.web.test_browser import chromium, page, screenshots  # noqa: F401  (fixtures)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
PASSWORD = "a long staff passphrase"


@pytest.fixture
def world(transactional_db):
    # A transactional test empties every table after itself; put back what migrations loaded.
    load_vocabulary(Fellowship, Attribute, AttributeMapping)
    world = build_world()
    world.pat.on_moud = True
    world.pat.save()
    world.bob.first_name, world.bob.last_name = "Bob", "Baker"
    world.bob.set_password(PASSWORD)
    world.bob.save()
    town = make_location(
        name="Lewes Town Hall", city="Lewes", latitude=50.873, longitude=0.009, timezone="Europe/London"
    )
    edge = make_location(
        name="Ringmer Village Hall", city="Ringmer", latitude=50.89, longitude=0.05, timezone="Europe/London"
    )
    for n, slug in enumerate(["aa", "aa", "na", "ca"]):
        make_meeting(slug, location=town, name=f"Lewes {slug.upper()} {n}")
    make_meeting("na", location=town, name="Lewes Welcome NA", moud_stance="welcoming")
    make_meeting("aa", location=town, name="Lewes Old Timers AA", moud_stance="not_welcoming")
    for slug, name in [
        ("smart", "Ringmer SMART Recovery"),
        ("celebrate-recovery", "Ringmer Celebrate Recovery"),
        ("wellbriety", "Ringmer Wellbriety Circle"),
        ("mara", "Ringmer MARA"),
        ("recovery-dharma", "Ringmer Recovery Dharma"),
    ]:
        make_meeting(slug, location=edge, name=name)
    return world


def sign_in(page, live_server, next_path: str) -> None:  # noqa: F811
    page.goto(f"{live_server.url}/accounts/login/?next={next_path}")
    page.get_by_label("Username").fill("bob")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(next_path) + "$"))


def test_referral_wizard(live_server, page, world):  # noqa: F811
    sign_in(page, live_server, f"/staff/people/{world.pat.pk}/")
    page.get_by_role("heading", name="Pat Example", level=1).wait_for()
    screenshots(page, "staff-person")
    page.get_by_role("link", name="Refer", exact=True).click()
    page.get_by_role("heading", name=re.compile("Step 1 of 6")).wait_for()
    assert page.get_by_label(
        re.compile("^On medication for opioid use disorder")
    ).is_checked()  # from her record
    page.get_by_role("button", name="Next: options to try").click()
    page.get_by_role("heading", name=re.compile("Step 2 of 6")).wait_for()
    # Every kind of group nearby is on the list; MOUD-welcoming first, the unwelcoming one marked, last.
    for kind in ["Twelve-step", "Secular", "Faith-based", "Indigenous", "Medication-assisted", "Other"]:
        assert page.locator(".option .kind-label", has_text=kind).count() >= 1, kind
    names = page.locator(".option .check label").all_inner_texts()
    assert names[0] == "Lewes Welcome NA" and names[-1] == "Lewes Old Timers AA"
    assert page.locator(".option-warn", has_text="Lewes Old Timers AA").count() == 1
    screenshots(page, "staff-refer-options")

    page.get_by_label("Ringmer SMART Recovery").check()
    page.get_by_label("Ringmer MARA").check()
    page.get_by_role("button", name="Next: what to refer to").click()
    page.get_by_role("heading", name=re.compile("Step 3 of 6")).wait_for()
    page.get_by_label("Mutual-aid meeting").check()
    page.get_by_label("Meeting", exact=True).select_option(
        label="Ringmer MARA (Medication-Assisted Recovery Anonymous)"
    )
    page.get_by_role("button", name="Next: contact with a member").click()
    # The defaults will do: straight to checking and sending, by the list of steps.
    page.get_by_role("link", name="Check and send").click()
    page.get_by_role("heading", name=re.compile("Step 6 of 6")).wait_for()
    page.get_by_role("button", name="Send referral").click()
    page.get_by_text("Referral sent.").wait_for()
    referral = Referral.objects.get()
    assert referral.status == TaskStatus.REQUESTED and referral.meeting.name == "Ringmer MARA"
    chosen = set(ReferralOption.objects.filter(chosen=True).values_list("meeting__name", flat=True))
    assert chosen == {"Ringmer SMART Recovery", "Ringmer MARA"}
    assert ReferralOption.objects.count() > 6
    assert referral.follow_ups.count() == 2
    screenshots(page, "staff-referral")

    pdf = page.request.get(f"{live_server.url}/staff/referrals/{referral.pk}/take-away.pdf")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf" and pdf.body()[:5] == b"%PDF-"


def test_work_queue(live_server, page, world):  # noqa: F811
    smart = Fellowship.objects.get(slug="smart")
    three_weeks_ago = timezone.now() - timedelta(days=21)
    actions.create_referral(
        world.bob, world.pat, target_kind="fellowship", fellowship=smart, now=three_weeks_ago
    )
    actions.create_referral(world.bob, world.pat, target_kind="fellowship", fellowship=smart)
    sign_in(page, live_server, "/staff/")
    page.get_by_role("heading", name="My dashboard").wait_for()
    screenshots(page, "staff-dashboard")
    page.get_by_role("link", name="Work queue").first.click()
    page.get_by_role("heading", name="Work queue", level=1).wait_for()
    overdue = page.locator("section", has=page.get_by_role("heading", name=re.compile("^Overdue")))
    assert overdue.locator(".follow-up").count() == 1
    screenshots(page, "staff-queue")

    overdue.get_by_role("link", name=re.compile("Record how it went")).click()
    page.get_by_role("heading", name=re.compile("Record a follow-up")).wait_for()
    page.get_by_label("Going regularly").check()
    page.get_by_label("Note").fill("Went to two meetings, liked it")
    page.get_by_role("button", name="Record follow-up").click()
    page.get_by_text("Follow-up recorded.").wait_for()
    page.get_by_role("heading", name="Work queue", level=1).wait_for()  # back where Bob was
    assert page.get_by_text("Nothing overdue.").is_visible()
    done = FollowUp.objects.get(completed_at__isnull=False)
    assert (done.outcome, done.result) == ("Went to two meetings, liked it", "attending-regularly")
    screenshots(page, "staff-queue-done")
    assert User.objects.get(username="bob").is_active


def test_correcting_linking_and_removing_a_related_person(live_server, page, world):  # noqa: F811
    """Bob mistyped Morgan's phone number: he corrects it from Pat's timeline, links Morgan to her
    own record, sees a clear error for a reference outside his teams, then removes her."""
    morgan = actions.add_related_person(
        world.bob, world.pat, name="Morgan Example", relationship="sister", contact="+44 7700 900132"
    )
    own = actions.create_person(world.bob, world.detox, given_name="Morgan", family_name="Example")
    sign_in(page, live_server, f"/staff/people/{world.pat.pk}/")
    page.get_by_role("heading", name="Related people").scroll_into_view_if_needed()
    screenshots(page, "staff-person-related")
    page.get_by_role("link", name="Edit Morgan Example").click()
    page.get_by_role("heading", name="Edit a family member or concerned other", level=1).wait_for()
    assert page.get_by_label("Contact").input_value() == "+44 7700 900132"
    screenshots(page, "staff-related-edit")

    page.get_by_label("Contact").fill("+44 7700 900123")
    page.get_by_label("Their own record").fill(world.quinn.reference)
    page.get_by_role("button", name="Save changes").click()
    page.get_by_role("alert").filter(has_text="No one with the reference").wait_for()
    assert page.get_by_label("Contact").input_value() == "+44 7700 900123"  # nothing typed is lost
    assert page.get_by_label("Their own record").get_attribute("aria-invalid") == "true"
    screenshots(page, "staff-related-edit-error")

    page.get_by_label("Their own record").fill(own.reference)
    page.get_by_role("button", name="Save changes").click()
    page.get_by_text("Related person's details saved.").wait_for()
    morgan.refresh_from_db()
    assert (morgan.contact, morgan.as_person) == ("+44 7700 900123", own)

    page.get_by_role("link", name="Remove Morgan Example").click()
    page.get_by_role("heading", name="Remove a family member or concerned other", level=1).wait_for()
    screenshots(page, "staff-related-remove")
    page.get_by_role("button", name="Remove related person").click()
    page.get_by_text("Related person removed.").wait_for()
    assert not type(morgan).objects.filter(pk=morgan.pk).exists()
    assert page.get_by_text("No related people recorded.").is_visible()
