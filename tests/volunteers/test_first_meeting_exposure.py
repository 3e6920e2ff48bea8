"""The loop: a first meeting together, recorded by the volunteer or the worker, is the referral's
milestone and its assisted step "introduced to a member", which evaluation reads as peer
bridging (the exposure) and as the FAMA level "introduced" (the dose)."""

import datetime

from django.utils import timezone

from recoverybridge.care import actions as care
from recoverybridge.care.models import ConsentPurpose, EpisodeKind
from recoverybridge.evaluation.cohorts import CohortSpec, build_cohort
from recoverybridge.volunteers import actions
from tests.volunteers.test_introductions import connected


def pat_row(cohort, episode_id):
    return cohort.frame.set_index("episode_id").loc[episode_id]


def test_a_first_meeting_together_is_peer_bridging_at_the_introduced_level(
    volunteers, django_capture_on_commit_callbacks
):
    world = volunteers.world
    care.give_consent(world.bob, world.pat, purpose=ConsentPurpose.EVALUATION)
    episode = care.start_episode(
        world.bob,
        world.pat,
        kind=EpisodeKind.DETOX,
        started_on=timezone.localdate() - datetime.timedelta(days=5),
    )
    spec = CohortSpec(episode_kinds=(EpisodeKind.DETOX,))
    introduction, _token = connected(volunteers, django_capture_on_commit_callbacks)
    before = pat_row(build_cohort(spec), episode.pk)
    assert before["peer_bridged"] == 0 and before["fama_level"] == "information"
    # Told by the worker this time (the volunteer may too: test_introductions).
    actions.record_first_meeting(world.bob, introduction, on=timezone.localdate())
    after = pat_row(build_cohort(spec), episode.pk)
    assert after["peer_bridged"] == 1
    assert after["fama_level"] == "introduced"
    assert after["mutual_aid_28d"] == 1  # the milestone "attended first meeting", within 28 days
