"""An introduction as a FHIR R4 Task, validated with `fhir.resources.R4B` (as care.fhir builds
the referral's): part of the referral's Task, based on its ServiceRequest, owned by the volunteer.

The volunteer is not a practitioner: the owner is a RelatedPerson by our identifier (a
pseudonymous volunteer number, no name, no resource behind it), and the Organization that
vetted them is named in `restriction.recipient`. The person is the pseudonymous identifier
care.fhir uses; no agreed field (name, contact) ever goes into the Task.
"""

from datetime import UTC, datetime
from typing import Any

from fhir.resources.R4B.task import Task

from recoverybridge.care import fhir as care_fhir
from recoverybridge.volunteers.models import Introduction, IntroductionState

VOLUNTEER_SYSTEM = f"{care_fhir.SYSTEM_BASE}/sid/volunteer"
INTRODUCTION_SYSTEM = f"{care_fhir.SYSTEM_BASE}/sid/introduction"
STATE_SYSTEM = f"{care_fhir.SYSTEM_BASE}/CodeSystem/introduction-state"
TASK_KIND_SYSTEM = f"{care_fhir.SYSTEM_BASE}/CodeSystem/task-kind"

# Task.status for each state: asked of the volunteer, accepted by them (waiting for the person),
# in progress once both said yes, completed at the first meeting together.
TASK_STATUS = {
    IntroductionState.OFFERED: "requested",
    IntroductionState.ASKED: "accepted",
    IntroductionState.CONNECTED: "in-progress",
    IntroductionState.MET: "completed",
    IntroductionState.DECLINED: "rejected",
    IntroductionState.ENDED: "cancelled",
    IntroductionState.EXPIRED: "failed",
}


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def volunteer_reference(introduction: Introduction) -> dict[str, Any]:
    return {
        "type": "RelatedPerson",
        "identifier": {"system": VOLUNTEER_SYSTEM, "value": str(introduction.volunteer_id)},
    }


def introduction_task(introduction: Introduction) -> Task:
    referral = introduction.request.referral
    state = IntroductionState(introduction.state)
    # Ended after they met: the introduction did its work.
    status = "completed" if state == IntroductionState.ENDED and introduction.met_on else TASK_STATUS[state]
    last = (
        introduction.ended_at
        or introduction.accepted_at
        or introduction.answered_at
        or introduction.created_at
    )
    data: dict[str, Any] = {
        "resourceType": "Task",
        "id": f"introduction-{introduction.pk}",
        "identifier": [{"system": INTRODUCTION_SYSTEM, "value": str(introduction.pk)}],
        "basedOn": [{"reference": f"ServiceRequest/{referral.pk}", "type": "ServiceRequest"}],
        "partOf": [{"reference": f"Task/{referral.pk}", "type": "Task"}],
        "status": status,
        "businessStatus": {
            "coding": [{"system": STATE_SYSTEM, "code": state.value, "display": str(state.label)}],
            "text": str(state.label),
        },
        "intent": "order",
        "code": {
            "coding": [
                {
                    "system": TASK_KIND_SYSTEM,
                    "code": "member-introduction",
                    "display": "Introduction to a volunteer member",
                }
            ]
        },
        "for": care_fhir.person_reference(referral.person),
        "authoredOn": _instant(introduction.created_at),
        "lastModified": _instant(last),
        "requester": care_fhir.organisation_reference(referral.team.organisation),
        "owner": volunteer_reference(introduction),
        "restriction": {"recipient": [care_fhir.organisation_reference(introduction.volunteer.organisation)]},
        "executionPeriod": {"start": _instant(introduction.created_at)},
        "input": [
            {
                "type": {"text": "contact asked for"},
                "valueString": introduction.request.kind,
            }
        ],
    }
    if introduction.ended_at:
        data["executionPeriod"]["end"] = _instant(introduction.ended_at)
    if introduction.met_on:
        data["output"] = [
            {"type": {"text": "first meeting together"}, "valueDate": introduction.met_on.isoformat()}
        ]
    if introduction.ended_by:
        data["statusReason"] = {"text": f"ended by {introduction.ended_by}"}
    return Task.model_validate(data)
