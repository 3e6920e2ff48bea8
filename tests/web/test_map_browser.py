"""The results map in a real browser (Debian's Chromium, Playwright, axe-core).

Three meetings share the Lewes Library; Rehoboth Beach and Milton have one each; an in-person
meeting's listing gives no coordinates; one meeting is online only. The issue saw 9 results give
6 markers: meetings at one place were drawn on top of each other, and meetings without a place
were left off without a word. Now every result with a place is a marker numbered as in the list,
those at one place are gathered in a cluster that fans them out when chosen, and the map says how
many results it cannot place. The base map is drawn from the vendored Natural Earth outlines: the
page asks nothing of any other host. Each journey runs at 375 and 1280 px, in English and Spanish.
"""

import re
import shutil
from datetime import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from recoverybridge.directory.models import Attribute, AttributeMapping, Fellowship
from recoverybridge.directory.vocabulary import load_vocabulary
from tests.factories import make_location, make_meeting
from tests.web.test_browser import (  # noqa: F401  (fixtures)
    CHROMIUM,
    DESKTOP,
    PHONE,
    chromium,
    screenshots,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not shutil.which("chromium") and not Path(CHROMIUM).exists(), reason="no chromium"),
]

LEWES = {"latitude": 38.7746, "longitude": -75.1393}
LOCALES = {"en": "en-US", "es": "es-ES"}
TEXT = {
    "en": {
        "show": "Show on the map",
        "here": "You are here",
        "unmapped": "2 meetings on this page have no place",
    },
    "es": {
        "show": "Ver en el mapa",
        "here": "Usted está aquí",
        "unmapped": "2 reuniones de esta página no tienen lugar",
    },
}


@pytest.fixture
def directory(transactional_db):
    load_vocabulary(Fellowship, Attribute, AttributeMapping)
    library = make_location(name="Lewes Library", city="Lewes", postal_code="19958", **LEWES)
    beach = make_location(name="Rehoboth Church", city="Rehoboth Beach", latitude=38.7209, longitude=-75.0760)
    milton = make_location(
        name="Milton Hall", city="Milton", postal_code="19968", latitude=38.7776, longitude=-75.3099
    )
    nowhere = make_location(name="St Peter's basement", city="Lewes", latitude=None, longitude=None)
    return {
        "serenity": make_meeting("aa", name="Lewes Serenity", location=library),
        "smart": make_meeting("smart", name="Lewes SMART", location=library, start_time=time(18, 0)),
        "jft": make_meeting("na", name="Lewes Just for Today", location=library, start_time=time(12, 0)),
        "mara": make_meeting("mara", name="Beach MARA", location=beach, moud_stance="welcoming"),
        "milton": make_meeting(
            "aa",
            name="Milton Big Book",
            location=milton,
            attendance_mode="hybrid",
            conference_url="https://meet.example.org/milton",
        ),
        "basement": make_meeting("aa", name="Basement Group", location=nowhere),
        "online": make_meeting(
            "na",
            name="Online Welcome",
            location=None,
            attendance_mode="online",
            conference_url="https://meet.example.org/welcome",
        ),
    }


@pytest.fixture(params=[("en", PHONE), ("es", DESKTOP)], ids=["en-375", "es-1280"])
def visitor(request, chromium, live_server):  # noqa: F811  (the fixture)
    """A visitor's browser in their language, every request it makes written down."""
    language, viewport = request.param
    context = chromium.new_context(
        viewport=viewport,
        locale=LOCALES[language],
        timezone_id="America/New_York",
        geolocation=LEWES,
        permissions=["geolocation"],
    )
    page = context.new_page()
    page.language = language  # type: ignore[attr-defined]
    page.requested = []  # type: ignore[attr-defined]
    page.on("request", lambda r: page.requested.append(r.url))  # type: ignore[attr-defined]
    page.problems = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda error: page.problems.append(str(error)))  # type: ignore[attr-defined]
    page.on(
        "console",
        lambda m: "Content Security Policy" in m.text and page.problems.append(m.text),  # type: ignore[attr-defined]
    )
    yield page
    assert page.problems == []  # type: ignore[attr-defined]
    context.close()


def map_ready(page) -> dict:
    page.wait_for_function("() => document.getElementById('results-map').dataset.baseDrawn !== undefined")
    return page.evaluate("() => ({...document.getElementById('results-map').dataset})")


def listed(page) -> list[str]:
    return page.locator("#results ol.results > li.result .result-name a").all_inner_texts()


def only_this_host(page, live_server) -> None:
    here = urlsplit(live_server.url).netloc
    elsewhere = [
        url for url in page.requested if not url.startswith("data:") and urlsplit(url).netloc != here
    ]
    assert elsewhere == []


