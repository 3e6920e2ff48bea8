"""Funnel plots: exact binomial limits, the over-dispersion adjustment, outliers and the drawing.

The limits are checked against quantiles found here by summing the binomial pmf (math.comb),
never by calling the module's own limit code.
"""

import math
import re

import numpy as np
import pandas as pd
import pytest

from recoverybridge.evaluation.errors import EvaluationError
from recoverybridge.evaluation.funnel import (
    exact_limits,
    funnel,
    funnel_from_counts,
    release_funnel,
    render_funnel_svg,
)
from recoverybridge.evaluation.suppression import SuppressionRule


def independent_limit(n, p0, p):
    """Spiegelhalter's interpolated limit for tail probability p, from the pmf summed by hand."""
    cdf, r, below = 0.0, 0, 0.0
    while True:
        below = cdf
        cdf += math.comb(n, r) * p0**r * (1 - p0) ** (n - r)
        if cdf >= p - 1e-12:
            break
        r += 1
    alpha = (cdf - p) / (cdf - below)
    return min(1.0, max(0.0, (r - alpha) / n))


@pytest.mark.parametrize("p0", [0.03, 0.2, 0.5, 0.81])
@pytest.mark.parametrize("n", [1, 7, 20, 64, 150, 500])
def test_exact_limits_match_binomial_quantiles_summed_by_hand(n, p0):
    for level, tails in ((0.95, (0.025, 0.975)), (0.998, (0.001, 0.999))):
        lower, upper = exact_limits([n], p0, level)
        assert lower[0] == pytest.approx(independent_limit(n, p0, tails[0]), abs=1e-9)
        assert upper[0] == pytest.approx(independent_limit(n, p0, tails[1]), abs=1e-9)


def test_a_worker_far_above_the_others_is_an_outlier_and_the_rest_are_inside():
    # Ten workers refer 20 of 100 episodes each to mutual aid; Dana refers 45 of 100.
    units = [f"worker {i}" for i in range(10)] + ["Dana"]
    result = funnel_from_counts(units, [100] * 11, [20] * 10 + [45])
    p0 = 245 / 1100
    assert result.p0 == pytest.approx(p0)
    upper_998 = independent_limit(100, p0, 0.999)
    lower_95, upper_95 = independent_limit(100, p0, 0.025), independent_limit(100, p0, 0.975)
    assert lower_95 < 0.20 < upper_95 < upper_998 < 0.45
    units_frame = result.units.set_index("unit")
    assert units_frame.loc["Dana", "upper_998"] == pytest.approx(upper_998, abs=1e-9)
    assert units_frame.loc["worker 3", "lower_95"] == pytest.approx(lower_95, abs=1e-9)
    # Winsorising pulls Dana's z to the others', so phi is small and the limits stay exact.
    assert not result.overdispersed and result.tau2 == 0
    assert result.outliers["unit"].tolist() == ["Dana"]
    assert units_frame.loc["Dana", "exact"] == "above_998"
    assert (units_frame.drop(index="Dana")["position"] == "inside").all()
    assert result.watch.empty


def test_limits_at_each_units_own_n_and_the_drawing_curves():
    n = [12, 40, 90, 300]
    events = [2, 9, 30, 51]
    result = funnel_from_counts(list("abcd"), n, events)
    p0 = sum(events) / sum(n)
    for row in result.units.itertuples():
        assert row.lower_95 == pytest.approx(independent_limit(row.n, p0, 0.025), abs=1e-9)
        assert row.upper_998 == pytest.approx(independent_limit(row.n, p0, 0.999), abs=1e-9)
    curves = result.curves
    assert curves["n"].iloc[0] == 12 and curves["n"].iloc[-1] == 300
    row = curves[curves["n"] == 300].iloc[0]
    assert row["lower_998"] == pytest.approx(independent_limit(300, p0, 0.001), abs=1e-9)


