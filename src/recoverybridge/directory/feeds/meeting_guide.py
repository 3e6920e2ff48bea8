"""Meeting Guide JSON feeds (code4recovery spec) -> MeetingRecords.

Tolerant of what real feeds publish: numeric slugs and postal codes, string
coordinates, "7:30 pm" times, `day` as "1" or as an array (one record per day,
keyed "slug#day"), `regions` or `region`/`sub_region`. A record that cannot be
used becomes a Rejection with its slug and the reason; nothing is dropped
silently.

Where the spec's fields go:
- name, slug, day, time, end_time, timezone, types, notes, group, group_notes,
  conference_url(_notes), conference_phone(_notes), updated: the meeting.
  A missing end_time stays empty: the spec's "one hour after the start" is a
  reading rule, applied where times are shown, so an export does not claim an
  end time the source never gave.
- location, location_notes, address, city, state, postal_code, country,
  formatted_address, latitude, longitude, approximate, regions/region/
  sub_region: the location.
- url (the meeting's page on the area's site), else website: the web page.
- Our own export's extensions: fellowship (its name or slug), moud (the MOUD
  stance), moud_source and moud_verified (who said so, and the date), so a
  RecoveryBridge feed reads back into another RecoveryBridge whole.
- Not imported: contact_1..3_name/email/phone are personal data the directory
  has no use for; entity_*, feedback_*, venmo/square/paypal/homegroup_online,
  edit_url and attendance_option (a publisher's own derivation; the pipeline
  derives the mode from the address and conference details as clients do).
"""

import re
from datetime import UTC, date, datetime, time
from typing import Any

from django.utils.html import strip_tags

from recoverybridge.directory.feeds.records import (
    FeedError,
    LocationRecord,
    MeetingRecord,
    ParsedFeed,
    Rejection,
)
from recoverybridge.directory.feeds.values import NotACoordinate, coordinate

TIME_PATTERN = re.compile(
    r"^(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?(?::\d{2})?\s*(?P<half>[ap])?\.?(?:m\.?)?$",
    re.IGNORECASE,
)


class RecordProblem(ValueError):
    """One record cannot be used; the message is the reason shown to the feed's editor."""


def parse(data: Any) -> ParsedFeed:
    if not isinstance(data, list):
        raise FeedError(f"a Meeting Guide feed is a JSON array of meetings, this is a JSON {json_type(data)}")
    records: list[MeetingRecord] = []
    rejections: list[Rejection] = []
    seen: dict[str, int] = {}
    for position, item in enumerate(data, start=1):
        key = f"record {position}"
        try:
            if not isinstance(item, dict):
                raise RecordProblem(f"not an object but a JSON {json_type(item)}")
            key = slug_of(item)
            if key in seen:
                # A repeated slug is a publishing error; the first occurrence stands.
                raise RecordProblem(f"duplicate slug (already used by record {seen[key]})")
            parsed = parse_meeting(item, key)
            clash = next((record.source_key for record in parsed if record.source_key in seen), None)
            if clash:
                raise RecordProblem(f"key {clash} is already used by record {seen[clash]}")
        except (RecordProblem, NotACoordinate) as problem:
            rejections.append(Rejection(key=key, reason=str(problem)))
            continue
        seen[key] = position
        for record in parsed:
            seen[record.source_key] = position
        records.extend(parsed)
    return ParsedFeed(records=records, rejections=rejections)


def json_type(value: Any) -> str:
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"


def slug_of(item: dict[str, Any]) -> str:
    slug = item.get("slug")
    if isinstance(slug, bool) or not isinstance(slug, str | int):
        raise RecordProblem("no slug")
    slug = str(slug).strip()
    if not slug:
        raise RecordProblem("no slug")
    return slug


def parse_meeting(item: dict[str, Any], slug: str) -> list[MeetingRecord]:
    """One record per weekday: a plain slug for one day, "slug#day" for a day array."""
    days = parse_days(item.get("day"))
    start = parse_time(item.get("time"), "time")
    end = parse_time(item.get("end_time"), "end_time")
    if days and start is None:
        raise RecordProblem(f"day {days[0]} but no time")
    if start is not None and not days:
        raise RecordProblem(f"time {start:%H:%M} but no day")
    name = text(item.get("name")) or text(item.get("group"))
    if not name:
        raise RecordProblem("no name")
    common: dict[str, Any] = {
        "name": name,
        "start_time": start,
        "end_time": end,
        "timezone": text(item.get("timezone")),
        "location": parse_location(item),
        "codes": parse_types(item.get("types")),
        "conference_url": text(item.get("conference_url")),
        "conference_url_notes": text(item.get("conference_url_notes")),
        "conference_phone": text(item.get("conference_phone")),
        "conference_phone_notes": text(item.get("conference_phone_notes")),
        "notes": text(item.get("notes")),
        "group_name": text(item.get("group")),
        "group_notes": text(item.get("group_notes")),
        "website": text(item.get("url")) or text(item.get("website")),
        "source_updated": parse_updated(item.get("updated")),
        "fellowship": text(item.get("fellowship")),
        **parse_moud(item),
    }
    if not days:
        return [MeetingRecord(source_key=slug, weekday=None, **common)]
    if len(days) == 1:
        return [MeetingRecord(source_key=slug, weekday=days[0], **common)]
    return [MeetingRecord(source_key=f"{slug}#{day}", weekday=day, **common) for day in days]


