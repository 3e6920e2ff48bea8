"""Suppression: what leaves a care team never lets a count from 1 to 7 be worked out.

The attacker model for the recovery test: someone who knows the rule and sees one released
table (cells, margins and, for rate tables, the percentages) solves integer programs for the
smallest and largest value each hidden count could take. A rounded value v (base 5) says the
count is in v-2..v+2 and above the threshold; "*" says at least 1 (zeros are shown, and
secondary suppression never picks a zero); 0 says exactly 0.

Must the interval reach outside 1..7? No: a "*" may be primary or secondary, but a reader is
entitled to suspect any "*" of being 1..7 — that is what the published rule says. What must not
happen is narrowing a hidden count down within 1..7, so the test asks that every hidden small
count has at least three possible values (max - min >= 2), and that the true value is among them
(which checks the model of what was released).
"""

import numpy as np
import pandas as pd
import pytest
from django.test import override_settings
from scipy.optimize import linprog

from recoverybridge.evaluation.errors import EvaluationError
from recoverybridge.evaluation.suppression import (
    SUPPRESSED,
    SuppressionRule,
    suppress_counts,
    suppress_rates,
    suppress_table,
)

THRESHOLD = 7
BASE = 5
CEILING = 10**6


# --- Examples --------------------------------------------------------------------------------


def test_small_counts_are_stars_zero_stays_and_others_round_to_five():
    released = suppress_counts([0, 1, 7, 8, 12, 13, 40], total=False, threshold=7, rounding=5)
    assert released.tolist() == [0, "*", "*", 10, 10, 15, 40]


def test_one_dimension_with_total_hides_a_second_cell():
    # 3 alone would be total - (12 + 40 + 0) ± rounding, so the smallest other non-zero (12) goes.
    released = suppress_counts(pd.Series([3, 12, 40, 0], index=["a", "b", "c", "d"]), rule=SuppressionRule())
    assert released.to_dict() == {"a": "*", "b": "*", "c": 40, "d": 0, "Total": 55}


def test_one_dimension_two_small_counts_need_nothing_more():
    released = suppress_counts([3, 0, 12, 40, 9], threshold=7, rounding=5)
    assert released.tolist() == ["*", 0, 10, 40, "*", 65]


def test_a_small_total_is_hidden_too():
    assert suppress_counts([2, 0, 3], threshold=7, rounding=5).tolist() == ["*", 0, "*", "*"]


def test_two_dimensions_with_margins():
    counts = pd.DataFrame([[3, 20, 15], [10, 0, 30], [12, 40, 2]], index=list("abc"), columns=list("xyz"))
    released = suppress_table(counts, threshold=7, rounding=5)
    # Row a: 3 takes 15 (its smallest non-zero neighbour); row c: 2 takes 12. Columns x and z
    # then hold two stars each, so the fixed point is reached. Margins round the true totals.
    assert released.to_numpy().tolist() == [
        ["*", 20, "*", 40],
        [10, 0, 30, 40],
        ["*", 40, "*", 55],
        [25, 60, 45, 130],
    ]
    assert list(released.index) == ["a", "b", "c", "Total"]
    assert list(released.columns) == ["x", "y", "z", "Total"]


def test_secondary_suppression_chains_through_margins():
    # One small cell in a 2 x 2: its row, its column and then the other row and column all need
    # a second star, which ends up hiding every cell; margins survive.
    counts = pd.DataFrame([[4, 30], [50, 60]])
    released = suppress_table(counts, threshold=7, rounding=5)
    assert released.to_numpy().tolist() == [["*", "*", 35], ["*", "*", 110], [55, 90, 145]]


def test_rates_are_hidden_with_their_counts():
    released = suppress_rates(
        ["a", "b", "c", "d"], [100, 50, 12, 200], [30, 4, 12, 0], threshold=7, rounding=5
    )
    assert released.loc["d"].tolist() == [200, 0, 0.0]
    # b's 4 referrals are hidden, which hides c's events (smallest other in the column) and
    # a's complement (smallest other in the complement column), and so their rates.
    for unit in "abc":
        assert released.loc[unit, "percent"] == SUPPRESSED
        assert released.loc[unit, "events"] == SUPPRESSED
    assert released.loc["Total"].tolist() == [360, 45, 12.5]  # 45 of 360, as released


