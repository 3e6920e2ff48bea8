"""Read side of the directory: meeting search, used by the JSON API and the web pages alike.

How a search runs, and why (the target is a few milliseconds at 200k meetings):

1. One light `values_list` query fetches candidates (id, coordinates, weekday,
   start, zone, fellowship, mode) with everything SQL does well already
   applied: a bounding box on the indexed latitude/longitude (split at the
   antimeridian, widened to every longitude near a pole), weekday, start-time
   range, fellowship, attributes, MOUD stance, language, text.
2. Python does what SQL cannot do portably: exact great-circle distance, next
   occurrence in each meeting's own zone (once per distinct zone, weekday and
   start, not per row), "starting within", facets and the sort.
3. Only the page is loaded as full rows, with select_related/prefetch_related,
   so the query count does not grow with the results.

A search with neither a place nor `starting_within` can match most of the
directory, so it never brings a row per meeting into Python: count and facets
come from a GROUP BY, and the sort by next occurrence works on (zone, weekday,
start) slots, whose meetings share one next occurrence (see `_wide_search`).
Those counts are kept per process while the directory's version token (changed
by triggers in the same transaction as any change to meetings) stays the same.

Online meetings are not bound to a place. A search near a place returns the
in-person and hybrid meetings within the radius and the online meetings of
groups based there (their location is the group's home area), with a null
distance, after the placed ones when sorted by distance: a local online group
is where someone meets the people they will see in town. Online meetings with
no location at all belong to no place; `mode=online` asks for every online
meeting wherever it is based (distance null), as does a search without a
place. This keeps a place search bounded by its radius.

By-appointment meetings (no weekday or start time) are listed when the search
has no time filter (day, start_after/start_before, starting_within), last when
sorted by time; any time filter leaves them out.
"""

import math
import re
import threading
from bisect import bisect_right
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import IntEnum, StrEnum
from operator import itemgetter
from statistics import median
from typing import Annotated, Any, Literal

from django.conf import settings
from django.db import connection
from django.db.models import CharField, Count, Exists, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Cast, Lower
from django.utils.translation import gettext_lazy
from pydantic import AwareDatetime, BaseModel, Field, WithJsonSchema, field_validator
from pydantic_core import PydanticCustomError

from recoverybridge.directory import version
from recoverybridge.directory.errors import InvalidParameter
from recoverybridge.directory.feeds.normalise import distance_metres
from recoverybridge.directory.models import (
    Approach,
    AttemptOutcome,
    AttendanceMode,
    Attribute,
    ChangeRequest,
    ChangeRequestStatus,
    FeedAttempt,
    FeedSource,
    Fellowship,
    HeldImport,
    HeldStatus,
    ImportRun,
    ImportStatus,
    Location,
    Meeting,
    MeetingSource,
    MeetingStatus,
    MoudStance,
    Service,
    SourceSystem,
)
from recoverybridge.directory.places import MAX_QUERY_LENGTH, MAX_SAMPLES, Place, find_place
from recoverybridge.directory.timing import IN_PROGRESS_GRACE, OccurrenceCache, wall_clock_window, zone
from recoverybridge.directory.vocabulary import FAMILY_ATTRIBUTE

EARTH_RADIUS_KM = 6371.0088
MAX_RADIUS_KM = 500.0
DEFAULT_RADIUS_KM = 25.0
MAX_PAGE_SIZE = 100
MAX_PAGE = 10_000
# Local clocks run from UTC-12 to UTC+14: the widest spread of local dates for one instant.
WESTMOST_OFFSET = timedelta(hours=-12)
EASTMOST_OFFSET = timedelta(hours=14)
# "Starting within" windows up to this long are narrowed per time zone in SQL (see _starting_window).
MAX_ZONE_WINDOW = timedelta(days=2)
# Around a DST transition a group keeps every meeting on the local days this much either side.
DAY_MARGIN = timedelta(days=1)

Through = Meeting.attributes.through


class SearchMode(StrEnum):
    IN_PERSON = AttendanceMode.IN_PERSON.value
    ONLINE = AttendanceMode.ONLINE.value
    HYBRID = AttendanceMode.HYBRID.value


class SearchApproach(StrEnum):
    TWELVE_STEP = Approach.TWELVE_STEP.value
    SECULAR = Approach.SECULAR.value
    FAITH_BASED = Approach.FAITH_BASED.value
    INDIGENOUS = Approach.INDIGENOUS.value
    MEDICATION_ASSISTED = Approach.MEDICATION_ASSISTED.value
    OTHER = Approach.OTHER.value
    # Not a fellowship's approach but a kind of group of its own: groups for the relatives and
    # friends of someone who drinks or uses drugs, whatever their approach (Al-Anon is twelve-step).
    FAMILY = "family"


FAMILY_LABEL = gettext_lazy("Family and friends")


def is_for_family(meeting: Meeting) -> bool:
    """A meeting for family and friends: of a family fellowship (Al-Anon, Nar-Anon...), or one its
    feed marks for them. Reads the fellowship and attributes already loaded (meetings_by_id)."""
    return meeting.fellowship.family_focused or any(
        a.slug == FAMILY_ATTRIBUTE for a in meeting.attributes.all()
    )


# A wall-clock time in the meeting's own zone: no offset, since the zone is the meeting's. The
# OpenAPI document declares the same pattern, so whatever it calls valid is accepted.
HHMM_PATTERN = "^([01]?[0-9]|2[0-3]):[0-5][0-9]$"
HHMM = re.compile(HHMM_PATTERN)
CLOCK_TIME_SCHEMA = {"type": "string", "pattern": HHMM_PATTERN, "examples": ["07:30", "19:00"]}


# The instants a search may be made at (`at`): far enough from the ends of the calendar for the
# arithmetic of a week either side.
EARLIEST_AT = datetime(1900, 1, 1, tzinfo=UTC)
LATEST_AT = datetime(9000, 12, 31, tzinfo=UTC)
ISO_DATE_START = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# For the OpenAPI document: the years 1901 to 8999, inside those bounds whatever the offset.
INSTANT_YEARS = "^(190[1-9]|19[1-9][0-9]|[2-8][0-9]{3})-"


def date_time_text(value: Any) -> Any:
    """An instant is given as an RFC 3339 date-time, as the OpenAPI document says: pydantic would
    also read a number as seconds since 1970, so that `at=0.5` searched in 1970, silently."""
    if isinstance(value, str) and not ISO_DATE_START.match(value.strip()):
        raise PydanticCustomError(
            "date_time", "'{value}' is not a date-time such as 2026-12-07T19:00:00Z", {"value": value}
        )
    return value


