"""Each format read by its own rules, on real published output (sources in tests/fixtures/README.md).

- BMLT: a root server's GetSearchResults (latest.aws.bmlt.app, NA meetings in upstate New York,
  as recorded in yap's tests) gives a street and coordinates but no postal code, nation or
  venue_type. Those meetings are in person and a place search finds them; Meeting Guide's
  "fewer than four address parts is approximate" stays with Meeting Guide.
- HSDS: the specification's own example service (Community Counselling) is not a meeting; its
  schedule ended in 2005; its location's latitude is 100. And one HSDS id is one meeting,
  however many files publish it.
"""

import copy
import io
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from django.core.management import call_command

from recoverybridge.directory.actions.imports import import_feed, register_feed_source
from recoverybridge.directory.feeds import bmlt, hsds, meeting_guide
from recoverybridge.directory.models import AttendanceMode, Fellowship, ImportRun, Meeting, MeetingSource
from recoverybridge.directory.queries import MeetingSearch, search_meetings

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
REAL_BMLT = FIXTURES / "bmlt" / "real" / "meeting-search-42.867970-day2.json"
SYDNEY = FIXTURES / "bmlt" / "real" / "sydney-virtual.json"
SPEC_SERVICE = FIXTURES / "hsds" / "service_full.json"
SMART = FIXTURES / "hsds" / "services.json"
NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)


def load(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def run_import(path: Path, *, format: str, source: str, fellowship: str, **options) -> str:
    out = io.StringIO()
    call_command(
        "import_feed",
        str(path),
        format=format,
        source=source,
        fellowship=fellowship,
        no_progress=True,
        stdout=out,
        **options,
    )
    return out.getvalue()


# BMLT


def test_a_real_root_servers_meetings_are_places_to_go_to():
    parsed = bmlt.parse(load(REAL_BMLT))
    assert (len(parsed.records), parsed.rejections) == (53, [])
    for record in parsed.records:
        place = record.location
        assert place is not None and place.address and place.latitude is not None
        assert place.postal_code == place.country == "" and record.attendance_mode == ""
        # Said outright: not left to Meeting Guide's count of address parts (this one has three).
        assert place.approximate is False
    clifton = next(r for r in parsed.records if r.source_key == "2566")
    assert clifton.location is not None
    assert clifton.location.formatted_address == "128 Main street, Clifton Springs, NY"
    assert meeting_guide_would_call_it_approximate(clifton.location.formatted_address)


def meeting_guide_would_call_it_approximate(formatted_address: str) -> bool:
    from recoverybridge.directory.feeds.normalise import is_approximate

    [record] = meeting_guide.parse(
        [{"slug": "x", "name": "x", "day": 1, "time": "19:00", "formatted_address": formatted_address}]
    ).records
    assert record.location is not None and record.location.approximate is None
    return is_approximate(record.location)


@pytest.mark.django_db
def test_in_person_bmlt_meetings_are_found_by_a_place_search():
    report = run_import(REAL_BMLT, format="bmlt", source="latest-aws", fellowship="na")
    run = ImportRun.objects.get(feed_source__name="latest-aws")
    assert (run.status, run.created, run.rejected) == ("succeeded", 53, 0), report
    meetings = Meeting.objects.filter(sources__feed_source=run.feed_source)
    assert set(meetings.values_list("attendance_mode", flat=True)) == {AttendanceMode.IN_PERSON}
    assert set(meetings.values_list("location__approximate", flat=True)) == {False}
    # No time_zone in the feed: the coordinates say New York, in Pennsylvania too.
    assert set(meetings.values_list("timezone", flat=True)) == {"America/New_York"}

    # 5 km around Clifton Springs Hospital finds "Step up and Be Free", Mondays at 7 pm.
    found = search_meetings(
        MeetingSearch.model_validate({"lat": 42.9613734, "lon": -77.1205486, "radius_km": 5}), now=NOW
    )
    assert [hit.meeting.name for hit in found.hits] == ["Step up and Be Free"]
    # Downtown Syracuse: the five meetings within 2 km.
    syracuse = search_meetings(
        MeetingSearch.model_validate({"lat": 43.0481, "lon": -76.1474, "radius_km": 2}), now=NOW
    )
    assert {hit.meeting.name for hit in syracuse.hits} == {
        "A New Way of Life",
        "Good Medicine",
        "Carry the Message",
        "Share Our Hope",
        "Serenity at Noon",
    }


def test_a_virtual_venue_with_a_suburbs_coordinates_is_online_not_a_place():
    [record] = bmlt.parse(load(SYDNEY)).records
    assert record.attendance_mode == "online"
    assert record.location is not None and record.location.address == ""
    assert record.location.approximate is True  # Maroubra's centre, not a door


def test_a_street_without_coordinates_is_in_person_and_neither_is_not():
    base = load(REAL_BMLT)["meetings"][0]
    street_only = {**copy.deepcopy(base), "id_bigint": "1", "latitude": "", "longitude": ""}
    coordinates_only = {**copy.deepcopy(base), "id_bigint": "2", "location_street": ""}
    neither = {**copy.deepcopy(street_only), "id_bigint": "3", "location_street": ""}
    records = {r.source_key: r for r in bmlt.parse([street_only, coordinates_only, neither]).records}
    assert records["1"].location is not None and records["1"].location.approximate is False
    assert records["2"].location is not None and records["2"].location.approximate is False
    assert records["3"].location is not None and records["3"].location.approximate is True


@pytest.mark.django_db
def test_a_temporarily_closed_bmlt_venue_is_not_in_person():
    meeting = load(REAL_BMLT)["meetings"][0]
    feed = {"meetings": [{**meeting, "formats": "O,TC"}], "formats": []}
    source = register_feed_source("closed-venue", "bmlt", "", fellowship=Fellowship.objects.get(slug="na"))
    run = import_feed(source, bmlt.parse(feed))
    assert run.status == "succeeded"
    assert Meeting.objects.get().attendance_mode == AttendanceMode.INACTIVE


def test_meeting_guides_address_rule_stays_with_meeting_guide():
    [vague, exact] = meeting_guide.parse(
        [
            {
                "slug": "a",
                "name": "A",
                "day": 1,
                "time": "19:00",
                "formatted_address": "Anytown, OK 12345, USA",
            },
            {
                "slug": "b",
                "name": "B",
                "day": 1,
                "time": "19:00",
                "formatted_address": "1 Main St, Anytown, OK, USA",
            },
        ]
    ).records
    from recoverybridge.directory.feeds.normalise import is_approximate

    assert vague.location is not None and is_approximate(vague.location)
    assert exact.location is not None and not is_approximate(exact.location)


# HSDS


def test_the_specifications_counselling_service_is_not_a_meeting():
    service = load(SPEC_SERVICE)
    assert service["name"] == "Community Counselling"
    parsed = hsds.parse(service)
    assert (parsed.records, parsed.rejections) == ([], [])
    assert parsed.notes == {hsds.NOT_A_MEETING: 1, hsds.SERVICE_BAD_PLACE: 1}
    assert [service.name for service in parsed.services] == ["Community Counselling"]


@pytest.mark.django_db
def test_hsds_services_that_are_not_meetings_do_not_become_meetings(tmp_path):
    feed = load(SMART)
    feed["contents"].append(load(SPEC_SERVICE))
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps(feed), encoding="utf-8")
    report = run_import(path, format="hsds", source="mixed", fellowship="smart", timezone="America/New_York")
    run = ImportRun.objects.get(feed_source__name="mixed")
    assert (run.status, run.created) == ("succeeded", 7)
    assert not Meeting.objects.filter(name="Community Counselling").exists()
    assert "services that are not meetings (no meeting type or taxonomy term), kept as services (1)" in report
    assert "services (not meetings): 1 created, 0 updated, 0 unchanged, 0 no longer listed." in report
    assert run.services_created == 1


