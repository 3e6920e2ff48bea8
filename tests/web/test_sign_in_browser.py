"""Signing in, where each role starts, and the pages around it, in a real browser (Debian's
Chromium, Playwright, axe-core). Every journey signs in through the sign-in form. Screenshots at
phone and desktop widths in test-artifacts/screenshots/signin-*.png.

- each demo role signs in and lands on its own start page;
- the public pages around signing in (the form, a wrong password, signing out, the pause after
  five wrong passwords, our 403, 404, 500 and expired-form pages), in English and Spanish;
- alice reviews the team: team dashboard, an overdue follow-up's person, the completion page;
- cora reaches evaluation and sees no person-level page: each is our 403 or 404 page;
- the self-completion questionnaire by keyboard alone, pressing Enter on the answers;
- the caseload filter fits a 320 px screen at 200% text.
"""

import datetime
import re

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from recoverybridge.care import actions as care
from recoverybridge.care.models import EpisodeKind
from recoverybridge.directory.models import Attribute, AttributeMapping, Fellowship
from recoverybridge.directory.vocabulary import load_vocabulary
from recoverybridge.outcomes import actions as outcomes
from recoverybridge.outcomes.models import Response, ResponseStatus, ScheduledAssessment, TimePoint
from tests.care_world import World, build_world
from tests.web.test_browser import (  # noqa: F401  (fixtures)
    DESKTOP,
    SCREENSHOTS,
    check_accessibility,
    chromium,
    page,
    screenshots,
)
from tests.workspace.test_landing import PASSWORD, STARTS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
# Each role's start page (its view and main heading) as the sign-in tests with the test client
# have it; the same password.


@pytest.fixture
def world(transactional_db) -> World:
    # A transactional test empties every table after itself; put back what migrations loaded.
    load_vocabulary(Fellowship, Attribute, AttributeMapping)
    world = build_world()
    for organisation in (world.harbour, world.county):
        organisation.area = "East Sussex"  # Cora's area: her evaluation reports cover Harbour
        organisation.save()
    for username in STARTS:
        user = world.user(username)
        user.first_name = username.capitalize()
        user.set_password(PASSWORD)
        user.save()
    return world


def sign_in(page, base: str, username: str, password: str = PASSWORD, next_path: str = "") -> None:  # noqa: F811
    """Through the form, as a person would (the fields found by their labels' ids in any language)."""
    page.goto(f"{base}/accounts/login/" + (f"?next={next_path}" if next_path else ""))
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.locator("form.stack-form button[type=submit]").click()
    page.wait_for_load_state()


def new_page(chromium, language: str):  # noqa: F811
    context = chromium.new_context(
        viewport=DESKTOP, locale={"en": "en-GB", "es": "es-ES"}[language], timezone_id="Europe/London"
    )
    return context.new_page()


@pytest.mark.parametrize("username", sorted(STARTS))
def test_each_role_signs_in_and_lands_on_its_start_page(live_server, page, world, username):  # noqa: F811
    sign_in(page, live_server.url, username)
    view, heading = STARTS[username]
    page.get_by_role("heading", name=heading, level=1).wait_for()
    assert page.url == live_server.url + reverse(view)
    assert page.locator("#id_password").count() == 0
    if username != "ada":  # the admin is Django's own page, with its own menu
        nav = page.get_by_role("navigation", name="Staff")
        assert nav.get_by_role("button", name="Sign out").is_visible()
        assert (nav.get_by_role("link", name="Add a person").count() == 1) is (
            username in {"alice", "sam", "bob", "carol", "dave", "nina"}
        )
    screenshots(page, f"signin-home-{username}")