class MeetingSearch(BaseModel):
    """Search parameters; field validation names the parameter, cross-field checks happen in the search."""

    lat: float | None = Field(None, ge=-90, le=90, description="Latitude of the place, WGS84 degrees.")
    lon: float | None = Field(None, ge=-180, le=180, description="Longitude of the place, WGS84 degrees.")
    radius_km: float = Field(
        DEFAULT_RADIUS_KM,
        gt=0,
        le=MAX_RADIUS_KM,
        description="Distance from the place, in km; only with lat and lon.",
    )
    day: list[Annotated[int, Field(ge=0, le=6)]] = Field(
        default_factory=list, description="Weekday in the meeting's zone, 0 = Sunday; repeatable."
    )
    start_after: Annotated[time, WithJsonSchema(CLOCK_TIME_SCHEMA)] | None = Field(
        None, description="HH:MM, meeting's local time; meetings starting at or after it."
    )
    start_before: Annotated[time, WithJsonSchema(CLOCK_TIME_SCHEMA)] | None = Field(
        None,
        description="HH:MM, meeting's local time; meetings starting at or before it. "
        "Earlier than start_after means a range across midnight.",
    )
    starting_within: int | None = Field(
        None,
        ge=0,
        le=7 * 24 * 60,
        description="Minutes from `at`; meetings that began up to 10 minutes ago count (in progress).",
    )
    at: AwareDatetime | None = Field(
        None,
        json_schema_extra={"pattern": INSTANT_YEARS},
        description="ISO 8601 date-time with offset: the reference instant (default now), between "
        f"the years {EARLIEST_AT.year} and {LATEST_AT.year}.",
    )
    mode: SearchMode | None = Field(None, description="Attendance mode.")
    fellowship: list[str] = Field(default_factory=list, description="Fellowship slug; repeatable.")
    approach: SearchApproach | None = Field(
        None,
        description="The fellowship's approach, or `family`: groups for family and friends (a family "
        "fellowship such as Al-Anon, or a meeting its feed marks for them), whatever their approach.",
    )
    attribute: list[str] = Field(
        default_factory=list, description="Attribute slug; repeatable, all must match."
    )
    moud_friendly: bool = Field(False, description="Only meetings known to welcome people on MOUD.")
    language: str | None = Field(
        None,
        description="ISO 639-1 code of a language the meeting is held in; the API accepts the codes"
        " of the 'language' attributes in /api/v1/attributes.",
    )
    q: str | None = Field(None, max_length=200, description="Text in the name, group, notes or location.")
    sort: Literal["next", "distance", "name"] | None = Field(
        None,
        description="next: soonest first, ties nearest first; distance: nearest first, ties soonest "
        "first; name. Default: distance when a place is given, else next.",
    )
    prefer_language: str | None = Field(
        None,
        description="ISO 639-1 code of the reader's language: online meetings known to be held only "
        "in other languages come after the rest (not with sort=name).",
    )
    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(25, ge=1, le=MAX_PAGE_SIZE)

    @field_validator("day", mode="before")
    @classmethod
    def _weekdays(cls, value: Any) -> list[int]:
        values = value if isinstance(value, list) else [value]
        days = []
        for item in values:
            text = str(item).strip()
            if not text.isdecimal() or int(text) > 6:
                raise PydanticCustomError(
                    "weekday", "'{value}' is not a weekday from 0 (Sunday) to 6 (Saturday)", {"value": item}
                )
            days.append(int(text))
        return days

    @field_validator("start_after", "start_before", mode="before")
    @classmethod
    def _clock_time(cls, value: Any) -> time | None:
        if value is None or isinstance(value, time):
            return value
        match = HHMM.fullmatch(str(value).strip())
        if not match:
            raise PydanticCustomError(
                "clock_time", "'{value}' is not a time HH:MM (00:00 to 23:59)", {"value": value}
            )
        hours, minutes = match[0].split(":")
        return time(int(hours), int(minutes))

    @field_validator("language", "prefer_language", mode="before")
    @classmethod
    def _language(cls, value: Any) -> str | None:
        if value is None or value == "":
            return None
        text = str(value).strip().lower()
        if not re.fullmatch(r"[a-z]{2}", text):
            raise PydanticCustomError(
                "language", "'{value}' is not an ISO 639-1 code such as 'es'", {"value": value}
            )
        return text

    @field_validator("at", mode="before")
    @classmethod
    def _instant_text(cls, value: Any) -> Any:
        return date_time_text(value)

    @field_validator("at")
    @classmethod
    def _instant(cls, value: datetime | None) -> datetime | None:
        # A week either side of it must still be a date: the calendar ends at year 9999.
        if value is not None and not EARLIEST_AT <= value <= LATEST_AT:
            raise PydanticCustomError(
                "instant",
                "'{value}' is outside the years {earliest} to {latest}",
                {"value": value.isoformat(), "earliest": EARLIEST_AT.year, "latest": LATEST_AT.year},
            )
        return value

    @field_validator("q")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        # PostgreSQL refuses a NUL character in a text parameter (a 500); SQLite matched everything.
        if value is not None and "\x00" in value:
            raise PydanticCustomError("text", "the text contains a NUL character (%00)")
        return value

    @field_validator("fellowship", "attribute", mode="before")
    @classmethod
    def _slugs(cls, value: Any) -> list[str]:
        values = value if isinstance(value, list) else [value]
        return [str(item).strip().lower() for item in values if str(item).strip()]

    @property
    def has_place(self) -> bool:
        return self.lat is not None and self.lon is not None

    @property
    def has_time_filter(self) -> bool:
        return (
            bool(self.day) or self.starting_within is not None or bool(self.start_after or self.start_before)
        )


@dataclass
class Hit:
    meeting: Meeting
    distance_km: float | None
    next_occurrence: datetime | None


@dataclass
class FacetValue:
    value: str
    label: str
    count: int


@dataclass
class SearchResult:
    count: int
    page: int
    page_size: int
    hits: list[Hit]
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)


def bounding_box(lat: float, lon: float, radius_km: float) -> tuple[float, float, list[tuple[float, float]]]:
    """Latitude range and longitude ranges holding every point within `radius_km`.

    Two longitude ranges when the circle crosses the antimeridian; every
    longitude when it reaches a pole.
    """
    angle = radius_km / EARTH_RADIUS_KM
    lat_min = lat - math.degrees(angle)
    lat_max = lat + math.degrees(angle)
    if lat_min <= -90 or lat_max >= 90:
        return max(lat_min, -90.0), min(lat_max, 90.0), [(-180.0, 180.0)]
    dlon = math.degrees(math.asin(math.sin(angle) / math.cos(math.radians(lat))))
    west, east = lon - dlon, lon + dlon
    if west < -180:
        return lat_min, lat_max, [(west + 360, 180.0), (-180.0, east)]
    if east > 180:
        return lat_min, lat_max, [(west, 180.0), (-180.0, east - 360)]
    return lat_min, lat_max, [(west, east)]


def _local_weekdays_between(start: datetime, end: datetime) -> set[int]:
    """Meeting weekdays (0 = Sunday) that some local clock on Earth shows between two instants."""
    first = (start + WESTMOST_OFFSET).date()
    last = (end + EASTMOST_OFFSET).date()
    days = min((last - first).days + 1, 7)
    return {((first + timedelta(days=i)).weekday() + 1) % 7 for i in range(days)}


