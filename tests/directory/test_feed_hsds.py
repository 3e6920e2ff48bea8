"""HSDS 3.0: SMART Recovery Greater Boston publishes its meetings as an Open Referral API page.

It runs an in-person meeting in Cambridge, an online one twice a week, a hybrid
Family & Friends meeting written the way our own export writes it, a Saturday
meeting whose place names its IANA zone, a lunchtime Zoom with no location, a
Spanish-language meeting, a stopped service and a postal-only service, plus
schedules no weekly meeting can come from (monthly, fortnightly, "noon", no
day).
"""

import copy
import io
import json
import uuid
from datetime import UTC, datetime, time
from pathlib import Path

import pytest
from django.core.management import call_command
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from recoverybridge.directory.feeds import hsds
from recoverybridge.directory.feeds.records import FeedError, MeetingRecord, ParsedFeed
from recoverybridge.directory.models import AttendanceMode, AttributeMapping, ImportRun, Meeting
from recoverybridge.directory.vocabulary import ATTRIBUTES, FAMILY_CODES, hsds_codes

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "hsds" / "services.json"
SCHEMAS = Path(__file__).resolve().parents[1] / "standards" / "hsds-3.0" / "schema"
NS = uuid.UUID("6f1d7a38-9d52-4a0e-9d0b-6a1c2f0b5e11")  # the fixture's ids are uuid5 of readable names


def uid(*parts: str) -> str:
    return str(uuid.uuid5(NS, "/".join(parts)))


def key(service: str, schedule: str, day: str) -> str:
    return f"{uid('service', service)}#{uid('schedule', schedule)}#{day}"


@pytest.fixture
def page():
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


@pytest.fixture
def parsed(page) -> ParsedFeed:
    return hsds.parse(page)


def by_key(parsed: ParsedFeed) -> dict[str, MeetingRecord]:
    return {record.source_key: record for record in parsed.records}


def validator(schema_file: str) -> Draft202012Validator:
    """A validator for one HSDS schema file, its $refs to sibling files resolved."""
    schemas = {path.name: json.loads(path.read_text()) for path in SCHEMAS.glob("*.json")}
    registry: Registry = Registry().with_resources(
        (name, Resource.from_contents(schema, default_specification=DRAFT202012))
        for name, schema in schemas.items()
    )
    return Draft202012Validator(schemas[schema_file], registry=registry, format_checker=FormatChecker())


def test_the_fixture_is_valid_hsds(page):
    linked = validator("service.json")
    compiled = Draft202012Validator(json.loads((SCHEMAS / "compiled" / "service.json").read_text()))
    for service in page["contents"]:
        assert not list(linked.iter_errors(service)), service["name"]
        assert not list(compiled.iter_errors(service)), service["name"]
    # The schemas do check: a schedule's timezone must be a number.
    broken = copy.deepcopy(page["contents"][1])
    broken["schedules"][0]["timezone"] = "America/New_York"
    assert list(linked.iter_errors(broken))


def test_every_schedule_is_read_or_rejected_with_its_reason(parsed):
    assert len(parsed.records) == 7
    assert {(r.key, r.reason) for r in parsed.rejections} == {
        (
            f"{uid('service', 'somerville')}#{uid('schedule', 'somerville-monthly')}",
            "freq MONTHLY is not weekly",
        ),
        (
            f"{uid('service', 'lunchtime')}#{uid('schedule', 'lunch-fortnightly')}",
            "interval 2: not every week",
        ),
        (
            f"{uid('service', 'lunchtime')}#{uid('schedule', 'lunch-noon')}",
            "opens_at 'noon' is not a time of day",
        ),
        (
            f"{uid('service', 'lunchtime')}#{uid('schedule', 'lunch-noday')}",
            "no byday: the schedule names no weekday",
        ),
        (uid("service", "closed"), "service status is inactive"),
        (
            f"{uid('service', 'by-post')}#{uid('schedule', 'post-mon')}",
            "no location, link or phone: nowhere to meet",
        ),
    }


