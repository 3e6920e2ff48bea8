"""What the outcome pages read, in a fixed number of queries however many responses a person
has. Every queryset starts from accounts.access or outcomes.queries."""

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from recoverybridge.accounts import access
from recoverybridge.care.models import Person
from recoverybridge.charts import Chart, Point, ReferenceLine, Series, axis_top
from recoverybridge.directory.models import AttendanceMode, Meeting
from recoverybridge.directory.queries import MeetingSearch, search_meetings
from recoverybridge.outcomes import instruments, queries
from recoverybridge.outcomes.models import Invitation, Response, ScheduledAssessment

BARC_THRESHOLD = 47
RESPONSES_SHOWN = 50
CHECK_IN_NEARBY = 15
CHECK_IN_ONLINE = 8

Values = Sequence[tuple[datetime.datetime, float | None]]


@dataclass
class ResponseRow:
    response: Response
    title: str
    scores: list[tuple[str, str]]  # (the score's name in the viewer's language, its value)
    flagged: bool
    prorated: bool


def _response_row(response: Response, language: str) -> ResponseRow:
    try:
        instrument = instruments.get(response.instrument, response.instrument_version)
    except KeyError:  # a file no longer shipped: show the stored names
        return ResponseRow(response, response.instrument, [], False, False)
    scores = []
    for rule in instrument.rules:
        value = response.scores.get(rule.name)
        if value is None:
            shown = "—"
        elif rule.method == "share":
            shown = f"{round(value * 100):d}%"
        else:
            shown = f"{value:g}"
        scores.append((rule.label(language), shown))
    flags = response.scores.get("flags") or []
    return ResponseRow(
        response, instrument.title(language), scores, bool(flags), bool(response.scores.get("prorated"))
    )


@dataclass
class PersonOutcomes:
    """Rows come with the instrument's title in the viewer's language."""

    charts: list[Chart]
    responses: list["ResponseRow"]
    responses_total: int
    open_links: list[tuple[Invitation, str]]
    due: list[tuple[ScheduledAssessment, str]]
    instruments: list[tuple[str, str]]
    today: datetime.date


def _points(values: Values, scale: float = 1.0) -> list[Point]:
    return [
        Point(timezone.localdate(at), None if value is None else round(value * scale, 1))
        for at, value in values
    ]


def _describe(points: list[Point], fmt: Callable[[float], str], extra: str = "") -> str:
    """One or two sentences saying what the chart shows, for its <desc>."""
    known = [p for p in points if p.value is not None]
    if not known:
        return _("No answers recorded yet.")
    first, last = known[0], known[-1]
    text = ngettext(
        "%(n)d response from %(start)s to %(end)s.",
        "%(n)d responses from %(start)s to %(end)s.",
        len(points),
    ) % {"n": len(points), "start": date_format(points[0].on), "end": date_format(points[-1].on)}
    text += " " + _("First %(first)s, latest %(latest)s (%(date)s); lowest %(low)s, highest %(high)s.") % {
        "first": fmt(first.value or 0),
        "latest": fmt(last.value or 0),
        "date": date_format(last.on),
        "low": fmt(min(p.value or 0 for p in known)),
        "high": fmt(max(p.value or 0 for p in known)),
    }
    return f"{text} {extra}".strip()


def _number(value: float) -> str:
    return f"{value:g}"


def _percent(value: float) -> str:
    return f"{value:g}%"


def _rule_label(series: str) -> str:
    """The score's own name from its Questionnaire file, in the viewer's language."""
    instrument_id, score = queries.SERIES[series]
    rule = next(r for r in instruments.get(instrument_id).rules if r.name == score)
    return rule.label(get_language() or "en")


