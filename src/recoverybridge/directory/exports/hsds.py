"""The directory as Open Referral HSDS 3.0: one service per meeting, one organization per fellowship.

- A meeting's service has a weekly schedule (freq WEEKLY, byday, opens_at and
  closes_at with their UTC offset), a physical location for in-person and
  hybrid meetings and a virtual one (the conference link) for online and
  hybrid meetings, its languages, and every attribute as an HSDS attribute
  whose taxonomy term code is our attribute slug (taxonomy "recoverybridge").
- HSDS gives time zones as a numeric UTC offset; we keep IANA names. The
  offset exported is the one in force at the meeting's next occurrence after
  the export's reference instant, so it changes with DST: the same meeting
  says -5 in January and -4 in July. The IANA name goes in the schedule's
  description and a "timezone" attribute, so nothing is lost.
- Ids are stable UUIDs. A service id encodes the meeting id (RFC 9562
  version 8), so /services/{id} finds its meeting without a lookup table;
  everything else is uuid5 of a readable key.
"""

import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any

from django.db.models import Prefetch, QuerySet

from recoverybridge.directory.models import (
    AttendanceMode,
    Attribute,
    AttributeCategory,
    Fellowship,
    Meeting,
    MeetingStatus,
    Service,
    ServiceCategory,
)
from recoverybridge.directory.queries import Provenance, listing_provenance
from recoverybridge.directory.timing import OccurrenceCache

NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://recoverybridge.org/hsds")
TAXONOMY = "recoverybridge"
TAXONOMY_ID = uuid.uuid5(NAMESPACE, "taxonomy")
BYDAY = ("SU", "MO", "TU", "WE", "TH", "FR", "SA")  # index = our weekday, 0 = Sunday
DAY_NAMES = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
# Top 48 bits of a service id: says "a RecoveryBridge meeting" (the rest is version, variant, id).
SERVICE_TAG = NAMESPACE.int >> 80
CATEGORY_NAMES = {value: str(label) for value, label in AttributeCategory.choices}
# Countries as HSDS wants them (ISO 3166-1 alpha-2) from the spellings feeds use most.
COUNTRY_CODES = {"USA": "US", "UNITED STATES": "US", "UK": "GB", "UNITED KINGDOM": "GB", "CANADA": "CA"}


def stable_id(*parts: object) -> str:
    return str(uuid.uuid5(NAMESPACE, ":".join(str(part) for part in parts)))


def service_id(meeting_id: int) -> str:
    """A version-8 UUID carrying the meeting id in its last 62 bits."""
    value = (SERVICE_TAG << 80) | (0x8 << 76) | (0b10 << 62) | meeting_id
    return str(uuid.UUID(int=value))


def meeting_id_from_service_id(value: str) -> int | None:
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        return None
    if parsed.int >> 80 != SERVICE_TAG or parsed.version != 8:
        return None
    return parsed.int & ((1 << 62) - 1)


def organization_id(fellowship_slug: str) -> str:
    return stable_id("fellowship", fellowship_slug)


def taxonomy_term_id(code: str) -> str:
    return stable_id("term", code)


def offset_hours(delta: timedelta | None) -> float | int:
    """-4, 5.5, 5.75: whole hours as integers, for readability."""
    hours = (delta or timedelta()).total_seconds() / 3600
    return int(hours) if hours.is_integer() else hours


def clock_with_offset(value: time, delta: timedelta | None) -> str:
    """ "19:00-04:00", as HSDS asks for opens_at and closes_at."""
    minutes = int((delta or timedelta()).total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"{value.hour:02d}:{value.minute:02d}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def hsds_meetings() -> QuerySet[Meeting]:
    return (
        Meeting.objects.select_related("fellowship", "location")
        .prefetch_related(Prefetch("attributes", queryset=Attribute.objects.order_by("slug")))
        .order_by("id")
    )


def organization(fellowship: Fellowship) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": organization_id(fellowship.slug),
        "name": fellowship.name,
        "description": fellowship.description or fellowship.name,
    }
    if fellowship.website:
        record["website"] = fellowship.website
    return record


