"""Meeting times and dates as a person reads them: in their own time zone, with the meeting's own
zone alongside when the two clocks differ (an online meeting in Toronto for someone in London),
formatted as their region writes dates (14 March 2026 in the UK, March 14, 2026 in the US).

A weekly meeting's time in another zone is not fixed: when one zone has moved its clocks and the
other has not yet, the gap changes by an hour for a week or three. The time shown is that of the
meeting's next occurrence, so it is right for the next time the person would go.
"""

import datetime
import importlib.util
from dataclasses import dataclass
from functools import cache

from django.utils import dateformat
from django.utils.formats import get_format
from django.utils.translation import get_language, to_locale
from django.utils.translation import gettext as _

from recoverybridge.directory.models import Meeting
from recoverybridge.directory.timing import WEEKDAYS, next_occurrence, zone
from recoverybridge.organisations.zones import city_of, country_of


@cache
def _has_formats(locale: str) -> bool:
    """Whether Django has date and time formats of its own for this regional locale."""
    try:
        return importlib.util.find_spec(f"django.conf.locale.{to_locale(locale)}.formats") is not None
    except ModuleNotFoundError:  # no package for the region at all
        return False


def format_locale(zone_name: str, language: str | None = None) -> str:
    """The locale whose date and time formats fit someone in `zone_name` reading `language` (the
    active language by default): "en-gb" for English in London, "en" (US formats) in New York,
    "es-mx" for Spanish in Mexico City, "es" in Madrid. The language's own formats when Django has
    none for that region."""
    language = (language or get_language() or "en").split("-")[0].lower()
    country = country_of(zone_name).lower()
    regional = f"{language}-{country}" if country else ""
    return regional if regional and _has_formats(regional) else language


def format_date(day: datetime.date, locale: str, format_name: str = "DATE_FORMAT") -> str:
    """`day` as `locale` writes it; month and day names in the active language."""
    return dateformat.format(day, get_format(format_name, lang=locale))


def format_time(moment: datetime.time | datetime.datetime, locale: str) -> str:
    return dateformat.time_format(moment, get_format("TIME_FORMAT", lang=locale))


def weekday_name(moment: datetime.date) -> str:
    """The weekday's name in the active language (Meeting Guide numbers Sunday 0)."""
    return str(dict(WEEKDAYS)[str((moment.weekday() + 1) % 7)])


def long_date(day: datetime.date, locale: str) -> str:
    """ "Thursday, 14 Mar 2026" / "jueves, 14 de marzo de 2026"."""
    return _("%(weekday)s, %(date)s") % {"weekday": weekday_name(day), "date": format_date(day, locale)}


@dataclass(frozen=True)
class MeetingTime:
    """A weekly meeting's time for one person: `local` in their zone; `elsewhere` the same
    moment in the meeting's zone ("2 p.m. in Toronto"), empty when their clocks agree."""

    local: str
    elsewhere: str = ""


def _span(start: datetime.datetime, end: datetime.datetime | None, locale: str) -> str:
    if end is None:
        return format_time(start, locale)
    return _("%(start)s to %(end)s") % {"start": format_time(start, locale), "end": format_time(end, locale)}


def meeting_time(meeting: Meeting, zone_name: str, now: datetime.datetime, locale: str) -> MeetingTime:
    """When `meeting` happens for someone living in `zone_name`, from its next occurrence."""
    if meeting.weekday is None or meeting.start_time is None:
        return MeetingTime(_("By appointment: contact the group for times."))
    own = zone(meeting.timezone)
    theirs = zone(zone_name)
    start = next_occurrence(meeting.weekday, meeting.start_time, meeting.timezone, now)
    end = None
    if meeting.end_time is not None:
        end = datetime.datetime.combine(start.date(), meeting.end_time, tzinfo=own)
        if end <= start:  # past midnight
            end = datetime.datetime.combine(
                start.date() + datetime.timedelta(days=1), meeting.end_time, tzinfo=own
            )
    local_start = start.astimezone(theirs)
    local = _("Every %(day)s, %(time)s") % {
        "day": weekday_name(local_start),
        "time": _span(local_start, end.astimezone(theirs) if end else None, locale),
    }
    there = start.astimezone(own)
    if (there.weekday(), there.time()) == (local_start.weekday(), local_start.time()):
        return MeetingTime(local)
    when = format_time(there, locale)
    if there.weekday() != local_start.weekday():
        when = _("%(day)s %(time)s") % {"day": weekday_name(there), "time": when}
    return MeetingTime(local, _("%(when)s in %(city)s") % {"when": when, "city": city_of(meeting.timezone)})
