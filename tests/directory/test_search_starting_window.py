"""A "starting within" search without a place: SQL keeps, per time zone, only the meetings whose local
weekday and start can fall in the window, and the result is exactly what the occurrence rule
(timing.next_occurrence, with its in-progress grace) says, across DST changes too."""

from datetime import UTC, datetime, time, timedelta

import pytest

from recoverybridge.directory import queries
from recoverybridge.directory.models import Fellowship, Meeting
from recoverybridge.directory.queries import MeetingSearch, search_meetings
from recoverybridge.directory.timing import OccurrenceCache, next_occurrence, starts_within

# DST in both hemispheres, a 30-minute DST (Lord Howe), a 2-hour one (Troll), +5:45 without DST,
# the antimeridian, and a name zoneinfo does not know (searched as UTC).
ZONES = [
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "Antarctica/Troll",
    "Asia/Kathmandu",
    "Pacific/Auckland",
    "Not/A_Zone",
]
STARTS = [time(hour, minute) for hour in range(24) for minute in (0, 30)] + [time(2, 15), time(1, 45)]
TRANSITIONS = [
    datetime(2026, 3, 8, 7, 0, tzinfo=UTC),  # New York springs forward (02:00 -> 03:00)
    datetime(2026, 11, 1, 6, 0, tzinfo=UTC),  # New York falls back (02:00 -> 01:00)
    datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # London and Troll (+2 hours) spring forward
    datetime(2026, 4, 4, 15, 0, tzinfo=UTC),  # Lord Howe falls back half an hour
    datetime(2026, 4, 4, 14, 0, tzinfo=UTC),  # Auckland falls back
]


@pytest.fixture
def week_of_online_meetings(db):
    fellowship = Fellowship.objects.get(slug="aa")
    Meeting.objects.bulk_create(
        Meeting(
            fellowship=fellowship,
            name=f"{zone} {weekday} {start}",
            weekday=weekday,
            start_time=start,
            timezone=zone,
            attendance_mode="online",
        )
        for zone in ZONES
        for weekday in range(7)
        for start in STARTS
    )
    return list(Meeting.objects.values_list("id", "weekday", "start_time", "timezone"))


def found_ids(at: datetime, minutes: int) -> tuple[int, set[int]]:
    ids: set[int] = set()
    page = 1
    while True:
        params = MeetingSearch(starting_within=minutes, mode="online", page=page, page_size=100)
        result = search_meetings(params, now=at)
        ids |= {hit.meeting.pk for hit in result.hits}
        if page * 100 >= result.count:
            return result.count, ids
        page += 1


@pytest.mark.parametrize("transition", TRANSITIONS, ids=lambda t: t.strftime("%Y-%m-%dT%H%M"))
def test_starting_soon_finds_exactly_the_meetings_the_occurrence_rule_finds_around_dst_changes(
    week_of_online_meetings, transition
):
    for shift in (-200, -65, -20, 0, 7, 40, 95):
        at = transition + timedelta(minutes=shift)
        for minutes in (0, 60, 24 * 60):
            expected = {
                pk
                for pk, weekday, start, zone in week_of_online_meetings
                if starts_within(weekday, start, zone, at, minutes) is not None
            }
            count, ids = found_ids(at, minutes)
            assert (count, ids) == (len(expected), expected), (at, minutes)


def test_the_window_is_narrowed_in_sql_not_in_python(week_of_online_meetings, monkeypatch):
    fetched = []
    candidate_rows = queries._candidate_rows
    monkeypatch.setattr(
        queries, "_candidate_rows", lambda *args: fetched.append(candidate_rows(*args)) or fetched[-1]
    )
    at = datetime(2026, 6, 10, 12, 5, tzinfo=UTC)  # no transition near in any zone

    result = search_meetings(MeetingSearch(starting_within=60, mode="online"), now=at)

    # Each zone's window holds 2 or 3 of its half-hourly starts; the weekdays the window
    # touches somewhere on Earth would hold some 1,500 candidates.
    assert 2 * len(ZONES) <= result.count <= 3 * len(ZONES)
    assert len(fetched[0]) == result.count


@pytest.mark.parametrize(
    "at",
    [
        *TRANSITIONS,
        datetime(2026, 6, 10, 12, 5, 30, 250_000, tzinfo=UTC),
        # Ten minutes after whole and half hours: meetings start exactly at the earliest counted instant.
        datetime(2026, 6, 10, 19, 10, tzinfo=UTC),
    ],
)
def test_occurrence_instants_match_next_occurrence_in_every_zone(at):
    for shift in (-3 * 24 * 60, -200, -30, 0, 45, 3 * 24 * 60):
        moment = at + timedelta(minutes=shift)
        occurrences = OccurrenceCache(moment)
        for zone in ZONES:
            for weekday in range(7):
                for start in STARTS:
                    expected = next_occurrence(weekday, start, zone, moment).timestamp()
                    assert occurrences.instant(weekday, start.isoformat(), zone) == expected, (
                        moment,
                        zone,
                        weekday,
                        start,
                    )
