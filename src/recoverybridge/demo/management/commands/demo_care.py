"""Demo care data: organisations, teams, staff, people, consents, referrals to real
directory meetings, episodes and contacts. Safe to run again (does nothing the second time).

Staff passwords come only from DEMO_STAFF_PASSWORD; without it the staff users cannot sign in.
Everything is written through care.actions, so the demo has a real audit trail.
"""

import os
import random
from argparse import ArgumentParser
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from recoverybridge.accounts.models import Membership, Role
from recoverybridge.care import actions
from recoverybridge.care.attendance import WITH_BARRIERS
from recoverybridge.care.models import (
    FACILITATION_BARRIERS,
    AttendancePreference,
    ConsentPurpose,
    ContactKind,
    EpisodeEnd,
    EpisodeKind,
    FollowUpResult,
    IntroductionKind,
    Person,
    ReferralTargetKind,
    SpiritualPreference,
)
from recoverybridge.directory.models import Fellowship, Meeting, MeetingStatus
from recoverybridge.organisations.models import Organisation, OrganisationKind, Team
from recoverybridge.volunteers import actions as volunteer_actions
from recoverybridge.volunteers.models import VolunteerStatus

MARKER = "Harbour Recovery (demo)"
# Volunteer members coordinated by Bridge (username, fellowships, languages, gender, MOUD-welcoming,
# online, offset from DEMO_PLACE in degrees, capacity, active): several approaches, one pending.
VOLUNTEERS = [
    ("sol", ["aa"], ["en", "es"], "woman", True, False, (0.01, 0.01), 2, True),
    ("mo", ["smart"], ["en"], "man", True, True, (-0.02, 0.03), 3, True),
    ("ines", ["na", "ca"], ["es", "en"], "woman", False, False, (0.03, -0.02), 1, True),
    ("kai", ["recovery-dharma"], ["en"], "another", True, True, (0.0, -0.04), 2, True),
    ("lou", ["mars"], ["en"], "woman", True, False, (-0.03, -0.01), 2, True),
    ("ray", ["celebrate-recovery"], ["en"], "man", False, False, (0.05, 0.05), 1, False),
]
# (organisation, kind, [(team, [(username, role)])])
STRUCTURE = [
    (MARKER, OrganisationKind.TREATMENT, [
        ("Detox", [("alice", Role.TEAM_MANAGER), ("bob", Role.PEER_WORKER), ("carol", Role.CLINICIAN)]),
        ("Community", [("dave", Role.PEER_WORKER), ("sam", Role.SERVICE_MANAGER)]),
    ]),
    ("Bridge Peer Network (demo)", OrganisationKind.PEER_RECOVERY, [
        ("Navigators", [("nina", Role.PEER_WORKER), ("eddie", Role.DIRECTORY_EDITOR)]),
        ("Recovery contacts", [("vera", Role.VOLUNTEER_COORDINATOR)] + [(name, Role.VOLUNTEER) for name, *_ in VOLUNTEERS]),
    ]),
    ("Eastside Housing (demo)", OrganisationKind.HOUSING, [("Tenancy support", [("hugo", Role.CLINICIAN)])]),
    ("County Commissioning (demo)", OrganisationKind.COMMISSIONER, [("Commissioning", [("cora", Role.COMMISSIONER)])]),
]  # fmt: skip
# Where the demo service works: its zone, and the middle of its people's homes.
DEMO_ZONE = "Europe/London"
DEMO_PLACE = (51.5074, -0.1278)
# How demo follow-ups went: mostly went, some not yet or held up by something.
DEMO_RESULTS = [
    FollowUpResult.ATTENDED,
    FollowUpResult.ATTENDED,
    FollowUpResult.ATTENDING_REGULARLY,
    FollowUpResult.NOT_YET,
    FollowUpResult.BARRIER,
]
GIVEN = ["Sam", "Alex", "Jordan", "Riley", "Casey", "Morgan", "Jamie", "Taylor", "Robin", "Kim", "Lee", "Jo"]
FAMILY = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans", "Thomas", "Roberts", "Walker"]


