"""Referral with facilitation, as Bob walks it in a real browser (Debian's Chromium, Playwright,
axe-core), screenshots at phone and desktop widths in test-artifacts/screenshots/journey-*.png.

Bob signs in through the sign-in form, takes in Lucía (Spanish-speaking, living in Lewes, on
London time), starts a referral, talks through what matters to her and what might get in the
way, chooses options with her (a Spanish online group that meets in Toronto among them), picks
Bridge Peer Network, needs her consent for it, records it and comes back with every answer
kept, asks for a member to go along with her, plans the follow-ups, sends; a week later he
records that she went, and the referral shows the milestone. Then the key pages in Spanish.
"""

import re
from datetime import time, timedelta

import pytest
import sms
from django.utils import timezone

from recoverybridge.care import actions
from recoverybridge.care.models import (
    AttendanceAsk,
    FollowUp,
    IntroductionRequest,
    Person,
    Referral,
    ReferralDraft,
    ReferralOption,
)
from recoverybridge.directory.models import Attribute, AttributeMapping, Fellowship
from recoverybridge.directory.vocabulary import load_vocabulary
from recoverybridge.outcomes import actions as outcomes
from tests.care_world import build_world
from tests.factories import make_location, make_meeting
from tests.web.test_browser import PHONE, chromium, page, screenshots  # noqa: F401  (fixtures)

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
    world.bob.first_name, world.bob.last_name = "Bob", "Baker"
    world.bob.set_password(PASSWORD)
    world.bob.save()
    town = make_location(
        name="Lewes Town Hall",
        city="Lewes",
        postal_code="BN7 2AA",
        latitude=50.873,
        longitude=0.009,
        timezone="Europe/London",
    )
    edge = make_location(
        name="Ringmer Village Hall", city="Ringmer", latitude=50.89, longitude=0.05, timezone="Europe/London"
    )
    for n, slug in enumerate(["aa", "aa", "na", "ca"]):
        make_meeting(slug, location=town, name=f"Lewes {slug.upper()} {n}")
    for slug, name in [
        ("smart", "Ringmer SMART Recovery"),
        ("celebrate-recovery", "Ringmer Celebrate Recovery"),
        ("wellbriety", "Ringmer Wellbriety Circle"),
        ("mara", "Ringmer MARA"),
        ("recovery-dharma", "Ringmer Recovery Dharma"),
    ]:
        make_meeting(slug, location=edge, name=name, start_time=time(18, 30))
    # Thursdays 2 p.m. in Toronto: 7 p.m. in London (6 p.m. in the weeks the two clocks disagree).
    make_meeting(
        "na",
        location=None,
        attendance_mode="online",
        conference_url="https://meet.example.org/grupo",
        name="Grupo Nueva Vida (en línea)",
        weekday=4,
        start_time=time(14, 0),
        end_time=time(15, 0),
        timezone="America/Toronto",
        attributes=("language-es",),
    )
    return world


def sign_in(page, live_server, next_path: str) -> None:  # noqa: F811
    page.goto(f"{live_server.url}/accounts/login/?next={next_path}")
    page.get_by_label("Username").fill("bob")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(next_path) + "$"))


def next_step(page, name: str) -> None:  # noqa: F811
    page.get_by_role("button", name=name).click()


