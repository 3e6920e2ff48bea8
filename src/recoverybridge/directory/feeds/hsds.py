"""Open Referral HSDS 3.0 JSON (services with schedules and locations) to MeetingRecords.

A meeting is a service's weekly schedule at one place: each schedule gives one
record per weekday, at each of the service's physical locations it applies to,
or online (a virtual location, or a service with no location at all). Source
keys are "service_id#schedule_id#DAY" ("#location" is added before the day
when one service-wide schedule covers several places).

HSDS describes every kind of service, so a service becomes meetings only when its
type or a taxonomy term says it is a meeting (MEETING_CODES, MEETING_WORDS; our
own export marks its services "mutual-aid-meeting"). Counselling, treatment and
the rest become ServiceRecords, each with a category from CATEGORY_RULES (the
first whose words or codes its type or terms carry; "other" when none does),
counted in the import report. A schedule outside its
validity dates (valid_from, valid_to, until) is dropped, and counted too. A
place whose coordinates are impossible refuses the meetings held there, with
the reason, not the service's other meetings.

HSDS gives time zones as numeric UTC offsets, which cannot say when daylight
saving starts; unless a schedule or location carries an IANA name, the record
has no zone and the pipeline derives it from the coordinates. Times are read as
the meeting's wall-clock time: publishers write local times, and an offset
suffix ("19:00-05:00") only restates the zone.
"""

import re
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

from .records import FeedError, LocationRecord, MeetingRecord, ParsedFeed, Rejection, ServiceRecord
from .values import NotACoordinate, coordinate, text, wall_clock, zone

