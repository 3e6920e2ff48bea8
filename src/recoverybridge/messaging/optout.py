"""STOP and START: a person stops (and restarts) our texts by replying to one.

The opt-out is kept per number, as a keyed hash of it (HMAC-SHA256 with SMS_NUMBER_KEY): the
table says that some number stopped texts, never which, and every send hashes the number it
is about to text and looks that up. Every later send honours it (`outbox` checks again just
before delivery, so a STOP that arrives while a message waits for a retry stops it too).
"""

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from recoverybridge.audit import actions as audit
from recoverybridge.audit.models import AuditAction
from recoverybridge.messaging.models import OptOut
from recoverybridge.messaging.phones import InvalidNumber, normalise

# The carriers' and Twilio's keywords (CTIA, Twilio Advanced Opt-Out), matched as the whole
# first word of the reply, in any case.
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
START_WORDS = frozenset({"START", "UNSTOP", "YES", "OPTIN"})


def number_hash(number: str) -> str:
    """The keyed hash an opt-out is stored under; `number` in E.164 form."""
    return salted_hmac(
        "recoverybridge.messaging.optout", number, secret=settings.SMS_NUMBER_KEY, algorithm="sha256"
    ).hexdigest()


def is_opted_out(number: str) -> bool:
    return OptOut.objects.filter(number_hash=number_hash(number), opted_out=True).exists()


def opted_out_since(number: str) -> datetime.datetime | None:
    """When this number replied STOP, if its texts are stopped now."""
    found = OptOut.objects.filter(number_hash=number_hash(number), opted_out=True).first()
    return found.changed_at if found else None


def set_opted_out(
    number: str, opted_out: bool, keyword: str, *, now: datetime.datetime | None = None
) -> OptOut:
    """Record a STOP (or START) for `number` (E.164), with an audit row that names neither the
    number nor a person: who it was is exactly what the hash keeps to itself."""
    at = now or timezone.now()
    with transaction.atomic():
        optout, _created = OptOut.objects.update_or_create(
            number_hash=number_hash(number),
            defaults={"opted_out": opted_out, "keyword": keyword[:16], "changed_at": at},
        )
        audit.record(
            None,
            AuditAction.UPDATE,
            optout,
            changes={"opted_out": {"new": opted_out}},
            detail=f"texts {'stopped' if opted_out else 'started again'} by reply ({keyword[:16]})",
            at=at,
        )
    return optout


def keyword_of(body: str, opt_out_type: str = "") -> str:
    """The keyword a reply starts with, upper case ("stop." → "STOP"); Twilio's own reading
    (OptOutType: STOP, START or HELP) wins when it sends one."""
    if opt_out_type:
        return opt_out_type.strip().upper()
    words = body.strip().split()
    return "".join(c for c in words[0] if c.isalnum()).upper() if words else ""


def _in_every_language(text: str) -> str:
    """The reply in each language the site speaks, one line each: replies go to a number, and
    the number does not tell which language its owner reads."""
    lines = []
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            line = _(text)
        if line not in lines:
            lines.append(line)
    return "\n".join(lines)


def handle_reply(number: str, body: str, opt_out_type: str = "") -> str:
    """Act on a reply from `number`; returns the text to send back ("" for none)."""
    try:
        number = normalise(number)
    except InvalidNumber:
        return ""
    keyword = keyword_of(body, opt_out_type)
    if keyword in STOP_WORDS:
        set_opted_out(number, True, keyword)
        return _in_every_language(STOPPED)
    if keyword in START_WORDS:
        set_opted_out(number, False, keyword)
        return _in_every_language(STARTED)
    # Anything else, HELP included: say that nobody reads replies, and how to stop.
    return _in_every_language(NOT_READ)


# Marked for translation here, translated into each language when a reply is made.
STOPPED = gettext_noop("You will get no more texts from this number. Reply START to get them again.")
STARTED = gettext_noop("You will get texts from this number again. Reply STOP to stop them.")
NOT_READ = gettext_noop(
    "Replies to this number are not read: please contact your worker directly. Reply STOP to stop texts."
)
