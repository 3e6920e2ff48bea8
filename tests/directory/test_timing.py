"""When does a weekly meeting next happen? Wall-clock times in the meeting's own zone, DST and all."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from recoverybridge.directory.timing import next_occurrence, starts_within

NEW_YORK = "America/New_York"
LONDON = "Europe/London"
SUNDAY, MONDAY, SATURDAY = 0, 1, 6


def test_a_monday_evening_meeting_is_next_monday_at_seven_local_time():
    # Wednesday 2026-06-10, noon in New York.
    at = datetime(2026, 6, 10, 12, 0, tzinfo=ZoneInfo(NEW_YORK))
    found = next_occurrence(MONDAY, time(19, 0), NEW_YORK, at)
    assert found.isoformat() == "2026-06-15T19:00:00-04:00"


def test_a_meeting_in_the_spring_forward_gap_happens_when_the_clock_shows_the_shifted_time():
    # 2026-03-08: New York clocks jump from 02:00 to 03:00; 02:30 does not exist that night.
    at = datetime(2026, 3, 7, 12, 0, tzinfo=UTC)
    found = next_occurrence(SUNDAY, time(2, 30), NEW_YORK, at)
    assert found.isoformat() == "2026-03-08T03:30:00-04:00"
    assert found.astimezone(UTC) == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)


def test_the_week_after_spring_forward_the_meeting_is_back_at_its_wall_clock_time():
    at = datetime(2026, 3, 8, 12, 0, tzinfo=UTC)
    found = next_occurrence(SUNDAY, time(2, 30), NEW_YORK, at)
    assert found.isoformat() == "2026-03-15T02:30:00-04:00"


def test_a_meeting_in_the_fall_back_overlap_is_the_first_of_the_two_half_past_ones():
    # 2026-11-01: New York clocks go from 02:00 EDT back to 01:00 EST; 01:30 happens twice.
    at = datetime(2026, 10, 31, 12, 0, tzinfo=UTC)
    found = next_occurrence(SUNDAY, time(1, 30), NEW_YORK, at)
    assert found.isoformat() == "2026-11-01T01:30:00-04:00"
    assert found.fold == 0


def test_an_evening_meeting_on_fall_back_day_keeps_its_local_time_and_gains_the_new_offset():
    at = datetime(2026, 10, 31, 12, 0, tzinfo=UTC)
    found = next_occurrence(SUNDAY, time(19, 0), NEW_YORK, at)
    assert found.isoformat() == "2026-11-01T19:00:00-05:00"
    assert found.astimezone(UTC).hour == 0


def test_london_spring_forward_gap_and_autumn_overlap():
    # 2026-03-29: 01:00 GMT -> 02:00 BST, so 01:15 does not exist.
    spring = next_occurrence(SUNDAY, time(1, 15), LONDON, datetime(2026, 3, 28, 12, tzinfo=UTC))
    assert spring.isoformat() == "2026-03-29T02:15:00+01:00"
    # 2026-10-25: 02:00 BST -> 01:00 GMT, so 01:15 happens twice; the first one counts.
    autumn = next_occurrence(SUNDAY, time(1, 15), LONDON, datetime(2026, 10, 24, 12, tzinfo=UTC))
    assert autumn.isoformat() == "2026-10-25T01:15:00+01:00"


def test_a_london_meeting_seen_from_new_york_is_at_the_right_instant_across_the_dst_mismatch():
    # Between the US (2026-03-08) and UK (2026-03-29) changes the two cities are 4 hours apart, not 5.
    at = datetime(2026, 3, 16, 9, 0, tzinfo=ZoneInfo(NEW_YORK))
    found = next_occurrence(MONDAY, time(18, 0), LONDON, at)
    assert found.astimezone(ZoneInfo(NEW_YORK)).isoformat() == "2026-03-16T14:00:00-04:00"


def test_the_midnight_wrap_saturday_night_to_a_sunday_ten_past_midnight_meeting():
    at = datetime(2026, 6, 13, 23, 50, tzinfo=ZoneInfo(NEW_YORK))  # a Saturday
    assert at.weekday() == 5
    found = starts_within(SUNDAY, time(0, 10), NEW_YORK, at, 30)
    assert found is not None and found.isoformat() == "2026-06-14T00:10:00-04:00"
    assert starts_within(SATURDAY, time(0, 10), NEW_YORK, at, 30) is None


def test_a_meeting_that_began_five_minutes_ago_is_in_progress_and_still_counts():
    at = datetime(2026, 6, 15, 19, 5, tzinfo=ZoneInfo(NEW_YORK))
    found = next_occurrence(MONDAY, time(19, 0), NEW_YORK, at)
    assert found.isoformat() == "2026-06-15T19:00:00-04:00"
    assert starts_within(MONDAY, time(19, 0), NEW_YORK, at, 0) == found


def test_a_meeting_that_began_a_quarter_of_an_hour_ago_is_next_week():
    at = datetime(2026, 6, 15, 19, 15, tzinfo=ZoneInfo(NEW_YORK))
    found = next_occurrence(MONDAY, time(19, 0), NEW_YORK, at)
    assert found - datetime(2026, 6, 15, 19, 0, tzinfo=ZoneInfo(NEW_YORK)) == timedelta(days=7)


def test_tokyo_and_los_angeles_meetings_starting_at_the_same_instant():
    at = datetime(2026, 6, 10, 3, 0, tzinfo=UTC)  # Wednesday 12:00 in Tokyo, Tuesday 20:00 in LA
    tokyo = starts_within(3, time(12, 15), "Asia/Tokyo", at, 30)
    los_angeles = starts_within(2, time(20, 15), "America/Los_Angeles", at, 30)
    assert tokyo is not None and los_angeles is not None
    assert tokyo == los_angeles == datetime(2026, 6, 10, 3, 15, tzinfo=UTC)