def test_overdispersion_by_hand():
    # Eight teams, 1000 episodes, 200 referred: p0 = 0.2, p0(1 - p0) = 0.16.
    n = [50, 100, 100, 200, 50, 100, 200, 200]
    events = [5, 30, 12, 55, 16, 20, 36, 26]
    # s² = 0.16 / n: 0.0032 for n = 50, 0.0016 for 100, 0.0008 for 200; s = 0.0565685, 0.04, 0.0282843.
    # rates: .10 .30 .12 .275 .32 .20 .18 .13
    # z = (rate - 0.2) / s:
    z = [
        -0.1 / math.sqrt(0.0032),  # -1.767767
        0.1 / 0.04,  # 2.5
        -0.08 / 0.04,  # -2.0
        0.075 / math.sqrt(0.0008),  # 2.651650
        0.12 / math.sqrt(0.0032),  # 2.121320
        0.0,
        -0.02 / math.sqrt(0.0008),  # -0.707107
        -0.07 / math.sqrt(0.0008),  # -2.474874
    ]
    # Sorted: -2.474874, -2.0, -1.767767, -0.707107, 0, 2.121320, 2.5, 2.651650.
    # 10th percentile at position 0.1 x 7 = 0.7 between the 1st and 2nd: -2.474874 + 0.7 x 0.474874
    low = z[7] + 0.7 * (z[2] - z[7])  # -2.142462
    # 90th percentile at position 6.3 between the 7th and 8th: 2.5 + 0.3 x 0.151650
    high = z[1] + 0.3 * (z[3] - z[1])  # 2.545495
    winsorised = [min(max(v, low), high) for v in z]  # only the two extremes move
    # Squares: 3.125, 6.25, 4.0, 6.479545, 4.5, 0, 0.5, 4.590143; sum 29.444688
    phi = sum(v * v for v in winsorised) / 8  # 3.680586
    assert phi == pytest.approx(3.680586, abs=1e-6)
    # I·phi = 29.44 > I - 1 = 7: over-dispersed.
    # w = 1/s² = n / 0.16: 312.5 (x2), 625 (x3), 1250 (x3); Σw = 6250,
    # Σw² = 2 x 97656.25 + 3 x 390625 + 3 x 1562500 = 6054687.5; Σw²/Σw = 968.75
    tau2 = (8 * phi - 7) / (6250 - 968.75)  # 22.444688 / 5281.25 = 0.00424989
    assert tau2 == pytest.approx(0.0042499, abs=1e-7)

    result = funnel_from_counts(list("ABCDEFGH"), n, events)
    assert result.p0 == 0.2
    assert result.units["z"].tolist() == pytest.approx(z)
    assert result.phi == pytest.approx(phi, rel=1e-9)
    assert result.tau2 == pytest.approx(tau2, rel=1e-9)
    assert result.overdispersed and result.limits_in_use == "adjusted"
    # Team D (55 of 200, 27.5%) is above the exact 95% limit but, with the random effect,
    # inside 0.2 + 1.959964 x sqrt(0.0008 + tau²) = 0.2 + 1.959964 x 0.071063 = 0.339281.
    team_d = result.units.set_index("unit").loc["D"]
    assert team_d["exact"] == "above_95"
    assert team_d["adj_upper_95"] == pytest.approx(0.2 + 1.959964 * math.sqrt(0.0008 + tau2), abs=1e-6)
    assert team_d["adj_upper_998"] == pytest.approx(0.2 + 3.090232 * math.sqrt(0.0008 + tau2), abs=1e-6)
    assert team_d["adjusted"] == "inside" and team_d["position"] == "inside"
    assert result.outliers.empty


def test_winsorising_can_be_turned_off():
    n = [50, 100, 100, 200, 50, 100, 200, 200]
    events = [5, 30, 12, 55, 16, 20, 36, 26]
    result = funnel_from_counts(list("ABCDEFGH"), n, events, winsor=0)
    z = result.units["z"].to_numpy()
    assert result.phi == pytest.approx(float(np.mean(z**2)))


def test_an_episode_frame_gives_the_same_funnel_as_its_counts():
    rng = np.random.default_rng(3)
    teams = rng.choice(["north", "south", "east", "west", "centre"], size=5000)
    referred = (rng.random(5000) < np.where(teams == "east", 0.45, 0.3)).astype(float)
    referred[:40] = np.nan  # not applicable: dropped and counted
    frame = pd.DataFrame({"team": teams, "referred_mutual_aid": referred})
    result = funnel(frame, "team", "referred_mutual_aid")
    kept = frame.dropna()
    counts = kept.groupby("team")["referred_mutual_aid"].agg(["size", "sum"])
    expected = funnel_from_counts(counts.index, counts["size"], counts["sum"])
    assert result.dropped == 40
    assert result.units["unit"].tolist() == ["centre", "east", "north", "south", "west"]
    pd.testing.assert_frame_equal(result.units, expected.units)
    assert result.phi == expected.phi
    # East refers far more often: outside the exact limits (over-dispersion may absorb it).
    assert result.units.set_index("unit").loc["east", "exact"] == "above_998"


