"""Kaplan-Meier and Cox: checked against a product-limit computed by hand and the simulator's truth."""

import math
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from recoverybridge.evaluation import frame as columns
from recoverybridge.evaluation.errors import EvaluationError
from recoverybridge.evaluation.simulate import simulate_episodes
from recoverybridge.evaluation.survival import cox, kaplan_meier, render_km_svg

COVARIATES = [*(column.name for column in columns.COVARIATES), "episode_kind"]


def product_limit(durations, events, t):
    """S(t) and its log(-log) Greenwood 95% interval, by hand."""
    survival, greenwood = 1.0, 0.0
    for day in np.unique(durations[events == 1]):
        if day > t:
            break
        at_risk = np.sum(durations >= day)
        died = np.sum((durations == day) & (events == 1))
        survival *= 1 - died / at_risk
        if at_risk > died:
            greenwood += died / (at_risk * (at_risk - died))
    if survival in (0.0, 1.0):
        return survival, None, None
    z = stats.norm.ppf(0.975)
    spread = z * math.sqrt(greenwood) / abs(math.log(survival))
    return survival, survival ** math.exp(spread), survival ** math.exp(-spread)


def tied_frame():
    # Ties between events, between censorings, and between an event and a censoring (day 5).
    return pd.DataFrame(
        {
            "days_to_event": [2, 2, 3, 5, 5, 5, 8, 8, 10, 12, 12, 15, 1, 4, 4, 6, 9, 9, 11, 20],
            "event": [1, 1, 0, 1, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 1, 0, 1, 1, 0],
            "peer_bridged": [0] * 12 + [1] * 8,
        },
        dtype=float,
    )


def test_survival_matches_a_product_limit_done_by_hand():
    frame = tied_frame()
    km = kaplan_meier(frame, times=(4, 5, 9, 12, 30))
    assert [g.n for g in km.groups] == [12, 8]
    for group, value in zip(km.groups, (0.0, 1.0), strict=True):
        rows = frame[frame.peer_bridged == value]
        durations, events = rows.days_to_event.to_numpy(), rows.event.to_numpy()
        assert group.events == int(events.sum())
        for at in group.at:
            if at.days > durations.max():
                assert at.survival is None
                continue
            expected, low, high = product_limit(durations, events, at.days)
            assert at.survival == pytest.approx(expected, abs=1e-12)
            if low is not None:
                assert at.ci_low == pytest.approx(low, rel=1e-9)
                assert at.ci_high == pytest.approx(high, rel=1e-9)


def test_survival_on_simulated_episodes_matches_by_hand():
    frame = simulate_episodes(400, seed=3).frame
    km = kaplan_meier(frame, times=(30, 90, 180, 365))
    treated = frame[frame.peer_bridged == 1]
    expected, low, high = product_limit(treated.days_to_event.to_numpy(), treated.event.to_numpy(), 180)
    at_180 = km.groups[1].at[2]
    assert at_180.survival == pytest.approx(expected, abs=1e-12)
    assert (at_180.ci_low, at_180.ci_high) == pytest.approx((low, high), rel=1e-9)
    # Curves are drawable: at most 200 steps, time increasing, survival not increasing.
    for group in km.groups:
        curve = group.curve
        assert 2 <= len(curve.times) <= 200
        assert np.all(np.diff(curve.times) > 0)
        assert np.all(np.diff(curve.survival) <= 0)
        assert all(lo <= s <= hi for lo, s, hi in zip(curve.lower, curve.survival, curve.upper, strict=True))


def test_median_is_none_until_half_have_had_the_event():
    frame = tied_frame()
    km = kaplan_meier(frame, group=None, times=(10,))
    durations, events = frame.days_to_event.to_numpy(), frame.event.to_numpy()
    first_at_half = min(d for d in np.unique(durations) if product_limit(durations, events, d)[0] <= 0.5)
    assert km.groups[0].median == first_at_half
    late = frame.assign(event=0.0)
    late.loc[0, "event"] = 1.0
    assert kaplan_meier(late, group=None).groups[0].median is None


def test_integer_weights_are_the_same_as_repeated_rows():
    frame = tied_frame()
    repeats = np.array([1, 2, 3, 1, 1, 2, 1, 4, 1, 1, 2, 1, 3, 1, 2, 1, 1, 2, 1, 1])
    weighted = kaplan_meier(frame, weights=repeats.astype(float), times=(5, 9, 12))
    repeated = kaplan_meier(frame.loc[frame.index.repeat(repeats)], times=(5, 9, 12))
    assert weighted.weighted
    for w_group, r_group in zip(weighted.groups, repeated.groups, strict=True):
        assert [a.survival for a in w_group.at] == pytest.approx([a.survival for a in r_group.at])
    # A column name works as well as an array.
    by_name = kaplan_meier(frame.assign(w=repeats), weights="w", times=(5, 9, 12))
    assert by_name.groups[0].at == weighted.groups[0].at


def test_rows_missing_anything_are_dropped_and_counted():
    frame = tied_frame()
    frame.loc[[0, 13], "peer_bridged"] = np.nan
    frame.loc[5, "days_to_event"] = np.nan
    km = kaplan_meier(frame)
    assert km.n_dropped == 3
    assert km.n == 17


def replication(seed):
    frame = simulate_episodes(2000, seed=seed).frame
    return cox(frame, "peer_bridged", COVARIATES), cox(frame, "peer_bridged")


