"""The search page: Sam, on a phone in Lewes, looks for a meeting tonight.

The directory holds AA, SMART and MARA meetings in Lewes, an AA meeting in
Dover (50 km away), and online meetings; the page must run the same search as
the API, keep every kind of group visible, and answer bad input with a message.
"""

import re
from datetime import time

import pytest
from django.test import Client

from recoverybridge.directory.models import Approach
from tests.factories import make_location, make_meeting

pytestmark = pytest.mark.django_db

PARTIAL = {"HX-Request": "true", "HX-Target": "results"}


@pytest.fixture
def directory():
    lewes = make_location(
        name="Lewes Library", city="Lewes", postal_code="19958", region_path="USA > Delaware > Sussex"
    )
    dover = make_location(
        name="Dover Hall",
        city="Dover",
        postal_code="19901",
        latitude=39.1582,
        longitude=-75.5244,
        formatted_address="5 Loockerman St, Dover, DE 19901, USA",
        region_path="USA > Delaware > Kent",
    )
    return {
        "aa": make_meeting("aa", name="Lewes Serenity", location=lewes, attributes=("open", "women")),
        "smart": make_meeting("smart", name="Lewes SMART", location=lewes, start_time=time(18, 0)),
        "mara": make_meeting("mara", name="Lewes MARA", location=lewes, moud_stance="welcoming"),
        "dover": make_meeting("aa", name="Dover Big Book", location=dover),
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


def names(html: str) -> list[str]:
    return re.findall(r'class="result-name"><a href="[^"]*">([^<]+)</a>', html)


def test_landing_page_is_a_form_without_inline_scripts(client: Client):
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="en">' in html
    assert 'role="search"' in html and 'href="#main"' in html
    # Every script is a file of our own origin: the content security policy allows no other.
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "https://" not in "".join(re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', html))


def test_searching_by_town_finds_nearby_and_online_meetings(client: Client, directory):
    html = client.get("/", {"where": "lewes"}).content.decode()
    found = names(html)
    assert {"Lewes Serenity", "Lewes SMART", "Lewes MARA"} <= set(found)
    assert "Dover Big Book" not in found  # 50 km away, beyond the default 25 km
    assert f"{len(found)} meetings near Lewes" in html


def test_a_postcode_or_region_is_a_place_too(client: Client, directory):
    assert "Lewes SMART" in names(client.get("/", {"where": "19958"}).content.decode())
    kent = client.get("/", {"where": "Kent", "mode": "in_person"}).content.decode()
    assert names(kent) == ["Dover Big Book"]


def test_moud_friendly_online_meetings(client: Client, directory):
    html = client.get("/", {"where": "Lewes", "mode": "online", "moud": "on"}).content.decode()
    assert names(html) == ["Online Welcome"]
    assert "Welcomes people on opioid medication (MOUD)" in html


def test_the_page_runs_the_same_search_as_the_api(client: Client, directory):
    page = names(client.get("/", {"when": "1", "mode": "in_person", "sort": "name"}).content.decode())
    api = client.get("/api/v1/meetings", {"day": 1, "mode": "in_person", "sort": "name"}).json()
    assert page == [meeting["name"] for meeting in api["results"]]


def test_every_kind_of_group_is_counted_even_when_none_match(client: Client, directory):
    html = client.get("/", {"where": "Lewes", "mode": "in_person"}).content.decode()
    facets = re.search(r'<ul class="facet-list">(.*?)</ul>', html, re.S)
    assert facets is not None
    for approach in Approach:
        assert f"approach={approach.value}" in facets.group(1)
    assert re.search(r"Faith-based <span class=\"count\">0</span>", facets.group(1))
    assert re.search(r"Medication-assisted <span class=\"count\">1</span>", facets.group(1))


def test_kinds_of_group_beyond_the_first_page_are_shown_too(client: Client, directory):
    """Twenty-five AA meetings come before the one SMART meeting; SMART is still shown beside
    page one (loaded after the results, so they are not kept waiting)."""
    lewes = directory["aa"].location
    for minute in range(25):
        make_meeting("aa", name=f"Early AA {minute}", location=lewes, start_time=time(6, minute))
    html = client.get("/", {"where": "Lewes", "mode": "in_person", "sort": "name"}).content.decode()
    assert "Lewes SMART" not in names(html) and "Page 1 of 2" in html
    link = re.search(r'hx-get="(/other-kinds/\?[^"]+)"', html)
    assert link is not None
    url = link.group(1).replace("&amp;", "&")
    assert "kind=secular" in url and "kind=medication-assisted" in url and "kind=twelve-step" not in url
    fragment = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert names(fragment) == ["Lewes SMART", "Lewes MARA"]
    # Without JavaScript the same link is a page of its own.
    page = client.get(url).content.decode()
    assert "<html" in page and names(page) == ["Lewes SMART", "Lewes MARA"]
    assert client.get("/other-kinds/", {"where": "Atlantis", "kind": "secular"}).status_code == 400


def test_times_in_the_viewers_zone_and_the_meetings_own(client: Client, directory):
    """An American in London: their browser asks for en-US, so US formats, in London time."""
    html = client.get(
        "/",
        {"where": "Lewes", "fellowship": "smart", "tz": "Europe/London"},
        headers={"Accept-Language": "en-US,en;q=0.8"},
    ).content.decode()
    # 18:00 in New York is 23:00 in London (22:00 in the weeks when only one has moved its
    # clocks); the meeting's own time is shown beside the viewer's, its zone named as people do.
    assert re.search(r'class="when">[^<]*(11|10)\s?p\.m\.</span>', html)
    assert "(6 p.m. New York time)" in html


def test_a_british_reader_gets_the_24_hour_clock(client: Client, directory):
    """The browser asks for en-GB (or, without that, the zone is in Britain): "23:00" and "18:00"."""
    for headers in ({"Accept-Language": "en-GB,en;q=0.8"}, {}):
        html = client.get(
            "/", {"where": "Lewes", "fellowship": "smart", "tz": "Europe/London"}, headers=headers
        ).content.decode()
        assert re.search(r'class="when">[^<]*(23|22):00</span>', html), headers
        assert "(18:00 New York time)" in html
        assert "p.m." not in html


def test_htmx_requests_get_only_the_results(client: Client, directory):
    response = client.get("/", {"where": "Lewes", "mode": "online"}, headers=PARTIAL)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and 'id="search-form"' not in html
    assert set(names(html)) == {"Online Daily", "Online Welcome"}
    assert 'id="result-status"' in html and 'hx-swap-oob="innerHTML"' in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"where": "Atlantis"}, "We could not find “Atlantis” in the directory"),
        ({"lat": "95", "lon": "1"}, "less than or equal to 90"),
        ({"lat": "38.7"}, "Your location was incomplete"),
        ({"when": "9"}, "Select a valid choice"),
        ({"when": "1", "tz": "Mars/Olympus"}, "is not a time zone we know"),
        ({"where": "Lewes", "page": "abc"}, "Enter a whole number"),
        ({"where": "Lewes", "fellowship": "nope"}, "Select a valid choice"),
        ({"where": "Lewes", "radius": "7000"}, "Select a valid choice"),
        ({"where": "Lewes", "attribute": "secret"}, "Select a valid choice"),
        ({"mode": "online", "language": "xx"}, "Select a valid choice"),
    ],
)
def test_bad_input_gets_a_clear_message(client: Client, directory, query, message):
    response = client.get("/", query)
    assert response.status_code == 400
    assert message in response.content.decode().replace("&quot;", '"')