def test_an_in_person_meeting_field_by_field(parsed):
    record = by_key(parsed)[key("cambridge", "cambridge-tue", "TU")]
    assert record.name == "SMART Recovery Cambridge Tuesday"
    assert record.weekday == 2
    assert (record.start_time, record.end_time) == (time(18, 30), time(20, 0))
    assert record.timezone == ""  # no IANA zone anywhere: the pipeline derives one
    assert record.attendance_mode == "in_person"
    assert record.codes == ["open", "wheelchair-access", "language-en"]
    assert record.website == "https://smartrecovery.example.org/boston/cambridge"
    assert record.notes == (
        "A facilitated SMART Recovery meeting using the 4-Point Program.\n\n"
        "Arrive 10 minutes early to sign in.\n\n"
        "Email: cambridge@smartrecovery.example.org"
    )
    assert record.source_updated == datetime(2025, 3, 2, 14, 30, tzinfo=UTC)
    assert record.conference_url == record.conference_phone == ""
    place = record.location
    assert place is not None
    assert place.name == "Cambridge Public Library, Central Square Branch"
    assert (place.address, place.city, place.state) == ("45 Pearl Street", "Cambridge", "MA")
    assert (place.postal_code, place.country) == ("02139", "US")
    assert place.formatted_address == "45 Pearl Street, Cambridge, MA 02139, US"
    assert (place.latitude, place.longitude) == (42.3646, -71.1030)
    assert place.regions == ["Middlesex County"]
    assert place.notes == "Community room on the lower level.\n\nRed Line to Central Square."


def test_an_online_meeting_on_two_days_is_two_records_without_a_zone(parsed):
    records = by_key(parsed)
    monday = records[key("online-mw", "online-mw", "MO")]
    wednesday = records[key("online-mw", "online-mw", "WE")]
    assert (monday.weekday, wednesday.weekday) == (1, 3)
    for record in (monday, wednesday):
        assert (record.start_time, record.end_time) == (time(19, 0), time(20, 30))
        assert record.timezone == ""  # timezone -5 is an offset, not a place's rules
        assert record.attendance_mode == "online"
        assert record.location is None
        assert record.conference_url == "https://zoom.us/j/5551234567"
        assert record.conference_url_notes == "Meeting ID 555 123 4567, passcode SMART"
        assert record.website == "https://smartrecovery.example.org/boston/online"


def test_a_room_and_a_link_on_one_schedule_is_one_hybrid_meeting(parsed):
    records = [r for r in parsed.records if r.source_key.startswith(uid("service", "family-hybrid"))]
    assert [r.source_key for r in records] == [key("family-hybrid", "family-thu", "TH")]
    [record] = records
    assert record.attendance_mode == "hybrid"
    assert record.weekday == 4
    assert (record.start_time, record.end_time) == (time(19, 0), time(20, 30))  # "19:00-05:00"
    assert record.timezone == "America/New_York"  # our export's timezone attribute
    assert record.location is not None and record.location.city == "Brookline"
    assert record.conference_url == "https://meet.example.org/smart-family"
    assert record.conference_url_notes == "Camera optional."
    assert record.conference_phone == "+1 617 555 0142"
    assert record.group_name == "Brookline Family & Friends Group"
    assert record.codes == ["moud-welcoming", "childcare"]


def test_a_place_may_name_its_iana_zone(parsed):
    record = by_key(parsed)[key("somerville", "somerville-sat", "SA")]
    assert record.weekday == 6
    assert record.timezone == "America/New_York"
    assert record.location is not None
    assert (record.location.latitude, record.location.longitude) == (42.3967, -71.1223)


def test_string_coordinates_are_read_and_impossible_ones_refuse_the_meetings_there(page):
    service = copy.deepcopy(page["contents"][0])
    entry = service["service_at_locations"][0]
    place = entry["location"]
    place["latitude"], place["longitude"] = "42.3646", "-71.1030"
    [record] = hsds.parse([service]).records
    assert record.location is not None
    assert (record.location.latitude, record.location.longitude) == (42.3646, -71.1030)
    place["latitude"], place["longitude"] = 142.0, "east"
    refused = hsds.parse([service])
    assert refused.records == []
    assert [(r.key, r.reason) for r in refused.rejections] == [
        (
            f"{service['id']}#{entry['schedules'][0]['id']}",
            f"location {place['id']}: latitude 142.0 is outside -90 to 90",
        )
    ]


