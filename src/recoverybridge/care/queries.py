"""The read side of care: what the staff pages, work queues and measures read, always scoped
to the acting user with `Model.objects.restrict(user, action)` (see accounts.access), in a
fixed number of queries however much data there is.

Where a page needs a per-row answer that access.can gives for one object (may I read this
confidential note?), the answer is computed once for the page from the same rules;
tests/care/test_pages_person.py checks it agrees with access.can cell by cell.
"""

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, Min, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import get_language

from recoverybridge.accounts import access
from recoverybridge.audit.models import AuditAction, AuditEvent
from recoverybridge.care.messages import ChannelState, channel_states
from recoverybridge.care.models import (
    AssistedStep,
    AttendanceAsk,
    Consent,
    Contact,
    Episode,
    EpisodeEnd,
    EpisodeKind,
    FollowUp,
    IntroductionRequest,
    IntroductionStatus,
    Person,
    Referral,
    ReferralDraft,
    ReferralOption,
    RelatedPerson,
)
from recoverybridge.directory.models import Attribute, Meeting, MeetingStatus
from recoverybridge.organisations.models import Organisation, OrganisationKind, Team

User = AbstractBaseUser | AnonymousUser

CASELOAD_PAGE_SIZE = 25
DASHBOARD_QUEUE_ROWS = 10
RECENT_REFERRALS = 10
TEAM_QUEUE_ROWS = 25
TIMELINE_CONTACTS = 50
LATER_ROWS = 50


def person_in_scope(user: User, person_id: int) -> Person | None:
    """The person if the user may see them; None otherwise (the page answers 404, so a
    person outside the user's scope is indistinguishable from one that does not exist)."""
    return (
        Person.objects.restrict(user)
        .select_related("team__organisation", "navigator")
        .filter(pk=person_id)
        .first()
    )


def referral_in_scope(user: User, referral_id: int) -> Referral | None:
    """A referral of a person the user may see (the receiving side works through the Task API)."""
    return (
        Referral.objects.restrict(user)
        .filter(pk=referral_id, person__in=Person.objects.restrict(user))
        .select_related(
            "person__team__organisation",
            "team",
            "meeting__fellowship",
            "meeting__location",
            "fellowship",
            "target_organisation",
            "referred_by",
        )
        .first()
    )


def draft_of(user: User, person: Person, now: datetime.datetime | None = None) -> ReferralDraft | None:
    """The user's unfinished referral of this person, if one is still kept."""
    return ReferralDraft.objects.restrict(user).current(now).filter(person=person).first()


def drafts_of(user: User, now: datetime.datetime | None = None) -> list[ReferralDraft]:
    """The user's unfinished referrals, the longest-untouched first."""
    return list(
        ReferralDraft.objects.restrict(user).current(now).select_related("person").order_by("saved_at", "pk")
    )


def draft_in_scope(user: User, draft_id: int, now: datetime.datetime | None = None) -> ReferralDraft | None:
    return (
        ReferralDraft.objects.restrict(user, "change")
        .current(now)
        .select_related("person__team__organisation", "person__navigator", "owner")
        .filter(pk=draft_id)
        .first()
    )


def related_person_of(person: Person, related_id: int) -> RelatedPerson | None:
    """One of this person's related people (another person's is None, like a missing one)."""
    return person.related_people.filter(pk=related_id).first()


def consent_of(person: Person, consent_id: int) -> Consent | None:
    return person.consents.filter(pk=consent_id).first()


def open_episode_of(person: Person, episode_id: int) -> Episode | None:
    return Episode.objects.filter(person=person, pk=episode_id, ended_on__isnull=True).first()


def episodes_of(person: Person) -> QuerySet[Episode]:
    return person.episodes.order_by("-started_on")


def assisted_steps(referral: Referral) -> list[AssistedStep]:
    return list(referral.assisted_steps.select_related("by").order_by("-on", "-pk"))


def follow_ups_of(referral: Referral) -> list[FollowUp]:
    return list(referral.follow_ups.select_related("assigned_to").order_by("due_on", "pk"))


def active_meetings(ids: list[int]) -> dict[int, Meeting]:
    """The active meetings among these ids (a wizard's options may have closed meanwhile)."""
    found = (
        Meeting.objects.filter(pk__in=ids, status=MeetingStatus.ACTIVE)
        .select_related("fellowship", "location")
        .prefetch_related("attributes")
    )
    return {meeting.pk: meeting for meeting in found}


def language_name(code: str) -> str:
    """A language's name in the page's language, from the directory's vocabulary (the code when
    the vocabulary does not know it)."""
    found = Attribute.objects.filter(language_code=code).first()
    return found.name_in(get_language() or "en") if found else code


def recipients() -> QuerySet[Organisation]:
    """Organisations a person's information may go to (commissioners see aggregates only)."""
    return Organisation.objects.exclude(kind=OrganisationKind.COMMISSIONER).order_by("name")