def _fellowships() -> tuple[dict[int, tuple[str, str, str]], frozenset[int]]:
    """id -> (slug, name, approach), and the ids of family fellowships: a small table, read once per search."""
    rows = Fellowship.objects.values_list("id", "slug", "name", "approach", "family_focused")
    return (
        {pk: (slug, name, approach) for pk, slug, name, approach, _family in rows},
        frozenset(pk for pk, *_rest, family in rows if family),
    )


def _filtered(
    params: MeetingSearch,
    fellowships: dict[int, tuple[str, str, str]],
    at: datetime,
    family: frozenset[int] = frozenset(),
) -> QuerySet[Meeting]:
    """Everything SQL can filter, except place and attendance mode."""
    meetings = Meeting.objects.filter(status=MeetingStatus.ACTIVE)

    if params.fellowship:
        by_slug = {slug: pk for pk, (slug, _, _) in fellowships.items()}
        unknown = [slug for slug in params.fellowship if slug not in by_slug]
        if unknown:
            raise InvalidParameter("fellowship", f"unknown fellowship {unknown[0]!r}")
        meetings = meetings.filter(fellowship_id__in=[by_slug[slug] for slug in params.fellowship])
    if params.approach == SearchApproach.FAMILY:
        marked = Through.objects.filter(attribute__slug=FAMILY_ATTRIBUTE).values("meeting_id")
        meetings = meetings.filter(Q(fellowship_id__in=sorted(family)) | Q(pk__in=marked))
    elif params.approach:
        meetings = meetings.filter(
            fellowship_id__in=[
                pk for pk, (_, _, approach) in fellowships.items() if approach == params.approach
            ]
        )

    if params.attribute or params.language:
        vocabulary = list(Attribute.objects.values_list("slug", "id", "language_code"))
        known = {slug: pk for slug, pk, _ in vocabulary}
        for slug in dict.fromkeys(params.attribute):
            if slug not in known:
                raise InvalidParameter("attribute", f"unknown attribute {slug!r}")
            # Correlated EXISTS: a point lookup per candidate on the (meeting, attribute) index.
            meetings = meetings.filter(
                Exists(Through.objects.filter(meeting_id=OuterRef("pk"), attribute_id=known[slug]))
            )
        if params.language:
            spoken = [pk for _, pk, code in vocabulary if code == params.language]
            meetings = meetings.filter(
                Exists(Through.objects.filter(meeting_id=OuterRef("pk"), attribute_id__in=spoken))
            )

    if params.moud_friendly:
        meetings = meetings.filter(moud_stance=MoudStance.WELCOMING)

    if params.has_time_filter:
        meetings = meetings.filter(weekday__isnull=False, start_time__isnull=False)
        days = set(params.day) if params.day else set(range(7))
        if params.starting_within is not None:
            at_utc = at.astimezone(UTC)
            days &= _local_weekdays_between(
                at_utc - IN_PROGRESS_GRACE, at_utc + timedelta(minutes=params.starting_within)
            )
        if days != set(range(7)):
            meetings = meetings.filter(weekday__in=sorted(days))
        after, before = params.start_after, params.start_before
        if after and before and after > before:
            meetings = meetings.filter(Q(start_time__gte=after) | Q(start_time__lte=before))
        else:
            if after:
                meetings = meetings.filter(start_time__gte=after)
            if before:
                meetings = meetings.filter(start_time__lte=before)

    if params.q:
        text = params.q.strip()
        meetings = meetings.filter(
            Q(name__icontains=text)
            | Q(group_name__icontains=text)
            | Q(notes__icontains=text)
            | Q(location__name__icontains=text)
            | Q(location__formatted_address__icontains=text)
            | Q(location__address__icontains=text)
            | Q(location__city__icontains=text)
        )
    return meetings


def _zones_in_use(modes: list[str]) -> set[str]:
    """Time zone names of active meetings in these modes.

    A loose index scan on the meeting_mode_zone_when prefix (mode, status, zone): one
    index seek per zone. A plain DISTINCT does as well on SQLite, but PostgreSQL reads
    every matching index entry for it (30 ms for the 50,000 online meetings at 200k).
    """
    meeting = connection.ops.quote_name(Meeting._meta.db_table)
    zone, mode, status = (
        connection.ops.quote_name(name) for name in ("timezone", "attendance_mode", "status")
    )
    # Quoted identifiers only; the values are parameters.
    sql = (
        f"WITH RECURSIVE zones(name) AS ("  # noqa: S608
        f" SELECT MIN({zone}) FROM {meeting} WHERE {mode} = %s AND {status} = %s"
        f" UNION ALL"
        f" SELECT (SELECT MIN({zone}) FROM {meeting} WHERE {mode} = %s AND {status} = %s AND {zone} > zones.name)"
        f" FROM zones WHERE zones.name IS NOT NULL"
        f") SELECT name FROM zones WHERE name IS NOT NULL"
    )
    names: set[str] = set()
    with connection.cursor() as cursor:
        for value in modes:
            cursor.execute(sql, [value, MeetingStatus.ACTIVE.value] * 2)
            names.update(name for (name,) in cursor.fetchall())
    return names


def _meeting_weekday(day: date) -> int:
    return (day.weekday() + 1) % 7


def _wall_clock_range(first: datetime, last: datetime) -> list[Q]:
    """Terms for the (weekday, start) between two wall-clock times less than a week apart."""
    start, end = first.time().replace(second=0, microsecond=0), last.time()
    if first.date() == last.date():
        return [Q(weekday=_meeting_weekday(first.date()), start_time__gte=start, start_time__lte=end)]
    terms = [Q(weekday=_meeting_weekday(first.date()), start_time__gte=start)]
    day = first.date() + timedelta(days=1)
    while day < last.date():
        terms.append(Q(weekday=_meeting_weekday(day)))
        day += timedelta(days=1)
    return [*terms, Q(weekday=_meeting_weekday(last.date()), start_time__lte=end)]


def _starting_window(modes: list[str], at: datetime, minutes: int) -> Q:
    """Meetings that can start in the `starting_within` window, as one SQL condition.

    One instant is a different wall clock in each zone, so zones are grouped by the
    wall-clock range the window covers there, and each group keeps the meetings whose
    weekday and start lie in its range: a seek each on meeting_mode_zone_when (status
    and mode are repeated inside each term so SQLite can use the index per term). In a
    zone with a DST transition near the window, the group keeps its meetings on the
    weekdays around it. Python still checks every candidate's next occurrence, so this
    only has to keep every meeting that starts in the window, which it does exactly.
    """
    start = at.astimezone(UTC) - IN_PROGRESS_GRACE
    end = at.astimezone(UTC) + timedelta(minutes=minutes)
    if end - start > MAX_ZONE_WINDOW:
        return Q()
    groups: dict[Any, list[str]] = {}
    for name in _zones_in_use(modes):
        wall = wall_clock_window(name, start, end)
        if wall is None:
            first = (start - DAY_MARGIN).astimezone(zone(name)).date()
            days = (end + DAY_MARGIN).astimezone(zone(name)).date() - first
            key: Any = frozenset(_meeting_weekday(first + timedelta(days=i)) for i in range(days.days + 1))
        else:
            key = wall
        groups.setdefault(key, []).append(name)
    window = Q(pk__in=[])
    for key, names in groups.items():
        where = Q(status=MeetingStatus.ACTIVE, attendance_mode__in=modes, timezone__in=sorted(names))
        terms = [Q(weekday__in=sorted(key))] if isinstance(key, frozenset) else _wall_clock_range(*key)
        for term in terms:
            window |= where & term
    return window


