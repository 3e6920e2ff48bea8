"""Programme effects under self-selection (evaluation.estimators).

The simulated world (evaluation.simulate) lets people with more recovery capital and fewer days
of use choose peer bridging, and those people do better anyway: the naive comparison flatters
peer bridging, the weighted and doubly robust ones must recover the truth.
"""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy.special import expit

from recoverybridge.evaluation import estimators, matching, propensity
from recoverybridge.evaluation import frame as columns
from recoverybridge.evaluation.errors import EvaluationError
from recoverybridge.evaluation.simulate import (
    SURVEY_INTERCEPT,
    SURVEY_SELECTION,
    Design,
    simulate_episodes,
    simulate_survey_comparison,
    without_confounding,
)

TREATMENT = "peer_bridged"
COVARIATES = [column.name for column in columns.COVARIATES]
CONFOUNDERS = ["age", "on_moud", "baseline_recovery_capital", "baseline_days_used"]
BINARY, CONTINUOUS = "mutual_aid_28d", "recovery_capital_change"
REPLICATIONS = 100
WEIGHTING = ("naive", "ipw", "aipw")


@pytest.fixture(scope="module")
def replications():
    """100 seeded worlds of 3,000 episodes: every method, both outcomes, both estimands."""
    results = []
    for seed in range(REPLICATIONS):
        sim = simulate_episodes(3000, seed=seed)
        for outcome in (BINARY, CONTINUOUS):
            for estimand in ("ate", "att"):
                truth = sim.truth[outcome][estimand]
                for result in estimators.compare_methods(
                    sim.frame, TREATMENT, outcome, COVARIATES, estimand, methods=WEIGHTING
                ):
                    results.append((outcome, estimand, result, truth))
    return results


def _select(replications, outcome, estimand, method):
    chosen = [
        (r, truth) for o, e, r, truth in replications if (o, e, r.method) == (outcome, estimand, method)
    ]
    assert len(chosen) == REPLICATIONS
    return chosen


@pytest.mark.parametrize("outcome", [BINARY, CONTINUOUS])
@pytest.mark.parametrize("estimand", ["ate", "att"])
@pytest.mark.parametrize("method", ["ipw", "aipw"])
def test_adjusted_intervals_cover_the_truth_in_at_least_90_of_100_worlds(
    replications, outcome, estimand, method
):
    chosen = _select(replications, outcome, estimand, method)
    covered = sum(r.ci_low <= truth <= r.ci_high for r, truth in chosen)
    assert covered >= 90, f"{method} {estimand} {outcome}: {covered}/100"
    truth = chosen[0][1]
    mean = np.mean([r.estimate for r, _ in chosen])
    spread = np.std([r.estimate for r, _ in chosen])
    assert abs(mean - truth) < 0.25 * spread  # unbiased up to Monte Carlo error


@pytest.mark.parametrize("outcome", [BINARY, CONTINUOUS])
def test_naive_comparison_flatters_peer_bridging(replications, outcome):
    chosen = _select(replications, outcome, "ate", "naive")
    truth = chosen[0][1]
    mean = np.mean([r.estimate for r, _ in chosen])
    standard_error = np.mean([r.std_error for r, _ in chosen])
    covered = sum(r.ci_low <= truth <= r.ci_high for r, _ in chosen)
    assert mean - truth > 2 * standard_error
    assert covered <= 30


def test_weighting_balances_the_confounders_that_were_unbalanced():
    sim = simulate_episodes(4000, seed=11)
    for estimand in ("ate", "att"):
        for result in estimators.compare_methods(sim.frame, TREATMENT, BINARY, COVARIATES, estimand)[1:3]:
            before = {b.covariate: b.smd_before for b in result.balance}
            assert [b.covariate for b in result.balance] == COVARIATES
            assert all(abs(before[name]) > 0.1 for name in CONFOUNDERS)
            assert all(abs(b.smd_after) < 0.1 for b in result.balance), result.balance
            assert result.overlap is not None and not result.overlap.limited


