"""The pages in a real browser: Debian's Chromium driven by Playwright against a live server.

Each page is checked with axe-core (vendored, injected by the test, never
linked from a page) for serious or critical accessibility violations, and
photographed at phone and desktop widths into test-artifacts/screenshots/.
"""

import os
import re
import shutil
from datetime import time
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission, User
from icalendar import Calendar

from recoverybridge.directory.models import (
    Attribute,
    AttributeMapping,
    ChangeRequest,
    Fellowship,
)
from recoverybridge.directory.vocabulary import load_vocabulary
from tests.factories import make_location, make_meeting

playwright_sync = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = Path(settings.BASE_DIR) / "static" / "vendor" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(settings.PROJECT_DIR) / "test-artifacts" / "screenshots"
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not shutil.which("chromium") and not Path(CHROMIUM).exists(), reason="no chromium"),
]


@pytest.fixture(scope="module")
def chromium():
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # around it are ordinary synchronous ones.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with playwright_sync.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport=DESKTOP, locale="en-US", timezone_id="America/New_York")
    page = context.new_page()
    page.csp_violations = []  # type: ignore[attr-defined]
    page.on(
        "console",
        lambda message: (
            "Content Security Policy" in message.text and page.csp_violations.append(message.text)
        ),  # type: ignore[attr-defined]
    )
    yield page
    assert page.csp_violations == []  # type: ignore[attr-defined]
    context.close()


@pytest.fixture
def directory(transactional_db):
    # A transactional test empties every table after itself; put back what migrations loaded.
    load_vocabulary(Fellowship, Attribute, AttributeMapping)
    create_permissions(apps.get_app_config("directory"), verbosity=0)
    editors, _ = Group.objects.get_or_create(name="Directory editors")
    editors.permissions.add(Permission.objects.get(codename="review_changerequest"))
    lewes = make_location(name="Lewes Library", city="Lewes", postal_code="19958")
    rehoboth = make_location(
        name="Rehoboth Church",
        city="Rehoboth Beach",
        latitude=38.7209,
        longitude=-75.0760,
        postal_code="19971",
    )
    meetings = {
        "aa": make_meeting("aa", name="Lewes Serenity", location=lewes, attributes=("open", "women")),
        "smart": make_meeting("smart", name="Lewes SMART", location=lewes, start_time=time(18, 0)),
        "mara": make_meeting("mara", name="Beach MARA", location=rehoboth, moud_stance="welcoming"),
        "online_moud": make_meeting(
            "na",
            name="Online Welcome",
            location=None,
            attendance_mode="online",
            conference_url="https://meet.example.org/welcome",
            moud_stance="welcoming",
        ),
        "online_other": make_meeting(
            "aa",
            name="Online Daily",
            location=None,
            attendance_mode="online",
            conference_url="https://meet.example.org/daily",
        ),
    }
    return meetings


