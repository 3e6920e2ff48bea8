"""Printed directories of an area: a booklet PDF for prisons, probation, GP surgeries and supported
housing, where the people it is for may have no phone, no data or no internet at all.

What a booklet prints (LAYOUT_VERSION counts changes to it, so a new layout rebuilds them all):

- every kind of group present in the area in a section of its own, in the finder's order, groups
  for family and friends in theirs, and meetings by phone or online in one section, by kind
  (information parity: no kind is missing or buried);
- each in-person or hybrid meeting by day and time, in the area's time zone (a meeting kept in
  another zone shows its own time as well), with its address, what it is like, whether it
  welcomes people on opioid medication in words (groups for relatives carry none: it is not
  about them), its number and a QR code of its page;
- each online meeting with its dial-in number first (a phone call needs no data), then its link;
- at the front: when it was built, how to read it, what "MOUD" means, the contents with page
  numbers, and how to report a change (also for readers without internet).

`build` renders it with WeasyPrint as PDF/UA-1: tagged, so its text comes out in reading order
and its headings are headings. `freshness` says whether the stored PDF still prints what the
directory holds: the directory version token (directory/version.py) answers at once while it is
unchanged; once it moved, the fingerprint of the data the booklet prints says whether this area
changed at all, so an import elsewhere rebuilds nothing.
"""

import base64
import hashlib
import io
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format, get_format, time_format
from django.utils.functional import Promise
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from recoverybridge.directory import version
from recoverybridge.directory.models import (
    Approach,
    AreaKind,
    AttendanceMode,
    Attribute,
    Booklet,
    Fellowship,
    Location,
    Meeting,
    MeetingStatus,
    MoudStance,
    PaperSize,
)
from recoverybridge.directory.places import region_query
from recoverybridge.directory.timing import WEEKDAYS, next_occurrence, zone

LAYOUT_VERSION = 1
# A printed list past this many meetings is a book nobody carries: the editor is asked for a smaller area.
MAX_MEETINGS = 3000
# A booklet never built yet is built while its first reader waits only when it is this small
# (a few seconds); a larger one is left to the task queue.
BUILD_WHILE_WAITING_MAX = 200
# A queued rebuild not done within this time (a worker that died) may be queued again.
REQUEUE_AFTER = timedelta(minutes=30)
LOCATION_NOTES_MAX = 160
# QR codes kept per process (about 700 bytes each).
QR_CODES_KEPT = 20_000

FAMILY = "family"
ONLINE = "online"
KINDS: list[tuple[str, Promise, Promise]] = [
    (
        Approach.TWELVE_STEP,
        gettext_lazy("Twelve-step groups"),
        gettext_lazy(
            "Groups such as Alcoholics Anonymous and Narcotics Anonymous follow twelve steps. Members share "
            "their experience and may speak of a “higher power” of their own understanding."
        ),
    ),
    (
        Approach.SECULAR,
        gettext_lazy("Secular groups"),
        gettext_lazy(
            "Groups such as SMART Recovery and LifeRing offer peer support without religious or spiritual "
            "language, often with practical tools for coping with urges."
        ),
    ),
    (
        Approach.FAITH_BASED,
        gettext_lazy("Faith-based groups"),
        gettext_lazy("Groups that combine recovery with a faith. Some welcome people of any or no faith."),
    ),
    (
        Approach.INDIGENOUS,
        gettext_lazy("Indigenous groups"),
        gettext_lazy("Groups that draw on Indigenous culture, tradition and community for healing."),
    ),
    (
        Approach.MEDICATION_ASSISTED,
        gettext_lazy("Medication-assisted recovery groups"),
        gettext_lazy(
            "Groups for people who take, or have taken, medication such as methadone or buprenorphine. "
            "Medication is treated as part of recovery."
        ),
    ),
    (
        Approach.OTHER,
        gettext_lazy("Other groups"),
        gettext_lazy("Other peer-led groups, such as groups for eating disorders or gambling."),
    ),
    (
        FAMILY,
        gettext_lazy("Groups for family and friends"),
        gettext_lazy(
            "For the family members and friends of someone who drinks or uses drugs, whether or not that "
            "person is in recovery."
        ),
    ),
]
KIND_TITLES = {key: title for key, title, _intro in KINDS}

