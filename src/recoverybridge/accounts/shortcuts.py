"""What every staff page starts with: a signed-in user, no caching, and the record it is about
looked up within the user's scope."""

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.decorators import login_required
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache

from recoverybridge.accounts.access import RestrictedQuerySet

View = Callable[..., HttpResponse]
M = TypeVar("M", bound=models.Model)


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