def test_rate_uses_the_released_counts():
    # 41 of 123 is 33.3%, which beside "125" would pin 41 and 123 exactly: the rate is 40 of 125.
    released = suppress_rates(["a", "b"], [123, 88], [41, 20], threshold=7, rounding=5)
    assert released.loc["a"].tolist() == [125, 40, 32.0]
    assert released.loc["b"].tolist() == [90, 20, 22.2]


def test_the_same_table_is_released_the_same_way():
    rng = np.random.default_rng(5)
    counts = pd.DataFrame(rng.integers(0, 30, size=(6, 4)))
    assert suppress_table(counts, rule=SuppressionRule()).equals(
        suppress_table(counts, rule=SuppressionRule())
    )


def test_threshold_and_rounding_come_from_settings():
    with override_settings(EVALUATION_SUPPRESSION={"threshold": 10, "rounding": 10}):
        assert SuppressionRule.from_settings() == SuppressionRule(10, 10)
        assert suppress_counts([9, 14, 15, 0], total=False).tolist() == ["*", 10, 20, 0]
        # Explicit arguments win over settings.
        assert suppress_counts([9, 14], total=False, threshold=5, rounding=5).tolist() == [10, 15]
    with override_settings(EVALUATION_SUPPRESSION={"threshold": 3}):
        assert SuppressionRule.from_settings() == SuppressionRule(3, 5)


def test_defaults_without_the_setting(settings):
    del settings.EVALUATION_SUPPRESSION
    assert SuppressionRule.from_settings() == SuppressionRule(7, 5)


def test_bad_input_is_refused():
    with pytest.raises(EvaluationError, match="negative"):
        suppress_counts([3, -1])
    with pytest.raises(EvaluationError, match="whole numbers"):
        suppress_counts([3, 1.5])
    with pytest.raises(EvaluationError, match="exceed"):
        suppress_rates(["a"], [3], [4])
    with pytest.raises(EvaluationError, match="rounding"):
        SuppressionRule(rounding=0)
    with (
        override_settings(EVALUATION_SUPPRESSION={"treshold": 3}),
        pytest.raises(EvaluationError, match="unknown"),
    ):
        SuppressionRule.from_settings()


# --- Nothing small can be recovered ----------------------------------------------------------


