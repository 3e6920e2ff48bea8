"""The JSON API (django-ninja): one NinjaAPI, one router per domain.

Bad input is a 400 that names the parameter and the reason, never a 500; a missing
thing or an unknown path is a 404 in the same shape, never Django's HTML page. Under
/api/v1/fhir/ both are FHIR OperationOutcome resources.
"""

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI, Router
from ninja.errors import ValidationError

from recoverybridge.directory.errors import InvalidParameter, NotFound

api = NinjaAPI(
    title="RecoveryBridge API",
    version="1",
    description="Cross-fellowship mutual-aid meeting directory.",
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url="/docs",
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
        code = "not-found" if status == 404 else "invalid"
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


api.add_router("v1/", "recoverybridge.directory.api.router")
api.add_router("v1/feeds/", "recoverybridge.directory.export_api.router")
api.add_router("v1/fhir/", "recoverybridge.care.fhir_api.router")

# Last: any other path under /api/ is a JSON 404, not Django's HTML page.
unknown_paths = Router()


@unknown_paths.api_operation(
    ["GET", "POST", "PUT", "PATCH", "DELETE"], "/{path:rest}", include_in_schema=False, auth=None
)
def no_such_endpoint(request: HttpRequest, rest: str) -> HttpResponse:
    reason = f"no API endpoint at {request.path}; the endpoints are listed at /api/docs"
    return _errors(request, [{"parameter": "path", "reason": reason}], 404)


api.add_router("", unknown_paths)
