"""A referral as FHIR R4 resources: ServiceRequest + Task + Consent, in a Bundle; and the Patient
and Organization resources their references point to.

Built with `fhir.resources.R4B` models (their resources match R4 field for field), so every
resource is validated before it leaves.

What is disclosed (minimal by default, the receiving organisation needs no more
to act on the referral):
- the person only as a pseudonymous identifier (Person.reference). Where an active consent
  covers the disclosure the reference is also literal (`Patient/{reference}`) and the Patient
  resource holds that identifier and nothing more. No name, birth date or contact details: the
  Consent.scope we record is free text that software cannot read reliably, so we never widen
  disclosure on the strength of it; the worker introduces the person directly.
- the referral's reason, status, milestone and status reason, the referring
  and receiving organisations, and the target meeting (public directory data).

Status mapping (HL7 Gravity SDOH referral guide): Task.status is Referral.status;
Task.businessStatus is the mutual-aid milestone in our own code system;
ServiceRequest.status follows the Task (see SERVICE_REQUEST_STATUS). Task and ServiceRequest
carry the referral's version (meta.versionId); Patient, Organization and Consent, which nobody
changes through the API, a digest of their content.
"""

import hashlib
import json
from datetime import UTC, datetime
from html import escape
from typing import Any

from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.consent import Consent as FhirConsent
from fhir.resources.R4B.organization import Organization
from fhir.resources.R4B.patient import Patient
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
from recoverybridge.organisations.models import Organisation, OrganisationKind

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
ORGANISATION_KIND_SYSTEM = f"{SYSTEM_BASE}/CodeSystem/organisation-kind"
# The HL7 Gravity SDOH Clinical Care guide's categories (ServiceRequest.category).
SDOHCC_SYSTEM = "http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes"

TASK_CODE_SYSTEM = "http://hl7.org/fhir/CodeSystem/task-code"
CONSENT_SCOPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/consentscope"
CONSENT_ACTION_SYSTEM = "http://terminology.hl7.org/CodeSystem/consentaction"
ACT_CODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ACT_REASON_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
PARTICIPATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
LOINC = "http://loinc.org"
TASK_STATUS_SYSTEM = "http://hl7.org/fhir/task-status"

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


# ServiceRequest.category from the Gravity guide where a referral fits one of its SDOH domains;
# treatment, detox and rehab are clinical referrals, outside those domains.
SDOH_CATEGORY = {
    ReferralTargetKind.MEETING: ("social-connection", "Social Connection"),
    ReferralTargetKind.FELLOWSHIP: ("social-connection", "Social Connection"),
    ReferralTargetKind.HOUSING: ("housing-instability", "Housing Instability"),
}


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def meta(version: str, last_updated: datetime | None) -> dict[str, str]:
    found = {"versionId": version}
    if last_updated is not None:
        found["lastUpdated"] = _instant(last_updated)
    return found