def test_a_room_with_impossible_coordinates_does_not_take_the_other_room_with_it(page):
    service = copy.deepcopy(page["contents"][0])
    entry = service["service_at_locations"][0]
    schedule = entry.pop("schedules")[0]
    second = copy.deepcopy(entry)
    second["id"] = uid("sal", "second-room")
    second["location"]["id"] = uid("location", "second-room")
    second["location"]["longitude"] = -200
    service["service_at_locations"].append(second)
    service["schedules"] = [schedule]
    parsed = hsds.parse([service])
    base = f"{service['id']}#{schedule['id']}"
    assert [r.source_key for r in parsed.records] == [f"{base}#{entry['id']}#TU"]
    assert [(r.key, r.reason) for r in parsed.rejections] == [
        (
            f"{base}#{second['id']}",
            f"location {second['location']['id']}: longitude -200 is outside -180 to 180",
        )
    ]


def test_a_service_with_no_place_meets_at_its_url(parsed):
    record = by_key(parsed)[key("lunchtime", "lunch-fri", "FR")]
    assert record.attendance_mode == "online"
    assert record.location is None
    assert record.conference_url == "https://zoom.us/j/5559876543"
    assert record.website == "https://smartrecovery.example.org/boston"  # the organization's
    assert (record.weekday, record.start_time, record.end_time) == (5, time(12, 0), time(12, 45))


def test_languages_become_language_codes_once(parsed):
    record = by_key(parsed)[key("chelsea", "chelsea-thu", "TH")]
    assert record.codes == ["language-es"]


def test_one_service_wide_schedule_at_two_rooms_is_keyed_by_room(page):
    service = copy.deepcopy(page["contents"][0])
    entry = service["service_at_locations"][0]
    schedule = entry.pop("schedules")[0]
    second = copy.deepcopy(entry)
    second["id"] = uid("sal", "second-room")
    second["location"]["id"] = uid("location", "second-room")
    service["service_at_locations"].append(second)
    service["schedules"] = [schedule]
    parsed = hsds.parse([service])
    base = f"{service['id']}#{schedule['id']}"
    assert [r.source_key for r in parsed.records] == [f"{base}#{entry['id']}#TU", f"{base}#{second['id']}#TU"]
    assert {r.attendance_mode for r in parsed.records} == {"in_person"}


def test_a_schedule_repeated_at_service_level_is_read_once(page):
    service = copy.deepcopy(page["contents"][0])
    nested = service["service_at_locations"][0]["schedules"][0]
    service["schedules"] = [{**nested, "service_at_location_id": service["service_at_locations"][0]["id"]}]
    assert len(hsds.parse([service]).records) == 1


def test_schedules_and_services_that_cannot_be_used(page):
    cambridge = page["contents"][0]
    bad_close = copy.deepcopy(cambridge)
    bad_close["service_at_locations"][0]["schedules"][0]["closes_at"] = "8pm"
    elsewhere = copy.deepcopy(page["contents"][3])
    elsewhere["id"] = uid("service", "elsewhere")
    elsewhere["schedules"][0]["location_id"] = uid("location", "nowhere")
    del elsewhere["schedules"][1]
    no_schedules = {
        "id": uid("service", "empty"),
        "name": "Empty",
        "status": "active",
        "attributes": cambridge["attributes"][-1:],  # a meeting, by its taxonomy term
    }
    parsed = hsds.parse(["junk", bad_close, cambridge, elsewhere, no_schedules])
    assert parsed.records == []
    assert [(r.key, r.reason) for r in parsed.rejections] == [
        ("#1", "not a service object with an id"),
        (
            f"{cambridge['id']}#{uid('schedule', 'cambridge-tue')}",
            "closes_at '8pm' is not a time of day",
        ),
        (cambridge["id"], "service id appears twice in the feed"),
        (
            f"{elsewhere['id']}#{uid('schedule', 'somerville-sat')}",
            "schedule names a location the service does not list",
        ),
        (no_schedules["id"], "service has no schedules"),
    ]


def test_a_byday_that_is_not_weekdays_is_rejected(page):
    service = copy.deepcopy(page["contents"][0])
    service["service_at_locations"][0]["schedules"][0]["byday"] = "TU,2WE"
    [rejection] = hsds.parse([service]).rejections
    assert rejection.reason == "byday 'TU,2WE' is not a list of weekdays (MO,TU,...)"


def test_a_byday_without_freq_is_weekly(page):
    service = copy.deepcopy(page["contents"][0])
    del service["service_at_locations"][0]["schedules"][0]["freq"]
    assert [r.weekday for r in hsds.parse([service]).records] == [2]


