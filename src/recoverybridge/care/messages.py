"""Messages to the person themselves: which channels may reach them, and what a meeting reads
like in a message.

A person is sent nothing by a channel without their active consent for it (a Consent with
purpose "Messages by text" or "Messages by e-mail"), a usable number or address, and, for texts,
a number that has not replied STOP. `care.actions.send_message` checks this when a message is
queued, and `before_delivery` (connected in apps.py) checks the consent again when it leaves:
a consent withdrawn meanwhile stops it.
"""

import datetime
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.db import models
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from recoverybridge.care.models import Consent, ConsentPurpose, Person
from recoverybridge.directory import timing
from recoverybridge.directory.models import AttendanceMode, Meeting
from recoverybridge.messaging import optout, phones
from recoverybridge.messaging.models import Channel, Message, MessageKind
from recoverybridge.messaging.sms_backends import texts_available

CONSENT_FOR = {Channel.SMS: ConsentPurpose.MESSAGES_BY_TEXT, Channel.EMAIL: ConsentPurpose.MESSAGES_BY_EMAIL}
PERSON_KINDS = frozenset(MessageKind.values) - {MessageKind.STAFF_REMINDER, MessageKind.VOLUNTEER_NOTICE}


class Refusal(models.TextChoices):
    """Why a message may not go to the person by a channel (shown to staff, and audited)."""

    NO_CONSENT = "no_consent", gettext_lazy("no consent recorded for messages this way")
    NO_NUMBER = "no_number", gettext_lazy("no phone number on record")
    INVALID_NUMBER = "invalid_number", gettext_lazy("the phone number on record is not a valid number")
    NOT_MOBILE = "not_mobile", gettext_lazy("the phone number on record cannot receive texts")
    OPTED_OUT = "opted_out", gettext_lazy("they replied STOP to our texts")
    NO_EMAIL = "no_email", gettext_lazy("no e-mail address on record")
    TEXTS_OFF = "texts_off", gettext_lazy("text messages are not set up on this system")


@dataclass(frozen=True)
class ChannelState:
    """Whether one channel can reach the person now, and where to."""

    channel: str
    address: str  # the E.164 number or e-mail address; empty when there is none
    refusal: str  # a Refusal, or "" when the channel may be used
    stopped_at: datetime.datetime | None = None  # when the number replied STOP

    @property
    def usable(self) -> bool:
        return not self.refusal

    @property
    def shown_address(self) -> str:
        """Enough of the address for the worker to check it with the person, no more."""
        if not self.address:
            return ""
        if self.channel == Channel.SMS:
            return phones.masked(self.address)
        local, _at, domain = self.address.partition("@")
        return f"{local[:1]}•••@{domain}"

    @property
    def refusal_text(self) -> str:
        return str(Refusal(self.refusal).label) if self.refusal else ""


def _text_state(person: Person, consented: bool) -> ChannelState:
    if not texts_available():
        return ChannelState(Channel.SMS, "", Refusal.TEXTS_OFF)
    if not person.phone.strip():
        return ChannelState(Channel.SMS, "", Refusal.NO_NUMBER)
    try:
        number = phones.normalise(person.phone)
    except phones.InvalidNumber:
        return ChannelState(Channel.SMS, "", Refusal.INVALID_NUMBER)
    if not phones.can_receive_texts(number):
        return ChannelState(Channel.SMS, number, Refusal.NOT_MOBILE)
    stopped = optout.opted_out_since(number)
    if stopped is not None:
        return ChannelState(Channel.SMS, number, Refusal.OPTED_OUT, stopped)
    return ChannelState(Channel.SMS, number, "" if consented else Refusal.NO_CONSENT)


def channel_states(person: Person, now: datetime.datetime | None = None) -> dict[str, ChannelState]:
    """Each channel (text, e-mail) and whether it can reach the person now: two queries."""
    consented = set(
        Consent.objects.active(now)
        .filter(person=person, purpose__in=CONSENT_FOR.values())
        .values_list("purpose", flat=True)
    )
    email = person.email.strip()
    return {
        Channel.SMS: _text_state(person, ConsentPurpose.MESSAGES_BY_TEXT in consented),
        Channel.EMAIL: ChannelState(
            Channel.EMAIL,
            email,
            Refusal.NO_EMAIL
            if not email
            else ("" if ConsentPurpose.MESSAGES_BY_EMAIL in consented else Refusal.NO_CONSENT),
        ),
    }


def consent_still_active(sender: Any, message: Message, **kwargs: Any) -> str:
    """`before_delivery` receiver: a message to a person leaves only under their active consent."""
    if message.person_id is None or message.kind not in PERSON_KINDS:
        return ""
    purpose = CONSENT_FOR[Channel(message.channel)]
    if Consent.objects.active().filter(person_id=message.person_id, purpose=purpose).exists():
        return ""
    return "no active consent for this channel"


# ---------------------------------------------------------------- what a meeting reads like


def channel_label(state: ChannelState) -> str:
    """How a form offers a usable channel: "By text message to •••• 0123"."""
    if state.channel == Channel.SMS:
        return _("By text message to %(number)s") % {"number": state.shown_address}
    return _("By e-mail to %(address)s") % {"address": state.shown_address}


def person_zone(person: Person) -> ZoneInfo:
    """The time zone the person reads times in: theirs, else their team's or organisation's,
    else the site's (Person.zone_name)."""
    return timing.zone(person.zone_name)


def meeting_context(
    meeting: Meeting, *, link: str, zone: ZoneInfo, language: str, now: datetime.datetime
) -> dict[str, str]:
    """A meeting as a message names it (see messaging.texts, kind "meeting"): its name, its day
    and time in the person's zone ("every Thursday, 6:30 p.m."; "(your time)" when the meeting
    keeps another zone's clock, as online ones often do), its place or "online", and a link."""
    with translation.override(language):
        if meeting.weekday is None or meeting.start_time is None:
            when = _("by appointment")
        else:
            start = timing.next_occurrence(meeting.weekday, meeting.start_time, meeting.timezone, now)
            local = start.astimezone(zone)
            when = _("every %(day)s, %(time)s") % {
                "day": formats.date_format(local, "l"),
                "time": formats.time_format(local, "TIME_FORMAT"),
            }
            if start.utcoffset() != local.utcoffset():
                when += " " + _("(your time)")
        place = (meeting.location.name or meeting.location.city) if meeting.location else ""
        if meeting.attendance_mode == AttendanceMode.ONLINE:
            where = _("online")
        elif not place:
            where = _("place in the details")
        elif meeting.attendance_mode == AttendanceMode.HYBRID:
            where = _("%(place)s or online") % {"place": place}
        else:
            where = place
    return {"meeting": meeting.name, "when": when, "where": where, "link": link}
