"""Dose-response: the adjusted slope, standardised band means and the non-linearity check."""

import itertools

import numpy as np
import pandas as pd
import pytest

from recoverybridge.evaluation.dose import dose_response, ols_hc1, spline_terms
from recoverybridge.evaluation.errors import EvaluationError
from recoverybridge.evaluation.simulate import simulate_episodes


def confounded(n, seed, curve=None):
    """A dose chosen by people who would do better anyway; outcome linear in dose (slope -1) unless curved."""
    rng = np.random.default_rng(seed)
    capital = rng.normal(0, 1, n)
    kind = rng.choice(["a", "b", "c"], n)
    dose = rng.poisson(np.exp(0.5 + 0.4 * capital)).astype(float)
    effect = -1.0 * dose if curve is None else curve(dose)
    outcome = 10 + effect - 2.0 * capital + (kind == "b") * 1.5 + rng.normal(0, 3, n)
    return pd.DataFrame({"dose": dose, "outcome": outcome, "capital": capital, "kind": pd.Categorical(kind)})


def test_adjusted_slope_covers_the_true_slope_and_naive_does_not():
    covered = 0
    for seed in range(10):
        frame = confounded(1500, seed)
        adjusted = dose_response(frame, "dose", "outcome", ["capital", "kind"], nonlinearity=False)
        naive = dose_response(frame, "dose", "outcome", [], nonlinearity=False)
        covered += adjusted.ci_low <= -1.0 <= adjusted.ci_high
        assert naive.ci_high < -1.0  # confounding flatters the dose
    assert covered >= 8


def test_simulated_meetings_lower_days_used():
    sim = simulate_episodes(3000, seed=7)
    result = dose_response(sim.frame)
    truth = sim.truth["dose_days_used_6m"]["ate"]
    # Days are truncated at 0 in the simulator, which flattens the line a little.
    assert result.ci_high < 0
    assert truth * 1.3 < result.slope < truth * 0.6
    assert result.n == 3000 and result.n_dropped == 0
    means = [band.adjusted_mean for band in result.bands]
    assert all(later < earlier for earlier, later in itertools.pairwise(means))
    assert [band.label for band in result.bands] == ["0", "over 0, up to 1", "over 1, up to 3", "over 3"]
    dose = sim.frame.meetings_per_week
    assert [band.n for band in result.bands] == [
        (dose == 0).sum(),
        (dose == 1).sum(),
        dose.between(2, 3).sum(),
        (dose >= 4).sum(),
    ]


def test_every_dose_between_whole_numbers_falls_in_a_band():
    # From the care records the dose is a mean over weeks: 0.5 or 2.25 meetings a week.
    frame = confounded(400, seed=5)
    frame["dose"] = frame["dose"] * 0.75
    assert (frame.dose != frame.dose.round()).any()
    result = dose_response(frame, "dose", "outcome", ["capital"])
    assert sum(band.n for band in result.bands) == result.n
    assert result.bands[1].n == frame.dose.between(0, 1, inclusive="right").sum()


def test_band_means_are_standardised_to_the_whole_cohort():
    frame = confounded(800, seed=3)
    result = dose_response(frame, "dose", "outcome", ["capital", "kind"], bands=((0, 0), (0, 2), (2, None)))
    # g-computation by hand: fit, then predict for everyone as if all were in each band, and average.
    band = np.select([frame.dose == 0, frame.dose <= 2], [0, 1], 2)
    indicators = np.eye(3)[band]
    kinds = pd.get_dummies(frame.kind, drop_first=True, dtype=float).to_numpy()
    x = np.column_stack([indicators, frame.capital, kinds])
    beta, *_ = np.linalg.lstsq(x, frame.outcome.to_numpy(), rcond=None)
    for b, reported in enumerate(result.bands):
        everyone = np.column_stack([np.tile(np.eye(3)[b], (len(frame), 1)), frame.capital, kinds])
        assert reported.adjusted_mean == pytest.approx((everyone @ beta).mean(), rel=1e-9)
        assert reported.ci_low < reported.adjusted_mean < reported.ci_high


def test_a_band_nobody_is_in_has_no_mean():
    frame = confounded(300, seed=1)
    top = frame.dose.max()
    result = dose_response(frame, "dose", "outcome", ["capital"], bands=((0, 0), (0, top), (top, None)))
    empty = result.bands[2]
    assert empty.n == 0
    assert (empty.adjusted_mean, empty.ci_low, empty.ci_high) == (None, None, None)
    assert result.bands[0].adjusted_mean is not None and result.bands[1].n == (frame.dose >= 1).sum()


def test_non_linearity_is_found_only_when_there_is_some():
    straight = confounded(3000, seed=4)
    bent = confounded(3000, seed=4, curve=lambda d: -3.0 * np.sqrt(d))
    assert dose_response(straight, "dose", "outcome", ["capital", "kind"]).nonlinearity_p > 0.001
    assert dose_response(bent, "dose", "outcome", ["capital", "kind"]).nonlinearity_p < 0.001


def test_spline_terms_are_linear_beyond_the_last_knot():
    knots = np.array([0.0, 1.0, 3.0, 6.0])
    x = np.array([6.0, 7.0, 8.0, 9.0])
    second_differences = np.diff(spline_terms(x, knots), n=2, axis=0)
    assert np.allclose(second_differences, 0)
    assert np.allclose(spline_terms(np.array([-1.0, 0.0]), knots), 0)


@pytest.mark.parametrize(
    ("change", "kwargs", "message"),
    [
        (lambda f: f.drop(columns="capital"), {}, "capital"),
        (lambda f: f.assign(dose=2.0), {}, "dose"),
        (lambda f: f.assign(outcome="x"), {}, "outcome"),
        (lambda f: f.assign(capital=np.nan), {}, "no rows"),
        (lambda f: f, {"bands": ((0, 2), (1, 3))}, "bands"),
        (lambda f: f, {"bands": ((3, 1),)}, "bands"),
        (lambda f: f, {"bands": ()}, "bands"),
    ],
)
def test_bad_input_is_an_evaluation_error(change, kwargs, message):
    frame = change(confounded(100, seed=0))
    with pytest.raises(EvaluationError, match=message):
        dose_response(frame, "dose", "outcome", ["capital"], **kwargs)


def test_robust_least_squares_agree_with_statsmodels():
    import statsmodels.api as sm

    frame = confounded(500, seed=9)
    x = np.column_stack([np.ones(len(frame)), frame.dose, frame.capital * 1000.0])
    y = frame.outcome.to_numpy()
    params, cov = ols_hc1(y, x)
    fit = sm.OLS(y, x).fit(cov_type="HC1")
    assert params == pytest.approx(np.asarray(fit.params), rel=1e-9)
    assert cov == pytest.approx(np.asarray(fit.cov_params()), rel=1e-7)


def test_collinear_covariates_are_refused():
    frame = confounded(200, seed=2)
    frame["capital_again"] = frame.capital * 2
    with pytest.raises(EvaluationError, match="covariates"):
        dose_response(frame, "dose", "outcome", ["capital", "capital_again"])
