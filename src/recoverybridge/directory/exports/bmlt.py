"""The read side of BMLT's semantic API, for every fellowship: NA's own tools read the directory.

Answers `switcher=GetSearchResults`, `GetFormats` and `GetServiceBodies` in the shapes BMLT root
servers return (every value a string, weekday 1 = Sunday, formats as key strings and ids), so
crouton, bread and yap can point at us as at a root server. What crouton asks, from its source
(bmlt-enabled/crouton, croutonjs/src/js/crouton-core.js):

- `client_interface/jsonp/?switcher=GetSearchResults&get_used_formats&lang_enum=en
  &data_field_key=location_postal_code_1,duration_time,...&services[]=N&recursive=1
  &sort_keys=...&callback=...`, reading `meetings` and `formats` from the answer; with
  `lat_val`, `long_val`, `sort_results_by_distance=1` and `geo_width` (miles) or `geo_width_km`
  for a distance search; `meeting_ids[]` for extra meetings;
- `switcher=GetServiceBodies&services[]=...` for the names of the meetings' service bodies;
- `switcher=GetFormats&lang_enum=en`.

Here a fellowship is a service body (type WS, no parent): `services` filters by fellowship.
Formats are our attributes, keyed by the BMLT key string and NA world id they are imported
from (ids are our attribute ids). A meeting with no end time lasts an hour, as Meeting Guide
reads it. Only active meetings that meet (in person, online or hybrid) are listed.
"""

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Prefetch, QuerySet

from recoverybridge.directory.feeds.normalise import distance_metres
from recoverybridge.directory.models import (
    AttendanceMode,
    Attribute,
    AttributeCategory,
    Fellowship,
    Meeting,
    MeetingStatus,
)
from recoverybridge.directory.vocabulary import BMLT_KEY_CODES, BMLT_WORLD_CODES

KM_PER_MILE = 1.609344
VENUE_TYPES: dict[str, str] = {
    AttendanceMode.IN_PERSON.value: "1",
    AttendanceMode.ONLINE.value: "2",
    AttendanceMode.HYBRID.value: "3",
}
# A root server's fields, in its order.
MEETING_FIELDS = (
    "id_bigint",
    "worldid_mixed",
    "shared_group_id_bigint",
    "service_body_bigint",
    "weekday_tinyint",
    "venue_type",
    "start_time",
    "duration_time",
    "time_zone",
    "formats",
    "lang_enum",
    "longitude",
    "latitude",
    "distance_in_km",
    "distance_in_miles",
    "email_contact",
    "published",
    "root_server_uri",
    "format_shared_id_list",
    "meeting_name",
    "location_text",
    "location_info",
    "location_street",
    "location_city_subsection",
    "location_neighborhood",
    "location_municipality",
    "location_sub_province",
    "location_province",
    "location_postal_code_1",
    "location_nation",
    "comments",
    "train_lines",
    "bus_lines",
    "contact_phone_2",
    "contact_email_2",
    "contact_name_2",
    "contact_phone_1",
    "contact_email_1",
    "contact_name_1",
    "virtual_meeting_link",
    "phone_meeting_number",
    "virtual_meeting_additional_info",
)
SORTABLE = frozenset(MEETING_FIELDS)
FORMAT_TYPES: dict[str, str] = {
    AttributeCategory.LANGUAGE.value: "LANG",
    AttributeCategory.ACCESSIBILITY.value: "FC2",
    AttributeCategory.AUDIENCE.value: "FC3",
}


class BadRequest(ValueError):
    """A parameter a root server would not accept; the message says which."""


def _first_codes(pairs: list[tuple[str, str]]) -> dict[str, str]:
    codes: dict[str, str] = {}
    for code, slug in pairs:
        codes.setdefault(slug, code)
    return codes


WORLD_IDS = _first_codes(BMLT_WORLD_CODES)
KEY_STRINGS = _first_codes(BMLT_KEY_CODES)


def key_string(attribute: Attribute) -> str:
    """The BMLT key string we import the attribute from ("O"), else its world id, else our code."""
    if attribute.slug in KEY_STRINGS:
        return KEY_STRINGS[attribute.slug]
    if attribute.language_code:
        return attribute.language_code.upper()
    return WORLD_IDS.get(attribute.slug, attribute.slug)


def format_record(attribute: Attribute, language: str, root_server_uri: str) -> dict[str, str]:
    name = attribute.name_in(language)
    return {
        "key_string": key_string(attribute),
        "name_string": name,
        "description_string": name,
        "lang": language,
        "id": str(attribute.pk),
        "world_id": "LANG" if attribute.language_code else WORLD_IDS.get(attribute.slug, ""),
        "format_type_enum": "O"
        if attribute.slug in ("open", "closed")
        else FORMAT_TYPES.get(attribute.category, "FC1"),
        "root_server_uri": root_server_uri,
    }


