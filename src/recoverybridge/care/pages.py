"""What the staff pages read, in a fixed number of queries however much data there is.

Every queryset starts from accounts.access (people_for, referrals_for, teams_for,
managed_teams_for, follow_ups_for) or care.queries; nothing here decides access on its own.
Where a page needs a per-row answer that access.can gives for one object (may I read this
confidential note?), the answer is computed once for the page from the same access
querysets; tests/care/test_pages_access.py checks it agrees with access.can cell by cell.
"""

import datetime
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.paginator import Page, Paginator
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from recoverybridge.accounts import access
from recoverybridge.care import queries
from recoverybridge.care.models import (
    Consent,
    Contact,
    Episode,
    FollowUp,
    Person,
    Referral,
    ReferralOption,
    RelatedPerson,
)

User = AbstractBaseUser | AnonymousUser

CASELOAD_PAGE_SIZE = 25
DASHBOARD_QUEUE_ROWS = 10
RECENT_REFERRALS = 10
TEAM_QUEUE_ROWS = 25
TIMELINE_CONTACTS = 50


def person_in_scope(user: User, person_id: int) -> Person | None:
    """The person if the user may see them; None otherwise (the page answers 404, so a
    person outside the user's scope is indistinguishable from one that does not exist)."""
    return (
        access.people_for(user).select_related("team__organisation", "navigator").filter(pk=person_id).first()
    )


def referral_in_scope(user: User, referral_id: int) -> Referral | None:
    """A referral of a person the user may see (the receiving side works through the Task API)."""
    return (
        access.referrals_for(user)
        .filter(pk=referral_id, person__in=access.people_for(user))
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


def follow_up_in_scope(user: User, follow_up_id: int) -> FollowUp | None:
    return access.follow_ups_for(user).select_related("referral__person").filter(pk=follow_up_id).first()


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
    has_teams: bool


def dashboard(user: User, *, mine_only: bool, search: str, page: Any, today: datetime.date) -> Dashboard:
    people = (
        access.people_for(user)
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
    queue = queries.work_queue(user, today)
    managed = access.managed_teams_for(user)
    team_queue = None
    if managed.exists():
        team_queue = list(queries.team_follow_ups(user, today)[:TEAM_QUEUE_ROWS])
    team_ids = list(access.teams_for(user).values_list("pk", flat=True))
    # Own teams' referrals (received ones are the Task API's): an index walk on
    # (team, authored_on); people since moved to a team out of scope are left out.
    recent = list(
        access.own_referrals_for(user)
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
        has_teams=bool(team_ids),
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
        access.referrals_for(user)
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
                link_visible=Exists(access.people_for(user).filter(pk=OuterRef("as_person_id")))
            ).order_by("name", "pk")
        ),
        # Whose family member this person is, among the people the user may see.
        related_as=list(
            RelatedPerson.objects.filter(as_person=person, person__in=access.people_for(user)).select_related(
                "person"
            )
        ),
        # follow_up.complete is the requesting side's: the referral's team is one of the user's.
        completable={f.pk for f in follow_ups if f.completed_at is None and _team(f) in requesting_teams},
        is_manager=visible.manager,
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
    queue = queries.work_queue(user, today)
    team: QuerySet[FollowUp] | None = None
    if access.managed_teams_for(user).exists():
        team = queries.team_follow_ups(user, today).exclude(assigned_to_id=user.pk)
    return {
        "overdue": list(queue.overdue),
        "due_today": list(queue.due_today),
        "upcoming": list(queue.upcoming),
        "team_queue": list(team[:200]) if team is not None else None,
    }
