"""Who may see and do what: the one access system, for staff, directory editors and anyone else.

This module sits on the ground floor and knows only what is there: users, their roles in teams
(`Membership`), teams and organisations. It decides three kinds of question:

- Records (`restrict`, `can`): every model that holds care records has a `RestrictedQuerySet`
  that says how its rows reach a team (`team_path`) and, where a rule needs more (a referral
  received under the person's consent, a confidential note), adds it in its own `rule`. Pages,
  APIs and actions read `Model.objects.restrict(user, action)` and ask
  `can(user, "person.view", person)`, which asks the object's own queryset. So this module
  needs no import from the floors above, and a rule is written once, beside its model.
- Teams and organisations (`teams_for`, `organisations_for`): which of them a user works in,
  manages or receives referrals for.
- Capabilities (`may`): whether to offer a whole part of the system (the directory editor's
  review queue, evaluation reports, adding people), for pages and menus.

Roles: peer workers, clinicians and team managers see the people of their own teams; service
managers every team of their organisation; a receiving organisation sees a referral sent to it
only while the person's consent covers it; commissioners see aggregates only, never records;
directory editors and administrators see no records (administrators manage users and
organisations, not care); a volunteer member sees only their own introductions, and of the
person only what they agreed to share once both sides accepted; a volunteer coordinator sees
their organisation's volunteers and their load, never a person's record. Evaluation reports are scoped by `evaluation_scope_for`.
"""

import datetime
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Self, TypeGuard, TypeVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser, PermissionsMixin
from django.db import models
from django.db.models import Q, QuerySet

from recoverybridge.accounts.models import Membership, Role
from recoverybridge.organisations.models import Organisation, Team

User = AbstractBaseUser | AnonymousUser

# Roles that work with a team's caseload.
CASELOAD_ROLES = frozenset({Role.PEER_WORKER, Role.CLINICIAN, Role.TEAM_MANAGER})
# Roles that may receive referrals sent to their organisation.
CARE_ROLES = CASELOAD_ROLES | {Role.SERVICE_MANAGER}
MANAGER_ROLES = frozenset({Role.TEAM_MANAGER, Role.SERVICE_MANAGER})


class UnknownAction(ValueError):
    """A permission no rule answers: a programming mistake, never a quiet "no"."""


def active(user: User | None) -> TypeGuard[AbstractBaseUser]:
    return user is not None and user.is_authenticated and user.is_active


def memberships(user: User | None, roles: Iterable[str]) -> QuerySet[Membership]:
    if not active(user):
        return Membership.objects.none()
    return Membership.objects.filter(user_id=user.pk, role__in=list(roles))


def roles_of(user: User | None) -> set[str]:
    if not active(user):
        return set()
    return set(Membership.objects.filter(user_id=user.pk).values_list("role", flat=True))


# ---------------------------------------------------------------- teams and organisations


def teams_for(user: User | None) -> QuerySet[Team]:
    """Teams whose caseload the user may see and work with."""
    if not active(user):
        return Team.objects.none()
    return Team.objects.filter(
        Q(pk__in=memberships(user, CASELOAD_ROLES).values("team_id"))
        | Q(organisation_id__in=memberships(user, [Role.SERVICE_MANAGER]).values("team__organisation_id"))
    )


def managed_teams_for(user: User | None) -> QuerySet[Team]:
    """Teams whose work queue, performance and audit trail the user may see as a manager."""
    if not active(user):
        return Team.objects.none()
    return Team.objects.filter(
        Q(pk__in=memberships(user, [Role.TEAM_MANAGER]).values("team_id"))
        | Q(organisation_id__in=memberships(user, [Role.SERVICE_MANAGER]).values("team__organisation_id"))
    )


def organisations_for(user: User | None) -> QuerySet[Organisation]:
    """Organisations on whose behalf the user may receive referrals."""
    return Organisation.objects.filter(pk__in=memberships(user, CARE_ROLES).values("team__organisation_id"))


def coordinated_organisations_for(user: User | None) -> QuerySet[Organisation]:
    """Organisations whose volunteer members the user vets, activates and watches."""
    return Organisation.objects.filter(
        pk__in=memberships(user, [Role.VOLUNTEER_COORDINATOR]).values("team__organisation_id")
    )


def managed_organisations_for(user: User | None) -> QuerySet[Organisation]:
    """Organisations whose settings (such as the outcome schedule) the user may change."""
    return Organisation.objects.filter(
        pk__in=memberships(user, [Role.SERVICE_MANAGER]).values("team__organisation_id")
    )


# Organisations call the FHIR Task API with a bearer token of their own (accounts.actions).
API_TOKEN_PREFIX = "rb_"  # noqa: S105 -- a prefix, not a secret


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def organisation_for_token(token: str) -> Organisation | None:
    """The organisation an API token belongs to, if any (one indexed lookup)."""
    if not token.startswith(API_TOKEN_PREFIX) or len(token) > 200:
        return None
    return Organisation.objects.filter(api_token_hash=hash_token(token)).first()


