"""The HTTP side of FHIR that every endpoint shares: formats (Accept, `_format`, `_pretty`), request
bodies (Content-Type), versions (ETag, If-Match, If-None-Match, If-Modified-Since, Last-Modified)
and errors as OperationOutcome resources (FHIR R4 http.html).

We serve JSON only: `application/fhir+json` (and `application/json`, and the old
`application/json+fhir` that some clients still send). Anything else a client asks for is a 406;
a body in any other type is a 415. Errors are always `application/fhir+json`.
"""

import datetime
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.http import http_date, parse_http_date_safe

FHIR_JSON = "application/fhir+json"
PLAIN_JSON = "application/json"
JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
FORM = "application/x-www-form-urlencoded"
# Media types that name FHIR JSON; the last is DSTU2's, still sent by some clients.
FHIR_JSON_TYPES = frozenset({FHIR_JSON, PLAIN_JSON, "application/json+fhir"})
# `_format` values that ask for JSON (FHIR's short form, and the media types).
JSON_FORMATS = {
    "json": FHIR_JSON,
    FHIR_JSON: FHIR_JSON,
    "application/json+fhir": FHIR_JSON,
    PLAIN_JSON: PLAIN_JSON,
}
# A FHIR resource id (R4 datatypes: id).
FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
# Query parameters every FHIR interaction takes (R4 http.html#parameters).
GENERAL_PARAMETERS = frozenset({"_format", "_pretty"})
# The one parameter given more than once on purpose (a range: ge... and le...); FHIR would
# combine any other repeated one with AND, which we do not do.
REPEATABLE = frozenset({"_lastUpdated"})


@dataclass
class FhirError(Exception):
    """A refusal answered as an OperationOutcome."""

    status: int
    code: str
    message: str
    expression: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    def response(self) -> HttpResponse:
        answer = outcome(self.status, self.code, self.message, expression=self.expression)
        for name, value in self.headers.items():
            answer[name] = value
        return answer


def operation_outcome(issues: Iterable[tuple[str, str, str, str]]) -> dict[str, Any]:
    """An OperationOutcome of (severity, code, diagnostics, expression) issues."""
    found = []
    for severity, code, message, expression in issues:
        issue: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": message}
        if expression:
            issue["expression"] = [expression]
        found.append(issue)
    return {"resourceType": "OperationOutcome", "issue": found}


def outcome(status: int, code: str, message: str, *, expression: str = "") -> JsonResponse:
    """A FHIR OperationOutcome with one error, as the response body."""
    response = JsonResponse(
        operation_outcome([("error", code, message, expression)]), status=status, content_type=FHIR_JSON
    )
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="RecoveryBridge FHIR"'
    return response


# ---------------------------------------------------------------- formats


def _media_parameters(value: str) -> tuple[str, dict[str, str]]:
    media, *rest = value.split(";")
    parameters = {}
    for part in rest:
        name, _, content = part.partition("=")
        parameters[name.strip().lower()] = content.strip().strip('"')
    return media.strip().lower(), parameters


def _quality(parameters: dict[str, str]) -> float:
    try:
        return max(0.0, min(1.0, float(parameters.get("q", "1"))))
    except ValueError:
        return 0.0


def _fhir_version_ok(parameters: dict[str, str]) -> bool:
    version = parameters.get("fhirversion")
    return version is None or version in {"4.0", "4.0.1"}


def negotiate(request: HttpRequest) -> str:
    """The media type to answer in: `_format` first (FHIR says it overrides Accept), then Accept."""
    if "_format" in request.GET:
        # An unencoded "+" in a query string arrives as a space.
        asked = request.GET["_format"].replace(" ", "+")
        media, parameters = _media_parameters(asked)
        if media in JSON_FORMATS and _fhir_version_ok(parameters):
            return JSON_FORMATS[media]
        raise FhirError(
            406,
            "not-supported",
            f"_format {asked!r} is not served: this server answers FHIR R4 JSON only "
            "(_format=json or application/fhir+json).",
            expression="_format",
        )
    accept = request.headers.get("Accept", "").strip()
    if not accept:
        return FHIR_JSON
    best, best_quality = "", 0.0
    for part in accept.split(","):
        media, parameters = _media_parameters(part)
        quality = _quality(parameters)
        if media in {FHIR_JSON, "application/json+fhir", "*/*", "application/*"}:
            offered = FHIR_JSON
        elif media == PLAIN_JSON:
            offered = PLAIN_JSON
        else:
            continue
        if not _fhir_version_ok(parameters):
            continue
        # On equal quality FHIR's own type wins.
        if quality > best_quality or (quality == best_quality > 0 and offered == FHIR_JSON):
            best, best_quality = offered, quality
    if not best:
        raise FhirError(
            406,
            "not-supported",
            f"None of the formats accepted ({accept[:200]}) is served: this server answers FHIR R4 JSON "
            "only (application/fhir+json or application/json).",
        )
    return best