def trajectory_charts(user: Any, person: Person) -> list[Chart]:
    """Recovery capital with the 47 line, days used, meetings and network supportiveness."""
    t = queries.trajectory(user, person)
    charts = []

    barc = _points(t.recovery_capital)
    at_or_above = sum(1 for p in barc if p.value is not None and p.value >= BARC_THRESHOLD)
    known = sum(1 for p in barc if p.value is not None)
    charts.append(
        Chart(
            chart_id="chart-recovery-capital",
            title=_rule_label("recovery_capital"),
            description=_describe(
                barc,
                _number,
                _("%(k)d of %(n)d at or above %(line)d.")
                % {"k": at_or_above, "n": known, "line": BARC_THRESHOLD}
                if known
                else "",
            ),
            y_label=_("Total (10-60)"),
            series=[Series(_("BARC-10 total"), barc)],
            y_min=10,
            y_max=60,
            reference=ReferenceLine(BARC_THRESHOLD, _("47: linked to sustained remission")),
            note=_("Higher is better. A total of 47 or more was associated with sustained remission."),
        )
    )
    days = _points(t.days_used)
    charts.append(
        Chart(
            chart_id="chart-days-used",
            title=_("Days used in the past 28 days"),
            description=_describe(days, _number),
            y_label=_("Days (0-28)"),
            series=[Series(_rule_label("days_used"), days)],
            y_min=0,
            y_max=28,
            y_ticks=(0, 7, 14, 21, 28),
            note=_("The most days of any one substance. Lower is better."),
        )
    )
    meetings = _points(t.meetings)
    charts.append(
        Chart(
            chart_id="chart-meetings",
            title=_("Mutual-help meetings in the past 90 days"),
            description=_describe(meetings, _number),
            y_label=_("Meetings"),
            series=[Series(_rule_label("meetings"), meetings)],
            y_min=0,
            y_max=axis_top([p.value for p in meetings], at_least=10),
            note=_("From the mutual-help involvement questionnaire."),
        )
    )
    if t.check_in_meetings:
        weekly = [
            Point(timezone.localdate(at), None if n is None else float(n)) for at, n in t.check_in_meetings
        ]
        charts.append(
            Chart(
                chart_id="chart-check-in-meetings",
                title=_("Meetings per week, from check-ins"),
                description=_describe(weekly, _number),
                y_label=_("Meetings"),
                series=[Series(_("Meetings that week"), weekly)],
                y_min=0,
                y_max=axis_top([p.value for p in weekly], at_least=5),
                note=_("Shared by the person with their consent."),
            )
        )
    support = _points(t.supportiveness, scale=100)
    charts.append(
        Chart(
            chart_id="chart-network",
            title=_("Network supportive of recovery"),
            description=_describe(support, _percent),
            y_label=_("Share of network (%)"),
            series=[Series(_("Supportive of recovery"), support)],
            y_min=0,
            y_max=100,
            value_format=_percent,
            note=_("The share of the important people in their life who support their recovery."),
        )
    )
    return charts


def person_outcomes(user: Any, person: Person, *, now: datetime.datetime) -> PersonOutcomes:
    latest = instruments.registry().latest()
    language = get_language() or "en"
    titles = {i.id: i.title(language) for i in latest}

    def titled(rows: Any) -> list[Any]:
        return [(row, titles.get(row.instrument, row.instrument)) for row in rows]

    responses = queries.person_responses(user, person).select_related("collected_by")
    open_links = (
        access.invitations_for(user)
        .filter(person=person, completed_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now)
        .select_related("created_by")
        .order_by("-created_at")
    )
    due = (
        access.scheduled_assessments_for(user)
        .filter(person=person, cancelled_at__isnull=True, response__isnull=True)
        .order_by("due_on", "instrument")
    )
    return PersonOutcomes(
        charts=trajectory_charts(user, person),
        responses=[_response_row(r, language) for r in responses[:RESPONSES_SHOWN]],
        responses_total=responses.count(),
        open_links=titled(open_links),
        due=titled(due[:20]),
        instruments=[(i.id, titles[i.id]) for i in latest],
        today=timezone.localdate(now),
    )


def scheduled_in_scope(user: Any, person: Person, ref: str) -> ScheduledAssessment | None:
    """An open scheduled assessment of this person named in the URL, if the user may see it."""
    if not ref.isdigit():
        return None
    return (
        access.scheduled_assessments_for(user)
        .filter(person=person, pk=int(ref), cancelled_at__isnull=True, response__isnull=True)
        .first()
    )


def check_in_meetings(person: Person, *, now: datetime.datetime) -> list[Meeting]:
    """Meetings to pick from on a check-in: those near the person, then online ones."""
    found: dict[int, Meeting] = {}
    if person.latitude is not None and person.longitude is not None:
        near = search_meetings(
            MeetingSearch.model_validate(
                {
                    "lat": person.latitude,
                    "lon": person.longitude,
                    "sort": "distance",
                    "page_size": CHECK_IN_NEARBY,
                }
            ),
            now=now,
        )
        found.update((h.meeting.pk, h.meeting) for h in near.hits)
    online = search_meetings(
        MeetingSearch.model_validate(
            {"mode": AttendanceMode.ONLINE.value, "sort": "name", "page_size": CHECK_IN_ONLINE}
        ),
        now=now,
    )
    found.update((h.meeting.pk, h.meeting) for h in online.hits)
    return list(found.values())


@dataclass
class DueAssessments:
    """Scheduled assessments due within the window (overdue first), for the work queue and
    dashboard; `is_manager` adds the link to the team completion page."""

    rows: list[tuple[ScheduledAssessment, str]]
    total: int
    today: datetime.date
    is_manager: bool


def due_assessments(user: Any, today: datetime.date, *, limit: int) -> DueAssessments:
    """Three queries, however many are due."""
    language = get_language() or "en"
    titles = {i.id: i.title(language) for i in instruments.registry().latest()}
    due = queries.due_assessments(user, today)
    return DueAssessments(
        rows=[(s, titles.get(s.instrument, s.instrument)) for s in due[:limit]],
        total=due.count(),
        today=today,
        is_manager=access.managed_teams_for(user).exists(),
    )