MOUD_TEXT = {
    MoudStance.WELCOMING: gettext_lazy("Welcomes people on opioid medication."),
    MoudStance.UNKNOWN: gettext_lazy("Not known if people on opioid medication are welcome: ask the group."),
    MoudStance.NOT_WELCOMING: gettext_lazy("Does not welcome people on opioid medication."),
}
# Attribute categories printed as "what it is like"; languages are printed apart, MOUD as the stance.
DESCRIBED = ("format", "audience", "accessibility")
# Dates read as the area's readers write them when the booklet is in English.
ENGLISH_BY_COUNTRY = {
    "gb": "en-gb",
    "uk": "en-gb",
    "united kingdom": "en-gb",
    "england": "en-gb",
    "scotland": "en-gb",
    "wales": "en-gb",
    "northern ireland": "en-gb",
    "ie": "en-ie",
    "ireland": "en-ie",
    "au": "en-au",
    "australia": "en-au",
}


# What an editor defines of a booklet (its address, the slug, is made once from these).
DEFINITION_FIELDS = (
    "title",
    "area_kind",
    "region",
    "city",
    "south",
    "west",
    "north",
    "east",
    "language",
    "large_print",
    "paper",
    "report_contact",
)


class AreaProblem(ValueError):
    """An area a booklet cannot be made of, said so that an editor can fix it."""


# ---------------------------------------------------------------- the area


@dataclass(frozen=True)
class Area:
    kind: str
    region: str = ""
    city: str = ""
    south: float | None = None
    west: float | None = None
    north: float | None = None
    east: float | None = None

    @classmethod
    def of(cls, booklet: Booklet) -> "Area":
        return cls.from_fields(vars(booklet))

    @classmethod
    def from_fields(cls, fields: dict[str, Any]) -> "Area":
        """The area a booklet's definition (a form's cleaned data, a booklet's fields) names."""
        return cls(
            fields.get("area_kind") or "",
            fields.get("region") or "",
            fields.get("city") or "",
            *(fields.get(edge) for edge in ("south", "west", "north", "east")),
        )

    def query(self) -> Q:
        """Meetings whose place is in the area (an online meeting's place is its group's home)."""
        if self.kind == AreaKind.REGION:
            return region_query(self.region.strip(), prefix="location__")
        if self.kind == AreaKind.CITY:
            return Q(location__city__iexact=self.city.strip())
        return Q(
            location__latitude__gte=self.south,
            location__latitude__lte=self.north,
            location__longitude__gte=self.west,
            location__longitude__lte=self.east,
        )

    def describe(self) -> str:
        if self.kind == AreaKind.REGION:
            return _("Region: %(name)s") % {"name": self.region}
        if self.kind == AreaKind.CITY:
            return _("Town or city: %(name)s") % {"name": self.city}
        return _("Rectangle: latitude %(south)s to %(north)s, longitude %(west)s to %(east)s") % {
            "south": self.south,
            "north": self.north,
            "west": self.west,
            "east": self.east,
        }


def area_meetings(area: Area) -> QuerySet[Meeting]:
    """The meetings a booklet of `area` prints: active ones someone can attend or join."""
    return (
        Meeting.objects.filter(area.query(), status=MeetingStatus.ACTIVE)
        .exclude(attendance_mode=AttendanceMode.INACTIVE)
        .order_by()
    )


def kind_of(approach: str, family_focused: bool) -> str:
    """The booklet section of a fellowship: groups for relatives have theirs whatever their approach."""
    return FAMILY if family_focused else approach


@dataclass
class AreaSummary:
    count: int
    kinds: list[tuple[str, int]]
    online: int