def test_boolean_indicators_and_empty_categories():
    frame = pd.DataFrame(
        {
            "area": pd.Categorical(["a", "a", "b", "b", "b"], categories=["a", "b", "empty"]),
            "referred_rehab": [True, False, False, False, True],
        }
    )
    result = funnel(frame, "area", "referred_rehab")
    assert result.excluded == ("empty",)
    assert result.units["n"].tolist() == [2, 3]
    assert result.units["events"].tolist() == [1, 1]


def test_units_with_no_episodes_are_listed_not_compared():
    result = funnel_from_counts(["a", "b", "c"], [10, 0, 30], [3, 0, 9])
    assert result.excluded == ("b",)
    assert result.units["unit"].tolist() == ["a", "c"]


def test_bad_input_is_refused_with_a_reason():
    frame = pd.DataFrame({"worker": ["x", "y"], "referred": [0, 2]})
    with pytest.raises(EvaluationError, match="no column 'team'"):
        funnel(frame, "team", "referred")
    with pytest.raises(EvaluationError, match="must hold 0 or 1"):
        funnel(frame, "worker", "referred")
    with pytest.raises(EvaluationError, match="must hold 0 or 1"):
        funnel(pd.DataFrame({"worker": ["x"], "referred": ["yes"]}), "worker", "referred")
    with pytest.raises(EvaluationError, match="negative"):
        funnel_from_counts(["a"], [-1], [0])
    with pytest.raises(EvaluationError, match="exceed n"):
        funnel_from_counts(["a", "b"], [5, 5], [2, 6])
    with pytest.raises(EvaluationError, match="same length"):
        funnel_from_counts(["a", "b"], [5], [2])
    with pytest.raises(EvaluationError, match="distinct"):
        funnel_from_counts(["a", "a"], [5, 5], [2, 2])
    with pytest.raises(EvaluationError, match="no episodes"):
        funnel_from_counts(["a"], [0], [0])


def test_a_million_episodes_over_two_thousand_workers():
    rng = np.random.default_rng(1)
    workers = rng.integers(0, 2000, 1_000_000)
    referred = (rng.random(1_000_000) < 0.25).astype(float)
    result = funnel(pd.DataFrame({"worker": workers, "referred": referred}), "worker", "referred")
    assert len(result.units) == 2000
    assert result.total_n == 1_000_000
    # Pure binomial data: no over-dispersion, and about 0.2% of units outside 99.8% by chance.
    assert not result.overdispersed
    assert len(result.outliers) < 20


def test_the_drawing_is_accessible_and_labels_only_outliers():
    units = [f"worker {i}" for i in range(10)] + ["Dana <b>"]
    result = funnel_from_counts(units, [100] * 11, [20] * 10 + [45])
    svg = str(render_funnel_svg(result, "Referrals & more", "Referral rate by worker"))
    assert svg.startswith('<svg class="chart funnel" id="funnel" role="img"')
    assert '<title id="funnel-title">Referrals &amp; more</title>' in svg
    assert '<desc id="funnel-desc">Referral rate by worker</desc>' in svg
    assert "style=" not in svg and "<script" not in svg
    labels = re.sub(r"<title>.*?</title>", "", svg)  # tooltips name every point; labels only outliers
    assert "Dana &lt;b&gt;" in labels  # the outlier is labelled, escaped
    assert "worker 3" not in labels  # the others are not
    assert "<title>worker 3: 20 of 100, 20%</title>" in svg
    assert svg.count("<polygon") == 2  # the outlier's triangle and the legend's
    hidden = str(render_funnel_svg(result, "t", "d", hide_units=["Dana <b>"]))
    assert "Dana" not in hidden and hidden.count("<polygon") == 1


def test_released_funnel_hides_small_units():
    result = funnel_from_counts(["a", "b", "c", "d"], [100, 50, 12, 200], [30, 4, 12, 0])
    released = release_funnel(result, SuppressionRule(7, 5))
    table = released.table.set_index("unit")
    assert set(released.hidden_units) == {"a", "b", "c"}
    assert table.loc["b"].tolist() == ["*", "*", "*", "*", "*", "*"]
    assert table.loc["d", "percent"] == 0.0 and table.loc["d", "position"] in (
        "inside",
        "below_95",
        "below_998",
    )
    assert table.loc["Total", "n"] == 360
