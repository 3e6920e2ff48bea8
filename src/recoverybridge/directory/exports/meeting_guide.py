"""The directory as a Meeting Guide JSON feed, for tsml-ui and the Meeting Guide app.

Streams: meetings and their attribute links are read with two ordered
iterators and merged by meeting id, so the whole directory (200k meetings)
goes out with a constant number of queries and flat memory.

Our attributes go back to Meeting Guide type codes through AttributeMapping
(source system meeting-guide); a code that means something else for the
meeting's fellowship (`A` is Age-restricted for ACA) is not used for it, and
codes outside the published type list are left out. The fellowship's name and
the MOUD stance with its source and date travel as extension fields (fellowship,
moud, moud_source, moud_verified), which the schema allows and our import reads;
so do where the listing came from and when it was last confirmed (listing_source,
listing_source_url, last_confirmed), which an importer records for itself.
"""

import json
import re
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, time
from itertools import groupby
from operator import itemgetter
from typing import Any

from django.db.models import QuerySet
from django.utils.text import slugify

from recoverybridge.directory.models import (
    AttendanceMode,
    AttributeMapping,
    Fellowship,
    Meeting,
    MeetingSource,
    MeetingStatus,
    SourceSystem,
)
from recoverybridge.directory.queries import Provenance, feed_infos, provenance_from

# The type codes of meeting-type.schema.json (current, proposed and proposed
# changed); Meeting Guide clients reject or ignore anything else.
SCHEMA_TYPE_CODES = frozenset((
    "11", "12x12", "A", "ABSI", "AL", "AL-AN", "AM", "ASL", "B", "BA", "BE", "BI", "BRK", "C", "CAN", "CF",
    "D", "DA", "DB", "DD", "DE", "DR", "EL", "EN", "FA", "FF", "FR", "G", "GR", "H", "HE", "HI", "HR",
    "HU", "ITA", "JA", "KOR", "L", "LGBTQ", "LIT", "LS", "LT", "M", "MED", "ML", "N", "NB", "NDG", "NO",
    "O", "OUT", "P", "POA", "POC", "POL", "POR", "PUN", "RUS", "S", "SEN", "SK", "SM", "SP", "ST", "SV",
    "T", "TC", "TH", "TL", "TR", "TUR", "UK", "W", "X", "XB", "XT", "Y", "BV-I", "D-HOH", "LO-I", "QSL",
    "RSL", "LGBTQIAA+",
))  # fmt: skip
SLUG_MAX = 64
CHUNK = 2000
# Digits, an optional leading +, and , * # for one-tap dialling (the spec's pattern).
PHONE_PATTERN = re.compile(r"^[+]?\d{1,15}(?:[,*#]\d+)*$")
PHONE_SEPARATORS = re.compile(r"[\s().\-/]")
LEADING_NUMBER = re.compile(r"^[+]?\d{1,15}(?=$|[,*#])")

MEETING_FIELDS = (
    "id",
    "name",
    "fellowship_id",
    "group_name",
    "group_notes",
    "weekday",
    "start_time",
    "end_time",
    "timezone",
    "attendance_mode",
    "conference_url",
    "conference_url_notes",
    "conference_phone",
    "conference_phone_notes",
    "notes",
    "moud_stance",
    "moud_source",
    "moud_verified_on",
    "updated_at",
    "location__name",
    "location__notes",
    "location__formatted_address",
    "location__address",
    "location__city",
    "location__state",
    "location__postal_code",
    "location__country",
    "location__latitude",
    "location__longitude",
    "location__approximate",
    "location__region_path",
)


