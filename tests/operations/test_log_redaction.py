"""No token and no query string in a log line: the filter on the handlers redacts them from every
logger, Django's request logger included. The log is read as it is written (the real handler
writing to stderr), not through a test handler that would skip the filter."""

import io
import logging

import pytest

from recoverybridge.operations.logs import redact

TOKEN = "s3cr3t-TOKEN-value-0123456789abcdef"


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        (f"Gone: /q/{TOKEN}/", TOKEN),
        (f"Not Found: /q/{TOKEN}/next/?step=2", TOKEN),
        ("Bad request: /staff/?q=Pat+Example&page=2", "Pat"),
        ("GET /api/v1/meetings?lat=51.5&lon=-0.12", "51.5"),
        ("Authorization: Bearer rb_abcdefghijklmnop", "abcdefghijklmnop"),
        ("token rb_abcdefghijklmnopqrstu given", "abcdefghijklmnopqrstu"),
    ],
)
def test_secrets_are_redacted(line, secret):
    assert secret not in redact(line)


def test_ordinary_lines_are_kept():
    assert redact("Imported 120 meetings from sussex-aa") == "Imported 120 meetings from sussex-aa"


def test_a_gone_link_leaves_no_token_in_the_log(client, db, settings):
    settings.DEBUG = False
    (console,) = [h for h in logging.getLogger().handlers if type(h) is logging.StreamHandler]
    written = io.StringIO()
    previous = console.setStream(written)
    try:
        client.get(f"/q/{TOKEN}/?lang=es")
        client.get(f"/api/v1/fhir/Task?_id=1&token={TOKEN}", HTTP_AUTHORIZATION=f"Bearer rb_{TOKEN}")
    finally:
        console.setStream(previous)
    logged = written.getvalue()
    assert "/q/[redacted]/" in logged  # the line is there, without the token
    assert TOKEN not in logged
