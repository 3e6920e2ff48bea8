"""The directory as Open Referral HSDS 3.0, valid against the published schemas.

Services are validated against the modular schema (service.json and the files
it refers to, through a referencing Registry of the schema folder) and against
the compiled one; pages against the OpenAPI document's Page schema.
"""

import json
import uuid
from datetime import time
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from recoverybridge.directory.exports.hsds import meeting_id_from_service_id, service_id
from recoverybridge.directory.models import Fellowship
from tests.factories import make_location, make_meeting

SCHEMAS = Path(__file__).resolve().parents[1] / "standards" / "hsds-3.0" / "schema"
BASE = "https://hsds.test/schema/"
SERVICES = "/api/v1/feeds/hsds/services"
WINTER = "2026-01-15T12:00:00Z"
SUMMER = "2026-07-15T12:00:00Z"


@pytest.fixture(scope="module")
def validators() -> dict[str, Draft202012Validator]:
    registry = Registry().with_resources(
        (BASE + path.name, Resource.from_contents(json.loads(path.read_text()), DRAFT202012))
        for path in SCHEMAS.glob("*.json")
    )
    checker = FormatChecker()
    openapi = json.loads((SCHEMAS / "openapi.json").read_text())
    return {
        "service": Draft202012Validator(
            {"$ref": BASE + "service.json"}, registry=registry, format_checker=checker
        ),
        "compiled": Draft202012Validator(
            json.loads((SCHEMAS / "compiled" / "service.json").read_text()), format_checker=checker
        ),
        "organization": Draft202012Validator(
            {"$ref": BASE + "organization.json"}, registry=registry, format_checker=checker
        ),
        "page": Draft202012Validator(openapi["components"]["schemas"]["Page"]),
    }


def assert_valid(validator: Draft202012Validator, item: dict) -> None:
    errors = sorted(validator.iter_errors(item), key=str)
    assert not errors, [f"{list(error.absolute_path)}: {error.message}" for error in errors]


def get(path: str) -> dict:
    response = Client().get(path)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def directory(db):
    tokyo = make_location(
        name="Shibuya Kominkan", address="1-2-3 Jinnan", city="Shibuya", state="Tokyo", postal_code="150-0041",
        country="JP", formatted_address="1-2-3 Jinnan, Shibuya, Tokyo 150-0041, Japan", latitude=35.664,
        longitude=139.6982, region_path="Japan > Tokyo > Shibuya", timezone="Asia/Tokyo",
    )  # fmt: skip
    area = make_location(name="", address="", formatted_address="Lewes, DE, USA", approximate=True)
    return {
        "in person": make_meeting(
            name="Lewes Serenity",
            attributes=("open", "wheelchair-access", "language-en"),
            group_name="Serenity",
        ),
        "online": make_meeting(
            "smart",
            name="SMART Online",
            location=area,
            attendance_mode="online",
            weekday=3,
            start_time=time(7, 0),
            end_time=time(8, 30),
            conference_url="https://zoom.us/j/123456789",
            conference_phone="+16465588656,,123456789#",
            moud_stance="welcoming",
        ),
        "hybrid": make_meeting(
            "na", name="Hybrid Hope", attendance_mode="hybrid", conference_url="https://meet.example.org/hope"
        ),
        "by appointment": make_meeting(
            "al-anon", name="Call Us", weekday=None, start_time=None, end_time=None
        ),
        "spanish": make_meeting(name="Grupo Renacer", attributes=("language-es", "secular"), weekday=6),
        "tokyo": make_meeting(name="Tokyo Sakura", location=tokyo, attributes=("language-ja",)),
        "gone": make_meeting(name="Gone Away", status="inactive"),
    }


def services(query: str = "") -> dict[str, dict]:
    page = get(f"{SERVICES}?per_page=100{query}")
    return {item["name"]: item for item in page["contents"]}


def test_services_page_is_valid_hsds(directory, validators):
    page = get(f"{SERVICES}?per_page=100&at={SUMMER}")
    assert_valid(validators["page"], page)
    assert page["total_items"] == page["size"] == len(directory)
    assert (page["page_number"], page["total_pages"], page["first_page"], page["last_page"], page["empty"]) == (
        1, 1, True, True, False,
    )  # fmt: skip
    for item in page["contents"]:
        assert_valid(validators["service"], item)
        assert_valid(validators["compiled"], item)


def test_pagination(directory):
    second = get(f"{SERVICES}?per_page=3&page=2")
    assert (second["size"], second["total_pages"], second["first_page"], second["last_page"]) == (
        3,
        3,
        False,
        False,
    )
    last = get(f"{SERVICES}?per_page=3&page=3")
    assert (last["size"], last["last_page"]) == (1, True)
    beyond = get(f"{SERVICES}?per_page=3&page=9")
    assert (beyond["size"], beyond["empty"]) == (0, True)
    assert Client().get(f"{SERVICES}?per_page=5000").status_code == 400


