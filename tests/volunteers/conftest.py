"""The care world (tests/care_world.py) with volunteer members.

Bridge Peer Network coordinates volunteers: Vera is its volunteer coordinator. Sol (AA, English
and Spanish, near Lewes, welcomes MOUD) and Mo (SMART Recovery, online) are its vetted
volunteers; Val is another organisation's coordinator (Harbour), who sees none of them.
"""

import datetime
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from recoverybridge.accounts.models import Role
from recoverybridge.care import actions as care
from recoverybridge.care.models import ConsentPurpose, IntroductionKind, Referral, ReferralTargetKind
from recoverybridge.directory.models import Fellowship
from recoverybridge.organisations.models import Team
from recoverybridge.volunteers import actions
from recoverybridge.volunteers.models import Volunteer, VolunteerStatus
from tests.care_world import World, build_world, make_user


@dataclass
class Volunteers:
    world: World
    vera: User
    val: User
    sol: Volunteer
    mo: Volunteer
    referral: Referral


def make_volunteer(
    coordinator: User, team: Team, username: str, *, active: bool = True, **fields
) -> Volunteer:
    user = make_user(username, team, Role.VOLUNTEER)
    slugs = fields.pop("fellowships", ["aa"])
    defaults = {
        "first_name": username.title(),
        "email": f"{username}@members.example.org",
        "phone": "+447700900123",
        "languages": ["en"],
        "latitude": 50.873,
        "longitude": 0.009,
        "reach_km": 20,
        "capacity": 2,
    }
    defaults.update(fields)
    volunteer = actions.register_volunteer(
        coordinator,
        user=user,
        organisation=team.organisation,
        fellowships=list(Fellowship.objects.filter(slug__in=slugs)),
        **defaults,
    )
    if active:
        actions.set_volunteer_status(coordinator, volunteer, VolunteerStatus.ACTIVE)
        volunteer.refresh_from_db()
    return volunteer


def request_introduction(world: World, *, fellowship: str = "aa", **fields) -> Referral:
    """Bob refers Pat to a fellowship and asks for contact with a member (the wizard's way)."""
    referral = care.create_referral(
        world.bob,
        world.pat,
        target_kind=ReferralTargetKind.FELLOWSHIP,
        fellowship=Fellowship.objects.get(slug=fellowship),
        introduction=fields.pop("kind", IntroductionKind.ACCOMPANY),
        now=timezone.now() - datetime.timedelta(days=1),
    )
    return referral


@pytest.fixture
def volunteers(db) -> Volunteers:
    world = build_world()
    vera = make_user("vera", world.navigators, Role.VOLUNTEER_COORDINATOR)
    val = make_user("val", world.detox, Role.VOLUNTEER_COORDINATOR)
    sol = make_volunteer(
        vera, world.navigators, "sol", languages=["en", "es"], moud_welcoming=True, gender="woman"
    )
    mo = make_volunteer(
        vera, world.navigators, "mo", fellowships=["smart"], online=True, latitude=None, longitude=None
    )
    care.give_consent(world.bob, world.pat, purpose=ConsentPurpose.MESSAGES_BY_EMAIL)
    return Volunteers(world, vera, val, sol, mo, request_introduction(world))