def test_naive_balance_is_the_unweighted_one():
    sim = simulate_episodes(2000, seed=3)
    naive = estimators.estimate_effect(sim.frame, TREATMENT, BINARY, COVARIATES, method="naive")
    assert naive.overlap is None
    assert all(b.smd_before == b.smd_after for b in naive.balance)


def test_in_a_trial_naive_and_adjusted_agree():
    design = without_confounding()
    naive, ipw, aipw = [], [], []
    for seed in range(20):
        sim = simulate_episodes(3000, seed=seed, design=design)
        n, i, a = estimators.compare_methods(sim.frame, TREATMENT, CONTINUOUS, COVARIATES, methods=WEIGHTING)
        naive.append(n.estimate)
        ipw.append(i.estimate)
        aipw.append(a.estimate)
        assert abs(n.estimate - a.estimate) < n.std_error
        assert all(abs(b.smd_before) < 0.1 for b in n.balance)
    truth = sim.truth[CONTINUOUS]["ate"]
    assert abs(np.mean(naive) - truth) < 0.1
    assert abs(np.mean(naive) - np.mean(ipw)) < 0.05
    assert abs(np.mean(naive) - np.mean(aipw)) < 0.05


def test_binary_outcome_gives_risks_and_continuous_gives_means():
    sim = simulate_episodes(2000, seed=5)
    risk = estimators.estimate_effect(sim.frame, TREATMENT, BINARY, COVARIATES)
    mean = estimators.estimate_effect(sim.frame, TREATMENT, CONTINUOUS, COVARIATES)
    assert risk.scale == "risk difference" and mean.scale == "mean difference"
    assert 0 < risk.mean_control < risk.mean_treated < 1
    assert risk.estimate == pytest.approx(risk.mean_treated - risk.mean_control)
    assert risk.ci_low < risk.estimate < risk.ci_high
    assert (risk.method, risk.estimand, risk.interval, risk.confidence) == ("aipw", "ate", "sandwich", 0.95)
    assert risk.n_treated + risk.n_control == 2000 and risk.n_dropped == 0


def test_ipw_matches_a_hajek_estimate_by_hand_with_statsmodels_propensity():
    sim = simulate_episodes(2000, seed=8)
    frame = sim.frame
    model = sm.Logit(frame[TREATMENT], sm.add_constant(frame[COVARIATES])).fit(disp=0)
    ps = model.predict(sm.add_constant(frame[COVARIATES]))
    a, y = frame[TREATMENT], frame[CONTINUOUS]
    by_hand = np.sum(a * y / ps) / np.sum(a / ps) - np.sum((1 - a) * y / (1 - ps)) / np.sum(
        (1 - a) / (1 - ps)
    )
    att = np.mean(y[a == 1]) - np.sum((1 - a) * y * ps / (1 - ps)) / np.sum((1 - a) * ps / (1 - ps))
    ipw = estimators.estimate_effect(frame, TREATMENT, CONTINUOUS, COVARIATES, method="ipw")
    ipw_att = estimators.estimate_effect(
        frame, TREATMENT, CONTINUOUS, COVARIATES, method="ipw", estimand="att"
    )
    assert ipw.estimate == pytest.approx(by_hand, rel=1e-6)
    assert ipw_att.estimate == pytest.approx(att, rel=1e-6)
    assert ipw.overlap.ps_treated_min == pytest.approx(ps[a == 1].min(), rel=1e-6)
    assert sum(ipw.overlap.treated_counts) == a.sum() and sum(ipw.overlap.control_counts) == (1 - a).sum()
    assert (
        len(ipw.overlap.bin_edges) == 21 and ipw.overlap.bin_edges[0] == 0 and ipw.overlap.bin_edges[-1] == 1
    )