def pretty(request: HttpRequest) -> bool:
    value = request.GET.get("_pretty", "false")
    if value not in {"true", "false"}:
        raise FhirError(400, "value", "_pretty takes true or false.", expression="_pretty")
    return value == "true"


def check_parameters(request: HttpRequest, allowed: Iterable[str] = ()) -> None:
    """A parameter an interaction does not take is refused, never quietly ignored."""
    known = GENERAL_PARAMETERS | set(allowed)
    for name in request.GET:
        if name not in known:
            raise FhirError(
                400, "not-supported", f"This interaction takes no parameter {name!r}.", expression=name
            )


# ---------------------------------------------------------------- bodies


def body_type(request: HttpRequest, accepted: Iterable[str]) -> str:
    """The request's media type, if one of `accepted` in UTF-8; else a 415."""
    accepted = tuple(accepted)
    media, parameters = _media_parameters(request.headers.get("Content-Type", ""))
    charset = parameters.get("charset", "utf-8").lower()
    if media not in accepted or charset not in {"utf-8", "utf8"}:
        raise FhirError(
            415,
            "not-supported",
            f"Send the body as {' or '.join(accepted)} in UTF-8"
            + (f", not {media}" if media else " (no Content-Type was given)")
            + ".",
        )
    return media


def json_body(request: HttpRequest) -> Any:
    """The request body parsed as JSON; 400 when it is not, 413 when it is too large."""
    try:
        raw = request.body
    except RequestDataTooBig:
        raise FhirError(413, "too-long", "The request body is too large.") from None
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise FhirError(400, "structure", "The request body is not valid JSON.") from None


# ---------------------------------------------------------------- versions


def etag(version: str) -> str:
    return f'W/"{version}"'


def _tags(header: str) -> list[str]:
    """The versions an If-Match or If-None-Match header names: W/"3", "3" and 3 all name version 3."""
    tags = []
    for part in header.split(","):
        tag = part.strip()
        if tag.startswith(("W/", "w/")):
            tag = tag[2:]
        tags.append(tag.strip().strip('"'))
    return [tag for tag in tags if tag]


def if_match(request: HttpRequest) -> str | None:
    """The one version an If-Match header names, or None without the header."""
    header = request.headers.get("If-Match")
    if header is None:
        return None
    tags = _tags(header)
    if len(tags) != 1 or tags == ["*"]:
        raise FhirError(
            400,
            "value",
            'If-Match names one version, as the ETag of the resource read: W/"3".',
            expression="If-Match",
        )
    return tags[0]


def not_modified(request: HttpRequest, version: str, last_updated: datetime.datetime | None) -> bool:
    """Whether a conditional read (If-None-Match, else If-Modified-Since) finds nothing new."""
    header = request.headers.get("If-None-Match")
    if header is not None:
        tags = _tags(header)
        return "*" in tags or version in tags
    since = parse_http_date_safe(request.headers.get("If-Modified-Since", ""))
    if since is not None and last_updated is not None:
        return int(last_updated.timestamp()) <= since
    return False


def version_headers(response: HttpResponse, version: str, last_updated: datetime.datetime | None) -> None:
    response["ETag"] = etag(version)
    if last_updated is not None:
        response["Last-Modified"] = http_date(last_updated.timestamp())


# ---------------------------------------------------------------- the wrapper of every FHIR view


def fhir_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Negotiates the format (406), answers an unauthenticated caller's refusal, turns a FhirError
    into its OperationOutcome, and answers in the negotiated type (`_pretty` indents)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            for name, values in request.GET.lists():
                if len(values) > 1 and name not in REPEATABLE:
                    raise FhirError(
                        400, "invalid", f"{name}: given more than once; it takes one value", expression=name
                    )
            media = negotiate(request)
            indent = pretty(request)
        except FhirError as refusal:
            return refusal.response()
        unauthenticated = getattr(getattr(request, "auth", None), "refusal", None)
        if unauthenticated is not None:
            return unauthenticated
        try:
            response = view(request, *args, **kwargs)
        except FhirError as error:
            response = error.response()
        if response.get("Content-Type") == FHIR_JSON and response.status_code < 400:
            response["Content-Type"] = media
            if indent and response.content:
                response.content = json.dumps(json.loads(response.content), indent=2, ensure_ascii=False)
        return response

    return wrapper
