"""Every API answer to bad input is JSON naming what is wrong (FHIR: an OperationOutcome),
never a 500 or Django's HTML error page."""

import pytest

from recoverybridge.directory.queries import MeetingSearch, search_meetings
from tests.directory.test_search_filters import NOW
from tests.factories import make_meeting

pytestmark = pytest.mark.django_db


def errors(response, status):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    return response.json()["errors"]


@pytest.mark.parametrize(
    "path",
    ["/api/v1/nothing", "/api/v1/meetings/1/", "/api/v1/fellowships/aa", "/api/v1/feeds/hsds/nothing"],
)
def test_an_unknown_api_path_is_a_json_404_pointing_to_the_docs(client, path):
    [error] = errors(client.get(path), 404)
    assert error["parameter"] == "path" and path in error["reason"] and "/api/docs" in error["reason"]


def test_under_fhir_an_unknown_path_or_bad_parameter_is_an_operation_outcome(client):
    missing = client.get("/api/v1/fhir/Nothing")
    assert missing.status_code == 404 and missing["Content-Type"] == "application/fhir+json"
    assert missing.json()["issue"][0]["code"] == "not-found"

    # Query parameters checked by ninja before the FHIR view runs (no token needed to be refused).
    bad = client.get("/api/v1/fhir/Task", {"_count": "abc"})
    assert bad.status_code == 400 and bad["Content-Type"] == "application/fhir+json"
    issue = bad.json()["issue"][0]
    assert issue["code"] == "invalid" and issue["expression"] == ["_count"]


def test_hsds_an_unknown_service_is_a_404_naming_it(client):
    [error] = errors(client.get("/api/v1/feeds/hsds/services/not-a-uuid"), 404)
    assert error["parameter"] == "service_id" and "not-a-uuid" in error["reason"]


@pytest.mark.parametrize("path", ["/api/v1/feeds/hsds/services", "/api/v1/feeds/hsds/organizations"])
def test_hsds_a_page_beyond_any_offset_is_a_400_not_a_500(client, path):
    [error] = errors(client.get(path, {"page": "99999999999999999999"}), 400)
    assert error["parameter"] == "page"
    assert client.get(path, {"page": 10_000_000}).json()["contents"] == []


@pytest.mark.parametrize(
    "path", ["/api/v1/feeds/meeting-guide.json", "/api/v1/feeds/hsds/services", "/api/v1/meetings"]
)
def test_a_nul_character_in_a_fellowship_is_an_unknown_fellowship(client, path):
    # PostgreSQL refuses NUL in text parameters: compared in Python, never sent to the database.
    [error] = errors(client.get(path, {"fellowship": "aa\x00"}), 400)
    assert error["parameter"] == "fellowship"


def test_the_search_service_itself_lets_an_unknown_language_find_nothing():
    """The referral wizard searches in a person's preferred language: "none" is an answer there."""
    make_meeting(name="AA")
    result = search_meetings(MeetingSearch(language="xx"), now=NOW)
    assert result.count == 0