def test_trimming_drops_units_outside_the_bounds_and_says_how_many():
    sim = simulate_episodes(3000, seed=21, design=replace(Design(), confounding=2.0))
    frame = sim.frame
    model = sm.Logit(frame[TREATMENT], sm.add_constant(frame[COVARIATES])).fit(disp=0)
    ps = model.predict(sm.add_constant(frame[COVARIATES]))
    outside = int(((ps < 0.05) | (ps > 0.95)).sum())
    assert outside > 50
    result = estimators.estimate_effect(frame, TREATMENT, BINARY, COVARIATES, trim=0.05)
    assert result.overlap.trimmed == outside
    assert result.overlap.trim_bounds == (0.05, 0.95)
    assert result.n_treated + result.n_control == 3000 - outside
    assert result.overlap.limited  # strong self-selection leaves many extreme scores
    weights = estimators.propensity_weights(frame, TREATMENT, COVARIATES, trim=0.05)
    assert int((weights == 0).sum()) == outside
    untrimmed = estimators.estimate_effect(frame, TREATMENT, BINARY, COVARIATES)
    assert untrimmed.overlap.trimmed == 0 and untrimmed.overlap.trim_bounds is None


def test_categorical_covariates_are_one_hot_against_their_first_level():
    sim = simulate_episodes(3000, seed=2)
    frame = sim.frame.assign(kind_text=sim.frame["episode_kind"].astype(str))
    result = estimators.estimate_effect(frame, TREATMENT, BINARY, [*COVARIATES, "episode_kind"])
    names = [b.covariate for b in result.balance]
    assert names[-4:] == [
        "episode_kind=community_treatment",
        "episode_kind=residential_rehab",
        "episode_kind=aftercare",
        "episode_kind=prison_release",
    ]
    text = estimators.estimate_effect(frame, TREATMENT, BINARY, [*COVARIATES, "kind_text"])
    assert [b.covariate for b in text.balance][-4:] == [
        "kind_text=community_treatment",
        "kind_text=detox",
        "kind_text=prison_release",
        "kind_text=residential_rehab",
    ]  # text levels sorted; "aftercare" is the reference
    assert text.estimate == pytest.approx(result.estimate, rel=1e-9)


def test_rows_missing_treatment_outcome_or_covariate_are_dropped_and_counted():
    frame = simulate_episodes(2000, seed=4).frame.copy()
    frame.loc[0:9, "age"] = np.nan
    frame.loc[10:14, BINARY] = np.nan
    frame.loc[15:16, TREATMENT] = np.nan
    result = estimators.estimate_effect(frame, TREATMENT, BINARY, COVARIATES)
    assert result.n_dropped == 17
    assert result.n_treated + result.n_control == 1983


def test_balance_table_with_the_estimators_weights_reproduces_the_estimates_balance():
    frame = simulate_episodes(2000, seed=6).frame
    result = estimators.estimate_effect(
        frame, TREATMENT, CONTINUOUS, COVARIATES, method="ipw", estimand="att"
    )
    weights = estimators.propensity_weights(frame, TREATMENT, COVARIATES, estimand="att")
    table = estimators.balance_table(frame, TREATMENT, COVARIATES, weights)
    for mine, theirs in zip(table, result.balance, strict=True):
        assert mine.covariate == theirs.covariate
        assert mine.smd_before == pytest.approx(theirs.smd_before)
        assert mine.smd_after == pytest.approx(theirs.smd_after)
    unweighted = estimators.balance_table(frame, TREATMENT, COVARIATES, None)
    assert all(b.smd_before == b.smd_after for b in unweighted)


def test_smd_formula_by_hand():
    # Ten each of: treated ages 30, 40, 50 and controls 20, 30, 40; on MOUD 2/3 treated, 1/3 controls.
    frame = pd.DataFrame(
        {
            "t": [1, 1, 1, 0, 0, 0] * 10,
            "age": [30.0, 40, 50, 20, 30, 40] * 10,
            "moud": [1, 1, 0, 1, 0, 0] * 10,
        }
    )
    # The last control of each block weighs twice: weighted control mean age 32.5, MOUD 1/4.
    weights = [1, 1, 1, 1, 1, 2] * 10
    table = estimators.balance_table(frame, "t", ["age", "moud"], weights)
    variance = np.var([30.0, 40, 50] * 10, ddof=1)  # the same in both groups, unweighted
    assert table[0].smd_before == pytest.approx((40 - 30) / np.sqrt(variance))
    assert table[0].smd_after == pytest.approx((40 - 32.5) / np.sqrt(variance))
    p_t, p_c = 2 / 3, 1 / 3
    spread = np.sqrt((p_t * (1 - p_t) + p_c * (1 - p_c)) / 2)
    assert table[1].smd_before == pytest.approx((p_t - p_c) / spread)
    assert table[1].smd_after == pytest.approx((p_t - 0.25) / spread)


