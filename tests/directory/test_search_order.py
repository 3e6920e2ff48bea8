"""The order of the finder's results answers "when can I go?".

Sam is in Lewes at 08:00 on a Wednesday (12:00 UTC). "Starting soon" and "later today" put the
meeting starting soonest first, whatever zone it keeps, the nearer first when two start
together; a place with no time puts the nearest first; online meetings in Sam's language come
before those held only in another.
"""

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.http import QueryDict

from recoverybridge.directory.forms import SearchForm
from recoverybridge.directory.queries import MeetingSearch, search_meetings
from tests.factories import make_location, make_meeting

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)  # Wednesday 08:00 in New York, 07:00 in Chicago
LEWES = (38.7746, -75.1393)
WEDNESDAY = 3


def names(result):
    return [hit.meeting.name for hit in result.hits]


def form_search(query: str, *, language: str = "en", place=LEWES, zone=None):
    """The search the finder's form runs for this query string."""
    form = SearchForm(QueryDict(query))
    assert form.is_valid(), form.errors
    params = form.search_params(place=place, now=NOW, viewer_zone=zone, language=language)
    return params, search_meetings(MeetingSearch.model_validate(params), now=NOW)


@pytest.fixture
def morning():
    """Wednesday morning near Lewes: near and far, early and late, and one in Chicago's zone."""
    here = make_location(name="Lewes Library")
    beach = make_location(name="Rehoboth Church", latitude=38.7209, longitude=-75.0760)  # 8 km
    chicago_zone = make_location(
        name="Milton Hall", latitude=38.7776, longitude=-75.3099, timezone="America/Chicago"
    )
    make_meeting(name="Lewes 12:30", location=here, weekday=WEDNESDAY, start_time=time(12, 30))
    make_meeting(name="Lewes 13:00", location=here, weekday=WEDNESDAY, start_time=time(13, 0))
    make_meeting(name="Lewes 17:30", location=here, weekday=WEDNESDAY, start_time=time(17, 30))
    make_meeting(name="Beach 08:20", location=beach, weekday=WEDNESDAY, start_time=time(8, 20))
    make_meeting(name="Lewes 08:20", location=here, weekday=WEDNESDAY, start_time=time(8, 20))
    # 07:40 in Chicago is 08:40 in New York: after the 08:20s, though its wall clock is earlier.
    make_meeting(name="Chicago-time 07:40", location=chicago_zone, weekday=WEDNESDAY, start_time=time(7, 40))


def test_starting_soon_is_soonest_first_and_the_nearer_first_when_two_start_together(morning):
    params, result = form_search("when=now")
    assert params["sort"] == "next"
    assert names(result) == ["Lewes 08:20", "Beach 08:20", "Chicago-time 07:40"]


def test_later_today_is_soonest_first_in_instants_not_wall_clocks(morning):
    _params, result = form_search("when=today&tz=America/New_York", zone=ZoneInfo("America/New_York"))
    assert names(result) == [
        "Lewes 08:20",
        "Beach 08:20",
        "Chicago-time 07:40",
        "Lewes 12:30",
        "Lewes 13:00",
        "Lewes 17:30",
    ]


def test_later_today_without_the_browsers_zone_is_the_day_at_the_place_searched(morning):
    """A visitor without JavaScript sends no zone: near Lewes "today" ends at midnight in New York
    (04:00 UTC), not at midnight UTC, so a 9 p.m. meeting is still today."""
    late = make_location(name="Lewes Hall")
    make_meeting(name="Lewes 21:00", location=late, weekday=WEDNESDAY, start_time=time(21, 0))
    params, result = form_search("when=today")
    assert params["starting_within"] == 16 * 60  # 08:00 to midnight in New York
    assert names(result)[-1] == "Lewes 21:00"
    # Far from any place and without a zone, the site's own day (UTC here): 21:00 in New York is
    # 01:00 UTC on Thursday, not today.
    params, result = form_search("when=today", place=None)
    assert params["starting_within"] == 12 * 60
    assert "Lewes 21:00" not in names(result)


def test_a_place_without_a_time_is_nearest_first(morning):
    params, result = form_search("where=Lewes")
    assert params["sort"] == "distance"
    found = names(result)
    assert found.index("Beach 08:20") > max(
        found.index(n) for n in ("Lewes 12:30", "Lewes 13:00", "Lewes 08:20")
    )
    # At the same place, the soonest first.
    assert found[:4] == ["Lewes 08:20", "Lewes 12:30", "Lewes 13:00", "Lewes 17:30"]


def test_the_visitors_choice_of_order_wins_and_nearest_needs_a_place(morning):
    params, result = form_search("when=today&sort=distance")
    assert params["sort"] == "distance"
    assert names(result)[-2:] == ["Beach 08:20", "Chicago-time 07:40"]  # the beach is 8 km, Milton 15
    params, _ = form_search("mode=online&sort=distance", place=None)
    assert params["sort"] == "next"


@pytest.fixture
def online():
    """Online meetings starting in the next hour: Japanese first by the clock, then English, then
    one whose language nobody recorded."""
    tokyo = make_location(name="Tokyo", latitude=35.68, longitude=139.69, timezone="Asia/Tokyo")
    # Wednesday 21:05 in Tokyo is 12:05 UTC.
    make_meeting(
        name="Tokyo online",
        location=tokyo,
        attendance_mode="online",
        weekday=WEDNESDAY,
        start_time=time(21, 5),
        timezone="Asia/Tokyo",
        attributes=("language-ja",),
    )
    make_meeting(
        name="English online",
        location=None,
        attendance_mode="online",
        weekday=WEDNESDAY,
        start_time=time(8, 30),
        attributes=("language-en",),
    )
    make_meeting(
        name="Unlabelled online",
        location=None,
        attendance_mode="online",
        weekday=WEDNESDAY,
        start_time=time(8, 45),
    )
    make_meeting(
        name="Spanish and English online",
        location=None,
        attendance_mode="online",
        weekday=WEDNESDAY,
        start_time=time(8, 50),
        attributes=("language-es", "language-en"),
    )


