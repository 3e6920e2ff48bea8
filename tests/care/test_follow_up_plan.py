"""Follow-up that the worker plans: dates chosen in the wizard (a week and four weeks by default),
added, moved and removed on the referral later; each follow-up records how it went (went / not
yet / what got in the way...) and the referral's Task status and milestone follow (care.attendance)."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from recoverybridge.audit.models import AuditAction, AuditEvent
from recoverybridge.care import actions, queries
from recoverybridge.care.attendance import Following, follow
from recoverybridge.care.errors import InvalidTransition
from recoverybridge.care.models import (
    ConsentPurpose,
    FollowUp,
    FollowUpResult,
    MutualAidMilestone,
    ReferralTargetKind,
    ReportedBy,
    TaskStatus,
)
from recoverybridge.directory.models import Fellowship
from recoverybridge.organisations.models import Organisation, OrganisationKind
from tests.care.wizard_steps import answer, choose, start, step_url
from tests.factories import make_meeting

R, S, M = FollowUpResult, TaskStatus, MutualAidMilestone
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


# ---------------------------------------------------------------- the state table


@pytest.mark.parametrize(
    ("status", "milestone", "result", "mutual_aid", "performs", "expected"),
    [
        (S.REQUESTED, "", R.ATTENDED, True, True, Following((S.IN_PROGRESS,), M.ATTENDED_FIRST)),
        (
            S.REQUESTED,
            "",
            R.ATTENDING_REGULARLY,
            True,
            True,
            Following((S.IN_PROGRESS, S.COMPLETED), M.ATTENDING_REGULARLY),
        ),
        (
            S.IN_PROGRESS,
            M.ATTENDED_FIRST,
            R.ATTENDING_REGULARLY,
            True,
            True,
            Following((S.COMPLETED,), M.ATTENDING_REGULARLY),
        ),
        (S.REQUESTED, "", R.NOT_YET, True, True, Following((), None)),
        (S.REQUESTED, "", R.BARRIER, True, True, Following((), None)),
        (S.REQUESTED, "", R.NOT_REACHED, True, True, Following((), None)),
        (
            S.IN_PROGRESS,
            M.ATTENDED_FIRST,
            R.STOPPED,
            True,
            True,
            Following((S.ON_HOLD,), M.TRIED_AND_STOPPED),
        ),
        (S.ON_HOLD, M.TRIED_AND_STOPPED, R.ATTENDED, True, True, Following((S.IN_PROGRESS,), None)),
        (
            S.REQUESTED,
            "",
            R.CHOSE_ANOTHER,
            True,
            True,
            Following((S.IN_PROGRESS, S.COMPLETED), M.CHOSE_ANOTHER),
        ),
        # A milestone never goes back; a finished referral stays finished.
        (S.COMPLETED, M.ATTENDING_REGULARLY, R.ATTENDED, True, True, Following((), None)),
        (S.CANCELLED, "", R.ATTENDED, True, True, Following((), M.ATTENDED_FIRST)),
        (S.ENTERED_IN_ERROR, "", R.ATTENDED, True, True, Following((), None)),
        # Another organisation's referral: its status is theirs; the milestone is what the person said.
        (S.REQUESTED, "", R.ATTENDED, True, False, Following((), M.ATTENDED_FIRST)),
        # Treatment or housing: no milestones, and the status is the service's.
        (S.REQUESTED, "", R.ATTENDED, False, False, Following((), None)),
        (S.ACCEPTED, "", R.ATTENDED, False, True, Following((S.IN_PROGRESS,), None)),
    ],
)
def test_how_the_referral_follows(status, milestone, result, mutual_aid, performs, expected):
    assert follow(status, milestone, result, mutual_aid=mutual_aid, performs=performs) == expected


# ---------------------------------------------------------------- recording follow-ups


@pytest.fixture
def to_meeting(world):
    meeting = make_meeting("smart", name="Lewes SMART")
    return actions.create_referral(
        world.bob,
        world.pat,
        target_kind=ReferralTargetKind.MEETING,
        meeting=meeting,
        chosen=[meeting],
        now=NOW,
    )


def first_open(referral):
    return referral.follow_ups.filter(completed_at__isnull=True).order_by("due_on").first()


def test_went_then_going_regularly(world, to_meeting):
    actions.complete_follow_up(
        world.bob, first_open(to_meeting), result=R.ATTENDED, now=NOW + timedelta(days=7)
    )
    to_meeting.refresh_from_db()
    assert (to_meeting.status, to_meeting.business_status) == (S.IN_PROGRESS, M.ATTENDED_FIRST)
    assert to_meeting.status_reason == "Went"
    actions.complete_follow_up(
        world.bob, first_open(to_meeting), result=R.ATTENDING_REGULARLY, now=NOW + timedelta(days=28)
    )
    to_meeting.refresh_from_db()
    assert (to_meeting.status, to_meeting.business_status) == (S.COMPLETED, M.ATTENDING_REGULARLY)
    changes = AuditEvent.objects.filter(
        object_type="care.referral", action=AuditAction.UPDATE, actor=world.bob
    )
    assert changes.count() == 4  # in progress, attended; completed, attending regularly


def test_not_yet_keeps_it_requested_with_what_got_in_the_way(world, to_meeting):
    follow_up = first_open(to_meeting)
    actions.complete_follow_up(
        world.bob,
        follow_up,
        result=R.NOT_YET,
        barriers=["transport", "unwell"],
        outcome="Bus strike",
        now=NOW,
    )
    to_meeting.refresh_from_db()
    assert (to_meeting.status, to_meeting.business_status) == (S.REQUESTED, "")
    follow_up.refresh_from_db()
    assert (follow_up.result, follow_up.reported_by) == (R.NOT_YET, ReportedBy.WORKER)
    assert sorted(follow_up.barriers.values_list("code", flat=True)) == ["transport", "unwell"]
    assert queries.barriers_of(to_meeting) == {follow_up.pk: ["transport", "unwell"]}


def test_something_got_in_the_way_needs_to_say_what(world, to_meeting):
    with pytest.raises(ValueError):
        actions.complete_follow_up(world.bob, first_open(to_meeting), result=R.BARRIER, now=NOW)
    assert not FollowUp.objects.filter(completed_at__isnull=False).exists()


def test_barriers_are_only_kept_where_they_belong(world, to_meeting):
    follow_up = first_open(to_meeting)
    actions.complete_follow_up(world.bob, follow_up, result=R.ATTENDED, barriers=["transport"], now=NOW)
    assert not follow_up.barriers.exists()


def test_recording_twice_changes_nothing(world, to_meeting):
    follow_up = first_open(to_meeting)
    actions.complete_follow_up(world.bob, follow_up, result=R.NOT_YET, now=NOW)
    actions.complete_follow_up(world.bob, follow_up, result=R.ATTENDING_REGULARLY, now=NOW)
    follow_up.refresh_from_db()
    to_meeting.refresh_from_db()
    assert follow_up.result == R.NOT_YET and to_meeting.status == S.REQUESTED


def test_the_person_answering_through_their_link_moves_it_the_same_way(world, to_meeting):
    """The place left for "the person closes the loop": no worker signed in, reported by the person."""
    follow_up = actions.record_follow_up_result(
        first_open(to_meeting), result=R.ATTENDED, reported_by=ReportedBy.PERSON, user=None, now=NOW
    )
    to_meeting.refresh_from_db()
    assert (to_meeting.status, to_meeting.business_status) == (S.IN_PROGRESS, M.ATTENDED_FIRST)
    assert follow_up.reported_by == ReportedBy.PERSON
    event = AuditEvent.objects.get(object_type="care.followup", action=AuditAction.UPDATE)
    assert event.actor is None and event.detail == "reported by person"


def test_a_referral_to_a_peer_organisation_gets_its_milestone_but_keeps_its_status(world):
    actions.give_consent(
        world.bob, world.pat, purpose=ConsentPurpose.REFERRAL, recipient=world.bridge, now=NOW
    )
    referral = actions.create_referral(
        world.bob,
        world.pat,
        target_kind=ReferralTargetKind.OTHER_SERVICE,
        target_organisation=world.bridge,
        now=NOW,
    )
    actions.complete_follow_up(world.bob, first_open(referral), result=R.ATTENDED, now=NOW)
    referral.refresh_from_db()
    assert (referral.status, referral.business_status) == (S.REQUESTED, M.ATTENDED_FIRST)


def test_a_referral_to_housing_records_the_follow_up_only(world):
    housing = Organisation.objects.create(name="Eastside Housing", kind=OrganisationKind.HOUSING)
    actions.give_consent(world.bob, world.pat, purpose=ConsentPurpose.REFERRAL, recipient=housing, now=NOW)
    referral = actions.create_referral(
        world.bob, world.pat, target_kind=ReferralTargetKind.HOUSING, target_organisation=housing, now=NOW
    )
    actions.complete_follow_up(world.bob, first_open(referral), result=R.ATTENDED, now=NOW)
    referral.refresh_from_db()
    assert (referral.status, referral.business_status) == (S.REQUESTED, "")
    assert referral.follow_ups.filter(result=R.ATTENDED).count() == 1


# ---------------------------------------------------------------- planning


def test_the_dates_planned_in_the_wizard_become_the_follow_ups(world, client):
    meeting = make_meeting(
        "smart",
        name="Lewes SMART",
        location=None,
        attendance_mode="online",
        conference_url="https://x.example.org",
    )
    world.pat.latitude = world.pat.longitude = None
    world.pat.save()
    client.force_login(world.bob)
    draft, _options = start(client, world.pat)
    choose(client, draft, [meeting.pk], [meeting.pk])
    answer(client, draft, "target", {"target_kind": "meeting", "meeting": meeting.pk})
    today = timezone.localdate()
    page = client.get(step_url(draft, "follow-up")).content.decode()
    for days in (7, 28):
        assert f'value="{(today + timedelta(days=days)).isoformat()}"' in page  # suggested
    planned = [(today + timedelta(days=d)).isoformat() for d in (3, 10)]
    # Adding one keeps what was typed and suggests a week after the last.
    added = answer(client, draft, "follow-up", {"follow_up": planned}, go="add")
    assert added["Location"] == step_url(draft, "follow-up")
    draft.refresh_from_db()
    assert draft.answers["follow_ups"] == [*planned, (today + timedelta(days=17)).isoformat()]
    # Removing one.
    answer(client, draft, "follow-up", {"follow_up": draft.answers["follow_ups"]}, go="remove-2")
    draft.refresh_from_db()
    assert draft.answers["follow_ups"] == planned
    # A date in the past, or not a date: refused where it is, nothing typed lost.
    bad = answer(client, draft, "follow-up", {"follow_up": [planned[0], "2020-01-01", "soon"]})
    assert bad.status_code == 400
    body = bad.content.decode()
    assert body.count('aria-invalid="true"') == 2 and 'value="soon"' in body
    assert "Choose today or a later day." in body and "Enter a date, such as 2026-03-14." in body
    answer(client, draft, "follow-up", {"follow_up": planned})
    assert client.post(step_url(draft, "review")).status_code == 302
    referral = world.pat.referrals.get()
    assert [f.due_on.isoformat() for f in referral.follow_ups.order_by("due_on")] == planned
    assert {f.assigned_to for f in referral.follow_ups.all()} == {world.bob}


def test_enter_in_a_date_goes_on_rather_than_removing_one(world, client):
    """The first submit button of the follow-up step is "Next", so pressing Enter in a date field
    never removes a follow-up (the questionnaire's Enter-presses-Back trap)."""
    client.force_login(world.bob)
    draft = actions.start_referral_draft(world.bob, world.pat)
    body = client.get(step_url(draft, "follow-up")).content.decode()
    first_button = body.index("<button", body.index('action="' + step_url(draft, "follow-up")))
    assert 'name="go" value="next"' in body[first_button : body.index(">", first_button)]


def test_planning_moving_and_removing_on_the_referral(world, client, to_meeting):
    client.force_login(world.bob)
    today = timezone.localdate()
    soon = today + timedelta(days=2)
    assert (
        client.post(
            f"/staff/referrals/{to_meeting.pk}/follow-ups/", {"plan-due_on": soon.isoformat()}
        ).status_code
        == 302
    )
    assert to_meeting.follow_ups.filter(due_on=soon).exists()
    past = client.post(f"/staff/referrals/{to_meeting.pk}/follow-ups/", {"plan-due_on": "2020-01-01"})
    assert past.status_code == 400 and "Choose today or a later day." in past.content.decode()
    follow_up = to_meeting.follow_ups.get(due_on=soon)
    FollowUp.objects.filter(pk=follow_up.pk).update(reminder_sent_at=timezone.now())
    later = today + timedelta(days=5)
    moved = client.post(
        f"/staff/follow-ups/{follow_up.pk}/move/", {f"move-{follow_up.pk}-due_on": later.isoformat()}
    )
    assert moved.status_code == 302
    follow_up.refresh_from_db()
    assert follow_up.due_on == later and follow_up.reminder_sent_at is None  # reminded again on the new day
    bad_move = client.post(
        f"/staff/follow-ups/{follow_up.pk}/move/", {f"move-{follow_up.pk}-due_on": "never"}
    )
    assert bad_move.status_code == 400 and "Enter a valid date." in bad_move.content.decode()
    assert client.post(f"/staff/follow-ups/{follow_up.pk}/remove/").status_code == 302
    assert not FollowUp.objects.filter(pk=follow_up.pk).exists()
    assert AuditEvent.objects.filter(object_type="care.followup", action=AuditAction.DELETE).count() == 1


def test_a_done_follow_up_is_neither_moved_nor_removed(world, to_meeting):
    follow_up = first_open(to_meeting)
    actions.complete_follow_up(world.bob, follow_up, result=R.NOT_YET, now=NOW)
    with pytest.raises(InvalidTransition):
        actions.move_follow_up(world.bob, follow_up, due_on=timezone.localdate() + timedelta(days=1))
    with pytest.raises(InvalidTransition):
        actions.remove_follow_up(world.bob, follow_up)


def test_follow_ups_cannot_be_planned_in_the_past_or_on_a_draft(world):
    smart = Fellowship.objects.get(slug="smart")
    with pytest.raises(ValueError):
        actions.create_referral(
            world.bob,
            world.pat,
            target_kind="fellowship",
            fellowship=smart,
            follow_up_dates=[date(2020, 1, 1)],
        )
    draft = actions.create_referral(
        world.bob, world.pat, target_kind="fellowship", fellowship=smart, submit=False
    )
    with pytest.raises(InvalidTransition):
        actions.plan_follow_up(world.bob, draft, due_on=timezone.localdate())


def test_the_work_queue_shows_what_was_planned(world, client):
    smart = Fellowship.objects.get(slug="smart")
    today = timezone.localdate()
    actions.create_referral(
        world.bob,
        world.pat,
        target_kind="fellowship",
        fellowship=smart,
        follow_up_dates=[today + timedelta(days=2), today + timedelta(days=40)],
        introduction="meet",
    )
    client.force_login(world.bob)
    body = client.get("/staff/queue/").content.decode()
    coming = body[body.index("Coming up this week") : body.index("Planned later")]
    later = body[body.index("Planned later") : body.index("Contact with a member to arrange")]
    assert "Pat Example" in coming and "SMART Recovery" in coming
    assert "Pat Example" in later
    introductions = body[
        body.index("Contact with a member to arrange") : body.index("Referrals not sent yet")
    ]
    assert "Meet a member before the first meeting" in introductions
    client.force_login(world.dave)  # another team's worker sees none of it
    body = client.get("/staff/queue/").content.decode()
    assert "Pat Example" not in body


def test_recording_the_introduction_fulfils_the_request(world):
    smart = Fellowship.objects.get(slug="smart")
    referral = actions.create_referral(
        world.bob, world.pat, target_kind="fellowship", fellowship=smart, introduction="call"
    )
    assert queries.open_introductions(world.bob)[0].referral == referral
    actions.record_assisted_step(world.bob, referral, kind="introduced", on=timezone.localdate())
    assert queries.open_introductions(world.bob) == []
    referral.refresh_from_db()
    assert type(referral.introduction).objects.get(referral=referral).status == "introduced"
