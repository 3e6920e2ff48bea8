"""State changes of the directory: every one is a function with its own transaction.

Feed import (`import_feed`) is built for whole feeds of tens of thousands of
meetings: it reads what it needs in a handful of queries (the feed's known
sources by key, the vocabulary, candidate locations, candidate duplicates) and
writes with bulk statements, never one query per record.
"""

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any, TypeVar

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Min, OuterRef
from django.utils import timezone

from recoverybridge.directory import bulk
from recoverybridge.directory.actions.services import keep_services
from recoverybridge.directory.feeds import normalise
from recoverybridge.directory.feeds.records import MeetingRecord, ParsedFeed
from recoverybridge.directory.models import (
    AttendanceMode,
    Attribute,
    AttributeCategory,
    AttributeMapping,
    FeedSource,
    Fellowship,
    ImportRun,
    ImportStatus,
    Location,
    Meeting,
    MeetingSource,
    MeetingStatus,
    MoudStance,
    SourceSystem,
)

# Bump when the pipeline's rules change, so the next import rewrites every record.
PIPELINE_VERSION = "1"
BATCH = 500
# Meeting Guide's "ONL" (and TSML's lower-case "onl") only repeats what the
# conference link already says; the attendance mode is derived instead.
DERIVED_CODES = {"ONL"}
ATTENDANCE_MODES = frozenset(AttendanceMode.values)
DAY_SUFFIX = re.compile(r"#[0-6]$")

Progress = Callable[[int], object]
# (fellowship, weekday, start): where duplicates are looked for.
Slot = tuple[int, int | None, time | None]
T = TypeVar("T")


class ImportRefused(Exception):
    """The feed as a whole is not fit to import; nothing may change."""


@dataclass
class PreparedMeeting:
    """A record turned into the directory's field values, ready to write."""

    key: str
    fingerprint: str
    source_updated: datetime | None
    meeting: dict[str, Any]
    location: dict[str, Any] | None
    attribute_ids: list[int]
    location_id: int | None = None


@dataclass
class KnownSource:
    id: int
    meeting_id: int
    fingerprint: str
    active: bool


@dataclass
class Candidate:
    """An active meeting from elsewhere that a new record may be the same as."""

    id: int
    mode: str
    conference_url: str
    latitude: float | None
    longitude: float | None


@dataclass
class Vocabulary:
    fellowships: dict[str, int]
    codes: dict[tuple[int | None, str], int]
    language_ids: set[int]
    default_language_id: int | None
    temporarily_closed_id: int | None
    moud_welcoming_id: int | None = None
    digest: str = ""


@dataclass
class Outcome:
    errors: list[dict[str, str]] = field(default_factory=list)
    notes: Counter[str] = field(default_factory=Counter)


def register_feed_source(
    name: str,
    format: str,
    location: str,
    *,
    fellowship: Fellowship | None = None,
    default_timezone: str = "",
    default_language: str = "",
) -> FeedSource:
    """Create the feed source or update what was given; options left out keep their value."""
    with transaction.atomic():
        source, created = FeedSource.objects.get_or_create(
            name=name, defaults={"format": format, "location": location}
        )
        if not created and source.format != format:
            raise ValueError(f"feed source {name} is a {source.format} feed, not {format}")
        source.location = location
        if fellowship is not None:
            source.fellowship = fellowship
        if default_timezone:
            source.default_timezone = default_timezone
        if default_language:
            source.default_language = default_language
        source.save()
    return source


def record_failed_import(
    source: FeedSource, message: str, *, now: datetime | None = None, run: ImportRun | None = None
) -> ImportRun:
    """Keep the record of a failed import (the directory itself is left as it was)."""
    run = run or ImportRun(feed_source=source, started_at=now or timezone.now())
    run.pk = None
    run.status = ImportStatus.FAILED
    run.message = message
    run.finished_at = timezone.now()
    run.created = run.updated = run.unchanged = run.merged = run.deactivated = 0
    run.save()
    return run


