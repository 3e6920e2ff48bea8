"""The finder on a phone: "Near me, starting soon" in one tap, in English and in Spanish.

Sam stands in Lewes with a phone (320 or 375 px wide) or at a desktop (1280 px). The
browser shares Sam's position and time zone. One tap on "Near me, starting soon" must put the
first result inside the first screen, soonest first (two meetings at the same minute: the
nearer first), each card saying its language, online meetings in Sam's language before those
held in another, and focus on the result count for a screen reader. Then Sam asks for the
nearest first. axe runs on every state; screenshots go to test-artifacts/screenshots/.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.contrib.auth.management import create_permissions

from recoverybridge.directory.models import Attribute, AttributeMapping, Fellowship
from recoverybridge.directory.vocabulary import load_vocabulary
from tests.factories import make_location, make_meeting
from tests.web.test_browser import CHROMIUM_ARGS, SCREENSHOTS, check_accessibility, chromium  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

NEW_YORK = ZoneInfo("America/New_York")
LEWES = {"latitude": 38.7746, "longitude": -75.1393}
SIZES = {
    320: {"width": 320, "height": 568},
    375: {"width": 375, "height": 812},
    1280: {"width": 1280, "height": 900},
}
WORDS = {
    "en": {
        "locale": "en-US",
        "near_me": "Near me, starting soon",
        "nearest": "Nearest first",
        "soonest": "Soonest first",
        "spanish": "Language: Spanish",
        "english": "Language: English",
        "filters": "Place, time and filters",
        "in_use": "2 in use",
        "other_last": "Online meetings in other languages come after the rest.",
    },
    "es": {
        "locale": "es-ES",
        "near_me": "Cerca de mí, empiezan pronto",
        "nearest": "Las más cercanas",
        "soonest": "Las que empiezan antes",
        "spanish": "Idioma: Español",
        "english": "Idioma: Inglés",
        "filters": "Lugar, hora y filtros",
        "in_use": "2 en uso",
        "other_last": "Las reuniones en línea en otros idiomas van después de las demás.",
    },
}


def starting_in(minutes: int) -> dict:
    """A weekly meeting whose next start, in New York's wall clock, is `minutes` from now."""
    start = (datetime.now(NEW_YORK) + timedelta(minutes=minutes)).replace(second=0, microsecond=0)
    return {"weekday": (start.weekday() + 1) % 7, "start_time": start.time(), "end_time": None}


@pytest.fixture
def nearby(transactional_db):
    """Meetings starting in the next hour around Lewes, made relative to the real clock (the
    live server's), so "starting soon" has something to find whatever time the test runs."""
    load_vocabulary(Fellowship, Attribute, AttributeMapping)
    create_permissions(apps.get_app_config("directory"), verbosity=0)
    lewes = make_location(name="Lewes Library", city="Lewes")
    beach = make_location(name="Rehoboth Church", city="Rehoboth Beach", latitude=38.7209, longitude=-75.0760)
    milton = make_location(name="Milton Hall", city="Milton", latitude=38.7776, longitude=-75.3099)
    # Made first, so only the distance (not the id) can put it after Lewes at the same minute.
    make_meeting("smart", name="Beach SMART", location=beach, **starting_in(30))
    make_meeting("aa", name="Lewes Early", location=lewes, attributes=("open",), **starting_in(15))
    make_meeting("mara", name="Lewes MARA", location=lewes, moud_stance="welcoming", **starting_in(30))
    make_meeting("na", name="Milton NA", location=milton, **starting_in(45))
    make_meeting(
        "aa",
        name="Grupo en línea",
        location=lewes,
        attendance_mode="online",
        conference_url="https://meet.example.org/es",
        attributes=("language-es",),
        **starting_in(20),
    )
    make_meeting(
        "aa",
        name="Online English",
        location=lewes,
        attendance_mode="online",
        conference_url="https://meet.example.org/en",
        attributes=("language-en",),
        **starting_in(35),
    )
    make_meeting("aa", name="Lewes Tonight", location=lewes, **starting_in(180))  # not "starting soon"


# Soonest first, nearer first at the same minute; the online meeting in the other language last.
EXPECTED = {
    "en": ["Lewes Early", "Lewes MARA", "Beach SMART", "Online English", "Milton NA", "Grupo en línea"],
    "es": ["Lewes Early", "Grupo en línea", "Lewes MARA", "Beach SMART", "Milton NA", "Online English"],
}


@pytest.fixture
def phone(chromium, request):  # noqa: F811
    width, language = request.param
    context = chromium.new_context(
        viewport=SIZES[width],
        locale=WORDS[language]["locale"],
        timezone_id="America/New_York",
        geolocation=LEWES,
        permissions=["geolocation"],
    )
    page = context.new_page()
    violations: list[str] = []
    page.on(
        "console",
        lambda m: "Content Security Policy" in m.text and violations.append(f"{m.text} at {m.location}"),
    )
    yield page, width, language
    assert violations == []
    context.close()


