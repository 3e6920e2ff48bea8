"""The plain-language reading of an effect: it must change with what the estimate can claim."""

import dataclasses

import pytest
from django.utils import translation

from recoverybridge.evaluation.reading import (
    EffectFacts,
    dose_reading,
    effect_reading,
    hazard_reading,
    mediation_reading,
)

CLEAR = EffectFacts(
    treatment="Peer bridged",
    outcome="Attended mutual aid within 28 days",
    scale="risk difference",
    estimand="ate",
    estimate=0.12,
    ci_low=0.08,
    ci_high=0.16,
    naive=0.13,
    e_value=1.9,
    e_value_ci=1.6,
)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def text(facts: EffectFacts) -> str:
    return " ".join(effect_reading(facts))


def test_a_clear_risk_difference_is_read_in_percentage_points():
    reading = text(CLEAR)
    assert "+12.0 percentage points" in reading
    assert "8.0 to 16.0" in reading
    assert "whole interval is above zero" in reading and "goes with a higher" in reading
    assert "cannot tell" not in reading


def test_an_interval_crossing_zero_says_we_cannot_tell():
    reading = text(dataclasses.replace(CLEAR, estimate=0.02, ci_low=-0.01, ci_high=0.05, naive=0.02))
    assert "We cannot tell from these data whether" in reading
    assert "goes with" not in reading


def test_a_lower_outcome_is_said_to_be_lower():
    reading = text(
        dataclasses.replace(
            CLEAR, scale="mean difference", estimate=-2.5, ci_low=-3.0, ci_high=-2.0, naive=-2.4
        )
    )
    assert "-2.50" in reading and "goes with a lower" in reading


def test_it_always_states_the_assumption():
    for facts in (CLEAR, dataclasses.replace(CLEAR, ci_low=-0.01)):
        assert "no unmeasured confounding" in text(facts)


def test_the_e_value_sentence_follows_the_e_values():
    assert "risk ratio of at least 1.90" in text(CLEAR)
    assert "a risk ratio of 1.60 would do" in text(CLEAR)
    assert "already includes no difference" in text(dataclasses.replace(CLEAR, ci_low=-0.01, e_value_ci=1.0))
    assert "E-value" not in text(dataclasses.replace(CLEAR, e_value=None, e_value_ci=None))


def test_limited_overlap_and_trimming_bring_their_caveats():
    assert "overlap only in part" not in text(CLEAR)
    assert "overlap only in part" in text(dataclasses.replace(CLEAR, overlap_limited=True))
    trimmed = text(dataclasses.replace(CLEAR, trim=0.05, trimmed="40"))
    assert "below 0.05 or above 0.95" in trimmed and "(40)" in trimmed


def test_a_naive_comparison_outside_the_interval_is_called_misleading():
    assert "misleads on its own" in text(dataclasses.replace(CLEAR, naive=0.25))
    assert "change the picture little" in text(CLEAR)
    # Opposite signs are misleading however wide the interval, but not "outside" it.
    flipped = text(dataclasses.replace(CLEAR, ci_low=-0.2, ci_high=0.5, naive=-0.01))
    assert "misleads on its own" in flipped and "other direction" in flipped
    assert "outside the adjusted interval" not in flipped
    assert "outside the adjusted interval" in text(dataclasses.replace(CLEAR, naive=0.25))


def test_remaining_imbalance_is_mentioned():
    assert "adjustment is incomplete" not in text(dataclasses.replace(CLEAR, largest_smd_after=0.04))
    assert "adjustment is incomplete" in text(dataclasses.replace(CLEAR, largest_smd_after=-0.15))


def test_the_att_is_about_the_treated():
    assert "among the episodes that were peer bridged" in text(dataclasses.replace(CLEAR, estimand="att"))
    assert "averaged over everyone" in text(CLEAR)


def test_numbers_follow_the_active_language():
    with translation.override("es"):
        assert "12,0" in text(CLEAR)


def test_hazard_reading_follows_the_interval():
    assert "came later" in hazard_reading("Peer bridged", 0.7, 0.6, 0.8, "Weighted")
    assert "came sooner" in hazard_reading("Peer bridged", 1.3, 1.1, 1.5, "Weighted")
    assert "cannot tell" in hazard_reading("Peer bridged", 0.9, 0.7, 1.1, "Weighted")


def test_dose_reading_follows_the_slope():
    fewer = dose_reading("Meetings", "Days used", -0.8, -0.9, -0.7)
    assert "0.80 lower" in fewer and "association" in fewer
    assert "0.50 higher" in dose_reading("Meetings", "Days used", 0.5, 0.2, 0.8)
    assert "cannot tell" in dose_reading("Meetings", "Days used", -0.1, -0.3, 0.1)


def test_mediation_reading_follows_the_indirect_interval():
    through = mediation_reading("Peer bridged", "Network", "Capital", 1.2, (1.0, 1.4), 3.0, (2.5, 3.5))
    assert "1.20 (1.00 to 1.40) goes through network" in through
    assert "sequential ignorability" in through
    unclear = mediation_reading("Peer bridged", "Network", "Capital", 0.1, (-0.2, 0.4), 3.0, (2.5, 3.5))
    assert "We cannot tell" in unclear
