"""What a receiving organisation's update of a Task asks for, whichever way a FHIR client sends it:
PUT (the whole Task), JSON Patch (RFC 6902, `application/json-patch+json`) or a JSON merge patch
(RFC 7386, `application/merge-patch+json`, or `application/fhir+json` / `application/json` as
this API has always taken it). Each gives the Task as the client wants it; one set of rules
then compares it with the Task as it is.

The rules (the performer's part in the HL7 Gravity SDOH referral workflow): the receiving
organisation may change `status`, `businessStatus` and `statusReason` and nothing else;
`meta`, `text` and `lastModified` are the server's and are ignored; anything else that differs
is refused (403) rather than quietly dropped.
"""

import copy
from dataclasses import dataclass
from typing import Any

import jsonpatch
import jsonpointer
from fhir.resources.R4B.task import Task
from pydantic import ValidationError

from recoverybridge.care import fhir, states
from recoverybridge.care.fhir_http import FhirError
from recoverybridge.care.models import MutualAidMilestone, Referral, TaskStatus
from recoverybridge.organisations.models import Organisation

# What the receiving organisation may change, and what the server sets whatever a client sends.
CHANGEABLE = ("status", "businessStatus", "statusReason")
SERVER_MANAGED = frozenset({"meta", "text", "lastModified"})
# The performer says why it turned a referral down or could not complete it (Gravity SDOH).
REASON_REQUIRED = frozenset({TaskStatus.REJECTED, TaskStatus.FAILED})
REASON_MAX_LENGTH = 255  # Referral.status_reason's max_length


# The part of a Task a merge patch changes, for the OpenAPI document.
_CONCEPT = {
    "type": "object",
    "properties": {
        "coding": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {name: {"type": "string"} for name in ("system", "code", "display")},
            },
        },
        "text": {"type": "string"},
    },
}
MERGE_PATCH_SCHEMA = {
    "type": "object",
    "properties": {
        "resourceType": {"type": "string", "enum": ["Task"]},
        "status": {
            "type": "string",
            "description": "accepted, rejected, in-progress, on-hold, failed, completed",
        },
        "businessStatus": {
            **_CONCEPT,
            "description": f"a mutual-aid milestone coded in {fhir.MILESTONE_SYSTEM}",
        },
        "statusReason": {
            **_CONCEPT,
            "description": "why; required when the status becomes rejected or failed",
        },
    },
}


@dataclass(frozen=True)
class TaskChange:
    status: str
    reason: str
    milestone: str


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge member by member, null removes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    merged = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = merge_patch(merged.get(name), value)
    return merged


def json_patch(target: dict[str, Any], operations: Any) -> Any:
    """RFC 6902 with the maintained `jsonpatch`: a failed `test` or a path that is not there
    is a 409 (the Task is not as the client thought); a malformed patch a 400."""
    if not isinstance(operations, list):
        raise FhirError(400, "structure", "A JSON Patch is an array of operations.")
    try:
        return jsonpatch.JsonPatch(operations).apply(target)
    except jsonpatch.JsonPatchTestFailed as failed:
        raise FhirError(409, "conflict", f"JSON Patch test failed: {failed}") from None
    except jsonpatch.JsonPatchConflict as conflict:
        raise FhirError(409, "conflict", f"JSON Patch cannot be applied: {conflict}") from None
    except (jsonpatch.InvalidJsonPatch, jsonpointer.JsonPointerException, TypeError, ValueError) as bad:
        raise FhirError(400, "invalid", f"Not a valid JSON Patch: {bad}") from None


def document(referral: Referral, *, patient_resolvable: bool) -> dict[str, Any]:
    """The Task as JSON, as a client reads it."""
    return fhir.task(referral, patient_resolvable=patient_resolvable).model_dump(
        mode="json", exclude_none=True
    )