def test_schedule_is_weekly_with_the_offset_of_the_season(directory):
    winter = services(f"&at={WINTER}")["Lewes Serenity"]["schedules"][0]
    summer = services(f"&at={SUMMER}")["Lewes Serenity"]["schedules"][0]
    assert (winter["freq"], winter["interval"], winter["byday"]) == ("WEEKLY", 1, "MO")
    assert (winter["timezone"], winter["opens_at"], winter["closes_at"]) == (-5, "19:00-05:00", "20:00-05:00")
    assert (summer["timezone"], summer["opens_at"], summer["closes_at"]) == (-4, "19:00-04:00", "20:00-04:00")
    assert "America/New_York" in winter["description"]
    zone = [a for a in winter["attributes"] if a["taxonomy_term"]["code"] == "timezone"]
    assert zone[0]["value"] == "America/New_York"
    # Tokyo has no DST: +9 all year.
    for at in (WINTER, SUMMER):
        tokyo = services(f"&at={at}")["Tokyo Sakura"]["schedules"][0]
        assert (tokyo["timezone"], tokyo["opens_at"], tokyo["byday"]) == (9, "19:00+09:00", "MO")


def test_by_appointment_has_no_schedule(directory):
    assert services()["Call Us"]["schedules"] == []


def test_locations_by_attendance(directory):
    items = services()
    in_person = items["Lewes Serenity"]["service_at_locations"]
    assert [sal["location"]["location_type"] for sal in in_person] == ["physical"]
    place = in_person[0]["location"]
    assert (place["latitude"], place["longitude"]) == (38.7746, -75.1393)
    address = place["addresses"][0]
    assert (address["address_1"], address["city"], address["state_province"], address["postal_code"]) == (
        "1 Main St", "Lewes", "DE", "19958",
    )  # fmt: skip
    assert address["country"] == "US"

    online = items["SMART Online"]["service_at_locations"]
    assert [sal["location"]["location_type"] for sal in online] == ["virtual"]
    assert online[0]["location"]["url"] == "https://zoom.us/j/123456789"
    assert items["SMART Online"]["phones"][0]["number"] == "+16465588656,,123456789#"

    hybrid = items["Hybrid Hope"]["service_at_locations"]
    assert sorted(sal["location"]["location_type"] for sal in hybrid) == ["physical", "virtual"]


def test_attributes_use_our_vocabulary_as_taxonomy(directory):
    items = services()
    lewes = items["Lewes Serenity"]
    terms = {a["taxonomy_term"]["code"]: a for a in lewes["attributes"]}
    assert set(terms) == {"open", "wheelchair-access", "language-en", "moud-stance", "mutual-aid-meeting"}
    assert terms["mutual-aid-meeting"]["link_type"] == "service_type"  # what makes it a meeting on import
    assert {a["taxonomy_term"]["taxonomy"] for a in lewes["attributes"]} == {"recoverybridge"}
    assert terms["open"]["taxonomy_term"]["name"] == "Open"
    assert terms["moud-stance"]["value"] == "unknown"
    assert [(lang["code"], lang["name"]) for lang in lewes["languages"]] == [("en", "English")]
    spanish = items["Grupo Renacer"]
    assert {a["taxonomy_term"]["code"] for a in spanish["attributes"]} >= {"secular", "language-es"}
    assert [lang["code"] for lang in spanish["languages"]] == ["es"]
    online_moud = {a["taxonomy_term"]["code"]: a for a in items["SMART Online"]["attributes"]}["moud-stance"]
    assert online_moud["value"] == "welcoming"


def test_organization_per_fellowship_and_status(directory, validators):
    items = services()
    assert items["Lewes Serenity"]["organization"]["name"] == "Alcoholics Anonymous"
    assert items["Lewes Serenity"]["organization_id"] == items["Grupo Renacer"]["organization_id"]
    assert items["Lewes Serenity"]["organization_id"] != items["Hybrid Hope"]["organization_id"]
    assert items["Gone Away"]["status"] == "inactive"
    assert items["Lewes Serenity"]["status"] == "active"
    organizations = get("/api/v1/feeds/hsds/organizations?per_page=100")
    assert_valid(validators["page"], organizations)
    # One organization per fellowship in the vocabulary.
    assert organizations["total_items"] == Fellowship.objects.count() == 19
    for item in organizations["contents"]:
        assert_valid(validators["organization"], item)
    aa_only = services(f"&organization_id={items['Lewes Serenity']['organization_id']}")
    assert set(aa_only) == {"Lewes Serenity", "Grupo Renacer", "Tokyo Sakura", "Gone Away"}


def test_ids_are_stable_and_lead_back_to_the_meeting(directory, validators):
    first, again = services(), services()
    assert [item["id"] for item in first.values()] == [item["id"] for item in again.values()]
    lewes = first["Lewes Serenity"]
    assert lewes["id"] == service_id(directory["in person"].pk)
    assert meeting_id_from_service_id(lewes["id"]) == directory["in person"].pk
    one = get(f"{SERVICES}/{lewes['id']}")
    assert one == lewes
    assert_valid(validators["service"], one)
    assert Client().get(f"{SERVICES}/{uuid.uuid4()}").status_code == 404
    assert Client().get(f"{SERVICES}/not-a-uuid").status_code == 404


def test_query_count_does_not_grow_with_the_page(directory):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            get(f"{SERVICES}?per_page=100")
        return len(captured)

    before = queries()
    for number in range(20):
        make_meeting(name=f"More {number}", attributes=("open",))
    assert queries() == before
