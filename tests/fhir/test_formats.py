"""JSON is all we serve: a client that accepts only something else gets a 406 (never JSON with a
200), `_format` is honoured and overrides Accept, and a body in the wrong type is a 415."""

import json

import pytest

from recoverybridge.care.models import Referral, TaskStatus

TASK = "/api/v1/fhir/Task/{}"


def auth(token, **headers):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}", **headers}


@pytest.mark.parametrize(
    ("accept", "served"),
    [
        ("application/fhir+json", "application/fhir+json"),
        ("application/json", "application/json"),
        ("application/json+fhir", "application/fhir+json"),
        ("*/*", "application/fhir+json"),
        ("application/fhir+xml;q=0.9, application/fhir+json;q=0.8", "application/fhir+json"),
        ("application/fhir+json; fhirVersion=4.0", "application/fhir+json"),
        ("application/json, application/fhir+json", "application/fhir+json"),
    ],
)
@pytest.mark.django_db
def test_json_in_any_of_its_names(client, referral, lighthouse_token, accept, served):
    response = client.get(TASK.format(referral.pk), **auth(lighthouse_token, HTTP_ACCEPT=accept))

    assert response.status_code == 200
    assert response["Content-Type"] == served
    assert response.json()["resourceType"] == "Task"


@pytest.mark.parametrize(
    "accept",
    [
        "application/fhir+xml",
        "application/xml",
        "text/html",
        "text/turtle",
        "application/fhir+json;q=0",
        "application/fhir+json; fhirVersion=5.0",
    ],
)
@pytest.mark.django_db
def test_anything_else_is_a_406(client, referral, lighthouse_token, accept):
    response = client.get(TASK.format(referral.pk), **auth(lighthouse_token, HTTP_ACCEPT=accept))

    assert response.status_code == 406
    assert response.json()["issue"][0]["code"] == "not-supported"


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("json", 200),
        ("application/fhir+json", 200),
        ("application/fhir json", 200),  # an unencoded + arrives as a space
        ("xml", 406),
        ("application/fhir+xml", 406),
        ("html", 406),
        ("ttl", 406),
    ],
)
@pytest.mark.django_db
def test_format_overrides_accept(client, referral, lighthouse_token, value, status):
    response = client.get(
        TASK.format(referral.pk),
        {"_format": value},
        **auth(lighthouse_token, HTTP_ACCEPT="application/fhir+xml"),
    )

    assert response.status_code == status
    if status == 406:
        assert response.json()["issue"][0]["expression"] == ["_format"]


@pytest.mark.django_db
def test_the_capability_statement_refuses_xml_too(client):
    assert client.get("/api/v1/fhir/metadata", HTTP_ACCEPT="application/fhir+xml").status_code == 406
    assert client.get("/api/v1/fhir/metadata", {"_format": "xml"}).status_code == 406


@pytest.mark.django_db
def test_pretty_indents(client, referral, lighthouse_token):
    plain = client.get(TASK.format(referral.pk), **auth(lighthouse_token))
    pretty = client.get(TASK.format(referral.pk), {"_pretty": "true"}, **auth(lighthouse_token))

    assert b"\n  " in pretty.content and b"\n" not in plain.content
    assert json.loads(pretty.content) == plain.json()
    assert (
        client.get(TASK.format(referral.pk), {"_pretty": "yes"}, **auth(lighthouse_token)).status_code == 400
    )


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/xml",
        "application/fhir+xml",
        "application/x-www-form-urlencoded",
        "application/json; charset=latin-1",
    ],
)
@pytest.mark.django_db
def test_a_patch_in_another_type_is_a_415_and_changes_nothing(
    client, referral, lighthouse_token, content_type
):
    body = json.dumps({"resourceType": "Task", "status": "accepted"})

    response = client.patch(
        TASK.format(referral.pk), body, content_type=content_type, **auth(lighthouse_token)
    )

    assert response.status_code == 415
    assert Referral.objects.get(pk=referral.pk).status == TaskStatus.REQUESTED


@pytest.mark.django_db
def test_a_put_in_another_type_is_a_415(client, referral, lighthouse_token):
    response = client.put(
        TASK.format(referral.pk),
        "{}",
        content_type="text/plain",
        **auth(lighthouse_token, HTTP_IF_MATCH='W/"1"'),
    )

    assert response.status_code == 415


@pytest.mark.django_db
def test_a_read_takes_no_other_parameter(client, referral, lighthouse_token):
    response = client.get(TASK.format(referral.pk), {"_elements": "status"}, **auth(lighthouse_token))

    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["_elements"]