class TypeCodes:
    """Our attribute -> the Meeting Guide code for it, per fellowship."""

    def __init__(self) -> None:
        self._default: dict[int, str] = {}
        self._specific: dict[tuple[int, int], str] = {}
        # (fellowship, code) pairs whose meaning differs from the default.
        self._reassigned: set[tuple[int, str]] = set()
        self._cache: dict[tuple[int, int], str | None] = {}
        rows = AttributeMapping.objects.filter(source_system=SourceSystem.MEETING_GUIDE).values_list(
            "fellowship_id", "code", "attribute_id"
        )
        # Sorted so that an attribute with several codes always exports the same (shortest) one.
        for fellowship_id, code, attribute_id in sorted(rows, key=lambda r: (len(r[1]), r[1])):
            if fellowship_id is not None:
                self._reassigned.add((fellowship_id, code))
            if code not in SCHEMA_TYPE_CODES:
                continue
            if fellowship_id is None:
                self._default.setdefault(attribute_id, code)
            else:
                self._specific.setdefault((fellowship_id, attribute_id), code)

    def code(self, fellowship_id: int, attribute_id: int) -> str | None:
        key = (fellowship_id, attribute_id)
        if key not in self._cache:
            code = self._default.get(attribute_id)
            if code is None or (fellowship_id, code) in self._reassigned:
                code = self._specific.get(key)
            self._cache[key] = code
        return self._cache[key]

    def codes(self, fellowship_id: int, attribute_ids: Iterable[int]) -> list[str]:
        found = {self.code(fellowship_id, attribute_id) for attribute_id in attribute_ids}
        return sorted(code for code in found if code)


def meeting_slug(meeting_id: int, name: str) -> str:
    """Unique (the id) and readable (the name), at most 64 characters, URL-safe."""
    prefix = f"{meeting_id}-"
    rest = slugify(name)[: SLUG_MAX - len(prefix)].strip("-")
    return prefix + rest if rest else str(meeting_id)


def dial_string(phone: str) -> tuple[str | None, str]:
    """The conference phone in the spec's pattern, and what had to go into the notes instead.

    The pattern admits digits after every `,` `*` `#`, so Zoom's one-tap form
    ("+16465588656,,123456789#") fails it: the number alone goes out, the
    one-tap string in the phone notes.
    """
    compact = PHONE_SEPARATORS.sub("", phone)
    if PHONE_PATTERN.match(compact):
        return compact, ""
    number = LEADING_NUMBER.match(compact)
    return (number.group(0) if number else None), f"One tap: {phone}"


