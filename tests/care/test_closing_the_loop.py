"""The person closes the loop: Bob sends Pat the meetings Pat chose by text, and after the first of
them Pat gets a private link to say whether they went; Pat's answer completes the referral's next
follow-up (reported by the person) and the referral moves on. Only under Pat's consent for the
channel; every refusal audited; a used link is gone."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
import sms

from recoverybridge.audit.models import AuditAction, AuditEvent
from recoverybridge.care import actions
from recoverybridge.care.errors import InvalidTransition
from recoverybridge.care.models import (
    AttendanceAsk,
    ConsentPurpose,
    FollowUpResult,
    ReferralTargetKind,
    ReportedBy,
    TaskStatus,
)
from recoverybridge.directory.models import Fellowship
from recoverybridge.messaging.models import Channel
from recoverybridge.outcomes import actions as outcomes
from recoverybridge.outcomes.models import Invitation, InvitationKind
from tests.factories import make_meeting

# A Wednesday noon in London: the chosen meetings are on Monday 7 p.m. and Thursday 7 p.m.
NOW = datetime.datetime(2026, 12, 2, 12, 0, tzinfo=datetime.UTC)


@pytest.fixture
def referral(world):
    monday = make_meeting("aa", name="Harbour Hall AA", weekday=1)
    thursday = make_meeting("aa", name="Quayside AA", weekday=4)
    other = make_meeting("aa", name="Not chosen AA", weekday=2)
    return actions.create_referral(
        world.bob,
        world.pat,
        target_kind=ReferralTargetKind.FELLOWSHIP,
        fellowship=Fellowship.objects.get(slug="aa"),
        presented=[monday, thursday, other],
        chosen=[monday, thursday],
        now=NOW,
    )


def agree_to_texts(world):
    before = NOW - datetime.timedelta(days=1)
    actions.give_consent(
        world.bob, world.pat, purpose=ConsentPurpose.MESSAGES_BY_TEXT, given_at=before, now=before
    )


def link_in(text: str) -> str:
    return re.search(r"/q/([\w-]+)/", text).group(1)


def test_the_chosen_meetings_go_by_text_and_the_ask_waits_for_the_first(
    world, referral, django_capture_on_commit_callbacks
):
    agree_to_texts(world)
    with django_capture_on_commit_callbacks(execute=True):
        sent = actions.send_chosen_meetings(world.bob, referral, channel=Channel.SMS, now=NOW)
    assert [s.refusal for s in sent] == ["", ""]
    bodies = sorted(message.body for message in sms.outbox)
    assert len(bodies) == 2 and "Harbour Hall AA" in bodies[0] and "Quayside AA" in bodies[1]
    assert not any("Not chosen" in body or "Pat" in body for body in bodies)
    ask = AttendanceAsk.objects.get(referral=referral)
    # The first chosen meeting: Thursday 3 December 2026, 7 p.m. in the meeting's zone.
    thursday = datetime.datetime(
        2026,
        12,
        3,
        19,
        0,
        tzinfo=ZoneInfo(referral.options.get(meeting__name="Quayside AA").meeting.timezone),
    )
    assert ask.due_at == thursday + actions.ASK_AFTER_MEETING
    assert (ask.channel, ask.requested_by, ask.asked_at) == (Channel.SMS, world.bob, None)


def test_without_consent_nothing_is_sent_nor_asked_and_the_refusal_is_audited(world, referral):
    sent = actions.send_chosen_meetings(world.bob, referral, channel=Channel.SMS, now=NOW)
    assert {s.message for s in sent} == {None} and sms.outbox == []
    assert not AttendanceAsk.objects.exists()
    assert AuditEvent.objects.filter(action=AuditAction.DENIED, person_id=world.pat.pk).count() == 2


def test_a_closed_referral_sends_nothing(world, referral):
    agree_to_texts(world)
    actions.set_referral_status(world.bob, referral, TaskStatus.CANCELLED, reason="Moved away")
    with pytest.raises(InvalidTransition):
        actions.send_chosen_meetings(world.bob, referral, channel=Channel.SMS, now=NOW)


def test_the_link_goes_once_after_the_meeting_and_the_answer_closes_the_loop(
    world, referral, client, django_capture_on_commit_callbacks
):
    agree_to_texts(world)
    with django_capture_on_commit_callbacks(execute=True):
        actions.send_chosen_meetings(world.bob, referral, channel=Channel.SMS, now=NOW)
    sms.outbox = []
    ask = AttendanceAsk.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        assert outcomes.send_attendance_links(now=ask.due_at - datetime.timedelta(minutes=1)) == 0
        assert outcomes.send_attendance_links(now=ask.due_at) == 1
        assert outcomes.send_attendance_links(now=ask.due_at + datetime.timedelta(days=1)) == 0
    [text] = sms.outbox
    assert "Did you get to the meeting?" in text.body and "Pat" not in text.body
    invitation = Invitation.objects.get(kind=InvitationKind.ATTENDANCE)
    assert invitation.referral == referral
    token = link_in(text.body)

    page = client.get(f"/q/{token}/")
    assert page.status_code == 200 and "Did you get to the meeting?" in page.content.decode()
    no_reason = client.post(f"/q/{token}/", {"result": FollowUpResult.BARRIER})
    assert no_reason.status_code == 400
    assert "Say what got in the way" in no_reason.content.decode()
    assert not referral.follow_ups.filter(completed_at__isnull=False).exists()

    answered = client.post(f"/q/{token}/", {"result": FollowUpResult.ATTENDED})
    assert answered.status_code == 302
    done = referral.follow_ups.get(completed_at__isnull=False)
    assert (done.result, done.reported_by) == (FollowUpResult.ATTENDED, ReportedBy.PERSON)
    assert done == referral.follow_ups.order_by("due_on").first()  # the next one that was due
    referral.refresh_from_db()
    assert referral.status == TaskStatus.IN_PROGRESS
    assert client.get(f"/q/{token}/").status_code == 410  # single use


def test_an_answer_of_what_got_in_the_way_is_kept_as_barriers(world, referral):
    agree_to_texts(world)
    actions.send_chosen_meetings(world.bob, referral, channel=Channel.SMS, now=NOW)
    _invitation, token = outcomes.create_invitation(
        world.bob, world.pat, kind=InvitationKind.ATTENDANCE, referral=referral, now=NOW
    )
    outcomes.answer_attendance(
        token, result=FollowUpResult.BARRIER, barriers=["transport", "childcare"], now=NOW
    )
    done = referral.follow_ups.get(completed_at__isnull=False)
    assert done.result == FollowUpResult.BARRIER
    assert sorted(done.barriers.values_list("code", flat=True)) == ["childcare", "transport"]


def test_consent_withdrawn_before_the_ask_sends_no_link_and_closes_it(world, referral):
    agree_to_texts(world)
    actions.send_chosen_meetings(world.bob, referral, channel=Channel.SMS, now=NOW)
    consent = world.pat.consents.get(purpose=ConsentPurpose.MESSAGES_BY_TEXT)
    actions.revoke_consent(world.bob, consent, now=NOW)
    sms.outbox = []
    ask = AttendanceAsk.objects.get()
    assert outcomes.send_attendance_links(now=ask.due_at) == 0
    ask.refresh_from_db()
    assert ask.asked_at == ask.due_at and ask.refusal
    assert sms.outbox == []
    assert Invitation.objects.get(kind=InvitationKind.ATTENDANCE).revoked_at is not None