DAYS = {"SU": 0, "MO": 1, "TU": 2, "WE": 3, "TH": 4, "FR": 5, "SA": 6}
# The term our own export gives every meeting's service (its kind, not an attribute).
MEETING_TERM = "mutual-aid-meeting"
# Terms our own export uses to carry a value or a kind rather than name an attribute.
VALUE_TERMS = {"timezone", "moud-stance", MEETING_TERM}
# Taxonomy codes and words (in a service's type, or a term's code or name) that say "a meeting".
MEETING_CODES = {MEETING_TERM, "meeting", "mutual-aid", "support-group", "self-help-group"}
MEETING_WORDS = re.compile(
    r"\b(meetings?|support groups?|mutual (aid|support)|self[- ]help groups?|(12|twelve)[- ]step)\b",
    re.IGNORECASE,
)
NOT_A_MEETING = "services that are not meetings (no meeting type or taxonomy term), kept as services"
SERVICE_NO_NAME = "services that are not meetings with no name, left out"
SERVICE_BAD_PLACE = "services kept without their location's coordinates (impossible values)"
# Our own export's taxonomy for a service's category: the term code is the category itself.
SERVICE_CATEGORY_TAXONOMY = "recoverybridge-service-category"
OTHER = "other"
# Most specific first: a detox unit is also treatment, a methadone clinic also treatment.
CATEGORY_RULES: list[tuple[str, re.Pattern[str]]] = [
    (
        "moud-prescriber",
        re.compile(
            r"\b(moud|mat|otp|medications? for opioid use|medication[- ]assisted|buprenorphine|"
            r"methadone|naltrexone|suboxone|opioid treatment programs?)\b",
            re.IGNORECASE,
        ),
    ),
    ("detox", re.compile(r"\b(detox\w*|withdrawal management)\b", re.IGNORECASE)),
    (
        "harm-reduction",
        re.compile(
            r"\b(harm reduction|naloxone|narcan|syringe services?|needle exchange|fentanyl test\w*)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "recovery-housing",
        re.compile(
            r"\b(recovery (housing|residences?|homes?)|sober (living|houses?|homes?)|halfway houses?|"
            r"oxford houses?)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "recovery-community",
        re.compile(
            r"\b(recovery community (organi[sz]ations?|cent(er|re)s?)|rco|peer recovery( support)?)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "treatment",
        re.compile(
            r"\b(treatment|rehab\w*|substance (use|abuse)|addiction|(in|out)patient|residential)\b",
            re.IGNORECASE,
        ),
    ),
]
CATEGORIES = [category for category, _ in CATEGORY_RULES] + [OTHER]
OUT_OF_DATE = "schedules outside their validity dates, left out"


@dataclass
class Venue:
    """A service_at_location: where, and in which way, a service meets."""

    id: str
    location_id: str
    virtual: bool
    entries: list[dict[str, Any]]  # the service_at_location and its location, for codes and phones
    location: LocationRecord | None = None
    problem: str = ""  # why meetings here cannot be used (impossible coordinates)
    url: str = ""
    timezone: str = ""


@dataclass
class Plan:
    schedule: dict[str, Any]
    venues: list[Venue] = field(default_factory=list)


class Rejected(Exception):
    pass


def parse(data: Any, *, today: date | None = None) -> ParsedFeed:
    """Read a list of compiled services, an HSDS API page ({"contents": [...]}) or {"services": [...]}.

    `today` decides which schedules are in force (default: the current date).
    """
    today = today or date.today()
    records: list[MeetingRecord] = []
    rejections: list[Rejection] = []
    notes: Counter[str] = Counter()
    seen: set[str] = set()
    services: list[ServiceRecord] = []
    for index, service in enumerate(_services(data)):
        service_id = text(service.get("id")) if isinstance(service, dict) else ""
        if not service_id:
            rejections.append(Rejection(key=f"#{index + 1}", reason="not a service object with an id"))
            continue
        if service_id in seen:
            rejections.append(Rejection(key=service_id, reason="service id appears twice in the feed"))
            continue
        seen.add(service_id)
        if not is_meeting(service):
            notes[NOT_A_MEETING] += 1
            kept = service_record(service_id, service, notes)
            if kept:
                services.append(kept)
            continue
        _service(service_id, service, records, rejections, notes, today)
    return ParsedFeed(records=records, rejections=rejections, notes=notes, services=services)


def kinds_of(service: dict[str, Any]) -> list[str]:
    """The service's type and its attributes' taxonomy term codes and names (but for our own
    export's category terms, which say what we made of them)."""
    kinds = [text(service.get("type"))]
    for attribute in _dicts(service.get("attributes")):
        term = attribute.get("taxonomy_term")
        if isinstance(term, dict) and text(term.get("taxonomy")) != SERVICE_CATEGORY_TAXONOMY:
            kinds += [text(term.get("code")), text(term.get("name"))]
    return [kind for kind in kinds if kind]


def category_of(service: dict[str, Any]) -> str:
    """Our category of a service from its type and taxonomy terms (never its free text)."""
    for attribute in _dicts(service.get("attributes")):
        term = attribute.get("taxonomy_term")
        if (
            isinstance(term, dict)
            and text(term.get("taxonomy")) == SERVICE_CATEGORY_TAXONOMY
            and text(term.get("code")) in CATEGORIES
        ):
            return text(term.get("code"))
    kinds = kinds_of(service)
    for category, words in CATEGORY_RULES:
        if any(kind.lower() == category or words.search(kind.replace("-", " ")) for kind in kinds):
            return category
    return OTHER


def service_record(service_id: str, service: dict[str, Any], notes: Counter[str]) -> ServiceRecord | None:
    """A service that is not a meeting, with the HSDS fields a referral needs."""
    name = text(service.get("name"))
    if not name:
        notes[SERVICE_NO_NAME] += 1
        return None
    organization = service.get("organization")
    organization = organization if isinstance(organization, dict) else {}
    entries = _dicts(service.get("service_at_locations"))
    places = [
        entry["location"]
        for entry in entries
        if isinstance(entry.get("location"), dict)
        and text(entry["location"].get("location_type")).lower() not in ("postal", "virtual")
    ]
    location = None
    location_id = ""
    if places:
        location_id = text(places[0].get("id"))
        try:
            location = _location(places[0], postal=True)
        except NotACoordinate:
            notes[SERVICE_BAD_PLACE] += 1
            location = _location({**places[0], "latitude": None, "longitude": None}, postal=True)
    phones = [service, *entries, organization]
    numbers = [
        text(phone.get("number")).strip('"')
        for entity in phones
        for phone in _dicts(entity.get("phones"))
        if text(phone.get("number"))
    ]
    schedules = _dicts(service.get("schedules")) + [s for e in entries for s in _dicts(e.get("schedules"))]
    languages = [text(item.get("code")).lower() for item in _dicts(service.get("languages"))]
    return ServiceRecord(
        hsds_id=service_id,
        name=name,
        category=category_of(service),
        organization_id=text(organization.get("id")) or text(service.get("organization_id")),
        organization_name=text(organization.get("name")),
        alternate_name=text(service.get("alternate_name")),
        description=text(service.get("description")),
        status=text(service.get("status")).lower() or "active",
        url=text(service.get("url")) or text(organization.get("website")),
        email=text(service.get("email")) or text(organization.get("email")),
        phones="\n".join(dict.fromkeys(numbers)),
        schedules="\n".join(dict.fromkeys(filter(None, map(schedule_text, schedules)))),
        taxonomy="\n".join(dict.fromkeys(kinds_of(service))),
        languages=",".join(dict.fromkeys(code for code in languages if len(code) == 2)),
        location=location,
        location_id=location_id,
        source_updated=_timestamp(service.get("last_modified")),
    )


def schedule_text(schedule: dict[str, Any]) -> str:
    """A schedule as a person reads it: its description, else its days and hours."""
    described = text(schedule.get("description"))
    if described:
        return described
    days = text(schedule.get("byday"))
    hours = "-".join(filter(None, (text(schedule.get("opens_at"))[:5], text(schedule.get("closes_at"))[:5])))
    return " ".join(filter(None, (days, hours)))


def is_meeting(service: dict[str, Any]) -> bool:
    """Whether the service's type or one of its taxonomy terms says it is a meeting."""
    return any(kind.lower() in MEETING_CODES or MEETING_WORDS.search(kind) for kind in kinds_of(service))


def in_force(schedule: dict[str, Any], today: date) -> bool:
    """False when the schedule has ended (valid_to, until) or not yet begun (valid_from)."""
    starts = _date(schedule.get("valid_from"))
    ends = [day for day in (_date(schedule.get("valid_to")), _date(schedule.get("until"))) if day]
    return not (starts and starts > today) and not any(end < today for end in ends)


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(text(value)[:10])
    except ValueError:
        return None


def _services(data: Any) -> list[Any]:
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        for key in ("contents", "services"):
            if isinstance(data.get(key), list):
                return list(data[key])
        if "id" in data and "name" in data:  # one service, as /services/{id} returns
            return [data]
    raise FeedError(
        "not HSDS 3.0 JSON: expected a list of services, an API page with 'contents' "
        "or an object with 'services'"
    )


def _service(
    service_id: str,
    service: dict[str, Any],
    records: list[MeetingRecord],
    rejections: list[Rejection],
    notes: Counter[str],
    today: date,
) -> None:
    status = text(service.get("status")).lower()
    if status in ("inactive", "defunct"):
        rejections.append(Rejection(key=service_id, reason=f"service status is {status}"))
        return
    name = text(service.get("name"))
    if not name:
        rejections.append(Rejection(key=service_id, reason="service has no name"))
        return
    entries = _dicts(service.get("service_at_locations"))
    if not _dicts(service.get("schedules")) and not any(_dicts(e.get("schedules")) for e in entries):
        rejections.append(Rejection(key=service_id, reason="service has no schedules"))
        return
    venues = [venue for venue in map(_venue, entries) if venue]
    plans = _plans(service_id, service, venues, rejections)
    current = [plan for plan in plans if in_force(plan.schedule, today)]
    notes[OUT_OF_DATE] += len(plans) - len(current)
    plans = current
    closed = status == "temporarily closed"
    codes = _codes(service) + (["temporarily-closed"] if closed else [])
    for number, plan in enumerate(plans, start=1):
        schedule_id = text(plan.schedule.get("id")) or f"schedule-{number}"
        base = f"{service_id}#{schedule_id}"
        try:
            days = _weekdays(plan.schedule)
            start = wall_clock(plan.schedule.get("opens_at"))
            if start is None:
                raise Rejected(f"opens_at {text(plan.schedule.get('opens_at'))!r} is not a time of day")
            end = None
            if text(plan.schedule.get("closes_at")):
                end = wall_clock(plan.schedule.get("closes_at"))
                if end is None:
                    raise Rejected(f"closes_at {text(plan.schedule.get('closes_at'))!r} is not a time of day")
            meetings = _meetings(service, plan)
        except Rejected as rejected:
            rejections.append(Rejection(key=base, reason=str(rejected)))
            continue
        for venue, template in meetings:
            # One schedule fanned out over several places needs the place in its key.
            place = f"#{venue.id}" if venue and len(meetings) > 1 else ""
            if venue and venue.problem:
                # A place that cannot be put on the map refuses the meetings held there, saying why.
                rejections.append(Rejection(key=f"{base}{place}", reason=venue.problem))
                continue
            email = text(service.get("email"))
            for day in days:
                records.append(
                    replace(
                        template,
                        source_key=f"{base}{place}#{day}",
                        name=name,
                        group_name=text(service.get("alternate_name")),
                        weekday=DAYS[day],
                        start_time=start,
                        end_time=end,
                        timezone=_timezone(plan.schedule, venue),
                        location=replace(template.location) if template.location else None,
                        codes=list(
                            dict.fromkeys(codes + _attribute_codes(plan.schedule) + _venue_codes(venue))
                        ),
                        notes=_join(
                            text(service.get("description")),
                            text(plan.schedule.get("notes")),
                            f"Email: {email}" if email else "",
                        ),
                        source_updated=_timestamp(service.get("last_modified")),
                        # A closed venue: the pipeline's Meeting Guide rule makes it online or inactive.
                        attendance_mode="" if closed else template.attendance_mode,
                    )
                )


def _plans(
    service_id: str, service: dict[str, Any], venues: list[Venue], rejections: list[Rejection]
) -> list[Plan]:
    """Which schedule applies where: nested in a service_at_location, or linked to one by id."""
    plans: list[Plan] = []
    placed: set[tuple[str, str]] = set()
    for venue in venues:
        for schedule in _dicts(venue.entries[0].get("schedules")):
            plans.append(Plan(schedule, [venue]))
            placed.add((text(schedule.get("id")), venue.id))
    for schedule in _dicts(service.get("schedules")):
        schedule_id = text(schedule.get("id"))
        at, location_id = text(schedule.get("service_at_location_id")), text(schedule.get("location_id"))
        if at or location_id:
            targets = [
                v for v in venues if (at and v.id == at) or (location_id and v.location_id == location_id)
            ]
            if not targets:
                rejections.append(
                    Rejection(
                        key=f"{service_id}#{schedule_id}",
                        reason="schedule names a location the service does not list",
                    )
                )
                continue
        else:
            targets = venues  # a service-wide schedule holds at every place
        # Compiled exports may repeat a nested schedule at the service level.
        targets = [v for v in targets if (schedule_id, v.id) not in placed]
        if targets or not venues:
            plans.append(Plan(schedule, targets))
    return plans


def _meetings(service: dict[str, Any], plan: Plan) -> list[tuple[Venue | None, MeetingRecord]]:
    """The place and conference details of each meeting a schedule makes."""
    physical = [venue for venue in plan.venues if not venue.virtual]
    virtual = [venue for venue in plan.venues if venue.virtual]
    service_url = text(service.get("url"))
    website = text(service.get("url"))
    service_phone = _phone(service)
    if not plan.venues:
        # A service with no location meets online, if it says where.
        if not (service_url or service_phone):
            raise Rejected("no location, link or phone: nowhere to meet")
        organization = service.get("organization")
        website = text(organization.get("website")) if isinstance(organization, dict) else ""
        online = MeetingRecord(
            source_key="",
            name="",
            attendance_mode="online",
            conference_url=service_url,
            conference_phone=service_phone,
            website=website,
        )
        return [(None, online)]
    # The same schedule in a room and online is one hybrid meeting.
    link = virtual[0] if len(virtual) == 1 and physical else None
    meetings: list[tuple[Venue | None, MeetingRecord]] = []
    for venue in physical:
        meetings.append(
            (
                venue,
                MeetingRecord(
                    source_key="",
                    name="",
                    location=venue.location,
                    attendance_mode="hybrid" if link else "in_person",
                    conference_url=(link.url or service_url) if link else "",
                    conference_url_notes=text(link.entries[1].get("description")) if link else "",
                    conference_phone=(_phone(*link.entries) or service_phone) if link else "",
                    website=website,
                ),
            )
        )
    for venue in [] if link else virtual:
        meetings.append(
            (
                venue,
                MeetingRecord(
                    source_key="",
                    name="",
                    attendance_mode="online",
                    conference_url=venue.url or service_url,
                    conference_url_notes=text(venue.entries[1].get("description")),
                    conference_phone=_phone(*venue.entries) or service_phone,
                    website=website if venue.url else "",
                ),
            )
        )
    return meetings


def _venue(entry: dict[str, Any]) -> Venue | None:
    place = entry.get("location")
    if not isinstance(place, dict):
        return None
    kind = text(place.get("location_type")).lower()
    if kind == "postal":  # a mailing address, not somewhere to meet
        return None
    venue = Venue(
        id=text(entry.get("id")),
        location_id=text(place.get("id")) or text(entry.get("location_id")),
        virtual=kind == "virtual",
        entries=[entry, place],
        url=text(place.get("url")),
        # Not in HSDS 3.0, but some publishers add an IANA zone to locations.
        timezone=zone(place.get("timezone")),
    )
    if not venue.virtual:
        try:
            venue.location = _location(place)
        except NotACoordinate as problem:
            venue.problem = f"location {venue.location_id or venue.id}: {problem}"
    return venue


def _location(place: dict[str, Any], *, postal: bool = False) -> LocationRecord:
    """The place; `postal`: a postal address will do when it has no other (a service, not a meeting)."""
    addresses = _dicts(place.get("addresses"))
    physical = [a for a in addresses if text(a.get("address_type")).lower() == "physical"]
    meeting_place = [a for a in addresses if text(a.get("address_type")).lower() != "postal"]
    address = (physical or meeting_place or (addresses if postal else []) or [{}])[0]
    street = ", ".join(filter(None, (text(address.get("address_1")), text(address.get("address_2")))))
    city, state = text(address.get("city")), text(address.get("state_province"))
    postal_code, country = text(address.get("postal_code")), text(address.get("country"))
    latitude = coordinate(place.get("latitude"), 90, "latitude")
    longitude = coordinate(place.get("longitude"), 180, "longitude")
    if latitude is None or longitude is None or (latitude == 0 and longitude == 0):
        latitude = longitude = None
    return LocationRecord(
        name=text(place.get("name")),
        address=street,
        city=city,
        state=state,
        postal_code=postal_code,
        country=country,
        formatted_address=", ".join(
            part for part in (street, city, " ".join(filter(None, (state, postal_code))), country) if part
        ),
        latitude=latitude,
        longitude=longitude,
        # HSDS's own rule, not Meeting Guide's count of address parts: a physical
        # location with a street or coordinates is a place to go to.
        approximate=not (street or latitude is not None),
        regions=[text(address.get("region"))] if text(address.get("region")) else [],
        notes=_join(text(place.get("description")), text(place.get("transportation"))),
    )


def _timezone(schedule: dict[str, Any], venue: Venue | None) -> str:
    """An IANA zone the schedule or its place names; HSDS's own numeric offset is not one."""
    return (
        zone(schedule.get("timezone"))
        or zone(_attribute_value(schedule, "timezone"))
        or (venue.timezone if venue else "")
    )


def _weekdays(schedule: dict[str, Any]) -> list[str]:
    freq = text(schedule.get("freq")).upper()
    # A byday list without freq is read as weekly, as most hand-made data means it.
    if freq and freq != "WEEKLY":
        raise Rejected(f"freq {freq} is not weekly")
    interval = text(schedule.get("interval"))
    if interval and interval not in ("1", "1.0"):
        raise Rejected(f"interval {interval}: not every week")
    byday = text(schedule.get("byday"))
    if not byday:
        raise Rejected("no byday: the schedule names no weekday")
    days = [part.strip().upper() for part in byday.split(",") if part.strip()]
    if not days or any(day not in DAYS for day in days):
        raise Rejected(f"byday {byday!r} is not a list of weekdays (MO,TU,...)")
    return list(dict.fromkeys(days))


def _codes(service: dict[str, Any]) -> list[str]:
    codes = _attribute_codes(service)
    for language in _dicts(service.get("languages")):
        code = text(language.get("code")).lower()
        if len(code) == 2:  # ISO 639-1, as our language attributes
            codes.append(f"language-{code}")
    return codes


def _venue_codes(venue: Venue | None) -> list[str]:
    if venue is None:
        return []
    codes = [code for entry in venue.entries for code in _attribute_codes(entry)]
    for language in _dicts(venue.entries[1].get("languages")):
        code = text(language.get("code")).lower()
        if len(code) == 2:
            codes.append(f"language-{code}")
    return codes


def _attribute_codes(entity: dict[str, Any]) -> list[str]:
    """Taxonomy term codes of an entity's attributes (our attribute slugs, for our own export)."""
    codes = []
    for attribute in _dicts(entity.get("attributes")):
        code = _term_code(attribute)
        if code == "moud-stance":
            # Our export states the MOUD stance as a value; only "welcoming" is an attribute.
            if text(attribute.get("value")) == "welcoming":
                codes.append("moud-welcoming")
        elif code and code not in VALUE_TERMS:
            codes.append(code)
    return codes


def _attribute_value(entity: dict[str, Any], code: str) -> str:
    for attribute in _dicts(entity.get("attributes")):
        if _term_code(attribute) == code:
            return text(attribute.get("value"))
    return ""


def _term_code(attribute: dict[str, Any]) -> str:
    term = attribute.get("taxonomy_term")
    return text(term.get("code")) if isinstance(term, dict) else ""


def _phone(*entities: dict[str, Any]) -> str:
    for entity in entities:
        for phone in _dicts(entity.get("phones")):
            if text(phone.get("number")):
                return text(phone.get("number"))
    return ""


def _timestamp(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _join(*parts: str) -> str:
    return "\n\n".join(part for part in parts if part)