CANDIDATE_FIELDS = (
    "id",
    "location__latitude",
    "location__longitude",
    "weekday",
    "start_text",
    "timezone",
    "fellowship_id",
    "attendance_mode",
)
# Without a place nothing is measured: no join to locations, and the columns are all in the
# meeting_mode_zone_when index, so SQLite answers from the index alone.
UNPLACED_FIELDS = ("id", "weekday", "start_text", "timezone", "fellowship_id", "attendance_mode")


def _measured(params: MeetingSearch) -> bool:
    """Whether the search is bounded by its place (mode=online finds online meetings anywhere)."""
    return params.has_place and params.mode != SearchMode.ONLINE


def candidate_query(params: MeetingSearch, meetings: QuerySet[Meeting]) -> QuerySet[Meeting, tuple[Any, ...]]:
    """The candidate tuples' query: (id, latitude, longitude, weekday, start, zone, fellowship id,
    mode[, name]); a place search adds its bounding box, other searches leave the coordinates out.

    The start comes as text ("19:30:00"): converting it to a time on every row cost more
    than the rest of the row; OccurrenceCache parses it once per (zone, weekday, start).
    """
    meetings = meetings.annotate(start_text=Cast("start_time", CharField()))
    fields: tuple[str, ...] = CANDIDATE_FIELDS if _measured(params) else UNPLACED_FIELDS
    if params.sort == "name":
        fields = (*fields, "name")
    if not _measured(params):
        return meetings.values_list(*fields)
    assert params.lat is not None and params.lon is not None
    box = bounding_box(params.lat, params.lon, params.radius_km)
    if params.start_after or params.start_before:
        # With a start range SQLite otherwise walks meeting_when over the whole world
        # (Chicago, Wednesday evening: 37 ms instead of 7 at 200k meetings); the box's
        # locations as a list send it to meeting_place_when, location by location. With
        # a weekday alone it already goes that way, a little faster without the list.
        meetings = meetings.filter(location_id__in=Location.objects.filter(_in_box(box)).values("id"))
    return meetings.filter(_in_box(box, "location__")).values_list(*fields)


def _in_box(box: tuple[float, float, list[tuple[float, float]]], prefix: str = "") -> Q:
    lat_min, lat_max, lon_ranges = box
    in_lon = Q()
    for west, east in lon_ranges:
        in_lon |= Q(**{f"{prefix}longitude__gte": west, f"{prefix}longitude__lte": east})
    return in_lon & Q(**{f"{prefix}latitude__gte": lat_min, f"{prefix}latitude__lte": lat_max})


def _candidate_rows(params: MeetingSearch, meetings: QuerySet[Meeting]) -> list[tuple[Any, ...]]:
    rows = candidate_query(params, meetings)
    if _measured(params):
        return list(rows)
    return [(row[0], None, None, *row[1:]) for row in rows]


def search_meetings(params: MeetingSearch, *, now: datetime) -> SearchResult:
    """Active meetings matching `params`, one page of them, and facets over all of them."""
    if (params.lat is None) != (params.lon is None):
        missing = "lon" if params.lon is None else "lat"
        raise InvalidParameter(missing, "lat and lon must be given together")
    if "radius_km" in params.model_fields_set and not params.has_place:
        raise InvalidParameter("radius_km", "a distance needs a place: give lat and lon too")
    sort = params.sort or ("distance" if params.has_place else "next")
    if sort == "distance" and not params.has_place:
        raise InvalidParameter("sort", "sorting by distance needs lat and lon")
    at = params.at or now

    fellowships, family = _fellowships()
    # No ORDER BY: Meeting's default ordering would sort every candidate in SQL for nothing.
    meetings = _filtered(params, fellowships, at, family).order_by()
    modes = [params.mode.value] if params.mode else [m.value for m in SearchMode]
    meetings = meetings.filter(attendance_mode__in=modes)
    if params.starting_within is not None and not _measured(params):
        meetings = meetings.filter(_starting_window(modes, at, params.starting_within))
    occurrences = OccurrenceCache(at)
    if not params.has_place and params.starting_within is None:
        result = _wide_search(params, meetings, sort, fellowships, occurrences)
    else:
        result = _candidate_search(params, _candidate_rows(params, meetings), sort, fellowships, occurrences)
    return _with_family_facet(params, result, fellowships, family)


def _with_family_facet(
    params: MeetingSearch,
    result: SearchResult,
    fellowships: dict[int, tuple[str, str, str]],
    family: frozenset[int],
) -> SearchResult:
    """Adds "family and friends" to the kinds of group: the meetings of family fellowships (also
    counted under their approach: Al-Anon is twelve-step too). A meeting of another fellowship
    that its feed marks for family is found by approach=family but counted here only then."""
    if params.approach == SearchApproach.FAMILY:
        count = result.count
    else:
        by_slug = {facet.value: facet.count for facet in result.facets.get("fellowship", [])}
        count = sum(by_slug.get(fellowships[pk][0], 0) for pk in family)
    result.facets.setdefault("approach", []).append(
        FacetValue(SearchApproach.FAMILY.value, str(FAMILY_LABEL), count)
    )
    return result


