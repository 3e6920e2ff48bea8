"""The JSON API (django-ninja): one NinjaAPI, one router per domain.

Bad input is a 400 that names the parameter and the reason, never a 500; a missing
thing or an unknown path (/api/ itself too) is a 404 in the same shape and a method an
endpoint does not take a 405 with an Allow header, never Django's HTML page. Under
/api/v1/fhir/ all of them are FHIR OperationOutcome resources.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

import tzdata
from asgiref.sync import iscoroutinefunction
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.urls import URLPattern, URLResolver, reverse
from django.utils.datastructures import MultiValueDict
from django.views.decorators.csrf import csrf_exempt
from ninja import Field, NinjaAPI, Router, Schema
from ninja.errors import ValidationError
from ninja.parser import Parser

from recoverybridge.directory.api import ErrorsOut
from recoverybridge.directory.errors import InvalidParameter, NotFound
from recoverybridge.directory.version import current_token


class OneValueEach(Parser):
    """A query parameter that takes one value, given twice (lat=1&lat=2), is a 400 naming it:
    ninja would quietly use the last. Repeatable parameters (day, fellowship, attribute) are
    ninja's list fields. Ninja does not tell the parser which parameters the endpoint takes, so
    a parameter it does not take is refused too when repeated (given once it is ignored)."""

    def parse_querydict(
        self, data: MultiValueDict[str, Any], list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        for key, values in data.lists():
            if len(values) > 1 and key not in list_fields:
                raise InvalidParameter(key, "given more than once; it takes one value")
        return super().parse_querydict(data, list_fields, request)


class JsonAnswersAPI(NinjaAPI):
    """Ninja answers two things itself, as HTML: a method an endpoint does not take (Django's
    empty 405) and /api/ (its 404 page). Its URL patterns are wrapped here to answer in JSON."""

    @property
    def urls(self) -> tuple[list[URLResolver | URLPattern], str, str]:
        patterns, app_name, namespace = super().urls
        return [_json_answers(pattern) for pattern in patterns], app_name, namespace


api = JsonAnswersAPI(
    title="RecoveryBridge API",
    version="1",
    description="Cross-fellowship mutual-aid meeting directory.",
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url="/docs",
    parser=OneValueEach(),
)


def _location_name(loc: Any) -> str:
    """Ninja's error location, e.g. ("query", "lat") -> "lat"."""
    parts = [str(p) for p in loc if p not in ("query", "path", "body", "params")]
    return ".".join(parts) or "request"


FHIR_PREFIX = "/api/v1/fhir/"


def _errors(request: HttpRequest, errors: list[dict[str, str]], status: int) -> HttpResponse:
    """{"errors": [{"parameter", "reason"}]}; under /api/v1/fhir/ a FHIR OperationOutcome instead,
    as FHIR clients expect (care.fhir_api answers its own errors that way)."""
    if request.path.startswith(FHIR_PREFIX):
        from recoverybridge.care.fhir_api import outcome

        first = errors[0]
        code = {404: "not-found", 405: "not-supported"}.get(status, "invalid")
        return outcome(
            status, code, f"{first['parameter']}: {first['reason']}", expression=first["parameter"]
        )
    return api.create_response(request, {"errors": errors}, status=status)


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {"parameter": _location_name(error.get("loc", ())), "reason": str(error.get("msg", "invalid"))}
        for error in exc.errors
    ]
    return _errors(request, errors, 400)


@api.exception_handler(NotFound)
def not_found(request: HttpRequest, exc: NotFound) -> HttpResponse:
    return _errors(request, [{"parameter": exc.parameter, "reason": exc.reason}], 404)


@api.exception_handler(InvalidParameter)
def invalid_parameter(request: HttpRequest, exc: InvalidParameter) -> HttpResponse:
    return _errors(request, [{"parameter": exc.parameter, "reason": exc.reason}], 400)


class MetaOut(Schema):
    api_version: str
    time_zone_database: str = Field(
        description="IANA release of the zone database every time is computed with"
    )
    directory_version: int | None = Field(description="changes whenever any meeting changes")


meta = Router(tags=["meta"])


@meta.get("/meta", response={200: MetaOut, 400: ErrorsOut}, summary="About this service")
def about(request: HttpRequest) -> dict[str, object]:
    return {
        "api_version": api.version,
        "time_zone_database": tzdata.IANA_VERSION,
        "directory_version": current_token(),
    }


api.add_router("v1/", meta)
api.add_router("v1/", "recoverybridge.directory.api.router")
api.add_router("v1/feeds/", "recoverybridge.directory.export_api.router")
api.add_router("v1/fhir/", "recoverybridge.care.fhir_api.router")


def _no_endpoint(request: HttpRequest) -> HttpResponse:
    docs, openapi = reverse("api:openapi-view"), reverse("api:openapi-json")
    reason = f"no API endpoint at {request.path}; the endpoints are listed at {docs}"
    response = _errors(request, [{"parameter": "path", "reason": reason}], 404)
    response["Link"] = f'<{docs}>; rel="service-doc", <{openapi}>; rel="service-desc"'
    return response


@csrf_exempt  # as ninja's own views: a POST here is told where the docs are, not refused for CSRF
def api_root(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    """/api/ is no endpoint: a JSON 404 pointing to the docs, like any unknown path (a redirect
    would hand a JSON client an HTML page)."""
    return _no_endpoint(request)


def _not_allowed(request: HttpRequest, refused: HttpResponseNotAllowed) -> HttpResponse:
    allow = ", ".join(sorted(method.strip() for method in refused["Allow"].split(",")))
    reason = f"{request.method} is not allowed here; allowed: {allow}"
    response = _errors(request, [{"parameter": "method", "reason": reason}], 405)
    response["Allow"] = allow
    return response


def _method_checked(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    if iscoroutinefunction(view):
        raise ImproperlyConfigured("api._method_checked wraps synchronous views only")

    @wraps(view)  # keeps csrf_exempt: ninja's views check CSRF themselves, for cookie auth only
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if isinstance(response, HttpResponseNotAllowed):
            return _not_allowed(request, response)
        return response

    return checked


def _json_answers(pattern: URLResolver | URLPattern) -> URLResolver | URLPattern:
    if not isinstance(pattern, URLPattern):
        return pattern
    # "api-root" stays the name ninja reverses to find the API's prefix.
    callback = api_root if pattern.name == "api-root" else _method_checked(pattern.callback)
    return URLPattern(pattern.pattern, callback, pattern.default_args, pattern.name)


# Last: any other path under /api/ is a JSON 404, not Django's HTML page.
unknown_paths = Router()


@unknown_paths.api_operation(
    ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    "/{path:rest}",
    include_in_schema=False,
    auth=None,
)
def no_such_endpoint(request: HttpRequest, rest: str) -> HttpResponse:
    return _no_endpoint(request)


api.add_router("", unknown_paths)
