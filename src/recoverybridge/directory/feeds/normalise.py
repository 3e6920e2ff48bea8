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
from collections.abc import Callable
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
# Full names, which feeds write as often as the codes ("Edmonton, Alberta, T6E 4E8, Canada").
REGION_NAMES: dict[str, str] = {
    "alabama": "AL",
    "alaska": "AK",
    "arizona": "AZ",
    "arkansas": "AR",
    "california": "CA",
    "colorado": "CO",
    "connecticut": "CT",
    "delaware": "DE",
    "district of columbia": "DC",
    "washington dc": "DC",
    "washington d.c.": "DC",
    "florida": "FL",
    "georgia": "GA",
    "hawaii": "HI",
    "idaho": "ID",
    "illinois": "IL",
    "indiana": "IN",
    "iowa": "IA",
    "kansas": "KS",
    "kentucky": "KY",
    "louisiana": "LA",
    "maine": "ME",
    "maryland": "MD",
    "massachusetts": "MA",
    "michigan": "MI",
    "minnesota": "MN",
    "mississippi": "MS",
    "missouri": "MO",
    "montana": "MT",
    "nebraska": "NE",
    "nevada": "NV",
    "new hampshire": "NH",
    "new jersey": "NJ",
    "new mexico": "NM",
    "new york": "NY",
    "north carolina": "NC",
    "north dakota": "ND",
    "ohio": "OH",
    "oklahoma": "OK",
    "oregon": "OR",
    "pennsylvania": "PA",
    "puerto rico": "PR",
    "rhode island": "RI",
    "south carolina": "SC",
    "south dakota": "SD",
    "tennessee": "TN",
    "texas": "TX",
    "utah": "UT",
    "vermont": "VT",
    "virginia": "VA",
    "washington": "WA",
    "west virginia": "WV",
    "wisconsin": "WI",
    "wyoming": "WY",
    "alberta": "AB",
    "british columbia": "BC",
    "manitoba": "MB",
    "new brunswick": "NB",
    "nouveau-brunswick": "NB",
    "newfoundland and labrador": "NL",
    "newfoundland": "NL",
    "nova scotia": "NS",
    "nouvelle-écosse": "NS",
    "northwest territories": "NT",
    "nunavut": "NU",
    "ontario": "ON",
    "prince edward island": "PE",
    "quebec": "QC",
    "québec": "QC",
    "saskatchewan": "SK",
    "yukon": "YT",
}
REGION_CODES = US_STATES | CANADIAN_PROVINCES
# A US ZIP ("74103", "74103-1234") or Canadian postal code ("T6E 4E8"), alone or after a region.
POSTAL_CODE = r"(?:\d{5}(?:-\d{4})?|[A-Z]\d[A-Z][ -]?\d[A-Z]\d)"
POSTAL_SUFFIX = re.compile(rf"\s+{POSTAL_CODE}$", re.IGNORECASE)
POSTAL_ONLY = re.compile(rf"^{POSTAL_CODE}$", re.IGNORECASE)
NO_TIME_ZONE = "no time zone: give coordinates, a timezone field or --timezone"
# How a zone was decided, as the import report says it.
ZONE_RULES = {
    "coordinates": "time zone from the coordinates",
    "region": "time zone from the state or province",
    "city": "time zone from the city (as other meetings the directory knows there)",
    "feed": "time zone: the feed's default",
}
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


def region_code(value: str) -> str:
    """A US state or Canadian province code from its code or full name ("Alberta", "AB"), else ""."""
    cleaned = " ".join(value.split()).strip(" ,")
    if cleaned.upper() in REGION_CODES:
        return cleaned.upper()
    return REGION_NAMES.get(cleaned.casefold(), "")


def region_of(location: LocationRecord) -> str:
    """The state or province a North American location names, by code or full name, or ""."""
    if location.state.strip() and location.country.strip().lower() in NORTH_AMERICA:
        code = region_code(location.state)
        if code:
            return code
    if location.country.strip().lower() not in NORTH_AMERICA:
        return ""  # Perth, WA is in Australia
    # "..., Tulsa, OK 74103, USA", "..., Edmonton, Alberta, T6E 4E8, Canada", "..., IL 62701".
    parts = [part.strip() for part in location.formatted_address.split(",") if part.strip()]
    in_north_america = bool(parts) and parts[-1].lower() in NORTH_AMERICA - {""}
    if in_north_america:
        parts = parts[:-1]
    # The street comes first and may be named after a state ("Washington St"): never read it.
    for part in reversed(parts[1:]):
        if POSTAL_ONLY.match(part):
            continue
        bare = POSTAL_SUFFIX.sub("", part)
        code = region_code(bare)
        # A name with no country or postal code after it could be elsewhere (Georgia, the country).
        if code and (in_north_america or bare != part or bare.upper() == code):
            return code
        break
    return ""


def zone_of_region(location: LocationRecord) -> str:
    return REGION_ZONES.get(region_of(location), "")


def city_of(location: LocationRecord) -> str:
    """The town: its own field, else the part of the formatted address before the region."""
    if location.city.strip():
        return location.city.strip()
    parts = [part.strip() for part in location.formatted_address.split(",") if part.strip()]
    if parts and parts[-1].lower() in NORTH_AMERICA - {""}:
        parts = parts[:-1]
    parts = [part for part in parts if not POSTAL_ONLY.match(part)]
    if len(parts) >= 3 and region_code(POSTAL_SUFFIX.sub("", parts[-1])):
        return parts[-2]
    return ""


# (city, region code) -> the one zone the directory knows that city in, else "".
CityZone = Callable[[str, str], str]


def resolve_zone(
    own: str, location: LocationRecord | None, default: str, city_zone: CityZone | None = None
) -> tuple[str, str]:
    """(zone, how) by the first rule that decides: the record's own field, its coordinates, its
    state or province (code or full name, when it lies in one zone), its city as the directory
    already knows it, the feed's default; ("", "") when none does."""
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
        city = city_of(location)
        if city and city_zone is not None:
            zone = city_zone(city, region_of(location))
            if zone:
                return zone, "city"
    if default:
        return default, "feed"
    return "", ""


def why_no_zone(location: LocationRecord | None) -> str:
    """Why a record with a time but no zone is refused: what it gave, and why that did not decide."""
    region = region_of(location) if location is not None else ""
    city = city_of(location) if location is not None else ""
    if region:
        where = f"{city}, {region}" if city else region
        return (
            f"no time zone: {region} spans more than one zone and {where} is not known in one; "
            "give coordinates, a timezone field or --timezone"
        )
    if city:
        return (
            f"no time zone: {city} is not known in exactly one zone and no state or province is "
            "given; give coordinates, a timezone field or --timezone"
        )
    return NO_TIME_ZONE


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
