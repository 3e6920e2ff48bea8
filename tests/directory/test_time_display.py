"""Times on the finder as each visitor reads them.

A UK visitor reads "19:30" and "12 June", an American "7:30 p.m." and "June 12", a Spanish
reader "19:30" and "12 de junio"; each in their own zone, with the meeting's own time beside it
when the clocks differ. A visitor whose zone the page does not know is told whose time an online
meeting's time is ("Tokyo time"), never handed Tokyo's 9 p.m. as if it were their own.
"""

import re
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import translation

from recoverybridge.directory.timing import clock, reader_locale, when_text, zone_label
from tests.factories import make_location, make_meeting

NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)  # Wednesday
FRIDAY_EVENING = datetime(2026, 6, 12, 18, 30, tzinfo=UTC)  # 19:30 in London


@pytest.mark.parametrize(
    ("language", "accept", "zone_name", "locale"),
    [
        ("en", "en-GB,en;q=0.9", "", "en-gb"),
        ("en", "en-US,en;q=0.9", "Europe/London", "en"),  # the browser's region wins over the zone's
        ("en", "en", "Europe/London", "en-gb"),  # no region asked for: the zone's country
        ("en", "", "America/Chicago", "en"),  # Django has no en-us formats: the language's own are
        ("en", "fr-FR,en-AU;q=0.5", "", "en-au"),  # the first tag in the page's language
        ("es", "es-MX,es;q=0.9", "", "es-mx"),
        ("es", "en-GB", "America/Mexico_City", "es-mx"),
        ("es", "en-GB", "Europe/Madrid", "es"),
        ("es", "", "", "es"),
        ("en", "x" * 1000, "Mars/Olympus", "en"),  # nonsense in, the language's formats out
    ],
)
def test_the_readers_locale(language, accept, zone_name, locale):
    assert reader_locale(language, accept, zone_name) == locale


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en", "Friday June 12, 7:30 p.m."),
        ("en-gb", "Friday 12 June, 19:30"),
        ("es", "viernes 12 de junio, 19:30"),
    ],
)
def test_dates_and_times_by_locale(locale, expected):
    with translation.override(locale):
        assert when_text(FRIDAY_EVENING, ZoneInfo("Europe/London"), NOW) == expected


def test_today_and_tomorrow_are_the_readers_days():
    london = ZoneInfo("Europe/London")
    with translation.override("en-gb"):
        assert when_text(datetime(2026, 6, 10, 18, 30, tzinfo=UTC), london, NOW) == "Today, 19:30"
        assert when_text(datetime(2026, 6, 11, 11, 0, tzinfo=UTC), london, NOW) == "Tomorrow, 12:00"
        # 23:30 UTC on Wednesday is already Thursday in Tokyo.
        assert when_text(datetime(2026, 6, 10, 23, 30, tzinfo=UTC), ZoneInfo("Asia/Tokyo"), NOW).startswith(
            "Tomorrow"
        )
    with translation.override("en"):
        assert clock(time(12, 30)) == "12:30 p.m."


def test_zones_are_named_as_people_name_them():
    assert zone_label("America/New_York") == "New York"
    assert zone_label("America/Argentina/Buenos_Aires") == "Buenos Aires"
    assert zone_label("UTC") == "UTC"


@pytest.fixture
def tokyo_online(db):
    tokyo = make_location(
        name="Tokyo Central", city="Tokyo", latitude=35.68, longitude=139.69, timezone="Asia/Tokyo"
    )
    return make_meeting(
        name="Tokyo Online",
        location=tokyo,
        attendance_mode="online",
        conference_url="https://meet.example.org/tokyo",
        weekday=3,
        start_time=time(16, 0),
        timezone="Asia/Tokyo",
        attributes=("language-ja", "language-en"),
    )


def card(html: str) -> str:
    found = re.search(r'<li class="result".*?</ul>\s*</li>', html, re.S)
    assert found is not None
    return found.group(0)


def test_without_the_visitors_zone_an_online_meeting_says_whose_time_it_is(client: Client, tokyo_online):
    html = card(client.get("/", {"mode": "online"}, headers={"Accept-Language": "en-US"}).content.decode())
    assert re.search(r'class="when">[^<]*4 p\.m\. \(Tokyo time\)</span>', html)
    assert "Languages: English, Japanese" in html


def test_with_the_visitors_zone_the_time_is_theirs_and_tokyos_beside_it(client: Client, tokyo_online):
    html = card(
        client.get(
            "/", {"mode": "online", "tz": "America/Los_Angeles"}, headers={"Accept-Language": "en-US"}
        ).content.decode()
    )
    # Wednesday 16:00 in Tokyo is Tuesday 23:00 in Los Angeles (midnight in summer time).
    assert re.search(r'class="when">[^<]*(11 p\.m\.|midnight)</span>', html)
    # Tokyo's day is named when it is not the visitor's.
    assert re.search(r"\((Wednesday )?4 p\.m\. Tokyo time\)", html)
    assert "Tokyo time)</span>" not in html.split('class="when-local"')[0]  # not said twice


def test_the_meeting_page_reads_the_same_way(client: Client, tokyo_online):
    html = client.get(f"/meetings/{tokyo_online.pk}/", headers={"Accept-Language": "en-GB"}).content.decode()
    assert "Every Wednesday, 16:00 to 20:00" in html
