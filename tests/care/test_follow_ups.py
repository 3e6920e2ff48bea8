"""Bob refers Pat on 2 March; with the default offsets his follow-ups fall due on 9 and
30 March. His work queue shows them as upcoming, due and overdue as the days pass, and a
daily reminder e-mail (sent by the real database task worker) names only Pat's reference."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core import mail
from django.core.management import call_command

from recoverybridge.care import actions, queries
from recoverybridge.care.models import FollowUp, ReferralTargetKind
from recoverybridge.care.tasks import send_follow_up_reminders
from recoverybridge.directory.models import Fellowship
from tests.care_world import build_world

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def refer(world, person=None, worker=None, now=NOW):
    return actions.create_referral(
        worker or world.bob,
        person or world.pat,
        target_kind=ReferralTargetKind.FELLOWSHIP,
        fellowship=Fellowship.objects.get(slug="smart"),
        now=now,
    )


def test_default_offsets_are_7_and_28_days(world):
    referral = refer(world)
    assert [f.due_on for f in referral.follow_ups.order_by("due_on")] == [date(2026, 3, 9), date(2026, 3, 30)]


def test_work_queue_moves_with_the_clock(world):
    refer(world)
    queue = queries.work_queue(world.bob, today=date(2026, 3, 3))
    assert (queue.overdue.count(), queue.due_today.count(), queue.upcoming.count()) == (0, 0, 1)
    queue = queries.work_queue(world.bob, today=date(2026, 3, 9))
    assert (queue.overdue.count(), queue.due_today.count(), queue.upcoming.count()) == (0, 1, 0)
    queue = queries.work_queue(world.bob, today=date(2026, 3, 10))
    assert (queue.overdue.count(), queue.due_today.count(), queue.upcoming.count()) == (1, 0, 0)
    assert queries.due_follow_ups(world.bob, date(2026, 3, 30)).count() == 2
    assert queries.overdue_follow_ups(world.bob, date(2026, 3, 30)).count() == 1


def test_completed_follow_ups_leave_the_queue(world):
    referral = refer(world)
    first = referral.follow_ups.order_by("due_on").first()
    actions.complete_follow_up(
        world.bob, first, result="attended", outcome="went to two meetings", now=NOW + timedelta(days=7)
    )
    assert queries.due_follow_ups(world.bob, date(2026, 3, 10)).count() == 0


def test_nobody_else_sees_bobs_queue_but_his_managers(world):
    refer(world)
    day = date(2026, 3, 10)
    assert queries.due_follow_ups(world.dave, day).count() == 0
    assert queries.team_follow_ups(world.alice, day).count() == 1
    assert queries.team_follow_ups(world.sam, day).count() == 1
    assert queries.team_follow_ups(world.bob, day).count() == 0  # not a manager
    assert queries.team_follow_ups(world.nina, day).count() == 0


# The worker commits and locks rows itself, so these tests really commit; serialized_rollback
# puts back the migrations' data (fellowships, vocabulary) that the flush afterwards removes.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_reminders_run_on_the_real_task_queue():
    """Enqueue on the database backend, run the worker for one batch, read the e-mail."""
    world = build_world()
    refer(world)
    refer(world, person=world.quinn, worker=world.dave, now=NOW + timedelta(days=5))  # not due yet
    mail.outbox.clear()

    send_follow_up_reminders.enqueue(today="2026-03-09")
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)

    assert sorted(m.to[0] for m in mail.outbox) == ["bob@example.org"]
    body = mail.outbox[0].body
    assert "RB-PAT00001" in body
    assert "Pat" not in body.replace("RB-PAT00001", "")  # no name, only the reference
    assert "Example" not in body
    assert "http://localhost:8000/staff/queue/" in body  # the link opens the work queue
    assert FollowUp.objects.filter(reminder_sent_at__isnull=False).count() == 1

    # Once only: the next day's run does not repeat Bob's; Dave's comes when it is due.
    mail.outbox.clear()
    send_follow_up_reminders.enqueue(today="2026-03-10")
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)
    assert mail.outbox == []
    send_follow_up_reminders.enqueue(today="2026-03-14")
    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)
    assert [m.to for m in mail.outbox] == [["dave@example.org"]]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_enqueue_daily_command_queues_the_reminders():
    from django_tasks_db.models import DBTaskResult

    call_command("enqueue_daily", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert (
        DBTaskResult.objects.filter(task_path="recoverybridge.care.tasks.send_follow_up_reminders").count()
        == 1
    )


def test_a_worker_who_left_the_team_is_not_reminded(world):
    refer(world)
    world.bob.memberships.all().delete()
    assert send_follow_up_reminders.call(today="2026-03-09") == 0