def test_e_value_of_a_risk_ratio_matches_vanderweele_and_ding():
    # Their example: RR 3.9 (CI 1.8 to 8.7) has E-value 7.26, and 3.0 for the lower limit.
    assert estimators.risk_ratio_e_value(3.9) == pytest.approx(7.26, abs=0.005)
    assert estimators.risk_ratio_e_value(1.8) == pytest.approx(3.0, abs=0.005)
    assert estimators.risk_ratio_e_value(1 / 3.9) == pytest.approx(7.26, abs=0.005)
    assert estimators.risk_ratio_e_value(1.0) == 1.0


def _two_groups(treated_outcomes, control_outcomes, seed=0):
    rng = np.random.default_rng(seed)
    n1, n0 = len(treated_outcomes), len(control_outcomes)
    return pd.DataFrame(
        {
            "t": [1] * n1 + [0] * n0,
            "y": list(treated_outcomes) + list(control_outcomes),
            "x": rng.normal(size=n1 + n0),
        }
    )


def test_e_value_of_a_naive_risk_difference_by_hand():
    # Risk 0.4 treated, 0.2 control: RR 2, E-value 2 + sqrt(2).
    frame = _two_groups([1] * 80 + [0] * 120, [1] * 40 + [0] * 160)
    result = estimators.estimate_effect(frame, "t", "y", ["x"], method="naive")
    assert result.estimate == pytest.approx(0.2)
    assert result.e_value == pytest.approx(2 + np.sqrt(2))
    # CI of log RR by the delta method with the groups' sample variances.
    se = np.sqrt(0.4 * 0.6 * 200 / 199 / 200 / 0.4**2 + 0.2 * 0.8 * 200 / 199 / 200 / 0.2**2)
    low = np.exp(np.log(2) - 1.959963985 * se)
    assert result.e_value_ci == pytest.approx(low + np.sqrt(low * (low - 1)), rel=1e-6)
    # Welch interval of the risk difference.
    welch = np.sqrt(0.4 * 0.6 * 200 / 199 / 200 + 0.2 * 0.8 * 200 / 199 / 200)
    assert result.std_error == pytest.approx(welch)
    assert result.ci_low == pytest.approx(0.2 - 1.959963985 * welch)
    # A protective effect has the same E-value.
    flipped = estimators.estimate_effect(
        _two_groups([1] * 40 + [0] * 160, [1] * 80 + [0] * 120), "t", "y", ["x"], method="naive"
    )
    assert flipped.e_value == pytest.approx(2 + np.sqrt(2))


def test_e_value_of_a_mean_difference_by_hand():
    treated = [1.0, 2.0, 3.0, 4.0, 5.0] * 20
    control = [0.0, 1.0, 2.0, 3.0, 4.0] * 20
    result = estimators.estimate_effect(_two_groups(treated, control), "t", "y", ["x"], method="naive")
    sd = np.std(treated, ddof=1)  # both groups have the same spread: the pooled SD
    rr = np.exp(0.91 * 1.0 / sd)
    assert result.e_value == pytest.approx(rr + np.sqrt(rr * (rr - 1)))
    low = np.exp(0.91 * result.ci_low / sd)
    assert result.e_value_ci == pytest.approx(low + np.sqrt(low * (low - 1)))


def test_an_interval_that_includes_no_effect_has_ci_e_value_one():
    result = estimators.estimate_effect(
        _two_groups([1] * 21 + [0] * 79, [1] * 20 + [0] * 80), "t", "y", ["x"], method="naive"
    )
    assert result.ci_low < 0 < result.ci_high
    assert result.e_value > 1 and result.e_value_ci == 1.0


