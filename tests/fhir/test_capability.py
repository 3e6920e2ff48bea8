"""The CapabilityStatement says exactly what the server does: every interaction and search
parameter it lists works for Lighthouse, every one it does not list is refused, and docs/fhir.md
lists the same."""

import json
import re
from pathlib import Path

import pytest
from fhir.resources.R4B.capabilitystatement import CapabilityStatement

BASE = "/api/v1/fhir/"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "fhir.md"
# Every RESTful interaction FHIR R4 defines on a resource type.
INTERACTIONS = (
    "read",
    "vread",
    "update",
    "patch",
    "delete",
    "history-instance",
    "history-type",
    "create",
    "search-type",
)


def auth(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def statement(client):
    response = client.get(f"{BASE}metadata")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    return CapabilityStatement.model_validate(response.json())


def listed(capability):
    """{type: (interactions, search parameters)}"""
    return {
        resource.type: (
            {item.code for item in resource.interaction},
            {item.name for item in resource.searchParam or []},
        )
        for resource in capability.rest[0].resource
    }


@pytest.fixture
def ids(referral, sams_consent, lighthouse):
    return {
        "Task": str(referral.pk),
        "ServiceRequest": str(referral.pk),
        "Patient": referral.person.reference,
        "Consent": str(sams_consent.pk),
        "Organization": str(lighthouse.pk),
    }


def attempt(client, token, kind, interaction, pk):
    """The request each interaction is; its status code."""
    headers = auth(token)
    json_type = "application/fhir+json"
    if interaction == "read":
        return client.get(f"{BASE}{kind}/{pk}", **headers).status_code
    if interaction == "vread":
        return client.get(f"{BASE}{kind}/{pk}/_history/1", **headers).status_code
    if interaction == "history-instance":
        return client.get(f"{BASE}{kind}/{pk}/_history", **headers).status_code
    if interaction == "history-type":
        return client.get(f"{BASE}{kind}/_history", **headers).status_code
    if interaction == "search-type":
        return client.get(f"{BASE}{kind}", **headers).status_code
    if interaction == "delete":
        return client.delete(f"{BASE}{kind}/{pk}", **headers).status_code
    if interaction == "create":
        body = json.dumps({"resourceType": kind})
        return client.post(f"{BASE}{kind}", body, content_type=json_type, **headers).status_code
    current = client.get(f"{BASE}{kind}/{pk}", **headers)
    if interaction == "update":
        body = json.dumps({**current.json(), "status": "accepted"} if kind == "Task" else current.json())
        return client.put(
            f"{BASE}{kind}/{pk}",
            body,
            content_type=json_type,
            HTTP_IF_MATCH=current.get("ETag", ""),
            **headers,
        ).status_code
    body = json.dumps([{"op": "replace", "path": "/status", "value": "in-progress"}])
    return client.patch(
        f"{BASE}{kind}/{pk}", body, content_type="application/json-patch+json", **headers
    ).status_code


@pytest.mark.django_db
def test_the_statement_needs_no_token_and_is_valid(client):
    capability = statement(client)

    assert capability.fhirVersion == "4.0.1"
    assert capability.kind == "instance"
    assert set(capability.format) >= {"json", "application/fhir+json"}
    assert "xml" not in capability.format
    assert capability.rest[0].security.description.startswith("Each receiving organisation")


@pytest.mark.django_db
def test_every_interaction_listed_works_and_every_other_is_refused(client, ids, lighthouse_token):
    found = listed(statement(client))
    assert set(found) == set(ids)

    for kind, (interactions, _) in found.items():
        for interaction in INTERACTIONS:
            status = attempt(client, lighthouse_token, kind, interaction, ids[kind])
            if interaction in interactions:
                assert status == 200, (kind, interaction, status)
            else:
                assert status in (400, 404, 405), (kind, interaction, status)
    # A resource type not listed at all.
    assert client.get(f"{BASE}Observation/1", **auth(lighthouse_token)).status_code == 404


@pytest.mark.django_db
def test_every_search_parameter_listed_filters(client, referral, harbour, lighthouse, lighthouse_token):
    (parameters,) = [searched for _, searched in listed(statement(client)).values() if searched]
    matching = {
        "_id": str(referral.pk),
        "_lastUpdated": f"ge{referral.updated_at.date().isoformat()}",
        "status": "requested",
        "owner": f"Organization/{lighthouse.pk}",
        "requester": f"Organization/{harbour.pk}",
    }
    other = {
        "_id": "999999",
        "_lastUpdated": f"lt{referral.updated_at.date().isoformat()}",
        "status": "completed",
        "owner": "Organization/999999",
        "requester": f"Organization/{lighthouse.pk}",
    }
    assert parameters == set(matching)

    for name in parameters:
        hits = client.get(f"{BASE}Task", {name: matching[name]}, **auth(lighthouse_token))
        misses = client.get(f"{BASE}Task", {name: other[name]}, **auth(lighthouse_token))
        assert (hits.json()["total"], misses.json()["total"]) == (1, 0), name


@pytest.mark.parametrize(
    "name", ["subject", "patient", "focus", "code", "_text", "_has:Patient:link:id", "identifier"]
)
@pytest.mark.django_db
def test_a_search_parameter_not_listed_is_refused(client, referral, lighthouse_token, name):
    response = client.get(f"{BASE}Task", {name: "1"}, **auth(lighthouse_token))

    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == [name]


def documented_table():
    """The rows of the table under "## Interactions" in docs/fhir.md, as {type: (interactions, parameters)}."""
    text = DOCS.read_text()
    section = text.split("## Interactions", 1)[1].split("\n## ", 1)[0]
    found = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not re.fullmatch(r"`\w+`", cells[0]):
            continue
        names = re.findall(r"`([\w-]+)`", cells[1])
        parameters = set(re.findall(r"`(_?\w+)`", cells[2]))
        found[cells[0].strip("`")] = (set(names), parameters)
    return found


@pytest.mark.django_db
def test_the_docs_list_exactly_what_the_statement_lists(client):
    assert documented_table() == listed(statement(client))