def as_a_meeting(service: dict) -> dict:
    """The example service as a publisher would mark a support group."""
    marked = copy.deepcopy(service)
    marked["attributes"][0]["taxonomy_term"].update(code="PN-8100", name="Support Groups")
    return marked


def test_a_schedule_outside_its_validity_dates_is_left_out():
    service = as_a_meeting(load(SPEC_SERVICE))
    assert hsds.is_meeting(service)
    ended = hsds.parse(service, today=date(2026, 6, 10))
    assert (ended.records, ended.rejections) == ([], [])
    assert ended.notes == {hsds.OUT_OF_DATE: 1}
    not_yet = hsds.parse(service, today=date(2004, 12, 31))
    assert not_yet.notes == {hsds.OUT_OF_DATE: 1}


def test_a_latitude_of_100_refuses_the_meetings_there_with_the_reason():
    service = as_a_meeting(load(SPEC_SERVICE))
    parsed = hsds.parse(service, today=date(2005, 1, 1))  # the one day the schedule is valid
    assert parsed.records == []
    assert [(r.key, r.reason) for r in parsed.rejections] == [
        (
            "ac148810-d857-441c-9679-408f346de14b#48102e86-bb50-41c4-8f1e-e269368c41d1",
            "location 3a19ff88-4620-4d17-9830-ac1d859eb5d5: latitude 100 is outside -90 to 90",
        )
    ]
    place = service["service_at_locations"][0]["location"]
    place["latitude"], place["longitude"] = 52.2053, 0.1218
    records = hsds.parse(service, today=date(2005, 1, 1)).records
    assert [(r.weekday, f"{r.start_time:%H:%M}") for r in records] == [(4, "10:00"), (5, "10:00")]


@pytest.mark.django_db
def test_the_same_service_from_two_files_is_one_meeting_each(tmp_path):
    # The second file places every room 5 km away and gives other links: nothing but the
    # HSDS ids says these are the same meetings.
    other = load(SMART)
    for service in other["contents"]:
        if service.get("url"):
            service["url"] += "?from=other-file"
        for entry in service.get("service_at_locations", []):
            place = entry["location"]
            if isinstance(place.get("latitude"), int | float):
                place["latitude"] += 0.05
            if place.get("url"):
                place["url"] += "?from=other-file"
    path = tmp_path / "other.json"
    path.write_text(json.dumps(other), encoding="utf-8")
    run_import(SMART, format="hsds", source="smart-file-a", fellowship="smart", timezone="America/New_York")
    run_import(path, format="hsds", source="smart-file-b", fellowship="smart", timezone="America/New_York")
    second = ImportRun.objects.get(feed_source__name="smart-file-b")
    assert (second.created, second.merged) == (0, 7)
    assert Meeting.objects.count() == 7
    assert MeetingSource.objects.count() == 14
    # Each meeting is listed by both files under the same HSDS key.
    for meeting in Meeting.objects.all():
        keys = set(meeting.sources.values_list("source_key", flat=True))
        assert len(keys) == 1 and meeting.sources.count() == 2
