"""The plain-language reading of an effect: it must change with what the estimate can claim."""

import dataclasses

import pytest
from django.utils import translation

from recoverybridge.evaluation.reading import (
    EffectFacts,
    change_word,
    dose_reading,
    effect_details,
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
        assert "only if nothing unmeasured influenced both" in text(facts)


def test_the_e_value_is_in_the_details_and_read_in_words():
    details = " ".join(effect_details(CLEAR))
    assert "risk ratio of at least 1.9" in details and "a risk ratio of 1.6 would do" in details
    assert "E-value" not in text(CLEAR)  # the term stays out of the main text
    crossing = dataclasses.replace(CLEAR, ci_low=-0.01, e_value_ci=1.0)
    assert "already includes no difference" in " ".join(effect_details(crossing))
    assert not effect_details(dataclasses.replace(CLEAR, e_value=None, e_value_ci=None))


@pytest.mark.parametrize(
    ("e_value", "words"),
    [
        (1.2, "A fairly weak unmeasured factor"),
        (1.49, "A fairly weak unmeasured factor"),
        (1.5, "Only an unmeasured factor of moderate strength"),
        (2.49, "Only an unmeasured factor of moderate strength"),
        (2.5, "Only a strong unmeasured factor"),
        (6.0, "Only a strong unmeasured factor"),
    ],
)
def test_the_e_value_thresholds(e_value, words):
    assert words in text(dataclasses.replace(CLEAR, e_value=e_value))
    # An interval including no difference needs no factor at all: nothing said about strength.
    assert "unmeasured factor" not in text(dataclasses.replace(CLEAR, e_value=e_value, ci_low=-0.01))


@pytest.mark.parametrize(
    ("naive", "adjusted", "word"),
    [
        (0.371, 0.255, "considerably"),  # +37.1 to +25.5 percentage points: a third less
        (0.20, 0.19, "little"),  # 5%
        (0.20, 0.181, "little"),  # 9.5%
        (0.20, 0.18, "somewhat"),  # 10%
        (0.20, 0.151, "somewhat"),  # 24.5%
        (0.20, 0.15, "considerably"),  # 25%
        (0.20, 0.101, "considerably"),  # 49.5%
        (0.20, 0.10, "greatly"),  # 50%
        (0.10, 0.30, "greatly"),  # tripled
        (0.10, -0.05, "reversed"),
        (-2.0, -1.9, "little"),
        (0.0, 0.0, "little"),
        (0.0, 0.1, "greatly"),
    ],
)
def test_how_much_adjustment_changed_the_estimate(naive, adjusted, word):
    assert change_word(naive, adjusted) == word


def test_the_issues_example_does_not_read_as_changing_the_picture_little():
    facts = dataclasses.replace(CLEAR, naive=0.371, estimate=0.255, ci_low=0.18, ci_high=0.33)
    reading = text(facts)
    assert "changes it considerably, to +25.5 percentage points (by about 31%)" in reading
    assert "little" not in reading
    assert "outside the adjusted interval" in reading


def test_a_naive_comparison_outside_the_interval_is_called_misleading():
    assert "misleads on its own" in text(dataclasses.replace(CLEAR, naive=0.25))
    assert "changes it little (by less than a tenth)" in text(CLEAR)  # 13.0 to 12.0
    assert "misleads" not in text(CLEAR)
    # Opposite signs are misleading however wide the interval, but not "outside" it.
    flipped = text(dataclasses.replace(CLEAR, ci_low=-0.2, ci_high=0.5, naive=-0.01))
    assert "reverses its direction" in flipped and "misleads on its own" in flipped
    assert "outside the adjusted interval" not in flipped
    assert "outside the adjusted interval" in text(dataclasses.replace(CLEAR, naive=0.25))


def test_whether_the_methods_agree():
    agree = dataclasses.replace(
        CLEAR, others={"Matched with similar people": (0.11, 0.05, 0.17), "Weighted": (0.15, 0.1, 0.2)}
    )
    assert "the methods agree" in text(agree)
    apart = dataclasses.replace(CLEAR, others={"Matched with similar people": (0.20, 0.15, 0.25)})
    reading = text(apart)
    assert (
        "Not every way of adjusting agrees: matched with similar people (+20.0 percentage points)" in reading
    )
    # A withheld method (no estimate shown) is not quoted.
    assert "agree" not in text(dataclasses.replace(CLEAR, others={"Matched": (None, None, None)}))


def test_a_thin_comparison_is_said_to_be_thin():
    assert "rests on about 30 episodes" in text(dataclasses.replace(CLEAR, effective_comparison=30))
    assert "rests on about" not in text(dataclasses.replace(CLEAR, effective_comparison=400))
    assert "rests on about" not in text(dataclasses.replace(CLEAR, effective_comparison="*"))


def test_common_support_is_explained():
    crump = text(dataclasses.replace(CLEAR, support="crump", trimmed="40"))
    assert "the groups have in common" in crump and "(40)" in crump
    treated = text(dataclasses.replace(CLEAR, support="treated", trimmed="1,200"))
    assert "would have counted for almost nothing" in treated


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
