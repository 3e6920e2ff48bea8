"""What every staff page starts with: a signed-in user, no caching, the record it is about
looked up within the user's scope, and a refusal the 403 page can explain."""

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache

from recoverybridge.accounts.access import RestrictedQuerySet

View = Callable[..., HttpResponse]
M = TypeVar("M", bound=models.Model)


class Refused(PermissionDenied):
    """A page the signed-in user may not open, with a reason written (and translated) for them:
    the 403 page shows it. Other refusals (an action's, in English for the audit trail) are
    shown as the page's general text instead."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def staff_page(view: View) -> View:
    """Signed in, never cached by the browser or a proxy (these pages hold health data)."""

    @wraps(view)
    @login_required
    @never_cache
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return view(request, *args, **kwargs)

    return wrapped


def in_scope_or_404(
    queryset: RestrictedQuerySet[M], request: HttpRequest, pk: int, action: str = "view"
) -> M:
    """The row if the signed-in user may `action` it; a 404 otherwise, never a 403, so that a
    page never tells whether a record outside the user's scope exists."""
    found = queryset.restrict(request.user, action).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found
