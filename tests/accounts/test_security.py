"""Staff sign-in: Argon2 hashes, a lockout after five wrong passwords, sessions that end,
optional two-factor codes, and security headers with a strict content security policy."""

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

LOGIN = "/accounts/login/"


@pytest.fixture
def vera(db):
    """Vera is a directory editor with a real password."""
    user = User.objects.create(username="vera", email="vera@example.org")
    user.set_password("correct horse battery staple")
    user.save()
    return user


def sign_in(client, password, username="vera"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR="198.51.100.4")


def test_passwords_are_hashed_with_argon2(vera):
    assert vera.password.startswith("argon2$argon2id$")


def test_five_wrong_passwords_lock_the_account_even_against_the_right_one(client, vera):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "wrong").status_code == 200  # the form again, with an error
    assert sign_in(client, "wrong").status_code == 429
    response = sign_in(client, "correct horse battery staple")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_lockout_is_per_username_and_address(client, vera):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "wrong")
    # The same user from another address is not locked out by someone else's guessing.
    response = client.post(
        LOGIN, {"username": "vera", "password": "correct horse battery staple"}, REMOTE_ADDR="203.0.113.9"
    )
    assert response.status_code == 302


def test_a_successful_sign_in_resets_the_count(client, vera):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "wrong")
    assert sign_in(client, "correct horse battery staple").status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "wrong").status_code == 200
    assert sign_in(client, "correct horse battery staple").status_code == 302


def test_sessions_end_after_a_working_day_and_with_the_browser(client, vera):
    assert settings.SESSION_COOKIE_AGE == 8 * 60 * 60
    sign_in(client, "correct horse battery staple")
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["expires"] == "" and cookie["max-age"] == ""  # a browser-session cookie
    assert cookie["httponly"]


def test_two_factor_is_asked_for_when_the_user_has_a_device(client, vera):
    device = TOTPDevice.objects.create(user=vera, name="phone", confirmed=True)
    client.force_login(vera)
    response = client.get("/editor/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:verify"))

    response = client.post(reverse("accounts:verify"), {"token": "000000", "next": "/editor/"})
    assert response.status_code == 400
    device.refresh_from_db()
    assert device.throttling_failure_count == 1  # django-otp slows down guessing
    device.throttle_reset()
    token = f"{totp(device.bin_key):06d}"
    response = client.post(reverse("accounts:verify"), {"token": token, "next": "/editor/"})
    assert response.status_code == 302 and response["Location"] == "/editor/"
    assert not client.get("/editor/").get("Location", "").startswith(reverse("accounts:verify"))


def test_two_factor_verify_never_redirects_off_site(client, vera):
    device = TOTPDevice.objects.create(user=vera, name="phone", confirmed=True)
    client.force_login(vera)
    token = f"{totp(device.bin_key):06d}"
    response = client.post(reverse("accounts:verify"), {"token": token, "next": "https://evil.example/"})
    assert response["Location"] == reverse("workspace:home")  # the start page decides from there


def test_users_without_a_device_are_not_asked(client, vera):
    client.force_login(vera)
    response = client.get(reverse("accounts:setup_two_factor"))
    assert response.status_code == 200
    device = TOTPDevice.objects.get(user=vera)
    assert not device.confirmed  # set up, not yet on: no code asked until confirmed
    assert "verify" not in client.get("/").get("Location", "")
    response = client.post(reverse("accounts:setup_two_factor"), {"token": f"{totp(device.bin_key):06d}"})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed


def test_public_pages_carry_a_strict_content_security_policy(client, db):
    response = client.get("/")
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Request-ID"]