def get_formats(
    language: str, root_server_uri: str, ids: Iterable[int] | None = None
) -> list[dict[str, str]]:
    attributes = Attribute.objects.order_by("id")
    if ids is not None:
        attributes = attributes.filter(id__in=list(ids))
    return [format_record(attribute, language, root_server_uri) for attribute in attributes]


def get_service_bodies(ids: list[int] | None, site_url: str) -> list[dict[str, str]]:
    fellowships = Fellowship.objects.order_by("id")
    if ids:
        fellowships = fellowships.filter(id__in=ids)
    return [
        {
            "id": str(fellowship.pk),
            "parent_id": "0",
            "name": fellowship.name,
            "description": fellowship.description,
            "type": "WS",
            "url": fellowship.website or site_url,
            "helpline": "",
            "world_id": "",
        }
        for fellowship in fellowships
    ]


def _ids(values: list[str], name: str) -> tuple[list[int], list[int]]:
    """Included and excluded (negative) ids from `x[]=1&x[]=-2` or `x=1,-2`."""
    included: list[int] = []
    excluded: list[int] = []
    for value in (part.strip() for raw in values for part in raw.split(",")):
        if not value:
            continue
        try:
            number = int(value)
        except ValueError:
            raise BadRequest(f"{name}: {value!r} is not a number") from None
        (excluded if number < 0 else included).append(abs(number))
    return included, excluded


def ids_of(params: Any, name: str) -> tuple[list[int], list[int]]:
    """`name[]=1&name[]=2`, `name=1,2` or both."""
    return _ids(params.getlist(f"{name}[]") + params.getlist(name), name)


