"""Small builders for narrative test fixtures ("an AA meeting in Lewes on Monday at 7pm")."""

from datetime import time
from typing import Any

from recoverybridge.directory.models import Attribute, Fellowship, Location, Meeting


def make_location(**fields: Any) -> Location:
    defaults: dict[str, Any] = {
        "name": "Community Hall",
        "address": "1 Main St",
        "city": "Lewes",
        "state": "DE",
        "postal_code": "19958",
        "country": "US",
        "formatted_address": "1 Main St, Lewes, DE 19958, USA",
        "latitude": 38.7746,
        "longitude": -75.1393,
        "timezone": "America/New_York",
    }
    defaults.update(fields)
    return Location.objects.create(**defaults)


def make_meeting(
    fellowship: str = "aa",
    attributes: tuple[str, ...] = (),
    location: Location | None = None,
    **fields: Any,
) -> Meeting:
    """A meeting; pass location=None and attendance_mode="online" for an online one."""
    if location is None and fields.get("attendance_mode", "in_person") != "online":
        location = make_location()
    defaults: dict[str, Any] = {
        "name": "Monday Night Group",
        "weekday": 1,
        "start_time": time(19, 0),
        "end_time": time(20, 0),
        "timezone": location.timezone if location else "America/New_York",
        "attendance_mode": "in_person",
    }
    defaults.update(fields)
    meeting = Meeting.objects.create(
        fellowship=Fellowship.objects.get(slug=fellowship), location=location, **defaults
    )
    if attributes:
        meeting.attributes.set(Attribute.objects.filter(slug__in=attributes))
    return meeting
