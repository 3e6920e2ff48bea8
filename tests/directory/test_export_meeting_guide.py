"""The directory as a Meeting Guide feed that tsml-ui and the Meeting Guide app can read.

Every record is validated against the published meeting.schema.json, less its
US-only patterns (formatted_address, address, city, state, postal_code): a
meeting in Tokyo has no five-digit ZIP code. Everything else in the schema,
including the type-code enum, applies.
"""

import json
from datetime import date, time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from jsonschema import Draft7Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from recoverybridge.directory.models import Location, Meeting
from tests.factories import make_location, make_meeting

STANDARD = Path(__file__).resolve().parents[1] / "standards" / "meeting-guide"
US_ONLY_PATTERNS = ("formatted_address", "address", "city", "state", "postal_code")
FEED = "/api/v1/feeds/meeting-guide.json"


@pytest.fixture(scope="module")
def validator() -> Draft7Validator:
    schema = json.loads((STANDARD / "meeting.schema.json").read_text())
    for name in US_ONLY_PATTERNS:
        del schema["properties"][name]["pattern"]
    types = json.loads((STANDARD / "meeting-type.schema.json").read_text())
    registry = Registry().with_resource(types["$id"], Resource.from_contents(types, DRAFT7))
    return Draft7Validator(schema, registry=registry, format_checker=FormatChecker())


def fetch(query: str = "") -> list[dict]:
    response = Client().get(FEED + query)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/json")
    return json.loads(b"".join(response.streaming_content))


def by_name(records: list[dict]) -> dict[str, dict]:
    return {record["name"]: record for record in records}


@pytest.fixture
def directory(db) -> dict[str, Meeting]:
    """A small directory with every kind of meeting a feed has to carry."""
    tokyo = make_location(
        name="Shibuya Kominkan",
        address="1-2-3 Jinnan",
        city="Shibuya",
        state="Tokyo",
        postal_code="150-0041",
        country="JP",
        formatted_address="1-2-3 Jinnan, Shibuya, Tokyo 150-0041, Japan",
        latitude=35.6640,
        longitude=139.6982,
        region_path="Japan > Tokyo > Shibuya",
        timezone="Asia/Tokyo",
    )
    lewes_area = make_location(
        name="",
        address="",
        postal_code="",
        formatted_address="Lewes, DE, USA",
        approximate=True,
        region_path="Delaware > Lewes",
    )
    return {
        "in person": make_meeting(
            name="Lewes Serenity",
            attributes=("open", "discussion", "wheelchair-access", "language-en"),
            group_name="Serenity Group",
            notes="Side door.",
        ),
        "online": make_meeting(
            name="Zoom Early Birds",
            location=lewes_area,
            attendance_mode="online",
            weekday=3,
            start_time=time(7, 0),
            end_time=time(8, 0),
            conference_url="https://zoom.us/j/123456789",
            conference_url_notes="Passcode: 4321",
            conference_phone="+1 (646) 558-8656,,123456789#",
        ),
        "hybrid": make_meeting(
            "na",
            name="Hybrid Hope",
            attendance_mode="hybrid",
            weekday=5,
            start_time=time(18, 30),
            end_time=time(20, 0),
            conference_url="https://meet.example.org/hope",
        ),
        "by appointment": make_meeting(
            "al-anon", name="Call Us", weekday=None, start_time=None, end_time=None, notes="Phone first."
        ),
        "spanish": make_meeting(name="Grupo Renacer", attributes=("closed", "language-es"), weekday=2),
        "secular": make_meeting(name="Freethinkers", attributes=("secular", "open"), weekday=4),
        "aca age-restricted": make_meeting("aca", name="ACA Over 18", attributes=("age-restricted",)),
        "aca secular": make_meeting("aca", name="ACA Secular", attributes=("secular",), weekday=6),
        "women": make_meeting(name="Women's Big Book", attributes=("women", "big-book"), weekday=0),
        "moud": make_meeting(
            "smart",
            name="SMART Lewes",
            attributes=("moud-welcoming", "language-af"),
            moud_stance="welcoming",
            moud_source="Peer navigator visit",
            moud_verified_on=date(2025, 11, 3),
        ),
        "tokyo": make_meeting(
            name="Tokyo Sakura", location=tokyo, attributes=("language-ja", "open"), start_time=time(19, 30)
        ),
        "inactive": make_meeting(name="Gone Away", status="inactive"),
    }


def test_every_record_is_valid_meeting_guide(directory, validator):
    records = fetch()
    assert len(records) == len(directory) - 1  # all but the inactive one
    for record in records:
        errors = sorted(validator.iter_errors(record), key=str)
        assert not errors, (record["name"], [error.message for error in errors])
    slugs = [record["slug"] for record in records]
    assert len(set(slugs)) == len(slugs)
    assert all(len(slug) <= 64 for slug in slugs)