def test_bootstrap_interval_on_small_data():
    frame = simulate_episodes(800, seed=13).frame
    sandwich = estimators.estimate_effect(frame, TREATMENT, CONTINUOUS, COVARIATES, estimand="att")

    def bootstrap():
        return estimators.estimate_effect(
            frame,
            TREATMENT,
            CONTINUOUS,
            COVARIATES,
            estimand="att",
            interval="bootstrap",
            bootstrap_reps=100,
            seed=1,
        )

    boot, again = bootstrap(), bootstrap()
    assert boot.interval == "bootstrap" and boot == again
    assert boot.estimate == sandwich.estimate
    assert boot.ci_low < boot.estimate < boot.ci_high
    assert 0.6 < boot.std_error / sandwich.std_error < 1.6
    assert boot.e_value_ci is not None
    risks = estimators.compare_methods(
        frame, TREATMENT, BINARY, COVARIATES, trim=0.05, interval="bootstrap", bootstrap_reps=50
    )
    assert [r.method for r in risks] == ["naive", "ipw", "aipw", "matching", "subclassification"]
    assert all(r.ci_low < r.estimate < r.ci_high and r.e_value_ci is not None for r in risks)
    # Matching keeps its own (Abadie-Imbens) interval: the bootstrap is not valid for it.
    assert risks[3].interval == "abadie-imbens" and risks[4].interval == "bootstrap"


def test_large_data_takes_the_fast_path():
    # A million rows are timed for the docs; 200,000 keep the suite quick.
    frame = simulate_episodes(200_000, seed=1).frame
    result = estimators.estimate_effect(frame, TREATMENT, BINARY, COVARIATES)
    assert result.ci_low < simulate_episodes(10).truth[BINARY]["ate"] < result.ci_high


# --- bad input --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small():
    return simulate_episodes(500, seed=9).frame


def _raises(match, frame, *args, **kwargs):
    with pytest.raises(EvaluationError, match=match):
        estimators.estimate_effect(frame, *args, **kwargs)


def test_unknown_column_lists_the_available_ones(small):
    _raises(
        r"unknown column 'age_at_start'; available: episode_id, ", small, TREATMENT, BINARY, ["age_at_start"]
    )
    _raises("unknown column 'nope'", small, "nope", BINARY, ["age"])


def test_treatment_must_be_zero_one(small):
    _raises(
        r"treatment 'prior_episodes' must hold 0 and 1 only; found 2\.0, 3\.0",
        small,
        "prior_episodes",
        BINARY,
        ["age"],
    )
    _raises(r"treatment 'area' must hold 0 and 1 only; found 'North'", small, "area", BINARY, ["age"])


def test_outcome_must_be_numeric(small):
    _raises("outcome 'area' is not numeric", small, TREATMENT, "area", ["age"])
    _raises(
        "outcome 'prefers_secular' takes one value only",
        small.assign(prefers_secular=1.0),
        TREATMENT,
        "prefers_secular",
        ["age"],
    )


def test_a_binary_outcome_all_one_way_in_an_arm_is_refused(small):
    # Every treated episode attended: no variance in that arm, so any interval would be too narrow.
    all_attended = small.assign(**{BINARY: np.where(small[TREATMENT] == 1, 1.0, small[BINARY])})
    _raises(f"outcome '{BINARY}' is 1 for every treated row", all_attended, TREATMENT, BINARY, ["age"])
    none_attended = small.assign(**{BINARY: np.where(small[TREATMENT] == 0, 0.0, small[BINARY])})
    _raises(f"outcome '{BINARY}' is 0 for every control row", none_attended, TREATMENT, BINARY, ["age"])


def test_too_few_treated_or_controls(small):
    five_treated = small[small[TREATMENT] == 1].head(5)
    few = pd.concat([small[small[TREATMENT] == 0], five_treated])
    _raises(r"too few complete rows: 5 treated and \d+ controls", few, TREATMENT, BINARY, ["age"])
    _raises("too few complete rows", small.assign(age=np.nan), TREATMENT, BINARY, ["age"])


def test_constant_covariate(small):
    _raises("covariate 'age' is constant", small.assign(age=40.0), TREATMENT, BINARY, ["age", "on_moud"])
    _raises("covariate 'area' is constant", small.assign(area="North"), TREATMENT, BINARY, ["area"])