def taxonomy_term(code: str, name: str, description: str) -> dict[str, Any]:
    return {
        "id": taxonomy_term_id(code),
        "code": code,
        "name": name,
        "description": description,
        "taxonomy": TAXONOMY,
        "taxonomy_id": str(TAXONOMY_ID),
        "taxonomy_detail": {
            "id": str(TAXONOMY_ID),
            "name": TAXONOMY,
            "description": "RecoveryBridge's unified vocabulary of meeting attributes.",
        },
    }


def attribute(
    link_id: str, link_entity: str, link_type: str, term: dict[str, Any], value: str = ""
) -> dict[str, Any]:
    record = {
        "id": stable_id("attribute", link_id, term["code"]),
        "link_id": link_id,
        "link_type": link_type,
        "link_entity": link_entity,
        "taxonomy_term_id": term["id"],
        "taxonomy_term": term,
    }
    if value:
        record["value"] = value
    return record


def _schedule(meeting: Meeting, sid: str, occurrences: OccurrenceCache) -> dict[str, Any] | None:
    if meeting.weekday is None or meeting.start_time is None:
        return None
    following = occurrences.get(meeting.weekday, meeting.start_time, meeting.timezone)
    delta = following.utcoffset()
    schedule_id = stable_id("schedule", meeting.pk)
    hours = f"{meeting.start_time:%H:%M}" + (f"-{meeting.end_time:%H:%M}" if meeting.end_time else "")
    record: dict[str, Any] = {
        "id": schedule_id,
        "service_id": sid,
        "freq": "WEEKLY",
        "interval": 1,
        "byday": BYDAY[meeting.weekday],
        "opens_at": clock_with_offset(meeting.start_time, delta),
        "timezone": offset_hours(delta),
        "description": f"{DAY_NAMES[meeting.weekday]}s {hours} ({meeting.timezone})",
        "notes": (
            f"Times are local to {meeting.timezone}; timezone is the UTC offset on "
            f"{following.date().isoformat()}, the next meeting after the export, and changes with DST."
        ),
        "attending_type": meeting.attendance_mode,
        "attributes": [
            attribute(
                schedule_id,
                "schedule",
                "timezone",
                taxonomy_term("timezone", "Time zone", "The IANA time zone of the schedule's times."),
                meeting.timezone,
            )
        ],
    }
    if meeting.end_time is not None:
        record["closes_at"] = clock_with_offset(meeting.end_time, delta)
    return record


def _physical_location(meeting: Meeting) -> dict[str, Any] | None:
    place = meeting.location
    if place is None:
        return None
    location_id = stable_id("location", place.pk)
    description = place.notes
    if place.approximate:
        description = " ".join(
            filter(None, ["Approximate location: an area, not a street address.", description])
        )
    record: dict[str, Any] = {"id": location_id, "location_type": "physical"}
    for key, value in (("name", place.name or place.formatted_address), ("description", description)):
        if value:
            record[key] = value
    if place.latitude is not None and place.longitude is not None:
        record["latitude"] = place.latitude
        record["longitude"] = place.longitude
    if place.address or place.city:
        country = place.country.strip()
        record["addresses"] = [
            {
                "id": stable_id("address", place.pk),
                "location_id": location_id,
                "address_1": place.address,
                "city": place.city,
                "state_province": place.state,
                "postal_code": place.postal_code,
                "country": COUNTRY_CODES.get(country.upper(), country),
                "address_type": "physical",
                **({"region": place.regions[-1]} if place.regions else {}),
            }
        ]
    return record


def _virtual_location(meeting: Meeting) -> dict[str, Any] | None:
    if not (meeting.conference_url or meeting.conference_phone):
        return None
    record: dict[str, Any] = {
        "id": stable_id("virtual-location", meeting.pk),
        "location_type": "virtual",
        "name": "Online",
    }
    if meeting.conference_url:
        record["url"] = meeting.conference_url
    notes = " ".join(filter(None, [meeting.conference_url_notes, meeting.conference_phone_notes]))
    if notes:
        record["description"] = notes
    return record


