"""What every feed parser produces, whatever the format.

A parser turns a decoded feed (Meeting Guide JSON, BMLT, HSDS) into
MeetingRecords plus Rejections (records it cannot use, with the reason); the
import pipeline (`directory.actions.imports.import_feed`) resolves time zones, maps
codes to attributes, derives the attendance mode, deduplicates and writes.
A feed that cannot be read at all raises FeedError.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time


class FeedError(Exception):
    """The feed as a whole cannot be used (not JSON, wrong shape...)."""


@dataclass
class LocationRecord:
    name: str = ""
    address: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country: str = ""
    formatted_address: str = ""
    latitude: float | None = None
    longitude: float | None = None
    # None: the source did not say; the pipeline decides from the address.
    approximate: bool | None = None
    regions: list[str] = field(default_factory=list)
    notes: str = ""


@dataclass
class MeetingRecord:
    # Unique within the feed; a Meeting Guide record with a day array yields
    # one record per day ("slug#day").
    source_key: str
    name: str
    weekday: int | None = None  # 0 = Sunday
    start_time: time | None = None
    end_time: time | None = None
    timezone: str = ""  # IANA name when the source gives one
    location: LocationRecord | None = None
    # Source codes (Meeting Guide types, BMLT format keys...), mapped by the pipeline.
    codes: list[str] = field(default_factory=list)
    # Set when the source states it (BMLT venue_type); else the pipeline derives it.
    attendance_mode: str = ""
    conference_url: str = ""
    conference_url_notes: str = ""
    conference_phone: str = ""
    conference_phone_notes: str = ""
    notes: str = ""
    group_name: str = ""
    group_notes: str = ""
    website: str = ""
    source_updated: datetime | None = None
    # A fellowship (slug or name) when the feed mixes fellowships, as our own export says it;
    # else the feed's own.
    fellowship: str = ""
    # Our own export's MOUD stance (a MoudStance value), who said so and when; blank when the
    # feed does not say, which leaves the meeting's stance (perhaps an editor's) as it is.
    moud_stance: str = ""
    moud_source: str = ""
    moud_verified_on: date | None = None


@dataclass
class ServiceRecord:
    """An HSDS service that is not a meeting (treatment, recovery housing...), kept as it comes.

    One HSDS id is one service; `category` is one of ServiceCategory's values.
    """

    hsds_id: str
    name: str
    category: str
    organization_id: str = ""
    organization_name: str = ""
    alternate_name: str = ""
    description: str = ""
    status: str = "active"
    url: str = ""
    email: str = ""
    phones: str = ""  # one number a line, as published
    schedules: str = ""  # the schedules as readable text
    taxonomy: str = ""  # the terms and type it was classified from, one a line
    languages: str = ""  # ISO 639-1 codes, comma separated
    location: LocationRecord | None = None
    location_id: str = ""
    source_updated: datetime | None = None


@dataclass
class Rejection:
    key: str
    reason: str


@dataclass
class ParsedFeed:
    records: list[MeetingRecord]
    rejections: list[Rejection]
    # What the parser left out on purpose (not an error), counted for the import report.
    notes: Counter[str] = field(default_factory=Counter)
    # HSDS services that are not meetings, kept as services.
    services: list[ServiceRecord] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.records) + len(self.rejections)