def area_summary(area: Area) -> AreaSummary:
    """How many meetings of each kind a booklet of `area` would print (one grouped query)."""
    by_kind: Counter[str] = Counter()
    online = 0
    rows = area_meetings(area).values_list(
        "fellowship__approach", "fellowship__family_focused", "attendance_mode"
    )
    for approach, family, mode, n in rows.annotate(n=Count("id")):
        if mode == AttendanceMode.ONLINE:
            online += n
        else:
            by_kind[kind_of(approach, family)] += n
    kinds = [(str(title), by_kind[key]) for key, title, _intro in KINDS if by_kind[key]]
    return AreaSummary(sum(by_kind.values()) + online, kinds, online)


def check_area(area: Area) -> AreaSummary:
    """The area's summary, or AreaProblem when no booklet can be made of it."""
    summary = area_summary(area)
    if summary.count == 0:
        raise AreaProblem(
            _(
                "There are no meetings in this area in the directory. Check the spelling, or choose "
                "one of the regions or towns the form suggests."
            )
        )
    if summary.count > MAX_MEETINGS:
        raise AreaProblem(
            _(
                "This area has %(count)s meetings: too many for a printed booklet (at most %(max)s). "
                "Choose a smaller area."
            )
            % {"count": f"{summary.count:,}", "max": f"{MAX_MEETINGS:,}"}
        )
    return summary


def known_regions(limit: int = 300) -> list[str]:
    """Region paths with the most meetings, for the editor's suggestions."""
    rows = (
        Location.objects.exclude(region_path="")
        .values_list("region_path")
        .annotate(n=Count("meetings"))
        .order_by("-n", "region_path")[:limit]
    )
    return sorted(path for path, _n in rows)


def known_cities(limit: int = 300) -> list[str]:
    rows = (
        Location.objects.exclude(city="")
        .values_list("city")
        .annotate(n=Count("meetings"))
        .order_by("-n", "city")
    )[:limit]
    return sorted({city for city, _n in rows})


# ---------------------------------------------------------------- what it prints

MEETING_FIELDS = (
    "id",
    "name",
    "group_name",
    "fellowship_id",
    "weekday",
    "start_time",
    "end_time",
    "timezone",
    "attendance_mode",
    "conference_url",
    "conference_phone",
    "conference_phone_notes",
    "moud_stance",
    "location__name",
    "location__address",
    "location__city",
    "location__postal_code",
    "location__country",
    "location__formatted_address",
    "location__approximate",
    "location__notes",
    "location__latitude",
    "location__longitude",
    "location__region_path",
)


@dataclass
class Row:
    """One meeting as the booklet reads it (MEETING_FIELDS, in order)."""

    id: int
    name: str
    group_name: str
    fellowship_id: int
    weekday: int | None
    start_time: time | None
    end_time: time | None
    timezone: str
    attendance_mode: str
    conference_url: str
    conference_phone: str
    conference_phone_notes: str
    moud_stance: str
    location_name: str | None
    address: str | None
    city: str | None
    postal_code: str | None
    country: str | None
    formatted_address: str | None
    approximate: bool | None
    location_notes: str | None
    latitude: float | None
    longitude: float | None
    region_path: str | None
    attributes: list[int] = field(default_factory=list)


@dataclass
class Gathered:
    """Everything a booklet prints, read once, and its fingerprint."""

    rows: list[Row]
    fellowships: dict[int, tuple[str, str, bool]]
    vocabulary: dict[int, Attribute]
    token: int | None
    fingerprint: str


def _definition(booklet: Booklet) -> list[Any]:
    return [booklet.slug, *(getattr(booklet, name) for name in DEFINITION_FIELDS), settings.SITE_URL]