def test_online_meetings_in_the_readers_language_come_first(online):
    _params, english = form_search("when=now&mode=online", place=None)
    assert names(english) == [
        "English online",
        "Unlabelled online",
        "Spanish and English online",
        "Tokyo online",
    ]
    _params, spanish = form_search("when=now&mode=online", place=None, language="es")
    assert names(spanish) == [
        "Unlabelled online",
        "Spanish and English online",
        "Tokyo online",
        "English online",
    ]


def test_the_language_order_holds_across_pages_of_a_search_with_no_time_window(online):
    """A search with no place and no window is counted per slot; the other-language part follows."""
    pages = []
    for page in (1, 2, 3, 4, 5):
        result = search_meetings(
            MeetingSearch(mode="online", prefer_language="en", page=page, page_size=1), now=NOW
        )
        assert result.count == 4
        pages += names(result)
    assert pages == ["English online", "Unlabelled online", "Spanish and English online", "Tokyo online"]
    # By name, the reader's language changes nothing.
    by_name = search_meetings(MeetingSearch(mode="online", prefer_language="en", sort="name"), now=NOW)
    assert names(by_name)[0] == "English online" and names(by_name)[-1] == "Unlabelled online"
    # A language no meeting could be held in prefers nothing.
    plain = search_meetings(MeetingSearch(mode="online", prefer_language="zz"), now=NOW)
    assert names(plain)[0] == "Tokyo online"


def test_nearest_first_puts_online_meetings_last_the_readers_language_first_among_them(morning):
    lewes = make_location(name="Lewes Online Home")
    make_meeting(
        name="Online in Spanish",
        location=lewes,
        attendance_mode="online",
        weekday=WEDNESDAY,
        start_time=time(8, 15),
        attributes=("language-es",),
    )
    make_meeting(
        name="Online in English",
        location=lewes,
        attendance_mode="online",
        weekday=WEDNESDAY,
        start_time=time(9, 0),
        attributes=("language-en",),
    )
    _params, result = form_search("where=Lewes")
    assert names(result)[-2:] == ["Online in English", "Online in Spanish"]
    # A first page of in-person meetings only is the same with or without the languages.
    params = MeetingSearch(lat=LEWES[0], lon=LEWES[1], prefer_language="en", page_size=3)
    assert names(search_meetings(params, now=NOW)) == ["Lewes 08:20", "Lewes 12:30", "Lewes 13:00"]


def test_nothing_starting_soon_offers_later_today_further_away_and_online(client):
    """Nothing near Lewes starts within the hour, one meeting does in three hours: the empty answer
    offers one tap to later today (which finds it), to 100 km, and to online meetings."""
    real_now = datetime.now(UTC)
    # A zone where it is daytime now, so three hours on is still today there.
    zone = next(
        ZoneInfo(name)
        for name in ("America/New_York", "Europe/London", "Asia/Tokyo", "America/Los_Angeles", "Asia/Kolkata")
        if 5 <= real_now.astimezone(ZoneInfo(name)).hour <= 19
    )
    later = real_now.astimezone(zone) + timedelta(hours=3)
    here = make_location(name="Lewes Library", timezone=zone.key)
    make_meeting(
        name="In three hours",
        location=here,
        weekday=later.isoweekday() % 7,
        start_time=time(later.hour, later.minute),
        timezone=zone.key,
    )
    page = client.get("/", {"when": "now", "lat": LEWES[0], "lon": LEWES[1], "tz": zone.key})
    html = page.content.decode()
    assert page.status_code == 200 and "No meetings match" in html
    offers = re.findall(r'<ul class="quick-links widen">(.*?)</ul>', html, re.S)[0]
    links = {
        label: href.replace("&amp;", "&")
        for href, label in re.findall(r'<a href="([^"]+)">([^<]+)</a>', offers)
    }
    assert set(links) == {"Meetings later today", "Up to 100 km away", "Online meetings, same time"}
    assert "In three hours" in client.get("/" + links["Meetings later today"]).content.decode()
    online = QueryDict(links["Online meetings, same time"].lstrip("?"))
    assert online["mode"] == "online" and "lat" not in online and online["when"] == "now"
    # Asked online already and far enough: only later today is left to offer.
    page = client.get("/", {"when": "now", "mode": "online", "tz": zone.key})
    offers = re.findall(r'<ul class="quick-links widen">(.*?)</ul>', page.content.decode(), re.S)
    assert offers and "Meetings later today" in offers[0] and "100 km" not in offers[0]


def test_near_me_is_on_the_first_paint_and_asks_for_starting_soon_without_javascript(client):
    """Shown only once a script ran, the button pushed the page down (layout shift); now it is in
    the page from the start, a plain form: without JavaScript it asks for meetings starting soon."""
    html = client.get("/").content.decode()
    box = re.search(r'<form class="near-me" id="near-me-box"[^>]*>(.*?)</form>', html, re.S)
    assert box is not None and "hidden" not in box.group(0).split(">")[0]
    assert '<input type="hidden" name="when" value="now">' in box.group(1)
    assert 'type="submit"' in box.group(1)
    assert client.get("/", {"when": "now"}).status_code == 200
