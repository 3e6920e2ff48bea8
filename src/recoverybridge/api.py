"""The JSON API (django-ninja): one NinjaAPI, one router per domain.

Bad input is a 400 that names the parameter and the reason, never a 500.
"""

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import ValidationError

from recoverybridge.directory.errors import InvalidParameter

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


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {"parameter": _location_name(error.get("loc", ())), "reason": str(error.get("msg", "invalid"))}
        for error in exc.errors
    ]
    return api.create_response(request, {"errors": errors}, status=400)


@api.exception_handler(InvalidParameter)
def invalid_parameter(request: HttpRequest, exc: InvalidParameter) -> HttpResponse:
    return api.create_response(
        request, {"errors": [{"parameter": exc.parameter, "reason": exc.reason}]}, status=400
    )


api.add_router("v1/", "recoverybridge.directory.api.router")
api.add_router("v1/feeds/", "recoverybridge.directory.export_api.router")
api.add_router("v1/fhir/", "recoverybridge.care.fhir_api.router")
