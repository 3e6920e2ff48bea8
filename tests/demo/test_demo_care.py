"""`demo_care` fills a demo service with people and referrals to real directory meetings,
written through the audited actions; staff can sign in only with DEMO_STAFF_PASSWORD."""

import io

from django.contrib.auth.models import User
from django.core.management import call_command

from recoverybridge.accounts import access
from recoverybridge.accounts.models import Membership, Role
from recoverybridge.audit.models import AuditEvent
from recoverybridge.care.models import Person, Referral, ReferralOption
from recoverybridge.organisations.models import Organisation
from tests.factories import make_meeting


def run(**kw):
    out = io.StringIO()
    call_command("demo_care", stdout=out, **kw)
    return out.getvalue()


def test_demo_care_without_a_password(db, monkeypatch):
    monkeypatch.delenv("DEMO_STAFF_PASSWORD", raising=False)
    for slug in ("aa", "na", "smart", "lifering"):
        make_meeting(slug)
    output = run(people=6)
    assert "without a usable password" in output
    assert Organisation.objects.count() == 4
    assert Person.objects.count() == 6
    assert Referral.objects.filter(meeting__isnull=False).count() == 6
    # Several kinds of group presented each time, one chosen.
    assert ReferralOption.objects.filter(chosen=True).count() == 6
    assert ReferralOption.objects.count() > 6
    assert not User.objects.get(username="bob").has_usable_password()
    assert AuditEvent.objects.filter(object_type="care.person", action="create").count() == 6
    assert "already there" in run(people=6)
    assert Person.objects.count() == 6


def test_demo_care_with_a_password(db, monkeypatch):
    monkeypatch.setenv("DEMO_STAFF_PASSWORD", "demo-only-pass-phrase")
    assert "sign in with DEMO_STAFF_PASSWORD" in run(people=2)
    assert User.objects.get(username="alice").check_password("demo-only-pass-phrase")
    # Every role has someone to try it as; Eddie edits the directory.
    assert access.may(User.objects.get(username="eddie"), "directory.review")
    assert {role for (role,) in Membership.objects.values_list("role")} == set(Role.values) - {
        Role.ADMINISTRATOR
    }


def test_demo_care_has_volunteer_members_to_match(db, monkeypatch):
    from recoverybridge.volunteers import queries
    from recoverybridge.volunteers.models import Volunteer, VolunteerStatus
    from recoverybridge.workspace import landing

    monkeypatch.setenv("DEMO_STAFF_PASSWORD", "demo-only-pass-phrase")
    for slug in ("aa", "na", "smart", "lifering"):
        make_meeting(slug)
    run(people=12)
    vera, sol = User.objects.get(username="vera"), User.objects.get(username="sol")
    assert landing.start_of(vera) == "/staff/volunteers/" and landing.start_of(sol) == "/volunteering/"
    assert sol.check_password("demo-only-pass-phrase")
    coordinated = list(queries.coordinated(vera))
    assert len(coordinated) == 6
    assert Volunteer.objects.filter(status=VolunteerStatus.PENDING).count() == 1
    approaches = {a for v in Volunteer.objects.filter(status=VolunteerStatus.ACTIVE) for a in v.approaches}
    assert len(approaches) >= 4
    # Whoever asked for contact with a member can be reached by text, so one can be arranged.
    from recoverybridge.care.messages import channel_states
    from recoverybridge.care.models import IntroductionRequest

    bob = User.objects.get(username="bob")
    wanted = list(IntroductionRequest.objects.select_related("referral__person", "referral__team"))
    assert wanted and all(channel_states(w.referral.person)["sms"].usable for w in wanted)
    # Bob has someone to arrange an introduction for, with volunteers who fit.
    assert any(queries.suggestions(bob, w) for w in wanted if w.referral.team.name == "Detox")
