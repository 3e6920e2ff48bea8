"""Our own error pages, with DEBUG off as in production: 400, 403 (with what to do instead),
404, 500 (rendered without a request or the database), and a form's expired security token;
in English and Spanish."""

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client, RequestFactory
from django.urls import reverse

from recoverybridge.workspace import errors

SPANISH = {"accept-language": "es"}


def test_debug_is_off():
    assert settings.DEBUG is False


@pytest.mark.parametrize(
    ("headers", "lang", "heading", "way_on"),
    [
        ({}, "en", "Page not found", "Find a meeting"),
        (SPANISH, "es", "Página no encontrada", "Buscar una reunión"),
    ],
)
def test_404_is_ours_in_the_readers_language(db, client, headers, lang, heading, way_on):
    response = client.get("/no/such/page/", headers=headers)
    assert response.status_code == 404
    page = response.content.decode()
    assert f'<html lang="{lang}">' in page and f"<h1>{heading}</h1>" in page and way_on in page
    assert f"<title>{heading} · RecoveryBridge</title>" in page


def test_a_signed_in_users_404_leads_to_their_start_page(world, client):
    client.force_login(world.bob)
    page = client.get(f"/staff/people/{world.rowan.pk}/").content.decode()  # another organisation's
    assert "Page not found" in page and f'href="{reverse("workspace:home")}"' in page
    assert "Rowan" not in page


@pytest.mark.parametrize(
    ("headers", "heading", "instead"),
    [
        ({}, "You cannot open this page", "What you can do instead"),
        (SPANISH, "No puede abrir esta página", "Qué puede hacer en su lugar"),
    ],
)
def test_403_says_why_and_what_to_do_instead(world, client, headers, heading, instead):
    client.force_login(world.bob)
    response = client.get(reverse("evaluation:start"), headers=headers)
    assert response.status_code == 403
    page = response.content.decode()
    assert f"<h1>{heading}</h1>" in page and instead in page
    assert f'href="{reverse("workspace:home")}"' in page
    assert 'class="staff-nav"' in page  # the parts of the system Bob may open
    assert 'name="password"' not in page


def test_403_gives_the_reason_only_when_it_was_written_for_the_reader(world, client):
    client.force_login(world.bob)
    page = client.get(reverse("evaluation:start")).content.decode()
    assert "Evaluation reports are for team and service managers" in page
    # An action's refusal is for the audit trail (English, technical): the page says it plainly.
    client.force_login(world.nina)
    page = client.get(f"/staff/people/{world.pat.pk}/audit/").content.decode()
    assert "Your role does not include this page or this action." in page or "Page not found" in page


def test_the_admin_refuses_a_signed_in_worker_with_our_403_not_its_sign_in_form(world, client):
    client.force_login(world.bob)
    for url in ("/admin/", "/admin/login/", "/admin/organisations/organisation/"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert "The administration pages are for administrators." in response.content.decode()
    # Someone not signed in is still asked to sign in there.
    assert Client().get("/admin/").status_code == 302


@pytest.mark.urls("tests.workspace.boom_urls")
@pytest.mark.parametrize(
    ("headers", "lang", "heading"),
    [({}, "en", "Something went wrong on our side"), (SPANISH, "es", "Algo ha fallado por nuestra parte")],
)
def test_500_is_ours_when_a_view_really_fails(db, headers, lang, heading):
    client = Client(raise_request_exception=False)
    response = client.get("/boom/", headers=headers)
    assert response.status_code == 500
    page = response.content.decode()
    assert f'<html lang="{lang}">' in page and f"<h1>{heading}</h1>" in page
    assert "a bug in a view" not in page and "Traceback" not in page


def test_the_500_page_needs_no_request_context_nor_database():
    """No `db` fixture: pytest-django fails any query, so this renders with none."""
    response = errors.server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    assert b"Something went wrong on our side" in response.content


def test_400_is_ours(db, client):
    response = client.get("/", headers={"host": "not-our-site.example"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "We could not read that request" in page and '<html lang="en">' in page


@pytest.mark.parametrize(
    ("headers", "heading"), [({}, "This form has expired"), (SPANISH, "Este formulario ha caducado")]
)
def test_a_form_without_its_security_token_gets_our_page(db, headers, heading):
    User.objects.create_user("vera", password="correct horse battery staple")
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        reverse("login"), {"username": "vera", "password": "correct horse battery staple"}, headers=headers
    )
    assert response.status_code == 403
    page = response.content.decode()
    assert f"<h1>{heading}</h1>" in page and "_auth_user_id" not in client.session