def import_feed(
    source: FeedSource,
    parsed: ParsedFeed,
    *,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> ImportRun:
    """Bring the directory in line with one feed, all or nothing.

    Returns the ImportRun; its status is failed (and nothing changed) when the
    feed is empty or more than FEED_MAX_REJECTED_SHARE of its records cannot
    be used.
    """
    now = now or timezone.now()
    feed_import = FeedImport(source, parsed, now, progress)
    try:
        with transaction.atomic():
            run = feed_import.apply()
    except ImportRefused as refused:
        return record_failed_import(source, str(refused), run=feed_import.run)
    except Exception as error:
        # Rolled back too; keep a trace of the attempt, then let the error surface.
        record_failed_import(
            source, f"import stopped by an error: {type(error).__name__}", run=feed_import.run
        )
        raise
    bulk.refresh_statistics()
    return run


class FeedImport:
    def __init__(self, source: FeedSource, parsed: ParsedFeed, now: datetime, progress: Progress | None):
        self.source = source
        self.parsed = parsed
        self.now = now
        self.progress = progress
        self.outcome = Outcome(
            errors=[{"key": r.key, "reason": r.reason} for r in parsed.rejections],
            notes=Counter(parsed.notes),
        )
        self.city_zones: dict[tuple[str, str], str] = {}
        self.run = ImportRun(
            feed_source=source,
            started_at=now,
            status=ImportStatus.RUNNING,
            records_read=parsed.total,
            rejected=len(parsed.rejections),
            errors=self.outcome.errors,
        )

    def apply(self) -> ImportRun:
        if self.parsed.total == 0 and not self.parsed.services:
            raise ImportRefused("the feed has no meetings; nothing was changed")
        vocabulary = load_vocabulary(self.source)
        known = {
            key: KnownSource(pk, meeting_id, fingerprint, active)
            for key, pk, meeting_id, fingerprint, active in MeetingSource.objects.filter(
                feed_source=self.source
            ).values_list("source_key", "id", "meeting_id", "fingerprint", "active")
        }
        changed: list[tuple[PreparedMeeting, KnownSource]] = []
        new: list[PreparedMeeting] = []
        for done, record in enumerate(self.parsed.records, start=1):
            fingerprint = fingerprint_of(record, vocabulary.digest)
            source = known.get(record.source_key)
            if source and source.active and source.fingerprint == fingerprint:
                self.run.unchanged += 1
            else:
                prepared = prepare(
                    record, fingerprint, self.source, vocabulary, self.outcome, city_zone=self.city_zone
                )
                if prepared is None:
                    pass
                elif source:
                    changed.append((prepared, source))
                else:
                    new.append(prepared)
            if self.progress and done % 1000 == 0:
                self.progress(1000)
        if self.progress:
            self.progress(len(self.parsed.records) % 1000)

        self.run.rejected = len(self.outcome.errors)
        share = self.run.rejected / self.parsed.total if self.parsed.total else 0
        if share > settings.FEED_MAX_REJECTED_SHARE:
            reason, count = Counter(error["reason"] for error in self.outcome.errors).most_common(1)[0]
            raise ImportRefused(
                f"{self.run.rejected} of {self.parsed.total} records could not be used ({share:.0%}, "
                f"more than the {settings.FEED_MAX_REJECTED_SHARE:.0%} allowed; most often "
                f'"{reason}", {count} times); nothing was changed'
            )

        place_locations([prepared for prepared, _ in changed] + new)
        self.update_changed(changed)
        self.create_new(new)
        self.deactivate_missing(known)
        if self.parsed.services or self.source.format == SourceSystem.HSDS:
            services = keep_services(self.source, self.parsed.services, self.now)
            self.run.services_created = services.created
            self.run.services_updated = services.updated
            self.run.services_unchanged = services.unchanged
            self.run.services_gone = services.gone

        self.run.status = ImportStatus.SUCCEEDED
        self.run.finished_at = timezone.now()
        self.run.message = summary_notes(self.outcome.notes)
        self.run.save()
        return self.run

    def city_zone(self, city: str, region: str) -> str:
        """The one zone the directory knows `city` in (within `region` when given), else "".

        The directory's own places are the offline gazetteer: a town where every known meeting
        keeps the same zone decides; a name found in two zones (Lewes, Delaware and Lewes,
        England; Kansas City on a state line in one zone, but Columbus in three) does not.
        """
        key = (city.casefold(), region)
        if key not in self.city_zones:
            zones = {
                zone
                for state, zone in Location.objects.filter(city__iexact=city)
                .exclude(timezone="")
                .values_list("state", "timezone")
                .distinct()
                if not region or normalise.region_code(state) in ("", region)
            }
            self.city_zones[key] = zones.pop() if len(zones) == 1 else ""
        return self.city_zones[key]

    def update_changed(self, changed: list[tuple[PreparedMeeting, KnownSource]]) -> None:
        """Changed or returning records: the meeting is updated in place.

        When two feeds list the same meeting, the source that brought it first
        owns its fields; a later source only adds provenance, so two feeds
        that disagree do not overwrite each other on every import. Once the
        owner leaves, the next changed record from another source takes over.
        """
        if not changed:
            return
        meeting_ids = [source.meeting_id for _, source in changed]
        first_active: dict[int, int] = {}
        for ids in chunks(meeting_ids, BATCH):
            first_active.update(
                MeetingSource.objects.filter(meeting_id__in=ids, active=True)
                .values("meeting_id")
                .annotate(first=Min("id"))
                .values_list("meeting_id", "first")
            )
        meetings: list[dict[str, Any]] = []
        owned: list[tuple[int, PreparedMeeting]] = []
        reactivated: list[int] = []
        sources: list[dict[str, Any]] = []
        for prepared, source in changed:
            if first_active.get(source.meeting_id, source.id) >= source.id:
                owned.append((source.meeting_id, prepared))
                meetings.append(self.meeting_row(prepared, id=source.meeting_id, updated_at=self.now))
            elif not source.active:
                reactivated.append(source.meeting_id)
            sources.append(
                {
                    "id": source.id,
                    "fingerprint": prepared.fingerprint,
                    "source_updated": prepared.source_updated,
                    "last_seen": self.now,
                    "active": True,
                }
            )
        self.run.updated = len(changed)
        # Rows that carry a MOUD stance set it; the others leave the meeting's stance alone.
        for rows in (
            [row for row in meetings if "moud_stance" in row],
            [row for row in meetings if "moud_stance" not in row],
        ):
            bulk.update(Meeting, [name for name in rows[0] if name != "id"] if rows else [], rows)
        for ids in chunks(reactivated, BATCH):
            Meeting.objects.filter(id__in=ids).update(status=MeetingStatus.ACTIVE, updated_at=self.now)
        bulk.update(MeetingSource, ["fingerprint", "source_updated", "last_seen", "active"], sources)
        through = Meeting.attributes.through
        for batch in chunks(owned, BATCH):
            through.objects.filter(meeting_id__in=[meeting_id for meeting_id, _ in batch]).delete()
        bulk.insert_rows(
            through,
            ["meeting_id", "attribute_id"],
            (
                (meeting_id, attribute_id)
                for meeting_id, prepared in owned
                for attribute_id in prepared.attribute_ids
            ),
        )

    def create_new(self, new: list[PreparedMeeting]) -> None:
        """New keys join a matching meeting from another source, or become a meeting."""
        if not new:
            return
        candidates = self.load_candidates(new)
        same_ids = self.load_same_ids(new)
        claimed: set[int] = set()
        creating: list[PreparedMeeting] = []
        sources: list[dict[str, Any]] = []
        for prepared in new:
            match = same_ids.get(prepared.key)
            if match is None or match in claimed:
                match = find_duplicate(prepared, candidates, claimed)
            if match is None:
                creating.append(prepared)
                continue
            claimed.add(match)
            self.run.merged += 1
            sources.append(self.source_row(prepared, match))
        meeting_ids = bulk.insert(
            Meeting, [{**NO_MOUD_STANCE, **self.meeting_row(prepared)} for prepared in creating]
        )
        self.run.created = len(meeting_ids)
        bulk.insert_rows(
            Meeting.attributes.through,
            ["meeting_id", "attribute_id"],
            (
                (meeting_id, attribute_id)
                for meeting_id, prepared in zip(meeting_ids, creating, strict=True)
                for attribute_id in prepared.attribute_ids
            ),
        )
        sources.extend(
            self.source_row(prepared, meeting_id)
            for meeting_id, prepared in zip(meeting_ids, creating, strict=True)
        )
        bulk.insert(MeetingSource, sources)

    def meeting_row(self, prepared: PreparedMeeting, **extra: Any) -> dict[str, Any]:
        return {**prepared.meeting, "location_id": prepared.location_id, **extra}

    def source_row(self, prepared: PreparedMeeting, meeting_id: int) -> dict[str, Any]:
        return {
            "meeting_id": meeting_id,
            "feed_source_id": self.source.pk,
            "source_key": prepared.key,
            "fingerprint": prepared.fingerprint,
            "source_updated": prepared.source_updated,
            "first_seen": self.now,
            "last_seen": self.now,
            "active": True,
        }

    def load_same_ids(self, new: list[PreparedMeeting]) -> dict[str, int]:
        """Meetings another HSDS source already lists under the same key.

        HSDS ids are meant to be globally unique (UUIDs), so the same service and
        schedule published in two files is one meeting, whatever its place says.
        """
        if self.source.format != SourceSystem.HSDS:
            return {}
        found: dict[str, int] = {}
        for batch in chunks([prepared.key for prepared in new], BATCH):
            found.update(
                MeetingSource.objects.filter(
                    feed_source__format=SourceSystem.HSDS, source_key__in=batch, active=True
                )
                .exclude(feed_source=self.source)
                .order_by("-id")  # the oldest listing wins
                .values_list("source_key", "meeting_id")
            )
        return found

    def load_candidates(self, new: list[PreparedMeeting]) -> dict[Slot, list[Candidate]]:
        """Active meetings not from this feed, by (fellowship, weekday, start), in one query."""
        fellowships = {p.meeting["fellowship_id"] for p in new if p.meeting["weekday"] is not None}
        if not fellowships:
            return {}
        rows = (
            Meeting.objects.filter(
                status=MeetingStatus.ACTIVE,
                fellowship_id__in=fellowships,
                weekday__isnull=False,
                start_time__isnull=False,
            )
            .exclude(Exists(MeetingSource.objects.filter(meeting=OuterRef("pk"), feed_source=self.source)))
            .values_list(
                "id",
                "fellowship_id",
                "weekday",
                "start_time",
                "attendance_mode",
                "conference_url",
                "location__latitude",
                "location__longitude",
            )
        )
        candidates: dict[Slot, list[Candidate]] = defaultdict(list)
        for pk, fellowship_id, weekday, start, mode, url, latitude, longitude in rows.iterator(2000):
            candidates[(fellowship_id, weekday, start)].append(Candidate(pk, mode, url, latitude, longitude))
        return candidates

    def deactivate_missing(self, known: dict[str, KnownSource]) -> None:
        """Meetings gone from the feed become inactive (unless another feed still lists them).

        A key whose record was rejected this time is still in the feed, so it
        keeps its meeting as it was rather than losing it to a typo.
        """
        present = {record.source_key for record in self.parsed.records}
        rejected = {error["key"] for error in self.outcome.errors}
        gone = [
            source
            for key, source in known.items()
            if source.active
            and key not in present
            # "slug#3" came from a Meeting Guide day array whose record "slug" was rejected.
            and not {key, DAY_SUFFIX.sub("", key)} & rejected
        ]
        self.run.deactivated = len(gone)
        for batch in chunks(gone, BATCH):
            MeetingSource.objects.filter(id__in=[s.id for s in batch]).update(
                active=False, last_seen=self.now
            )
            Meeting.objects.filter(id__in=[s.meeting_id for s in batch], status=MeetingStatus.ACTIVE).exclude(
                Exists(MeetingSource.objects.filter(meeting=OuterRef("pk"), active=True))
            ).update(status=MeetingStatus.INACTIVE, updated_at=self.now)


def load_vocabulary(source: FeedSource) -> Vocabulary:
    codes: dict[tuple[int | None, str], int] = {}
    for fellowship_id, code, attribute_id in AttributeMapping.objects.filter(
        source_system=source.format
    ).values_list("fellowship_id", "code", "attribute_id"):
        codes[(fellowship_id, code)] = attribute_id
    languages = dict(
        Attribute.objects.filter(category=AttributeCategory.LANGUAGE).values_list("language_code", "id")
    )
    vocabulary = Vocabulary(
        fellowships=dict(Fellowship.objects.values_list("slug", "id")),
        codes=codes,
        language_ids=set(languages.values()),
        default_language_id=languages.get(source.default_language) if source.default_language else None,
        temporarily_closed_id=Attribute.objects.filter(slug="temporarily-closed")
        .values_list("id", flat=True)
        .first(),
        moud_welcoming_id=Attribute.objects.filter(slug="moud-welcoming")
        .values_list("id", flat=True)
        .first(),
    )
    # Our own export names fellowships: by name as well as by slug.
    for name, fellowship_id in Fellowship.objects.values_list("name", "id"):
        vocabulary.fellowships.setdefault(name.casefold(), fellowship_id)
    # Everything besides the record that decides the result: when any of it
    # changes, every record is written again on the next import.
    context = (
        PIPELINE_VERSION,
        source.fellowship_id,
        source.default_timezone,
        source.default_language,
        settings.DEDUPLICATE_WITHIN_METRES,
        sorted(codes.items(), key=repr),
        vocabulary.default_language_id,
    )
    vocabulary.digest = hashlib.sha256(repr(context).encode()).hexdigest()
    return vocabulary


def fingerprint_of(record: MeetingRecord, context: str) -> str:
    # The dataclass repr lists every field, nested location included, in a fixed order.
    return hashlib.sha256(f"{context}\n{record!r}".encode()).hexdigest()


def text_limits(model: type[Meeting] | type[Location]) -> dict[str, int | None]:
    return {field.name: field.max_length for field in model._meta.concrete_fields if field.max_length}


MEETING_LIMITS = text_limits(Meeting)
LOCATION_LIMITS = text_limits(Location)


def clip(value: str, limits: dict[str, int | None], name: str) -> str:
    limit = limits.get(name)
    return value[:limit] if limit else value


def prepare(
    record: MeetingRecord,
    fingerprint: str,
    source: FeedSource,
    vocabulary: Vocabulary,
    outcome: Outcome,
    *,
    city_zone: normalise.CityZone | None = None,
) -> PreparedMeeting | None:
    """The record's meeting, location and attributes, or None with a rejection recorded."""

    def reject(reason: str) -> None:
        outcome.errors.append({"key": record.source_key, "reason": reason})

    named = (
        vocabulary.fellowships.get(record.fellowship)
        or vocabulary.fellowships.get(record.fellowship.casefold())
        if record.fellowship
        else None
    )
    if named is not None:
        fellowship_id = named
    elif record.fellowship and not source.fellowship_id:
        reject(f"unknown fellowship {record.fellowship}")
        return None
    elif source.fellowship_id:
        if record.fellowship:
            outcome.notes[f"unknown fellowship {record.fellowship!r} (used the feed's)"] += 1
        fellowship_id = source.fellowship_id
    else:
        reject("no fellowship: give --fellowship")
        return None
    if record.weekday is not None and not 0 <= record.weekday <= 6:
        reject(f"day {record.weekday} is not 0-6")
        return None

    location_record = record.location
    zone, how = normalise.resolve_zone(record.timezone, location_record, source.default_timezone, city_zone)
    if record.timezone and how != "record":
        outcome.notes[f"unknown time zone {record.timezone!r} (used the {how or 'appointment'} zone)"] += 1
    by_appointment = record.weekday is None or record.start_time is None
    if not zone:
        if not by_appointment:
            reject(normalise.why_no_zone(location_record))
            return None
        zone = normalise.APPOINTMENT_ZONE
    elif how in normalise.ZONE_RULES and not by_appointment:
        # The report says which rule decided each zone that the record did not give.
        outcome.notes[normalise.ZONE_RULES[how]] += 1

    attribute_ids = map_codes(record.codes, fellowship_id, vocabulary, outcome.notes)
    if (
        record.moud_stance == MoudStance.WELCOMING
        and vocabulary.moud_welcoming_id
        and vocabulary.moud_welcoming_id not in attribute_ids
    ):
        attribute_ids.append(vocabulary.moud_welcoming_id)
    if vocabulary.default_language_id and not vocabulary.language_ids.intersection(attribute_ids):
        attribute_ids.append(vocabulary.default_language_id)

    location: dict[str, Any] | None = None
    approximate = True
    if location_record is not None:
        approximate = normalise.is_approximate(location_record)
        location = {
            "name": clip(location_record.name, LOCATION_LIMITS, "name"),
            "address": clip(location_record.address, LOCATION_LIMITS, "address"),
            "city": clip(location_record.city, LOCATION_LIMITS, "city"),
            "state": clip(location_record.state, LOCATION_LIMITS, "state"),
            "postal_code": clip(location_record.postal_code, LOCATION_LIMITS, "postal_code"),
            "country": clip(location_record.country, LOCATION_LIMITS, "country"),
            "formatted_address": clip(
                location_record.formatted_address or normalise.build_formatted_address(location_record),
                LOCATION_LIMITS,
                "formatted_address",
            ),
            "latitude": location_record.latitude,
            "longitude": location_record.longitude,
            "approximate": approximate,
            "region_path": clip(" > ".join(location_record.regions), LOCATION_LIMITS, "region_path"),
            "timezone": zone if how else "",
            "notes": location_record.notes,
        }

    conference_url = record.conference_url
    if conference_url and not (
        normalise.usable_url(conference_url)
        and len(conference_url) <= (MEETING_LIMITS["conference_url"] or 0)
    ):
        outcome.notes["conference links left out: not an http(s) URL"] += 1
        conference_url = ""
    website = record.website
    if website and not (normalise.usable_url(website) and len(website) <= (MEETING_LIMITS["website"] or 0)):
        outcome.notes["web page links left out: not an http(s) URL"] += 1
        website = ""
    mode = record.attendance_mode
    if mode not in ATTENDANCE_MODES:
        online = bool(conference_url) or normalise.usable_phone(record.conference_phone)
        closed = vocabulary.temporarily_closed_id in attribute_ids
        mode = normalise.attendance_mode(online, approximate, closed)

    meeting = {
        "fellowship_id": fellowship_id,
        "name": clip(record.name, MEETING_LIMITS, "name"),
        "group_name": clip(record.group_name, MEETING_LIMITS, "group_name"),
        "group_notes": record.group_notes,
        "weekday": record.weekday,
        "start_time": record.start_time,
        "end_time": record.end_time,
        "timezone": zone,
        "attendance_mode": mode,
        "conference_url": conference_url,
        "conference_url_notes": record.conference_url_notes,
        "conference_phone": clip(record.conference_phone, MEETING_LIMITS, "conference_phone"),
        "conference_phone_notes": record.conference_phone_notes,
        "notes": record.notes,
        "website": website,
        "status": MeetingStatus.ACTIVE,
    }
    if record.moud_stance in MoudStance.values:
        # Only when the feed says: an editor's stance is not overwritten by a feed's silence.
        meeting.update(
            moud_stance=record.moud_stance,
            moud_source=clip(record.moud_source, MEETING_LIMITS, "moud_source"),
            moud_verified_on=record.moud_verified_on,
        )
    return PreparedMeeting(
        key=record.source_key,
        fingerprint=fingerprint,
        source_updated=record.source_updated,
        meeting=meeting,
        location=location,
        attribute_ids=attribute_ids,
    )


def map_codes(codes: list[str], fellowship_id: int, vocabulary: Vocabulary, notes: Counter[str]) -> list[int]:
    """Source codes to attribute ids; the fellowship's own meaning of a code wins."""
    found: list[int] = []
    for code in codes:
        attribute_id = None
        for candidate in (code, code.upper()):
            attribute_id = vocabulary.codes.get((fellowship_id, candidate)) or vocabulary.codes.get(
                (None, candidate)
            )
            if attribute_id:
                break
        if attribute_id is None:
            if code.upper() not in DERIVED_CODES:
                notes[f"unknown code {code}"] += 1
        elif attribute_id not in found:
            found.append(attribute_id)
    return found


# A new meeting whose feed says nothing of MOUD (every row of one insert has the same columns).
NO_MOUD_STANCE: dict[str, Any] = {
    "moud_stance": MoudStance.UNKNOWN,
    "moud_source": "",
    "moud_verified_on": None,
}

LOCATION_FIELDS = [
    "name",
    "address",
    "city",
    "state",
    "postal_code",
    "country",
    "formatted_address",
    "latitude",
    "longitude",
    "approximate",
    "region_path",
    "timezone",
    "notes",
]


LocationKey = tuple[str, str, float | None, float | None, bool]


def location_key(values: dict[str, Any]) -> LocationKey:
    def rounded(number: float | None) -> float | None:
        return None if number is None else round(number, 5)

    return (
        values["name"],
        values["formatted_address"],
        rounded(values["latitude"]),
        rounded(values["longitude"]),
        values["approximate"],
    )


def place_locations(prepared: list[PreparedMeeting]) -> None:
    """Give each record a Location, shared by every meeting at the same place.

    The same place is the same name, formatted address, coordinates (to five
    decimals, about a metre) and approximate flag (a town centre standing for
    online meetings is not the building on the same street). Its other
    details (notes, region, zone) follow the latest record that describes it.
    """
    wanted: dict[LocationKey, dict[str, Any]] = {}
    for one in prepared:
        if one.location is not None:
            wanted[location_key(one.location)] = one.location
    if not wanted:
        return
    existing: dict[LocationKey, dict[str, Any]] = {}
    addresses = sorted({key[1] for key in wanted})
    for batch in chunks(addresses, BATCH):
        rows = (
            Location.objects.filter(formatted_address__in=batch)
            .order_by("-id")
            .values("id", *LOCATION_FIELDS)
        )
        for row in rows:
            key = location_key(row)
            if key in wanted:
                existing[key] = row  # ordered by -id: the oldest row wins
    bulk.update(
        Location,
        LOCATION_FIELDS,
        [
            {**wanted[key], "id": row["id"]}
            for key, row in existing.items()
            if any(row[name] != value for name, value in wanted[key].items())
        ],
    )
    found = {key: row["id"] for key, row in existing.items()}
    missing = [key for key in wanted if key not in found]
    found.update(zip(missing, bulk.insert(Location, [dict(wanted[key]) for key in missing]), strict=True))
    for one in prepared:
        if one.location is not None:
            one.location_id = found[location_key(one.location)]


def find_duplicate(
    prepared: PreparedMeeting,
    candidates: dict[Slot, list[Candidate]],
    claimed: set[int],
) -> int | None:
    """Another source's meeting that this record is, or None.

    Same fellowship, weekday and start time, and either the same conference
    link or, for meetings with a place, locations within DEDUPLICATE_WITHIN_METRES.
    """
    meeting = prepared.meeting
    weekday: int | None = meeting["weekday"]
    start: time | None = meeting["start_time"]
    if weekday is None or start is None:
        return None
    bucket = candidates.get((meeting["fellowship_id"], weekday, start))
    if not bucket:
        return None
    location = prepared.location or {}
    latitude, longitude = location.get("latitude"), location.get("longitude")
    url = meeting["conference_url"]
    online = meeting["attendance_mode"] == AttendanceMode.ONLINE
    for candidate in bucket:
        if candidate.id in claimed:
            continue
        if url and candidate.conference_url == url:
            return candidate.id
        if (
            not online
            and candidate.mode != AttendanceMode.ONLINE
            and latitude is not None
            and longitude is not None
            and candidate.latitude is not None
            and candidate.longitude is not None
            and normalise.distance_metres(latitude, longitude, candidate.latitude, candidate.longitude)
            <= settings.DEDUPLICATE_WITHIN_METRES
        ):
            return candidate.id
    return None


def summary_notes(notes: Counter[str]) -> str:
    return "; ".join(f"{note} ({count})" for note, count in sorted(notes.items()))


def chunks(items: Sequence[T] | Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
