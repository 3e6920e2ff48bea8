"""Two-factor pages: verify a code after signing in, and set up an authenticator app."""

import base64

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from recoverybridge.accounts.forms import TokenForm


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or "/"
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return "/"


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
            return HttpResponseRedirect("/")
        form.add_error("token", _("That code is not right or has expired."))
    # The key shown once here, in base32 as authenticator apps expect it.
    context = {"form": form, "key": _base32(device), "config_url": device.config_url}
    return render(request, "accounts/setup_two_factor.html", context, status=400 if form.errors else 200)


def _base32(device: TOTPDevice) -> str:
    return base64.b32encode(device.bin_key).decode("ascii")