# Which teams a row must belong to for each plain action; a model's own `rule` adds others.
TEAM_SCOPES: dict[str, Callable[[User | None], QuerySet[Team]]] = {
    "view": teams_for,
    "change": teams_for,
    "manage": managed_teams_for,
    "audit": managed_teams_for,
}
# The same questions about teams and organisations themselves (they are on this floor).
GROUND_RULES: dict[tuple[str, str], Callable[[User | None], QuerySet[Any]]] = {
    ("team", "view"): teams_for,
    ("team", "add_people"): teams_for,
    ("team", "manage"): managed_teams_for,
    ("organisation", "receive"): organisations_for,
    ("organisation", "manage"): managed_organisations_for,
    ("organisation", "coordinate"): coordinated_organisations_for,
}


# ---------------------------------------------------------------- records

M = TypeVar("M", bound=models.Model)


class RestrictedQuerySet(QuerySet[M], Generic[M]):
    """A queryset that can narrow itself to the rows a user may see or act on.

    Subclasses set `team_path`, the lookup from a row to the team that holds it ("team",
    "person__team", "referral__team"), and override `rule` for actions beyond TEAM_SCOPES.
    """

    team_path: ClassVar[str] = ""

    def restrict(
        self, user: User | None, action: str = "view", *, now: datetime.datetime | None = None
    ) -> Self:
        """The rows `user` may `action` (an inactive or anonymous user: none)."""
        if not active(user):
            return self.none()
        return self.filter(self.rule(user, action, now))

    def rule(self, user: AbstractBaseUser, action: str, now: datetime.datetime | None) -> Q:
        """The condition a row meets when `user` may `action` it."""
        scope = TEAM_SCOPES.get(action)
        if scope is None or not self.team_path:
            raise UnknownAction(f"{self.model.__name__} has no rule for {action!r}")
        return Q(**{f"{self.team_path}__in": scope(user)})


def can(
    user: User | None, permission: str, obj: models.Model, *, now: datetime.datetime | None = None
) -> bool:
    """Whether the user may do `permission` ("person.view", "referral.perform", "team.manage")
    to `obj`; the noun names the object's model, the verb an action its queryset's rule knows."""
    noun, _, action = permission.partition(".")
    if noun != obj._meta.model_name:
        raise UnknownAction(f"{permission!r} is not about a {obj._meta.model_name}")
    if not active(user):
        return False
    ground = GROUND_RULES.get((noun, action))
    if ground is not None:
        return ground(user).filter(pk=obj.pk).exists()
    queryset = type(obj)._default_manager.all()
    if not isinstance(queryset, RestrictedQuerySet):
        raise UnknownAction(f"{type(obj).__name__} has no access rules")
    return queryset.restrict(user, action, now=now).filter(pk=obj.pk).exists()


# ---------------------------------------------------------------- capabilities

# Who reads an evaluation report: its own care team (exact counts) or anyone else
# (every count suppressed and rounded).
CARE_TEAM = "care_team"
OUTSIDE = "outside"
# Roles that may be given evaluation reports (a commissioner only once their organisation has an area).
EVALUATION_ROLES = frozenset({Role.TEAM_MANAGER, Role.SERVICE_MANAGER, Role.COMMISSIONER, Role.ADMINISTRATOR})
# Editors are made by the role, or by the "Directory editors" group an administrator assigns.
REVIEW_PERMISSION = "directory.review_changerequest"


def may(user: User | None, capability: str) -> bool:
    """Whether to offer a part of the system to the user (one or two queries):

    caseload.view (a caseload and work queue: a care team's member or service manager),
    people.add (a caseload to add people to), teams.manage (a team's dashboard, queue and
    completion), evaluation.view (reports, with at least one team in scope), directory.review
    (the change-request queue and MOUD stances), admin.site (Django's admin: staff accounts),
    volunteering.own (a volunteer member's own introductions, nothing else), volunteers.coordinate
    (vetting volunteers and their load, safety reports).
    """
    if not active(user):
        return False
    if capability == "directory.review":
        granted = isinstance(user, PermissionsMixin) and user.has_perm(REVIEW_PERMISSION)
        return granted or memberships(user, [Role.DIRECTORY_EDITOR]).exists()
    if capability == "evaluation.view":
        # A commissioner's scope is their organisation's area: none until it has one.
        return (
            memberships(user, EVALUATION_ROLES)
            .exclude(role=Role.COMMISSIONER, team__organisation__area="")
            .exists()
        )
    if capability in ("caseload.view", "people.add"):
        return teams_for(user).exists()
    if capability == "teams.manage":
        return managed_teams_for(user).exists()
    if capability == "volunteering.own":
        return memberships(user, [Role.VOLUNTEER]).exists()
    if capability == "volunteers.coordinate":
        return memberships(user, [Role.VOLUNTEER_COORDINATOR]).exists()
    if capability == "admin.site":
        return bool(getattr(user, "is_staff", False))
    raise UnknownAction(f"unknown capability {capability!r}")


def outside_sees_worker_names() -> bool:
    """Whether evaluation reports read outside a care team name the workers in their funnel plots
    (settings.EVALUATION_WORKER_NAMES_OUTSIDE). Off by default: outside a care team workers are
    "Worker 1", "Worker 2", ...; a worker's own manager reads the care team's report, with names."""
    return bool(getattr(settings, "EVALUATION_WORKER_NAMES_OUTSIDE", False))


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
    if not active(user):
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
