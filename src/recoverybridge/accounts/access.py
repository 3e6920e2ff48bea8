"""The one place that decides who may see and do what with care records.

Every page, API endpoint and export reads people and referrals through `people_for` and
`referrals_for`, and asks `can` before acting. Roles come from team memberships:

- peer workers, clinicians and team managers see the people of their own teams;
- service managers see every team of their organisation;
- a receiving organisation sees a referral sent to it only while the person's consent to
  that disclosure is active (revocation or expiry hides it at once);
- commissioners see aggregates only, never records; directory editors and administrators
  see no records at all (administrators manage users and organisations, not care);
- evaluation reports (aggregates) are scoped by `evaluation_scope_for`: which teams' episodes
  a user may analyse and whether the figures must be suppressed for an outside audience.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeGuard

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from recoverybridge.accounts.models import Membership, Role
from recoverybridge.care import states
from recoverybridge.care.models import (
    Consent,
    ConsentPurpose,
    Contact,
    FollowUp,
    Person,
    Referral,
    TaskStatus,
)
from recoverybridge.organisations.models import Organisation, Team
from recoverybridge.outcomes.models import CheckIn, Invitation, Response, ScheduledAssessment

User = AbstractBaseUser | AnonymousUser

# Roles that work with a team's caseload.
CASELOAD_ROLES = frozenset({Role.PEER_WORKER, Role.CLINICIAN, Role.TEAM_MANAGER})
# Roles that may receive referrals sent to their organisation.
CARE_ROLES = CASELOAD_ROLES | {Role.SERVICE_MANAGER}
MANAGER_ROLES = frozenset({Role.TEAM_MANAGER, Role.SERVICE_MANAGER})


def _active(user: User | None) -> TypeGuard[AbstractBaseUser]:
    return user is not None and user.is_authenticated and user.is_active


def memberships(user: User | None, roles: Iterable[str]) -> QuerySet[Membership]:
    if not _active(user):
        return Membership.objects.none()
    return Membership.objects.filter(user_id=user.pk, role__in=list(roles))


def roles_of(user: User | None) -> set[str]:
    if not _active(user):
        return set()
    return set(Membership.objects.filter(user_id=user.pk).values_list("role", flat=True))


def teams_for(user: User | None) -> QuerySet[Team]:
    """Teams whose caseload the user may see."""
    if not _active(user):
        return Team.objects.none()
    return Team.objects.filter(
        Q(pk__in=memberships(user, CASELOAD_ROLES).values("team_id"))
        | Q(organisation_id__in=memberships(user, [Role.SERVICE_MANAGER]).values("team__organisation_id"))
    )


def managed_teams_for(user: User | None) -> QuerySet[Team]:
    """Teams whose work queue, performance and audit trail the user may see as a manager."""
    if not _active(user):
        return Team.objects.none()
    return Team.objects.filter(
        Q(pk__in=memberships(user, [Role.TEAM_MANAGER]).values("team_id"))
        | Q(organisation_id__in=memberships(user, [Role.SERVICE_MANAGER]).values("team__organisation_id"))
    )


def organisations_for(user: User | None) -> QuerySet[Organisation]:
    """Organisations on whose behalf the user may receive referrals."""
    return Organisation.objects.filter(pk__in=memberships(user, CARE_ROLES).values("team__organisation_id"))


def people_for(user: User | None) -> QuerySet[Person]:
    return Person.objects.filter(team__in=teams_for(user))


def active_consents(now: datetime | None = None) -> QuerySet[Consent]:
    now = now or timezone.now()
    return Consent.objects.filter(
        Q(given_at__lte=now),
        Q(revoked_at__isnull=True) | Q(revoked_at__gt=now),
        Q(expires_at__isnull=True) | Q(expires_at__gt=now),
    )


def referral_consents(now: datetime | None = None) -> QuerySet[Consent]:
    """Active consents to refer, to be narrowed to a person and recipient."""
    return active_consents(now).filter(purpose=ConsentPurpose.REFERRAL)


def consent_covers(person: Person, recipient: Organisation, now: datetime | None = None) -> Consent | None:
    """The newest active consent to disclose this person's referral to `recipient`, if any."""
    return referral_consents(now).filter(person=person, recipient=recipient).order_by("-given_at").first()


