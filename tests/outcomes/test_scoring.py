"""The scoring engine against hand-computed examples, driven by the shipped Questionnaire files."""

import pytest

from recoverybridge.outcomes import instruments
from recoverybridge.outcomes.scoring import InvalidAnswers, score, validate, validate_and_score


def barc(*values: int | None) -> dict[str, str]:
    return {f"barc-{n}": str(v) for n, v in enumerate(values, 1) if v is not None}


def test_barc10_total_is_the_sum_of_item_weights():
    answers = barc(5, 6, 4, 5, 5, 6, 4, 5, 5, 3)
    # 5+6+4+5+5+6+4+5+5+3 = 48, at or above 47: flagged
    assert score(instruments.get("barc-10"), validate(instruments.get("barc-10"), answers)) == {
        "total": 48,
        "flags": ["sustained-remission-threshold"],
        "prorated": [],
    }


def test_barc10_just_under_the_threshold_is_not_flagged():
    # 5*7 + 4 + 4 + 3 = 35 + 11 = 46 < 47
    _clean, scores = validate_and_score(instruments.get("barc-10"), barc(5, 5, 5, 5, 5, 5, 5, 4, 4, 3))
    assert scores["total"] == 46
    assert scores["flags"] == []


def test_barc10_range_ends():
    low = validate_and_score(instruments.get("barc-10"), barc(*[1] * 10))[1]
    high = validate_and_score(instruments.get("barc-10"), barc(*[6] * 10))[1]
    assert (low["total"], high["total"]) == (10, 60)


def test_barc10_prorates_one_missing_item():
    # 9 answered: 5+5+5+5+5+4+4+4+4 = 41; prorated 41 * 10 / 9 = 45.555... -> 45.56
    _clean, scores = validate_and_score(instruments.get("barc-10"), barc(5, 5, 5, 5, 5, 4, 4, 4, 4, None))
    assert scores["total"] == 45.56
    assert scores["prorated"] == ["total"]
    assert scores["flags"] == []


def test_barc10_prorated_total_can_reach_the_flag():
    # 9 answered, all 5 and one 6: 5*8 + 6 = 46; 46 * 10 / 9 = 51.11 >= 47
    _clean, scores = validate_and_score(instruments.get("barc-10"), barc(None, 5, 5, 5, 5, 5, 5, 5, 5, 6))
    assert scores["total"] == 51.11
    assert scores["flags"] == ["sustained-remission-threshold"]


def test_barc10_two_missing_items_give_no_total():
    _clean, scores = validate_and_score(instruments.get("barc-10"), barc(6, 6, 6, 6, 6, 6, 6, 6, None, None))
    assert scores["total"] is None
    assert scores["flags"] == []
    assert scores["prorated"] == []


def test_out_of_range_and_unknown_answers_are_rejected_naming_the_item():
    with pytest.raises(InvalidAnswers) as raised:
        validate(instruments.get("barc-10"), {"barc-3": "7", "barc-4": 5, "barc-99": "1"})
    errors = raised.value.errors
    assert set(errors) == {"barc-3", "barc-4", "barc-99"}
    assert "7 is not one of its options" in errors["barc-3"]
    assert "I have enough energy" in errors["barc-3"]
    assert "needs one of its options" in errors["barc-4"]
    assert "is not a question of" in errors["barc-99"]


def test_substance_use_days_out_of_range_rejected_with_the_range():
    with pytest.raises(InvalidAnswers) as raised:
        validate(instruments.get("substance-use-28"), {"days-alcohol": 29, "psychological-health": 21})
    assert "between 0 and 28; 29 is out of range" in raised.value.errors["days-alcohol"]
    assert "between 0 and 20; 21 is out of range" in raised.value.errors["psychological-health"]


def test_wrong_types_rejected():
    with pytest.raises(InvalidAnswers) as raised:
        validate(
            instruments.get("substance-use-28"),
            {"days-cannabis": "3", "shared-equipment": "no", "days-cocaine": True},
        )
    assert raised.value.errors["days-cannabis"].endswith("needs a whole number.")
    assert raised.value.errors["shared-equipment"].endswith("needs yes or no.")
    assert raised.value.errors["days-cocaine"].endswith("needs a whole number.")


