"""Every reference the API hands Lighthouse resolves for Lighthouse, and so does every fullUrl of
an exported Bundle; the references by identifier alone are the ones docs/fhir.md names, and
each resource read is on the audit trail once."""

import pytest
from fhir.resources.R4B import get_fhir_model_class

from recoverybridge.audit.models import AuditAction, AuditEvent

BASE = "http://testserver/api/v1/fhir/"


def auth(token, **headers):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}", **headers}


def references(value, path=""):
    """(path, reference) for every Reference inside a resource."""
    if isinstance(value, dict):
        if ("identifier" in value and "type" in value) or isinstance(value.get("reference"), str):
            yield path, value
        for name, item in value.items():
            yield from references(item, f"{path}.{name}")
    elif isinstance(value, list):
        for item in value:
            yield from references(item, path)


def resolve(client, token, url):
    response = client.get(url if url.startswith("http") else f"{BASE}{url}", **auth(token))
    assert response.status_code == 200, (url, response.content[:200])
    data = response.json()
    get_fhir_model_class(data["resourceType"]).model_validate(data)
    return data


@pytest.mark.django_db
def test_the_bundle_full_urls_and_every_reference_in_it_resolve(client, referral, lighthouse_token):
    bundle = resolve(client, lighthouse_token, f"referrals/{referral.pk}/bundle")

    identifier_only = set()
    for entry in bundle["entry"]:
        assert resolve(client, lighthouse_token, entry["fullUrl"]) == entry["resource"]
        for path, reference in references(entry["resource"]):
            if "reference" in reference:
                resolve(client, lighthouse_token, reference["reference"])
            else:
                identifier_only.add((entry["resource"]["resourceType"], path, reference["type"]))
    # Only the meeting, a HealthcareService in our public directory, is by identifier alone.
    assert identifier_only == {("ServiceRequest", ".performer", "HealthcareService")}


@pytest.mark.django_db
def test_each_resource_read_is_audited_once(client, referral, sams_consent, lighthouse, lighthouse_token):
    before = AuditEvent.objects.count()
    paths = [
        f"ServiceRequest/{referral.pk}",
        "Patient/P-7Q2K",
        f"Consent/{sams_consent.pk}",
        f"Organization/{lighthouse.pk}",
    ]
    for path in paths:
        resolve(client, lighthouse_token, path)

    events = list(AuditEvent.objects.order_by("id")[before:])
    assert [(event.action, event.object_type, event.object_id) for event in events] == [
        (AuditAction.VIEW, "care.referral", str(referral.pk)),
        (AuditAction.VIEW, "care.person", str(referral.person_id)),
        (AuditAction.VIEW, "care.consent", str(sams_consent.pk)),
        (AuditAction.VIEW, "organisations.organisation", str(lighthouse.pk)),
    ]
    assert {event.actor_organisation_id for event in events} == {lighthouse.pk}
    assert [event.person_id for event in events] == [referral.person_id] * 3 + [None]


@pytest.mark.django_db
def test_another_organisation_resolves_none_of_it(
    client, referral, sams_consent, lighthouse, harbour, beacon_token
):
    for path in (
        f"ServiceRequest/{referral.pk}",
        "Patient/P-7Q2K",
        f"Consent/{sams_consent.pk}",
        f"Organization/{harbour.pk}",
        f"Organization/{lighthouse.pk}",
        f"referrals/{referral.pk}/bundle",
    ):
        assert client.get(f"{BASE}{path}", **auth(beacon_token)).status_code == 404, path


@pytest.mark.django_db
def test_conditional_reads_of_what_references_point_to(client, referral, lighthouse_token):
    first = client.get(f"{BASE}Patient/P-7Q2K", **auth(lighthouse_token))
    again = client.get(f"{BASE}Patient/P-7Q2K", **auth(lighthouse_token, HTTP_IF_NONE_MATCH=first["ETag"]))

    assert again.status_code == 304
    assert first.json()["meta"]["versionId"] in first["ETag"]


@pytest.mark.parametrize("kind", ["Task", "ServiceRequest", "Patient", "Consent", "Organization"])
@pytest.mark.django_db
def test_an_id_no_resource_can_have_is_a_404_not_a_database_error(client, referral, lighthouse_token, kind):
    # PostgreSQL refuses a NUL in a string: the id is checked before it reaches the database.
    response = client.get(f"{BASE}{kind}/P-7Q2K%00", **auth(lighthouse_token))

    assert response.status_code == 404
    (event,) = AuditEvent.objects.filter(action=AuditAction.DENIED)
    assert event.object_id == "(not an id)"