@pytest.mark.urls("tests.workspace.boom_urls")
@pytest.mark.parametrize("language", ["en", "es"])
def test_the_pages_around_signing_in_in_english_and_spanish(live_server, chromium, world, language):  # noqa: F811
    words = {
        "en": {
            "sign_in": "Sign in",
            "wrong": "did not match",
            "signed_out": "You are signed out",
            "paused": "Sign-in paused",
            "again": "You can try again in 1",
            "cannot": "You cannot open this page",
            "not_found": "Page not found",
            "broken": "Something went wrong on our side",
            "expired": "This form has expired",
            "sign_out": "Sign out",
            "back": "Back to the sign-in page",
        },
        "es": {
            "sign_in": "Iniciar sesión",
            "wrong": "no coinciden",
            "signed_out": "Ha cerrado la sesión",
            "paused": "Inicio de sesión en pausa",
            "again": "Puede volver a intentarlo dentro de 1",
            "cannot": "No puede abrir esta página",
            "not_found": "Página no encontrada",
            "broken": "Algo ha fallado por nuestra parte",
            "expired": "Este formulario ha caducado",
            "sign_out": "Cerrar sesión",
            "back": "Volver a la página de inicio de sesión",
        },
    }[language]
    page = new_page(chromium, language)  # noqa: F811
    base = live_server.url

    def shot(name: str) -> None:
        assert page.locator("html").get_attribute("lang") == language
        assert page.title().endswith("· RecoveryBridge")
        screenshots(page, f"signin-{name}-{language}")

    page.goto(f"{base}/accounts/login/")
    page.get_by_role("heading", name=words["sign_in"], level=1).wait_for()
    shot("form")
    sign_in(page, base, "bob", password="not the password")
    page.get_by_role("alert").filter(has_text=words["wrong"]).wait_for()
    shot("wrong-password")

    # Bob opens a page his role does not include: our 403, with his start page a click away.
    sign_in(page, base, "bob", next_path="/staff/evaluation/")
    assert page.url == base + "/staff/"  # not a page he may open: his start page instead
    response = page.goto(f"{base}/staff/evaluation/")
    assert response.status == 403
    page.get_by_role("heading", name=words["cannot"], level=1).wait_for()
    shot("403")
    page.goto(f"{base}/staff/people/999999/")
    page.get_by_role("heading", name=words["not_found"], level=1).wait_for()
    shot("404")
    response = page.goto(f"{base}/boom/")
    assert response.status == 500
    page.get_by_role("heading", name=words["broken"], level=1).wait_for()
    shot("500")
    page.goto(f"{base}/staff/")
    page.get_by_role("button", name=words["sign_out"]).click()
    page.get_by_role("heading", name=words["signed_out"], level=1).wait_for()
    shot("signed-out")

    # A form sent after its security cookie is gone (a page left open too long): our page.
    page.goto(f"{base}/accounts/login/")
    page.context.clear_cookies()
    page.locator("#id_username").fill("bob")
    page.locator("#id_password").fill(PASSWORD)
    page.locator("form.stack-form button[type=submit]").click()
    page.get_by_role("heading", name=words["expired"], level=1).wait_for()
    shot("expired-form")

    # Five wrong passwords: signing in pauses, and the page says what happened and when to try again.
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(page, base, "carol", password="a wrong guess")
    page.get_by_role("heading", name=words["paused"], level=1).wait_for()
    assert page.get_by_text(words["again"]).is_visible()
    shot("paused")
    sign_in(page, base, "carol")  # even the right password waits
    page.get_by_role("heading", name=words["paused"], level=1).wait_for()
    page.get_by_role("link", name=words["back"]).click()
    page.get_by_role("heading", name=words["sign_in"], level=1).wait_for()
    page.context.close()


def test_alice_reviews_the_team(live_server, page, world):  # noqa: F811
    """Alice, the Detox team's manager, signs in on her team dashboard, sees Bob's overdue
    follow-up with Pat, opens Pat's timeline from it, then the assessment completion page."""
    smart = Fellowship.objects.get(slug="smart")
    three_weeks_ago = timezone.now() - datetime.timedelta(days=21)
    care.create_referral(
        world.bob, world.pat, target_kind="fellowship", fellowship=smart, now=three_weeks_ago
    )
    episode = care.start_episode(
        world.bob,
        world.pat,
        kind=EpisodeKind.DETOX,
        started_on=timezone.localdate() - datetime.timedelta(days=100),
    )
    outcomes.generate_schedule(world.bob, episode)
    baseline = ScheduledAssessment.objects.get(
        episode=episode, instrument="barc-10", time_point=TimePoint.BASELINE
    )
    outcomes.record_response(
        world.bob,
        world.pat,
        "barc-10",
        {f"barc-{n}": "4" for n in range(1, 11)},
        time_point=TimePoint.BASELINE,
        scheduled=baseline,
    )

    sign_in(page, live_server.url, "alice")
    page.get_by_role("heading", name="Team dashboard", level=1).wait_for()
    assert page.url == live_server.url + "/staff/team/"
    who = page.locator("section", has=page.get_by_role("heading", name="Who has overdue follow-ups"))
    assert who.get_by_role("row", name=re.compile("^Bob 1 Overdue by 2")).is_visible()
    screenshots(page, "signin-alice-team")

    queue = page.locator("section", has=page.get_by_role("heading", name="The teams' follow-ups due"))
    overdue = queue.locator(".follow-up.is-overdue")
    assert overdue.count() == 1 and "for Bob" in overdue.inner_text()
    overdue.get_by_role("link", name="Pat Example").click()
    page.get_by_role("heading", name="Pat Example", level=1).wait_for()
    screenshots(page, "signin-alice-person")

    page.get_by_role("link", name="Team dashboard").click()
    page.get_by_role("link", name="Assessment completion by team").first.click()
    page.get_by_role("heading", name="Assessment completion by team", level=1).wait_for()
    detox = page.get_by_role("row", name=re.compile("Harbour Recovery, Detox"))
    assert detox.get_by_role("cell").all_inner_texts()[:2] == [
        "12",
        "1",
    ]  # 3 time points (0, 1, 3 months) of 4 instruments due, 1 done
    screenshots(page, "signin-alice-completion")