def test_every_result_with_a_place_is_a_marker_on_a_base_map_of_our_own(live_server, visitor, directory):
    page, words = visitor, TEXT[visitor.language]
    page.goto(live_server.url + "/?where=Lewes&view=map")
    state = map_ready(page)
    names = listed(page)
    assert len(names) == 5 and state["baseDrawn"] == "true"
    assert state["markers"] == "5" and state["unmapped"] == "0"  # three of them at one place
    # The base map: land and borders drawn as SVG paths, and no tile asked of a server.
    assert page.locator("#results-map path.map-land").count() >= 1
    assert page.locator("#results-map path.map-border").count() >= 1
    assert page.locator("#results-map img").count() == 0
    assert any(url.endswith("countries-50m.json") for url in page.requested)
    # Only the area around the view is drawn (the world's outlines held a phone's page still);
    # zoomed out past it, the wider area is drawn.
    west, south, east, north = map(float, state["baseArea"].split())
    assert (
        -77 < west < -75.3 and -75 < east < -73 and 37.5 < south < 38.7 and 38.8 < north < 40
    )  # Lewes, Delaware
    for _ in range(5):
        page.locator("#results-map .leaflet-control-zoom-out").click()
        page.wait_for_timeout(300)
    page.wait_for_function(
        "area => document.getElementById('results-map').dataset.baseArea !== area", arg=state["baseArea"]
    )
    wider = [float(n) for n in page.locator("#results-map").get_attribute("data-base-area").split()]
    assert wider[0] < west and wider[2] > east and wider[1] < south and wider[3] > north
    page.goto(live_server.url + "/?where=Lewes&view=map")
    state = map_ready(page)
    # The three meetings at the library are one cluster that says so; choosing it fans them out.
    cluster = page.locator("#results-map .map-cluster")
    assert cluster.count() == 1 and cluster.inner_text().startswith("3")
    assert page.locator("#results-map .map-pin").count() == 2
    screenshots(page, f"map-{page.language}")
    page.set_viewport_size(PHONE if page.language == "en" else DESKTOP)
    cluster.focus()  # by keyboard: markers and clusters are buttons
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelectorAll('#results-map .map-pin').length === 5")
    # Each marker carries its number in the list, and its name for a screen reader.
    pins = page.locator("#results-map .map-pin")
    labels = sorted(pins.nth(i).inner_text() for i in range(5))
    assert [label.split("\n")[0] for label in labels] == ["1", "2", "3", "4", "5"]
    smart = page.locator("#results-map .map-pin", has_text="Lewes SMART")
    number = names.index("Lewes SMART") + 1
    assert smart.locator(".map-pin-number").inner_text() == str(number)
    smart.focus()
    page.keyboard.press("Enter")
    popup = page.locator("#results-map .leaflet-popup-content")
    assert popup.get_by_role("link").inner_text() == "Lewes SMART"
    selected = page.locator("#results li.result.is-selected")
    assert selected.count() == 1 and "Lewes SMART" in selected.inner_text()
    screenshots(page, f"map-spiderfied-{page.language}")
    # From the list to the map: each listed meeting's button opens its marker.
    beach = page.locator("#results li.result", has_text="Beach MARA")
    beach.get_by_role("button", name=words["show"]).click()
    page.locator("#results-map .leaflet-popup-content", has_text="Beach MARA").wait_for()
    only_this_host(page, live_server)


def test_the_map_says_how_many_results_it_cannot_place(live_server, visitor, directory):
    page, words = visitor, TEXT[visitor.language]
    page.goto(live_server.url + "/?when=1&view=map")  # every meeting meets on Mondays
    state = map_ready(page)
    assert len(listed(page)) == 7
    assert state["markers"] == "5" and state["unmapped"] == "2"  # the basement without coordinates, online
    note = page.locator("#map-note")
    assert note.is_visible() and words["unmapped"] in note.inner_text()
    # The list and the map keep in step: the online meeting has no button, the others have one each.
    assert page.locator("#results li.result .map-show").count() == 5
    online = page.locator("#results li.result", has_text="Online Welcome")
    assert online.locator(".map-show").count() == 0
    only_this_host(page, live_server)


def test_you_are_here_when_the_visitor_shares_their_position(live_server, visitor, directory):
    page, words = visitor, TEXT[visitor.language]
    page.goto(live_server.url + "/?when=1&view=map")
    page.locator("#filters > summary").click()  # results first: the filters are folded above them
    page.locator("#use-location").click()
    page.wait_for_url(re.compile(r"lat=38\.77460"))
    state = map_ready(page)
    assert state["hereLat"] == "38.774600" and state["hereLon"] == "-75.139300"
    here = page.locator("#results-map .map-here")
    assert here.is_visible() and here.inner_text() == words["here"]
    assert state["markers"] == "5"
    screenshots(page, f"map-here-{page.language}")
    only_this_host(page, live_server)


def test_a_tile_server_when_one_is_set(live_server, visitor, directory, settings):
    """MAP_TILE_URL replaces the outlines with real tiles (here served by the test server itself)."""
    settings.MAP_TILE_URL = live_server.url + "/static/icons/icon-192.png?z={z}&x={x}&y={y}"
    page = visitor
    page.goto(live_server.url + "/?where=Lewes&view=map")
    page.locator("#results-map img.leaflet-tile").first.wait_for()
    assert page.locator("#results-map path.map-land").count() == 0
    assert not any(url.endswith("countries-50m.json") for url in page.requested)
    assert page.evaluate("() => document.getElementById('results-map').dataset.markers") == "5"