def gather(booklet: Booklet) -> Gathered:
    """The area's meetings with their places, fellowships and attributes: four queries.

    The token is read first: a change made while reading leaves an older token with the result,
    so the next look sees the token moved and checks again, never the other way round.
    """
    token = version.current_token()
    meetings = area_meetings(Area.of(booklet))
    rows = [Row(*values) for values in meetings.order_by("id").values_list(*MEETING_FIELDS)]
    links = Meeting.attributes.through.objects.filter(meeting__in=meetings.values("id")).values_list(
        "meeting_id", "attribute_id"
    )
    by_id = {row.id: row for row in rows}
    for meeting_id, attribute_id in links.order_by("meeting_id", "attribute_id"):
        by_id[meeting_id].attributes.append(attribute_id)
    used = {pk for row in rows for pk in row.attributes}
    vocabulary = {a.pk: a for a in Attribute.objects.filter(pk__in=used)}
    fellowships = {
        pk: (name, approach, family)
        for pk, name, approach, family in Fellowship.objects.filter(
            pk__in={row.fellowship_id for row in rows}
        ).values_list("id", "name", "approach", "family_focused")
    }
    printed = [
        LAYOUT_VERSION,
        _definition(booklet),
        [list(vars(row).values()) for row in rows],
        sorted(fellowships.items()),
        sorted(
            (pk, a.slug, a.name, a.translations, a.category, a.language_code) for pk, a in vocabulary.items()
        ),
    ]
    digest = hashlib.sha256(json.dumps(printed, default=str, sort_keys=True).encode()).hexdigest()
    return Gathered(rows, fellowships, vocabulary, token, digest)


@dataclass
class Entry:
    """A meeting as printed."""

    number: int
    name: str
    fellowship: str
    group: str
    day: int | None
    start: time | None
    when: str
    own_time: str
    town: str
    place: str
    place_notes: str
    approximate: bool
    hybrid: bool
    phone: str
    phone_notes: str
    link: str
    details: list[str]
    languages: list[str]
    moud: str
    page: str
    qr: str


@dataclass
class Day:
    label: str
    entries: list[Entry]


@dataclass
class Section:
    key: str
    title: str
    intro: str
    fellowships: list[str]
    days: list[Day]
    by_appointment: list[Entry]
    count: int


def area_zone(rows: Iterable[Row]) -> ZoneInfo:
    """The zone most of the area's meetings keep: the one its times are printed in."""
    zones = Counter(row.timezone for row in rows if row.timezone)
    return zone(zones.most_common(1)[0][0] if zones else "")


def booklet_locale(language: str, rows: list[Row]) -> str:
    """The locale dates and times are formatted in: the booklet's language, as written where it is used."""
    if language != "en":
        return language
    countries = Counter((row.country or "").strip().casefold() for row in rows if row.country)
    country = countries.most_common(1)[0][0] if countries else ""
    return ENGLISH_BY_COUNTRY.get(country, language)


def clock(moment: time) -> str:
    """ "7 p.m." / "19:00" in the active locale, never broken across two lines."""
    return time_format(moment, "TIME_FORMAT").replace(" ", "\u00a0")


def zone_city(tz: ZoneInfo) -> str:
    """ "New York" for America/New_York: how people name a zone."""
    return tz.key.rsplit("/", 1)[-1].replace("_", " ")


@lru_cache(maxsize=QR_CODES_KEPT)
def qr_data_uri(url: str) -> str:
    """A QR code of `url` as a PNG data URI, two pixels a module (printed at a fixed size).

    Kept per process: a meeting's address never changes, and choosing the best of the eight
    masks (for a code phones read easily) is most of the cost, so a worker's rebuilds pay it once."""
    # Imported here: only builds need it.
    import segno

    buffer = io.BytesIO()
    segno.make(url, error="m", micro=False).save(buffer, kind="png", scale=2, border=0)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