def consented_recipients(person: Person) -> list[Organisation]:
    """Organisations the person's active consents let us refer them to."""
    consents = Consent.objects.to_refer().filter(person=person).select_related("recipient")
    return [c.recipient for c in consents if c.recipient is not None]


def follow_up_in_scope(user: User, follow_up_id: int) -> FollowUp | None:
    return (
        FollowUp.objects.restrict(user)
        .filter(referral__person__in=Person.objects.restrict(user))
        .select_related(
            "referral__person__team__organisation",
            "referral__meeting__fellowship",
            "referral__fellowship",
            "referral__target_organisation",
            "assigned_to",
        )
        .filter(pk=follow_up_id)
        .first()
    )


def introduction_of(referral: Referral) -> IntroductionRequest | None:
    return IntroductionRequest.objects.filter(referral=referral).select_related("fellowship").first()


def attendance_ask_of(referral: Referral) -> AttendanceAsk | None:
    """Whether the person will be (or was) asked after their first meeting, and when."""
    return AttendanceAsk.objects.filter(referral=referral).first()


def barriers_of(referral: Referral) -> dict[int | None, list[str]]:
    """The referral's barrier codes: named while facilitating (key None) and per follow-up."""
    found: dict[int | None, list[str]] = defaultdict(list)
    for follow_up_id, code in referral.barriers.order_by("code").values_list("follow_up_id", "code"):
        found[follow_up_id].append(code)
    return found


def open_introductions(user: User) -> list[IntroductionRequest]:
    """Requests for contact with a member on the user's own referrals, still to arrange."""
    return list(
        IntroductionRequest.objects.restrict(user)
        .filter(status=IntroductionStatus.REQUESTED, referral__referred_by_id=user.pk)
        .filter(referral__person__in=Person.objects.restrict(user))
        .select_related("referral__person", "fellowship")
        .order_by("requested_at", "pk")
    )


# ---------------------------------------------------------------- audit trail


def person_trail(user: User, person: Person) -> QuerySet[AuditEvent]:
    """Every event about this person, newest first; for managers of the person's team only."""
    if not access.can(user, "person.audit", person):
        raise PermissionDenied("Only the team's managers may read a person's audit trail.")
    return (
        AuditEvent.objects.filter(person_id=person.pk)
        .select_related("actor", "actor_organisation")
        .order_by("-at", "-id")
    )


REFUSED_DAYS = 14


@dataclass(frozen=True)
class RefusedDay:
    day: datetime.date
    refused: int


def refused_by_day(
    user: User, person: Person, now: datetime.datetime | None = None, days: int = REFUSED_DAYS
) -> list[RefusedDay]:
    """How many times someone was refused this person's record or an action on it (DENIED events),
    on each of the last `days` days, today first, by the days of the person's team's time zone
    (where their managers work); for the team's managers only. One query."""
    if not access.can(user, "person.audit", person):
        raise PermissionDenied("Only the team's managers may read a person's audit trail.")
    zone = ZoneInfo(person.team.zone_name)
    today = timezone.localtime(now or timezone.now(), zone).date()
    first = today - datetime.timedelta(days=days - 1)
    counted = dict(
        AuditEvent.objects.filter(
            person_id=person.pk,
            action=AuditAction.DENIED,
            at__gte=datetime.datetime.combine(first, datetime.time.min, tzinfo=zone),
        )
        .annotate(day=TruncDate("at", tzinfo=zone))
        .order_by()
        .values("day")
        .annotate(refused=Count("id"))
        .values_list("day", "refused")
    )
    return [
        RefusedDay(day, counted.get(day, 0))
        for day in (today - datetime.timedelta(days=n) for n in range(days))
    ]


def audited_events(user: User) -> QuerySet[AuditEvent]:
    """Events about the people of the teams the user manages."""
    return AuditEvent.objects.filter(person_id__in=Person.objects.restrict(user, "audit").values("pk"))


def references_of(events: QuerySet[AuditEvent]) -> dict[int | None, str]:
    """Pseudonymous references of the people these events are about."""
    return dict(Person.objects.filter(pk__in=events.values("person_id")).values_list("pk", "reference"))


# ---------------------------------------------------------------- dashboard


@dataclass
class Dashboard:
    caseload: Page[Person]
    caseload_total: int
    mine_only: bool
    search: str
    overdue: list[FollowUp]
    due_today: list[FollowUp]
    overdue_count: int
    due_today_count: int
    upcoming: list[FollowUp]
    team_queue: list[FollowUp] | None
    recent_referrals: list[Referral]


