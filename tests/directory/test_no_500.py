"""Inputs that once answered 500 (found by probing): each now answers a clear 4xx, or, in a feed,
refuses the record and says why."""

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from recoverybridge.directory.feeds import bmlt, hsds, meeting_guide
from recoverybridge.directory.models import ImportRun
from tests.factories import make_meeting

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.mark.parametrize("at", ["9999-12-25T00:00:00Z", "0001-01-02T00:00:00Z", "9999-12-31T23:59:59+14:00"])
@pytest.mark.parametrize("path", ["/api/v1/meetings", "/api/v1/meetings.ics"])
def test_an_instant_at_the_ends_of_the_calendar_is_a_400(client, db, path, at):
    make_meeting("aa")
    response = client.get(path, {"at": at})
    assert response.status_code == 400, response.content[:300]


@pytest.mark.parametrize("path", ["/meetings/{}/", "/meetings/{}/report/"])
def test_a_meeting_number_beyond_the_database_is_a_404(client, db, path):
    assert client.get(path.format(2**63)).status_code == 404
    assert client.get(path.format(10**30)).status_code == 404


@pytest.mark.parametrize("path", ["/api/v1/meetings/{}", "/api/v1/meetings/{}.ics"])
def test_the_api_answers_404_for_a_meeting_number_beyond_the_database(client, db, path):
    assert client.get(path.format(2**63)).status_code == 404


def test_a_task_number_beyond_the_database_is_not_a_500(client, db):
    response = client.get(f"/api/v1/fhir/Task/{2**63}")
    assert response.status_code in (401, 404)


def test_a_feed_nested_too_deeply_is_refused_with_the_reason(db, tmp_path):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(CommandError, match="nests arrays or objects too deeply"):
        call_command("import_feed", str(path), "--format=meeting-guide", "--source=deep", "--fellowship=aa")
    assert ImportRun.objects.get().status == "failed"


@pytest.mark.parametrize(
    ("latitude", "longitude", "reason"),
    [
        (200, -0.1, "latitude 200 is outside -90 to 90"),
        (51.5, "east", "longitude 'east' is not a number"),
        ("nan", 0.1, "latitude 'nan' is outside -90 to 90"),
    ],
)
def test_a_coordinate_that_is_no_coordinate_refuses_the_record_and_says_why(latitude, longitude, reason):
    good = {"slug": "1", "name": "Kept", "day": 1, "time": "19:00", "latitude": 51.5, "longitude": -0.1}
    bad = {**good, "slug": "2", "name": "Refused", "latitude": latitude, "longitude": longitude}
    parsed = meeting_guide.parse([good, bad, {**good, "slug": "3", "latitude": "", "longitude": ""}])
    assert [r.source_key for r in parsed.records] == ["1", "3"]
    assert [(r.key, r.reason) for r in parsed.rejections] == [("2", reason)]
    assert parsed.records[1].location is None or parsed.records[1].location.latitude is None


def test_a_bmlt_meeting_whose_place_is_no_coordinate_is_refused_and_reported():
    feed = json.loads((FIXTURES / "bmlt" / "GetSearchResults.json").read_text(encoding="utf-8"))
    before = bmlt.parse(feed)
    feed[0]["latitude"] = "200"
    after = bmlt.parse(feed)
    refused = feed[0]["id_bigint"]
    assert refused in {record.source_key for record in before.records}
    assert refused not in {record.source_key for record in after.records}
    assert (refused, "latitude '200' is outside -90 to 90") in {(r.key, r.reason) for r in after.rejections}
    assert len(after.records) == len(before.records) - 1


def test_an_hsds_service_whose_place_is_no_coordinate_is_refused_and_reported():
    page = json.loads((FIXTURES / "hsds" / "services.json").read_text(encoding="utf-8"))
    service = next(
        one
        for one in page["contents"]
        if any(isinstance(e.get("location"), dict) for e in one.get("service_at_locations") or [])
    )
    place = next(
        e["location"] for e in service["service_at_locations"] if isinstance(e.get("location"), dict)
    )
    before = hsds.parse(page)
    place["longitude"] = "west"
    after = hsds.parse(page)
    assert any(record.name == service["name"] for record in before.records)
    assert not any(record.name == service["name"] for record in after.records)
    # Refused per meeting, saying which place and why.
    assert (service["id"], f"location {place['id']}: longitude 'west' is not a number") in {
        (r.key.split("#")[0], r.reason) for r in after.rejections
    }
