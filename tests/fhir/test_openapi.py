"""/api/openapi.json stays a valid OpenAPI 3.1 document and describes every FHIR endpoint with its
error answers."""

import pytest
from openapi_spec_validator import validate

FHIR = "/api/v1/fhir"


@pytest.fixture
def document(client):
    return client.get("/api/openapi.json").json()


@pytest.mark.django_db
def test_the_document_is_valid_openapi(document):
    validate(document)


@pytest.mark.django_db
def test_every_fhir_endpoint_and_its_answers_are_described(document):
    paths = {path: set(operations) for path, operations in document["paths"].items() if path.startswith(FHIR)}
    assert paths == {
        f"{FHIR}/metadata": {"get"},
        f"{FHIR}/Task": {"get"},
        f"{FHIR}/Task/_search": {"post"},
        f"{FHIR}/Task/{{task_id}}": {"get", "put", "patch"},
        f"{FHIR}/ServiceRequest/{{request_id}}": {"get"},
        f"{FHIR}/Patient/{{patient_id}}": {"get"},
        f"{FHIR}/Consent/{{consent_id}}": {"get"},
        f"{FHIR}/Organization/{{organization_id}}": {"get"},
        f"{FHIR}/referrals/{{referral_id}}/bundle": {"get"},
    }
    task = document["paths"][f"{FHIR}/Task/{{task_id}}"]
    assert {"200", "400", "401", "403", "404", "406", "409", "412", "415", "428", "429"} <= set(
        task["put"]["responses"]
    )
    assert "428" not in task["patch"]["responses"] and "412" in task["patch"]["responses"]
    assert "304" in task["get"]["responses"]
    assert set(task["patch"]["requestBody"]["content"]) == {
        "application/json-patch+json",
        "application/merge-patch+json",
        "application/fhir+json",
        "application/json",
    }
    headers = {item["name"] for item in task["put"]["parameters"] if item["in"] == "header"}
    assert {"If-Match", "Prefer"} <= headers
    search = {item["name"] for item in document["paths"][f"{FHIR}/Task"]["get"]["parameters"]}
    assert {"_id", "_lastUpdated", "status", "owner", "requester", "_count", "_format"} <= search
