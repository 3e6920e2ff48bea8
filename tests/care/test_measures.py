"""Derived measures. Pat leaves detox on 1 March and starts community treatment on
10 March (within 14 days); Quinn leaves detox on 1 March and has not started by 20 March
(not linked); Lee left detox yesterday (too early to count)."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied

from recoverybridge.care import actions, queries
from recoverybridge.care.models import EpisodeEnd, EpisodeKind

TODAY = date(2026, 3, 20)


def episode(world, person, kind, started, ended=None, reason=""):
    e = actions.start_episode(world.sam, person, kind=kind, started_on=started)
    if ended:
        actions.end_episode(world.sam, e, ended_on=ended, end_reason=reason)
    return e


def test_treatment_within_14_days_of_detox(world):
    episode(world, world.pat, EpisodeKind.DETOX, date(2026, 2, 20), date(2026, 3, 1), EpisodeEnd.COMPLETED)
    episode(world, world.pat, EpisodeKind.COMMUNITY_TREATMENT, date(2026, 3, 10))
    lee = actions.create_person(world.bob, world.detox, given_name="Lee")
    episode(world, lee, EpisodeKind.DETOX, date(2026, 3, 12), date(2026, 3, 19), EpisodeEnd.COMPLETED)
    episode(world, world.quinn, EpisodeKind.DETOX, date(2026, 2, 20), date(2026, 3, 1), EpisodeEnd.COMPLETED)

    pat = queries.person_measures(world.bob, world.pat, TODAY)
    assert (pat.treatment_within_14_days.numerator, pat.treatment_within_14_days.denominator) == (1, 1)
    assert queries.person_measures(world.bob, lee, TODAY).treatment_within_14_days.denominator == 0
    detox = queries.team_measures(world.alice, world.detox, TODAY)
    assert detox.treatment_within_14_days.rate == 1.0
    community = queries.team_measures(world.sam, world.community, TODAY)
    assert community.treatment_within_14_days.rate == 0.0


def test_treatment_starting_after_the_window_does_not_count(world):
    episode(world, world.pat, EpisodeKind.DETOX, date(2026, 1, 1), date(2026, 1, 10), EpisodeEnd.COMPLETED)
    episode(world, world.pat, EpisodeKind.RESIDENTIAL_REHAB, date(2026, 1, 25))
    assert queries.person_measures(world.bob, world.pat, TODAY).treatment_within_14_days.rate == 0.0


def test_retention_and_completion(world):
    # Retained 12 weeks and completed; dropped out after 3 weeks; still in treatment after 13 weeks.
    episode(
        world,
        world.pat,
        EpisodeKind.COMMUNITY_TREATMENT,
        date(2025, 6, 1),
        date(2025, 9, 30),
        EpisodeEnd.COMPLETED,
    )
    episode(
        world,
        world.pat,
        EpisodeKind.COMMUNITY_TREATMENT,
        date(2025, 10, 1),
        date(2025, 10, 22),
        EpisodeEnd.DROPPED_OUT,
    )
    episode(world, world.pat, EpisodeKind.RESIDENTIAL_REHAB, date(2025, 12, 15))
    # Too recent to judge retention.
    episode(world, world.pat, EpisodeKind.COMMUNITY_TREATMENT, date(2026, 3, 1))
    m = queries.person_measures(world.bob, world.pat, TODAY)
    assert (m.retention.numerator, m.retention.denominator) == (2, 3)
    assert (m.completion.numerator, m.completion.denominator) == (1, 2)


def test_measures_are_scoped(world):
    with pytest.raises(PermissionDenied):
        queries.person_measures(world.nina, world.pat, TODAY)
    with pytest.raises(PermissionDenied):
        queries.team_measures(world.dave, world.detox, TODAY)
    with pytest.raises(PermissionDenied):
        queries.team_measures(
            world.cora, world.detox, TODAY
        )  # commissioners: suppressed aggregates elsewhere
