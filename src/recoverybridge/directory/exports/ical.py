"""iCalendar (RFC 5545) for meetings: one weekly VEVENT per meeting, in the meeting's own zone.

DTSTART carries the wall-clock start with TZID and the calendar embeds a
VTIMEZONE for every zone used, so calendar apps keep the meeting at 19:00
local time across DST changes. By-appointment meetings have no time to put in
a calendar and are left out.
"""

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from icalendar import Calendar, Event

from recoverybridge.directory.models import Meeting, MoudStance
from recoverybridge.directory.timing import python_weekday, zone

PRODID = "-//RecoveryBridge//Meeting directory//EN"
UID_DOMAIN = "recoverybridge.meetings"
BYDAY = ["SU", "MO", "TU", "WE", "TH", "FR", "SA"]
DEFAULT_DURATION = timedelta(hours=1)


def meeting_uid(meeting: Meeting) -> str:
    """Stable for the meeting's lifetime, so re-subscribing updates instead of duplicating."""
    return f"meeting-{meeting.pk}@{UID_DOMAIN}"


def _first_day(meeting: Meeting) -> date:
    """The meeting's weekday on or after the day it was listed: a DTSTART that never moves."""
    assert meeting.weekday is not None
    listed = meeting.created_at.astimezone(zone(meeting.timezone)).date()
    return listed + timedelta(days=(python_weekday(meeting.weekday) - listed.weekday()) % 7)


def _description(meeting: Meeting) -> str:
    lines = [meeting.fellowship.name]
    if meeting.group_name:
        lines.append(f"Group: {meeting.group_name}")
    if meeting.conference_url:
        lines.append(f"Join online: {meeting.conference_url}")
        if meeting.conference_url_notes:
            lines.append(meeting.conference_url_notes)
    if meeting.conference_phone:
        lines.append(f"Join by phone: {meeting.conference_phone}")
        if meeting.conference_phone_notes:
            lines.append(meeting.conference_phone_notes)
    if meeting.moud_stance != MoudStance.UNKNOWN:
        lines.append(str(MoudStance(meeting.moud_stance).label))
    if meeting.notes:
        lines.append(meeting.notes)
    return "\n".join(lines)


def _location(meeting: Meeting) -> str:
    location = meeting.location
    if location is None or meeting.attendance_mode == "online":
        return "Online"
    parts = [location.name, location.formatted_address]
    return ", ".join(part for part in parts if part) or "Online"


def meeting_event(meeting: Meeting) -> Event | None:
    """The weekly VEVENT for a meeting, or None for a by-appointment one."""
    if meeting.weekday is None or meeting.start_time is None:
        return None
    tz = zone(meeting.timezone)
    day = _first_day(meeting)
    start = datetime.combine(day, meeting.start_time, tzinfo=tz)
    if meeting.end_time is not None:
        end = datetime.combine(day, meeting.end_time, tzinfo=tz)
        if end <= start:  # ends after midnight
            end = datetime.combine(day + timedelta(days=1), meeting.end_time, tzinfo=tz)
    else:
        end = start + DEFAULT_DURATION

    event = Event()
    event.add("uid", meeting_uid(meeting))
    event.add("dtstamp", meeting.updated_at.astimezone(UTC))
    event.add("summary", meeting.name)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("rrule", {"freq": "weekly", "byday": BYDAY[meeting.weekday]})
    event.add("location", _location(meeting))
    event.add("description", _description(meeting))
    url = meeting.conference_url or meeting.website
    if url:
        event.add("url", url)
    place = meeting.location
    if (
        place
        and place.latitude is not None
        and place.longitude is not None
        and meeting.attendance_mode != "online"
    ):
        event.add("geo", (place.latitude, place.longitude))
    event.add("categories", [meeting.fellowship.name])
    return event


def meetings_calendar(meetings: Iterable[Meeting], name: str = "Recovery meetings") -> bytes:
    """A calendar of the meetings that have a weekly time; needs fellowship and location loaded."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    first = date.max
    for meeting in meetings:
        event = meeting_event(meeting)
        if event is not None:
            calendar.add_component(event)
            first = min(first, event.DTSTART.date())
    if first != date.max:
        # Transitions from the earliest DTSTART on keep the VTIMEZONE small; decades ahead of it.
        first -= timedelta(days=7)
        calendar.add_missing_timezones(first_date=first, last_date=date(first.year + 30, 1, 1))
    return bytes(calendar.to_ical())
