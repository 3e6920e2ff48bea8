"""What /api/openapi.json promises, checked on the document itself: valid OpenAPI 3.1, every
reference resolvable, every error answer described with its body, and the time formats as
served (a meeting's local time has no offset, so it is no RFC 3339 `time`)."""

import re

import pytest
from openapi_spec_validator import validate

from tests.factories import make_meeting

pytestmark = pytest.mark.django_db


@pytest.fixture
def document(client):
    return client.get("/api/openapi.json").json()


def references(node):
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from references(value)
    elif isinstance(node, list):
        for value in node:
            yield from references(value)


def resolve(document, reference):
    assert reference.startswith("#/"), f"{reference} points outside the document"
    node = document
    for part in reference[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"{reference} does not resolve"
        node = node[part]
    return node


def test_the_document_is_valid_openapi_and_every_reference_resolves(document):
    validate(document)
    found = set(references(document))
    assert "#/components/schemas/ErrorsOut" in found
    for reference in found:
        resolve(document, reference)


def test_a_reference_into_a_schema_of_its_own_is_caught(document):
    # As pydantic's model_json_schema() writes a nested model: #/$defs/... means the document's root.
    document["paths"]["/api/v1/meta"]["get"]["responses"]["200"]["content"]["application/json"] = {
        "schema": {"$ref": "#/$defs/CodingIn"}
    }
    with pytest.raises(AssertionError, match="does not resolve"):
        for reference in references(document):
            resolve(document, reference)


def test_every_operation_describes_its_errors_with_a_body(document):
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "400" in responses, f"{method} {path}: a bad parameter's 400 is not described"
            if "{" in path:
                assert "404" in responses, f"{method} {path}: 404 is not described"
            for status, response in responses.items():
                if int(status) >= 400:
                    [(media, content)] = response["content"].items()
                    assert content["schema"], f"{method} {path} {status}: no body schema"
                    expected = "application/fhir+json" if "/fhir/" in path else "application/json"
                    assert media == expected


def test_a_meetings_times_are_its_local_wall_clock_as_served(document, client):
    meeting = make_meeting()
    served = client.get(f"/api/v1/meetings/{meeting.pk}").json()["start_time"]
    declared = document["components"]["schemas"]["MeetingOut"]["properties"]["start_time"]["anyOf"][0]
    assert "format" not in declared  # "format: time" (RFC 3339) would promise an offset
    assert re.fullmatch(declared["pattern"].strip("^$"), served) and served == "19:00:00"


@pytest.mark.parametrize(("value", "status"), [("00:00", 200), ("7:30", 200), ("00:00:00Z", 400)])
def test_the_search_takes_the_times_its_document_calls_valid(document, client, value, status):
    parameters = document["paths"]["/api/v1/meetings"]["get"]["parameters"]
    [start_after] = [item for item in parameters if item["name"] == "start_after"]
    pattern = start_after["schema"]["anyOf"][0]["pattern"]
    assert bool(re.search(pattern, value)) == (status == 200)
    response = client.get("/api/v1/meetings", {"start_after": value})
    assert response.status_code == status
    if status == 400:
        [error] = response.json()["errors"]
        assert error["parameter"] == "start_after" and "HH:MM" in error["reason"]


def test_an_instant_is_a_date_time_not_a_number(client):
    for path in ("/api/v1/meetings", "/api/v1/feeds/hsds/services"):
        response = client.get(path, {"at": "0.5"})
        assert response.status_code == 400, path
        [error] = response.json()["errors"]
        assert error["parameter"] == "at" and "date-time" in error["reason"]
        assert client.get(path, {"at": "2026-12-07T19:00:00Z"}).status_code == 200
