"""Optional two-factor sign-in: a user with a confirmed TOTP device must enter a code
after their password before any other page (django-otp marks the session verified)."""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django_otp import user_has_device


class RequireTwoFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not user.is_verified()  # type: ignore[attr-defined]  # added by OTPMiddleware
            and not self._exempt(request.path)
            and user_has_device(user, confirmed=True)
        ):
            query = urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(f"{reverse('accounts:verify')}?{query}")
        return self.get_response(request)

    @staticmethod
    def _exempt(path: str) -> bool:
        exempt = (
            reverse("accounts:verify"),
            reverse("logout"),
            "/" + settings.STATIC_URL.lstrip("/"),
            "/i18n/",
        )
        return path.startswith(exempt)
