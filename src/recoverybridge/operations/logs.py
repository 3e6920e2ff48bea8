"""What a log line may not hold: self-completion and API tokens, and query strings (a search by
name, a person's place). The filter sits on the handlers, so it sees every logger's lines,
Django's request logger ("Not Found: /q/<token>/") included."""

import logging
import re

REDACTED = "[redacted]"
PATTERNS = (
    # The self-completion link's token is the whole secret of the link.
    (re.compile(r"(/q/)[^/\s?\"']+"), rf"\g<1>{REDACTED}"),
    # Organisations' API tokens (accounts.access.API_TOKEN_PREFIX) and any bearer credential.
    (re.compile(r"\brb_[A-Za-z0-9_\-]{8,}"), f"rb_{REDACTED}"),
    (re.compile(r"(?i)(bearer\s+)\S+"), rf"\g<1>{REDACTED}"),
    # A query string after a path: names, places and dates of birth can travel in one.
    (re.compile(r"(/[^\s?\"']*)\?[^\s\"']+"), rf"\g<1>?{REDACTED}"),
)


def redact(text: str) -> str:
    for pattern, replacement in PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class Redact(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        # Formatters that print the request would print its path: drop it from the record.
        if hasattr(record, "request"):
            record.request = None
        return True
