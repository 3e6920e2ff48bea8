"""A referral as FHIR R4 resources: ServiceRequest + Task + Consent, in a Bundle.

Built with `fhir.resources.R4B` models (their ServiceRequest, Task and Consent
match R4 field for field), so every export is validated before it leaves.

What is disclosed (minimal by default, the receiving organisation needs no more
to act on the referral):
- the person only as a pseudonymous identifier (Person.reference) in the
  subject/for/patient references. No name, birth date or contact details: the
  Consent.scope we record is free text that software cannot read reliably, so
  we never widen disclosure on the strength of it; the worker introduces the
  person directly.
- the referral's reason, status, milestone and status reason, the referring
  and receiving organisations, and the target meeting (public directory data).

Status mapping (HL7 Gravity SDOH referral guide): Task.status is Referral.status;
Task.businessStatus is the mutual-aid milestone in our own code system;
ServiceRequest.status follows the Task (see SERVICE_REQUEST_STATUS).
"""

from datetime import UTC, datetime
from html import escape
from typing import Any

from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.consent import Consent as FhirConsent
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.task import Task

from recoverybridge.care.models import (
    Consent,
    ConsentPurpose,
    MutualAidMilestone,
    Person,
    Referral,
    ReferralTargetKind,
    TaskStatus,
)
from recoverybridge.organisations.models import Organisation

# Our own namespace for identifiers and codes. It names things; it need not resolve.
SYSTEM_BASE = "https://recoverybridge.org/fhir"
PERSON_SYSTEM = f"{SYSTEM_BASE}/sid/person-reference"
ORGANISATION_SYSTEM = f"{SYSTEM_BASE}/sid/organisation"
MEETING_SYSTEM = f"{SYSTEM_BASE}/sid/meeting"
FELLOWSHIP_SYSTEM = f"{SYSTEM_BASE}/sid/fellowship"
REFERRAL_SYSTEM = f"{SYSTEM_BASE}/sid/referral"
MILESTONE_SYSTEM = f"{SYSTEM_BASE}/CodeSystem/mutual-aid-milestone"
TARGET_KIND_SYSTEM = f"{SYSTEM_BASE}/CodeSystem/referral-target-kind"
CONSENT_PURPOSE_SYSTEM = f"{SYSTEM_BASE}/CodeSystem/consent-purpose"

TASK_CODE_SYSTEM = "http://hl7.org/fhir/CodeSystem/task-code"
CONSENT_SCOPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/consentscope"
CONSENT_ACTION_SYSTEM = "http://terminology.hl7.org/CodeSystem/consentaction"
ACT_CODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ACT_REASON_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
PARTICIPATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
LOINC = "http://loinc.org"

# ServiceRequest.status (request-status) for each Task.status.
SERVICE_REQUEST_STATUS = {
    TaskStatus.DRAFT: "draft",
    TaskStatus.REQUESTED: "active",
    TaskStatus.ACCEPTED: "active",
    TaskStatus.IN_PROGRESS: "active",
    TaskStatus.ON_HOLD: "on-hold",
    TaskStatus.REJECTED: "revoked",
    TaskStatus.CANCELLED: "revoked",
    TaskStatus.FAILED: "revoked",
    TaskStatus.COMPLETED: "completed",
    TaskStatus.ENTERED_IN_ERROR: "entered-in-error",
}

# Consent.provision.purpose in HL7's v3 ActReason for each of our purposes.
PURPOSE_OF_USE = {
    ConsentPurpose.CARE_COORDINATION: ("CAREMGT", "care management"),
    ConsentPurpose.REFERRAL: ("TREAT", "treatment"),
    ConsentPurpose.EVALUATION: ("HRESCH", "healthcare research"),
}


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def patient_reference(person: Person) -> dict[str, Any]:
    """The person by pseudonymous identifier only: no name, no record id."""
    return {"type": "Patient", "identifier": {"system": PERSON_SYSTEM, "value": person.reference}}


def person_reference(referral: Referral) -> dict[str, Any]:
    return patient_reference(referral.person)


def organisation_reference(organisation: Organisation) -> dict[str, Any]:
    return {
        "type": "Organization",
        "identifier": {"system": ORGANISATION_SYSTEM, "value": str(organisation.pk)},
        "display": organisation.name,
    }


def milestone_concept(milestone: str) -> dict[str, Any] | None:
    if not milestone:
        return None
    display = str(MutualAidMilestone(milestone).label)
    return {"coding": [{"system": MILESTONE_SYSTEM, "code": milestone, "display": display}], "text": display}


def _performers(referral: Referral) -> list[dict[str, Any]]:
    """Who is asked to act: the receiving organisation, and the mutual-aid meeting or group.

    A meeting or a fellowship is not an organisation we exchange data with, so it
    is a HealthcareService reference by our directory identifier, with a display.
    """
    performers: list[dict[str, Any]] = []
    if referral.target_organisation is not None:
        performers.append(organisation_reference(referral.target_organisation))
    if referral.meeting is not None:
        meeting = referral.meeting
        performers.append(
            {
                "type": "HealthcareService",
                "identifier": {"system": MEETING_SYSTEM, "value": str(meeting.pk)},
                "display": f"{meeting.fellowship.name}: {meeting.name}",
            }
        )
    elif referral.fellowship is not None:
        performers.append(
            {
                "type": "HealthcareService",
                "identifier": {"system": FELLOWSHIP_SYSTEM, "value": str(referral.fellowship.pk)},
                "display": referral.fellowship.name,
            }
        )
    return performers