def parse_days(value: Any) -> list[int]:
    if value is None or value == "" or value == []:
        return []
    values = value if isinstance(value, list) else [value]
    days: list[int] = []
    for one in values:
        if isinstance(one, bool):
            raise RecordProblem(f"day {one!r} is not 0-6")
        if isinstance(one, str) and one.strip().isdigit():
            one = int(one.strip())
        if isinstance(one, float) and one.is_integer():
            one = int(one)
        if not isinstance(one, int):
            raise RecordProblem(f"day {one!r} is not 0-6")
        if not 0 <= one <= 6:
            raise RecordProblem(f"day {one} is not 0-6")
        if one not in days:
            days.append(one)
    return days


def parse_time(value: Any, field: str) -> time | None:
    """ "19:30", "7:30 pm", "11:00 AM", "7pm", "19:30:00"; "24:00" ends at midnight."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    match = TIME_PATTERN.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise RecordProblem(f"{field} {value!r} is not a time")
    hour, minute = int(match["hour"]), int(match["minute"] or 0)
    half = (match["half"] or "").lower()
    if half:
        if not 1 <= hour <= 12:
            raise RecordProblem(f"{field} {value!r} is not a time")
        hour = hour % 12 + (12 if half == "p" else 0)
    elif match["minute"] is None:
        raise RecordProblem(f"{field} {value!r} is not a time")
    if field == "end_time" and (hour, minute) == (24, 0):
        return time(0, 0)
    if hour > 23 or minute > 59:
        raise RecordProblem(f"{field} {value!r} is not a time")
    return time(hour, minute)


def parse_types(value: Any) -> list[str]:
    # Spreadsheet-made feeds sometimes send "O, D" instead of an array.
    values = value.split(",") if isinstance(value, str) else value if isinstance(value, list) else []
    codes: list[str] = []
    for one in values:
        if isinstance(one, str | int) and not isinstance(one, bool):
            code = str(one).strip()
            if code and code not in codes:
                codes.append(code)
    return codes


def parse_location(item: dict[str, Any]) -> LocationRecord | None:
    latitude = coordinate(item.get("latitude"), 90, "latitude")
    longitude = coordinate(item.get("longitude"), 180, "longitude")
    if latitude is None or longitude is None or (latitude == 0 and longitude == 0):
        # (0, 0) is the classic "no geocode" filler value, not a meeting in the Gulf of Guinea.
        latitude = longitude = None
    regions = item.get("regions")
    if isinstance(regions, str):
        regions = regions.split(">")
    if not isinstance(regions, list):
        regions = [item.get("region"), item.get("sub_region")]
    approximate = item.get("approximate")
    location = LocationRecord(
        name=text(item.get("location")),
        address=text(item.get("address")),
        city=text(item.get("city")),
        state=text(item.get("state")),
        postal_code=text(item.get("postal_code")),
        country=text(item.get("country")),
        formatted_address=text(item.get("formatted_address")),
        latitude=latitude,
        longitude=longitude,
        approximate=yes_no(approximate),
        regions=[region for region in (text(one) for one in regions) if region],
        notes=text(item.get("location_notes")),
    )
    if not (
        location.name
        or location.formatted_address
        or location.address
        or location.city
        or location.latitude is not None
    ):
        return None
    return location


def yes_no(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"yes", "no", "true", "false", "1", "0"}:
        return value.strip().lower() in {"yes", "true", "1"}
    return None


MOUD_STANCES = ("welcoming", "unknown", "not_welcoming")


def parse_moud(item: dict[str, Any]) -> dict[str, Any]:
    """Our export's MOUD extension; a stance we do not know is no stance (the meeting keeps its own)."""
    stance = text(item.get("moud")).lower()
    if stance not in MOUD_STANCES:
        return {}
    verified: date | None = None
    try:
        verified = date.fromisoformat(text(item.get("moud_verified"))[:10])
    except ValueError:
        verified = None
    return {"moud_stance": stance, "moud_source": text(item.get("moud_source")), "moud_verified_on": verified}


def parse_updated(value: Any) -> datetime | None:
    """The spec's "YYYY-MM-DD HH:MM:SS" in UTC; an unreadable value is just unknown."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def text(value: Any) -> str:
    """Plain, stripped text; numbers become strings (kc.json has numeric postal codes)."""
    if value is None or isinstance(value, bool | list | dict):
        return ""
    result = str(value).strip()
    if "<" in result:
        # The spec says HTML is stripped from notes; do it once here for every field.
        result = strip_tags(result).strip()
    return result