def _normalised(data: Any, where: str) -> dict[str, Any]:
    """The Task as fhir.resources reads it (so "2024-01-01T00:00:00+00:00" equals "...Z"), without
    what the server manages; 400 when it is no valid Task."""
    if not isinstance(data, dict) or data.get("resourceType") != "Task":
        raise FhirError(400, "invalid", f"The {where} must be a Task resource.", expression="Task")
    try:
        task = Task.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        location = ".".join(str(part) for part in first.get("loc", ()) if part != "__root__") or "Task"
        raise FhirError(
            400, "invalid", f"Task.{location}: {first.get('msg', 'invalid')}", expression=f"Task.{location}"
        ) from None
    except (TypeError, ValueError, RecursionError) as error:
        raise FhirError(400, "invalid", f"Not a valid Task: {str(error)[:200]}") from None
    found = task.model_dump(mode="json", exclude_none=True)
    return {name: value for name, value in found.items() if name not in SERVER_MANAGED}


def _reason(concept: Any) -> str:
    if not isinstance(concept, dict):
        return ""
    if concept.get("text"):
        return str(concept["text"]).strip()
    for coding in concept.get("coding", []):
        if coding.get("display") or coding.get("code"):
            return str(coding.get("display") or coding.get("code")).strip()
    return ""


def _milestone(concept: Any) -> str:
    """Our milestone code from a businessStatus ("" when there is none any more)."""
    if concept is None:
        return MutualAidMilestone.NONE
    for coding in concept.get("coding", []):
        if coding.get("system") == fhir.MILESTONE_SYSTEM and coding.get("code") in MutualAidMilestone.values:
            return str(coding["code"])
    raise FhirError(
        400,
        "code-invalid",
        f"businessStatus must carry a code from {fhir.MILESTONE_SYSTEM}.",
        expression="Task.businessStatus",
    )


def change_for(
    organisation: Organisation, referral: Referral, current: dict[str, Any], proposed: Any, *, where: str
) -> TaskChange:
    """The change a proposed Task asks of the referral, or the FhirError that refuses it."""
    before = _normalised(current, "current Task")
    after = _normalised(proposed, where)
    if after.get("id") != before["id"]:
        raise FhirError(
            400, "invalid", f"The Task's id must be {before['id']}, as in the URL.", expression="Task.id"
        )
    changed = sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
    others = [name for name in changed if name not in CHANGEABLE]
    if others:
        raise FhirError(
            403,
            "forbidden",
            "The receiving organisation may change only status, businessStatus and statusReason; "
            f"not {', '.join(others)}.",
            expression=f"Task.{others[0]}",
        )
    status = str(after["status"])
    if status not in TaskStatus.values:
        raise FhirError(400, "value", f"Unknown Task status {status!r}.", expression="Task.status")
    milestone = _milestone(after.get("businessStatus"))
    reason = _reason(after.get("statusReason"))
    if len(reason) > REASON_MAX_LENGTH:
        raise FhirError(
            400,
            "too-long",
            f"statusReason is limited to {REASON_MAX_LENGTH} characters.",
            expression="Task.statusReason",
        )
    if status == referral.status:
        if "statusReason" in changed:
            raise FhirError(
                400,
                "invalid",
                "statusReason can only change together with the status.",
                expression="Task.statusReason",
            )
        return TaskChange(status=status, reason=referral.status_reason, milestone=milestone)
    if status not in states.PERFORMER_STATUSES:
        raise FhirError(
            403,
            "forbidden",
            f"Only the referring team may set a Task to {status!r}.",
            expression="Task.status",
        )
    if status not in states.allowed_statuses(organisation, referral):
        raise FhirError(
            409,
            "business-rule",
            f"A Task cannot move from {referral.status!r} to {status!r}.",
            expression="Task.status",
        )
    if status in REASON_REQUIRED and not reason:
        raise FhirError(
            400, "required", f"statusReason is required for {status!r}.", expression="Task.statusReason"
        )
    return TaskChange(status=status, reason=reason, milestone=milestone)