def service_request(referral: Referral) -> ServiceRequest:
    kind = ReferralTargetKind(referral.target_kind)
    data: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": str(referral.pk),
        "identifier": [{"system": REFERRAL_SYSTEM, "value": str(referral.pk)}],
        "status": SERVICE_REQUEST_STATUS[TaskStatus(referral.status)],
        "intent": "order",
        "code": {
            "coding": [{"system": TARGET_KIND_SYSTEM, "code": kind.value, "display": str(kind.label)}],
            "text": str(kind.label),
        },
        "subject": person_reference(referral),
        "authoredOn": _instant(referral.authored_on),
        "requester": organisation_reference(referral.team.organisation),
    }
    performers = _performers(referral)
    if performers:
        data["performer"] = performers
    meeting = referral.meeting
    if meeting is not None and meeting.location is not None:
        address = meeting.location.formatted_address or meeting.location.name
        if address:
            data["locationReference"] = [{"type": "Location", "display": address}]
    if referral.reason:
        data["reasonCode"] = [{"text": referral.reason}]
    if referral.consent_id is not None:
        data["supportingInfo"] = [{"reference": f"Consent/{referral.consent_id}"}]
    return ServiceRequest.model_validate(data)


def task(referral: Referral) -> Task:
    data: dict[str, Any] = {
        "resourceType": "Task",
        "id": str(referral.pk),
        "identifier": [{"system": REFERRAL_SYSTEM, "value": str(referral.pk)}],
        "basedOn": [{"reference": f"ServiceRequest/{referral.pk}"}],
        "focus": {"reference": f"ServiceRequest/{referral.pk}"},
        "status": referral.status,
        "intent": "order",
        "code": {"coding": [{"system": TASK_CODE_SYSTEM, "code": "fulfill"}]},
        "for": person_reference(referral),
        "authoredOn": _instant(referral.authored_on),
        "lastModified": _instant(referral.updated_at),
        "requester": organisation_reference(referral.team.organisation),
    }
    if referral.target_organisation is not None:
        data["owner"] = organisation_reference(referral.target_organisation)
    business_status = milestone_concept(referral.business_status)
    if business_status is not None:
        data["businessStatus"] = business_status
    if referral.status_reason:
        data["statusReason"] = {"text": referral.status_reason}
    return Task.model_validate(data)


def consent(referral: Referral, given: Consent) -> FhirConsent:
    """The consent that covers this disclosure: permit, for its period, to its recipient."""
    return person_consent(given, referral.person, referral.team.organisation)


def person_consent(given: Consent, person: Person, organisation: Organisation) -> FhirConsent:
    """One of `person`'s consents, recorded by `organisation`: permit, for its period, to its
    recipient (if it names one), for its purpose."""
    purpose = ConsentPurpose(given.purpose)
    end = given.revoked_at or given.expires_at
    if given.expires_at is not None and end is not None:
        end = min(end, given.expires_at)
    period: dict[str, str] = {"start": _instant(given.given_at)}
    if end is not None:
        period["end"] = _instant(end)
    now = timezone.now()
    active = given.revoked_at is None and given.given_at <= now and (end is None or end > now)
    provision: dict[str, Any] = {
        "type": "permit",
        "period": period,
        "action": [{"coding": [{"system": CONSENT_ACTION_SYSTEM, "code": "disclose"}]}],
        "purpose": [
            {"system": CONSENT_PURPOSE_SYSTEM, "code": purpose.value, "display": str(purpose.label)},
        ],
    }
    if purpose in PURPOSE_OF_USE:  # our purposes that HL7's ActReason has a code for
        code, display = PURPOSE_OF_USE[purpose]
        provision["purpose"].insert(0, {"system": ACT_REASON_SYSTEM, "code": code, "display": display})
    if given.recipient is not None:
        provision["actor"] = [
            {
                "role": {"coding": [{"system": PARTICIPATION_SYSTEM, "code": "IRCP"}]},
                "reference": organisation_reference(given.recipient),
            }
        ]
    data: dict[str, Any] = {
        "resourceType": "Consent",
        "id": str(given.pk),
        "status": "active" if active else "inactive",
        "scope": {"coding": [{"system": CONSENT_SCOPE_SYSTEM, "code": "patient-privacy"}]},
        "category": [{"coding": [{"system": LOINC, "code": "59284-0", "display": "Patient Consent"}]}],
        "patient": patient_reference(person),
        "dateTime": _instant(given.given_at),
        "organization": [organisation_reference(organisation)],
        "policyRule": {"coding": [{"system": ACT_CODE_SYSTEM, "code": "OPTIN"}]},
        "provision": provision,
    }
    if given.scope:
        # What the person agreed may be shared, in their words: human-readable narrative only.
        data["text"] = {
            "status": "generated",
            "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{escape(given.scope)}</div>',
        }
    return FhirConsent.model_validate(data)


def referral_bundle(referral: Referral, given: Consent, base_url: str) -> Bundle:
    """ServiceRequest + Task + Consent as a collection Bundle; base_url is our FHIR endpoint's root."""
    base = base_url.rstrip("/")
    resources = [service_request(referral), task(referral), consent(referral, given)]
    return Bundle.model_validate(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "timestamp": _instant(timezone.now()),
            "entry": [
                {"fullUrl": f"{base}/{resource.get_resource_type()}/{resource.id}", "resource": resource}
                for resource in resources
            ],
        }
    )
