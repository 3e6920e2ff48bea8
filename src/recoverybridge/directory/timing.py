"""When a weekly meeting next happens, and how its times read.

A meeting is a weekday (0 = Sunday, as in Meeting Guide) and a wall-clock start
in its own IANA zone. Its instants come from `zoneinfo`:

- DST gap (02:30 on the spring-forward night does not exist): the meeting
  happens when the wall clock would have shown 02:30 had it not jumped, i.e.
  one hour later, at 03:30 new time. This is what zoneinfo gives for fold=0 and
  what RFC 5545 prescribes for calendar clients, so the web page and the
  .ics agree.
- DST overlap (01:30 happens twice on the fall-back night): the first one
  (fold=0), when people would actually turn up.
- A meeting that began at most IN_PROGRESS_GRACE ago still counts as the next
  one: someone can still walk in or join.
"""

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils.formats import date_format, time_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from recoverybridge.organisations.zones import city_of

if TYPE_CHECKING:
    from recoverybridge.directory.models import Meeting

IN_PROGRESS_GRACE = timedelta(minutes=10)
WEEK = timedelta(days=7)
EPOCH = datetime(1970, 1, 1)
SECONDS_PER_WEEK = 7 * 86_400


@lru_cache(maxsize=1024)
def zone(name: str) -> ZoneInfo:
    """The zone called `name`; UTC for an unknown or empty name rather than an error at search time."""
    try:
        return ZoneInfo(name) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def python_weekday(weekday: int) -> int:
    """Meeting Guide weekday (0 = Sunday) to Python's (0 = Monday)."""
    return (weekday + 6) % 7


def occurrence_on(day: date, start: time, tz: ZoneInfo) -> datetime:
    """The real instant of `start` on `day` in `tz`, with gaps shifted forward (see module doc)."""
    naive = datetime.combine(day, start)
    # Round-tripping through UTC turns a non-existent wall time into the one the clock showed.
    return naive.replace(tzinfo=tz, fold=0).astimezone(UTC).astimezone(tz)


def next_occurrence(
    weekday: int, start: time, zone_name: str, after: datetime, grace: timedelta = IN_PROGRESS_GRACE
) -> datetime:
    """The first occurrence starting at or after `after - grace`, in the meeting's zone."""
    if after.tzinfo is None:
        raise ValueError("`after` must be timezone-aware")
    tz = zone(zone_name)
    # In UTC: arithmetic and comparisons on zoneinfo datetimes are wall-clock, not elapsed time.
    earliest = after.astimezone(UTC) - grace
    local_day = earliest.astimezone(tz).date()
    # Start a day early: a gap shift or the grace can put yesterday's date in play.
    day = local_day - timedelta(days=1)
    day += timedelta(days=(python_weekday(weekday) - day.weekday()) % 7)
    while True:
        candidate = occurrence_on(day, start, tz)
        if candidate >= earliest:
            return candidate
        day += WEEK


def starts_within(weekday: int, start: time, zone_name: str, at: datetime, minutes: int) -> datetime | None:
    """The occurrence starting in the next `minutes` (or in progress at `at`), else None."""
    occurrence = next_occurrence(weekday, start, zone_name, at)
    return occurrence if occurrence <= at.astimezone(UTC) + timedelta(minutes=minutes) else None


class OccurrenceCache:
    """Next occurrences for one reference instant, computed once per (zone, weekday, start).

    A search over thousands of meetings has only a few hundred distinct
    combinations, so zoneinfo runs per combination, not per row.
    """

    def __init__(self, at: datetime) -> None:
        self.at = at
        self._cache: dict[tuple[str, int, time], datetime] = {}
        # (zone, weekday, start) -> next occurrence as a timestamp; searches read it directly.
        self.instants: dict[tuple[str, int, time | str], float] = {}
        self._steady: dict[str, tuple[int, int] | None] = {}

    def get(self, weekday: int, start: time, zone_name: str) -> datetime:
        key = (zone_name, weekday, start)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = next_occurrence(weekday, start, zone_name, self.at)
        return found

    def instant(self, weekday: int, start: time | str, zone_name: str) -> float:
        """The next occurrence as a POSIX timestamp: cheap to compare and sort.

        `start` may be the time as text ("19:30:00"), as searches fetch it to skip a
        conversion per row; it is parsed once per combination.
        """
        key = (zone_name, weekday, start)
        found = self.instants.get(key)
        if found is None:
            clock = start if isinstance(start, time) else time.fromisoformat(start)
            if zone_name not in self._steady:
                self._steady[zone_name] = self._steady_week(zone_name)
            steady = self._steady[zone_name]
            if steady is None or clock.microsecond:
                found = self.get(weekday, clock, zone_name).timestamp()
            else:
                # No transition this week: the wall clock is the zone's week start plus the
                # meeting's place in the week, in whole seconds, so the timestamp is exactly
                # the one next_occurrence(...).timestamp() gives.
                week_start, earliest = steady
                into_week = weekday * 86_400 + clock.hour * 3600 + clock.minute * 60 + clock.second
                if into_week * 1_000_000 < earliest:
                    into_week += SECONDS_PER_WEEK
                found = float(week_start + into_week)
            self.instants[key] = found
        return found

    def _steady_week(self, zone_name: str) -> tuple[int, int] | None:
        """When `zone_name` keeps one whole-second UTC offset over the coming week and
        TRANSITION_MARGIN either side: the timestamp of the local week's start (Sunday 00:00)
        and how far into that week, in microseconds, the earliest counted start is.
        None when the offset changes (DST)."""
        tz = zone(zone_name)
        earliest = self.at.astimezone(UTC) - IN_PROGRESS_GRACE
        if not steady_offset(tz, earliest, earliest + WEEK):
            return None
        local = earliest.astimezone(tz)
        offset = local.utcoffset()
        if offset is None or offset % timedelta(seconds=1):
            return None
        wall = local.replace(tzinfo=None)
        sunday = datetime.combine(wall.date() - timedelta(days=(wall.weekday() + 1) % 7), time(0))
        week_start = (sunday - offset - EPOCH) // timedelta(seconds=1)
        return week_start, (wall - sunday) // timedelta(microseconds=1)