def check_accessibility(page) -> None:
    """axe-core's serious and critical violations on the page as it is now: there must be none."""
    # Evaluated through the DevTools protocol, so the page's content security policy does not apply.
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    bad = [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == []


def screenshots(page, name: str) -> None:
    """Full-page pictures at phone and desktop widths, for a person to look at; axe runs on both."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(size)
        check_accessibility(page)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def result_names(page) -> list[str]:
    return page.locator("#results ol.results").first.locator(".result-name a").all_inner_texts()


def test_search_by_place_then_moud_friendly_online_without_reloading(live_server, page, directory):
    page.goto(live_server.url + "/")
    screenshots(page, "search-start")
    page.evaluate("window.stillTheSamePage = true")
    page.get_by_label("Town, city or postcode").fill("Lewes")
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url(re.compile(r"where=Lewes"))
    page.locator("#results-heading").filter(has_text="near Lewes").wait_for()
    assert set(result_names(page)) >= {"Lewes Serenity", "Lewes SMART", "Beach MARA"}
    screenshots(page, "search-results")

    # The filters folded away after the search; opened again, each change updates the results.
    page.locator("#filters > summary").click()
    page.get_by_label("How").select_option("online")
    page.wait_for_url(re.compile(r"mode=online"))
    page.get_by_label("Welcomes people on medication for opioid use disorder (MOUD)").check()
    page.wait_for_url(re.compile(r"moud=on"))
    page.locator("#results-heading").filter(has_text="1 meeting near Lewes").wait_for()
    assert result_names(page) == ["Online Welcome"]
    assert page.locator("#result-status").inner_text() == "1 meeting found."
    # htmx swapped the results in place: no full page load happened.
    assert page.evaluate("window.stillTheSamePage") is True
    # The viewer's time zone went along (set by our script from the browser).
    assert "tz=America%2FNew_York" in page.url

    # The URL is the search: opening it afresh gives the same list.
    page.goto(page.url)
    assert result_names(page) == ["Online Welcome"]


def test_meeting_page_and_its_calendar_file(live_server, page, directory):
    page.goto(live_server.url + "/?where=19958&mode=in_person")
    page.get_by_role("link", name="Lewes SMART").click()
    page.get_by_role("heading", name="Lewes SMART", level=1).wait_for()
    assert page.get_by_text("Every Monday, 6 p.m. to 8 p.m.").is_visible()
    screenshots(page, "meeting")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Add to calendar (.ics)").click()
    calendar = Calendar.from_ical(Path(download_info.value.path()).read_bytes())
    event = calendar.walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == "Lewes SMART"
    assert event["DTSTART"].dt.time() == time(18, 0)
    assert event["DTSTART"].params["TZID"] == "America/New_York"
    assert event["RRULE"]["BYDAY"] == ["MO"]


def test_switching_to_spanish(live_server, page, directory):
    page.goto(live_server.url + "/which-group/")
    screenshots(page, "which-group")
    page.get_by_label("Language").first.select_option("es")
    # Choosing changes nothing until the button is pressed (WCAG 3.2.2).
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("button", name="Change").click()
    page.wait_for_load_state()
    page.get_by_role("heading", name="¿Qué grupo es para mí?").wait_for()
    assert page.locator("html").get_attribute("lang") == "es"
    page.goto(live_server.url + "/?where=Lewes&when=1")
    assert page.get_by_role("heading", name=re.compile("reuniones cerca de Lewes")).is_visible()
    assert page.get_by_role("button", name="Cerca de mí, empiezan pronto").is_visible()
    page.locator("#filters > summary").click()
    assert page.get_by_role("button", name="Buscar", exact=True).is_visible()
    screenshots(page, "search-results-es")


def test_reporting_a_change_and_an_editor_approving_it(live_server, page, directory):
    meeting = directory["smart"]
    page.goto(f"{live_server.url}/meetings/{meeting.pk}/")
    page.get_by_role("link", name="Something wrong? Report a change").click()
    page.get_by_role("button", name="Send report").click()  # empty: the form says what is missing
    page.get_by_role("alert").wait_for()
    screenshots(page, "report-change-errors")
    page.get_by_label("What is wrong or has changed?").fill("We start at half past six now.")
    page.get_by_label("Correct start time").fill("18:30")
    page.get_by_role("button", name="Send report").click()
    page.get_by_text("Thank you. An editor will check your report.").wait_for()
    change = ChangeRequest.objects.get(meeting=meeting)
    assert change.proposed == {"start_time": "18:30"} and change.status == "pending"

    editor = User.objects.create_user("eve", password="a long editor passphrase")
    editor.groups.add(Group.objects.get(name="Directory editors"))
    page.goto(f"{live_server.url}/editor/")
    page.get_by_label("Username").fill("eve")
    page.get_by_label("Password").fill("a long editor passphrase")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Change requests").wait_for()
    screenshots(page, "editor-queue")
    page.get_by_role("link", name="Lewes SMART").click()
    screenshots(page, "editor-review")
    page.get_by_role("button", name="Approve and apply").click()
    page.get_by_text("Change approved and applied.").wait_for()
    meeting.refresh_from_db()
    change.refresh_from_db()
    assert meeting.start_time == time(18, 30)
    assert change.reviewed_by == editor and change.reviewed_at is not None


def test_the_search_form_by_keyboard_alone(live_server, page, directory):
    page.goto(live_server.url + "/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    assert skip.evaluate("el => el === document.activeElement")
    assert skip.is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    # Tab forward to the place field, type a place, search with Enter.
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "where":
            break
    assert page.evaluate("document.activeElement.name") == "where"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # focus is visible
    page.keyboard.type("Lewes")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"where=Lewes"))
    # Focus went to the result count, the filters folded away just above it: back one step to
    # them, opened with Enter.
    page.locator("#results-heading:focus").wait_for()
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.tagName") == "SUMMARY"
    page.keyboard.press("Enter")
    # On to the MOUD checkbox, ticked with the space bar.
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "moud":
            break
    page.keyboard.press("Space")
    page.wait_for_url(re.compile(r"moud=on"))
    page.wait_for_function(
        "[...document.querySelector('#results ol.results').children]"
        ".every(item => item.querySelector('.badge-moud'))"
    )
    found = result_names(page)
    assert "Beach MARA" in found and set(found) <= {"Beach MARA", "Online Welcome"}
    screenshots(page, "search-keyboard")


def tab_to(page, condition: str, limit: int = 60, backwards: bool = False) -> None:
    """Press Tab (or Shift+Tab) until the focused element meets `condition` (a JS expression on `el`)."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        if page.evaluate(f"(() => {{ const el = document.activeElement; return !!({condition}); }})()"):
            # Where focus is, it shows (WCAG 2.4.7) and is not hidden behind anything (2.4.11).
            assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
            return
    raise AssertionError(f"no element meeting {condition} within {limit} presses of Tab")


def test_the_whole_finder_by_keyboard_alone_on_a_phone(live_server, page, directory):
    """Search, filters, results, the map and back, a meeting's actions, and a report of a change
    whose first try has errors: each reached and worked with the keyboard only, at 375 px."""
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + "/")
    tab_to(page, "el.name === 'where'")
    page.keyboard.type("Lewes")
    page.keyboard.press("Enter")
    page.locator("#results-heading:focus").wait_for()
    # The order of the results, changed from the keyboard.
    tab_to(page, "el.closest('.order-list') && el.textContent.trim() === 'Name'")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"sort=name"))
    page.locator("#results ol.results").wait_for()
    assert result_names(page) == sorted(result_names(page), key=str.casefold)
    # The map and back to the list.
    page.keyboard.press("Shift+Tab")  # focus was on the body or the results after the swap
    tab_to(page, "el.textContent.trim() === 'Show on a map'")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"view=map"))
    page.wait_for_function("() => document.getElementById('results-map').dataset.baseDrawn !== undefined")
    tab_to(page, "el.matches('.map-pin, .map-cluster')")
    page.keyboard.press("Enter")
    tab_to(page, "el.textContent.trim() === 'Show list only'", backwards=True)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "view=map" not in url)
    # A meeting, its actions by keyboard: save it on the device.
    tab_to(page, "el.closest('.result-name') && el.textContent.trim() === 'Lewes SMART'")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Lewes SMART").wait_for()
    tab_to(page, "el.id === 'save-meeting'")
    page.keyboard.press("Enter")
    page.get_by_text("Saved on this device.").wait_for()
    tab_to(page, "el.textContent.trim() === 'Add to calendar (.ics)'", backwards=True)
    # Report a change: sent empty first, the errors get focus, then corrected and sent.
    tab_to(page, "el.textContent.trim() === 'Something wrong? Report a change'")
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Send report").wait_for()
    tab_to(page, "el.type === 'submit' && el.textContent.trim() === 'Send report'")
    page.keyboard.press("Enter")
    page.get_by_role("alert").wait_for()
    assert page.evaluate("!!document.activeElement.closest('.form-errors')")
    screenshots(page, "report-change-keyboard-errors")
    page.set_viewport_size(PHONE)
    tab_to(page, "el.name === 'message'")
    page.keyboard.type("The meeting now starts at half past six.")
    tab_to(page, "el.type === 'submit' && el.textContent.trim() === 'Send report'")
    page.keyboard.press("Enter")
    page.get_by_text("Thank you. An editor will check your report.").wait_for()
    assert ChangeRequest.objects.filter(meeting=directory["smart"]).count() == 1
