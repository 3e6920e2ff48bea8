"""Feeds out: the directory as Meeting Guide JSON and Open Referral HSDS 3.0.

Mounted at /api/v1/feeds/. Read-only and public, like the directory itself.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from ninja import Query, Router, Schema
from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema, field_validator
from pydantic_core import PydanticCustomError

from recoverybridge.directory.api import error_answers
from recoverybridge.directory.errors import InvalidParameter, NotFound
from recoverybridge.directory.exports import hsds
from recoverybridge.directory.exports.meeting_guide import meeting_guide_json
from recoverybridge.directory.models import Fellowship, ServiceCategory
from recoverybridge.directory.queries import (
    EARLIEST_AT,
    INSTANT_YEARS,
    LATEST_AT,
    date_time_text,
    listed_services,
)

router = Router(tags=["feeds"])


def _within_the_calendar(value: datetime) -> datetime:
    # Schedules are worked out a week either side of it: the calendar ends at year 9999.
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if not EARLIEST_AT <= aware <= LATEST_AT:
        raise PydanticCustomError(
            "instant",
            "'{value}' is outside the years {earliest} to {latest}",
            {"value": value.isoformat(), "earliest": EARLIEST_AT.year, "latest": LATEST_AT.year},
        )
    return value


Instant = Annotated[
    datetime,
    BeforeValidator(date_time_text),
    AfterValidator(_within_the_calendar),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": INSTANT_YEARS}),
]
AT = (
    "Reference instant for schedule UTC offsets (RFC 3339, UTC when no offset is given, between the "
    "years 1900 and 9000); default now."
)


class FeedParams(Schema):
    fellowship: list[str] = Field(default_factory=list, description="Fellowship slug; repeatable.")

    @field_validator("fellowship", mode="before")
    @classmethod
    def _slugs(cls, value: Any) -> list[str]:
        # As the search reads them: an empty value is no filter, not an unknown fellowship.
        values = value if isinstance(value, list) else [value]
        return [str(item).strip().lower() for item in values if str(item).strip()]


# Beyond this the offset no longer fits the databases' integers (a 500, not an empty page).
MAX_PAGE = 10_000_000


class PageParams(Schema):
    page: int = Field(1, ge=1, le=MAX_PAGE, description="Page number, from 1.")
    per_page: int = Field(50, ge=1, le=1000)


class ServiceParams(PageParams, FeedParams):
    organization_id: str | None = None
    modified_after: Instant | None = Field(None, description="RFC 3339, UTC when no offset is given.")
    at: Instant | None = Field(None, description=AT)


# Our own page for a meeting, linked from every exported record.
MEETING_PAGE_PATH = "/meetings/{id}/"


def meeting_url_builder(request: HttpRequest) -> Callable[[int], str]:
    base = request.build_absolute_uri(MEETING_PAGE_PATH.split("{id}")[0])
    return lambda meeting_id: f"{base}{meeting_id}/"


def checked_fellowships(slugs: list[str] | None) -> list[str] | None:
    if not slugs:
        return None
    # Compared in Python: PostgreSQL refuses a text parameter with a NUL character in it.
    known = set(Fellowship.objects.values_list("slug", flat=True))
    unknown = sorted(set(slugs) - known)
    if unknown:
        raise InvalidParameter("fellowship", f"unknown fellowship: {', '.join(unknown)}")
    return slugs


def reference_instant(at: datetime | None) -> datetime:
    if at is None:
        return timezone.now()
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


JSON_ARRAY = {"application/json": {"schema": {"type": "array", "items": {"type": "object"}}}}
JSON_OBJECT = {"application/json": {"schema": {"type": "object"}}}


def answers(ok: dict[str, Any], *errors: int) -> dict[str, Any]:
    extra = error_answers(*errors)
    extra["responses"][200] = {"description": "OK", "content": ok}
    return extra


@router.get(
    "/meeting-guide.json",
    summary="Every active meeting as a Meeting Guide JSON feed",
    openapi_extra=answers(JSON_ARRAY, 400),
)
def meeting_guide_feed(request: HttpRequest, params: Query[FeedParams]) -> StreamingHttpResponse:
    """A JSON array in the Meeting Guide format (code4recovery spec), streamed.

    Extension fields: `fellowship` (name), `moud` (welcoming, unknown,
    not_welcoming), `moud_source` (who said so), `moud_verified` (date),
    `attendance_option` (as tsml-ui). Our import reads them back.
    """
    slugs = checked_fellowships(params.fellowship)
    body = meeting_guide_json(meeting_url_builder(request), slugs)
    response = StreamingHttpResponse(body, content_type="application/json; charset=utf-8")
    response["Access-Control-Allow-Origin"] = "*"  # tsml-ui and other finders read it from the browser
    return response


@router.get(
    "/hsds/services",
    summary="HSDS 3.0 services, one per meeting (paginated)",
    openapi_extra=answers(JSON_OBJECT, 400),
)
def hsds_services(request: HttpRequest, params: Query[ServiceParams]) -> dict[str, Any]:
    meetings = hsds.hsds_meetings()
    slugs = checked_fellowships(params.fellowship)
    if slugs:
        meetings = meetings.filter(fellowship__slug__in=slugs)
    if params.organization_id:
        by_org = {
            hsds.organization_id(slug): slug for slug in Fellowship.objects.values_list("slug", flat=True)
        }
        if params.organization_id not in by_org:
            raise InvalidParameter("organization_id", "no such organization")
        meetings = meetings.filter(fellowship__slug=by_org[params.organization_id])
    if params.modified_after is not None:
        meetings = meetings.filter(updated_at__gte=reference_instant(params.modified_after))
    url = meeting_url_builder(request)
    return hsds.services_page(meetings, params.page, params.per_page, url, reference_instant(params.at))


@router.get(
    "/hsds/services/{service_id}",
    summary="One HSDS 3.0 service (a meeting), fully nested",
    openapi_extra=answers(JSON_OBJECT, 400, 404),
)
def hsds_service(
    request: HttpRequest,
    service_id: str,
    at: Instant | None = Query(None, description=AT),  # noqa: B008 -- ninja's way of declaring a parameter
) -> dict[str, Any]:
    meeting_id = hsds.meeting_id_from_service_id(service_id)
    meeting = hsds.hsds_meetings().filter(pk=meeting_id).first() if meeting_id is not None else None
    if meeting is None:
        raise NotFound("service_id", f"no service {service_id!r} (a meeting's id from /hsds/services)")
    occurrences = hsds.OccurrenceCache(reference_instant(at))
    return hsds.service(meeting, meeting_url_builder(request)(meeting.pk), occurrences)


class RecoveryServiceParams(PageParams):
    category: str | None = Field(None, description="One of: " + ", ".join(ServiceCategory.values))


@router.get(
    "/hsds/recovery-services",
    summary="HSDS 3.0 services that are not meetings (treatment, detox, recovery housing...), paginated",
    openapi_extra=answers(JSON_OBJECT, 400),
)
def hsds_recovery_services(request: HttpRequest, params: Query[RecoveryServiceParams]) -> dict[str, Any]:
    """The services HSDS feeds publish that are not meetings, with the ids their feeds gave them;
    each carries its category as a term of the taxonomy "recoverybridge-service-category"."""
    services = listed_services()
    if params.category:
        if params.category not in ServiceCategory.values:
            raise InvalidParameter(
                "category", f"unknown category; known: {', '.join(ServiceCategory.values)}"
            )
        services = services.filter(category=params.category)
    return hsds.recovery_services_page(services, params.page, params.per_page)


@router.get(
    "/hsds/organizations",
    summary="HSDS 3.0 organizations, one per fellowship",
    openapi_extra=answers(JSON_OBJECT, 400),
)
def hsds_organizations(request: HttpRequest, params: Query[PageParams]) -> dict[str, Any]:
    fellowships = Fellowship.objects.order_by("name")
    items = fellowships[(params.page - 1) * params.per_page : params.page * params.per_page]
    contents = [hsds.organization(item) for item in items]
    return hsds.page_object(contents, fellowships.count(), params.page, params.per_page)