# Longest jump of a wall clock at a transition (Antarctica/Troll: 2 hours), with room to spare,
# and how often the offset is probed in between: no zone changes its offset twice within hours.
TRANSITION_MARGIN = timedelta(hours=3)
OFFSET_PROBE_STEP = timedelta(hours=3)


def steady_offset(tz: ZoneInfo, start: datetime, end: datetime) -> bool:
    """Whether `tz` keeps one UTC offset from TRANSITION_MARGIN before `start` to TRANSITION_MARGIN
    after `end`: then no gap or overlap is near, and wall clock and instants map one to one."""
    probe, stop = start - TRANSITION_MARGIN, end + TRANSITION_MARGIN
    offset = probe.astimezone(tz).utcoffset()
    while probe < stop:
        probe = min(probe + OFFSET_PROBE_STEP, stop)
        if probe.astimezone(tz).utcoffset() != offset:
            return False
    return True


def wall_clock_window(zone_name: str, start: datetime, end: datetime) -> tuple[datetime, datetime] | None:
    """The wall-clock times (naive) in `zone_name` of the instants `start` and `end`, when the
    zone's offset is steady around them (see steady_offset).

    Then a weekly meeting's next occurrence lies between the two instants exactly when its
    wall-clock weekday and start lie between these two. None when the offset changes (a DST
    transition is near): the caller must not narrow by time.
    """
    tz = zone(zone_name)
    if not steady_offset(tz, start, end):
        return None
    return start.astimezone(tz).replace(tzinfo=None), end.astimezone(tz).replace(tzinfo=None)


# ---------------------------------------------------------------- how times read

# Meeting Guide's weekday numbers (0 = Sunday) with their names, for forms and texts.
WEEKDAYS = [
    ("0", gettext_lazy("Sunday")),
    ("1", gettext_lazy("Monday")),
    ("2", gettext_lazy("Tuesday")),
    ("3", gettext_lazy("Wednesday")),
    ("4", gettext_lazy("Thursday")),
    ("5", gettext_lazy("Friday")),
    ("6", gettext_lazy("Saturday")),
]


def schedule_text(meeting: "Meeting") -> str:
    """ "Every Thursday at 7 p.m.": the weekly schedule in the meeting's own wall clock."""
    if meeting.weekday is None or meeting.start_time is None:
        return _("By appointment: contact the group for times.")
    day = str(dict(WEEKDAYS)[str(meeting.weekday)])
    start = time_format(meeting.start_time, "TIME_FORMAT")
    if meeting.end_time:
        end = time_format(meeting.end_time, "TIME_FORMAT")
        return _("Every %(day)s, %(start)s to %(end)s") % {"day": day, "start": start, "end": end}
    return _("Every %(day)s at %(start)s") % {"day": day, "start": start}


def when_text(moment: datetime, tz: ZoneInfo, now: datetime) -> str:
    """ "Today, 7 p.m." / "Hoy, 19:00": the day relative to now, both in `tz`, formatted per locale."""
    local = moment.astimezone(tz)
    today = now.astimezone(tz).date()
    if local.date() == today:
        day = _("Today")
    elif local.date() == today + timedelta(days=1):
        day = _("Tomorrow")
    else:
        day = f"{date_format(local, 'l')} {date_format(local, 'MONTH_DAY_FORMAT')}"
    return f"{day}, {time_format(local, 'TIME_FORMAT')}"


def zone_city(zone_name: str) -> str:
    """How people name a zone: "London" for Europe/London, "Buenos Aires" for
    America/Argentina/Buenos_Aires; "UTC" for UTC and the Etc zones' own names."""
    return city_of(zone_name)


def zone_label(zone_name: str) -> str:
    """ "London time" / "hora de London": a zone as a reader says it, never "Europe/London"."""
    if "/" not in zone_name or zone_name.startswith("Etc/"):
        return zone_city(zone_name)
    return _("%(city)s time") % {"city": zone_city(zone_name)}