def _candidate_search(
    params: MeetingSearch,
    rows: list[tuple[Any, ...]],
    sort: str,
    fellowships: dict[int, tuple[str, str, str]],
    occurrences: OccurrenceCache,
) -> SearchResult:
    """Exact distance, time window, facets and sort over the candidate rows.

    A tight loop over plain tuples: a dense city has tens of thousands of candidates.
    Sorted by distance, the next occurrence only orders meetings at the same distance, so
    unless the search has a time window it is worked out for the page's meetings and their
    ties only, not for every candidate.
    """
    never = math.inf
    measure = _measured(params)
    if measure:
        assert params.lat is not None and params.lon is not None
        lat0, lon0 = math.radians(params.lat), math.radians(params.lon)
        cos0 = math.cos(lat0)
        # Compare the haversine term, not kilometres: one asin per kept row instead of per candidate.
        max_h = math.sin(min(params.radius_km / EARTH_RADIUS_KM, math.pi) / 2) ** 2
    window_end = occurrences.at.timestamp() + 60 * (params.starting_within or 0)
    within = params.starting_within is not None
    by_name = sort == "name"
    # Without a place every distance is null: sorting by distance is sorting by time.
    by_distance = sort == "distance" and measure
    need_time = within or not (by_name or by_distance)
    online = AttendanceMode.ONLINE.value
    instant, known = occurrences.instant, occurrences.instants
    sin, cos, radians, asin, sqrt = math.sin, math.cos, math.radians, math.asin, math.sqrt

    def when_of(weekday: int | None, start: str | None, zone_name: str) -> float:
        return never if weekday is None or start is None else instant(weekday, start, zone_name)

    # (primary key of the sort, next occurrence or None if not worked out, id, distance,
    #  fellowship id, mode, weekday, start, zone)
    kept: list[tuple[Any, float | None, int, float | None, int, str, int | None, str | None, str]] = []
    append = kept.append
    # Rows come location by location (the box walks the coordinate index): the haversine
    # term is worked out once per place, not once per meeting.
    last_lat: float | None = None
    last_lon: float | None = None
    inside, here = False, 0.0
    for row in rows:
        pk, lat, lon, weekday, start, zone_name, fellowship_id, mode = row[:8]
        distance = None
        if measure:
            if lat != last_lat or lon != last_lon:
                p = radians(lat)
                h = sin((p - lat0) / 2) ** 2 + cos0 * cos(p) * sin((radians(lon) - lon0) / 2) ** 2
                inside = h <= max_h
                if inside:
                    here = 2 * EARTH_RADIUS_KM * asin(min(1.0, sqrt(h)))
                last_lat, last_lon = lat, lon
            if not inside:
                continue
            # Online meetings are joined from anywhere: the group's home is no distance to travel.
            if mode != online:
                distance = here
        when = None
        if need_time:
            when = known.get((zone_name, weekday, start))
            if when is None:
                when = when_of(weekday, start, zone_name)
            if within and when > window_end:
                continue
        if by_name:
            primary: Any = row[8].casefold()
        elif by_distance:
            primary = never if distance is None else distance
        else:
            primary = when
        append((primary, when, pk, distance, fellowship_id, mode, weekday, start, zone_name))

    first = (params.page - 1) * params.page_size
    last = first + params.page_size
    # Online meetings held only in other languages than the reader's come after the rest.
    other = None if by_name else _other_language(params)
    later: set[int] = set()
    online_ids = [k[2] for k in kept if k[5] == online] if other is not None else []
    # Nearest first puts online meetings (no distance) last: their languages matter only
    # when the page reaches them.
    if online_ids and not (by_distance and len(kept) - len(online_ids) >= last):
        assert other is not None
        later = _matching(other, online_ids)
    if by_distance:
        # Sort by distance alone (C speed), then order the head up to the page's last
        # distance, ties included, by (distance, language, next occurrence, id).
        kept.sort(key=itemgetter(0))
        head = kept
        if last < len(kept):
            head = kept[: bisect_right(kept, kept[last - 1][0], key=itemgetter(0))]
        ordered = sorted(
            head,
            key=lambda k: (k[0], k[2] in later, when_of(k[6], k[7], k[8]) if k[1] is None else k[1], k[2]),
        )
        page = ordered[first:last]
    elif not by_name and (later or measure):
        # Soonest first; at the same minute the nearest, online meetings (no distance) after.
        kept.sort(key=lambda k: (k[2] in later, k[0], never if k[3] is None else k[3], k[2]))
        page = kept[first:last]
    else:
        kept.sort(key=itemgetter(0, 2))
        page = kept[first:last]
    return SearchResult(
        count=len(kept),
        page=params.page,
        page_size=params.page_size,
        hits=_hits([(k[2], k[3]) for k in page], occurrences),
        facets=_facets(Counter(map(itemgetter(4), kept)), Counter(map(itemgetter(5), kept)), fellowships),
    )


def _other_language(params: MeetingSearch) -> Q | None:
    """Online meetings known to be held in some language, none of them the reader's
    (`prefer_language`); None when there is no preference or no meeting could be held in it.
    A meeting with no language recorded is not put back: it may well be in the reader's."""
    if not params.prefer_language:
        return None
    spoken = list(Attribute.objects.exclude(language_code="").values_list("id", "language_code"))
    preferred = [pk for pk, code in spoken if code == params.prefer_language]
    if not preferred:
        return None
    return (
        Q(attendance_mode=AttendanceMode.ONLINE)
        & Exists(Through.objects.filter(meeting_id=OuterRef("pk"), attribute_id__in=[pk for pk, _ in spoken]))
        & ~Exists(Through.objects.filter(meeting_id=OuterRef("pk"), attribute_id__in=preferred))
    )


# Ids per query in _matching: well under SQLite's limit on parameters.
ID_CHUNK = 5000


def _matching(condition: Q, ids: list[int]) -> set[int]:
    """The meetings among `ids` that meet `condition`."""
    found: set[int] = set()
    for i in range(0, len(ids), ID_CHUNK):
        chunk = ids[i : i + ID_CHUNK]
        found.update(Meeting.objects.filter(condition, pk__in=chunk).values_list("id", flat=True))
    return found


@dataclass(frozen=True)
class WideCounts:
    """What a search with no place and no time window counts, whatever the instant:
    meetings per fellowship and per mode (the facets), and per (zone, weekday, start)
    slot, the start as text ("19:30:00"; None for by-appointment meetings)."""

    by_fellowship: Counter[int]
    by_mode: Counter[str]
    slots: tuple[tuple[str, int | None, str | None, int], ...]


def _wide_counts(meetings: QuerySet[Meeting]) -> WideCounts:
    """Two grouped queries over the filtered meetings.

    Mode first, fellowship second, and the MOUD stance too: that makes the grouping
    one SQLite can take from meeting_mode_zone_when alone. Grouped by (fellowship,
    mode) it walked meeting_fellowship_when and read every meeting's row (300 ms
    for the MOUD search at 200k meetings instead of 30).
    """
    by_fellowship: Counter[int] = Counter()
    by_mode: Counter[str] = Counter()
    for mode, fellowship_id, _stance, n in meetings.values_list(
        "attendance_mode", "fellowship_id", "moud_stance"
    ).annotate(n=Count("id")):
        by_fellowship[fellowship_id] += n
        by_mode[mode] += n
    # One string per zone and per start, not one per row: the widest counts at 200k take about 1 MB.
    texts: dict[str, str] = {}
    slots = tuple(
        (texts.setdefault(zone_name, zone_name), weekday, start and texts.setdefault(start, start), n)
        for zone_name, weekday, start, n in meetings.annotate(start_text=Cast("start_time", CharField()))
        .values_list("timezone", "weekday", "start_text")
        .annotate(n=Count("id"))
    )
    return WideCounts(by_fellowship, by_mode, slots)


