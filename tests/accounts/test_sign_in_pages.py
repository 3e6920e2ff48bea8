"""The pages around signing in are ours: signing out, and the pause after too many wrong
passwords (django-axes), titled, in the reader's language, with a way back."""

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.urls import reverse

LOGIN = "/accounts/login/"
SPANISH = {"accept-language": "es"}


@pytest.fixture
def vera(db):
    return User.objects.create_user("vera", password="correct horse battery staple")


def test_signing_out_shows_our_page_not_the_admins(client, vera):
    client.force_login(vera)
    response = client.post(reverse("logout"))
    assert response.status_code == 200
    page = response.content.decode()
    assert (
        "<h1>You are signed out</h1>" in page and "<title>You are signed out · RecoveryBridge</title>" in page
    )
    assert f'href="{reverse("login")}"' in page and "Sign in again" in page
    assert "quality time" not in page
    assert "_auth_user_id" not in client.session


def test_signing_out_in_spanish(client, vera):
    client.force_login(vera)
    page = client.post(reverse("logout"), headers=SPANISH).content.decode()
    assert '<html lang="es">' in page and "<h1>Ha cerrado la sesión</h1>" in page


@pytest.mark.parametrize(
    ("headers", "lang", "title", "wait"),
    [
        ({}, "en", "Sign-in paused", "You can try again in 1\xa0hour."),
        (SPANISH, "es", "Inicio de sesión en pausa", "Puede volver a intentarlo dentro de 1\xa0hora."),
    ],
)
def test_the_lockout_page_is_ours(client, vera, headers, lang, title, wait):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post(LOGIN, {"username": "vera", "password": "wrong"}, headers=headers)
    assert response.status_code == 429
    page = response.content.decode()
    assert f'<html lang="{lang}">' in page and f"<title>{title} · RecoveryBridge</title>" in page
    assert wait in page
    assert f'href="{reverse("login")}"' in page  # a way back
    assert 'name="password"' not in page