def test_referral_with_facilitation(live_server, page, world):  # noqa: F811
    sign_in(page, live_server, "/staff/people/new/")

    # Take in a new person: Spanish-speaking, on London time; Bob is her navigator by default.
    page.get_by_role("heading", name="Add a person", level=1).wait_for()
    page.get_by_label("Given name").fill("Lucía")
    page.get_by_label("Family name").fill("Torres")
    page.get_by_label("Town or postcode").fill("Lewes")
    page.get_by_label("Phone").fill("07911 123456")
    page.get_by_label("Preferred language").select_option("es")
    page.get_by_label("Time zone").select_option("Europe/London")
    assert page.get_by_label("Navigator").input_value() == str(world.bob.pk)
    screenshots(page, "journey-add-person")
    page.get_by_role("button", name="Add person").click()
    page.get_by_role("heading", name="Lucía Torres", level=1).wait_for()
    lucia = Person.objects.get(given_name="Lucía")
    assert (lucia.preferred_language, lucia.time_zone, lucia.navigator) == ("es", "Europe/London", world.bob)

    # Facilitate: what matters to her, and what might get in the way.
    page.get_by_role("link", name="Refer", exact=True).click()
    page.get_by_role("heading", name=re.compile("Step 1 of 6")).wait_for()
    assert page.get_by_label("Language of the group").input_value() == "es"
    page.get_by_label("Secular", exact=True).check()  # a kind of group she would like
    page.get_by_label("Transport: hard to get there").check()
    page.get_by_label("Work or study hours").check()
    page.get_by_label("Note on what might get in the way").fill("Works until 6 on weekdays.")
    screenshots(page, "journey-what-matters")
    next_step(page, "Next: options to try")

    # The options, re-ranked for her, each with its reasons and language; every kind still there.
    page.get_by_role("heading", name=re.compile("Step 2 of 6")).wait_for()
    names = page.locator(".option .check label").all_inner_texts()
    assert names[0] == "Grupo Nueva Vida (en línea)"
    first = page.locator(".option").first
    assert "In Spanish" in first.inner_text() and "Online: no travel needed" in first.inner_text()
    assert re.search(
        r"Every Thursday, [67] p\.m\. to [78] p\.m\. their time \(2 p\.m\. in Toronto\)", first.inner_text()
    )
    for kind in ["Twelve-step", "Secular", "Faith-based", "Indigenous", "Medication-assisted", "Other"]:
        assert page.locator(".option .kind-label", has_text=kind).count() >= 1, kind
    assert page.locator(".option .badge-language").count() == page.locator(".option").count()
    screenshots(page, "journey-options")
    page.get_by_label("Grupo Nueva Vida (en línea)").check()
    page.get_by_label("Ringmer SMART Recovery").check()
    next_step(page, "Next: what to refer to")

    # Bridge Peer Network: no consent on record, so the detour, and back with everything kept.
    page.get_by_role("heading", name=re.compile("Step 3 of 6")).wait_for()
    page.get_by_label("Another organisation").check()
    page.get_by_label("Organisation", exact=True).select_option(label="Bridge Peer Network")
    page.get_by_label("Reason").fill("Peer support in Spanish after detox")
    next_step(page, "Next: contact with a member")
    page.get_by_role("alert").filter(has_text="Consent needed").wait_for()
    screenshots(page, "journey-consent-needed")
    page.get_by_role("link", name="Record their consent to share with this organisation").click()
    page.get_by_role("heading", name="Record consent", level=1).wait_for()
    assert page.get_by_label("Recipient").input_value() == str(world.bridge.pk)
    page.get_by_label("What may be shared").fill("Her referral and contact details")
    page.get_by_role("button", name="Record consent").click()
    page.get_by_role("heading", name=re.compile("Step 3 of 6")).wait_for()
    page.get_by_text("Consent recorded.").wait_for()
    assert page.get_by_label("Another organisation").is_checked()
    assert page.get_by_label("Organisation", exact=True).input_value() == str(world.bridge.pk)
    assert page.get_by_label("Reason").input_value() == "Peer support in Spanish after detox"
    assert page.get_by_role("alert").filter(has_text="Consent needed").count() == 0
    kept = page.locator(".plain-list").first.inner_text()
    assert "Grupo Nueva Vida (en línea)" in kept and "Ringmer SMART Recovery" in kept
    page.get_by_role("link", name="What matters to them").click()
    assert page.get_by_label("Transport: hard to get there").is_checked()
    assert (
        page.get_by_label("Note on what might get in the way").input_value() == "Works until 6 on weekdays."
    )
    page.get_by_role("link", name="What to refer to").click()
    next_step(page, "Next: contact with a member")

    # Assertive linkage: a member goes along to the first meeting.
    page.get_by_role("heading", name=re.compile("Step 4 of 6")).wait_for()
    page.get_by_label("A member goes along to the first meeting").check()
    page.get_by_label("Anything the member should know").fill("Evenings after 6 are best.")
    screenshots(page, "journey-contact")
    next_step(page, "Next: follow-up")

    # Follow-up that Bob plans: the suggested two, one more, one moved, one removed.
    page.get_by_role("heading", name=re.compile("Step 5 of 6")).wait_for()
    today = timezone.localdate()
    assert page.get_by_label("Follow-up 1").input_value() == (today + timedelta(days=7)).isoformat()
    assert page.get_by_label("Follow-up 2").input_value() == (today + timedelta(days=28)).isoformat()
    page.get_by_role("button", name="Add another follow-up").click()
    page.get_by_label("Follow-up 3").wait_for()
    assert page.get_by_label("Follow-up 3").input_value() == (today + timedelta(days=35)).isoformat()
    page.get_by_label("Follow-up 1").fill((today + timedelta(days=8)).isoformat())
    page.get_by_role("button", name="Remove follow-up 2").click()
    page.get_by_label("Follow-up 2").wait_for()
    assert page.get_by_label("Follow-up 3").count() == 0
    screenshots(page, "journey-follow-up-plan")
    # Enter in a date goes on to the next step (the first submit button is "Next", not "Remove").
    page.get_by_label("Follow-up 1").press("Enter")

    # Check and send.
    page.get_by_role("heading", name=re.compile("Step 6 of 6")).wait_for()
    screenshots(page, "journey-check-and-send")
    page.get_by_role("button", name="Send referral").click()
    page.get_by_text("Referral sent.").wait_for()
    referral = Referral.objects.get(person=lucia)
    assert referral.target_organisation == world.bridge and referral.consent is not None
    assert sorted(referral.follow_ups.values_list("due_on", flat=True)) == [
        today + timedelta(days=8),
        today + timedelta(days=35),
    ]
    assert set(referral.barriers.values_list("code", flat=True)) == {"transport", "work_hours"}
    assert referral.barrier_note == "Works until 6 on weekdays."
    chosen = set(
        ReferralOption.objects.filter(referral=referral, chosen=True).values_list("meeting__name", flat=True)
    )
    assert chosen == {"Grupo Nueva Vida (en línea)", "Ringmer SMART Recovery"}
    assert IntroductionRequest.objects.get(referral=referral).kind == "accompany"
    assert not ReferralDraft.objects.exists()
    screenshots(page, "journey-referral-sent")

    # The work queue shows what Bob planned.
    page.get_by_role("link", name="Work queue").first.click()
    page.get_by_role("heading", name="Work queue", level=1).wait_for()
    planned = page.locator(
        "section", has=page.get_by_role("heading", name=re.compile("^(Coming up|Planned later)"))
    )
    assert planned.locator(".follow-up", has_text="Lucía Torres").count() == 2
    assert (
        page.locator("section", has=page.get_by_role("heading", name=re.compile("^Contact with a member")))
        .get_by_text("Lucía Torres")
        .count()
        == 1
    )
    screenshots(page, "journey-queue")

    # She agrees to texts; Bob sends her the meetings she chose, and asks after the first one.
    page.goto(f"{live_server.url}/staff/people/{lucia.pk}/consent/")
    page.get_by_label("Purpose").select_option("messages_by_text")
    page.get_by_role("button", name="Record consent").click()
    page.get_by_text("Consent recorded.").wait_for()
    page.goto(f"{live_server.url}/staff/referrals/{referral.pk}/")
    send = page.locator("form.send-meetings")
    assert send.get_by_label(re.compile("^By text message to")).is_checked()
    assert send.get_by_label(re.compile("^After the first meeting")).is_checked()
    screenshots(page, "journey-send-meetings")
    send.get_by_role("button", name="Send the meetings").click()
    page.get_by_text("2 meetings sent.").wait_for()
    texts = sorted(message.body for message in sms.outbox)
    assert len(texts) == 2 and all(t.startswith("Reunión:") for t in texts), texts
    assert not any("Lucía" in t or "Torres" in t for t in texts)
    page.get_by_text(re.compile("will be asked how it went")).wait_for()

    # After the first meeting the task worker sends her private link; she answers on her phone.
    ask = AttendanceAsk.objects.get(referral=referral)
    sms.outbox = []
    assert outcomes.send_attendance_links(now=ask.due_at) == 1
    [text] = sms.outbox
    link = re.search(r"https?://\S+/q/[\w-]+/", text.body).group(0)
    path = link[link.index("/q/") :]
    person = page.context.browser.new_page(locale="es-ES")
    person.set_viewport_size(PHONE)
    person.goto(f"{live_server.url}{path}")
    person.get_by_role("heading", name="¿Cómo le fue?", level=1).wait_for()
    assert person.locator("html").get_attribute("lang") == "es"
    screenshots(person, "journey-person-answers")
    person.get_by_label("Algo se lo impidió").check()
    person.get_by_role("button", name="Enviar mi respuesta").click()
    person.get_by_role("alert").wait_for()
    screenshots(person, "journey-person-answers-error")
    person.get_by_label("Transporte: le cuesta llegar").check()
    person.get_by_role("button", name="Enviar mi respuesta").click()
    person.get_by_role("heading", level=1).filter(has_text="Gracias").wait_for()
    screenshots(person, "journey-person-thanks")
    person.close()

    # Bob sees the loop closed by her own answer, and what got in the way.
    page.reload()
    answered = page.locator(".follow-up-plan li", has_text="answered by the person")
    assert "Something got in the way" in answered.inner_text()
    assert "Transport: hard to get there" in answered.inner_text()
    screenshots(page, "journey-loop-closed")

    # A week on, Bob calls her: she went. The referral shows the milestone.
    page.goto(f"{live_server.url}/staff/referrals/{referral.pk}/")
    page.get_by_role("link", name=re.compile("^Record how it went")).first.click()
    page.get_by_role("heading", name=re.compile("Record a follow-up")).wait_for()
    screenshots(page, "journey-follow-up-record")
    page.get_by_label("Went", exact=True).check()
    page.get_by_label("Note").fill("Went with the member on Thursday; liked it.")
    page.get_by_role("button", name="Record follow-up").click()
    page.get_by_text("Follow-up recorded.").wait_for()
    page.get_by_text("Attended first meeting").first.wait_for()
    referral.refresh_from_db()
    assert referral.business_status == "attended-first-meeting"
    told = FollowUp.objects.filter(referral=referral, completed_at__isnull=False).order_by("completed_at")
    assert [(f.result, f.reported_by) for f in told] == [("barrier", "person"), ("attended", "worker")]
    screenshots(page, "journey-milestone")