# Counts of recent wide searches, per process: (database, directory token, SQL, parameters) -> counts.
# The widest (every meeting: 10,572 slots at 200k) holds about 1 MB.
WIDE_COUNTS_KEPT = 32
_wide_counts_kept: OrderedDict[tuple[Any, ...], WideCounts] = OrderedDict()
_wide_counts_lock = threading.Lock()


def _reused_wide_counts(params: MeetingSearch, meetings: QuerySet[Meeting]) -> WideCounts:
    """_wide_counts, reused while the directory is unchanged.

    A wide search's counts take one or two scans of an index over every matching
    meeting (about 200 ms for the 170,000 twelve-step meetings at 200k), and the
    same few searches ("welcomes people on MOUD", "online") come back again and
    again. They depend only on the filters (the exact SQL) and the directory, whose
    token changes in the same transaction as any change to meetings
    (directory/version.py), so counts kept under the token read before counting are
    never older than the directory that token stands for. Text searches also match
    location names, which the token does not follow: never kept.
    """
    token = None if params.q else version.current_token()
    if token is None:
        return _wide_counts(meetings)
    sql, sql_params = meetings.query.sql_with_params()
    key = (connection.alias, connection.settings_dict["NAME"], token, sql, tuple(sql_params))
    with _wide_counts_lock:
        counts = _wide_counts_kept.get(key)
        if counts is not None:
            _wide_counts_kept.move_to_end(key)
            return counts
    counts = _wide_counts(meetings)
    with _wide_counts_lock:
        _wide_counts_kept[key] = counts
        while len(_wide_counts_kept) > WIDE_COUNTS_KEPT:
            _wide_counts_kept.popitem(last=False)
    return counts


def forget_kept_counts() -> None:
    """Drop every kept count (benchmarks time the first search of each kind)."""
    with _wide_counts_lock:
        _wide_counts_kept.clear()


def _wide_search(
    params: MeetingSearch,
    meetings: QuerySet[Meeting],
    sort: str,
    fellowships: dict[int, tuple[str, str, str]],
    occurrences: OccurrenceCache,
) -> SearchResult:
    """A search with no place and no time window may match most of the directory.

    Count, facets and the page come from grouped SQL instead of a Python row per
    meeting: meetings sharing a zone, weekday and start share their next
    occurrence, so the sort works on those few thousand slots, and only the
    slots that reach the page are fetched as ids. With a preferred language the
    meetings are counted in two parts, the online meetings held only in other
    languages second, and the pages run through the first part, then the second.
    """
    first = (params.page - 1) * params.page_size
    other = None if sort == "name" else _other_language(params)
    parts = [meetings] if other is None else [meetings.exclude(other), meetings.filter(other)]
    counted = [(part, _reused_wide_counts(params, part)) for part in parts]
    by_fellowship: Counter[int] = Counter()
    by_mode: Counter[str] = Counter()
    for _part, counts in counted:
        by_fellowship.update(counts.by_fellowship)
        by_mode.update(counts.by_mode)

    page: list[tuple[int, float | None]] = []
    if sort == "name":
        ids = meetings.order_by(Lower("name"), "id").values_list("id", flat=True)[
            first : first + params.page_size
        ]
        page = [(pk, None) for pk in ids]
    else:
        skip = first
        for part, counts in counted:
            size = sum(counts.by_mode.values())
            if skip >= size:
                skip -= size
                continue
            page += _slot_page(part, counts, skip, params.page_size - len(page), occurrences)
            skip = 0
            if len(page) >= params.page_size:
                break

    return SearchResult(
        count=sum(by_mode.values()),
        page=params.page,
        page_size=params.page_size,
        hits=_hits(page, occurrences),
        facets=_facets(by_fellowship, by_mode, fellowships),
    )


def _slot_page(
    meetings: QuerySet[Meeting], counts: WideCounts, first: int, size: int, occurrences: OccurrenceCache
) -> list[tuple[int, float | None]]:
    """`size` meetings from the `first`, soonest first, working on (zone, weekday, start) slots."""
    # Slots grouped by instant: ties across zones are broken by id, as in the place search.
    by_instant: dict[float, list[tuple[str, int | None, str | None, int]]] = {}
    instant = occurrences.instant
    for slot in counts.slots:
        zone_name, weekday, start, _n = slot
        when = math.inf if weekday is None or start is None else instant(weekday, start, zone_name)
        by_instant.setdefault(when, []).append(slot)
    wanted = Q(pk__in=[])
    skipped = seen = 0
    for when in sorted(by_instant):
        if seen >= first + size:
            break
        slots = by_instant[when]
        slot_size = sum(n for *_, n in slots)
        if seen + slot_size <= first:
            skipped = seen = seen + slot_size
            continue
        seen += slot_size
        for zone_name, weekday, start, _ in slots:
            if when == math.inf:
                wanted |= Q(weekday__isnull=True) | Q(start_time__isnull=True)
            else:
                assert start is not None
                wanted |= Q(timezone=zone_name, weekday=weekday, start_time=time.fromisoformat(start))
    rows = list(meetings.filter(wanted).values_list("id", "timezone", "weekday", "start_time"))

    def key(row: tuple[int, str, int | None, time | None]) -> tuple[float, int]:
        pk, zone_name, weekday, start = row
        if weekday is None or start is None:
            return (math.inf, pk)
        return (occurrences.instant(weekday, start, zone_name), pk)

    rows.sort(key=key)
    offset = first - skipped
    return [(row[0], None) for row in rows[offset : offset + size]]


def _hits(page: Sequence[tuple[int, float | None]], occurrences: OccurrenceCache) -> list[Hit]:
    """Full meetings for the page's (id, distance) pairs, in order, with their next occurrence."""
    by_id = meetings_by_id([pk for pk, _ in page])
    hits = []
    for pk, distance in page:
        meeting = by_id[pk]
        occurrence = None
        if meeting.weekday is not None and meeting.start_time is not None:
            occurrence = occurrences.get(meeting.weekday, meeting.start_time, meeting.timezone)
        hits.append(Hit(meeting, distance, occurrence))
    return hits


def meetings_by_id(ids: list[int]) -> dict[int, Meeting]:
    """Full rows for a page: three queries however many meetings."""
    meetings = (
        Meeting.objects.filter(pk__in=ids)
        .select_related("fellowship", "location")
        .prefetch_related("attributes")
    )
    return {meeting.pk: meeting for meeting in meetings}


def _facets(
    by_fellowship: Counter[int], by_mode: Counter[str], fellowships: dict[int, tuple[str, str, str]]
) -> dict[str, list[FacetValue]]:
    """Counts over the whole filtered set; every approach, fellowship and mode is listed, zeros too,
    so a search never hides that other kinds of group exist."""
    by_approach: Counter[str] = Counter()
    for pk, count in by_fellowship.items():
        by_approach[fellowships[pk][2]] += count
    return {
        "approach": [FacetValue(a.value, str(a.label), by_approach[a.value]) for a in Approach],
        "fellowship": sorted(
            (FacetValue(slug, name, by_fellowship[pk]) for pk, (slug, name, _) in fellowships.items()),
            key=lambda f: (-f.count, f.label),
        ),
        "mode": [
            FacetValue(m.value, str(AttendanceMode(m.value).label), by_mode[m.value]) for m in SearchMode
        ],
    }


