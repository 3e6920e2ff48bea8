"""Reminders of due outcome assessments: once each, to the navigator, references only."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from recoverybridge.care import actions as care
from recoverybridge.care.models import EpisodeKind
from recoverybridge.outcomes import actions
from recoverybridge.outcomes.tasks import send_assessment_reminders
from tests.care_world import World, build_world

NOW = timezone.make_aware(datetime.datetime(2025, 1, 1, 9, 0))


@pytest.fixture
def world(db) -> World:
    return build_world()


def test_navigator_reminded_once_without_names(world, django_capture_on_commit_callbacks):
    episode = care.start_episode(
        world.bob,
        world.pat,
        kind=EpisodeKind.DETOX,
        started_on=datetime.date(2025, 1, 1),
        navigator=world.bob,
        now=NOW,
    )
    actions.generate_schedule(world.bob, episode, now=NOW)
    # The e-mail leaves once the marking commits (here: when the test's transaction would).
    with django_capture_on_commit_callbacks(execute=True):
        assert send_assessment_reminders.call("2025-01-02") == 1
    (message,) = mail.outbox
    assert message.to == [world.bob.email]
    assert "4 outcome assessment(s) due" in message.subject  # baseline x 4 instruments
    assert world.pat.reference in message.body and world.pat.given_name not in message.body
    assert send_assessment_reminders.call("2025-01-03") == 0  # once each