def test_a_list_a_services_object_and_one_service_read_alike(page, parsed):
    keys = [r.source_key for r in parsed.records]
    assert [r.source_key for r in hsds.parse(page["contents"]).records] == keys
    assert [r.source_key for r in hsds.parse({"services": page["contents"]}).records] == keys
    single = hsds.parse(page["contents"][0])
    assert [r.source_key for r in single.records] == [key("cambridge", "cambridge-tue", "TU")]


@pytest.mark.parametrize("data", [{"organizations": []}, "services", 7, None, {"contents": {"id": "x"}}])
def test_a_feed_of_the_wrong_shape_fails_as_a_whole(data):
    with pytest.raises(FeedError, match=r"not HSDS 3\.0 JSON"):
        hsds.parse(data)


@pytest.mark.django_db
def test_every_attribute_slug_is_an_hsds_code_after_migrations():
    mappings = dict(
        AttributeMapping.objects.filter(source_system="hsds", fellowship=None).values_list(
            "code", "attribute__slug"
        )
    )
    assert mappings == dict(hsds_codes())
    # Every slug is its own code (our export reads back), and others' family term is known too.
    assert set(mappings) == {slug for slug, *_ in ATTRIBUTES} | set(FAMILY_CODES["hsds"])
    assert all(code == slug for code, slug in mappings.items() if code not in FAMILY_CODES["hsds"])
    assert mappings["family"] == "family-and-friends"


@pytest.mark.django_db
def test_every_code_in_the_fixture_is_known(parsed):
    known = set(AttributeMapping.objects.filter(source_system="hsds").values_list("code", flat=True))
    codes = {code for record in parsed.records for code in record.codes}
    assert codes and codes <= known


def test_a_temporarily_closed_service_leaves_the_mode_to_the_pipeline(page):
    service = copy.deepcopy(page["contents"][0])
    service["status"] = "temporarily closed"
    [record] = hsds.parse([service]).records
    assert record.attendance_mode == ""
    assert record.codes[-1] == "temporarily-closed"


def import_boston() -> str:
    out = io.StringIO()
    call_command(
        "import_feed",
        str(FIXTURE),
        format="hsds",
        source="smart-boston",
        fellowship="smart",
        timezone="America/New_York",  # for the online meetings, which have no place
        no_progress=True,
        stdout=out,
    )
    return out.getvalue()


def meeting(service: str, schedule: str, day: str) -> Meeting:
    return Meeting.objects.get(
        sources__feed_source__name="smart-boston", sources__source_key=key(service, schedule, day)
    )


@pytest.mark.django_db
def test_importing_the_feed_fills_the_directory_with_smart_meetings():
    report = import_boston()
    run = ImportRun.objects.get(feed_source__name="smart-boston")
    assert (run.status, run.records_read, run.created, run.rejected) == ("succeeded", 13, 7, 6)
    assert "service status is inactive" in report

    cambridge = meeting("cambridge", "cambridge-tue", "TU")
    assert cambridge.fellowship.slug == "smart"
    assert (cambridge.weekday, cambridge.start_time, cambridge.end_time) == (2, time(18, 30), time(20))
    assert cambridge.timezone == "America/New_York"  # from the coordinates
    assert cambridge.attendance_mode == AttendanceMode.IN_PERSON
    assert set(cambridge.attributes.values_list("slug", flat=True)) == {
        "open",
        "wheelchair-access",
        "language-en",
    }

    online = meeting("online-mw", "online-mw", "WE")
    assert online.attendance_mode == AttendanceMode.ONLINE
    assert online.timezone == "America/New_York"  # the feed's default zone
    assert online.conference_url == "https://zoom.us/j/5551234567"

    family = meeting("family-hybrid", "family-thu", "TH")
    assert family.attendance_mode == AttendanceMode.HYBRID
    assert family.location is not None and family.location.city == "Brookline"
    assert set(family.attributes.values_list("slug", flat=True)) == {"moud-welcoming", "childcare"}

    spanish = meeting("chelsea", "chelsea-thu", "TH")
    assert list(spanish.attributes.values_list("slug", flat=True)) == ["language-es"]


@pytest.mark.django_db
def test_importing_the_same_feed_again_changes_nothing():
    import_boston()
    import_boston()
    second = ImportRun.objects.filter(feed_source__name="smart-boston").order_by("-pk").first()
    assert second is not None
    assert (second.created, second.updated, second.unchanged) == (0, 0, 7)