# ---------------------------------------------------------------- reported changes


def pending_changes() -> QuerySet[ChangeRequest]:
    """Reported changes waiting for an editor, oldest first."""
    return (
        ChangeRequest.objects.filter(status=ChangeRequestStatus.PENDING)
        .select_related("meeting", "meeting__fellowship")
        .order_by("created_at")
    )


def recent_reviews(count: int = 20) -> list[ChangeRequest]:
    return list(
        ChangeRequest.objects.exclude(status=ChangeRequestStatus.PENDING)
        .select_related("meeting", "reviewed_by")
        .order_by("-reviewed_at")[:count]
    )


# Where listings come from (issue 16, data quality in the open).


@dataclass(frozen=True)
class ListingSource:
    """A feed that lists (or listed) a meeting, and when it last confirmed it."""

    name: str
    url: str  # the feed's http(s) address, else ""
    format: str  # its format's label ("Meeting Guide JSON")
    listed: bool  # still in the feed
    confirmed_at: datetime | None  # the feed's last successful import while it listed the meeting
    last_seen: datetime


@dataclass(frozen=True)
class Provenance:
    sources: list[ListingSource]

    @property
    def last_confirmed(self) -> datetime | None:
        """When a feed that still lists the meeting last confirmed it (None: no feed does)."""
        moments = [source.confirmed_at for source in self.sources if source.listed and source.confirmed_at]
        return max(moments) if moments else None


@dataclass(frozen=True)
class FeedInfo:
    name: str
    url: str
    format: str
    last_success: datetime | None


def feed_infos() -> dict[int, FeedInfo]:
    """Every feed source with its last successful import, in two queries.

    An unchanged record is not written again, so a meeting's source row does not say when it
    was last seen in the feed: the feed's last successful import does, while the row is active.
    """
    last_success = dict(
        ImportRun.objects.filter(status=ImportStatus.SUCCEEDED)
        .values("feed_source_id")
        .annotate(last=Max("started_at"))
        .values_list("feed_source_id", "last")
    )
    formats = dict(SourceSystem.choices)
    return {
        pk: FeedInfo(
            name=name,
            url=location if location.lower().startswith(("https://", "http://")) else "",
            format=str(formats.get(feed_format, feed_format)),
            last_success=last_success.get(pk),
        )
        for pk, name, location, feed_format in FeedSource.objects.values_list(
            "id", "name", "location", "format"
        )
    }


def provenance_from(rows: Sequence[tuple[int, bool, datetime]], feeds: dict[int, FeedInfo]) -> Provenance:
    """From (feed source id, active, last_seen) rows of one meeting; listing feeds first."""
    sources = []
    for feed_id, active, last_seen in rows:
        feed = feeds.get(feed_id)
        if feed is None:
            continue
        confirmed = feed.last_success if active and feed.last_success else None
        if confirmed is not None and confirmed < last_seen:
            confirmed = last_seen  # written by a run still under way, or after the last success
        sources.append(
            ListingSource(feed.name, feed.url, feed.format, active, confirmed if active else None, last_seen)
        )
    sources.sort(key=lambda s: (not s.listed, s.name))
    return Provenance(sources)


def listing_provenance(meeting_ids: Sequence[int]) -> dict[int, Provenance]:
    feeds = feed_infos()
    rows: dict[int, list[tuple[int, bool, datetime]]] = {pk: [] for pk in meeting_ids}
    for meeting_id, feed_id, active, last_seen in MeetingSource.objects.filter(
        meeting_id__in=list(meeting_ids)
    ).values_list("meeting_id", "feed_source_id", "active", "last_seen"):
        rows[meeting_id].append((feed_id, active, last_seen))
    return {pk: provenance_from(found, feeds) for pk, found in rows.items()}


# ---------------------------------------------------------------- feed sources' health


class Trouble(IntEnum):
    """How much a source needs a person, worst last (the list of sources is ordered by it)."""

    NONE = 0
    UNSCHEDULED = 1
    NEVER_FETCHED = 2
    STALE = 3
    HELD = 4
    FAILING = 5


TROUBLE_LABELS = {
    Trouble.NONE: gettext_lazy("Fresh"),
    Trouble.UNSCHEDULED: gettext_lazy("Imported by hand only"),
    Trouble.NEVER_FETCHED: gettext_lazy("Not fetched yet"),
    Trouble.STALE: gettext_lazy("Stale"),
    Trouble.HELD: gettext_lazy("Import waiting for an editor"),
    Trouble.FAILING: gettext_lazy("Failing"),
}
CONFIRMED = (AttemptOutcome.OK, AttemptOutcome.NOT_MODIFIED)


@dataclass
class SourceHealth:
    source: FeedSource
    now: datetime
    last_attempt_at: datetime | None
    last_outcome: str
    last_error: str
    last_success_at: datetime | None
    held_id: int | None
    held_since: datetime | None
    active_meetings: int
    failing_since: datetime | None = None

    @property
    def scheduled(self) -> bool:
        return bool(self.source.refresh_minutes and self.source.location)

    @property
    def stale_for(self) -> timedelta | None:
        """How long since anything confirmed the source's meetings (an import or a 304)."""
        return self.now - self.last_success_at if self.last_success_at else None

    @property
    def trouble(self) -> Trouble:
        if self.last_outcome == AttemptOutcome.FAILED:
            return Trouble.FAILING
        if self.held_id:
            return Trouble.HELD
        if not self.scheduled:
            return Trouble.UNSCHEDULED
        if self.last_attempt_at is None:
            return Trouble.NEVER_FETCHED
        allowed = timedelta(minutes=self.source.refresh_minutes) * settings.FEED_STALE_AFTER_INTERVALS
        if self.stale_for is None or self.stale_for > allowed:
            return Trouble.STALE
        return Trouble.NONE

    @property
    def failing(self) -> bool:
        return self.trouble == Trouble.FAILING

    @property
    def trouble_label(self) -> str:
        return str(TROUBLE_LABELS[self.trouble])

    @property
    def trouble_since(self) -> datetime | None:
        if self.trouble == Trouble.FAILING:
            return self.failing_since
        if self.trouble == Trouble.HELD:
            return self.held_since
        return self.last_success_at

    @property
    def in_trouble(self) -> bool:
        return self.trouble >= Trouble.STALE


