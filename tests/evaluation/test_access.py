"""Who may run evaluation reports, over which teams, and whether the figures are suppressed.

Harbour Recovery (Detox and Community teams) and County Commissioning are in East Sussex;
Bridge Peer Network (Navigators) is in West Sussex. Alice manages Detox and reads its figures
as they are; Sam manages Harbour's service and reads both its teams' figures suppressed; Cora
commissions East Sussex and reads every East Sussex team's figures suppressed; Ada administers
everything. Bob, Carol, Dave and Nina work with people and Eddie edits the directory: no
evaluation pages for them.
"""

import pytest
from django.test import Client

from recoverybridge.accounts.access import CARE_TEAM, OUTSIDE, evaluation_scope_for
from recoverybridge.accounts.models import Membership, Role
from recoverybridge.organisations.models import Organisation, OrganisationKind, Team
from tests.care_world import World, build_world, make_user

# user -> (teams in scope, audience); the whole matrix written out.
SCOPES = {
    "alice": ({"detox"}, CARE_TEAM),
    "bob": (set(), None),
    "carol": (set(), None),
    "dave": (set(), None),
    "sam": ({"detox", "community"}, OUTSIDE),
    "nina": (set(), None),
    "cora": ({"detox", "community", "commissioning"}, OUTSIDE),
    "eddie": (set(), None),
    "ada": ({"detox", "community", "navigators", "commissioning"}, OUTSIDE),
}
TEAMS = ("detox", "community", "navigators", "commissioning")
PAGES = ("/staff/evaluation/", "/staff/evaluation/report/", "/staff/evaluation/report.csv")


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture
def sussex(world):
    for organisation, area in ((world.harbour, "East Sussex"), (world.county, "East Sussex")):
        organisation.area = area
        organisation.save()
    world.bridge.area = "West Sussex"
    world.bridge.save()
    return world


def names(world, team_ids) -> set[str]:
    return {name for name in TEAMS if getattr(world, name).pk in team_ids}


@pytest.mark.parametrize("user", SCOPES)
def test_each_role_gets_its_teams_and_audience(sussex, user):
    teams, audience = SCOPES[user]
    scope = evaluation_scope_for(sussex.user(user))
    assert names(sussex, scope.team_ids) == teams
    assert scope.allowed == bool(teams)
    if audience:
        assert scope.audience == audience


@pytest.mark.parametrize("user", SCOPES)
@pytest.mark.parametrize("path", PAGES)
def test_the_pages_answer_by_role(sussex, client: Client, user, path):
    client.force_login(sussex.user(user))
    response = client.get(path)
    if SCOPES[user][0]:
        # The report without a cohort is the form again, saying what is missing: never a 500.
        assert response.status_code in (200, 400)
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(db, client: Client, path):
    response = client.get(path)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_commissioner_without_an_area_sees_no_teams(world, client: Client):
    # Cora's County Commissioning has no area yet, nor does anyone else.
    assert not evaluation_scope_for(world.cora).allowed
    client.force_login(world.cora)
    assert client.get("/staff/evaluation/").status_code == 403


def test_a_commissioner_does_not_see_another_area(sussex):
    hove = Organisation.objects.create(name="Hove Housing", kind=OrganisationKind.HOUSING, area="Brighton")
    hove_team = Team.objects.create(organisation=hove, name="Tenancy")
    assert hove_team.pk not in evaluation_scope_for(sussex.cora).team_ids


def test_a_manager_of_every_team_in_scope_reads_exact_figures(sussex):
    # Tess manages both of Harbour's teams one by one: all inside her care teams.
    tess = make_user("tess", sussex.detox, Role.TEAM_MANAGER)
    Membership.objects.create(user=tess, team=sussex.community, role=Role.TEAM_MANAGER)
    scope = evaluation_scope_for(tess)
    assert names(sussex, scope.team_ids) == {"detox", "community"} and scope.audience == CARE_TEAM


def test_several_roles_give_the_union_and_outside_figures_once_any_team_is_not_managed(sussex):
    # Alice also commissions for the county: her scope grows, and the figures are suppressed.
    Membership.objects.create(user=sussex.alice, team=sussex.commissioning, role=Role.COMMISSIONER)
    scope = evaluation_scope_for(sussex.alice)
    assert names(sussex, scope.team_ids) == {"detox", "community", "commissioning"}
    assert scope.audience == OUTSIDE
    # Nina, a peer worker, who also manages Detox: her peer work adds nothing.
    Membership.objects.create(user=sussex.nina, team=sussex.detox, role=Role.TEAM_MANAGER)
    scope = evaluation_scope_for(sussex.nina)
    assert names(sussex, scope.team_ids) == {"detox"} and scope.audience == CARE_TEAM


def test_an_inactive_manager_has_no_scope(sussex):
    sussex.alice.is_active = False
    sussex.alice.save()
    assert not evaluation_scope_for(sussex.alice).allowed
