"""Tolerant readers for the loose values feeds contain (strings for numbers, blank for none)."""

import re
from datetime import time
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# "19:00", "19:00:00", "7:30"; HSDS may add "Z" or an offset ("19:00-05:00").
CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?(?:Z|[+-]\d{2}(?::?\d{2})?)?$")


def text(value: Any) -> str:
    """A stripped string; numbers become their text, anything else blank."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int | float):
        return str(value)
    return ""


def clock(value: Any) -> tuple[int, int, int] | None:
    """Hours, minutes and seconds of "HH:MM[:SS]" (hours may exceed 23 for durations)."""
    match = CLOCK.match(text(value))
    if not match:
        return None
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    if minutes > 59 or seconds > 59:
        return None
    return hours, minutes, seconds


def wall_clock(value: Any) -> time | None:
    """A time of day; "24:00" and other impossible times are None."""
    parts = clock(value)
    if parts is None or parts[0] > 23:
        return None
    return time(*parts)


class NotACoordinate(ValueError):
    """A latitude or longitude that is there but is no coordinate: the record is refused, with
    this reason in the import report, rather than put nowhere (or somewhere wrong) unnoticed."""


def coordinate(value: Any, limit: float, field: str) -> float | None:
    """A latitude (limit 90) or longitude (limit 180) from a number or string; None when the
    feed leaves it out (missing or blank)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise NotACoordinate(f"{field} {value!r} is not a number")
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise NotACoordinate(f"{field} {value!r} is not a number") from None
    if not -limit <= number <= limit:  # NaN fails this too
        raise NotACoordinate(f"{field} {value!r} is outside -{limit:g} to {limit:g}")
    return number


@cache
def iana_zone(value: str) -> str:
    """The name if it is a known IANA zone, else blank (the pipeline derives one)."""
    # Only names with a region ("America/New_York") or UTC: "EST" and "-5" are not places.
    if "/" not in value and value != "UTC":
        return ""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return ""
    return value


def zone(value: Any) -> str:
    return iana_zone(text(value))