def dashboard(user: User, *, mine_only: bool, search: str, page: Any, today: datetime.date) -> Dashboard:
    people = (
        Person.objects.restrict(user)
        .select_related("team", "navigator")
        .order_by("family_name", "given_name", "pk")
    )
    if mine_only:
        people = people.filter(navigator_id=user.pk)
    search = search.strip()[:100]
    if search:
        people = people.filter(
            Q(given_name__icontains=search) | Q(family_name__icontains=search) | Q(reference__iexact=search)
        )
    caseload = Paginator(people, CASELOAD_PAGE_SIZE).get_page(page)
    queue = work_queue(user, today)
    managed = access.managed_teams_for(user)
    team_queue = None
    if managed.exists():
        team_queue = list(team_follow_ups(user, today)[:TEAM_QUEUE_ROWS])
    team_ids = list(access.teams_for(user).values_list("pk", flat=True))
    # Own teams' referrals (received ones are the Task API's): an index walk on
    # (team, authored_on); people since moved to a team out of scope are left out.
    recent = list(
        Referral.objects.restrict(user, "request")
        .filter(person__team_id__in=team_ids)
        .select_related("person", "meeting", "fellowship", "target_organisation")
        .order_by("-authored_on", "-pk")[:RECENT_REFERRALS]
    )
    return Dashboard(
        caseload=caseload,
        caseload_total=caseload.paginator.count,
        mine_only=mine_only,
        search=search,
        overdue=list(queue.overdue[:DASHBOARD_QUEUE_ROWS]),
        due_today=list(queue.due_today[:DASHBOARD_QUEUE_ROWS]),
        overdue_count=queue.overdue.count(),
        due_today_count=queue.due_today.count(),
        upcoming=list(queue.upcoming[:DASHBOARD_QUEUE_ROWS]),
        team_queue=team_queue,
        recent_referrals=recent,
    )


# ---------------------------------------------------------------- person timeline


@dataclass
class ContactRow:
    contact: Contact
    note_visible: bool


@dataclass
class ConsentRow:
    consent: Consent
    state: str  # active, expired, revoked, pending


def consent_state(consent: Consent, now: datetime.datetime) -> str:
    if consent.revoked_at is not None and consent.revoked_at <= now:
        return "revoked"
    if consent.expires_at is not None and consent.expires_at <= now:
        return "expired"
    if consent.given_at > now:
        return "pending"
    return "active"


@dataclass
class Timeline:
    person: Person
    episodes: list[Episode]
    referrals: list[Referral]
    contacts: list[ContactRow]
    contacts_total: int
    consents: list[ConsentRow]
    follow_ups: list[FollowUp]
    related: list[RelatedPerson]
    related_as: list[RelatedPerson]
    completable: set[int]
    is_manager: bool
    channels: dict[str, ChannelState]  # whether a text or an e-mail can reach them, and why not
    # The user's own unfinished referral of this person, to carry on with.
    draft: ReferralDraft | None


def note_visibility(user: User, person: Person) -> "NoteVisibility":
    """access.can(user, "contact.note", contact) for every contact of one person, in one query."""
    manager = access.managed_teams_for(user).filter(pk=person.team_id).exists()
    return NoteVisibility(user.pk, manager)


@dataclass(frozen=True)
class NoteVisibility:
    user_id: Any
    manager: bool

    def __call__(self, contact: Contact) -> bool:
        return not contact.confidential or contact.worker_id == self.user_id or self.manager


def timeline(user: User, person: Person, now: datetime.datetime | None = None) -> Timeline:
    """Everything the person page shows; the caller has checked (and recorded) the view."""
    now = now or timezone.now()
    open_follow_ups = FollowUp.objects.select_related("assigned_to").order_by("due_on", "pk")
    referrals = list(
        Referral.objects.restrict(user)
        .filter(person=person)
        .select_related("meeting__fellowship", "fellowship", "target_organisation", "referred_by")
        .prefetch_related(
            Prefetch(
                "options",
                queryset=ReferralOption.objects.select_related("meeting__fellowship").order_by(
                    "-chosen", "meeting__name"
                ),
            ),
            "assisted_steps",
            Prefetch("follow_ups", queryset=open_follow_ups),
        )
        .order_by("-authored_on", "-pk")
    )
    visible = note_visibility(user, person)
    contacts_qs = person.contacts.select_related("worker", "episode").order_by("-at", "-pk")
    contacts = list(contacts_qs[:TIMELINE_CONTACTS])
    requesting_teams = set(access.teams_for(user).values_list("pk", flat=True))
    follow_ups = [f for r in referrals for f in r.follow_ups.all()]
    follow_ups.sort(key=lambda f: (f.completed_at is not None, f.due_on))
    return Timeline(
        person=person,
        episodes=list(person.episodes.select_related("navigator").order_by("-started_on", "-pk")),
        referrals=referrals,
        contacts=[ContactRow(c, visible(c)) for c in contacts],
        contacts_total=contacts_qs.count(),
        consents=[
            ConsentRow(c, consent_state(c, now))
            for c in person.consents.select_related("recipient").order_by("-given_at", "-pk")
        ],
        follow_ups=follow_ups,
        # link_visible: whether the user may open the related person's own record, if linked
        # (a link made by a service manager may lead outside a worker's teams).
        related=list(
            person.related_people.annotate(
                link_visible=Exists(Person.objects.restrict(user).filter(pk=OuterRef("as_person_id")))
            ).order_by("name", "pk")
        ),
        # Whose family member this person is, among the people the user may see.
        related_as=list(
            RelatedPerson.objects.filter(
                as_person=person, person__in=Person.objects.restrict(user)
            ).select_related("person")
        ),
        # follow_up.complete is the requesting side's: the referral's team is one of the user's.
        completable={f.pk for f in follow_ups if f.completed_at is None and _team(f) in requesting_teams},
        is_manager=visible.manager,
        channels=channel_states(person, now),
        draft=draft_of(user, person, now),
    )


