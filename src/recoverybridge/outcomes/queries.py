"""Read side of outcomes, scoped to the acting user through `accounts.access`."""

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet

from recoverybridge.accounts import access
from recoverybridge.care.models import Person
from recoverybridge.organisations.models import Team
from recoverybridge.outcomes.models import CheckIn, Response, ResponseStatus, ScheduledAssessment

DEFAULT_WINDOW_DAYS = 7


def due_assessments(
    user: Any, today: datetime.date, *, window_days: int = DEFAULT_WINDOW_DAYS
) -> QuerySet[ScheduledAssessment]:
    """Open scheduled assessments of the user's people due by `today + window_days` (overdue
    ones first: their due date is earliest). Use `.due_on < today` to mark them overdue."""
    return (
        access.scheduled_assessments_for(user)
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
        access.responses_for(user)
        .filter(person=person, status=ResponseStatus.COMPLETED, instrument__in=list(by_instrument))
        .order_by("completed_at", "pk")
        .values_list("instrument", "completed_at", "scores")
    )
    for instrument, completed_at, scores in rows:
        name, score = by_instrument[instrument]
        getattr(result, name).append((completed_at, scores.get(score)))
    if access.can(user, "check_ins.view", person):
        result.check_in_meetings = list(
            access.check_ins_for(user)
            .filter(person=person)
            .order_by("at")
            .values_list("at", "meetings_count")
        )
    return result


def person_responses(user: Any, person: Person) -> QuerySet[Response]:
    return access.responses_for(user).filter(person=person).order_by("-started_at")


def person_check_ins(user: Any, person: Person) -> QuerySet[CheckIn]:
    return access.check_ins_for(user).filter(person=person).prefetch_related("meetings")


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
