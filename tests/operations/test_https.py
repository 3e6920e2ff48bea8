"""HTTPS as deployed: off by default (no redirect, no HSTS, so a first install over plain HTTP
works), and with the production values docs/operations.md gives, plain HTTP is redirected,
HTTPS answers carry HSTS for a year with subdomains and preload, and a request the proxy marks
as HTTPS (X-Forwarded-Proto) is not redirected again. Every page's policy says object-src 'none'."""

import pytest

from recoverybridge import settings as project_settings
from tests.operations.test_start_up import documented_https_settings

pytestmark = pytest.mark.django_db


def test_by_default_nothing_is_redirected_and_no_hsts_is_sent(client):
    assert project_settings.SECURE_SSL_REDIRECT is False and project_settings.SECURE_HSTS_SECONDS == 0
    response = client.get("/")
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response.headers


@pytest.fixture
def production(settings):
    documented = documented_https_settings()
    settings.SECURE_SSL_REDIRECT = documented["SECURE_SSL_REDIRECT"] == "1"
    settings.SECURE_HSTS_SECONDS = int(documented["SECURE_HSTS_SECONDS"])
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = documented["SECURE_HSTS_INCLUDE_SUBDOMAINS"] == "1"
    settings.SECURE_HSTS_PRELOAD = documented["SECURE_HSTS_PRELOAD"] == "1"
    settings.SECURE_PROXY_SSL_HEADER = (documented["SECURE_PROXY_SSL_HEADER"], "https")
    return settings


def test_with_the_production_values_plain_http_is_redirected(client, production):
    response = client.get("/meetings/?day=1")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/meetings/?day=1"


def test_with_the_production_values_https_carries_hsts(client, production):
    response = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    # Both policies, the finder's own and the one every other page gets, refuse plugins.
    assert "object-src 'none'" in response["Content-Security-Policy"]
    sign_in = client.get("/accounts/login/", headers={"X-Forwarded-Proto": "https"})
    assert "object-src 'none'" in sign_in["Content-Security-Policy"]
    assert sign_in["Strict-Transport-Security"] == response["Strict-Transport-Security"]