class Composer:
    """Rows into printed entries, in the active language."""

    def __init__(self, booklet: Booklet, gathered: Gathered, tz: ZoneInfo, now: datetime) -> None:
        self.booklet = booklet
        self.gathered = gathered
        self.tz = tz
        self.now = now
        self.day_names = dict(WEEKDAYS)

    def times(self, row: Row) -> tuple[int | None, time | None, str, str]:
        """Weekday, start, "7 p.m. to 8 p.m." in the area's zone, and the meeting's own time if it differs."""
        if row.weekday is None or row.start_time is None:
            # Under the "By appointment" heading: the narrow time column only says what to do.
            return None, None, _("Ask the group for times."), ""
        own_zone = zone(row.timezone)
        start = next_occurrence(row.weekday, row.start_time, row.timezone, self.now, grace=timedelta(0))
        local = start.astimezone(self.tz)
        end = None
        if row.end_time is not None:
            finish = datetime.combine(start.date(), row.end_time, tzinfo=own_zone)
            if finish <= start:
                finish += timedelta(days=1)
            end = finish.astimezone(self.tz).time()
        text = clock(local.time())
        if end is not None:
            text = _("%(start)s to %(end)s") % {"start": text, "end": clock(end)}
        own = ""
        if own_zone.key != self.tz.key and local.utcoffset() != start.utcoffset():
            own = _("%(day)s %(time)s %(city)s time") % {
                "day": self.day_names[str(row.weekday)],
                "time": clock(row.start_time),
                "city": zone_city(own_zone),
            }
        return (local.weekday() + 1) % 7, local.time(), text, own

    def entry(self, row: Row) -> Entry:
        language = self.booklet.language
        name, _approach, family = self.gathered.fellowships[row.fellowship_id]
        attributes = [self.gathered.vocabulary[pk] for pk in row.attributes if pk in self.gathered.vocabulary]
        day, start, when, own = self.times(row)
        page = settings.SITE_URL + reverse("directory:meeting_short", args=[row.id])
        address = row.formatted_address or ", ".join(
            part for part in (row.address, row.city, row.postal_code) if part
        )
        # Feeds often begin the address with the place's name already.
        named = row.location_name and not address.startswith(row.location_name)
        place = ", ".join(part for part in (row.location_name if named else "", address) if part)
        notes = " ".join((row.location_notes or "").split())
        if len(notes) > LOCATION_NOTES_MAX:
            notes = notes[: LOCATION_NOTES_MAX - 1].rsplit(" ", 1)[0] + "…"
        regions = (row.region_path or "").split(" > ")
        return Entry(
            number=row.id,
            name=row.name,
            fellowship=name,
            group=row.group_name if row.group_name and row.group_name != row.name else "",
            day=day,
            start=start,
            when=when,
            own_time=own,
            town=row.city or regions[-1],
            place=place,
            place_notes=notes,
            approximate=bool(row.approximate),
            hybrid=row.attendance_mode == AttendanceMode.HYBRID,
            phone=row.conference_phone,
            phone_notes=" ".join(row.conference_phone_notes.split()),
            link=row.conference_url,
            details=sorted(a.name_in(language) for a in attributes if a.category in DESCRIBED),
            languages=sorted(
                a.name_in(language)
                for a in attributes
                if a.category == "language" and a.language_code and a.language_code != language[:2]
            ),
            moud="" if family else str(MOUD_TEXT.get(MoudStance(row.moud_stance), "")),
            page=page.split("://", 1)[-1],
            qr=qr_data_uri(page),
        )

    def week_order(self) -> list[int]:
        first = int(get_format("FIRST_DAY_OF_WEEK"))
        return [(first + i) % 7 for i in range(7)]

    def by_kind(self, rows: list[Row]) -> dict[str, list[Entry]]:
        kinds: dict[str, list[Entry]] = {}
        for row in rows:
            _name, approach, family = self.gathered.fellowships[row.fellowship_id]
            kinds.setdefault(kind_of(approach, family), []).append(self.entry(row))
        order = {day: i for i, day in enumerate(self.week_order())}
        for entries in kinds.values():
            entries.sort(
                key=lambda e: (
                    e.day is None,
                    order.get(e.day, 7) if e.day is not None else 7,
                    e.start,
                    e.town,
                    e.name,
                )
            )
        return kinds

    def sections(self) -> tuple[list[Section], list[Section]]:
        """Sections of meetings in person (and hybrid), and the online section's kinds."""
        rows = self.gathered.rows
        in_person = self.by_kind([r for r in rows if r.attendance_mode != AttendanceMode.ONLINE])
        online = self.by_kind([r for r in rows if r.attendance_mode == AttendanceMode.ONLINE])
        return self._sections(in_person, by_day=True), self._sections(online, by_day=False)

    def _sections(self, kinds: dict[str, list[Entry]], *, by_day: bool) -> list[Section]:
        sections = []
        for key, title, intro in KINDS:
            entries = kinds.get(key)
            if not entries:
                continue
            timed = [e for e in entries if e.day is not None]
            days = []
            if by_day:
                for day in self.week_order():
                    on_day = [e for e in timed if e.day == day]
                    if on_day:
                        days.append(Day(str(self.day_names[str(day)]), on_day))
            else:
                for entry in timed:
                    entry.when = f"{self.day_names[str(entry.day)]}, {entry.when}"
                days = [Day("", timed)] if timed else []
            sections.append(
                Section(
                    key=f"{'online-' if not by_day else ''}{key}",
                    title=str(title),
                    intro=str(intro),
                    fellowships=sorted({e.fellowship for e in entries}),
                    days=days,
                    by_appointment=[e for e in entries if e.day is None],
                    count=len(entries),
                )
            )
        return sections


