"""Request context for the audit trail: a request id and the client's address, per request."""

import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    remote_addr: str | None = None


NO_REQUEST = RequestContext()
# A contextvar rather than a thread-local so async views and the task worker each see their own.
_current: ContextVar[RequestContext | None] = ContextVar("audit_request_context", default=None)


def current() -> RequestContext:
    """The request being served, or an empty context outside requests (commands, tasks)."""
    return _current.get() or NO_REQUEST


# An incoming X-Request-ID (from the proxy) is kept only if it is short and plain, so it is safe to log.
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


def request_id_for(request: HttpRequest) -> str:
    given = request.headers.get("X-Request-ID", "")
    return given if _SAFE_REQUEST_ID.match(given) else uuid.uuid4().hex


class AuditContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # REMOTE_ADDR only: X-Forwarded-For can be forged unless a trusted proxy rewrites it.
        context = RequestContext(request_id_for(request), request.META.get("REMOTE_ADDR") or None)
        token = _current.set(context)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response["X-Request-ID"] = context.request_id
        return response
