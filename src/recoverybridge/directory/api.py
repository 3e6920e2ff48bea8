"""Directory JSON API, /api/v1/: meeting search, one meeting, vocabulary, iCalendar.

Thin: parameters are validated by `queries.MeetingSearch`, the search is
`queries.search_meetings`, and these functions only shape the responses.
"""

from datetime import date, datetime, time
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from pydantic import BaseModel, ConfigDict, WithJsonSchema

from recoverybridge.directory.errors import InvalidParameter
from recoverybridge.directory.exports.ical import meetings_calendar
from recoverybridge.directory.models import Attribute, Fellowship, Meeting
from recoverybridge.directory.queries import (
    Hit,
    MeetingSearch,
    SearchResult,
    meetings_by_id,
    search_meetings,
)
from recoverybridge.directory.timing import next_occurrence

router = Router(tags=["directory"])
# Search responses are plain pydantic models filled from dicts: ninja's Schema resolves every
# field through a Django-aware getter, which costs milliseconds on a page of 25 meetings.

ICALENDAR = {
    "responses": {
        200: {
            "description": "iCalendar (RFC 5545)",
            "content": {"text/calendar": {"schema": {"type": "string"}}},
        }
    }
}

# A meeting's start and end are wall-clock times in its own `timezone`, served as HH:MM:SS
# without an offset: "format: time" (RFC 3339) would promise one.
WallClock = Annotated[
    time,
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$",
            "description": "HH:MM:SS on the wall clock of the meeting's `timezone` (no offset)",
        }
    ),
]


class FellowshipOut(BaseModel):
    slug: str
    name: str
    approach: str


class FellowshipDetailOut(Schema):
    slug: str
    name: str
    approach: str
    family_focused: bool
    website: str
    description: str


class AttributeOut(BaseModel):
    slug: str
    name: str
    category: str


class AttributeDetailOut(BaseModel):
    slug: str
    name: str
    category: str
    name_es: str
    language_code: str


class LocationOut(BaseModel):
    name: str
    formatted_address: str
    latitude: float | None
    longitude: float | None
    approximate: bool
    region: list[str]


class MoudOut(BaseModel):
    stance: str
    source: str
    verified_on: date | None


class MeetingOut(BaseModel):
    id: int
    name: str
    group: str
    fellowship: FellowshipOut
    weekday: int | None
    start_time: WallClock | None
    end_time: WallClock | None
    timezone: str
    attendance_mode: str
    distance_km: float | None
    next_occurrence: datetime | None
    attributes: list[AttributeOut]
    location: LocationOut | None
    conference_url: str
    conference_url_notes: str
    conference_phone: str
    conference_phone_notes: str
    moud: MoudOut
    notes: str
    website: str


class FacetOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    value: str
    label: str
    count: int


class FacetsOut(BaseModel):
    approach: list[FacetOut]
    fellowship: list[FacetOut]
    mode: list[FacetOut]


class SearchOut(BaseModel):
    count: int
    page: int
    page_size: int
    results: list[MeetingOut]
    facets: FacetsOut


class ErrorOut(BaseModel):
    parameter: str
    reason: str


class ErrorsOut(BaseModel):
    errors: list[ErrorOut]


ERROR_ANSWERS = {
    400: "A parameter is malformed, out of range, unknown or given twice: each error names the "
    "parameter and says why",
    404: "No such record: the error names the parameter",
}


def error_answers(*codes: int) -> dict[str, Any]:
    """OpenAPI for an endpoint's error answers, for endpoints without a response model (feeds):
    the same {"errors": [...]} body as ErrorsOut, which the search endpoints put in components."""
    body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorsOut"}}}
    return {"responses": {code: {"description": ERROR_ANSWERS[code], "content": body} for code in codes}}


def meeting_out(hit: Hit) -> dict[str, object]:
    meeting = hit.meeting
    location = meeting.location
    return {
        "id": meeting.pk,
        "name": meeting.name,
        "group": meeting.group_name,
        "fellowship": {
            "slug": meeting.fellowship.slug,
            "name": meeting.fellowship.name,
            "approach": meeting.fellowship.approach,
        },
        "weekday": meeting.weekday,
        "start_time": meeting.start_time,
        "end_time": meeting.end_time,
        "timezone": meeting.timezone,
        "attendance_mode": meeting.attendance_mode,
        "distance_km": None if hit.distance_km is None else round(hit.distance_km, 3),
        "next_occurrence": hit.next_occurrence,
        "attributes": [
            {"slug": a.slug, "name": a.name, "category": a.category} for a in meeting.attributes.all()
        ],
        "location": None
        if location is None
        else {
            "name": location.name,
            "formatted_address": location.formatted_address,
            "latitude": location.latitude,
            "longitude": location.longitude,
            "approximate": location.approximate,
            "region": location.regions,
        },
        "conference_url": meeting.conference_url,
        "conference_url_notes": meeting.conference_url_notes,
        "conference_phone": meeting.conference_phone,
        "conference_phone_notes": meeting.conference_phone_notes,
        "moud": {
            "stance": meeting.moud_stance,
            "source": meeting.moud_source,
            "verified_on": meeting.moud_verified_on,
        },
        "notes": meeting.notes,
        "website": meeting.website,
    }


