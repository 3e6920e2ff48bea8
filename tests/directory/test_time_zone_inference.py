"""Fewer records lost to a missing time zone: the address decides when it can, and says how.

A Canadian intergroup's feed gives neither coordinates nor a zone, only addresses like
"8318 104 St, Edmonton, Alberta, T6E 4E8, Canada". Those were refused whole unless the operator
passed --timezone; now the province's full name decides, then a town the directory already knows
in one zone, then the feed's default, and only what is truly ambiguous is refused.
"""

import io
import json

import pytest
from django.core.management import call_command

from recoverybridge.directory.feeds.normalise import region_of, resolve_zone, why_no_zone
from recoverybridge.directory.feeds.records import LocationRecord
from recoverybridge.directory.models import ImportRun, Meeting
from tests.factories import make_location

EDMONTON = "8318 104 St, Edmonton, Alberta, T6E 4E8, Canada"


def record(slug: str, **fields) -> dict:
    return {"slug": slug, "name": slug.replace("-", " ").title(), "day": 3, "time": "19:30", **fields}


def import_records(tmp_path, records: list[dict], *options: str) -> str:
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    out = io.StringIO()
    call_command(
        "import_feed",
        str(path),
        "--format=meeting-guide",
        "--source=edmonton-aa",
        "--fellowship=aa",
        "--no-progress",
        *options,
        stdout=out,
    )
    return out.getvalue()


def zone_of(slug: str) -> str:
    return Meeting.objects.get(sources__source_key=slug).timezone


@pytest.mark.parametrize(
    ("fields", "region"),
    [
        ({"formatted_address": EDMONTON}, "AB"),
        ({"address": "8318 104 St", "city": "Edmonton", "state": "Alberta", "country": "Canada"}, "AB"),
        ({"formatted_address": "10 Main St, Regina, Saskatchewan S4P 3Y2, Canada"}, "SK"),
        ({"formatted_address": "1 Main St, Tulsa, OK 74103, USA"}, "OK"),
        ({"formatted_address": "1 Main St, Springfield, IL 62701"}, "IL"),  # no country, a ZIP
        ({"formatted_address": "1 Main St, Kansas City, Missouri, United States"}, "MO"),
        ({"formatted_address": "12 Peachtree St, Atlanta, Georgia"}, ""),  # Georgia, the country?
        ({"formatted_address": "1 Washington St, Perth, WA", "country": "Australia"}, ""),
        ({"formatted_address": "10 Downing St, London, SW1A 2AA, UK"}, ""),
    ],
)
def test_the_state_or_province_by_code_or_full_name(fields, region):
    location = LocationRecord(**fields)
    assert region_of(location) == region


def test_each_rule_in_turn_and_which_one_decided():
    def place(**fields):
        return LocationRecord(**fields)

    assert resolve_zone("America/Regina", place(formatted_address=EDMONTON), "") == (
        "America/Regina",
        "record",
    )
    on_the_map = place(formatted_address=EDMONTON, latitude=53.5196, longitude=-113.4937)
    assert resolve_zone("", on_the_map, "") == ("America/Edmonton", "coordinates")
    assert resolve_zone("", place(formatted_address=EDMONTON), "") == ("America/Edmonton", "region")
    ontario = place(formatted_address="1 Bay St, Toronto, Ontario, M5J 2R8, Canada")  # two zones
    assert resolve_zone("", ontario, "", lambda city, region: "America/Toronto") == (
        "America/Toronto",
        "city",
    )
    assert resolve_zone("", ontario, "America/Halifax", lambda city, region: "") == (
        "America/Halifax",
        "feed",
    )
    assert resolve_zone("", ontario, "", lambda city, region: "") == ("", "")
    assert why_no_zone(ontario) == (
        "no time zone: ON spans more than one zone and Toronto, ON is not known in one; "
        "give coordinates, a timezone field or --timezone"
    )


@pytest.mark.django_db
def test_an_edmonton_feed_without_coordinates_or_zones_is_imported(tmp_path):
    records = [
        record("whyte-avenue", formatted_address=EDMONTON),
        record("old-strathcona", address="8318 104 St", city="Edmonton", state="Alberta", country="Canada"),
        record("downtown", formatted_address="10025 102A Ave NW, Edmonton, AB T5J 2Z2, Canada"),
        record(
            "sherwood-park", formatted_address="2021 Brentwood Blvd, Sherwood Park, Alberta, T8A 0M4, Canada"
        ),
    ]
    report = import_records(tmp_path, records)
    run = ImportRun.objects.get()
    assert (run.status, run.created, run.rejected) == ("succeeded", 4, 0), report
    assert {zone_of(r["slug"]) for r in records} == {"America/Edmonton"}
    assert "time zone from the state or province (4)" in report


@pytest.mark.django_db
def test_a_town_the_directory_knows_in_one_zone_decides_and_the_rest_is_refused_with_reasons(tmp_path):
    # The directory already has meetings in Toronto (one zone) and in two places called Lewes.
    make_location(city="Toronto", state="ON", country="Canada", timezone="America/Toronto")
    make_location(city="Lewes", state="DE", timezone="America/New_York")
    make_location(city="Lewes", state="", country="UK", timezone="Europe/London")
    records = [
        record("whyte-avenue", formatted_address=EDMONTON),
        record("bay-street", formatted_address="1 Bay St, Toronto, Ontario, M5J 2R8, Canada"),
        record("el-paso", formatted_address="1 Oregon St, El Paso, Texas 79901, USA"),
        record("lewes", address="1 High St", city="Lewes"),
    ]
    # Three of four would be refused without the new rules; two are still truly ambiguous.
    report = import_records(tmp_path, records)
    run = ImportRun.objects.get()
    assert (run.status, run.created, run.rejected) == ("succeeded", 2, 2), report
    assert zone_of("whyte-avenue") == "America/Edmonton"
    assert zone_of("bay-street") == "America/Toronto"
    assert {(e["key"], e["reason"]) for e in run.errors} == {
        (
            "el-paso",
            "no time zone: TX spans more than one zone and El Paso, TX is not known in one; "
            "give coordinates, a timezone field or --timezone",
        ),
        (
            "lewes",
            "no time zone: Lewes is not known in exactly one zone and no state or province is given; "
            "give coordinates, a timezone field or --timezone",
        ),
    }
    assert "time zone from the state or province (1)" in report
    assert "time zone from the city (as other meetings the directory knows there) (1)" in report


@pytest.mark.django_db
def test_the_feeds_default_zone_comes_last_and_is_reported(tmp_path):
    records = [
        record("whyte-avenue", formatted_address=EDMONTON),
        record("el-paso", formatted_address="1 Oregon St, El Paso, Texas 79901, USA"),
    ]
    report = import_records(tmp_path, records, "--timezone=America/Denver")
    assert zone_of("whyte-avenue") == "America/Edmonton"  # the province wins over the default
    assert zone_of("el-paso") == "America/Denver"
    assert "time zone: the feed's default (1)" in report
    assert "time zone from the state or province (1)" in report