def digest(data: dict[str, Any]) -> str:
    """A version for a resource nobody changes through the API: it changes when its content does."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def person_reference(person: Person, *, resolvable: bool = False) -> dict[str, Any]:
    """The person by pseudonymous identifier, no name and no record id; a literal reference to
    the Patient resource too where the caller may read it (an active consent covers them)."""
    reference: dict[str, Any] = {
        "type": "Patient",
        "identifier": {"system": PERSON_SYSTEM, "value": person.reference},
    }
    if resolvable:
        reference = {"reference": f"Patient/{person.reference}", **reference}
    return reference


def organisation_reference(organisation: Organisation) -> dict[str, Any]:
    return {
        "reference": f"Organization/{organisation.pk}",
        "type": "Organization",
        "identifier": {"system": ORGANISATION_SYSTEM, "value": str(organisation.pk)},
        "display": organisation.name,
    }


def patient(person: Person) -> Patient:
    """The Patient a consent lets a receiving organisation resolve: the pseudonymous identifier
    and nothing more (minimum necessary; the worker introduces the person)."""
    data: dict[str, Any] = {
        "resourceType": "Patient",
        "id": person.reference,
        "identifier": [{"system": PERSON_SYSTEM, "value": person.reference}],
        "text": {
            "status": "generated",
            "div": '<div xmlns="http://www.w3.org/1999/xhtml">Shared by pseudonymous reference only; '
            "the referring worker introduces the person.</div>",
        },
    }
    data["meta"] = meta(digest(data), person.created_at)
    return Patient.model_validate(data)


def organization(organisation: Organisation) -> Organization:
    kind = OrganisationKind(organisation.kind)
    data: dict[str, Any] = {
        "resourceType": "Organization",
        "id": str(organisation.pk),
        "identifier": [{"system": ORGANISATION_SYSTEM, "value": str(organisation.pk)}],
        "active": True,
        "type": [
            {
                "coding": [
                    {"system": ORGANISATION_KIND_SYSTEM, "code": kind.value, "display": str(kind.label)}
                ],
                "text": str(kind.label),
            }
        ],
        "name": organisation.name,
    }
    data["meta"] = meta(digest(data), None)
    return Organization.model_validate(data)


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


def service_request(referral: Referral, given: Consent | None = None) -> ServiceRequest:
    """What is asked for. `given` is the consent that covers disclosing it to the receiving
    organisation (None for an organisation's own internal referral)."""
    kind = ReferralTargetKind(referral.target_kind)
    data: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "id": str(referral.pk),
        "meta": meta(str(referral.version), referral.updated_at),
        "identifier": [{"system": REFERRAL_SYSTEM, "value": str(referral.pk)}],
        "status": SERVICE_REQUEST_STATUS[TaskStatus(referral.status)],
        "intent": "order",
        "code": {
            "coding": [{"system": TARGET_KIND_SYSTEM, "code": kind.value, "display": str(kind.label)}],
            "text": str(kind.label),
        },
        "subject": person_reference(referral.person, resolvable=given is not None),
        "authoredOn": _instant(referral.authored_on),
        "requester": organisation_reference(referral.team.organisation),
    }
    if kind in SDOH_CATEGORY:
        code, display = SDOH_CATEGORY[kind]
        data["category"] = [{"coding": [{"system": SDOHCC_SYSTEM, "code": code, "display": display}]}]
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
    if given is not None:
        data["supportingInfo"] = [{"reference": f"Consent/{given.pk}", "type": "Consent"}]
    return ServiceRequest.model_validate(data)


def task(referral: Referral, *, patient_resolvable: bool = False) -> Task:
    """The referral's Task (Gravity's "Task for referral management"); `patient_resolvable` when
    an active consent lets the receiving organisation read the Patient."""
    request = {"reference": f"ServiceRequest/{referral.pk}", "type": "ServiceRequest"}
    data: dict[str, Any] = {
        "resourceType": "Task",
        "id": str(referral.pk),
        "meta": meta(str(referral.version), referral.updated_at),
        "identifier": [{"system": REFERRAL_SYSTEM, "value": str(referral.pk)}],
        "basedOn": [request],
        "focus": request,
        "status": referral.status,
        "intent": "order",
        "code": {"coding": [{"system": TASK_CODE_SYSTEM, "code": "fulfill"}]},
        "for": person_reference(referral.person, resolvable=patient_resolvable),
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


def consent(given: Consent) -> FhirConsent:
    """The consent that covers a disclosure: permit, for its period, to its recipient. The
    organisation that holds it is the person's."""
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
        "category": [
            {"coding": [{"system": LOINC, "code": "59284-0", "display": "Patient Consent"}]},
            # Gravity's category for consent to disclose information.
            {"coding": [{"system": ACT_CODE_SYSTEM, "code": "IDSCL", "display": "information disclosure"}]},
        ],
        "patient": person_reference(given.person, resolvable=active),
        "dateTime": _instant(given.given_at),
        "organization": [organisation_reference(given.person.team.organisation)],
        "policyRule": {"coding": [{"system": ACT_CODE_SYSTEM, "code": "OPTIN"}]},
        "provision": provision,
    }
    if given.scope:
        # What the person agreed may be shared, in their words: human-readable narrative only.
        data["text"] = {
            "status": "generated",
            "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{escape(given.scope)}</div>',
        }
    data["meta"] = meta(digest(data), given.revoked_at or given.given_at)
    return FhirConsent.model_validate(data)


def referral_bundle(referral: Referral, given: Consent | None, base_url: str) -> Bundle:
    """ServiceRequest + Task (+ the Consent that covers the disclosure; an organisation's own
    internal referral needs none) as a collection Bundle; base_url is our FHIR endpoint's root."""
    base = base_url.rstrip("/")
    resources: list[Any] = [
        service_request(referral, given),
        task(referral, patient_resolvable=given is not None),
    ]
    if given is not None:
        resources.append(consent(given))
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