def provenance_fields(sid: str, provenance: Provenance) -> dict[str, Any]:
    """`assured_date` (when the information was last checked: the last confirmation by a feed
    that lists it) and one `metadata` entry per feed, saying who listed it and when."""
    fields: dict[str, Any] = {}
    if provenance.last_confirmed is not None:
        fields["assured_date"] = provenance.last_confirmed.astimezone(UTC).date().isoformat()
    fields["metadata"] = [
        {
            "id": stable_id("metadata", sid, source.name),
            "resource_id": sid,
            "resource_type": "service",
            "last_action_date": (source.confirmed_at or source.last_seen).astimezone(UTC).date().isoformat(),
            "last_action_type": "listed" if source.listed else "no longer listed",
            "field_name": "",
            "previous_value": "",
            "replacement_value": source.url,
            "updated_by": f"{source.name} ({source.format})",
        }
        for source in provenance.sources
    ]
    return fields


def service(
    meeting: Meeting, meeting_url: str, occurrences: OccurrenceCache, provenance: Provenance | None = None
) -> dict[str, Any]:
    """One meeting as a fully nested HSDS service."""
    sid = service_id(meeting.pk)
    fellowship = meeting.fellowship
    attributes = list(meeting.attributes.all())
    record: dict[str, Any] = {
        "id": sid,
        "organization_id": organization_id(fellowship.slug),
        "name": meeting.name,
        "description": meeting.notes or f"{fellowship.name} meeting.",
        "url": meeting_url,
        "status": "active" if meeting.status == MeetingStatus.ACTIVE else "inactive",
        "last_modified": meeting.updated_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "organization": organization(fellowship),
    }
    if meeting.group_name:
        record["alternate_name"] = meeting.group_name
    record.update(provenance_fields(sid, provenance or listing_provenance([meeting.pk])[meeting.pk]))

    schedule = _schedule(meeting, sid, occurrences)
    record["schedules"] = [schedule] if schedule else []

    locations = []
    if meeting.attendance_mode in (AttendanceMode.IN_PERSON, AttendanceMode.HYBRID):
        locations.append(_physical_location(meeting))
    if meeting.attendance_mode in (AttendanceMode.ONLINE, AttendanceMode.HYBRID):
        locations.append(_virtual_location(meeting))
    record["service_at_locations"] = [
        {
            "id": stable_id("service-at-location", meeting.pk, place["id"]),
            "service_id": sid,
            "location_id": place["id"],
            "location": place,
        }
        for place in locations
        if place is not None
    ]

    if meeting.conference_phone:
        record["phones"] = [
            {
                "id": stable_id("phone", meeting.pk),
                "service_id": sid,
                "number": meeting.conference_phone,
                "type": "voice",
                "description": "Dial in to the meeting.",
            }
        ]
    record["languages"] = [
        {
            "id": stable_id("language", meeting.pk, item.language_code),
            "service_id": sid,
            "name": item.name,
            "code": item.language_code,
        }
        for item in attributes
        if item.language_code
    ]
    record["attributes"] = [
        attribute(
            sid,
            "service",
            item.category,
            taxonomy_term(item.slug, item.name, CATEGORY_NAMES.get(item.category, item.category)),
        )
        for item in attributes
    ]
    moud = taxonomy_term("moud-stance", "MOUD stance", "Whether the meeting welcomes people on MOUD.")
    record["attributes"].append(attribute(sid, "service", "moud", moud, meeting.moud_stance))
    # Says "a meeting" to importers (ours included) that keep other services apart.
    kind = taxonomy_term("mutual-aid-meeting", "Mutual aid meeting", "Service type")
    record["attributes"].append(attribute(sid, "service", "service_type", kind))
    return record


def services_page(
    meetings: QuerySet[Meeting], page: int, per_page: int, meeting_url: Any, at: datetime
) -> dict[str, Any]:
    """An HSDS page object of services (page numbers start at 1)."""
    total = meetings.count()
    occurrences = OccurrenceCache(at)
    items = list(meetings[(page - 1) * per_page : page * per_page])
    provenance = listing_provenance([meeting.pk for meeting in items])
    contents = [
        service(meeting, meeting_url(meeting.pk), occurrences, provenance[meeting.pk]) for meeting in items
    ]
    return page_object(contents, total, page, per_page)


