"""FHIR R4 Task API for receiving organisations, and the referral export for staff.

Receiving organisations authenticate with their API token (Authorization: Bearer
<token>, see `issue_api_token`) and see only the Tasks of referrals that target
them and that an active consent lets us disclose to them. Anything else is a 404,
whether or not it exists, so an organisation cannot probe for other referrals.
Errors are FHIR OperationOutcome resources. Repeated bad tokens from one address
are refused for a while (429) before the token is even looked at.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, Literal

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from fhir.resources.R4B.bundle import Bundle
from ninja import Query, Router
from ninja.security import HttpBearer
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from recoverybridge.accounts.access import organisation_for_token
from recoverybridge.care import fhir, states
from recoverybridge.care.actions import (
    export_referral,
    record_task_reads,
    set_business_status,
    set_referral_status,
)
from recoverybridge.care.errors import ConsentRequired, InvalidTransition, NoRecipient
from recoverybridge.care.models import MutualAidMilestone, Referral, TaskStatus
from recoverybridge.organisations.models import Organisation

FHIR_JSON = "application/fhir+json"


@dataclass(frozen=True)
class Caller:
    """Who is calling: an organisation, or why not (always truthy so the view answers, not ninja)."""

    organisation: Organisation | None = None
    user: Any = None
    refusal: HttpResponse | None = None


def outcome(status: int, code: str, message: str, *, expression: str = "") -> JsonResponse:
    """A FHIR OperationOutcome with one issue, as the response body."""
    issue: dict[str, Any] = {"severity": "error", "code": code, "diagnostics": message}
    if expression:
        issue["expression"] = [expression]
    response = JsonResponse(
        {"resourceType": "OperationOutcome", "issue": [issue]}, status=status, content_type=FHIR_JSON
    )
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="RecoveryBridge FHIR"'
    return response


def _failures_key(request: HttpRequest) -> str:
    return f"fhir-token-failures:{request.META.get('REMOTE_ADDR', '')}"


def failures_allowed() -> int:
    return int(getattr(settings, "API_TOKEN_FAILURES_ALLOWED", 10))


def failures_window_seconds() -> int:
    return int(getattr(settings, "API_TOKEN_FAILURES_WINDOW_SECONDS", 900))


class OrganisationToken(HttpBearer):
    """Bearer token of a receiving organisation (SHA-256 compared with Organisation.api_token_hash)."""

    def __call__(self, request: HttpRequest) -> Caller:
        key = _failures_key(request)
        if cache.get(key, 0) >= failures_allowed():
            refused = outcome(429, "throttled", "Too many failed token attempts; try again later.")
            refused["Retry-After"] = str(failures_window_seconds())
            return Caller(refusal=refused)
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return Caller(
                refusal=outcome(401, "login", "Send the organisation's API token as a Bearer token.")
            )
        organisation = self.authenticate(request, token.strip())
        if organisation is None:
            cache.add(key, 0, failures_window_seconds())
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.set(key, 1, failures_window_seconds())
            return Caller(refusal=outcome(401, "login", "The API token is not valid."))
        return Caller(organisation=organisation)

    def authenticate(self, request: HttpRequest, token: str) -> Organisation | None:
        return organisation_for_token(token)


class OrganisationOrStaff(OrganisationToken):
    """An organisation's Bearer token when one is sent, else the signed-in staff user's session."""

    def __call__(self, request: HttpRequest) -> Caller:
        if "Authorization" in request.headers:
            return super().__call__(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return Caller(user=user)
        return Caller(refusal=outcome(401, "login", "Sign in, or send an organisation's API token."))


def as_organisation(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Answer the refusal when the caller did not authenticate; else go on to the view."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        caller: Caller = request.auth  # type: ignore[attr-defined]
        if caller.refusal is not None:
            return caller.refusal
        return view(request, *args, **kwargs)

    return wrapper


def organisation_of(request: HttpRequest) -> Organisation:
    caller: Caller = request.auth  # type: ignore[attr-defined]
    assert caller.organisation is not None
    return caller.organisation


def fhir_response(resource: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(resource.model_dump_json(), status=status, content_type=FHIR_JSON)


def fhir_base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/api/v1/fhir/")


class CodingIn(BaseModel):
    system: str | None = None
    code: str | None = None
    display: str | None = None


class ConceptIn(BaseModel):
    coding: list[CodingIn] = Field(default_factory=list)
    text: str | None = None


class TaskUpdate(BaseModel):
    """The parts of a Task a receiving organisation may change (a JSON merge patch of the Task)."""

    model_config = ConfigDict(extra="ignore")

    resourceType: Literal["Task"] = "Task"
    status: str | None = Field(
        None, description="accepted, rejected, in-progress, on-hold, failed, completed"
    )
    businessStatus: ConceptIn | None = Field(
        None, description=f"a mutual-aid milestone coded in {fhir.MILESTONE_SYSTEM}"
    )
    statusReason: ConceptIn | None = Field(
        None, description="why; required when the status becomes rejected or failed"
    )


router = Router(tags=["fhir"], auth=OrganisationToken())

OUTCOMES = {
    400: "Bad request",
    401: "Missing or invalid API token",
    403: "Not allowed (for example a status only the referring team may set, or no consent)",
    404: "No such resource for this caller",
    409: "Not possible from the referral's current state",
    429: "Too many failed token attempts from this address",
}


def documented(ok: str, *codes: int, body: type[BaseModel] | None = None) -> dict[str, Any]:
    """OpenAPI for a view that answers FHIR JSON itself (ninja does not serialise these responses)."""
    responses: dict[str, Any] = {
        "200": {"description": ok, "content": {FHIR_JSON: {"schema": {"type": "object"}}}}
    }
    for code in codes:
        responses[str(code)] = {
            "description": f"{OUTCOMES[code]} (OperationOutcome)",
            "content": {FHIR_JSON: {"schema": {"type": "object"}}},
        }
    extra: dict[str, Any] = {"responses": responses}
    if body is not None:
        schema = body.model_json_schema()
        extra["requestBody"] = {
            "required": True,
            "content": {media: {"schema": schema} for media in (FHIR_JSON, "application/json")},
        }
    return extra


def _task_bundle(
    request: HttpRequest, referrals: list[Referral], total: int, offset: int, count: int
) -> Bundle:
    base = fhir_base(request)
    links = [{"relation": "self", "url": request.build_absolute_uri()}]
    if offset + count < total:
        following = request.GET.copy()
        following["_offset"] = str(offset + count)
        links.append({"relation": "next", "url": f"{base}Task?{following.urlencode()}"})
    return Bundle.model_validate(
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": total,
            "link": links,
            "entry": [
                {
                    "fullUrl": f"{base}Task/{referral.pk}",
                    "resource": fhir.task(referral),
                    "search": {"mode": "match"},
                }
                for referral in referrals
            ],
        }
    )


def _received(organisation: Organisation) -> QuerySet[Referral]:
    return Referral.objects.received_by([organisation.pk]).select_related(
        "person", "team__organisation", "target_organisation"
    )


def _task_id(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) <= 18 else None


@router.get(
    "/Task",
    response={200: None},
    summary="Tasks of referrals sent to this organisation",
    description=(
        "A FHIR searchset Bundle of the Tasks of referrals that target the calling organisation and "
        "that the person's active consent lets us disclose to it. `status` takes one Task status or "
        "several separated by commas. Each Task listed is recorded in the audit trail."
    ),
    openapi_extra=documented("searchset Bundle of Tasks", 400, 401, 429),
)
@as_organisation
def list_tasks(
    request: HttpRequest,
    status: str = Query("", description="e.g. requested, or requested,accepted"),
    count: int = Query(50, alias="_count", ge=1, le=200, description="page size"),
    offset: int = Query(0, alias="_offset", ge=0, le=1_000_000, description="first row"),
) -> HttpResponse:
    organisation = organisation_of(request)
    referrals = _received(organisation)
    if status:
        wanted = [value.strip() for value in status.split(",") if value.strip()]
        unknown = [value for value in wanted if value not in TaskStatus.values]
        if unknown:
            return outcome(400, "value", f"Unknown Task status {unknown[0]!r}.", expression="status")
        referrals = referrals.filter(status__in=wanted)
    total = referrals.count()
    page = list(referrals.order_by("authored_on", "pk")[offset : offset + count])
    record_task_reads(organisation, page)
    return fhir_response(_task_bundle(request, page, total, offset, count))


@router.get(
    "/Task/{task_id}",
    response={200: None},
    summary="One Task",
    openapi_extra=documented("Task", 401, 404, 429),
)
@as_organisation
def read_task(request: HttpRequest, task_id: str) -> HttpResponse:
    organisation = organisation_of(request)
    pk = _task_id(task_id)
    referral = _received(organisation).filter(pk=pk).first() if pk is not None else None
    if referral is None:
        return outcome(404, "not-found", f"No Task {task_id} for this organisation.")
    record_task_reads(organisation, [referral])
    return fhir_response(fhir.task(referral))


# The performer says why it turned a referral down or could not complete it (Gravity SDOH).
REASON_REQUIRED = frozenset({TaskStatus.REJECTED, TaskStatus.FAILED})
REASON_MAX_LENGTH = 255  # Referral.status_reason's max_length


def _concept_text(concept: ConceptIn | None) -> str:
    if concept is None:
        return ""
    if concept.text:
        return concept.text.strip()
    for coding in concept.coding:
        if coding.display or coding.code:
            return (coding.display or coding.code or "").strip()
    return ""


def _milestone(concept: ConceptIn) -> str | None:
    """Our milestone code from a businessStatus, or None when it names none of ours."""
    for coding in concept.coding:
        if coding.system == fhir.MILESTONE_SYSTEM and coding.code in MutualAidMilestone.values:
            return coding.code
    return None


@router.patch(
    "/Task/{task_id}",
    response={200: None},
    summary="Update a Task's status, milestone or reason",
    description=(
        "The receiving organisation moves the referral on, as the performer in the HL7 Gravity SDOH "
        "referral guide: to accepted, rejected, in-progress, on-hold, failed or completed, from a "
        "status that allows it. `statusReason` is required for rejected and failed. `businessStatus` "
        f"takes a milestone coded in {fhir.MILESTONE_SYSTEM} "
        f"({', '.join(code for code in MutualAidMilestone.values if code)}). "
        "The body is a JSON merge patch of the Task; other elements are ignored. Every change is "
        "recorded in the audit trail with the organisation as the actor. Answers the updated Task."
    ),
    openapi_extra=documented("the updated Task", 400, 401, 403, 404, 409, 429, body=TaskUpdate),
)
@as_organisation
def update_task(request: HttpRequest, task_id: str) -> HttpResponse:
    organisation = organisation_of(request)
    pk = _task_id(task_id)
    referral = _received(organisation).filter(pk=pk).first() if pk is not None else None
    if referral is None:
        return outcome(404, "not-found", f"No Task {task_id} for this organisation.")
    try:
        change = TaskUpdate.model_validate_json(request.body or b"{}")
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ())) or "body"
        return outcome(400, "invalid", f"{where}: {first.get('msg', 'invalid')}", expression=where)
    status = change.status or referral.status
    if status not in TaskStatus.values:
        return outcome(400, "value", f"Unknown Task status {status!r}.", expression="Task.status")
    milestone = referral.business_status
    if change.businessStatus is not None:
        found = _milestone(change.businessStatus)
        if found is None:
            return outcome(
                400,
                "code-invalid",
                f"businessStatus must carry a code from {fhir.MILESTONE_SYSTEM}.",
                expression="Task.businessStatus",
            )
        milestone = found
    reason = _concept_text(change.statusReason) if change.statusReason is not None else None
    if reason is not None and len(reason) > REASON_MAX_LENGTH:
        return outcome(
            400,
            "too-long",
            f"statusReason is limited to {REASON_MAX_LENGTH} characters.",
            expression="Task.statusReason",
        )
    if status == referral.status:
        if reason is not None and reason != referral.status_reason:
            return outcome(
                400,
                "invalid",
                "statusReason can only change together with the status.",
                expression="Task.statusReason",
            )
    else:
        if status not in states.PERFORMER_STATUSES:
            return outcome(
                403,
                "forbidden",
                f"Only the referring team may set a Task to {status!r}.",
                expression="Task.status",
            )
        if status not in states.allowed_statuses(organisation, referral):
            return outcome(
                409,
                "business-rule",
                f"A Task cannot move from {referral.status!r} to {status!r}.",
                expression="Task.status",
            )
        if status in REASON_REQUIRED and not reason:
            return outcome(
                400, "required", f"statusReason is required for {status!r}.", expression="Task.statusReason"
            )
    try:
        # Status and milestone together or not at all; each action writes its own audit row.
        with transaction.atomic():
            if status != referral.status:
                set_referral_status(organisation, referral, status, reason=reason or "")
            if milestone != referral.business_status:
                set_business_status(organisation, referral, milestone)
    except (InvalidTransition, PermissionDenied) as error:
        return outcome(409, "business-rule", str(error), expression="Task.status")
    referral.refresh_from_db()
    return fhir_response(fhir.task(referral))


@router.get(
    "/referrals/{referral_id}/bundle",
    auth=OrganisationOrStaff(),
    response={200: None},
    summary="Export a referral as FHIR (ServiceRequest + Task + Consent)",
    description=(
        "A FHIR collection Bundle of the referral's ServiceRequest, Task and the Consent that covers "
        "disclosing it to the receiving organisation. For a signed-in worker whose team made or "
        "received the referral, or for the receiving organisation with its API token. The person is "
        "named only by a pseudonymous identifier. Refused with 403 when no active consent covers the "
        "disclosure (none given, revoked or expired) and 409 when the referral goes to no "
        "organisation. Every export, and every refusal, is recorded in the audit trail."
    ),
    openapi_extra=documented("collection Bundle", 401, 403, 404, 409, 429),
)
@as_organisation
def export_bundle(request: HttpRequest, referral_id: str) -> HttpResponse:
    caller: Caller = request.auth  # type: ignore[attr-defined]
    pk = _task_id(referral_id)
    visible = (
        Referral.objects.received_by([caller.organisation.pk])
        if caller.organisation is not None
        else Referral.objects.restrict(caller.user)
    )
    referral = (
        visible.select_related(
            "person", "team__organisation", "target_organisation", "meeting__fellowship", "meeting__location"
        )
        .filter(pk=pk)
        .first()
        if pk is not None
        else None
    )
    if referral is None:
        return outcome(404, "not-found", f"No referral {referral_id} for this caller.")
    try:
        bundle = export_referral(
            referral, base_url=fhir_base(request), actor=caller.user, actor_organisation=caller.organisation
        )
    except ConsentRequired as refusal:
        return outcome(403, "forbidden", str(refusal.args[0] if refusal.args else refusal))
    except NoRecipient as refusal:
        return outcome(409, "business-rule", str(refusal))
    except PermissionDenied:
        return outcome(404, "not-found", f"No referral {referral_id} for this caller.")
    return fhir_response(bundle)