def test_the_journeys_key_pages_in_spanish(live_server, page, world):  # noqa: F811
    """A Spanish-speaking worker: the same steps, in Spanish, with dates and times as Spain writes them."""
    lucia = actions.create_person(
        world.bob,
        world.detox,
        given_name="Lucía",
        family_name="Torres",
        latitude=50.873,
        longitude=0.009,
        preferred_language="es",
        time_zone="Europe/Madrid",
        navigator=world.bob,
    )
    sign_in(page, live_server, f"/staff/people/{lucia.pk}/")
    page.get_by_label("Language").first.select_option("es")
    page.get_by_role("button", name="Change").click()  # choosing alone changes nothing (WCAG 3.2.2)
    page.wait_for_load_state()
    page.get_by_role("heading", name="Lucía Torres", level=1).wait_for()
    assert page.locator("html").get_attribute("lang") == "es"
    screenshots(page, "journey-es-person")
    page.get_by_role("link", name="Derivar", exact=True).click()
    page.get_by_role("heading", name=re.compile("Paso 1 de 6")).wait_for()
    page.get_by_label("Transporte: le cuesta llegar").check()
    screenshots(page, "journey-es-what-matters")
    next_step(page, "Siguiente: opciones para probar")
    page.get_by_role("heading", name=re.compile("Paso 2 de 6")).wait_for()
    first = page.locator(".option").first
    assert "En español" in first.inner_text() or "En Español" in first.inner_text()
    assert re.search(
        r"Cada jueves, de (19|20):00 a (20|21):00 su hora \(14:00 en Toronto\)", first.inner_text()
    )
    screenshots(page, "journey-es-options")
    page.get_by_label("Grupo Nueva Vida (en línea)").check()
    next_step(page, "Siguiente: a qué derivar")
    page.get_by_role("heading", name=re.compile("Paso 3 de 6")).wait_for()
    next_step(page, "Siguiente: contacto con un miembro")
    next_step(page, "Siguiente: seguimiento")
    page.get_by_role("heading", name=re.compile("Paso 5 de 6")).wait_for()
    screenshots(page, "journey-es-follow-up-plan")
    next_step(page, "Siguiente: revisar y enviar")
    page.get_by_role("heading", name=re.compile("Paso 6 de 6")).wait_for()
    screenshots(page, "journey-es-check-and-send")
    page.get_by_role("button", name="Enviar la derivación").click()
    page.get_by_text("Derivación enviada.").wait_for()
    screenshots(page, "journey-es-referral")
    page.get_by_role("link", name=re.compile("^Registrar cómo le fue")).first.click()
    page.get_by_role("heading", name=re.compile("Registrar un seguimiento")).wait_for()
    screenshots(page, "journey-es-follow-up-record")