class Command(BaseCommand):
    help = "Create demo organisations, staff, people, consents, referrals, episodes and contacts (once)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--people", type=int, default=40)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args: Any, **options: Any) -> None:
        if Organisation.objects.filter(name=MARKER).exists():
            self.stdout.write("Demo care data already there: left as it is.")
            return
        password = os.environ.get("DEMO_STAFF_PASSWORD")
        with transaction.atomic():
            staff, teams, orgs = self.structure(password)
            self.volunteers(staff, orgs["Bridge Peer Network (demo)"])
            self.people(options["people"], random.Random(options["seed"]), staff, teams, orgs)
        if password:
            self.stdout.write(f"Demo staff ({', '.join(sorted(staff))}) sign in with DEMO_STAFF_PASSWORD.")
        else:
            self.stdout.write(
                "No DEMO_STAFF_PASSWORD set: demo staff users were created without a usable password."
            )

    def structure(
        self, password: str | None
    ) -> tuple[dict[str, User], dict[str, Team], dict[str, Organisation]]:
        staff: dict[str, User] = {}
        teams: dict[str, Team] = {}
        orgs: dict[str, Organisation] = {}
        for org_name, kind, org_teams in STRUCTURE:
            org = Organisation.objects.create(
                name=org_name, kind=kind, area="Demo County", time_zone=DEMO_ZONE
            )
            orgs[org_name] = org
            for team_name, members in org_teams:
                team = Team.objects.create(organisation=org, name=team_name, area="Demo County")
                teams[team_name] = team
                for username, role in members:
                    user = User.objects.filter(username=username).first() or User(
                        username=username, email=f"{username}@demo.invalid"
                    )
                    if password:
                        user.set_password(password)
                    else:
                        user.set_unusable_password()
                    user.save()
                    Membership.objects.get_or_create(user=user, team=team, role=role)
                    staff[username] = user
        return staff, teams, orgs

    def volunteers(self, staff: dict[str, User], bridge: Organisation) -> None:
        """Bridge's volunteer members, offered and vetted by Vera (one still waiting to be vetted)."""
        vera = staff["vera"]
        for index, (
            name,
            slugs,
            languages,
            gender,
            moud,
            online,
            (dlat, dlon),
            capacity,
            active,
        ) in enumerate(VOLUNTEERS):
            volunteer = volunteer_actions.register_volunteer(
                vera,
                user=staff[name],
                organisation=bridge,
                fellowships=list(Fellowship.objects.filter(slug__in=slugs)),
                first_name=name.title(),
                email=f"{name}@demo.invalid",
                phone=f"+447911200{index:03d}",
                languages=languages,
                gender=gender,
                moud_welcoming=moud,
                online=online,
                latitude=DEMO_PLACE[0] + dlat,
                longitude=DEMO_PLACE[1] + dlon,
                area="Demo County",
                reach_km=15,
                capacity=capacity,
                availability=["evening", "weekend"],
            )
            if active:
                volunteer_actions.set_volunteer_status(vera, volunteer, VolunteerStatus.ACTIVE)
        self.stdout.write(f"Created {len(VOLUNTEERS)} demo volunteer members, coordinated by vera.")

    def people(
        self,
        count: int,
        rng: random.Random,
        staff: dict[str, User],
        teams: dict[str, Team],
        orgs: dict[str, Organisation],
    ) -> None:
        meetings = list(
            Meeting.objects.filter(status=MeetingStatus.ACTIVE)
            .select_related("fellowship")
            .order_by("pk")[:400]
        )
        bridge = orgs["Bridge Peer Network (demo)"]
        now = timezone.now()
        workers = {"Detox": [staff["bob"], staff["carol"]], "Community": [staff["dave"]]}
        referrals = 0
        for i in range(count):
            team_name = "Detox" if i % 3 else "Community"
            worker = rng.choice(workers[team_name])
            person = actions.create_person(
                worker,
                teams[team_name],
                given_name=rng.choice(GIVEN),
                family_name=rng.choice(FAMILY),
                date_of_birth=date(1960 + rng.randrange(45), rng.randrange(1, 13), rng.randrange(1, 29)),
                preferred_language=rng.choice(["en", "en", "en", "es"]),
                # Around London, where the generated directory has a busy cluster of meetings.
                postcode="London",
                latitude=DEMO_PLACE[0] + rng.uniform(-0.05, 0.05),
                longitude=DEMO_PLACE[1] + rng.uniform(-0.08, 0.08),
                spiritual_preference=rng.choice(SpiritualPreference.values),
                on_moud=rng.random() < 0.3,
                attendance_preference=rng.choice(AttendancePreference.values),
                navigator=worker,
            )
            start = now - timedelta(days=rng.randrange(20, 120))
            actions.give_consent(
                worker, person, purpose=ConsentPurpose.CARE_COORDINATION, given_at=start, now=start
            )
            detox = actions.start_episode(
                worker, person, kind=EpisodeKind.DETOX, started_on=start.date(), navigator=worker, now=start
            )
            discharged = start + timedelta(days=rng.randrange(5, 14))
            actions.end_episode(
                worker, detox, ended_on=discharged.date(), end_reason=EpisodeEnd.COMPLETED, now=discharged
            )
            if rng.random() < 0.6:
                treatment_start = discharged + timedelta(days=rng.randrange(1, 25))
                if treatment_start < now:
                    actions.start_episode(
                        worker,
                        person,
                        kind=EpisodeKind.COMMUNITY_TREATMENT,
                        started_on=treatment_start.date(),
                        now=treatment_start,
                    )
            for _ in range(rng.randrange(1, 4)):
                at = discharged + timedelta(days=rng.randrange(0, 14), hours=rng.randrange(9, 17))
                if at < now:
                    actions.log_contact(
                        worker,
                        person,
                        kind=rng.choice(ContactKind.values),
                        at=at,
                        duration_minutes=rng.choice([10, 20, 30, 60]),
                        note="Talked through the options and next steps.",
                        now=at,
                    )
            referrals += self.refer(rng, worker, person, meetings, bridge, discharged, now)
        self.stdout.write(f"Created {count} demo people with {referrals} referrals.")

    def refer(
        self,
        rng: random.Random,
        worker: User,
        person: Person,
        meetings: list[Meeting],
        bridge: Organisation,
        when: datetime,
        now: datetime,
    ) -> int:
        made = 0
        if meetings:
            # Information parity: options from several fellowships, the person picks one.
            by_fellowship: dict[int, Meeting] = {}
            for meeting in rng.sample(meetings, min(len(meetings), 30)):
                by_fellowship.setdefault(meeting.fellowship_id, meeting)
            presented = list(by_fellowship.values())[:6]
            chosen = rng.choice(presented)
            referral = actions.create_referral(
                worker,
                person,
                target_kind=ReferralTargetKind.MEETING,
                presented=presented,
                chosen=[chosen],
                barriers=rng.sample(FACILITATION_BARRIERS, rng.randrange(0, 3)),
                introduction=rng.choice(["", "", IntroductionKind.ACCOMPANY]),
                now=when,
            )
            made += 1
            if hasattr(referral, "introduction"):
                # Someone who asked for contact with a member can be reached by text (var/sms/ in
                # the demo), so that an introduction can be arranged for them.
                actions.update_person(worker, person, phone=f"+447911{100000 + person.pk:06d}", now=when)
                actions.give_consent(
                    worker, person, purpose=ConsentPurpose.MESSAGES_BY_TEXT, given_at=when, now=when
                )
            # The follow-ups that have come round, done by phone; the referral follows what they found.
            for follow_up in referral.follow_ups.filter(due_on__lt=now.date()).order_by("due_on"):
                if rng.random() < 0.8:
                    result = rng.choice(DEMO_RESULTS)
                    actions.complete_follow_up(
                        worker,
                        follow_up,
                        result=result,
                        barriers=[rng.choice(FACILITATION_BARRIERS)] if result in WITH_BARRIERS else [],
                        outcome="Checked in by phone.",
                        now=datetime.combine(follow_up.due_on, datetime.min.time(), tzinfo=when.tzinfo),
                    )
        if rng.random() < 0.4:
            actions.give_consent(
                worker, person, purpose=ConsentPurpose.REFERRAL, recipient=bridge, given_at=when, now=when
            )
            actions.create_referral(
                worker,
                person,
                target_kind=ReferralTargetKind.OTHER_SERVICE,
                target_organisation=bridge,
                reason="Peer support after detox.",
                now=when,
            )
            made += 1
        return made