def page_object(contents: list[dict[str, Any]], total: int, page: int, per_page: int) -> dict[str, Any]:
    total_pages = max(1, -(-total // per_page))
    return {
        "total_items": total,
        "total_pages": total_pages,
        "page_number": page,
        "size": len(contents),
        "first_page": page == 1,
        "last_page": page >= total_pages,
        "empty": not contents,
        "contents": contents,
    }


# Services beyond meetings (Service): exported with the ids their feeds gave them, so a
# round trip through our export and import keeps every service as it was.

SERVICE_STATUSES = {"active", "inactive", "defunct", "temporarily closed"}
SERVICE_CATEGORY_TAXONOMY = "recoverybridge-service-category"
SOURCE_TERMS_TAXONOMY = "source"


def category_term(category: str) -> dict[str, Any]:
    label = str(ServiceCategory(category).label) if category in ServiceCategory.values else category
    return {
        "id": stable_id("service-category", category),
        "code": category,
        "name": label,
        "description": "RecoveryBridge's category of a service that is not a meeting.",
        "taxonomy": SERVICE_CATEGORY_TAXONOMY,
    }


def recovery_service(item: Service) -> dict[str, Any]:
    """One kept service as a fully nested HSDS 3.0 service."""
    sid = item.hsds_id
    record: dict[str, Any] = {
        "id": sid,
        "name": item.name,
        "status": item.status if item.status in SERVICE_STATUSES else "active",
    }
    for key, value in (
        ("alternate_name", item.alternate_name),
        ("description", item.description),
        ("url", item.url),
        ("email", item.email),
    ):
        if value:
            record[key] = value
    if item.source_updated is not None:
        record["last_modified"] = item.source_updated.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if item.organization_hsds_id or item.organization_name:
        organization_id = item.organization_hsds_id or stable_id("organization", item.organization_name)
        record["organization_id"] = organization_id
        record["organization"] = {
            "id": organization_id,
            "name": item.organization_name or item.name,
            "description": item.organization_name or item.name,
        }
    record["phones"] = [
        {"id": stable_id("service-phone", sid, number), "service_id": sid, "number": number}
        for number in item.phone_numbers
    ]
    record["schedules"] = [
        {"id": stable_id("service-schedule", sid, number), "service_id": sid, "description": line}
        for number, line in enumerate(line for line in item.schedules.splitlines() if line.strip())
    ]
    record["languages"] = [
        {"id": stable_id("service-language", sid, code), "service_id": sid, "code": code}
        for code in item.languages.split(",")
        if code
    ]
    terms = [category_term(item.category)] + [
        {
            "id": stable_id("source-term", line),
            "code": line,
            "name": line,
            "description": "As the source's taxonomy or service type named it.",
            "taxonomy": SOURCE_TERMS_TAXONOMY,
        }
        for line in item.taxonomy.splitlines()
        if line.strip()
    ]
    record["attributes"] = [attribute(sid, "service", "service_type", term) for term in terms]
    record["service_at_locations"] = []
    has_place = item.latitude is not None or item.address or item.city or item.location_name
    if has_place:
        location_id = item.location_hsds_id or stable_id("service-location", sid)
        place: dict[str, Any] = {"id": location_id, "location_type": "physical"}
        if item.location_name:
            place["name"] = item.location_name
        if item.latitude is not None and item.longitude is not None:
            place["latitude"] = item.latitude
            place["longitude"] = item.longitude
        if item.address or item.city:
            place["addresses"] = [
                {
                    "id": stable_id("service-address", sid),
                    "location_id": location_id,
                    "address_1": item.address,
                    "city": item.city,
                    "state_province": item.state,
                    "postal_code": item.postal_code,
                    "country": COUNTRY_CODES.get(item.country.upper(), item.country),
                    "address_type": "physical",
                    **({"region": item.region} if item.region else {}),
                }
            ]
        record["service_at_locations"] = [
            {
                "id": stable_id("service-at-location", sid, location_id),
                "service_id": sid,
                "location_id": location_id,
                "location": place,
            }
        ]
    return record


def recovery_services_page(services: QuerySet[Service], page: int, per_page: int) -> dict[str, Any]:
    total = services.count()
    items = services.order_by("id")[(page - 1) * per_page : page * per_page]
    return page_object([recovery_service(item) for item in items], total, page, per_page)
