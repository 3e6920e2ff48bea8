"""A small care world for narrative tests, shared by the care, audit and staff-page tests.

Harbour Recovery (a treatment service) has a Detox team and a Community team.
Alice manages the Detox team; Bob is a peer worker and Carol a clinician on it.
Dave is a peer worker on the Community team. Sam is Harbour's service manager.
Bridge Peer Network is another organisation; Nina is a peer worker on its Navigators team.
Cora is a commissioner, Eddie a directory editor, Ada an administrator (and superuser).

Pat is on the Detox team's caseload (Bob's own team), Quinn on the Community team
(another team of the same organisation), Rowan on Bridge's Navigators (another organisation).
"""

from dataclasses import dataclass
from datetime import date

from django.contrib.auth.models import User

from recoverybridge.accounts.models import Membership, Role
from recoverybridge.care.models import Person
from recoverybridge.organisations.models import Organisation, OrganisationKind, Team


@dataclass
class World:
    harbour: Organisation
    bridge: Organisation
    county: Organisation
    detox: Team
    community: Team
    navigators: Team
    commissioning: Team
    alice: User
    bob: User
    carol: User
    dave: User
    sam: User
    nina: User
    cora: User
    eddie: User
    ada: User
    pat: Person
    quinn: Person
    rowan: Person

    def user(self, name: str) -> User:
        return getattr(self, name)

    def person(self, name: str) -> Person:
        return getattr(self, name)


def make_user(username: str, team: Team | None = None, role: str | None = None, **fields: object) -> User:
    user = User.objects.create(username=username, email=f"{username}@example.org", **fields)
    user.set_unusable_password()  # fast; tests sign in with force_login
    user.save()
    if team is not None and role is not None:
        Membership.objects.create(user=user, team=team, role=role)
    return user


def make_person(team: Team, reference: str, given_name: str, **fields: object) -> Person:
    defaults: dict[str, object] = {
        "family_name": "Example",
        "date_of_birth": date(1985, 4, 1),
        "email": f"{given_name.lower()}@example.net",
        "phone": "+447911123456",
        "postcode": "BN7 1AA",
        "latitude": 50.873,
        "longitude": 0.009,
    }
    defaults.update(fields)
    return Person.objects.create(team=team, reference=reference, given_name=given_name, **defaults)


def build_world() -> World:
    harbour = Organisation.objects.create(name="Harbour Recovery", kind=OrganisationKind.TREATMENT)
    bridge = Organisation.objects.create(name="Bridge Peer Network", kind=OrganisationKind.PEER_RECOVERY)
    county = Organisation.objects.create(name="County Commissioning", kind=OrganisationKind.COMMISSIONER)
    detox = Team.objects.create(organisation=harbour, name="Detox")
    community = Team.objects.create(organisation=harbour, name="Community")
    navigators = Team.objects.create(organisation=bridge, name="Navigators")
    commissioning = Team.objects.create(organisation=county, name="Commissioning")
    return World(
        harbour=harbour,
        bridge=bridge,
        county=county,
        detox=detox,
        community=community,
        navigators=navigators,
        commissioning=commissioning,
        alice=make_user("alice", detox, Role.TEAM_MANAGER),
        bob=make_user("bob", detox, Role.PEER_WORKER),
        carol=make_user("carol", detox, Role.CLINICIAN),
        dave=make_user("dave", community, Role.PEER_WORKER),
        sam=make_user("sam", community, Role.SERVICE_MANAGER),
        nina=make_user("nina", navigators, Role.PEER_WORKER),
        cora=make_user("cora", commissioning, Role.COMMISSIONER),
        eddie=make_user("eddie", navigators, Role.DIRECTORY_EDITOR),
        ada=make_user("ada", detox, Role.ADMINISTRATOR, is_staff=True, is_superuser=True),
        pat=make_person(detox, "RB-PAT00001", "Pat"),
        quinn=make_person(community, "RB-QUINN001", "Quinn"),
        rowan=make_person(navigators, "RB-ROWAN001", "Rowan"),
    )
