"""Rules every feed format shares: time zones, approximate addresses, attendance mode.

The attendance and approximate rules follow TSML UI (code4recovery's Meeting
Guide client) so a meeting reads the same here as in the finders people know:
- online when there is a usable conference link (http/https) or a dial-in
  number with at least 10 digits;
- in person when the address is specific (not approximate) and the location
  is not marked temporarily closed (Meeting Guide type TC);
- both is hybrid, neither is inactive.
"""

import math
import re
from functools import cache, lru_cache
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from timezonefinder import TimezoneFinder

from recoverybridge.directory.feeds.records import LocationRecord
from recoverybridge.directory.models import AttendanceMode

EARTH_RADIUS_METRES = 6_371_008.8

# States and provinces that lie (for practical purposes) in one zone. States that
# straddle two (Texas, Florida, Kentucky...) are left out on purpose: for them
# only coordinates, a timezone field or --timezone will do.
REGION_ZONES: dict[str, str] = {
    # United States
    "AL": "America/Chicago",
    "AR": "America/Chicago",
    "AZ": "America/Phoenix",
    "CA": "America/Los_Angeles",
    "CO": "America/Denver",
    "CT": "America/New_York",
    "DC": "America/New_York",
    "DE": "America/New_York",
    "GA": "America/New_York",
    "HI": "Pacific/Honolulu",
    "IA": "America/Chicago",
    "IL": "America/Chicago",
    "LA": "America/Chicago",
    "MA": "America/New_York",
    "MD": "America/New_York",
    "ME": "America/New_York",
    "MN": "America/Chicago",
    "MO": "America/Chicago",
    "MS": "America/Chicago",
    "MT": "America/Denver",
    "NC": "America/New_York",
    "NH": "America/New_York",
    "NJ": "America/New_York",
    "NM": "America/Denver",
    "NV": "America/Los_Angeles",
    "NY": "America/New_York",
    "OH": "America/New_York",
    "OK": "America/Chicago",
    "PA": "America/New_York",
    "PR": "America/Puerto_Rico",
    "RI": "America/New_York",
    "SC": "America/New_York",
    "UT": "America/Denver",
    "VA": "America/New_York",
    "VT": "America/New_York",
    "WA": "America/Los_Angeles",
    "WI": "America/Chicago",
    "WV": "America/New_York",
    "WY": "America/Denver",
    # Canada
    "AB": "America/Edmonton",
    "MB": "America/Winnipeg",
    "NB": "America/Moncton",
    "NS": "America/Halifax",
    "PE": "America/Halifax",
    "SK": "America/Regina",
    "YT": "America/Whitehorse",
}
US_STATES = {
    "AK",
    "AL",
    "AR",
    "AZ",
    "CA",
    "CO",
    "CT",
    "DC",
    "DE",
    "FL",
    "GA",
    "HI",
    "IA",
    "ID",
    "IL",
    "IN",
    "KS",
    "KY",
    "LA",
    "MA",
    "MD",
    "ME",
    "MI",
    "MN",
    "MO",
    "MS",
    "MT",
    "NC",
    "ND",
    "NE",
    "NH",
    "NJ",
    "NM",
    "NV",
    "NY",
    "OH",
    "OK",
    "OR",
    "PA",
    "PR",
    "RI",
    "SC",
    "SD",
    "TN",
    "TX",
    "UT",
    "VA",
    "VT",
    "WA",
    "WI",
    "WV",
    "WY",
}
CANADIAN_PROVINCES = {"AB", "BC", "MB", "NB", "NL", "NS", "NT", "NU", "ON", "PE", "QC", "SK", "YT"}
NORTH_AMERICA = {"", "us", "usa", "united states", "united states of america", "ca", "can", "canada"}
# "..., OK 12345, USA", "..., PA, USA", "..., NS B3H 1A1, Canada"
STATE_IN_ADDRESS = re.compile(
    r",\s*([A-Z]{2})(?:\s+[0-9A-Z]{3,5}(?:[- ]?[0-9A-Z]{3,4})?)?\s*,\s*"
    r"(?:USA|US|United States|Canada)\s*$"
)
NO_TIME_ZONE = "no time zone: give coordinates, a timezone field or --timezone"
# A by-appointment meeting has no wall-clock time for a zone to apply to; UTC
# keeps Meeting.timezone a valid IANA name for every reader instead of "".
APPOINTMENT_ZONE = "UTC"