def _number(value: str, name: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise BadRequest(f"{name}: {value!r} is not a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise BadRequest(f"{name}: {value!r} is not a number")
    return number


def _duration(start: time | None, end: time | None) -> str:
    if start is None:
        return "01:00:00"
    if end is None:
        return "01:00:00"
    length = datetime.combine(date.min, end) - datetime.combine(date.min, start)
    if length <= timedelta(0):
        length += timedelta(days=1)
    minutes = int(length.total_seconds() // 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}:00"


def meeting_record(
    meeting: Meeting, codes: dict[int, str], root_server_uri: str, distance_km: float | None
) -> dict[str, str]:
    place = meeting.location
    attributes = list(meeting.attributes.all())
    languages = [a.language_code for a in attributes if a.language_code]
    physical = meeting.attendance_mode != AttendanceMode.ONLINE
    record = dict.fromkeys(MEETING_FIELDS, "")
    record.update(
        id_bigint=str(meeting.pk),
        service_body_bigint=str(meeting.fellowship_id),
        weekday_tinyint=str((meeting.weekday or 0) + 1),
        venue_type=VENUE_TYPES.get(meeting.attendance_mode, ""),
        start_time=f"{meeting.start_time:%H:%M:%S}" if meeting.start_time else "",
        duration_time=_duration(meeting.start_time, meeting.end_time),
        time_zone=meeting.timezone,
        formats=",".join(codes[a.pk] for a in attributes),
        format_shared_id_list=",".join(str(a.pk) for a in attributes),
        lang_enum=languages[0] if languages else "en",
        published="1",
        root_server_uri=root_server_uri,
        meeting_name=meeting.name,
        comments=meeting.notes,
        virtual_meeting_link=meeting.conference_url,
        phone_meeting_number=meeting.conference_phone,
        virtual_meeting_additional_info=" ".join(
            filter(None, [meeting.conference_url_notes, meeting.conference_phone_notes])
        ),
    )
    if place is not None and (physical or place.latitude is not None):
        record.update(
            location_text=place.name,
            location_info=place.notes,
            location_street=place.address,
            location_municipality=place.city,
            location_province=place.state,
            location_postal_code_1=place.postal_code,
            location_nation=place.country,
            location_neighborhood=place.regions[-1] if len(place.regions) > 1 else "",
        )
        if place.latitude is not None and place.longitude is not None:
            record.update(latitude=repr(place.latitude), longitude=repr(place.longitude))
    if distance_km is not None:
        record.update(
            distance_in_km=f"{distance_km:.6f}", distance_in_miles=f"{distance_km / KM_PER_MILE:.6f}"
        )
    return record


def listed_meetings() -> QuerySet[Meeting]:
    return (
        Meeting.objects.filter(status=MeetingStatus.ACTIVE, weekday__isnull=False, start_time__isnull=False)
        .exclude(attendance_mode=AttendanceMode.INACTIVE)
        .select_related("location")
        .prefetch_related(Prefetch("attributes", queryset=Attribute.objects.order_by("id")))
    )


def get_search_results(params: Any, root_server_uri: str) -> Any:
    """GetSearchResults for a QueryDict-like `params` (getlist, get)."""
    language = (params.get("lang_enum") or "en")[:8]
    meetings = listed_meetings()

    services, not_services = ids_of(params, "services")
    if services:
        meetings = meetings.filter(fellowship_id__in=services)
    if not_services:
        meetings = meetings.exclude(fellowship_id__in=not_services)
    days, not_days = ids_of(params, "weekdays")
    if any(day not in range(1, 8) for day in days + not_days):
        raise BadRequest("weekdays: 1 (Sunday) to 7 (Saturday)")
    if days:
        meetings = meetings.filter(weekday__in=[day - 1 for day in days])
    if not_days:
        meetings = meetings.exclude(weekday__in=[day - 1 for day in not_days])
    venues, not_venues = ids_of(params, "venue_types")
    modes = {number: mode for mode, number in VENUE_TYPES.items()}
    if any(str(v) not in modes for v in venues + not_venues):
        raise BadRequest("venue_types: 1 (in person), 2 (virtual) or 3 (hybrid)")
    if venues:
        meetings = meetings.filter(attendance_mode__in=[modes[str(v)] for v in venues])
    if not_venues:
        meetings = meetings.exclude(attendance_mode__in=[modes[str(v)] for v in not_venues])
    formats, not_formats = ids_of(params, "formats")
    for format_id in formats:  # every format asked for (BMLT's default "AND")
        meetings = meetings.filter(attributes__id=format_id)
    if not_formats:
        meetings = meetings.exclude(attributes__id__in=not_formats)
    wanted, _ = ids_of(params, "meeting_ids")
    if wanted:
        meetings = meetings.filter(id__in=wanted)

    found = list(meetings.order_by("id"))
    distances: dict[int, float] = {}
    if params.get("lat_val") or params.get("long_val"):
        latitude = _number(params.get("lat_val", ""), "lat_val")
        longitude = _number(params.get("long_val", ""), "long_val")
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise BadRequest("lat_val and long_val must be a latitude and a longitude")
        for meeting in found:
            place = meeting.location
            if place is not None and place.latitude is not None and place.longitude is not None:
                distances[meeting.pk] = (
                    distance_metres(latitude, longitude, place.latitude, place.longitude) / 1000
                )
        width = params.get("geo_width_km") or params.get("geo_width")
        if width:
            radius = _number(width, "geo_width")
            if not params.get("geo_width_km"):
                radius *= KM_PER_MILE
            located = sorted((d, pk) for pk, d in distances.items())
            if radius < 0:  # the nearest N, as BMLT reads a negative width
                keep = {pk for _, pk in located[: int(abs(_number(width, "geo_width")))]}
            else:
                keep = {pk for d, pk in located if d <= radius}
            found = [meeting for meeting in found if meeting.pk in keep]

    codes = {a.pk: key_string(a) for meeting in found for a in meeting.attributes.all()}
    records = [meeting_record(m, codes, root_server_uri, distances.get(m.pk)) for m in found]
    if params.get("sort_results_by_distance") == "1" and distances:
        records.sort(key=lambda r: float(r["distance_in_km"] or "inf"))
    else:
        keys = [
            k.strip()
            for k in (params.get("sort_keys") or params.get("sort_key") or "").split(",")
            if k.strip()
        ]
        keys = [{"time": "start_time"}.get(k, k) for k in keys]
        unknown = [k for k in keys if k not in SORTABLE]
        if unknown:
            raise BadRequest(f"sort_keys: unknown field {unknown[0]!r}")
        if keys:
            records.sort(key=lambda r: tuple(_sortable(r[k]) for k in keys))
        else:
            records.sort(key=lambda r: (int(r["weekday_tinyint"]), r["start_time"], r["meeting_name"]))

    fields = [k.strip() for k in (params.get("data_field_key") or "").split(",") if k.strip()]
    if fields:
        records = [{k: record[k] for k in fields if k in record} for record in records]
    used = sorted({a.pk for m in found for a in m.attributes.all()})
    if "get_formats_only" in params:
        return {"formats": get_formats(language, root_server_uri, used)}
    if "get_used_formats" in params:
        return {"meetings": records, "formats": get_formats(language, root_server_uri, used)}
    return records


def _sortable(value: str) -> tuple[int, float | str]:
    try:
        return (0, float(value))
    except ValueError:
        return (1, value.casefold())
