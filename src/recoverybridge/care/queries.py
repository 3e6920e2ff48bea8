"""Read side of care: work queues and derived measures, always scoped to the acting user
through `accounts.access`."""

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils import timezone

from recoverybridge.accounts import access
from recoverybridge.care.models import Episode, EpisodeEnd, EpisodeKind, FollowUp, Person
from recoverybridge.organisations.models import Team

User = AbstractBaseUser | AnonymousUser

# ---------------------------------------------------------------- work queue


@dataclass(frozen=True)
class WorkQueue:
    overdue: QuerySet[FollowUp]
    due_today: QuerySet[FollowUp]
    upcoming: QuerySet[FollowUp]


def open_follow_ups(user: User) -> QuerySet[FollowUp]:
    """The user's own open follow-ups, for people still in their scope."""
    return (
        access.follow_ups_for(user)
        .filter(assigned_to_id=user.pk, completed_at__isnull=True)
        .select_related("referral__person")
        .order_by("due_on", "pk")
    )


def due_follow_ups(user: User, today: datetime.date | None = None) -> QuerySet[FollowUp]:
    """Open follow-ups due today or earlier (overdue included)."""
    return open_follow_ups(user).filter(due_on__lte=today or timezone.localdate())


def overdue_follow_ups(user: User, today: datetime.date | None = None) -> QuerySet[FollowUp]:
    return open_follow_ups(user).filter(due_on__lt=today or timezone.localdate())


def work_queue(user: User, today: datetime.date | None = None, upcoming_days: int = 7) -> WorkQueue:
    today = today or timezone.localdate()
    mine = open_follow_ups(user)
    return WorkQueue(
        overdue=mine.filter(due_on__lt=today),
        due_today=mine.filter(due_on=today),
        upcoming=mine.filter(due_on__gt=today, due_on__lte=today + datetime.timedelta(days=upcoming_days)),
    )


def team_follow_ups(user: User, today: datetime.date | None = None) -> QuerySet[FollowUp]:
    """A manager's view: open follow-ups due by today across the teams they manage."""
    return (
        FollowUp.objects.filter(
            referral__team__in=access.managed_teams_for(user),
            completed_at__isnull=True,
            due_on__lte=today or timezone.localdate(),
        )
        .select_related("referral__person", "assigned_to")
        .order_by("due_on", "pk")
    )


def reminders_due(today: datetime.date) -> QuerySet[FollowUp]:
    """Open follow-ups due by `today` that nobody has been reminded of yet (for the reminder task)."""
    return FollowUp.objects.filter(
        completed_at__isnull=True, reminder_sent_at__isnull=True, due_on__lte=today
    ).select_related("referral__person", "assigned_to")


# ---------------------------------------------------------------- derived measures
#
# - Treatment within 14 days of detox: of detox discharges whose 14 days have passed (or
#   that already led to treatment), the share where a community treatment or residential
#   rehab episode started by the 14th day after discharge, or was already running then.
# - Retention: of treatment episodes at least RETENTION_DAYS old (or ended), the share that
#   lasted RETENTION_DAYS or ended completed. 12 weeks, as the UK NDTMS counts it.
# - Completion: of ended treatment episodes, the share ended as completed.

TREATMENT_KINDS = frozenset({EpisodeKind.COMMUNITY_TREATMENT, EpisodeKind.RESIDENTIAL_REHAB})
TREATMENT_WINDOW_DAYS = 14
RETENTION_DAYS = 84


@dataclass(frozen=True)
class Rate:
    numerator: int
    denominator: int

    @property
    def rate(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    def __add__(self, other: "Rate") -> "Rate":
        return Rate(self.numerator + other.numerator, self.denominator + other.denominator)


@dataclass(frozen=True)
class Measures:
    treatment_within_14_days: Rate
    retention: Rate
    completion: Rate

    def __add__(self, other: "Measures") -> "Measures":
        return Measures(
            self.treatment_within_14_days + other.treatment_within_14_days,
            self.retention + other.retention,
            self.completion + other.completion,
        )


NO_MEASURES = Measures(Rate(0, 0), Rate(0, 0), Rate(0, 0))

_Episode = tuple[str, datetime.date, datetime.date | None, str]  # kind, started, ended, end reason


def _measures(episodes: Iterable[_Episode], today: datetime.date) -> Measures:
    episodes = list(episodes)
    treatments = [e for e in episodes if e[0] in TREATMENT_KINDS]
    linked = Rate(0, 0)
    for kind, _started, discharged, _reason in episodes:
        if kind != EpisodeKind.DETOX or discharged is None:
            continue
        deadline = discharged + datetime.timedelta(days=TREATMENT_WINDOW_DAYS)
        attended = any(
            t_started <= deadline and (t_ended is None or t_ended >= discharged) and t_started <= today
            for _k, t_started, t_ended, _r in treatments
        )
        if attended or today > deadline:
            linked += Rate(int(attended), 1)
    retained = Rate(0, 0)
    completed = Rate(0, 0)
    for _kind, started, ended, reason in treatments:
        lasted = ((ended or today) - started).days
        if ended is not None or (today - started).days >= RETENTION_DAYS:
            retained += Rate(int(lasted >= RETENTION_DAYS or reason == EpisodeEnd.COMPLETED), 1)
        if ended is not None:
            completed += Rate(int(reason == EpisodeEnd.COMPLETED), 1)
    return Measures(linked, retained, completed)


def _episodes_by_person(people: QuerySet[Person]) -> dict[int, list[_Episode]]:
    rows = Episode.objects.filter(person__in=people).values_list(
        "person_id", "kind", "started_on", "ended_on", "end_reason"
    )
    by_person: dict[int, list[_Episode]] = defaultdict(list)
    for person_id, kind, started, ended, reason in rows:
        by_person[person_id].append((kind, started, ended, reason))
    return by_person


def person_measures(user: User, person: Person, today: datetime.date | None = None) -> Measures:
    if not access.can(user, "person.view", person):
        raise PermissionDenied("You may not see this person.")
    episodes = _episodes_by_person(Person.objects.filter(pk=person.pk)).get(person.pk, [])
    return _measures(episodes, today or timezone.localdate())


def team_measures(user: User, team: Team, today: datetime.date | None = None) -> Measures:
    """The team's measures, summed over its people (one query)."""
    if not access.teams_for(user).filter(pk=team.pk).exists():
        raise PermissionDenied("You may not see this team.")
    today = today or timezone.localdate()
    total = NO_MEASURES
    for episodes in _episodes_by_person(Person.objects.filter(team=team)).values():
        total += _measures(episodes, today)
    return total
