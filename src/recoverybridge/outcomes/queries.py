"""The read side of outcomes: due assessments, trajectories, completion and what the outcome
pages show, scoped to the acting user with `Model.objects.restrict(user)` (see
accounts.access), in a fixed number of queries however many responses a person has."""

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from recoverybridge.accounts import access
from recoverybridge.care.models import Person
from recoverybridge.charts import Chart, Point, ReferenceLine, Series, axis_top
from recoverybridge.directory.models import AttendanceMode, Meeting
from recoverybridge.directory.queries import MeetingSearch, search_meetings
from recoverybridge.organisations.models import Team
from recoverybridge.outcomes import instruments
from recoverybridge.outcomes.models import CheckIn, Invitation, Response, ResponseStatus, ScheduledAssessment

DEFAULT_WINDOW_DAYS = 7


def due_assessments(
    user: Any, today: datetime.date, *, window_days: int = DEFAULT_WINDOW_DAYS
) -> QuerySet[ScheduledAssessment]:
    """Open scheduled assessments of the user's people due by `today + window_days` (overdue
    ones first: their due date is earliest). Use `.due_on < today` to mark them overdue."""
    return (
        ScheduledAssessment.objects.restrict(user)
        .filter(
            cancelled_at__isnull=True,
            response__isnull=True,
            due_on__lte=today + datetime.timedelta(window_days),
        )
        .select_related("person", "episode")
        .order_by("due_on", "person_id", "instrument")
    )


def overdue_assessments(user: Any, today: datetime.date) -> QuerySet[ScheduledAssessment]:
    return due_assessments(user, today, window_days=0).filter(due_on__lt=today)


@dataclass
class Trajectory:
    """A person's measures over time, each a list of (when, value) oldest first."""

    recovery_capital: list[tuple[datetime.datetime, float | None]] = field(default_factory=list)
    days_used: list[tuple[datetime.datetime, float | None]] = field(default_factory=list)
    meetings: list[tuple[datetime.datetime, float | None]] = field(default_factory=list)
    supportiveness: list[tuple[datetime.datetime, float | None]] = field(default_factory=list)
    # Meetings per week from the person's check-ins (shown only under consent).
    check_in_meetings: list[tuple[datetime.datetime, int | None]] = field(default_factory=list)


# (instrument, score) behind each series of a Trajectory.
SERIES = {
    "recovery_capital": ("barc-10", "total"),
    "days_used": ("substance-use-28", "days-used-max"),
    "meetings": ("mutual-help", "meetings-total"),
    "supportiveness": ("social-network", "supportive-share"),
}


def trajectory(user: Any, person: Person) -> Trajectory:
    """The person's completed scores over time in two queries (responses, then check-ins if
    the user may see them). Empty for a person outside the user's scope."""
    result = Trajectory()
    by_instrument = {instrument: (name, score) for name, (instrument, score) in SERIES.items()}
    rows = (
        Response.objects.restrict(user)
        .filter(person=person, status=ResponseStatus.COMPLETED, instrument__in=list(by_instrument))
        .order_by("completed_at", "pk")
        .values_list("instrument", "completed_at", "scores")
    )
    for instrument, completed_at, scores in rows:
        name, score = by_instrument[instrument]
        getattr(result, name).append((completed_at, scores.get(score)))
    if access.can(user, "person.check_ins", person):
        result.check_in_meetings = list(
            CheckIn.objects.restrict(user)
            .filter(person=person)
            .order_by("at")
            .values_list("at", "meetings_count")
        )
    return result


def person_responses(user: Any, person: Person) -> QuerySet[Response]:
    return Response.objects.restrict(user).filter(person=person).order_by("-started_at")


def person_check_ins(user: Any, person: Person) -> QuerySet[CheckIn]:
    return CheckIn.objects.restrict(user).filter(person=person).prefetch_related("meetings")


@dataclass(frozen=True)
class Completion:
    team: Team
    due: int
    completed: int
    completed_on_time: int

    @property
    def rate(self) -> float | None:
        return self.completed / self.due if self.due else None


def team_completion(
    user: Any, today: datetime.date, *, since: datetime.date | None = None, grace_days: int = 14
) -> list[Completion]:
    """For each team the user manages: scheduled assessments already due (not cancelled), how
    many were completed, and how many within `grace_days` of the due date. Three queries."""
    teams = list(access.managed_teams_for(user).select_related("organisation"))
    due = ScheduledAssessment.objects.filter(
        person__team__in=teams, cancelled_at__isnull=True, due_on__lte=today
    )
    if since is not None:
        due = due.filter(due_on__gte=since)
    counts = {
        row["person__team"]: row
        for row in due.values("person__team").annotate(
            due=Count("pk"),
            completed=Count("pk", filter=Q(response__isnull=False)),
        )
    }
    on_time = _on_time(due, grace_days)
    return [
        Completion(
            team=team,
            due=counts.get(team.pk, {}).get("due", 0),
            completed=counts.get(team.pk, {}).get("completed", 0),
            completed_on_time=on_time.get(team.pk, 0),
        )
        for team in teams
    ]


def _on_time(due: QuerySet[ScheduledAssessment], grace_days: int) -> dict[int, int]:
    counts: dict[int, int] = {}
    for team_id, due_on, completed_at in due.filter(response__isnull=False).values_list(
        "person__team", "due_on", "response__completed_at"
    ):
        if completed_at is not None and completed_at.date() <= due_on + datetime.timedelta(grace_days):
            counts[team_id] = counts.get(team_id, 0) + 1
    return counts


# ---------------------------------------------------------------- pages

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
    instrument_id, score = SERIES[series]
    rule = next(r for r in instruments.get(instrument_id).rules if r.name == score)
    return rule.label(get_language() or "en")


def trajectory_charts(user: Any, person: Person) -> list[Chart]:
    """Recovery capital with the 47 line, days used, meetings and network supportiveness."""
    t = trajectory(user, person)
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

    responses = person_responses(user, person).select_related("collected_by")
    open_links = (
        Invitation.objects.restrict(user)
        .filter(person=person, completed_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now)
        .select_related("created_by")
        .order_by("-created_at")
    )
    due = (
        ScheduledAssessment.objects.restrict(user)
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
        ScheduledAssessment.objects.restrict(user)
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


def due_assessments_panel(user: Any, today: datetime.date, *, limit: int) -> DueAssessments:
    """Three queries, however many are due."""
    language = get_language() or "en"
    titles = {i.id: i.title(language) for i in instruments.registry().latest()}
    due = due_assessments(user, today)
    return DueAssessments(
        rows=[(s, titles.get(s.instrument, s.instrument)) for s in due[:limit]],
        total=due.count(),
        today=today,
        is_manager=access.may(user, "teams.manage"),
    )
