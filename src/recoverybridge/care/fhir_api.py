"""FHIR R4 API for receiving organisations, and the referral export for staff.

Receiving organisations authenticate with their API token (Authorization: Bearer <token>, see
`issue_api_token`) and see only the referrals sent to them that an active consent lets us
disclose to them (or that their own teams made). Anything else is a 404, whether or not it
exists, so an organisation cannot probe for other referrals; that refusal is audited like the
others (403, 409, 412, 428). Repeated bad tokens from one address are refused for a while (429)
before the token is even looked at.

What is served is exactly what `fhir_capability.RESOURCES` lists (GET metadata). Formats and
versions: `fhir_http`; search: `fhir_search`; updates: `fhir_update`; reads: `fhir_queries`.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from fhir.resources.R4B.bundle import Bundle
from ninja import Query, Router
from ninja.security import HttpBearer

from recoverybridge import limits
from recoverybridge.accounts.access import organisation_for_token
from recoverybridge.care import fhir, fhir_capability, fhir_queries, fhir_search, fhir_update
from recoverybridge.care.actions import (
    export_referral,
    record_api_reads,
    record_api_refusal,
    record_task_reads,
    update_task,
)
from recoverybridge.care.errors import ConsentRequired, InvalidTransition, NoRecipient, StaleVersion
from recoverybridge.care.fhir_http import (
    FHIR_ID,
    FHIR_JSON,
    FORM,
    JSON_FORMATS,
    JSON_PATCH,
    MERGE_PATCH,
    PLAIN_JSON,
    FhirError,
    body_type,
    check_parameters,
    fhir_view,
    if_match,
    json_body,
    not_modified,
    outcome,
    version_headers,
)
from recoverybridge.care.models import MutualAidMilestone, Referral
from recoverybridge.organisations.models import Organisation

__all__ = ["outcome", "router"]

# Bodies a Task update takes: PUT a whole Task; PATCH a JSON Patch or a merge patch.
PUT_TYPES = (FHIR_JSON, PLAIN_JSON, "application/json+fhir")
PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, FHIR_JSON, PLAIN_JSON)
# Refusals about a record that go on the audit trail (a malformed request is not one).
AUDITED_REFUSALS = frozenset({403, 404, 409, 412, 428})


@dataclass(frozen=True)
class Caller:
    """Who is calling: an organisation, or why not (always truthy so the view answers, not ninja)."""

    organisation: Organisation | None = None
    user: Any = None
    refusal: HttpResponse | None = None


FAILURES = "fhir-token-failures"  # counted per client address in the shared limits cache


def failures_allowed() -> int:
    return int(getattr(settings, "API_TOKEN_FAILURES_ALLOWED", 10))


def failures_window_seconds() -> int:
    return int(getattr(settings, "API_TOKEN_FAILURES_WINDOW_SECONDS", 900))


class OrganisationToken(HttpBearer):
    """Bearer token of a receiving organisation (SHA-256 compared with Organisation.api_token_hash)."""

    def __call__(self, request: HttpRequest) -> Caller:
        address = request.META.get("REMOTE_ADDR", "")
        if limits.count(FAILURES, address) >= failures_allowed():
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
            limits.hit(FAILURES, address, window=failures_window_seconds())
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


def organisation_of(request: HttpRequest) -> Organisation:
    caller: Caller = request.auth  # type: ignore[attr-defined]
    assert caller.organisation is not None
    return caller.organisation


def fhir_response(resource: Any, status: int = 200) -> HttpResponse:
    return HttpResponse(resource.model_dump_json(exclude_none=True), status=status, content_type=FHIR_JSON)


def fhir_base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/api/v1/fhir/")


def audited(
    request: HttpRequest, object_type: str, object_id: str, what: str
) -> Callable[[FhirError], FhirError]:
    """Records a refusal about a record on the audit trail, then hands the error on to raise."""

    def refuse(error: FhirError) -> FhirError:
        if error.status in AUDITED_REFUSALS:
            record_api_refusal(
                organisation_of(request),
                object_type,
                object_id if FHIR_ID.fullmatch(object_id) else "(not an id)",
                detail=f"FHIR {what} refused ({error.status} {error.code})",
            )
        return error

    return refuse


def not_found(request: HttpRequest, kind: str, object_type: str, value: str) -> FhirError:
    error = FhirError(404, "not-found", f"No {kind} {value} for this organisation.")
    return audited(request, object_type, value, f"{kind} read")(error)


def versioned(
    request: HttpRequest, resource: Any, *, status: int = 200, minimal: bool = False
) -> HttpResponse:
    """The resource with its ETag and Last-Modified; 304 when a conditional read has it already."""
    meta = resource.meta
    version = str(meta.versionId)
    last_updated = meta.lastUpdated
    if status == 200 and request.method == "GET" and not_modified(request, version, last_updated):
        response = HttpResponse(status=304)
    elif minimal:
        response = HttpResponse(status=status)
    else:
        response = fhir_response(resource, status)
    version_headers(response, version, last_updated)
    return response


router = Router(tags=["fhir"], auth=OrganisationToken())

OUTCOMES = {
    304: "Not modified since the version named (If-None-Match or If-Modified-Since); no body",
    400: "Bad request: a malformed body or parameter, an unsupported search parameter (strict search)",
    401: "Missing or invalid API token",
    403: "Not allowed (a status only the referring team may set, an element the receiving "
    "organisation may not change, no consent to export)",
    404: "No such resource for this caller",
    406: "The format asked for (Accept or _format) is not served: JSON only",
    409: "Not possible from the current state (a transition the workflow does not allow, a failed "
    "JSON Patch test)",
    412: "If-Match names a version that is no longer the current one: read the resource again",
    413: "The request body is too large",
    415: "The body is not in a media type this interaction takes",
    428: "If-Match is required on update (PUT)",
    429: "Too many failed token attempts from this address",
}
COMMON = (400, 401, 406, 429)
FORMAT_PARAMETERS = [
    {
        "name": "_format",
        "in": "query",
        "required": False,
        "schema": {"type": "string", "enum": sorted(JSON_FORMATS)},
        "description": "json or application/fhir+json (anything else is a 406); overrides Accept",
    },
    {
        "name": "_pretty",
        "in": "query",
        "required": False,
        "schema": {"type": "string", "enum": ["true", "false"]},
        "description": "true to indent the JSON",
    },
]
# What every error answer is (FHIR R4 OperationOutcome), as far as a client relies on it.
OPERATION_OUTCOME = {
    "type": "object",
    "required": ["resourceType", "issue"],
    "properties": {
        "resourceType": {"const": "OperationOutcome"},
        "issue": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["severity", "code"],
                "properties": {
                    "severity": {"enum": ["fatal", "error", "warning", "information"]},
                    "code": {"type": "string"},
                    "diagnostics": {"type": "string"},
                    "expression": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}


def resource(resource_type: str) -> dict[str, Any]:
    """A FHIR resource of one type; fhir.resources validates the rest when it is built."""
    return {
        "type": "object",
        "required": ["resourceType"],
        "properties": {"resourceType": {"const": resource_type}},
    }


def _header(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "header",
        "required": False,
        "schema": {"type": "string"},
        "description": description,
    }


IF_NONE_MATCH = _header("If-None-Match", 'a version read before, W/"3": 304 when it is still current')
IF_MODIFIED_SINCE = _header("If-Modified-Since", "an HTTP date: 304 when unchanged since")
IF_MATCH = _header("If-Match", 'the version the update is made on, W/"3" (a 412 when it is not current)')
PREFER_RETURN = _header("Prefer", "return=minimal for no body (return=representation is the default)")
PREFER_HANDLING = _header("Prefer", "handling=lenient to leave out unsupported parameters with a warning")
JSON_PATCH_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["op", "path"],
        "properties": {
            "op": {"type": "string", "enum": ["add", "remove", "replace", "move", "copy", "test"]},
            "path": {"type": "string"},
            "from": {"type": "string"},
            "value": {},
        },
    },
}


def documented(
    ok: str,
    *codes: int,
    answers: str,
    body: dict[str, Any] | None = None,
    headers: tuple[dict[str, Any], ...] = (),
    query: bool = True,
) -> dict[str, Any]:
    """OpenAPI for a view that answers FHIR JSON itself (ninja does not serialise these responses):
    `answers` is the resource type of a 200, in the type negotiated (Accept or _format); errors are
    OperationOutcomes in application/fhir+json."""
    ok_body = {"schema": resource(answers)}
    responses: dict[str, Any] = {
        "200": {
            "description": ok,
            "content": {FHIR_JSON: ok_body, PLAIN_JSON: ok_body},
            "headers": {
                "ETag": {"schema": {"type": "string"}, "description": 'the version, W/"n"'},
                "Last-Modified": {"schema": {"type": "string"}, "description": "when it last changed"},
            },
        }
    }
    for code in sorted({*COMMON, *codes}):
        if code == 304:
            responses["304"] = {"description": OUTCOMES[304]}
            continue
        responses[str(code)] = {
            "description": f"{OUTCOMES[code]} (OperationOutcome)",
            "content": {FHIR_JSON: {"schema": OPERATION_OUTCOME}},
        }
    extra: dict[str, Any] = {"responses": responses}
    extra["parameters"] = [*(FORMAT_PARAMETERS if query else []), *headers]
    if body is not None:
        extra["requestBody"] = {"required": True, "content": body}
    return extra


# ---------------------------------------------------------------- the capability statement


@router.get(
    "/metadata",
    auth=None,
    response={200: None},
    summary="CapabilityStatement: what this FHIR endpoint supports",
    description="Exactly the resources, interactions and search parameters served. No token needed.",
    openapi_extra=documented("CapabilityStatement", 400, 406, answers="CapabilityStatement"),
)
@fhir_view
def metadata(request: HttpRequest) -> HttpResponse:
    check_parameters(request, {"mode"})
    mode = request.GET.get("mode", "full")
    if mode != "full":
        raise FhirError(400, "not-supported", "metadata takes mode=full only.", expression="mode")
    return fhir_response(fhir_capability.statement(fhir_base(request)))


# ---------------------------------------------------------------- Task search


def _search(request: HttpRequest, parameters: list[tuple[str, str]]) -> HttpResponse:
    organisation = organisation_of(request)
    base = fhir_base(request)
    search = fhir_search.parse(parameters, base=base, lenient=fhir_search.lenient(request))
    referrals = search.apply(fhir_queries.received(organisation))
    total = referrals.count()
    page: list[Referral] = []
    if search.count and not search.summary_count:
        page = list(referrals.order_by("authored_on", "pk")[search.offset : search.offset + search.count])
    record_task_reads(organisation, page)
    links = [{"relation": "self", "url": search.link(base)}]
    if search.count and not search.summary_count:
        if search.offset:
            links.append({"relation": "first", "url": search.link(base, 0)})
            links.append(
                {"relation": "previous", "url": search.link(base, max(0, search.offset - search.count))}
            )
        if search.offset + search.count < total:
            links.append({"relation": "next", "url": search.link(base, search.offset + search.count)})
    entries: list[dict[str, Any]] = [
        {
            "fullUrl": f"{base}Task/{referral.pk}",
            "resource": fhir.task(referral, patient_resolvable=fhir_queries.covered(referral)),
            "search": {"mode": "match"},
        }
        for referral in page
    ]
    warning = fhir_search.warning_outcome(search)
    if warning is not None:
        entries.append({"resource": warning, "search": {"mode": "outcome"}})
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "total": total, "link": links}
    if entries:
        bundle["entry"] = entries
    return fhir_response(Bundle.model_validate(bundle))


SEARCH_DESCRIPTION = (
    "A FHIR searchset Bundle of the Tasks of referrals sent to the calling organisation that the "
    "person's active consent lets us disclose to it (or that its own teams made). Strict: a "
    "parameter not listed here is a 400 OperationOutcome, unless the request says "
    "`Prefer: handling=lenient` (then it is left out of the search and of the self link, with a "
    "warning OperationOutcome in the Bundle). Each Task listed is recorded in the audit trail."
)


@router.get(
    "/Task",
    response={200: None},
    summary="Search the Tasks of referrals sent to this organisation",
    description=SEARCH_DESCRIPTION,
    openapi_extra=documented("searchset Bundle of Tasks", answers="Bundle", headers=(PREFER_HANDLING,)),
)
@fhir_view
def search_tasks(
    request: HttpRequest,
    id_: str = Query("", alias="_id", description="Task ids, separated by commas"),
    last_updated: list[str] = Query(  # noqa: B008 -- ninja's way of declaring a parameter
        [], alias="_lastUpdated", description="e.g. ge2024-05-01; give it twice for a range"
    ),
    status: str = Query("", description="e.g. requested, or requested,accepted"),
    owner: str = Query("", description="Organization/{id}: the receiving organisation"),
    requester: str = Query("", description="Organization/{id}: the referring organisation"),
    count: int | None = Query(
        None,
        alias="_count",
        ge=0,
        description=f"page size, 0 for the total alone, at most {fhir_search.MAX_COUNT}",
    ),
    offset: int | None = Query(
        None, alias="_offset", ge=0, le=fhir_search.MAX_OFFSET, description="first row"
    ),
    summary: str = Query("", alias="_summary", description="count for the total alone"),
    total: str = Query("", alias="_total", description="none, estimate or accurate (always counted)"),
) -> HttpResponse:
    return _search(request, [(name, value) for name, values in request.GET.lists() for value in values])


@router.post(
    "/Task/_search",
    response={200: None},
    summary="Search Tasks with the parameters in a form body",
    description=SEARCH_DESCRIPTION + " The parameters come as application/x-www-form-urlencoded.",
    openapi_extra=documented(
        "searchset Bundle of Tasks",
        415,
        answers="Bundle",
        headers=(PREFER_HANDLING,),
        body={FORM: {"schema": {"type": "object", "additionalProperties": {"type": "string"}}}},
    ),
)
@fhir_view
def search_tasks_by_post(request: HttpRequest) -> HttpResponse:
    body_type(request, (FORM,))
    parameters = [(name, value) for name, values in request.GET.lists() for value in values]
    parameters += [(name, value) for name, values in request.POST.lists() for value in values]
    return _search(request, parameters)


# ---------------------------------------------------------------- Task read and update


@router.get(
    "/Task/{task_id}",
    response={200: None},
    summary="Read one Task",
    openapi_extra=documented("Task", 304, 404, answers="Task", headers=(IF_NONE_MATCH, IF_MODIFIED_SINCE)),
)
@fhir_view
def read_task(request: HttpRequest, task_id: str) -> HttpResponse:
    check_parameters(request)
    organisation = organisation_of(request)
    referral = fhir_queries.received_referral(organisation, task_id)
    if referral is None:
        raise not_found(request, "Task", "care.referral", task_id)
    record_task_reads(organisation, [referral])
    return versioned(request, fhir.task(referral, patient_resolvable=fhir_queries.covered(referral)))


def _proposed(request: HttpRequest, media: str, current: dict[str, Any], body: Any, *, put: bool) -> Any:
    if put:
        return body
    # A JSON array can only be a JSON Patch, whichever JSON type it came as.
    if media == JSON_PATCH or isinstance(body, list):
        return fhir_update.json_patch(current, body)
    if isinstance(body, dict) and body.get("resourceType") == "Parameters":
        raise FhirError(
            400,
            "not-supported",
            "FHIRPath Patch is not supported: send a JSON Patch (application/json-patch+json) or a "
            "merge patch of the Task (application/merge-patch+json).",
        )
    return fhir_update.merge_patch(current, body)


def _update(request: HttpRequest, task_id: str, *, put: bool) -> HttpResponse:
    check_parameters(request)
    organisation = organisation_of(request)
    media = body_type(request, PUT_TYPES if put else PATCH_TYPES)
    what = "Task update" if put else "Task patch"
    refuse = audited(request, "care.referral", task_id, what)
    referral = fhir_queries.received_referral(organisation, task_id)
    if referral is None:
        raise refuse(FhirError(404, "not-found", f"No Task {task_id} for this organisation."))
    expected = if_match(request)
    if put and expected is None:
        raise refuse(
            FhirError(
                428,
                "required",
                'Send If-Match with the version the update is made on (the ETag read, W/"3"), so that '
                "an update made meanwhile is not overwritten.",
                expression="If-Match",
            )
        )
    stale = FhirError(
        412,
        "conflict",
        f"The Task is at version {referral.version}, not {expected}: read it again, then update it.",
        expression="If-Match",
    )
    if expected is not None and expected != str(referral.version):
        raise refuse(stale)
    current = fhir_update.document(referral, patient_resolvable=fhir_queries.covered(referral))
    try:
        proposed = _proposed(request, media, current, json_body(request), put=put)
        change = fhir_update.change_for(organisation, referral, current, proposed, where="body")
        update_task(
            organisation,
            referral,
            status=change.status,
            reason=change.reason,
            milestone=change.milestone,
            expected_version=expected,
        )
    except FhirError as error:
        raise refuse(error) from None
    except StaleVersion as error:
        raise refuse(FhirError(412, "conflict", str(error), expression="If-Match")) from None
    except (InvalidTransition, PermissionDenied) as error:
        raise refuse(FhirError(409, "business-rule", str(error), expression="Task.status")) from None
    updated = Referral.objects.select_related("person", "team__organisation", "target_organisation").get(
        pk=referral.pk
    )
    minimal = "return=minimal" in request.headers.get("Prefer", "").replace(" ", "")
    return versioned(
        request, fhir.task(updated, patient_resolvable=fhir_queries.covered(referral)), minimal=minimal
    )


MILESTONES = ", ".join(code for code in MutualAidMilestone.values if code)
UPDATE_RULES = (
    "The receiving organisation moves the referral on, as the performer in the HL7 Gravity SDOH "
    "referral workflow: `status` to accepted, rejected, in-progress, on-hold, failed or completed, "
    "from a status that allows it (409 otherwise; draft, requested, cancelled and entered-in-error "
    "are the referring team's, 403); `statusReason` with a new status, required for rejected and "
    f"failed; `businessStatus` a milestone coded in {fhir.MILESTONE_SYSTEM} ({MILESTONES}). Any "
    "other element that differs from the current Task is a 403; meta, text and lastModified are "
    "the server's. Every change and every refusal is audited. Answers the updated Task with its "
    "new ETag."
)


@router.put(
    "/Task/{task_id}",
    response={200: None},
    summary="Update a Task (the whole resource, If-Match required)",
    description=UPDATE_RULES
    + ' Send If-Match with the ETag read (W/"3"): without it 428, on a newer version 412.',
    openapi_extra=documented(
        "the updated Task",
        403,
        404,
        409,
        412,
        413,
        415,
        428,
        answers="Task",
        headers=(IF_MATCH, PREFER_RETURN),
        body={media: {"schema": resource("Task")} for media in PUT_TYPES},
    ),
)
@fhir_view
def put_task(request: HttpRequest, task_id: str) -> HttpResponse:
    return _update(request, task_id, put=True)


@router.patch(
    "/Task/{task_id}",
    response={200: None},
    summary="Patch a Task: JSON Patch or merge patch",
    description=UPDATE_RULES
    + " The body is a JSON Patch (RFC 6902, application/json-patch+json) or a JSON merge patch of "
    "the Task (RFC 7386: application/merge-patch+json, application/fhir+json or application/json). "
    "If-Match is honoured when sent (412 on a newer version).",
    openapi_extra=documented(
        "the updated Task",
        403,
        404,
        409,
        412,
        413,
        415,
        answers="Task",
        headers=(IF_MATCH, PREFER_RETURN),
        body={
            JSON_PATCH: {"schema": JSON_PATCH_SCHEMA},
            MERGE_PATCH: {"schema": fhir_update.MERGE_PATCH_SCHEMA},
            FHIR_JSON: {"schema": fhir_update.MERGE_PATCH_SCHEMA},
            PLAIN_JSON: {"schema": fhir_update.MERGE_PATCH_SCHEMA},
        },
    ),
)
@fhir_view
def patch_task(request: HttpRequest, task_id: str) -> HttpResponse:
    return _update(request, task_id, put=False)


# ---------------------------------------------------------------- what references point to


def _read(
    request: HttpRequest,
    value: str,
    kind: str,
    object_type: str,
    find: Callable[[Organisation, str], Any],
    disclose: Callable[[Any], tuple[Any, int | None]],
) -> HttpResponse:
    """Read what a reference names: the record `find` gives the organisation, as the resource
    and person `disclose` give, with one audit event; an audited 404 when there is none."""
    check_parameters(request)
    organisation = organisation_of(request)
    found = find(organisation, value)
    if found is None:
        raise not_found(request, kind, object_type, value)
    resource, person_id = disclose(found)
    record_api_reads(
        organisation, [(found, person_id)], detail=f"FHIR {kind} read by the receiving organisation"
    )
    return versioned(request, resource)


def _service_request(referral: Referral) -> tuple[Any, int | None]:
    given = fhir_queries.covering_consent(referral) if fhir_queries.covered(referral) else None
    return fhir.service_request(referral, given), referral.person_id


@router.get(
    "/ServiceRequest/{request_id}",
    response={200: None},
    summary="Read a referral's ServiceRequest (the focus of its Task)",
    openapi_extra=documented(
        "ServiceRequest", 304, 404, answers="ServiceRequest", headers=(IF_NONE_MATCH, IF_MODIFIED_SINCE)
    ),
)
@fhir_view
def read_service_request(request: HttpRequest, request_id: str) -> HttpResponse:
    return _read(
        request,
        request_id,
        "ServiceRequest",
        "care.referral",
        fhir_queries.received_referral,
        _service_request,
    )


@router.get(
    "/Patient/{patient_id}",
    response={200: None},
    summary="Read the person a covered referral is for (pseudonymous identifier only)",
    openapi_extra=documented(
        "Patient", 304, 404, answers="Patient", headers=(IF_NONE_MATCH, IF_MODIFIED_SINCE)
    ),
)
@fhir_view
def read_patient(request: HttpRequest, patient_id: str) -> HttpResponse:
    return _read(
        request,
        patient_id,
        "Patient",
        "care.person",
        fhir_queries.patient,
        lambda person: (fhir.patient(person), person.pk),
    )


@router.get(
    "/Consent/{consent_id}",
    response={200: None},
    summary="Read the consent that covers a referral sent to this organisation",
    openapi_extra=documented(
        "Consent", 304, 404, answers="Consent", headers=(IF_NONE_MATCH, IF_MODIFIED_SINCE)
    ),
)
@fhir_view
def read_consent(request: HttpRequest, consent_id: str) -> HttpResponse:
    return _read(
        request,
        consent_id,
        "Consent",
        "care.consent",
        fhir_queries.consent,
        lambda given: (fhir.consent(given), given.person_id),
    )


@router.get(
    "/Organization/{organization_id}",
    response={200: None},
    summary="Read this organisation, or one whose referrals it receives",
    openapi_extra=documented("Organization", 304, 404, answers="Organization", headers=(IF_NONE_MATCH,)),
)
@fhir_view
def read_organization(request: HttpRequest, organization_id: str) -> HttpResponse:
    return _read(
        request,
        organization_id,
        "Organization",
        "organisations.organisation",
        fhir_queries.organisation,
        lambda found: (fhir.organization(found), None),
    )


# ---------------------------------------------------------------- the referral export


@router.get(
    "/referrals/{referral_id}/bundle",
    auth=OrganisationOrStaff(),
    response={200: None},
    summary="Export a referral as FHIR (ServiceRequest + Task + Consent)",
    description=(
        "A FHIR collection Bundle of the referral's ServiceRequest, Task and the Consent that covers "
        "disclosing it to the receiving organisation (an organisation's own internal referral needs "
        "none, and carries none). For a signed-in worker whose team made or received the referral, or "
        "for the receiving organisation with its API token. The person is named only by a "
        "pseudonymous identifier. Refused with 403 when no active consent covers a disclosure to "
        "another organisation (none given, revoked or expired) and 409 when the referral goes to no "
        "organisation. Every export, and every refusal, is recorded in the audit trail. Not a FHIR "
        "RESTful interaction: not in the CapabilityStatement."
    ),
    openapi_extra=documented("collection Bundle", 403, 404, 409, answers="Bundle"),
)
@fhir_view
def export_bundle(request: HttpRequest, referral_id: str) -> HttpResponse:
    check_parameters(request)
    caller: Caller = request.auth  # type: ignore[attr-defined]
    pk = fhir_queries.referral_id(referral_id)
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