def test_cora_reaches_evaluation_and_sees_no_person_level_page(live_server, page, world):  # noqa: F811
    """Cora, a commissioner, starts on evaluation; every page about a person is our 404 (or a 403
    for a page her role does not include), never the sign-in form and never the person."""
    smart = Fellowship.objects.get(slug="smart")
    referral = care.create_referral(world.bob, world.pat, target_kind="fellowship", fellowship=smart)
    sign_in(page, live_server.url, "cora")
    page.get_by_role("heading", name="Evaluation reports", level=1).wait_for()
    assert page.url == live_server.url + "/staff/evaluation/"
    nav = page.get_by_role("navigation", name="Staff")
    assert nav.get_by_role("link").all_inner_texts() == ["Evaluation"]
    assert page.get_by_role("link", name="Add a person").count() == 0
    screenshots(page, "signin-cora-evaluation")

    person = f"/staff/people/{world.pat.pk}"
    pages = [
        f"{person}/",
        f"{person}/edit/",
        f"{person}/refer/",
        f"{person}/consent/",
        f"{person}/audit/",
        f"{person}/episodes/new/",
        f"{person}/contacts/new/",
        f"{person}/related/new/",
        f"{person}/outcomes/",
        f"{person}/outcomes/links/new/",
        f"{person}/outcomes/enter/barc-10/",
        f"/staff/referrals/{referral.pk}/",
        f"/staff/referrals/{referral.pk}/take-away.pdf",
        "/staff/",
        "/staff/queue/",
        "/staff/team/",
        "/staff/people/new/",
        "/staff/outcomes/teams/",
    ]
    for path in pages:
        response = page.goto(live_server.url + path)
        assert response.status in (403, 404), path
        heading = page.get_by_role("heading", level=1).inner_text()
        assert heading in {"Page not found", "You cannot open this page"}, path
        assert page.locator("#id_password").count() == 0, path
        assert "Pat" not in page.locator("main").inner_text(), path
    page.goto(f"{live_server.url}{person}/")
    screenshots(page, "signin-cora-person-404")
    page.goto(f"{live_server.url}/staff/people/new/")
    assert page.get_by_text("Only members of a care team may add people.").is_visible()
    screenshots(page, "signin-cora-add-person-403")


def test_the_questionnaire_by_keyboard_alone(live_server, page, world):  # noqa: F811
    """Pat answers every question with the keyboard only: Tab to the answers, Space to choose, and
    Enter to go on; from question 2 on, Enter must save and continue, never go "Back"."""
    _invitation, token = outcomes.create_invitation(world.bob, world.pat, instrument_id="barc-10")
    page.goto(f"{live_server.url}/q/{token}/")
    page.get_by_text("Question 1 of 10").first.wait_for()
    for n in range(1, 11):
        for _ in range(30):  # Tab forward to the first answer of the question
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.type") == "radio":
                break
        assert page.evaluate("document.activeElement.type") == "radio"
        page.keyboard.press("ArrowDown")  # moves to and chooses the second answer
        if n == 2:
            screenshots(page, "signin-questionnaire-keyboard")
        page.keyboard.press("Enter")
        if n < 10:  # on, never back
            page.get_by_text(f"Question {n + 1} of 10").first.wait_for(timeout=10_000)
    page.get_by_role("heading", name="Send your answers").wait_for()
    assert page.get_by_text("You answered 10 of 10 questions.").is_visible()
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Send my answers":
            break
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Thank you").wait_for()
    response = Response.objects.get()
    assert response.status == ResponseStatus.COMPLETED
    assert sorted(response.answers) == sorted(f"barc-{n}" for n in range(1, 11))


def test_the_caseload_filter_fits_320px_at_200_percent_text(live_server, page, world):  # noqa: F811
    """WCAG 1.4.4 and 1.4.10: at 320 CSS px wide with text at 200% nothing may need sideways
    scrolling. Text is enlarged as a person would enlarge it, with the browser's own font-size
    setting (Chromium's default font size, 16 px to 32 px, through the DevTools protocol): the
    page's rem and em sizes follow it; its pixel sizes, as under a real text-only zoom, do not."""
    for n in range(30):
        care.create_person(
            world.bob, world.detox, given_name=f"Person{n}", family_name="Withaverylongfamilyname"
        )
    sign_in(page, live_server.url, "bob", next_path="/staff/?show=team")
    page.get_by_role("heading", name="My dashboard", level=1).wait_for()
    page.set_viewport_size({"width": 320, "height": 640})
    cdp = page.context.new_cdp_session(page)
    cdp.send("Page.setFontSizes", {"fontSizes": {"standard": 32, "fixed": 26}})
    page.reload()
    assert page.evaluate("getComputedStyle(document.documentElement).fontSize") == "32px"
    form = page.get_by_role("search", name="Caseload")
    form.scroll_into_view_if_needed()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    box = form.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 320
    # The caseload table keeps its words whole and scrolls in its own region (WCAG 1.4.10 lets a
    # data table do so), not the page.
    region = page.get_by_role("region", name="Caseload", exact=True)
    assert region.evaluate("el => el.scrollWidth > el.clientWidth")
    # The screen as the person sees it (a full-page capture would lay the page out again at 100%).
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "signin-caseload-320px-200pct.png"))
    check_accessibility(page)