def test_adjusted_hazard_ratio_covers_the_truth_and_naive_flatters():
    truth = simulate_episodes(10).truth["hazard_ratio"]["ate"]
    covered = 0
    for seed in range(10):
        adjusted, naive = replication(seed)
        assert adjusted.method == "adjusted" and naive.method == "unadjusted"
        covered += adjusted.ci_low <= truth <= adjusted.ci_high
        # Self-selection: the naive comparison says peer bridging helps more than it does.
        assert naive.hazard_ratio < adjusted.hazard_ratio
        assert naive.ci_high < truth
    assert covered >= 8


def test_weighted_cox_runs_with_inverse_probability_weights():
    import statsmodels.api as sm

    frame = simulate_episodes(3000, seed=11).frame
    numeric = [c for c in COVARIATES if c != "episode_kind"]
    propensity = sm.Logit(frame.peer_bridged, sm.add_constant(frame[numeric])).fit(disp=0).predict()
    treated = frame.peer_bridged.to_numpy()
    weights = treated / propensity + (1 - treated) / (1 - propensity)
    weighted = cox(frame, "peer_bridged", weights=np.asarray(weights))
    naive = cox(frame, "peer_bridged")
    assert weighted.method == "weighted"
    assert weighted.n == 3000 and weighted.events == naive.events
    assert naive.hazard_ratio < weighted.hazard_ratio < 1
    assert weighted.ci_low < weighted.hazard_ratio < weighted.ci_high


def test_robust_variance_agrees_with_lifelines_own():
    from lifelines import CoxPHFitter

    frame = simulate_episodes(300, seed=5).frame
    weights = np.random.default_rng(5).uniform(0.3, 3.0, len(frame))
    ours = cox(frame, "peer_bridged", ["age", "baseline_days_used"], weights=weights)
    data = frame[["peer_bridged", "age", "baseline_days_used", "days_to_event", "event"]].assign(w=weights)
    theirs = CoxPHFitter().fit(data, "days_to_event", "event", weights_col="w", robust=True)
    row = theirs.summary.loc["peer_bridged"]
    assert ours.hazard_ratio == pytest.approx(row["exp(coef)"], rel=1e-4)
    se = math.log(ours.ci_high / ours.ci_low) / (2 * stats.norm.ppf(0.975))
    # lifelines orders tied days by row; we treat them as tied (Breslow): close, not identical.
    assert se == pytest.approx(row["se(coef)"], rel=0.03)


def test_cox_drops_and_counts_incomplete_rows_and_encodes_categories():
    frame = simulate_episodes(500, seed=2).frame
    frame.loc[:9, "age"] = np.nan
    result = cox(frame, "peer_bridged", ["age", "episode_kind"])
    assert result.n == 490 and result.n_dropped == 10
    assert result.covariates == ("age", "episode_kind")


@pytest.mark.parametrize(
    ("change", "call", "message"),
    [
        (lambda f: f.drop(columns="event"), lambda f: cox(f, "peer_bridged"), "event"),
        (lambda f: f, lambda f: cox(f, "peer_bridged", ["no_such_column"]), "no_such_column"),
        (lambda f: f.assign(peer_bridged=2.0), lambda f: cox(f, "peer_bridged"), "peer_bridged"),
        (lambda f: f.assign(peer_bridged=1.0), lambda f: cox(f, "peer_bridged"), "peer_bridged"),
        (lambda f: f.assign(event=0.0), lambda f: cox(f, "peer_bridged"), "no events"),
        (lambda f: f.assign(peer_bridged=1.0), lambda f: kaplan_meier(f), "no rows with value 0"),
        (lambda f: f.assign(days_to_event=-1.0), lambda f: kaplan_meier(f), "days_to_event"),
        (lambda f: f.assign(event=3.0), lambda f: kaplan_meier(f), "event"),
        (lambda f: f, lambda f: kaplan_meier(f, weights=np.ones(3)), "weights"),
        (lambda f: f, lambda f: kaplan_meier(f, weights=-np.ones(len(f))), "weights"),
        (lambda f: f.assign(area=np.nan), lambda f: kaplan_meier(f, group="area"), "days_to_event"),
    ],
)
def test_bad_input_is_an_evaluation_error_naming_the_problem(change, call, message):
    frame = change(simulate_episodes(200, seed=1).frame)
    with pytest.raises(EvaluationError, match=message):
        call(frame)


def test_chart_is_well_formed_accessible_svg():
    frame = simulate_episodes(500, seed=4).frame
    km = kaplan_meier(frame, group="episode_kind")
    svg = str(render_km_svg(km, "Return to use <by kind> & more", "Five curves", chart_id="km-kind"))
    root = ET.fromstring(svg)  # noqa: S314  (our own output)
    assert root.tag == "svg" and root.get("role") == "img"
    assert root.get("aria-labelledby") == "km-kind-title km-kind-desc"
    assert root.find("title").text == "Return to use <by kind> & more"
    assert root.find("desc").text == "Five curves"
    elements = list(root.iter())
    assert not any(e.tag in ("script", "style") or "style" in e.attrib for e in elements)
    series = root.findall("g")
    assert len(series) == 5
    # Groups differ by dash pattern as well as colour (the first is solid).
    lines = [g.find("polyline") for g in series]
    assert len({(line.get("stroke"), line.get("stroke-dasharray")) for line in lines}) == 4
    assert len({line.get("stroke-dasharray") for line in lines[:4]}) == 4
    legend = [t.text for t in root.findall("text")]
    assert all(kind in legend for kind in frame.episode_kind.cat.categories)