def search_out(result: SearchResult) -> dict[str, object]:
    return {
        "count": result.count,
        "page": result.page,
        "page_size": result.page_size,
        "results": [meeting_out(hit) for hit in result.hits],
        "facets": result.facets,
    }


def _not_found(meeting_id: int) -> dict[str, object]:
    return {"errors": [{"parameter": "id", "reason": f"no meeting with id {meeting_id}"}]}


# Ids are 64-bit integers in both databases: a larger number is no meeting (not a database error).
MAX_ID = 2**63 - 1


def _meeting(meeting_id: int) -> Meeting | None:
    return meetings_by_id([meeting_id]).get(meeting_id) if meeting_id <= MAX_ID else None


def _checked(params: MeetingSearch) -> MeetingSearch:
    """What the API refuses that the search service lets through for its other callers.

    A language nobody in the vocabulary speaks would find nothing, silently: the
    referral wizard may search in a person's language and is told "nothing", but an
    API client has most likely mistyped the code.
    """
    if params.language is not None:
        known = sorted(
            set(Attribute.objects.exclude(language_code="").values_list("language_code", flat=True))
        )
        if params.language not in known:
            raise InvalidParameter(
                "language",
                f"unknown language {params.language!r}; the directory knows {', '.join(known)}"
                " (the attributes of category 'language' in /api/v1/attributes)",
            )
    return params


@router.get("/meetings", response={200: SearchOut, 400: ErrorsOut}, summary="Search meetings")
def search(request: HttpRequest, params: Query[MeetingSearch]) -> dict[str, object]:
    """Active meetings of every fellowship, filtered, sorted and paged, with facet counts.

    Near a place (lat, lon, radius_km), online meetings are included with a null
    distance unless `mode` says otherwise; by-appointment meetings appear only
    when there is no time filter. `radius_km` needs a place (lat and lon); `language`
    must be one the directory knows (category "language" in /api/v1/attributes).
    """
    return search_out(search_meetings(_checked(params), now=timezone.now()))


@router.get(
    "/meetings.ics",
    response={200: None, 400: ErrorsOut},
    summary="Search results as iCalendar",
    openapi_extra=ICALENDAR,
)
def search_ics(request: HttpRequest, params: Query[MeetingSearch]) -> HttpResponse:
    """The same search and page as /meetings, as an iCalendar file of weekly events."""
    result = search_meetings(_checked(params), now=timezone.now())
    return _calendar_response([hit.meeting for hit in result.hits], "meetings.ics")


@router.get(
    "/meetings/{int:meeting_id}",
    response={200: MeetingOut, 400: ErrorsOut, 404: ErrorsOut},
    summary="One meeting",
)
def meeting_detail(request: HttpRequest, meeting_id: int) -> Status[dict[str, object]]:
    meeting = _meeting(meeting_id)
    if meeting is None:
        return Status(404, _not_found(meeting_id))
    occurrence = None
    if meeting.weekday is not None and meeting.start_time is not None:
        occurrence = next_occurrence(meeting.weekday, meeting.start_time, meeting.timezone, timezone.now())
    return Status(200, meeting_out(Hit(meeting, None, occurrence)))


@router.get(
    "/meetings/{int:meeting_id}.ics",
    response={200: None, 400: ErrorsOut, 404: ErrorsOut},
    summary="One meeting as iCalendar",
    openapi_extra=ICALENDAR,
)
def meeting_ics(request: HttpRequest, meeting_id: int) -> HttpResponse | Status[dict[str, object]]:
    meeting = _meeting(meeting_id)
    if meeting is None:
        return Status(404, _not_found(meeting_id))
    return _calendar_response([meeting], f"meeting-{meeting_id}.ics")


# After the two routes above: whatever else follows /meetings/ is not an id (Django's URL
# resolver would otherwise answer with its HTML 404 page).
@router.get("/meetings/{meeting_id}", response={400: ErrorsOut}, include_in_schema=False)
def meeting_bad_id(request: HttpRequest, meeting_id: str) -> HttpResponse:
    raise InvalidParameter(
        "id", f"{meeting_id!r} is not a meeting id: ids are whole numbers, as in /meetings/42"
    )


@router.get("/fellowships", response={200: list[FellowshipDetailOut], 400: ErrorsOut}, summary="Fellowships")
def fellowships(request: HttpRequest) -> list[Fellowship]:
    return list(Fellowship.objects.all())


@router.get(
    "/attributes", response={200: list[AttributeDetailOut], 400: ErrorsOut}, summary="Attribute vocabulary"
)
def attributes(request: HttpRequest) -> list[dict[str, object]]:
    """Every attribute a meeting can have, with its Spanish name."""
    return [
        {
            "slug": attribute.slug,
            "name": attribute.name,
            "category": attribute.category,
            "name_es": attribute.name_in("es"),
            "language_code": attribute.language_code,
        }
        for attribute in Attribute.objects.all()
    ]


def _calendar_response(meetings: list[Meeting], filename: str) -> HttpResponse:
    response = HttpResponse(meetings_calendar(meetings), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