def source_health(now: datetime, *, source_id: int | None = None) -> list[SourceHealth]:
    """Every feed source's health, the most troubled first (longest in trouble first among
    equals); a few queries whatever the number of sources."""
    latest = (
        FeedAttempt.objects.filter(feed_source=OuterRef("pk"))
        .exclude(outcome=AttemptOutcome.RUNNING)
        .order_by("-started_at", "-id")
    )
    confirmed = FeedAttempt.objects.filter(feed_source=OuterRef("pk"), outcome__in=CONFIRMED).order_by(
        "-finished_at"
    )
    # An import run by hand (manage.py import_feed) confirms the meetings as much as a fetch does.
    imported = ImportRun.objects.filter(
        feed_source=OuterRef("pk"), status=ImportStatus.SUCCEEDED, finished_at__isnull=False
    ).order_by("-finished_at")
    held = HeldImport.objects.filter(feed_source=OuterRef("pk"), status=HeldStatus.PENDING).order_by(
        "-held_at"
    )
    active = (
        MeetingSource.objects.filter(feed_source=OuterRef("pk"), active=True)
        .values("feed_source")
        .annotate(count=Count("id"))
        .values("count")
    )
    sources = FeedSource.objects.select_related("fellowship").annotate(
        last_attempt_at=Subquery(latest.values("started_at")[:1]),
        last_outcome=Subquery(latest.values("outcome")[:1]),
        last_error=Subquery(latest.values("error")[:1]),
        last_success_at=Subquery(confirmed.values("finished_at")[:1]),
        last_import_at=Subquery(imported.values("finished_at")[:1]),
        held_id=Subquery(held.values("id")[:1]),
        held_since=Subquery(held.values("held_at")[:1]),
        active_meetings=Subquery(active[:1]),
    )
    if source_id is not None:
        sources = sources.filter(pk=source_id)
    found = [
        SourceHealth(
            source=source,
            now=now,
            last_attempt_at=source.last_attempt_at,
            last_outcome=source.last_outcome or "",
            last_error=source.last_error or "",
            last_success_at=max(
                (moment for moment in (source.last_success_at, source.last_import_at) if moment), default=None
            ),
            held_id=source.held_id,
            held_since=source.held_since,
            active_meetings=source.active_meetings or 0,
        )
        for source in sources
    ]
    for health in found:
        if health.trouble == Trouble.FAILING:
            failed = FeedAttempt.objects.filter(feed_source=health.source, outcome=AttemptOutcome.FAILED)
            if health.last_success_at:
                failed = failed.filter(started_at__gt=health.last_success_at)
            health.failing_since = failed.order_by("started_at").values_list("started_at", flat=True).first()
    oldest = datetime.max.replace(tzinfo=UTC)
    found.sort(key=lambda h: (-h.trouble, h.trouble_since or oldest, h.source.name))
    return found


MISSING_LABELS = {
    "timezone": gettext_lazy("time zone"),
    "coordinates": gettext_lazy("coordinates"),
    "types": gettext_lazy("types (kinds of meeting)"),
}


@dataclass
class SourceDetail:
    health: SourceHealth
    attempts: list[FeedAttempt]
    # The latest attempt that read records (its refusals and missing fields are the source's now).
    last_read: FeedAttempt | None
    held: list[HeldImport]

    @property
    def missing(self) -> list[tuple[str, int, int]]:
        """(field, records without it, percent of records), most often missing first."""
        if self.last_read is None or not self.last_read.records_read:
            return []
        total = self.last_read.records_read
        rows = [
            (str(MISSING_LABELS.get(name, name)), count, round(100 * count / total))
            for name, count in self.last_read.missing.items()
            if count
        ]
        return sorted(rows, key=lambda row: -row[1])


def source_detail(source_id: int, now: datetime) -> SourceDetail | None:
    found = source_health(now, source_id=source_id)
    if not found:
        return None
    attempts = FeedAttempt.objects.filter(feed_source_id=source_id)
    return SourceDetail(
        health=found[0],
        attempts=list(attempts.select_related("held_import")[:20]),
        last_read=attempts.filter(records_read__gt=0).first(),
        held=list(
            HeldImport.objects.filter(feed_source_id=source_id)
            .defer("body", "diff")
            .select_related("decided_by")[:10]
        ),
    )


def held_import(held_id: int) -> HeldImport | None:
    return (
        HeldImport.objects.defer("body")
        .select_related("feed_source", "decided_by")
        .filter(pk=held_id)
        .first()
    )


# Services beyond meetings (HSDS services kept by the import): search by place and category.

SERVICE_RADII_KM = (5, 10, 25, 50, 100)
SERVICE_PAGE = 50


@dataclass
class ServiceHit:
    service: Service
    distance_km: float | None


@dataclass
class ServiceResults:
    hits: list[ServiceHit]
    place: Place | None = None
    place_unknown: bool = False  # a place was asked for and not found


def listed_services() -> QuerySet[Service]:
    """Services their feed still lists and that say they are active (or say nothing)."""
    return Service.objects.filter(listed=True).exclude(status__in=("inactive", "defunct"))


def find_service_place(where: str) -> Place | None:
    """The finder's place lookup, then the services' own places (a town with services but no meetings)."""
    place = find_place(where)
    if place is not None:
        return place
    wanted = " ".join(where.split())[:MAX_QUERY_LENGTH]
    if not wanted:
        return None
    points = [
        (lat, lon)
        for lat, lon in listed_services()
        .filter(Q(postal_code__iexact=wanted) | Q(city__iexact=wanted))
        .values_list("latitude", "longitude")[:MAX_SAMPLES]
        if lat is not None and lon is not None
    ]
    if not points:
        return None
    return Place(
        label=wanted,
        latitude=median(lat for lat, _ in points),
        longitude=median(lon for _, lon in points),
    )


def search_services(where: str = "", category: str = "", radius_km: float = 25) -> ServiceResults:
    """Listed services of `category` (any when blank), nearest first within `radius_km` of `where`;
    without a place, by name."""
    services = listed_services()
    if category:
        services = services.filter(category=category)
    if not where.strip():
        return ServiceResults(hits=[ServiceHit(service, None) for service in services[:SERVICE_PAGE]])
    place = find_service_place(where)
    if place is None:
        return ServiceResults(hits=[], place_unknown=True)
    hits = services_near(
        place.latitude, place.longitude, category, radius_km=radius_km, limit=SERVICE_PAGE, among=services
    )
    return ServiceResults(hits=hits, place=place)


def services_near(
    latitude: float,
    longitude: float,
    category: str,
    *,
    radius_km: float = 25,
    limit: int = 5,
    among: QuerySet[Service] | None = None,
) -> list[ServiceHit]:
    """The nearest listed services (of `category` when given) around a point, nearest first."""
    services = listed_services() if among is None else among
    if category:
        services = services.filter(category=category)
    services = services.filter(_in_box(bounding_box(latitude, longitude, radius_km)))
    hits = []
    for service in services:
        assert service.latitude is not None and service.longitude is not None  # filtered by the box
        metres = distance_metres(latitude, longitude, service.latitude, service.longitude)
        if metres <= radius_km * 1000:
            hits.append(ServiceHit(service, round(metres / 1000, 1)))
    hits.sort(key=lambda hit: (hit.distance_km, hit.service.name))
    return hits[:limit]
