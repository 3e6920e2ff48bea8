"""iCalendar output: weekly events in the meeting's own zone that calendar apps can read back."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

import dateutil.rrule
import pytest
from icalendar import Calendar

from tests.factories import make_location, make_meeting

pytestmark = pytest.mark.django_db


def parse(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    return Calendar.from_ical(response.content)


def events(calendar):
    return [c for c in calendar.walk("VEVENT")]


def test_a_meeting_is_a_weekly_event_at_its_local_time_with_its_zone(client):
    meeting = make_meeting(
        name="Tuesday Night Step Study",
        weekday=2,
        start_time=time(19, 30),
        end_time=time(20, 45),
        location=make_location(
            name="St Mary's", formatted_address="1 Church Rd, London", timezone="Europe/London"
        ),
        timezone="Europe/London",
        conference_url="https://zoom.us/j/123",
    )

    calendar = parse(client.get(f"/api/v1/meetings/{meeting.pk}.ics"))

    [event] = events(calendar)
    rrule = event["RRULE"]
    assert rrule["FREQ"] == ["WEEKLY"] and rrule["BYDAY"] == ["TU"]
    start = event.decoded("DTSTART")
    assert event["DTSTART"].params["TZID"] == "Europe/London"
    assert (start.hour, start.minute, start.weekday()) == (19, 30, 1)
    assert str(start.tzinfo) == "Europe/London"
    end = event.decoded("DTEND")
    assert (end.hour, end.minute) == (20, 45)
    assert str(event["UID"]) == f"meeting-{meeting.pk}@recoverybridge.meetings"
    assert "St Mary's" in str(event["LOCATION"])
    assert str(event["URL"]) == "https://zoom.us/j/123"
    assert "Alcoholics Anonymous" in str(event["DESCRIPTION"])
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/London"]


def test_the_uid_and_dtstart_do_not_change_between_downloads(client):
    meeting = make_meeting()
    first = events(parse(client.get(f"/api/v1/meetings/{meeting.pk}.ics")))[0]
    second = events(parse(client.get(f"/api/v1/meetings/{meeting.pk}.ics")))[0]
    assert first["UID"] == second["UID"]
    assert first.decoded("DTSTART") == second.decoded("DTSTART")


def test_the_weekly_rule_keeps_the_wall_clock_time_across_new_york_dst(client):
    meeting = make_meeting(weekday=0, start_time=time(19, 0))  # Sundays 19:00 New York
    [event] = events(parse(client.get(f"/api/v1/meetings/{meeting.pk}.ics")))
    start = event.decoded("DTSTART")
    rule = dateutil.rrule.rrulestr(event["RRULE"].to_ical().decode(), dtstart=start)
    new_york = ZoneInfo("America/New_York")
    after_spring = rule.after(datetime(2027, 3, 13, tzinfo=new_york))
    after_fall = rule.after(datetime(2027, 11, 6, tzinfo=new_york))
    assert after_spring.hour == after_fall.hour == 19
    assert after_spring.utcoffset() != after_fall.utcoffset()


def test_a_search_as_a_calendar_leaves_out_by_appointment_meetings_without_error(client):
    make_meeting(name="Monday", weekday=1)
    make_meeting(
        name="Tokyo Friday", weekday=5, location=make_location(timezone="Asia/Tokyo"), timezone="Asia/Tokyo"
    )
    make_meeting(name="By appointment", weekday=None, start_time=None, end_time=None)
    make_meeting(name="SMART", fellowship="smart")

    calendar = parse(client.get("/api/v1/meetings.ics?fellowship=aa"))

    assert sorted(str(e["SUMMARY"]) for e in events(calendar)) == ["Monday", "Tokyo Friday"]
    assert sorted(str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")) == ["America/New_York", "Asia/Tokyo"]


def test_a_by_appointment_meeting_alone_is_an_empty_calendar(client):
    meeting = make_meeting(weekday=None, start_time=None, end_time=None)
    assert events(parse(client.get(f"/api/v1/meetings/{meeting.pk}.ics"))) == []


def test_calendar_search_parameters_are_checked_like_the_json_search(client):
    response = client.get("/api/v1/meetings.ics?day=8")
    assert response.status_code == 400
    assert response.json()["errors"][0]["parameter"] == "day"
    assert client.get("/api/v1/meetings/999999.ics").status_code == 404