def test_separation_is_refused_only_when_no_comparison_episode_is_like_a_treated_one(small):
    separated = small.assign(marker=small[TREATMENT] * 10 + np.arange(len(small)) % 3)
    _raises(
        r"no defensible estimate: 'marker' alone tells the groups apart",
        separated,
        TREATMENT,
        BINARY,
        ["age", "marker"],
    )
    # Quasi-complete: every secular-preferring person was peer bridged. Maximum likelihood has no
    # finite answer; the mildly penalised model has, and says why it was used.
    quasi = small.assign(prefers_secular=np.where(small[TREATMENT] == 1, small["prefers_secular"], 0.0))
    for estimand in ("ate", "att"):
        result = estimators.estimate_effect(
            quasi, TREATMENT, BINARY, ["age", "prefers_secular"], estimand=estimand
        )
        assert result.model == "penalised"
        assert "separate the groups" in result.model_reason and "'prefers_secular'" in result.model_reason
        assert result.ci_low < result.estimate < result.ci_high
    # The naive comparison fits no propensity model and still answers.
    assert estimators.estimate_effect(separated, TREATMENT, BINARY, ["marker"], method="naive").n_treated > 0


def test_collinear_covariates(small):
    _raises("collinear", small.assign(age2=small["age"] * 2), TREATMENT, BINARY, ["age", "age2"])


def test_other_bad_input(small):
    _raises("method 'ols'", small, TREATMENT, BINARY, ["age"], method="ols")
    _raises("estimand 'atc'", small, TREATMENT, BINARY, ["age"], estimand="atc")
    _raises("interval 'wald'", small, TREATMENT, BINARY, ["age"], interval="wald")
    _raises("trim 0.5", small, TREATMENT, BINARY, ["age"], trim=0.5)
    _raises("confidence 95", small, TREATMENT, BINARY, ["age"], confidence=95)
    _raises("bootstrap_reps 5", small, TREATMENT, BINARY, ["age"], interval="bootstrap", bootstrap_reps=5)
    _raises("not one string", small, TREATMENT, BINARY, "age")
    _raises("listed twice: age", small, TREATMENT, BINARY, ["age", "age"])
    _raises("cannot be a covariate", small, TREATMENT, BINARY, ["age", TREATMENT])
    _raises("same column", small, TREATMENT, TREATMENT, ["age"])
    identifiers = small.assign(worker=np.arange(len(small)).astype(str))
    _raises("'worker' has 500 distinct values", identifiers, TREATMENT, BINARY, ["worker"])
    strong = replace(Design(), confounding=6.0)
    extreme = simulate_episodes(300, seed=1, design=strong).frame
    _raises(
        r"common support \(propensity scores in \[0.45, 0.55\]\) leaves",
        extreme,
        TREATMENT,
        BINARY,
        COVARIATES,
        trim=0.45,
    )
    with pytest.raises(EvaluationError, match="expected 500 values"):
        estimators.balance_table(small, TREATMENT, ["age"], [1.0, 2.0])
    with pytest.raises(EvaluationError, match="negative"):
        estimators.balance_table(small, TREATMENT, ["age"], -np.ones(len(small)))
    with pytest.raises(EvaluationError, match="weight 0"):
        estimators.balance_table(small, TREATMENT, ["age"], np.where(small[TREATMENT] == 1, 0.0, 1.0))


# --- a survey comparison group: near-zero propensities are kept, not refused -----------------

SURVEY_COVARIATES = ["x1", "x2", "x3"]


@pytest.fixture(scope="module")
def survey_replications():
    """100 worlds of 15,000 people of whom about 1% took part; most of the rest have a propensity
    below 1e-6 (the classic job-training benchmarks' shape). About 25 s."""
    results = []
    for seed in range(REPLICATIONS):
        sim = simulate_survey_comparison(seed=seed)
        frame = sim.frame
        ps = expit(SURVEY_INTERCEPT + SURVEY_SELECTION * frame["x1"] + 0.5 * frame["x2"] + 0.5 * frame["x3"])
        estimates = estimators.compare_methods(
            frame,
            "treated",
            "y",
            SURVEY_COVARIATES,
            "att",
            methods=("ipw", "aipw", "matching", "subclassification"),
        )
        results.append((sim.truth["y"]["att"], float((ps < 1e-6).mean()), estimates))
    return results


