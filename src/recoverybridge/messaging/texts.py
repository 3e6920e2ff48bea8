"""What a message to a person says: one text per kind of message, for a text message and for
an e-mail, in the person's language.

Minimum necessary (42 CFR Part 2, UK GDPR): a message may be read by someone else (on a
shared phone, a lock screen), so it carries no name, diagnosis or service name. The texts name
only what the person agreed to receive: a private link and when it works until, or the meeting
they chose (its name, day and time, place or "online"). A text fills in only the PLACEHOLDERS
below, so a caller cannot slip a name in.

A text message is kept within SMS_MAX_SEGMENTS segments: when it would run longer, characters
with a GSM-7 look-alike are replaced (which doubles what a segment holds), then the meeting's
name (and then the place) is cut short. The link is never cut.
"""

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import formats, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from recoverybridge.messaging import segments
from recoverybridge.messaging.models import Channel, MessageKind

# `contact` is a volunteer member's first name and number or address, sent only once the person
# accepted their introduction (volunteers app): theirs to share, never the person's.
PLACEHOLDERS = frozenset({"link", "until", "meeting", "when", "where", "contact"})
ELLIPSIS = "..."  # three full stops: "…" is not GSM-7


@dataclass(frozen=True)
class Text:
    subject: Promise
    sms: Promise
    email: Promise
    # Placeholders that may be cut short, in this order, to keep a text message in its segments.
    trim: tuple[str, ...] = ()


TEXTS: dict[str, Text] = {
    MessageKind.QUESTIONNAIRE_LINK: Text(
        subject=_("Your private link"),
        sms=_("Your private link to answer a few questions. It works once, until %(until)s: %(link)s"),
        email=_(
            "Hello,\n\nHere is your private link to answer a few questions. It works once, until "
            "%(until)s:\n\n%(link)s\n\nNobody else can use it. If you were not expecting this "
            "message, you can ignore it."
        ),
    ),
    MessageKind.CHECK_IN_LINK: Text(
        subject=_("Your private link"),
        sms=_("Your private link to check in. It works once, until %(until)s: %(link)s"),
        email=_(
            "Hello,\n\nHere is your private link to check in. It works once, until %(until)s:\n\n"
            "%(link)s\n\nNobody else can use it. If you were not expecting this message, you can "
            "ignore it."
        ),
    ),
    MessageKind.ATTENDANCE_LINK: Text(
        subject=_("Your private link"),
        sms=_(
            "Did you get to the meeting? Tell us in a minute. Your private link works once, until %(until)s: %(link)s"
        ),
        email=_(
            "Hello,\n\nDid you get to the meeting you chose? Whether you went, not yet, or something got "
            "in the way, you can tell us in a minute. Your private link works once, until %(until)s:\n\n"
            "%(link)s\n\nNobody else can use it. If you were not expecting this message, you can ignore it."
        ),
    ),
    MessageKind.MEETING: Text(
        subject=_("Your meeting"),
        sms=_("Meeting: %(meeting)s, %(when)s, %(where)s. Details: %(link)s"),
        email=_(
            "Hello,\n\nThe meeting you chose:\n\n%(meeting)s\n%(when)s\n%(where)s\n\n"
            "Details and directions: %(link)s"
        ),
        trim=("meeting", "where"),
    ),
    MessageKind.INTRODUCTION_LINK: Text(
        subject=_("Your private link"),
        sms=_(
            "A member of a recovery group would like to meet you. See who and say yes or no, until %(until)s: %(link)s"
        ),
        email=_(
            "Hello,\n\nA member of a recovery group has offered to meet you, as you asked. See who they "
            "are and say yes or no through your private link, until %(until)s:\n\n%(link)s\n\nNobody "
            "else can use it. If you were not expecting this message, you can ignore it."
        ),
    ),
    MessageKind.INTRODUCTION_CONTACT: Text(
        subject=_("Your contact from a recovery group"),
        sms=_("Your contact from a recovery group: %(contact)s. They will get in touch too. %(link)s"),
        email=_(
            "Hello,\n\nYou said yes to meeting a member of a recovery group. Their contact details:\n\n"
            "%(contact)s\n\nThey have yours and will get in touch too. To end the contact at any time, "
            "or to tell us about a problem: %(link)s"
        ),
        trim=("contact",),
    ),
}


@dataclass(frozen=True)
class Rendered:
    subject: str  # empty for a text message
    body: str


def render(
    kind: str, channel: str, context: Mapping[str, str | datetime.datetime], language: str, zone: ZoneInfo
) -> Rendered:
    """The message of `kind` for `channel` in `language`, filled in from `context` (only
    PLACEHOLDERS, ValueError for anything else; a moment reads as a date and time in `zone`)."""
    unknown = set(context) - PLACEHOLDERS
    if unknown:
        raise ValueError(f"a message may not carry {sorted(unknown)}")
    text = TEXTS[kind]
    with translation.override(language):
        values = {name: _plain(value, zone) for name, value in context.items()}
        if channel == Channel.SMS:
            return Rendered("", fit(str(text.sms), values, text.trim, settings.SMS_MAX_SEGMENTS))
        return Rendered(str(text.subject), str(text.email) % values)


def _plain(value: str | datetime.datetime, zone: ZoneInfo) -> str:
    if isinstance(value, datetime.datetime):
        local = value.astimezone(zone)
        return (
            f"{formats.date_format(local, 'MONTH_DAY_FORMAT')}, {formats.time_format(local, 'TIME_FORMAT')}"
        )
    return value


def cut(value: str, length: int) -> str:
    return value if length >= len(value) else value[:length].rstrip() + ELLIPSIS


def fit(template: str, context: dict[str, str], trim: tuple[str, ...], most: int) -> str:
    """`template % context` in at most `most` segments if it can be: as it is; else with GSM-7
    look-alikes; else with the `trim` fields cut short, the first one first, each by as little
    as will do."""
    body = template % context
    if segments.count(body).count <= most:
        return body

    def built(values: dict[str, str]) -> str:
        return segments.to_gsm(template % values)

    body = built(context)
    for name in trim:
        if segments.count(body).count <= most:
            break
        value = context[name]
        # The longest cut that fits, by bisection: longer cuts never take fewer segments.
        shortest, longest = 0, len(value)
        while shortest < longest:
            middle = (shortest + longest + 1) // 2
            if segments.count(built({**context, name: cut(value, middle)})).count <= most:
                shortest = middle
            else:
                longest = middle - 1
        context = {**context, name: cut(value, shortest)}
        body = built(context)
    return body