@cache
def known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


@cache
def zone_finder() -> TimezoneFinder:
    # Loading the polygons takes ~0.1 s; after that a lookup is about a microsecond.
    return TimezoneFinder(in_memory=True)


def valid_zone(name: str) -> str:
    """The IANA name if zoneinfo knows it, else ""."""
    if not name:
        return ""
    if name in known_zones():
        return name
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ""
    return name


@lru_cache(maxsize=65536)
def zone_at(latitude: float, longitude: float) -> str:
    found = zone_finder().timezone_at(lat=latitude, lng=longitude)
    # Etc/GMT+n is what lies at sea: coordinates in the ocean are a geocoding error.
    if not found or found.startswith("Etc/"):
        return ""
    return str(found)


def zone_of_region(location: LocationRecord) -> str:
    state = location.state.strip().upper()
    if state and location.country.strip().lower() in NORTH_AMERICA and state in REGION_ZONES:
        return REGION_ZONES[state]
    match = STATE_IN_ADDRESS.search(location.formatted_address)
    if match:
        return REGION_ZONES.get(match.group(1), "")
    return ""


def resolve_zone(own: str, location: LocationRecord | None, default: str) -> tuple[str, str]:
    """(zone, how) for a record: its own field, its coordinates, its region, the feed's default."""
    zone = valid_zone(own)
    if zone:
        return zone, "record"
    if location is not None:
        if location.latitude is not None and location.longitude is not None:
            zone = zone_at(location.latitude, location.longitude)
            if zone:
                return zone, "coordinates"
        zone = zone_of_region(location)
        if zone:
            return zone, "region"
    if default:
        return default, "feed"
    return "", ""


def build_formatted_address(location: LocationRecord) -> str:
    """As TSML UI builds it from the parts: "street, city, ST 12345, country".

    Like TSML UI, a US state or Canadian province implies the country.
    """
    country = location.country
    if not country and location.state.upper() in US_STATES:
        country = "USA"
    elif not country and location.state.upper() in CANADIAN_PROVINCES:
        country = "Canada"
    state_postal = " ".join(part for part in (location.state, location.postal_code) if part)
    parts = (location.address, location.city, state_postal, country)
    return ", ".join(part.strip() for part in parts if part and part.strip())


def is_approximate(location: LocationRecord | None) -> bool:
    """The source's own yes/no wins; else fewer than four address parts is a city or area.

    TSML UI's rule: "123 Main St, Anytown, OK 12345, USA" is specific,
    "Anytown, OK 12345, USA" is approximate.
    """
    if location is None:
        return True
    if location.approximate is not None:
        return location.approximate
    address = location.formatted_address or build_formatted_address(location)
    return len([part for part in address.split(",") if part.strip()]) < 4


def usable_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in {"http", "https"} and bool(parts.netloc) and " " not in url


def usable_phone(phone: str) -> bool:
    return len(re.sub(r"[^\d,+#]", "", phone)) >= 10


def attendance_mode(online: bool, approximate: bool, temporarily_closed: bool) -> str:
    in_person = not approximate and not temporarily_closed
    if online and in_person:
        return AttendanceMode.HYBRID
    if online:
        return AttendanceMode.ONLINE
    if in_person:
        return AttendanceMode.IN_PERSON
    return AttendanceMode.INACTIVE


def distance_metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_METRES * math.asin(min(1.0, math.sqrt(a)))