def css_string(text: str) -> str:
    """`text` as a CSS string literal, every character that could end it escaped."""
    return '"' + "".join(c if c.isalnum() or c in " .,:;-()" else f"\\{ord(c):x} " for c in text) + '"'


def css_content(text: str, counters: dict[str, str]) -> SafeString:
    """A translated sentence with placeholders ("Page %(page)s of %(pages)s") as a CSS `content`
    value, each placeholder replaced by a CSS expression (counter(page))."""
    parts = re.split(r"%\((\w+)\)s", text)
    # re.split alternates text and placeholder names.
    values = [counters[part] if i % 2 else css_string(part) for i, part in enumerate(parts) if part]
    return mark_safe(" ".join(values))  # noqa: S308 -- built from escaped strings and our own counters


def compose(booklet: Booklet, gathered: Gathered, now: datetime) -> dict[str, Any]:
    """The template's context, in the booklet's language (call inside translation.override)."""
    tz = area_zone(gathered.rows)
    composer = Composer(booklet, gathered, tz, now)
    in_person, online = composer.sections()
    built_on = date_format(now.astimezone(tz).date(), "DATE_FORMAT")
    return {
        "booklet": booklet,
        "in_person": in_person,
        "online": online,
        "online_count": sum(s.count for s in online),
        "phone_count": sum(1 for s in online for d in s.days for e in d.entries if e.phone)
        + sum(1 for s in online for e in s.by_appointment if e.phone),
        "meeting_count": len(gathered.rows),
        "zone_city": zone_city(tz),
        "built_on": built_on,
        "site": settings.SITE_URL.split("://", 1)[-1],
        "page_size": "letter" if booklet.paper == PaperSize.LETTER else "A4",
        "margin_font": "14pt" if booklet.large_print else "8.5pt",
        "footer_built": css_content(_("Built on %(date)s") % {"date": built_on}, {}),
        "footer_page": css_content(
            _("Page %(page)s of %(pages)s"), {"page": "counter(page)", "pages": "counter(pages)"}
        ),
    }


def render_html(booklet: Booklet, gathered: Gathered, now: datetime) -> str:
    # "en-gb" speaks English (its words fall back to the English catalogue) and writes dates the British way.
    locale = booklet_locale(booklet.language, gathered.rows)
    with translation.override(locale):
        context = compose(booklet, gathered, now)
        return render_to_string("directory/booklet/booklet.html", {**context, "locale": locale})


@dataclass
class Built:
    pdf: bytes
    pages: int
    meetings: int
    fingerprint: str
    token: int | None
    extent: tuple[float, float, float, float] | None


