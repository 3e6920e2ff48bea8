"""Two-factor pages (verify a code after signing in, set up an authenticator app) and the page
shown when sign-in is paused after too many wrong passwords."""

import base64
from typing import Any

from axes.helpers import get_cool_off, get_failure_limit
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.timesince import timeuntil
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from recoverybridge.accounts.forms import TokenForm


def _next_url(request: HttpRequest) -> str:
    """The page asked for, if on this site; else the start page (LOGIN_REDIRECT_URL decides)."""
    start = resolve_url(settings.LOGIN_REDIRECT_URL)
    target = request.POST.get("next") or request.GET.get("next") or start
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return start


@login_required
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(request.user, form.cleaned_data["token"])
        if device is not None:
            otp_login(request, device)
            return HttpResponseRedirect(_next_url(request))
        form.add_error("token", _("That code is not right or has expired."))
    status = 400 if form.errors else 200
    return render(request, "accounts/verify.html", {"form": form, "next": _next_url(request)}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def setup_two_factor(request: HttpRequest) -> HttpResponse:
    """Adds an unconfirmed TOTP device, shows its key, and confirms it with a first code."""
    user = request.user
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first() or TOTPDevice.objects.create(
        user=user, name="Authenticator app", confirmed=False
    )
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            messages.success(request, _("Two-factor sign-in is on."))
            return HttpResponseRedirect(resolve_url(settings.LOGIN_REDIRECT_URL))
        form.add_error("token", _("That code is not right or has expired."))
    # The key shown once here, in base32 as authenticator apps expect it.
    context = {"form": form, "key": _base32(device), "config_url": device.config_url}
    return render(request, "accounts/setup_two_factor.html", context, status=400 if form.errors else 200)


def _base32(device: TOTPDevice) -> str:
    return base64.b32encode(device.bin_key).decode("ascii")


def locked_out(request: HttpRequest, original_response: Any = None, credentials: Any = None) -> HttpResponse:
    """django-axes' answer once a username has failed too often from one address
    (AXES_LOCKOUT_CALLABLE): what happened, when to try again, and a way back."""
    cool_off = get_cool_off(request)
    now = timezone.now()
    context = {
        "failure_limit": get_failure_limit(request, credentials),
        "wait": timeuntil(now + cool_off, now) if cool_off else "",
    }
    return render(
        request, "accounts/locked_out.html", context, status=getattr(settings, "AXES_HTTP_RESPONSE_CODE", 429)
    )
