"""Every API answer to bad input is JSON naming what is wrong (FHIR: an OperationOutcome),
never a 500 or Django's HTML error page."""

import pytest
from django.test import Client

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


# ---------------------------------------------------------------- methods, /api/ itself


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/v1/meetings"),
        ("delete", "/api/v1/meetings/1"),
        ("put", "/api/v1/fellowships"),
        ("patch", "/api/v1/feeds/hsds/services"),
        ("post", "/api/v1/feeds/meeting-guide.json"),
    ],
)
def test_a_method_an_endpoint_does_not_take_is_a_json_405_with_allow(method, path):
    # CSRF checked as in production: the API is told apart from a form post without a token.
    response = getattr(Client(enforce_csrf_checks=True), method)(path)
    [error] = errors(response, 405)
    assert response["Allow"] == "GET"
    assert error["parameter"] == "method"
    assert error["reason"] == f"{method.upper()} is not allowed here; allowed: GET"


def test_under_fhir_a_wrong_method_is_an_operation_outcome_listing_the_allowed_ones():
    client = Client(enforce_csrf_checks=True)
    response = client.delete("/api/v1/fhir/Task/1")
    assert response.status_code == 405 and response["Content-Type"] == "application/fhir+json"
    assert response["Allow"] == "GET, PATCH, PUT"
    [issue] = response.json()["issue"]
    assert issue["code"] == "not-supported" and issue["expression"] == ["method"]
    assert "DELETE" in issue["diagnostics"] and "GET, PATCH, PUT" in issue["diagnostics"]
    assert client.post("/api/v1/fhir/Task")["Allow"] == "GET"


@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_the_api_root_is_a_json_404_pointing_to_the_docs(method):
    response = getattr(Client(enforce_csrf_checks=True), method)("/api/")
    [error] = errors(response, 404)
    assert error["parameter"] == "path" and "/api/docs" in error["reason"]
    assert response["Link"] == '</api/docs>; rel="service-doc", </api/openapi.json>; rel="service-desc"'
    # The docs it points to are there, and ninja still finds the API's prefix through it.
    assert Client().get("/api/docs").status_code == 200
    assert "/api/v1/meetings" in Client().get("/api/openapi.json").json()["paths"]


def test_any_method_on_an_unknown_path_is_a_404_not_a_405(client):
    for method in ("get", "head", "post", "options"):
        response = getattr(client, method)("/api/v1/nothing")
        assert response.status_code == 404, method
        assert response["Content-Type"].startswith("application/json")


# ---------------------------------------------------------------- a parameter given twice


def single_value_parameters():
    """(path, parameter) for every query parameter in the OpenAPI document that is not a list."""
    found = []
    for path, operations in Client().get("/api/openapi.json").json()["paths"].items():
        for parameter in operations.get("get", {}).get("parameters", []):
            schema = parameter.get("schema", {})
            kinds = [schema.get("type")] + [option.get("type") for option in schema.get("anyOf", [])]
            if parameter["in"] == "query" and "array" not in kinds:
                found.append((path.replace("{", "").replace("}", ""), parameter["name"]))
    return found


def test_every_single_value_parameter_given_twice_is_a_400_naming_it(client):
    checked = single_value_parameters()
    # The document lists the search, the feeds and the FHIR Task list's parameters.
    names = {(path, name) for path, name in checked}
    assert {("/api/v1/meetings", "lat"), ("/api/v1/feeds/hsds/services", "page")} <= names
    assert {("/api/v1/fhir/Task", "status"), ("/api/v1/fhir/Task", "_count")} <= names
    for path, name in checked:
        response = client.get(f"{path}?{name}=1&{name}=2")
        assert response.status_code == 400, (path, name, response.content[:200])
        if path.startswith("/api/v1/fhir/"):
            [issue] = response.json()["issue"]
            assert issue["expression"] == [name], (path, name)
            assert issue["diagnostics"] == f"{name}: given more than once; it takes one value"
        else:
            assert response.json()["errors"] == [
                {"parameter": name, "reason": "given more than once; it takes one value"}
            ], (path, name)


def test_the_same_place_given_twice_is_refused_not_half_used(client):
    make_meeting(name="AA")
    [error] = errors(client.get("/api/v1/meetings?lat=51.5&lat=40.7&lon=-0.12"), 400)
    assert error["parameter"] == "lat"
    assert client.get("/api/v1/meetings?lat=51.5&lon=-0.12").status_code == 200


def test_repeatable_parameters_still_take_every_value(client):
    make_meeting(name="Monday", weekday=1)
    make_meeting(name="Tuesday", weekday=2, fellowship="na")
    make_meeting(name="Wednesday", weekday=3)

    response = client.get("/api/v1/meetings?day=1&day=2")
    assert response.status_code == 200
    assert sorted(hit["name"] for hit in response.json()["results"]) == ["Monday", "Tuesday"]
    both = client.get("/api/v1/meetings?fellowship=aa&fellowship=na").json()
    assert both["count"] == 3
    feed = client.get("/api/v1/feeds/meeting-guide.json?fellowship=aa&fellowship=na")
    assert feed.status_code == 200