def _team(follow_up: FollowUp) -> int:
    return follow_up.referral.team_id


def referral_options(referral: Referral) -> list[ReferralOption]:
    return list(
        referral.options.select_related("meeting__fellowship", "meeting__location")
        .prefetch_related("meeting__attributes")
        .order_by("-chosen", "meeting__name")
    )


def work_queue_page(user: User, today: datetime.date) -> dict[str, Any]:
    queue = work_queue(user, today)
    team: QuerySet[FollowUp] | None = None
    if access.managed_teams_for(user).exists():
        team = team_follow_ups(user, today).exclude(assigned_to_id=user.pk)
    return {
        "overdue": list(queue.overdue),
        "due_today": list(queue.due_today),
        "upcoming": list(queue.upcoming),
        "later": list(queue.later[:LATER_ROWS]),
        "later_count": queue.later.count(),
        "introductions": open_introductions(user),
        "drafts": drafts_of(user),
        "team_queue": list(team[:200]) if team is not None else None,
    }


# ---------------------------------------------------------------- work queue


@dataclass(frozen=True)
class WorkQueue:
    overdue: QuerySet[FollowUp]
    due_today: QuerySet[FollowUp]
    upcoming: QuerySet[FollowUp]
    # Planned further ahead than the coming week.
    later: QuerySet[FollowUp]


def open_follow_ups(user: User) -> QuerySet[FollowUp]:
    """The user's own open follow-ups, for people still in their scope."""
    return (
        FollowUp.objects.restrict(user)
        .filter(assigned_to_id=user.pk, completed_at__isnull=True)
        .select_related(
            "referral__person", "referral__meeting", "referral__fellowship", "referral__target_organisation"
        )
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
        later=mine.filter(due_on__gt=today + datetime.timedelta(days=upcoming_days)),
    )


def team_follow_ups(user: User, today: datetime.date | None = None) -> QuerySet[FollowUp]:
    """A manager's view: open follow-ups due by today across the teams they manage."""
    return (
        FollowUp.objects.filter(
            referral__team__in=access.managed_teams_for(user),
            completed_at__isnull=True,
            due_on__lte=today or timezone.localdate(),
        )
        .select_related(
            "referral__person",
            "referral__meeting",
            "referral__fellowship",
            "referral__target_organisation",
            "assigned_to",
        )
        .order_by("due_on", "pk")
    )


@dataclass(frozen=True)
class WorkerOverdue:
    worker: Any  # the user the follow-ups are assigned to
    overdue: int
    oldest_due: datetime.date


@dataclass(frozen=True)
class TeamQueue:
    """A manager's view of the teams they manage: open follow-ups due by today (the oldest
    `TEAM_QUEUE_ROWS`), how many are overdue and due today, and who the overdue ones wait on."""

    follow_ups: list[FollowUp]
    overdue: int
    due_today: int
    by_worker: list[WorkerOverdue]


def team_queue(user: User, today: datetime.date) -> TeamQueue:
    """Four queries, however many follow-ups there are."""
    due = team_follow_ups(user, today)
    counts = list(
        due.filter(due_on__lt=today)
        .order_by()
        .values("assigned_to")
        .annotate(overdue=Count("pk"), oldest_due=Min("due_on"))
    )
    workers = get_user_model().objects.in_bulk([row["assigned_to"] for row in counts])
    by_worker = [
        WorkerOverdue(workers[row["assigned_to"]], row["overdue"], row["oldest_due"]) for row in counts
    ]
    by_worker.sort(key=lambda row: (-row.overdue, row.oldest_due, row.worker.get_username()))
    return TeamQueue(
        follow_ups=list(due[:TEAM_QUEUE_ROWS]),
        overdue=sum(row.overdue for row in by_worker),
        due_today=due.filter(due_on=today).count(),
        by_worker=by_worker,
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
