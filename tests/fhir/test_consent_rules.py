"""The consent rules of docs/fhir.md ("What an organisation sees"), one test each, named by the
rule's number (a test in test_docs checks that every rule has one)."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from recoverybridge.audit.models import AuditAction, AuditEvent
from recoverybridge.care import fhir
from recoverybridge.care.models import Consent, ConsentPurpose, Referral, ReferralTargetKind, TaskStatus

BASE = "/api/v1/fhir/"


def auth(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def sees(client, token, referral):
    """What the organisation sees of the referral: listed, Task, ServiceRequest, and may update."""
    listed = str(referral.pk) in [
        entry["resource"]["id"] for entry in client.get(f"{BASE}Task", **auth(token)).json().get("entry", [])
    ]
    task = client.get(f"{BASE}Task/{referral.pk}", **auth(token)).status_code
    request = client.get(f"{BASE}ServiceRequest/{referral.pk}", **auth(token)).status_code
    update = client.patch(
        f"{BASE}Task/{referral.pk}",
        '{"status": "accepted"}',
        content_type="application/fhir+json",
        **auth(token),
    ).status_code
    return listed, task, request, update


HIDDEN = (False, 404, 404, 404)


@pytest.mark.django_db
def test_rule_1_an_active_consent_naming_the_organisation_lets_it_see_and_act(
    client, referral, lighthouse_token
):
    assert sees(client, lighthouse_token, referral) == (True, 200, 200, 200)


@pytest.mark.parametrize(
    "change", [{"recipient": None}, {"purpose": ConsentPurpose.CARE_COORDINATION}, "none"]
)
@pytest.mark.django_db
def test_rule_2_without_one_it_sees_nothing_as_if_there_were_nothing(
    client, referral, sams_consent, beacon, lighthouse_token, change
):
    if change == "none":
        Referral.objects.filter(pk=referral.pk).update(consent=None)
        Consent.objects.filter(pk=sams_consent.pk).delete()
    else:
        Consent.objects.filter(pk=sams_consent.pk).update(**change)

    assert sees(client, lighthouse_token, referral) == HIDDEN
    missing = client.get(f"{BASE}Task/999999", **auth(lighthouse_token)).json()["issue"][0]
    theirs = client.get(f"{BASE}Task/{referral.pk}", **auth(lighthouse_token)).json()["issue"][0]
    assert theirs["diagnostics"].replace(str(referral.pk), "999999") == missing["diagnostics"]


@pytest.mark.django_db
def test_rule_3_revoking_hides_it_at_once(client, referral, sams_consent, lighthouse_token):
    Consent.objects.filter(pk=sams_consent.pk).update(revoked_at=timezone.now() - timedelta(seconds=1))

    assert sees(client, lighthouse_token, referral) == HIDDEN
    assert Referral.objects.get(pk=referral.pk).status == TaskStatus.REQUESTED


@pytest.mark.django_db
def test_rule_4_an_expired_consent_hides_it(client, referral, sams_consent, lighthouse_token):
    Consent.objects.filter(pk=sams_consent.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert sees(client, lighthouse_token, referral) == HIDDEN


@pytest.mark.django_db
def test_rule_5_a_consent_from_a_later_date_covers_nothing_yet(
    client, referral, sams_consent, lighthouse_token
):
    Consent.objects.filter(pk=sams_consent.pk).update(given_at=timezone.now() + timedelta(days=1))

    assert sees(client, lighthouse_token, referral) == HIDDEN


@pytest.mark.django_db
def test_rule_6_a_draft_is_never_seen(client, referral, lighthouse_token):
    Referral.objects.filter(pk=referral.pk).update(status=TaskStatus.DRAFT)

    assert sees(client, lighthouse_token, referral) == HIDDEN


@pytest.fixture
def internal(sam, navigators, alice, harbour):
    """Harbour's Navigators refer Sam to Harbour's own treatment service: no consent needed."""
    return Referral.objects.create(
        person=sam,
        team=navigators,
        referred_by=alice,
        target_kind=ReferralTargetKind.TREATMENT,
        target_organisation=harbour,
        status=TaskStatus.REQUESTED,
        authored_on=timezone.now(),
    )


@pytest.mark.django_db
def test_rule_7_an_internal_referral_is_seen_and_exported_without_consent_but_names_nobody(
    client, internal, harbour, harbour_token, alice
):
    assert sees(client, harbour_token, internal)[:3] == (True, 200, 200)
    task = client.get(f"{BASE}Task/{internal.pk}", **auth(harbour_token)).json()
    assert "reference" not in task["for"]  # identifier only: no Patient to resolve
    assert task["for"]["identifier"]["value"] == "P-7Q2K"
    assert client.get(f"{BASE}Patient/P-7Q2K", **auth(harbour_token)).status_code == 404

    client.force_login(alice)
    bundle = client.get(f"{BASE}referrals/{internal.pk}/bundle")
    assert bundle.status_code == 200
    assert [entry["resource"]["resourceType"] for entry in bundle.json()["entry"]] == [
        "ServiceRequest",
        "Task",
    ]
    assert "supportingInfo" not in bundle.json()["entry"][0]["resource"]
    (event,) = AuditEvent.objects.filter(action=AuditAction.EXPORT, object_id=str(internal.pk))
    assert "internal, no consent needed" in event.detail


@pytest.mark.django_db
def test_rule_8_the_patient_under_consent_is_the_pseudonymous_identifier_alone(
    client, referral, sams_consent, lighthouse_token, beacon_token
):
    response = client.get(f"{BASE}Patient/P-7Q2K", **auth(lighthouse_token))

    assert response.status_code == 200
    patient = response.json()
    assert set(patient) == {"resourceType", "id", "meta", "identifier", "text"}
    assert patient["identifier"] == [{"system": fhir.PERSON_SYSTEM, "value": "P-7Q2K"}]
    for secret in ("Sam", "Rivers", "sam@example.org"):
        assert secret not in response.content.decode()
    assert client.get(f"{BASE}Patient/P-7Q2K", **auth(beacon_token)).status_code == 404
    Consent.objects.filter(pk=sams_consent.pk).update(revoked_at=timezone.now())
    assert client.get(f"{BASE}Patient/P-7Q2K", **auth(lighthouse_token)).status_code == 404


@pytest.mark.django_db
def test_rule_9_the_consent_is_read_by_its_recipient_while_it_covers(
    client, referral, sams_consent, lighthouse_token, beacon_token
):
    response = client.get(f"{BASE}Consent/{sams_consent.pk}", **auth(lighthouse_token))

    assert response.status_code == 200
    assert response.json()["status"] == "active"
    assert client.get(f"{BASE}Consent/{sams_consent.pk}", **auth(beacon_token)).status_code == 404
    Referral.objects.filter(pk=referral.pk).update(status=TaskStatus.DRAFT)  # nothing of Sam's sent any more
    assert client.get(f"{BASE}Consent/{sams_consent.pk}", **auth(lighthouse_token)).status_code == 404
    Referral.objects.filter(pk=referral.pk).update(status=TaskStatus.REQUESTED)
    Consent.objects.filter(pk=sams_consent.pk).update(expires_at=timezone.now())
    assert client.get(f"{BASE}Consent/{sams_consent.pk}", **auth(lighthouse_token)).status_code == 404


@pytest.mark.django_db
def test_rule_10_exporting_to_another_organisation_needs_consent_and_a_refusal_is_audited(
    client, referral, sams_consent, alice
):
    Consent.objects.filter(pk=sams_consent.pk).update(revoked_at=timezone.now())
    client.force_login(alice)

    response = client.get(f"{BASE}referrals/{referral.pk}/bundle")

    assert response.status_code == 403
    assert AuditEvent.objects.filter(action=AuditAction.DENIED, object_id=str(referral.pk)).count() == 1
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()


@pytest.mark.django_db
def test_rule_11_nothing_names_the_person(
    client, referral, sams_consent, lighthouse, harbour, lighthouse_token
):
    paths = [
        "Task",
        f"Task/{referral.pk}",
        f"ServiceRequest/{referral.pk}",
        "Patient/P-7Q2K",
        f"Consent/{sams_consent.pk}",
        f"Organization/{harbour.pk}",
        f"referrals/{referral.pk}/bundle",
    ]
    for path in paths:
        response = client.get(f"{BASE}{path}", **auth(lighthouse_token))
        assert response.status_code == 200, path
        for secret in ("Sam", "Rivers", "sam@example.org"):
            assert secret not in response.content.decode(), path


def test_every_rule_in_the_docs_has_its_test():
    docs = (Path(__file__).resolve().parents[2] / "docs" / "fhir.md").read_text()
    section = docs.split("## What an organisation sees: the consent rules", 1)[1].split("\n## ", 1)[0]
    rules = {int(number) for number in re.findall(r"^(\d+)\. ", section, flags=re.MULTILINE)}
    tested = {
        int(number)
        for number in re.findall(r"^def test_rule_(\d+)_", Path(__file__).read_text(), re.MULTILINE)
    }
    assert rules == tested == set(range(1, 12))
