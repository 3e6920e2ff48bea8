"""Exporting Sam's referral to Lighthouse as FHIR: valid R4 resources with the right values,
only while Sam's consent to share it with Lighthouse is active, and always audited."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.consent import Consent as FhirConsent
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.task import Task

from recoverybridge.audit.models import AuditAction, AuditEvent
from recoverybridge.care import actions, fhir
from recoverybridge.care.errors import ConsentRequired, NoRecipient
from recoverybridge.care.models import Consent, MutualAidMilestone, Referral, TaskStatus

BASE = "https://rb.test/api/v1/fhir/"


def resources(bundle):
    """The Bundle as plain JSON, re-validated from its text, by resource type."""
    data = json.loads(bundle.model_dump_json())
    Bundle.model_validate(data)
    return {entry["resource"]["resourceType"]: entry["resource"] for entry in data["entry"]}


def export(referral, actor):
    return actions.export_referral(Referral.objects.get(pk=referral.pk), base_url=BASE, actor=actor)


@pytest.mark.django_db
def test_the_bundle_holds_a_service_request_task_and_consent_that_validate(referral, alice):
    found = resources(export(referral, alice))

    assert sorted(found) == ["Consent", "ServiceRequest", "Task"]
    ServiceRequest.model_validate(found["ServiceRequest"])
    Task.model_validate(found["Task"])
    FhirConsent.model_validate(found["Consent"])


@pytest.mark.django_db
def test_entries_have_full_urls_under_our_fhir_base(referral, sams_consent, alice):
    data = json.loads(export(referral, alice).model_dump_json())

    assert data["type"] == "collection"
    assert [entry["fullUrl"] for entry in data["entry"]] == [
        f"{BASE}ServiceRequest/{referral.pk}",
        f"{BASE}Task/{referral.pk}",
        f"{BASE}Consent/{sams_consent.pk}",
    ]


@pytest.mark.django_db
def test_sam_appears_only_by_pseudonymous_reference(referral, alice):
    text = export(referral, alice).model_dump_json()
    found = resources(export(referral, alice))

    # A literal reference too, since Sam's consent covers Lighthouse: the Patient it resolves to
    # holds this identifier and nothing more.
    patient = {
        "reference": "Patient/P-7Q2K",
        "type": "Patient",
        "identifier": {"system": fhir.PERSON_SYSTEM, "value": "P-7Q2K"},
    }
    assert found["ServiceRequest"]["subject"] == patient
    assert found["Task"]["for"] == patient
    assert found["Consent"]["patient"] == patient
    for secret in ("Sam", "Rivers", "sam@example.org"):
        assert secret not in text


@pytest.mark.django_db
def test_service_request_names_lighthouse_and_the_meeting_as_performers(referral, lighthouse, meeting, alice):
    request = resources(export(referral, alice))["ServiceRequest"]

    assert request["status"] == "active"
    assert request["intent"] == "order"
    assert request["requester"]["display"] == "Harbour Detox"
    organisation, service = request["performer"]
    assert organisation == {
        "reference": f"Organization/{lighthouse.pk}",
        "type": "Organization",
        "identifier": {"system": fhir.ORGANISATION_SYSTEM, "value": str(lighthouse.pk)},
        "display": "Lighthouse Recovery",
    }
    assert service["type"] == "HealthcareService"
    assert service["identifier"] == {"system": fhir.MEETING_SYSTEM, "value": str(meeting.pk)}
    assert service["display"] == "Alcoholics Anonymous: Harbour Lights Group"
    assert request["locationReference"] == [
        {"type": "Location", "display": "1 Main St, Lewes, DE 19958, USA"}
    ]
    assert request["reasonCode"] == [{"text": "Wants a meeting near home after detox"}]
    assert request["code"]["coding"][0]["code"] == "meeting"


@pytest.mark.django_db
def test_task_carries_status_milestone_and_reason(referral, lighthouse, alice):
    Referral.objects.filter(pk=referral.pk).update(
        status=TaskStatus.IN_PROGRESS,
        business_status=MutualAidMilestone.ATTENDED_FIRST,
        status_reason="Met a member at the door",
    )

    task = resources(export(referral, alice))["Task"]

    assert task["status"] == "in-progress"
    assert task["intent"] == "order"
    assert task["focus"] == {"reference": f"ServiceRequest/{referral.pk}", "type": "ServiceRequest"}
    assert task["owner"]["display"] == "Lighthouse Recovery"
    assert task["businessStatus"]["coding"] == [
        {
            "system": fhir.MILESTONE_SYSTEM,
            "code": "attended-first-meeting",
            "display": "Attended first meeting",
        }
    ]
    assert task["statusReason"] == {"text": "Met a member at the door"}


@pytest.mark.parametrize(
    ("task_status", "request_status"),
    [
        (TaskStatus.REQUESTED, "active"),
        (TaskStatus.ON_HOLD, "on-hold"),
        (TaskStatus.REJECTED, "revoked"),
        (TaskStatus.COMPLETED, "completed"),
    ],
)
@pytest.mark.django_db
def test_service_request_status_follows_the_task(referral, alice, task_status, request_status):
    Referral.objects.filter(pk=referral.pk).update(status=task_status)

    found = resources(export(referral, alice))

    assert found["Task"]["status"] == task_status
    assert found["ServiceRequest"]["status"] == request_status


@pytest.mark.django_db
def test_consent_permits_disclosure_to_lighthouse_for_its_period(referral, sams_consent, lighthouse, alice):
    consent = resources(export(referral, alice))["Consent"]

    assert consent["status"] == "active"
    assert consent["scope"]["coding"][0]["code"] == "patient-privacy"
    provision = consent["provision"]
    assert provision["type"] == "permit"
    assert provision["period"]["start"].startswith(sams_consent.given_at.strftime("%Y-%m-%dT%H:%M:%S"))
    assert provision["period"]["end"].startswith(sams_consent.expires_at.strftime("%Y-%m-%dT%H:%M:%S"))
    (actor,) = provision["actor"]
    assert actor["role"]["coding"][0]["code"] == "IRCP"
    assert actor["reference"]["identifier"]["value"] == str(lighthouse.pk)
    assert provision["action"][0]["coding"][0]["code"] == "disclose"


@pytest.mark.django_db
def test_each_export_leaves_one_export_event(referral, alice, lighthouse):
    export(referral, alice)

    (event,) = AuditEvent.objects.filter(action=AuditAction.EXPORT)
    assert event.actor == alice
    assert event.object_type == "care.referral"
    assert event.object_id == str(referral.pk)
    assert event.person_id == referral.person_id
    assert "Sam" not in event.detail


@pytest.mark.django_db
def test_no_export_without_consent(referral, sams_consent, alice):
    Referral.objects.filter(pk=referral.pk).update(consent=None)
    Consent.objects.filter(pk=sams_consent.pk).delete()

    with pytest.raises(ConsentRequired):
        export(referral, alice)

    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()
    assert AuditEvent.objects.filter(action=AuditAction.DENIED, object_id=str(referral.pk)).count() == 1


@pytest.mark.django_db
def test_no_export_after_sam_revokes_consent(referral, sams_consent, alice):
    export(referral, alice)
    Consent.objects.filter(pk=sams_consent.pk).update(revoked_at=timezone.now() - timedelta(seconds=1))

    with pytest.raises(ConsentRequired):
        export(referral, alice)

    assert AuditEvent.objects.filter(action=AuditAction.EXPORT).count() == 1


@pytest.mark.django_db
def test_no_export_after_consent_expires(referral, sams_consent, alice):
    Consent.objects.filter(pk=sams_consent.pk).update(expires_at=timezone.now() - timedelta(minutes=1))

    with pytest.raises(ConsentRequired):
        export(referral, alice)


@pytest.mark.django_db
def test_consent_to_another_organisation_does_not_cover_lighthouse(referral, sams_consent, beacon, alice):
    Consent.objects.filter(pk=sams_consent.pk).update(recipient=beacon)

    with pytest.raises(ConsentRequired):
        export(referral, alice)


@pytest.mark.django_db
def test_a_referral_to_a_meeting_alone_has_nobody_to_export_to(referral, alice):
    Referral.objects.filter(pk=referral.pk).update(target_organisation=None)

    with pytest.raises(NoRecipient):
        export(referral, alice)


@pytest.mark.django_db
def test_consent_shows_inactive_once_revoked(referral, sams_consent):
    sams_consent.revoked_at = timezone.now() - timedelta(hours=1)

    resource = fhir.consent(sams_consent)

    assert resource.status == "inactive"
    assert resource.provision.period.end is not None


@pytest.mark.django_db
def test_a_treatment_referral_names_only_the_organisation(referral, lighthouse, alice):
    Referral.objects.filter(pk=referral.pk).update(
        target_kind="treatment", meeting=None, fellowship=None, reason=""
    )

    request = resources(export(referral, alice))["ServiceRequest"]

    assert [performer["type"] for performer in request["performer"]] == ["Organization"]
    assert "locationReference" not in request
    assert "reasonCode" not in request
    assert request["code"]["coding"][0]["code"] == "treatment"


@pytest.mark.django_db
def test_a_group_referral_names_the_fellowship_as_a_service(referral, meeting, alice):
    Referral.objects.filter(pk=referral.pk).update(target_kind="fellowship", meeting=None)

    request = resources(export(referral, alice))["ServiceRequest"]

    service = request["performer"][1]
    assert service["identifier"] == {"system": fhir.FELLOWSHIP_SYSTEM, "value": str(meeting.fellowship_id)}
    assert service["display"] == "Alcoholics Anonymous"