@pytest.mark.parametrize("method", ["ipw", "aipw", "matching", "subclassification"])
def test_att_with_most_comparison_propensities_below_one_in_a_million(survey_replications, method):
    covered = 0
    for truth, tiny_share, estimates in survey_replications:
        assert tiny_share > 0.5  # most propensities are below 1e-6
        result = next(r for r in estimates if r.method == method)
        covered += result.ci_low <= truth <= result.ci_high
    assert covered >= 90, f"{method}: {covered}/100"
    spread = np.std([next(r for r in e if r.method == method).estimate for _t, _s, e in survey_replications])
    mean = np.mean([next(r for r in e if r.method == method).estimate for _t, _s, e in survey_replications])
    assert abs(mean - survey_replications[0][0]) < 0.5 * spread


def test_near_zero_propensities_keep_a_near_zero_weight():
    frame = simulate_survey_comparison(seed=3).frame
    weights = estimators.propensity_weights(frame, "treated", SURVEY_COVARIATES, estimand="att")
    controls = weights[frame["treated"] == 0]
    assert (controls > 0).all()  # nobody clipped or dropped...
    assert (controls < 1e-4).mean() > 0.5  # ...most simply count for almost nothing
    result = estimators.estimate_effect(
        frame, "treated", "y", SURVEY_COVARIATES, method="ipw", estimand="att"
    )
    assert result.model == "logit" and result.model_reason == ""
    assert 50 < result.effective_control < 1000


def test_common_support_by_crump_or_the_treated_range_says_how_many_it_dropped():
    frame = simulate_survey_comparison(seed=4).frame
    treated_range = estimators.estimate_effect(
        frame, "treated", "y", SURVEY_COVARIATES, method="ipw", estimand="att", support="treated"
    )
    overlap = treated_range.overlap
    assert overlap.support == "treated" and overlap.dropped_treated == 0 and overlap.dropped_control > 10_000
    assert overlap.trim_bounds[0] == pytest.approx(overlap.ps_treated_min)
    assert treated_range.n_control == int((frame["treated"] == 0).sum()) - overlap.dropped_control
    full = estimators.estimate_effect(frame, "treated", "y", SURVEY_COVARIATES, method="ipw", estimand="att")
    # Dropping units whose weight was near zero barely moves the effect on the treated.
    assert treated_range.estimate == pytest.approx(full.estimate, abs=0.5 * full.std_error)
    crump = estimators.estimate_effect(
        frame, "treated", "y", SURVEY_COVARIATES, method="ipw", support="crump"
    )
    low, high = crump.overlap.trim_bounds
    assert 0 < low < 0.5 and high == pytest.approx(1 - low)
    assert crump.overlap.trimmed == crump.overlap.dropped_treated + crump.overlap.dropped_control > 0


def test_crump_bound_by_hand():
    # Scores spread evenly over (0, 1): g = 1/(e(1-e)) has a long tail, so some trimming is due.
    ps = np.linspace(0.001, 0.999, 999)
    bound = propensity.crump_bound(ps)
    g = 1 / (ps * (1 - ps))
    gamma = 1 / (bound * (1 - bound))
    assert gamma <= 2 * g[g <= gamma].mean() + 1e-9
    assert 0.05 < bound < 0.15  # Crump et al. report about 0.1 for most designs
    assert propensity.crump_bound(np.full(100, 0.5)) == 0.0