def test_bad_input_in_an_htmx_request_is_shown_in_the_results(client: Client, directory):
    response = client.get("/", {"when": "funday"}, headers=PARTIAL)
    assert response.status_code == 400
    assert "Please check the search form" in response.content.decode()


def test_map_view_lists_points_for_the_map_and_keeps_the_list(client: Client, directory):
    html = client.get("/", {"where": "Lewes", "view": "map"}).content.decode()
    assert 'id="results-map"' in html and "vendor/leaflet/leaflet.js" in html
    assert 'data-tile-url=""' in html  # no tile server configured: markers on a plain background
    assert html.count("data-lat=") == 3  # the in-person meetings; online ones have no point
    assert "Lewes Serenity" in names(html)


def test_the_distance_shown_is_the_distance_searched(client: Client, directory):
    html = client.get("/", {"where": "Lewes"}).content.decode()
    assert '<option value="25" selected>25 km</option>' in html
    wider = client.get("/", {"where": "Lewes", "radius": "100", "mode": "in_person"}).content.decode()
    assert '<option value="100" selected>100 km</option>' in wider
    assert "Dover Big Book" in names(wider)


def test_nearest_first_without_a_place_falls_back_to_soonest_first(client: Client, directory):
    """The API refuses sort=distance without lat and lon; the page, forgiving, orders soonest first
    and shows that order as the one in use."""
    response = client.get("/", {"mode": "online", "sort": "distance"})
    html = response.content.decode()
    assert response.status_code == 200
    assert re.search(r'aria-current="true">Soonest first</a>', html)
    assert ">Nearest first</a>" not in html  # no place, nothing to be near


def test_a_distance_without_a_place_is_no_error_on_the_page(client: Client, directory):
    """The API refuses radius_km without lat and lon; the page's distance select always holds
    a value (25 km unless changed), so a search without a place simply measures nothing."""
    response = client.get("/", {"mode": "online", "moud": "on", "radius": "10"})
    assert response.status_code == 200
    assert names(response.content.decode()) == ["Online Welcome"]
    assert client.get("/api/v1/meetings", {"mode": "online", "radius_km": 10}).status_code == 400
