"""The admin site, for administrators (staff accounts) only.

Django's admin answers a signed-in user without staff status with its own sign-in form ("You are
authenticated as ..., but are not authorized"), so a worker who follows a link to it would
think they had been signed out. Ours refuses them with the project's 403 page instead; someone
not signed in is still sent to sign in.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from recoverybridge.accounts.shortcuts import Refused

V = TypeVar("V", bound=Callable[..., Any])


class StaffAdminSite(admin.AdminSite):
    def refuse_if_signed_in(self, request: HttpRequest) -> None:
        if request.user.is_authenticated and not self.has_permission(request):
            raise Refused(_("The administration pages are for administrators."))

    def admin_view(self, view: V, cacheable: bool = False) -> V:
        inner = super().admin_view(view, cacheable)

        @wraps(inner)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            self.refuse_if_signed_in(request)
            return inner(request, *args, **kwargs)

        return cast(V, guarded)

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        self.refuse_if_signed_in(request)
        return super().login(request, extra_context)
