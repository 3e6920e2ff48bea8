"""What every public page carries: a description for search engines, a language switcher that
waits to be asked, and the site's robots.txt."""

import re

import pytest
from django.test import Client

from tests.factories import make_meeting

pytestmark = pytest.mark.django_db


def description(html: str) -> str:
    found = re.search(r'<meta name="description" content="([^"]+)">', html)
    assert found is not None, "no meta description"
    return found.group(1)


def test_public_pages_describe_themselves(client: Client):
    meeting = make_meeting("aa", name="Lewes Serenity")
    for url in ("/", "/which-group/", "/booklets/", f"/meetings/{meeting.pk}/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert len(description(response.content.decode())) > 50, url
    page = client.get(f"/meetings/{meeting.pk}/").content.decode()
    assert description(page).startswith("Lewes Serenity (Alcoholics Anonymous): when and where")


def test_the_description_is_in_the_page_language(client: Client):
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert '<html lang="es">' in html
    assert description(html) != description(client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode())


def test_the_language_switcher_changes_nothing_until_its_button_is_pressed(client: Client):
    html = client.get("/").content.decode()
    form = re.search(r'<form class="language-form".*?</form>', html, re.S)
    assert form is not None
    # No script submits it on change (WCAG 3.2.2), and its button is there from the first paint,
    # not hidden by a script after it (a layout shift on every page).
    assert "data-autosubmit" not in form.group(0)
    button = re.search(r"<button[^>]*>", form.group(0))
    assert button is not None and "js-hide" not in button.group(0) and "hidden" not in button.group(0)


def test_robots_txt_lets_crawlers_index_the_finder_only(client: Client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    lines = response.content.decode().splitlines()
    assert "User-agent: *" in lines
    for private in ("/staff/", "/admin/", "/accounts/", "/editor/", "/q/"):
        assert f"Disallow: {private}" in lines
    assert "Allow: /" in lines