def test_substance_use_scores():
    answers = {
        "days-alcohol": 12,
        "days-cannabis": 20,
        "days-crack": 0,
        "days-injected": 0,
        "shared-equipment": False,
        "psychological-health": 9,
        "physical-health": 14,
        "quality-of-life": 11,
    }
    _clean, scores = validate_and_score(instruments.get("substance-use-28"), answers)
    # days used: the most of any substance, max(12, 20, 0) = 20 (4 substances unanswered, up to 6 may be)
    assert scores == {
        "days-used-max": 20,
        "days-injected": 0,
        "psychological-health": 9,
        "physical-health": 14,
        "quality-of-life": 11,
        "flags": [],
        "prorated": [],
    }


def test_substance_use_with_no_substance_answered_has_no_days_used():
    _clean, scores = validate_and_score(instruments.get("substance-use-28"), {"quality-of-life": 10})
    assert scores["days-used-max"] is None
    assert scores["quality-of-life"] == 10


def test_social_network_shares():
    # 3 of 8 in recovery = 0.375; 6 of 8 supportive = 0.75
    _clean, scores = validate_and_score(
        instruments.get("social-network"), {"network-size": 8, "in-recovery": 3, "supportive": 6}
    )
    assert scores["network-size"] == 8
    assert scores["recovery-share"] == 0.375
    assert scores["supportive-share"] == 0.75


def test_social_network_part_cannot_exceed_the_whole():
    with pytest.raises(InvalidAnswers) as raised:
        validate(instruments.get("social-network"), {"network-size": 4, "in-recovery": 1, "supportive": 5})
    assert "cannot be more than" in raised.value.errors["supportive"]


def test_social_network_of_nobody_has_no_share():
    _clean, scores = validate_and_score(
        instruments.get("social-network"), {"network-size": 0, "in-recovery": 0, "supportive": 0}
    )
    assert scores["supportive-share"] is None


def test_required_items_checked_only_on_completion():
    network = instruments.get("social-network")
    assert validate(network, {"network-size": 5}) == {"network-size": 5}
    with pytest.raises(InvalidAnswers) as raised:
        validate(network, {"network-size": 5}, complete=True)
    assert set(raised.value.errors) == {"in-recovery", "supportive"}


def test_mutual_help_meetings_sum_over_fellowships_and_involvement_counts_yes():
    answers = {
        "meetings": [
            {"meetings.fellowship": "alcoholics-anonymous", "meetings.count": 24},
            {"meetings.fellowship": "smart-recovery", "meetings.count": 6},
            {"meetings.fellowship": "other", "meetings.count": 2},
        ],
        "sponsor-or-mentor": True,
        "service-role": True,
        "contact-outside": False,
        "program-work": True,
    }
    _clean, scores = validate_and_score(instruments.get("mutual-help"), answers)
    # 24 + 6 + 2 = 32 meetings; yes to 3 of 4 activities
    assert scores["meetings-total"] == 32
    assert scores["involvement"] == 3


def test_mutual_help_fellowship_codes_come_from_the_value_set():
    value_sets = {instruments.FELLOWSHIP_VALUE_SET: {"smart-recovery", "other"}}
    with pytest.raises(InvalidAnswers) as raised:
        validate(
            instruments.get("mutual-help"),
            {"meetings": [{"meetings.fellowship": "made-up", "meetings.count": 1}]},
            value_sets=value_sets,
        )
    assert "made-up is not one of its options" in raised.value.errors["meetings"]


def test_mutual_help_meeting_count_out_of_range():
    with pytest.raises(InvalidAnswers) as raised:
        validate(
            instruments.get("mutual-help"),
            {"meetings": [{"meetings.fellowship": "other", "meetings.count": 300}]},
        )
    assert "between 0 and 270" in raised.value.errors["meetings"]


def test_no_meetings_is_zero_meetings():
    _clean, scores = validate_and_score(
        instruments.get("mutual-help"),
        {"sponsor-or-mentor": False, "service-role": False, "contact-outside": False, "program-work": False},
    )
    assert scores["meetings-total"] == 0
    assert scores["involvement"] == 0