def extent_of(booklet: Booklet, rows: Iterable[Row]) -> tuple[float, float, float, float] | None:
    """South, west, north and east of the area: the rectangle itself, or around its meetings."""
    edges = [edge for edge in (booklet.south, booklet.west, booklet.north, booklet.east) if edge is not None]
    if booklet.area_kind == AreaKind.BOX and len(edges) == 4:
        return (edges[0], edges[1], edges[2], edges[3])
    points = [(r.latitude, r.longitude) for r in rows if r.latitude is not None and r.longitude is not None]
    if not points:
        return None
    lats = [lat for lat, _lon in points]
    lons = [lon for _lat, lon in points]
    return (min(lats), min(lons), max(lats), max(lons))


def render_pdf(html: str) -> tuple[bytes, int]:
    """The PDF and its page count: PDF/UA-1, so the PDF is tagged (structure tree, language, title)."""
    # Imported here so the rest of the site runs on a machine without pango.
    from weasyprint import HTML

    document = HTML(string=html).render(pdf_variant="pdf/ua-1")
    pdf: bytes = document.write_pdf(pdf_variant="pdf/ua-1")
    return pdf, len(document.pages)


def build(booklet: Booklet, now: datetime | None = None, gathered: Gathered | None = None) -> Built:
    gathered = gathered or gather(booklet)
    pdf, pages = render_pdf(render_html(booklet, gathered, now or timezone.now()))
    return Built(
        pdf,
        pages,
        len(gathered.rows),
        gathered.fingerprint,
        gathered.token,
        extent_of(booklet, gathered.rows),
    )


# ---------------------------------------------------------------- serving


@dataclass
class Freshness:
    current: bool
    token: int | None
    fingerprint: str
    meetings: int
    # The token moved but the area prints the same: the stored PDF stands for the new token too.
    confirm_token: bool = False


def freshness(booklet: Booklet) -> Freshness:
    """Whether the stored PDF prints what the directory holds now (a query while nothing changed)."""
    token = version.current_token()
    if booklet.built_fingerprint and token is not None and token == booklet.built_token:
        return Freshness(True, token, booklet.built_fingerprint, booklet.meeting_count)
    gathered = gather(booklet)
    current = gathered.fingerprint == booklet.built_fingerprint
    return Freshness(current, gathered.token, gathered.fingerprint, len(gathered.rows), confirm_token=current)


def needs_queueing(booklet: Booklet, fingerprint: str, now: datetime) -> bool:
    """Whether a rebuild for `fingerprint` is not already waiting in the queue."""
    if booklet.rebuild_queued_for != fingerprint or booklet.rebuild_queued_at is None:
        return True
    return now - booklet.rebuild_queued_at > REQUEUE_AFTER


def etag(booklet: Booklet) -> str:
    return f'"{booklet.built_fingerprint[:40]}"'


def booklet_by_slug(slug: str) -> Booklet | None:
    return Booklet.objects.defer("pdf").filter(slug=slug).first()


def booklet_by_id(booklet_id: int) -> Booklet | None:
    return Booklet.objects.defer("pdf").filter(pk=booklet_id).first()


def stored_pdf(booklet: Booklet) -> bytes | None:
    value = Booklet.objects.filter(pk=booklet.pk).values_list("pdf", flat=True).first()
    return None if value is None else bytes(value)


def all_booklets() -> QuerySet[Booklet]:
    return Booklet.objects.defer("pdf").order_by("title", "language", "large_print")


def reader_first(found: Iterable[Booklet], language: str) -> list[Booklet]:
    """Booklets in the reader's own language first, then the others, each by area."""
    return sorted(found, key=lambda b: (b.language != language[:2], b.title, b.language, b.large_print))


def booklets_for_place(latitude: float | None, longitude: float | None) -> list[Booklet]:
    """Booklets whose area reaches the place: for the finder's link to a printed list."""
    if latitude is None or longitude is None:
        return []
    return list(
        all_booklets().filter(
            extent_south__lte=latitude,
            extent_north__gte=latitude,
            extent_west__lte=longitude,
            extent_east__gte=longitude,
        )
    )
