"""BMLT semantic API JSON (`GetSearchResults`, `GetFormats`) to MeetingRecords.

BMLT root servers list NA meetings. Every value arrives as a string; weekday 1
is Sunday; a meeting names its formats by server-local ids, which `GetFormats`
resolves to NA World Services ids (`world_id`, the same on every server) and
the server's own key strings. The fellowship comes from the import, not from
the feed.

BMLT's own rule decides where a meeting is, not Meeting Guide's count of
address parts: BMLT keeps street, town, province and nation in separate fields,
and servers often leave all but the street out. A meeting is in person when it
has a street or coordinates and its venue is neither virtual nor temporarily
closed; venue_type, when the server sends it, says so outright.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from .records import FeedError, LocationRecord, MeetingRecord, ParsedFeed, Rejection
from .values import NotACoordinate, clock, coordinate, text, wall_clock, zone

VENUE_MODES = {"1": "in_person", "2": "online", "3": "hybrid"}
# Servers older than venue_type say it with these reserved formats.
MODE_CODES = {"VM": "online", "HY": "hybrid", "HYBR": "hybrid"}
# World ids naming two formats at once.
COMBINED_CODES = {"S-D": ("SPK", "DISC"), "SD": ("SPK", "DISC")}


@dataclass(frozen=True)
class Format:
    code: str  # the world id, else the key string, upper-cased
    keys: frozenset[str]  # its key strings in every language the server sent


class Rejected(Exception):
    pass


def parse(data: Any, formats: Any | None = None) -> ParsedFeed:
    """Read `GetSearchResults` (a list, or {"meetings", "formats"} from get_used_formats=1).

    `formats` is the server's `GetFormats` answer; without any formats, the
    meetings' own key strings are the codes.
    """
    meetings, embedded = _split(data)
    catalogue = _catalogue(embedded)
    if formats is not None:
        catalogue.update(_catalogue(_format_list(formats)))
    records: list[MeetingRecord] = []
    rejections: list[Rejection] = []
    seen: set[str] = set()
    for index, raw in enumerate(meetings):
        key = _key(raw) or f"#{index + 1}"
        try:
            if not isinstance(raw, dict):
                raise Rejected("not a meeting object")
            if not _key(raw):
                raise Rejected("no id_bigint")
            if key in seen:
                raise Rejected("id_bigint appears twice in the feed")
            seen.add(key)
            records.append(_meeting(key, raw, catalogue))
        except (Rejected, NotACoordinate) as rejected:
            rejections.append(Rejection(key=key, reason=str(rejected)))
    return ParsedFeed(records=records, rejections=rejections)


def _split(data: Any) -> tuple[list[Any], list[Any]]:
    if isinstance(data, list):
        return data, []
    if isinstance(data, dict) and isinstance(data.get("meetings"), list):
        embedded = data.get("formats")
        return data["meetings"], embedded if isinstance(embedded, list) else []
    raise FeedError(
        "not BMLT GetSearchResults JSON: expected a list of meetings or an object with a 'meetings' list"
    )


def _format_list(formats: Any) -> list[Any]:
    if isinstance(formats, list):
        return formats
    if isinstance(formats, dict) and isinstance(formats.get("formats"), list):
        return list(formats["formats"])
    raise FeedError("not BMLT GetFormats JSON: expected a list of formats")


def _catalogue(entries: list[Any]) -> dict[str, Format]:
    """Format id -> code; GetFormats repeats an id once per language."""
    worlds: dict[str, str] = {}
    keys: dict[str, list[tuple[str, str]]] = {}
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        format_id, key = text(entry.get("id")), text(entry.get("key_string"))
        if not format_id or not key:
            continue
        keys.setdefault(format_id, []).append((text(entry.get("lang")), key))
        world = text(entry.get("world_id")).upper()
        if world:
            worlds[format_id] = world
    catalogue = {}
    for format_id, translations in keys.items():
        english = [key for lang, key in translations if lang == "en"]
        own_key = (english or [translations[0][1]])[0].upper()
        world = worlds.get(format_id, "")
        # LANG only says "another language"; the key string says which ("ES").
        code = own_key if world in ("", "LANG") else world
        catalogue[format_id] = Format(code=code, keys=frozenset(key for _, key in translations))
    return catalogue


def _key(raw: Any) -> str:
    if not isinstance(raw, dict):
        return ""
    meeting_id = text(raw.get("id_bigint"))
    # An aggregator (tomato) mixes root servers whose ids collide.
    root = text(raw.get("root_server_id"))
    return f"{root}:{meeting_id}" if meeting_id and root else meeting_id


def _meeting(key: str, raw: dict[str, Any], catalogue: dict[str, Format]) -> MeetingRecord:
    if text(raw.get("published")) == "0":
        raise Rejected("unpublished")
    name = text(raw.get("meeting_name"))
    if not name:
        raise Rejected("no meeting_name")
    weekday = text(raw.get("weekday_tinyint"))
    if weekday not in {"1", "2", "3", "4", "5", "6", "7"}:
        raise Rejected(f"weekday_tinyint {weekday!r} is not 1 (Sunday) to 7 (Saturday)")
    start = wall_clock(raw.get("start_time"))
    if start is None:
        raise Rejected(f"start_time {text(raw.get('start_time'))!r} is not a time of day")
    codes = _codes(raw, catalogue)
    mode = VENUE_MODES.get(text(raw.get("venue_type")), "")
    if not mode:
        mode = next((MODE_CODES[code] for code in codes if code in MODE_CODES), "")
    location = _location(raw)
    if location is not None:
        # A street or coordinates make a place to go to, unless the meeting is only online
        # (its coordinates then mark a town, not a door). Said outright, so the pipeline does
        # not apply Meeting Guide's address rule to BMLT's separate fields.
        physical = bool(location.address) or location.latitude is not None
        location.approximate = not (location.address if mode == "online" else physical)
    if "TC" in codes:
        # A closed venue: the pipeline makes it online (with a link) or inactive.
        mode = ""
    link = text(raw.get("virtual_meeting_link"))
    link_is_url = link.lower().startswith(("https://", "http://"))
    return MeetingRecord(
        source_key=key,
        name=name,
        weekday=int(weekday) - 1,
        start_time=start,
        end_time=_end(start, raw.get("duration_time")),
        timezone=zone(raw.get("time_zone")),
        location=location,
        codes=[code for code in codes if code not in MODE_CODES],
        attendance_mode=mode,
        conference_url=link if link_is_url else "",
        conference_url_notes=_join(
            "" if link_is_url else link, text(raw.get("virtual_meeting_additional_info"))
        ),
        conference_phone=text(raw.get("phone_meeting_number")),
        notes=text(raw.get("comments")),
    )


def _codes(raw: dict[str, Any], catalogue: dict[str, Format]) -> list[str]:
    codes: list[str] = []
    covered: set[str] = set()
    for format_id in text(raw.get("format_shared_id_list")).split(","):
        known = catalogue.get(format_id.strip())
        if known:
            codes.append(known.code)
            covered |= known.keys
    # Key strings of formats the catalogue did not resolve (or all, without one).
    for key in text(raw.get("formats")).split(","):
        if key.strip() and key.strip() not in covered:
            codes.append(key.strip().upper())
    expanded = [part for code in codes for part in COMBINED_CODES.get(code, (code,))]
    return list(dict.fromkeys(expanded))


def _end(start: time, duration: Any) -> time | None:
    parts = clock(duration)
    if parts is None:
        return None
    length = timedelta(hours=parts[0], minutes=parts[1], seconds=parts[2])
    # No length, or a day or more ("24:00:00"), gives no useful end time.
    if not timedelta(0) < length < timedelta(days=1):
        return None
    return (datetime.combine(datetime.min, start) + length).time()


def _location(raw: dict[str, Any]) -> LocationRecord | None:
    latitude = coordinate(raw.get("latitude"), 90, "latitude")
    longitude = coordinate(raw.get("longitude"), 180, "longitude")
    # Virtual meetings often carry "0","0": no place at all.
    if latitude is None or longitude is None or (latitude == 0 and longitude == 0):
        latitude = longitude = None
    street = text(raw.get("location_street"))
    city = text(raw.get("location_municipality")) or text(raw.get("location_city_subsection"))
    state = text(raw.get("location_province"))
    postal_code = text(raw.get("location_postal_code_1"))
    country = text(raw.get("location_nation"))
    location = LocationRecord(
        name=text(raw.get("location_text")),
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
        regions=[part for part in (city, text(raw.get("location_neighborhood"))) if part],
        notes=text(raw.get("location_info")),
    )
    if not (location.name or location.formatted_address or latitude is not None):
        return None
    return location


def _join(*parts: str) -> str:
    return "\n".join(part for part in parts if part)
