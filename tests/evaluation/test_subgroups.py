"""Who benefits: subgroup effects cover the truth, and when no subgroup differs, the Holm-adjusted
interaction tests raise a false alarm in at most 5% of cohorts.

In the simulated world peer bridging adds 3.0 points of recovery capital to everyone, so every
subgroup's true effect is 3.0 and no characteristic changes it."""

import numpy as np
import pandas as pd
import pytest

from recoverybridge.evaluation import frame as columns
from recoverybridge.evaluation.simulate import simulate_episodes
from recoverybridge.evaluation.subgroups import fama_dose, holm, who_benefits

COVARIATES = [column.name for column in columns.COVARIATES]
OUTCOME = "recovery_capital_change"
SEEDS = 100


@pytest.fixture(scope="module")
def worlds():
    """100 cohorts of 2,000 episodes, both estimands each: about 45 s."""
    results = []
    for seed in range(SEEDS):
        frame = simulate_episodes(2000, seed=5000 + seed).frame
        for estimand in ("ate", "att"):
            results.append(who_benefits(frame, "peer_bridged", OUTCOME, COVARIATES, estimand))
    return results


def test_subgroup_intervals_cover_the_truth(worlds):
    intervals = [level.ci for result in worlds for level in result.levels if level.ci is not None]
    covered = np.mean([low <= 3.0 <= high for low, high in intervals])
    assert len(intervals) > 3000 and covered >= 0.90, covered


def test_no_difference_raises_a_false_alarm_in_at_most_5_percent(worlds):
    alarms = [any(test.p_holm < 0.05 for test in result.interactions) for result in worlds]
    assert np.mean(alarms) <= 0.05, sum(alarms)
    # Without Holm's adjustment six tests would alarm far more often than 5%.
    unadjusted = [any(test.p_value < 0.05 for test in result.interactions) for result in worlds]
    assert sum(unadjusted) > sum(alarms)


def test_every_prespecified_subgroup_is_there(worlds):
    variables = {level.variable for level in worlds[0].levels}
    assert variables == {
        "on_moud",
        "group_gender",
        "age_band",
        "prefers_secular",
        "online_group",
        "fellowship_approach",
    }
    assert {test.variable for test in worlds[0].interactions} == variables


def test_a_real_difference_is_found():
    frame = simulate_episodes(4000, seed=3).frame.copy()
    # Twice the effect for people on MOUD.
    boost = 3.0 * frame["on_moud"] * frame["peer_bridged"]
    frame[OUTCOME] = frame[OUTCOME] + boost
    result = who_benefits(frame, "peer_bridged", OUTCOME, COVARIATES)
    moud = next(t for t in result.interactions if t.variable == "on_moud")
    assert moud.p_holm < 0.05
    yes = next(level for level in result.levels if level.variable == "on_moud" and level.level == "yes")
    assert yes.ci[0] < 6.0 < yes.ci[1]


def test_holm_by_hand():
    # Sorted 0.01, 0.02, 0.04 of three: 3 x 0.01, max(0.03, 2 x 0.02), max(0.04, 1 x 0.04).
    assert holm([0.04, 0.01, 0.02]) == pytest.approx([0.04, 0.03, 0.04])
    assert holm([0.5, 0.6]) == pytest.approx([1.0, 1.0])


def test_the_interaction_test_is_cochrans_q():
    frame = simulate_episodes(3000, seed=8).frame
    result = who_benefits(frame, "peer_bridged", OUTCOME, COVARIATES, subgroups=("on_moud",))
    levels = [level for level in result.levels if level.estimate is not None]
    weights = np.array([1 / level.std_error**2 for level in levels])
    taus = np.array([level.estimate for level in levels])
    pooled = np.sum(weights * taus) / weights.sum()
    assert result.interactions[0].statistic == pytest.approx(np.sum(weights * (taus - pooled) ** 2))
    assert result.interactions[0].df == 1


def test_fama_levels_against_information_only():
    frame = simulate_episodes(4000, seed=12).frame
    dose = fama_dose(frame, OUTCOME, COVARIATES)
    assert [level.level for level in dose.levels] == ["information", "introduced", "accompanied"]
    information, introduced, accompanied = dose.levels
    assert information.estimate is None and information.n > 0
    # In the simulation both assisted levels are peer bridging: +3.0 against information only.
    for level in (introduced, accompanied):
        assert level.ci_low < 3.0 < level.ci_high
    assert dose.trend_ci[0] < dose.trend < dose.trend_ci[1]
    assert dose.n == int(frame["fama_level"].notna().sum()) - int(
        frame.loc[frame["fama_level"].notna(), [OUTCOME, *COVARIATES]].isna().any(axis=1).sum()
    )
    assert isinstance(frame["fama_level"].dtype, pd.CategoricalDtype)