def disclosure_allowed(referral: Referral, now: datetime | None = None) -> bool:
    """May this referral's details go to its target organisation now?"""
    target = referral.target_organisation_id
    if target is None or target == referral.team.organisation_id:
        return True
    return referral_consents(now).filter(person_id=referral.person_id, recipient_id=target).exists()


def received_referrals(organisation_ids: Any, now: datetime | None = None) -> QuerySet[Referral]:
    """Referrals sent to these organisations that they may see now: sent (not drafts), and
    either internal or covered by an active consent to that recipient."""
    covered = referral_consents(now).filter(
        person_id=OuterRef("person_id"), recipient_id=OuterRef("target_organisation_id")
    )
    return (
        Referral.objects.filter(target_organisation_id__in=organisation_ids)
        .exclude(status=TaskStatus.DRAFT)
        .filter(Q(team__organisation_id=F("target_organisation_id")) | Exists(covered))
    )


def referrals_for(user: User | None, now: datetime | None = None) -> QuerySet[Referral]:
    """The user's own teams' referrals, and those received by their organisation under consent."""
    if not _active(user):
        return Referral.objects.none()
    received = received_referrals(organisations_for(user).values("pk"), now)
    return Referral.objects.filter(Q(team__in=teams_for(user)) | Q(pk__in=received.values("pk")))


def own_referrals_for(user: User | None) -> QuerySet[Referral]:
    """Referrals made by the user's own teams only (not those received): a plain team filter
    that walks the (team, authored_on) index, for lists such as "recent referrals"."""
    return Referral.objects.filter(team__in=teams_for(user))


def referrals_for_organisation(organisation: Organisation, now: datetime | None = None) -> QuerySet[Referral]:
    """What an organisation acting through its API token may see: its received referrals only."""
    return received_referrals([organisation.pk], now)


def follow_ups_for(user: User | None) -> QuerySet[FollowUp]:
    return FollowUp.objects.filter(referral__team__in=teams_for(user))


def responses_for(user: User | None) -> QuerySet[Response]:
    """Outcome responses of the people the user may see (staff-entered and self-completed)."""
    return Response.objects.filter(person__team__in=teams_for(user))


def scheduled_assessments_for(user: User | None) -> QuerySet[ScheduledAssessment]:
    return ScheduledAssessment.objects.filter(person__team__in=teams_for(user))


def invitations_for(user: User | None) -> QuerySet[Invitation]:
    return Invitation.objects.filter(person__team__in=teams_for(user))


def check_ins_for(user: User | None, now: datetime | None = None) -> QuerySet[CheckIn]:
    """A person's own check-ins reach their worker only under an active consent to share them."""
    shared = active_consents(now).filter(purpose=ConsentPurpose.CHECK_INS, person_id=OuterRef("person_id"))
    return CheckIn.objects.filter(person__team__in=teams_for(user)).filter(Exists(shared))


# ---------------------------------------------------------------- evaluation

# Who reads an evaluation report: its own care team (exact counts) or anyone else
# (every count suppressed and rounded).
CARE_TEAM = "care_team"
OUTSIDE = "outside"
# Roles that may be given evaluation reports (a commissioner only once their organisation has an area).
EVALUATION_ROLES = frozenset({Role.TEAM_MANAGER, Role.SERVICE_MANAGER, Role.COMMISSIONER, Role.ADMINISTRATOR})


@dataclass(frozen=True)
class EvaluationScope:
    team_ids: frozenset[int]
    audience: str

    @property
    def allowed(self) -> bool:
        return bool(self.team_ids)