def names(page) -> list[str]:
    return page.locator("#results ol.results .result-name a").all_inner_texts()


def first_result_in_first_screen(page, height: int) -> None:
    box = page.locator("#results ol.results > li").first.bounding_box()
    assert box is not None
    assert box["y"] >= 0 and box["y"] + box["height"] <= height, box


def picture(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    page.screenshot(path=str(SCREENSHOTS / f"{name}-full.png"), full_page=True)


@pytest.mark.parametrize(
    "phone",
    [(w, lang) for lang in ("en", "es") for w in (320, 375, 1280)],
    indirect=True,
    ids=lambda p: f"{p[1]}-{p[0]}",
)
def test_near_me_starting_soon_puts_the_soonest_meeting_in_the_first_screen(live_server, phone, nearby):
    page, width, language = phone
    words = WORDS[language]
    height = SIZES[width]["height"]
    page.goto(live_server.url + "/")
    button = page.get_by_role("button", name=words["near_me"])
    button.wait_for()
    # The one primary action is in the first screen before anything is typed.
    box = button.bounding_box()
    assert box is not None and box["y"] + box["height"] <= height
    check_accessibility(page)
    picture(page, f"finder-start-{language}-{width}")

    button.click()
    page.wait_for_url(lambda url: "when=now" in url and "lat=" in url)
    page.locator("#results ol.results > li").first.wait_for()
    page.locator("#results-heading:focus").wait_for()

    assert names(page) == EXPECTED[language]
    assert words["other_last"] in page.locator("#results").inner_text()
    first_result_in_first_screen(page, height)
    assert page.locator("#results-heading").inner_text().startswith("6 ")
    # The order in use is shown, and the other orders offered.
    assert page.locator(".order-list a[aria-current=true]").inner_text() == words["soonest"]
    # Each card says its language; the in-person ones here have none recorded.
    cards = page.locator("#results ol.results > li")
    assert words["spanish"] in cards.filter(has_text="Grupo en línea").inner_text()
    assert words["english"] in cards.filter(has_text="Online English").inner_text()
    # The filters are folded away, saying how many choices are in use (the place and "soon").
    summary = page.locator("#filters > summary")
    assert page.locator("#filters").get_attribute("open") is None
    assert words["filters"] in summary.inner_text() and words["in_use"] in summary.inner_text()
    check_accessibility(page)
    picture(page, f"finder-near-me-{language}-{width}")

    # Nearest first instead: Lewes (0 km), then the beach (8 km), then Milton (15 km); focus
    # comes back to the count, and the choice travels with the next search.
    page.locator(".order-list a", has_text=words["nearest"]).click()
    page.wait_for_url(lambda url: "sort=distance" in url)
    page.locator(".order-list a[aria-current=true]", has_text=words["nearest"]).wait_for()
    page.locator("#results-heading:focus").wait_for()
    assert names(page)[:4] == ["Lewes Early", "Lewes MARA", "Beach SMART", "Milton NA"]
    first_result_in_first_screen(page, height)
    assert page.locator("#search-form input[name=sort]").input_value() == "distance"
    check_accessibility(page)

    # The filters open with every choice as it is.
    summary.click()
    assert page.locator("#id_when").input_value() == "now"
    check_accessibility(page)
    picture(page, f"finder-filters-{language}-{width}")


@pytest.mark.parametrize("phone", [(375, "en")], indirect=True, ids=lambda p: f"{p[1]}-{p[0]}")
def test_a_full_load_of_a_search_lands_on_the_result_count(live_server, phone, nearby):
    """A shared link to a search opens with the count focused and the first result in view."""
    page, width, _language = phone
    page.goto(live_server.url + "/?lat=38.7746&lon=-75.1393&when=now&tz=America/New_York")
    page.locator("#results-heading:focus").wait_for()
    first_result_in_first_screen(page, SIZES[width]["height"])
    assert names(page)[0] == "Lewes Early"


@pytest.mark.parametrize("phone", [(375, "en")], indirect=True, ids=lambda p: f"{p[1]}-{p[0]}")
def test_changing_one_filter_announces_the_count_and_leaves_focus_in_the_filters(live_server, phone, nearby):
    """SC 3.2.2: a change of setting must not move focus; the live region says what changed."""
    page, _width, _language = phone
    page.goto(live_server.url + "/?lat=38.7746&lon=-75.1393&when=now&tz=America/New_York")
    page.locator("#results-heading:focus").wait_for()
    page.locator("#filters > summary").click()
    how = page.get_by_label("How")
    how.focus()
    how.select_option("online")
    page.wait_for_url(lambda url: "mode=online" in url)
    page.locator("#result-status").filter(has_text="2 meetings found.").wait_for()
    assert page.evaluate("document.activeElement.id") == "id_mode"
    assert names(page) == ["Online English", "Grupo en línea"]
