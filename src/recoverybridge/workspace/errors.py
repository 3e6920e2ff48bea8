"""Our own error pages (urls.py's handler400/403/404/500, settings.CSRF_FAILURE_VIEW).

403 and 404 are ordinary pages: styled, in the reader's language, with a way on (a signed-in
user's start page and the parts of the system they may open). 400 and 500 are plain
templates rendered without a request or the database, which may be what failed.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import loader
from django.views.decorators.csrf import requires_csrf_token

from recoverybridge.accounts.shortcuts import Refused


@requires_csrf_token  # the page's own forms (language, sign out) need a token
def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    reason = exception.reason if isinstance(exception, Refused) else ""
    return render(request, "403.html", {"reason": reason}, status=403)


@requires_csrf_token
def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "404.html", status=404)


@requires_csrf_token
def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent without its security token: most often a page left open past the session."""
    return render(request, "403_csrf.html", status=403)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    return HttpResponse(loader.get_template("400.html").render(), status=400)


def server_error(request: HttpRequest) -> HttpResponse:
    return HttpResponse(loader.get_template("500.html").render(), status=500)