def _constraint(released):
    """Bounds (low, high) on a released entry's true value; high None for unbounded."""
    if released == SUPPRESSED:
        return 1, None
    if released == 0:
        return 0, 0
    return max(released - BASE // 2, THRESHOLD + 1), released + BASE // 2


def _range(objective, rows, lows, highs, extra_rows=(), extra_ub=()):
    """Integer min and max of objective·x subject to lows <= rows·x <= highs (x >= 0 integer)."""
    a_ub, b_ub = [], []
    for row, low, high in zip(rows, lows, highs, strict=True):
        a_ub.append(-row)
        b_ub.append(-low)
        if high is not None:
            a_ub.append(row)
            b_ub.append(high)
    a_ub.extend(extra_rows)
    b_ub.extend(extra_ub)
    size = len(objective)
    found = []
    for sign in (1, -1):
        result = linprog(
            sign * objective,
            A_ub=np.array(a_ub),
            b_ub=np.array(b_ub, dtype=float),
            bounds=[(0, CEILING)] * size,  # a cap keeps the integer program bounded
            integrality=np.ones(size),
            method="highs",
        )
        assert result.status == 0, result.message
        found.append(sign * result.fun)
    return found[0], found[1]


def _random_counts(rng, shape):
    kind = rng.choice(3, size=shape, p=[0.25, 0.4, 0.35])
    small = rng.integers(1, THRESHOLD + 1, size=shape)
    large = rng.integers(THRESHOLD + 1, 80, size=shape)
    return np.where(kind == 0, 0, np.where(kind == 1, small, large))


def _assert_unrecoverable(entries, truths, released_values, extra_rows=(), extra_ub=()):
    """entries: coefficient rows over the unknown cells, one per released value."""
    lows, highs = zip(*(_constraint(v) for v in released_values), strict=True)
    checked = 0
    for row, truth, shown in zip(entries, truths, released_values, strict=True):
        if not 1 <= truth <= THRESHOLD:
            continue
        assert shown == SUPPRESSED
        low, high = _range(row, entries, lows, highs, extra_rows, extra_ub)
        assert low - 1e-6 <= truth <= high + 1e-6, "the model of the release excludes the truth"
        assert high - low >= 2, f"a count of {truth} is pinned to {low}..{high}"
        checked += 1
    return checked


def test_no_small_count_can_be_recovered_from_a_released_two_way_table():
    rng = np.random.default_rng(20260601)
    checked = 0
    for _ in range(120):
        rows, cols = rng.integers(2, 6), rng.integers(2, 5)
        cells = _random_counts(rng, (rows, cols))
        released = suppress_table(pd.DataFrame(cells), threshold=THRESHOLD, rounding=BASE).to_numpy()
        unknowns = rows * cols
        entries, truths, shown = [], [], []
        for i in range(rows + 1):
            for j in range(cols + 1):
                mask = np.zeros((rows, cols))
                mask[i if i < rows else slice(None), j if j < cols else slice(None)] = 1
                entries.append(mask.reshape(unknowns))
                truths.append(int((mask.reshape(rows, cols) * cells).sum()))
                shown.append(released[i, j])
        checked += _assert_unrecoverable(entries, truths, shown)
    assert checked > 300  # the test really looked at many hidden small counts


def test_no_small_count_can_be_recovered_from_a_released_list_with_total():
    rng = np.random.default_rng(7)
    checked = 0
    for _ in range(150):
        size = int(rng.integers(2, 9))
        cells = _random_counts(rng, size)
        released = suppress_counts(cells, threshold=THRESHOLD, rounding=BASE).tolist()
        entries = [*np.eye(size), np.ones(size)]
        truths = [*cells.tolist(), int(cells.sum())]
        checked += _assert_unrecoverable(entries, truths, released)
    assert checked > 100


def test_no_small_count_can_be_recovered_from_released_rates():
    # Unknowns per unit: events e and others o (n = e + o). Released: n, events, the percentage
    # to one decimal (|100·e/n - shown| <= 0.05, linear in e and o) and the same for the total.
    rng = np.random.default_rng(11)
    checked = 0
    for _ in range(120):
        units = int(rng.integers(3, 9))
        n = np.where(rng.random(units) < 0.3, rng.integers(1, 15, units), rng.integers(15, 120, units))
        events = rng.binomial(n, rng.uniform(0.05, 0.6))
        released = suppress_rates(list(range(units)), n, events, threshold=THRESHOLD, rounding=BASE)
        size = 2 * units
        entries, truths, shown = [], [], []
        extra_rows, extra_ub = [], []
        for index in range(units + 1):
            pick = np.zeros(size)
            if index < units:
                pick[[2 * index, 2 * index + 1]] = (1, 0)
                true_events, true_n = int(events[index]), int(n[index])
            else:
                pick[0::2] = 1
                true_events, true_n = int(events.sum()), int(n.sum())
            row_events, row_others = pick, np.roll(pick, 1)
            row_n = row_events + row_others
            label = released.index[index]
            for row, truth, value in (
                (row_events, true_events, released.loc[label, "events"]),
                (row_n, true_n, released.loc[label, "n"]),
            ):
                entries.append(row)
                truths.append(truth)
                shown.append(value)
            # The complement is a count too: it must not be recoverable either (it is not shown).
            entries.append(row_others)
            truths.append(true_n - true_events)
            shown.append(None)
            percent = released.loc[label, "percent"]
            if percent not in (SUPPRESSED, None):
                # The rate is the released counts' own: it adds nothing the counts do not say.
                shown_events, shown_n = released.loc[label, "events"], released.loc[label, "n"]
                assert percent == round(100 * shown_events / shown_n, 1)
        # The complement is not released: no constraint from it beyond x >= 0.
        known = [(r, t, s) for r, t, s in zip(entries, truths, shown, strict=True) if s is not None]
        unknown = [(r, t) for r, t, s in zip(entries, truths, shown, strict=True) if s is None]
        rows_known = [r for r, _, _ in known]
        lows, highs = zip(*(_constraint(s) for _, _, s in known), strict=True)
        for row, truth, value in [*known, *[(r, t, SUPPRESSED) for r, t in unknown]]:
            if not 1 <= truth <= THRESHOLD:
                continue
            assert value == SUPPRESSED
            low, high = _range(row, rows_known, lows, highs, extra_rows, extra_ub)
            assert low - 1e-6 <= truth <= high + 1e-6
            assert high - low >= 2, f"a count of {truth} is pinned to {low}..{high}"
            checked += 1
    assert checked > 100