def hhmm(value: time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


def exported_meetings(fellowships: list[str] | None = None) -> QuerySet[Meeting]:
    meetings = Meeting.objects.filter(status=MeetingStatus.ACTIVE)
    if fellowships:
        meetings = meetings.filter(fellowship__slug__in=fellowships)
    return meetings


def _attribute_ids(meetings: QuerySet[Meeting]) -> Iterator[tuple[int, list[int]]]:
    """(meeting id, attribute ids) for the given meetings, in meeting id order."""
    links = (
        Meeting.attributes.through.objects.filter(meeting__in=meetings)
        .order_by("meeting_id")
        .values_list("meeting_id", "attribute_id")
        .iterator(chunk_size=CHUNK * 4)
    )
    for meeting_id, group in groupby(links, key=itemgetter(0)):
        yield meeting_id, [attribute_id for _, attribute_id in group]


def _source_rows(meetings: QuerySet[Meeting]) -> Iterator[tuple[int, list[tuple[int, bool, Any]]]]:
    """(meeting id, [(feed source id, active, last seen)]) for the given meetings, in meeting id order."""
    rows = (
        MeetingSource.objects.filter(meeting__in=meetings)
        .order_by("meeting_id", "id")
        .values_list("meeting_id", "feed_source_id", "active", "last_seen")
        .iterator(chunk_size=CHUNK * 2)
    )
    for meeting_id, group in groupby(rows, key=itemgetter(0)):
        yield meeting_id, [(feed_id, active, last_seen) for _, feed_id, active, last_seen in group]


def put_provenance(record: dict[str, Any], provenance: Provenance) -> None:
    """Where the listing came from and when it was last confirmed (extension fields)."""
    listing = [source for source in provenance.sources if source.listed]
    if listing:
        record["listing_source"] = listing[0].name
        _put(record, "listing_source_url", listing[0].url)
    confirmed = provenance.last_confirmed
    if confirmed is not None:
        record["last_confirmed"] = confirmed.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _put(record: dict[str, Any], key: str, value: Any) -> None:
    """Leave out what does not apply, as the spec asks."""
    if value not in ("", None, []):
        record[key] = value


def to_record(
    row: dict[str, Any],
    attribute_ids: list[int],
    codes: TypeCodes,
    fellowship_names: dict[int, str],
    meeting_url: Callable[[int], str],
) -> dict[str, Any]:
    """One meeting (a `values()` row) as a Meeting Guide record."""
    record: dict[str, Any] = {"name": row["name"], "slug": meeting_slug(row["id"], row["name"])}
    if row["weekday"] is not None and row["start_time"] is not None:
        record["day"] = row["weekday"]
        record["time"] = hhmm(row["start_time"])
        if row["end_time"] is not None:
            record["end_time"] = hhmm(row["end_time"])
    _put(record, "timezone", row["timezone"])
    _put(record, "types", codes.codes(row["fellowship_id"], attribute_ids))
    _put(record, "conference_url", row["conference_url"])
    _put(record, "conference_url_notes", row["conference_url_notes"])
    if row["conference_phone"]:
        phone, moved = dial_string(row["conference_phone"])
        _put(record, "conference_phone", phone)
        _put(record, "conference_phone_notes", " ".join(filter(None, [row["conference_phone_notes"], moved])))
    else:
        _put(record, "conference_phone_notes", row["conference_phone_notes"])
    _put(record, "location", row["location__name"])
    _put(record, "location_notes", row["location__notes"])
    _put(record, "formatted_address", row["location__formatted_address"])
    _put(record, "address", row["location__address"])
    _put(record, "city", row["location__city"])
    _put(record, "state", row["location__state"])
    _put(record, "postal_code", row["location__postal_code"])
    _put(record, "country", row["location__country"])
    if row["location__latitude"] is not None and row["location__longitude"] is not None:
        record["latitude"] = round(row["location__latitude"], 6)
        record["longitude"] = round(row["location__longitude"], 6)
    if row["location__approximate"] is not None:
        record["approximate"] = "yes" if row["location__approximate"] else "no"
    _put(record, "regions", [part for part in (row["location__region_path"] or "").split(" > ") if part])
    _put(record, "group", row["group_name"])
    _put(record, "group_notes", row["group_notes"])
    _put(record, "notes", row["notes"])
    record["url"] = meeting_url(row["id"])
    record["updated"] = row["updated_at"].astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    # tsml-ui's own vocabulary: in_person, online, hybrid, inactive.
    record["attendance_option"] = row["attendance_mode"] or AttendanceMode.IN_PERSON
    # Extensions: the spec has no field for these.
    record["fellowship"] = fellowship_names[row["fellowship_id"]]
    record["moud"] = row["moud_stance"]
    _put(record, "moud_source", row["moud_source"])
    if row["moud_verified_on"] is not None:
        record["moud_verified"] = row["moud_verified_on"].isoformat()
    return record


def meeting_guide_records(
    meeting_url: Callable[[int], str], fellowships: list[str] | None = None
) -> Iterator[dict[str, Any]]:
    """Every active meeting (by-appointment ones too) as a Meeting Guide record, by id."""
    codes = TypeCodes()
    fellowship_names = dict(Fellowship.objects.values_list("id", "name"))
    feeds = feed_infos()
    meetings = exported_meetings(fellowships)
    links = _attribute_ids(meetings)
    pending = next(links, None)
    sources = _source_rows(meetings)
    source = next(sources, None)
    rows = meetings.order_by("id").values(*MEETING_FIELDS).iterator(chunk_size=CHUNK)
    for row in rows:
        while pending is not None and pending[0] < row["id"]:
            pending = next(links, None)
        while source is not None and source[0] < row["id"]:
            source = next(sources, None)
        attribute_ids = pending[1] if pending is not None and pending[0] == row["id"] else []
        record = to_record(row, attribute_ids, codes, fellowship_names, meeting_url)
        put_provenance(record, provenance_from(source[1] if source and source[0] == row["id"] else [], feeds))
        yield record


def meeting_guide_json(
    meeting_url: Callable[[int], str], fellowships: list[str] | None = None
) -> Iterator[str]:
    """The feed as a JSON array, in pieces of a few hundred meetings."""
    yield "["
    batch: list[str] = []
    first = True
    for record in meeting_guide_records(meeting_url, fellowships):
        batch.append(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
        if len(batch) == 500:
            yield ("" if first else ",") + ",".join(batch)
            first = False
            batch = []
    if batch:
        yield ("" if first else ",") + ",".join(batch)
    yield "]"