def test_fields_carry_their_values(directory):
    records = by_name(fetch())
    lewes = records["Lewes Serenity"]
    meeting = directory["in person"]
    assert lewes["slug"] == f"{meeting.pk}-lewes-serenity"
    assert (lewes["day"], lewes["time"], lewes["end_time"]) == (1, "19:00", "20:00")
    assert lewes["timezone"] == "America/New_York"
    assert lewes["types"] == ["D", "EN", "O", "X"]
    assert lewes["formatted_address"] == "1 Main St, Lewes, DE 19958, USA"
    assert (lewes["address"], lewes["city"], lewes["state"], lewes["postal_code"]) == (
        "1 Main St",
        "Lewes",
        "DE",
        "19958",
    )
    assert (lewes["latitude"], lewes["longitude"], lewes["approximate"]) == (38.7746, -75.1393, "no")
    assert lewes["location"] == "Community Hall"
    assert lewes["group"] == "Serenity Group"
    assert lewes["notes"] == "Side door."
    assert lewes["url"] == f"http://testserver/meetings/{meeting.pk}/"
    assert lewes["updated"] == meeting.updated_at.strftime("%Y-%m-%d %H:%M:%S")
    assert lewes["attendance_option"] == "in_person"
    assert lewes["fellowship"] == "Alcoholics Anonymous"
    assert lewes["moud"] == "unknown"
    assert "conference_url" not in lewes

    online = records["Zoom Early Birds"]
    assert online["attendance_option"] == "online"
    assert online["conference_url"] == "https://zoom.us/j/123456789"
    assert online["conference_url_notes"] == "Passcode: 4321"
    # The spec's phone pattern has no room for Zoom's one-tap ",,123456789#": that goes in the notes.
    assert online["conference_phone"] == "+16465588656"
    assert online["conference_phone_notes"] == "One tap: +1 (646) 558-8656,,123456789#"
    assert online["approximate"] == "yes"
    assert online["formatted_address"] == "Lewes, DE, USA"
    assert online["regions"] == ["Delaware", "Lewes"]
    assert (online["day"], online["time"]) == (3, "07:00")

    assert records["Hybrid Hope"]["attendance_option"] == "hybrid"
    assert records["Hybrid Hope"]["address"] == "1 Main St"


def test_by_appointment_has_no_day_or_time(directory):
    record = by_name(fetch())["Call Us"]
    assert "day" not in record and "time" not in record and "end_time" not in record
    assert record["fellowship"] == "Al-Anon Family Groups"


def test_types_map_back_to_meeting_guide_codes(directory):
    records = by_name(fetch())
    assert records["Grupo Renacer"]["types"] == ["C", "S"]  # Spanish is S
    assert records["Freethinkers"]["types"] == ["A", "O"]
    assert records["Women's Big Book"]["types"] == ["B", "W"]
    assert records["Tokyo Sakura"]["types"] == ["JA", "O"]
    # For ACA, A means age-restricted: their age-restricted meeting is A, a secular one cannot be.
    assert records["ACA Over 18"]["types"] == ["A"]
    assert "types" not in records["ACA Secular"]
    # MOUD has no code, Afrikaans (AF) is not in the schema's list: both left out.
    assert "types" not in records["SMART Lewes"]


def test_moud_stance_travels_as_an_extension(directory):
    record = by_name(fetch())["SMART Lewes"]
    assert record["moud"] == "welcoming"
    assert record["moud_verified"] == "2025-11-03"
    assert record["fellowship"] == "SMART Recovery"


def test_meeting_in_tokyo_keeps_its_zone_and_address(directory):
    record = by_name(fetch())["Tokyo Sakura"]
    assert record["timezone"] == "Asia/Tokyo"
    assert (record["day"], record["time"], record["end_time"]) == (1, "19:30", "20:00")
    assert record["postal_code"] == "150-0041"
    assert record["country"] == "JP"
    assert record["regions"] == ["Japan", "Tokyo", "Shibuya"]


def test_filter_by_fellowship(directory):
    names = {record["name"] for record in fetch("?fellowship=aca&fellowship=na")}
    assert names == {"ACA Over 18", "ACA Secular", "Hybrid Hope"}


def test_unknown_fellowship_is_a_400_naming_it(directory):
    response = Client().get(FEED + "?fellowship=nope")
    assert response.status_code == 400
    assert response.json() == {"errors": [{"parameter": "fellowship", "reason": "unknown fellowship: nope"}]}


def test_query_count_does_not_grow_with_the_directory(directory):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            fetch()
        return len(captured)

    before = queries()
    for number in range(30):
        make_meeting(name=f"More {number}", attributes=("open", "speaker"))
    assert queries() == before


def test_export_imports_back_unchanged(directory, tmp_path):
    """Feed the export to our own Meeting Guide importer: the same meetings come back."""
    exported = {
        slug: by_name(fetch(f"?fellowship={slug}")) for slug in ("aa", "na", "al-anon", "aca", "smart")
    }
    Meeting.objects.all().delete()
    Location.objects.all().delete()
    for slug, records in exported.items():
        path = tmp_path / f"{slug}.json"
        path.write_text(json.dumps(list(records.values())))
        call_command(
            "import_feed", "--format", "meeting-guide", "--source", f"roundtrip-{slug}", str(path),
            "--fellowship", slug, "--no-progress", stdout=StringIO(),
        )  # fmt: skip
    for slug, before in exported.items():
        after = by_name(fetch(f"?fellowship={slug}"))
        assert after.keys() == before.keys()
        for name, record in before.items():
            again = after[name]
            # Ids (so slugs and links) are new, MOUD stance is ours alone, the timestamp moves, and
            # the listing now comes from the re-import's feed (test_meeting_guide_round_trip.py
            # checks the extensions read back).
            for key in (
                "slug",
                "url",
                "updated",
                "moud",
                "moud_verified",
                "listing_source",
                "last_confirmed",
            ):
                record.pop(key, None)
                again.pop(key, None)
            assert again == record, name