def evaluation_scope_for(user: User | None) -> EvaluationScope:
    """The teams whose episodes the user may analyse, and the audience the figures are for.

    Team managers: their teams, unsuppressed (they are inside the care team). Service managers:
    every team of their organisations; commissioners: teams of organisations in their own
    organisation's area (none when it has no area); administrators: every team; all three as
    an outside audience. Several roles give the union, unsuppressed only if the user manages
    every team in it. Peer workers, clinicians and directory editors get none.
    """
    if not _active(user):
        return EvaluationScope(frozenset(), OUTSIDE)
    managed = set(memberships(user, [Role.TEAM_MANAGER]).values_list("team_id", flat=True))
    areas = (
        Organisation.objects.filter(
            pk__in=memberships(user, [Role.COMMISSIONER]).values("team__organisation_id")
        )
        .exclude(area="")
        .values("area")
    )
    if memberships(user, [Role.ADMINISTRATOR]).exists():
        others = Team.objects.all()
    else:
        others = Team.objects.filter(
            Q(organisation_id__in=memberships(user, [Role.SERVICE_MANAGER]).values("team__organisation_id"))
            | Q(organisation__area__in=areas)
        )
    team_ids = managed | set(others.values_list("pk", flat=True))
    audience = CARE_TEAM if team_ids and team_ids <= managed else OUTSIDE
    return EvaluationScope(frozenset(team_ids), audience)


def may_evaluate(user: User | None) -> bool:
    """Whether to offer the evaluation pages (one query, for the navigation on every staff page)."""
    return memberships(user, EVALUATION_ROLES).exists()


# ---------------------------------------------------------------- actions


def is_requester(user: User | None, referral: Referral) -> bool:
    return teams_for(user).filter(pk=referral.team_id).exists()


def is_performer(actor: User | Organisation | None, referral: Referral, now: datetime | None = None) -> bool:
    if referral.target_organisation_id is None:
        return not isinstance(actor, Organisation) and is_requester(actor, referral)
    if isinstance(actor, Organisation):
        return referrals_for_organisation(actor, now).filter(pk=referral.pk).exists()
    return (
        organisations_for(actor).filter(pk=referral.target_organisation_id).exists()
        and received_referrals([referral.target_organisation_id], now).filter(pk=referral.pk).exists()
    )


def allowed_statuses(
    actor: User | Organisation | None, referral: Referral, now: datetime | None = None
) -> set[str]:
    """The Task statuses this actor may move the referral to from where it is now."""
    allowed: set[str] = set()
    if not isinstance(actor, Organisation) and is_requester(actor, referral):
        allowed |= states.REQUESTER_STATUSES
    if is_performer(actor, referral, now):
        allowed |= states.PERFORMER_STATUSES
    return allowed & states.TRANSITIONS[referral.status]


def can(user: User | None, permission: str, obj: Any) -> bool:
    """Whether the user may do `permission` to `obj`:

    person.create (obj: Team), person.view, person.change, person.audit (obj: Person),
    contact.note (obj: Contact), referral.view, referral.request, referral.perform,
    referral.disclose (obj: Referral), follow_up.complete (obj: FollowUp),
    team.manage (obj: Team), check_ins.view (obj: Person).
    """
    if not _active(user):
        return False
    if permission == "person.create":
        return teams_for(user).filter(pk=obj.pk).exists()
    if permission in ("person.view", "person.change"):
        return people_for(user).filter(pk=obj.pk).exists()
    if permission == "person.audit":
        return managed_teams_for(user).filter(pk=obj.team_id).exists()
    if permission == "team.manage":
        return managed_teams_for(user).filter(pk=obj.pk).exists()
    if permission == "contact.note":
        assert isinstance(obj, Contact)
        if not obj.confidential:
            return can(user, "person.view", obj.person)
        return obj.worker_id == user.pk or managed_teams_for(user).filter(pk=obj.person.team_id).exists()
    if permission == "referral.view":
        return referrals_for(user).filter(pk=obj.pk).exists()
    if permission == "referral.request":
        return is_requester(user, obj)
    if permission == "referral.perform":
        return is_performer(user, obj)
    if permission == "referral.disclose":
        return referrals_for(user).filter(pk=obj.pk).exists() and disclosure_allowed(obj)
    if permission == "check_ins.view":
        shared = active_consents().filter(purpose=ConsentPurpose.CHECK_INS, person_id=obj.pk)
        return people_for(user).filter(pk=obj.pk).exists() and shared.exists()
    if permission == "follow_up.complete":
        assert isinstance(obj, FollowUp)
        return is_requester(user, obj.referral)
    raise ValueError(f"unknown permission {permission!r}")