@pytest.mark.parametrize("terms", ["splines", "interactions"])
def test_flexible_propensity_terms(terms):
    sim = simulate_episodes(3000, seed=17)
    result = estimators.estimate_effect(sim.frame, TREATMENT, BINARY, COVARIATES, method="ipw", terms=terms)
    plain = estimators.estimate_effect(sim.frame, TREATMENT, BINARY, COVARIATES, method="ipw")
    assert result.ci_low < sim.truth[BINARY]["ate"] < result.ci_high
    assert result.estimate != plain.estimate
    penalised = estimators.estimate_effect(
        sim.frame, TREATMENT, BINARY, COVARIATES, method="aipw", terms=terms, model="penalised"
    )
    assert penalised.model == "penalised" and penalised.model_reason == ""
    assert abs(penalised.estimate - result.estimate) < result.std_error


def test_the_propensity_model_is_statsmodels_glm():
    sim = simulate_episodes(2000, seed=8)
    frame = sim.frame
    model = sm.GLM(frame[TREATMENT], sm.add_constant(frame[COVARIATES]), family=sm.families.Binomial()).fit()
    ps = model.predict(sm.add_constant(frame[COVARIATES]))
    result = estimators.estimate_effect(frame, TREATMENT, BINARY, COVARIATES, method="ipw")
    assert result.overlap.ps_control_max == pytest.approx(ps[frame[TREATMENT] == 0].max(), rel=1e-7)


def test_matching_standard_error_by_hand():
    # Treated at 0 and 10 with outcomes 5 and 7; controls at 1 (outcome 1), 9 (outcome 2) and 20
    # (outcome 4, never anyone's match). One match each: tau = ((5-1) + (7-2)) / 2 = 4.5; every
    # control is used at most once, so the variance is the residuals' alone: ((4-4.5)² + (5-4.5)²)/4.
    a = np.array([1, 1, 0, 0, 0], dtype=float)
    y = np.array([5.0, 7.0, 1.0, 2.0, 4.0])
    eta = np.array([0.0, 10.0, 1.0, 9.0, 20.0])
    result = matching.nearest_neighbour(a, y, eta, "att", caliper=10.0)
    assert result.effect == pytest.approx(4.5)
    assert result.variance == pytest.approx(0.5 / 4)
    assert list(result.weights) == [1, 1, 1, 1, 0]
    # Both treated matched to the same control (at 9): it counts twice, and its own variance with it.
    eta_shared = np.array([8.0, 10.0, 1.0, 9.0, 20.0])
    shared = matching.nearest_neighbour(a, y, eta_shared, "att", caliper=10.0)
    assert shared.effect == pytest.approx(((5 - 2) + (7 - 2)) / 2)
    assert shared.weights[3] == 2 and shared.weights[2] == 0
    # sigma² of the control at 9 from its two nearest controls (1 and 20): 2/3 (2 - 2.5)².
    sigma2 = 2 / 3 * (2 - 2.5) ** 2
    assert shared.variance == pytest.approx(((3 - 4) ** 2 + (5 - 4) ** 2 + (2 * 2 - 2) * sigma2) / 4)


def test_a_caliper_leaves_far_treated_episodes_unmatched_and_says_so():
    a = np.array([1, 1, 0, 0, 0], dtype=float)
    y = np.array([5.0, 7.0, 1.0, 2.0, 4.0])
    eta = np.array([0.0, 30.0, 0.5, 1.0, 1.5])
    result = matching.nearest_neighbour(a, y, eta, "att", caliper=0.2)
    assert result.unmatched_treated == 1 and result.effect == pytest.approx(5 - 1)


def test_subclassification_weighs_blocks_by_their_treated():
    a = np.array([1, 1, 0, 0, 1, 1, 0, 0, 0, 0], dtype=float)
    y = np.array([3.0, 5, 1, 3, 10, 12, 6, 8, 100, 100])
    eta = np.array([1.0, 1.1, 1.05, 1.2, 5, 5.1, 5.05, 5.2, -10, -9])
    result = matching.subclassify(a, y, eta, "att", subclasses=2)
    # Blocks {1.0..1.2} and {5..5.2}: differences 2 and 4, each with two treated; the two comparison
    # episodes below the lowest treated propensity belong to no block.
    assert result.effect == pytest.approx(3.0) and result.blocks == 2 and result.unmatched_control == 2
    assert result.variance == pytest.approx(0.25 * (2 / 2 + 2 / 2) * 2)
