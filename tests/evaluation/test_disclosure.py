"""The attack suite: an outside reader with one whole release (page, CSV) tries to recover the counts
suppression hid or rounded, across 200 small simulated cohorts (40-400 episodes, workers with a
handful of episodes each, rare levels). It knows the release rules (docs/evaluation.md) and tries:

1. exact fractions from decimals: every share the report computes from exact counts (the simple
   comparison's means of a 0/1 outcome, the survival shares) against the released size of its
   group, looking for the (events, size) pairs the shown decimals allow;
2. differencing and integer programming over the whole release: the episodes in the cohort tables,
   each outcome's arms and its "left out (missing values)", the subgroup and overlap tables, tied
   together by every sum the report implies and by the fractions of 1., solved with HiGHS (scipy's
   milp) for the smallest and largest value each count can take;
3. summary statistics: the funnels' overall rate, phi and tau², and the limits each unit is placed
   against, must follow from the released counts of the shown units alone (so searching hidden
   counts that reproduce them finds nothing), and the plain-language reading may quote only numbers
   its tables show.

Nothing may be pinned: no count of 1-7 and no exact count behind a rounded one. About 2-3 minutes
on a quiet machine of two cores (the cohorts' reports are built without mediation, whose estimates
rest on the same released counts as the others).
"""

import math
import re
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import pytest
from django.utils import translation
from scipy.optimize import Bounds, LinearConstraint, milp

from recoverybridge.evaluation import frame as columns
from recoverybridge.evaluation.funnel import funnel_from_counts
from recoverybridge.evaluation.reports import OUTSIDE, Report, ReportSpec, Table, build_report, report_csv
from recoverybridge.evaluation.simulate import Design, simulate_episodes
from recoverybridge.evaluation.suppression import SUPPRESSED, SuppressionRule, resolution

RULE = SuppressionRule(7, 5)
COHORTS = int(__import__("os").environ.get("ATTACK_COHORTS", 200))
SPEC = ReportSpec(mediator=None, funnel_units=("worker", "team", "area"))


def cohort(seed: int) -> pd.DataFrame:
    """40-400 episodes, workers of a few episodes each, a rare secular preference and age band."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(40, 401))
    frame = simulate_episodes(
        n, seed=seed, design=replace(Design(), people_per_worker=int(rng.integers(4, 30)))
    ).frame
    # Real-looking names, so that a pseudonym ("Worker 3") is never mistaken for one.
    frame["worker"] = frame["worker"].cat.rename_categories(lambda name: f"Named {name}")
    rare = rng.integers(1, 8)
    frame["prefers_secular"] = 0.0
    frame.loc[frame.index[:rare], "prefers_secular"] = 1.0
    frame.loc[frame.index[rare : rare + rng.integers(1, 6)], "age"] = 65.0
    return frame


@dataclass
class Release:
    report: Report
    frame: pd.DataFrame
    truths: dict[str, int] = field(default_factory=dict)


@pytest.fixture(scope="module")
def releases() -> list[Release]:
    built = []
    with translation.override("en"):
        for seed in range(COHORTS):
            frame = cohort(seed)
            built.append(
                Release(build_report(frame, SPEC, audience=OUTSIDE, rule=RULE, worker_names=False), frame)
            )
    return built


def released_range(value: object) -> tuple[int, int] | None:
    """What an exact count may be, given how it was released: "*" is at least 1 (1-7, or more
    when hidden to protect another cell), a rounded count R is R-2..R+2 (and above 7), 0 is 0."""
    if value == SUPPRESSED:
        return 1, 10**6
    if isinstance(value, str):  # a band of a second breakdown: "50-99" or "500 or more"
        ends = [int(n.replace(",", "")) for n in re.findall(r"[\d,]+", value)]
        return (ends[0], ends[1]) if len(ends) == 2 else ((ends[0], 10**6) if ends else None)
    if not isinstance(value, int):
        return None
    if value == 0:
        return 0, 0
    return max(value - RULE.rounding // 2, RULE.threshold + 1), value + RULE.rounding // 2


def cell(table: Table, row: str, column: str) -> object:
    found = next(r for r in table.rows if r.key == row)
    index = [c.key for c in table.columns].index(column)
    return found.cells[index].value


# --- 1. exact fractions from decimals -------------------------------------------------------------


def fractions(shown: float, step: float, sizes: tuple[int, int]) -> set[tuple[int, int]]:
    """Every (events, size) with size in the released range whose share rounds to `shown` on `step`."""
    found = set()
    for n in range(max(sizes[0], 1), sizes[1] + 1):
        for e in range(n + 1):
            if abs(e / n - shown) <= step / 2 + 1e-12:
                found.add((e, n))
    return found


def test_no_share_pins_its_group_or_its_events(releases):
    tried = 0
    for release in releases:
        effects = release.report.section("effects")
        for part in effects.parts:
            if not part.estimable:
                continue
            table = part.table("estimates")
            naive = {c.key: cl for c, cl in zip(table.columns, table.rows[0].cells, strict=True)}
            if "With (%)" not in [c.label for c in table.columns]:
                continue  # a mean difference of a measurement: not a fraction of counts
            arms = [naive["n_treated"].value, naive["n_control"].value]
            if not all(isinstance(n, int) for n in arms):
                continue
            # Both arms' figures share one step, from the smaller arm (the release's rule).
            step = resolution(min(arms), 1.0, RULE)  # type: ignore[type-var]
            for share_key, size_key in (("mean_treated", "n_treated"), ("mean_control", "n_control")):
                share, size = naive[share_key].value, released_range(naive[size_key].value)
                if not isinstance(share, float) or size is None:
                    continue
                found = fractions(share / 100, step, size)
                assert len({n for _e, n in found}) >= 2, f"{part.key}: {share_key} pins the group size"
                assert len({e for e, _n in found}) >= 2, f"{part.key}: {share_key} pins the events"
                tried += 1
        survival = release.report.section("survival")
        km = next((p for p in survival.parts if p.key == "kaplan_meier" and p.estimable), None)
        if km is None:
            continue
        groups = km.table("groups")
        at = km.table("survival_at")
        for group in ("0.0", "1.0"):
            size = released_range(cell(groups, group, "n"))
            if size is None:
                continue
            for row in at.rows:
                share = cell(at, row.key, f"{group}:survival")
                at_risk = cell(at, row.key, f"{group}:at_risk")
                if not isinstance(share, float) or not isinstance(at_risk, int):
                    continue
                found = fractions(share, resolution(at_risk, 1.0, RULE), size)
                assert len({n for _e, n in found}) != 1, "a survival share pins its group's size"
                tried += 1
    assert tried > 2 * COHORTS


# --- 2. differencing and integer programming ---------------------------------------------------


class Problem:
    """Integer unknowns with bounds from the release, linear equalities between them, and the
    fractions of the shares; then the least and most each target can be."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.low: list[float] = []
        self.high: list[float] = []
        self.rows: list[dict[int, float]] = []
        self.row_low: list[float] = []
        self.row_high: list[float] = []

    def var(self, name: str, value: object, big: int = 10**6) -> int | None:
        bounds = released_range(value)
        if bounds is None:
            bounds = (0, big)
        if name in self.names:
            i = self.names.index(name)
            self.low[i], self.high[i] = max(self.low[i], bounds[0]), min(self.high[i], bounds[1])
            return i
        self.names.append(name)
        self.low.append(bounds[0])
        self.high.append(bounds[1])
        return len(self.names) - 1

    def equal(self, terms: dict[int, float], constant: float = 0.0) -> None:
        self.rows.append(terms)
        self.row_low.append(constant)
        self.row_high.append(constant)

    def between(self, terms: dict[int, float], low: float, high: float) -> None:
        self.rows.append(terms)
        self.row_low.append(low)
        self.row_high.append(high)

    def extent(self, target: int) -> tuple[float, float]:
        size = len(self.names)
        matrix = np.zeros((len(self.rows), size))
        for r, terms in enumerate(self.rows):
            for i, coefficient in terms.items():
                matrix[r, i] += coefficient
        constraints = [LinearConstraint(matrix, self.row_low, self.row_high)] if self.rows else []
        objective = np.zeros(size)
        values = []
        for sign in (1, -1):
            objective[:] = 0
            objective[target] = sign
            result = milp(
                objective,
                constraints=constraints,
                integrality=np.ones(size),
                bounds=Bounds(self.low, self.high),
            )
            assert result.status == 0, result.message  # the truth is always a solution
            values.append(sign * result.fun)
        return values[0], values[1]


def crosstab(problem: Problem, table: Table, prefix: str) -> dict[tuple[str, str], int]:
    """A table with a total row and column: every cell a variable, every line adding up."""
    variables = {}
    for row in table.rows:
        for column, value in zip(table.columns, row.cells, strict=True):
            variables[row.key, column.key] = problem.var(f"{prefix}:{row.key}:{column.key}", value.value)
    keys = [r.key for r in table.rows]
    cols = [c.key for c in table.columns]
    for r in keys:
        problem.equal({**{variables[r, c]: 1 for c in cols[:-1]}, variables[r, cols[-1]]: -1})
    for c in cols:
        problem.equal({**{variables[r, c]: 1 for r in keys[:-1]}, variables[keys[-1], c]: -1})
    return variables  # type: ignore[return-value]


def build_problem(release: Release) -> tuple[Problem, dict[str, int]]:
    report = release.report
    problem = Problem()
    targets: dict[str, int] = {}
    cohort_part = report.section("cohort").parts[0]
    summary = cohort_part.table("summary")
    total = problem.var("N", cell(summary, "episodes", "episodes"))
    targets["N"] = total  # type: ignore[assignment]
    for key in ("by_kind", "by_area"):
        table = cohort_part.table(key)
        cells = crosstab(problem, table, key)
        problem.equal({cells["total", "total"]: 1, total: -1})  # type: ignore[dict-item]
        for (row, column), index in cells.items():
            if row != "total" and column != "total":
                targets[f"{key}:{row}:{column}"] = index
    for part in report.section("effects").parts:
        if not part.estimable:
            continue
        table = part.table("estimates")
        first = table.rows[0]
        by = {c.key: cl for c, cl in zip(table.columns, first.cells, strict=True)}
        n1 = problem.var(f"{part.key}:n1", by["n_treated"].value)
        n0 = problem.var(f"{part.key}:n0", by["n_control"].value)
        dropped = problem.var(f"{part.key}:dropped", by["n_dropped"].value)
        problem.equal({n1: 1, n0: 1, dropped: 1, total: -1})  # type: ignore[dict-item]
        for row in table.rows[1:]:  # every method reports the same arms (everyone kept)
            other = {c.key: cl for c, cl in zip(table.columns, row.cells, strict=True)}
            problem.var(f"{part.key}:n1", other["n_treated"].value)
            problem.var(f"{part.key}:n0", other["n_control"].value)
        targets[f"{part.key}:n1"], targets[f"{part.key}:n0"], targets[f"{part.key}:dropped"] = n1, n0, dropped  # type: ignore[assignment]
        arms = [by["n_treated"].value, by["n_control"].value]
        if "With (%)" in [c.label for c in table.columns] and all(isinstance(n, int) for n in arms):
            step = resolution(min(arms), 1.0, RULE)  # type: ignore[type-var]
            for key, arm in (("mean_treated", n1), ("mean_control", n0)):
                share = by[key].value
                if isinstance(share, float):
                    events = problem.var(f"{part.key}:{key}:events", None)
                    # (share - step/2) n <= events <= (share + step/2) n
                    problem.between({events: 1, arm: -(share / 100 - step / 2)}, 0, np.inf)  # type: ignore[dict-item]
                    problem.between({events: 1, arm: -(share / 100 + step / 2)}, -np.inf, 0)  # type: ignore[dict-item]
                    targets[f"{part.key}:{key}:events"] = events
        histogram = next((t for t in part.tables if t.key == "overlap_histogram"), None)
        if histogram is not None:  # bands per bin, adding up to the arms
            for column, arm in (("treated", n1), ("untreated", n0)):
                terms: dict[int, float] = {arm: -1}  # type: ignore[dict-item]
                for row in histogram.rows:
                    value = row.cells[[c.key for c in histogram.columns].index(column)].value
                    terms[problem.var(f"{part.key}:bin:{row.key}:{column}", value)] = 1  # type: ignore[index]
                problem.equal(terms)
    benefits = next((s for s in report.sections if s.key == "benefits"), None)
    first_outcome = f"{SPEC.outcomes[0]}:n1"
    if benefits is not None and first_outcome in problem.names:
        subgroups = next((p for p in benefits.parts if p.key == "subgroups" and p.estimable), None)
        if subgroups is not None:
            table = subgroups.table("levels")
            for variable in ("on_moud", "prefers_secular", "age_band", "group_gender"):
                # Their counts are bands (a second breakdown of the arms): still tied to the arms.
                rows = [r for r in table.rows if r.key.startswith(f"{variable}=")]
                terms1: dict[int, float] = {}
                terms0: dict[int, float] = {}
                for row in rows:
                    i1 = problem.var(f"sub:{row.key}:n1", row.cells[0].value)
                    i0 = problem.var(f"sub:{row.key}:n0", row.cells[1].value)
                    terms1[i1], terms0[i0] = 1, 1  # type: ignore[index]
                    targets[f"sub:{row.key}:n1"], targets[f"sub:{row.key}:n0"] = i1, i0  # type: ignore[assignment]
                if rows:
                    problem.equal({**terms1, problem.names.index(first_outcome): -1})
                    problem.equal({**terms0, problem.names.index(f"{SPEC.outcomes[0]}:n0"): -1})
    return problem, targets


def test_integer_programming_over_the_whole_release_pins_no_count(releases):
    solved = 0
    for release in releases[: COHORTS // 2]:
        problem, targets = build_problem(release)
        for name, index in targets.items():
            if problem.high[index] == 0:
                continue  # released as 0, which the rule shows exactly: an empty cell is no one
            low, high = problem.extent(index)
            assert high - low >= 1, f"{name} pinned to {low:g}"
            solved += 1
    assert solved > 5 * COHORTS


# --- 3. summary statistics and words ---------------------------------------------------------------


def test_funnel_statistics_follow_from_the_shown_units_released_counts(releases):
    checked = 0
    for release in releases:
        for part in release.report.section("funnels").parts:
            if not part.estimable:
                continue
            units = part.table("units")
            shown = [
                (r.key, r.cells[0].value, r.cells[1].value)
                for r in units.rows[:-1]
                if isinstance(r.cells[0].value, int)
                and isinstance(r.cells[1].value, int)
                and r.cells[2].value != SUPPRESSED
            ]
            summary = part.table("summary")
            keys = [r.key for r in summary.rows]
            if not shown:
                assert "phi" not in keys
                continue
            again = funnel_from_counts(
                [k for k, _n, _e in shown], [n for _k, n, _e in shown], [e for _k, _n, e in shown]
            )
            assert cell(summary, "phi", "value") == round(again.phi, 2)
            assert cell(summary, "tau2", "value") == round(again.tau2, 5)
            for (key, n, events), position in zip(shown, again.units["position"], strict=True):
                assert cell(units, key, "position") == position
                assert cell(units, key, "percent") == round(100 * events / n, 1)
            checked += 1
    assert checked > COHORTS


def test_no_worker_is_named_outside_the_care_team(releases):
    for release in releases[:20]:
        text = report_csv(release.report)
        svg = " ".join(str(c.svg) for s in release.report.sections for p in s.parts for c in p.charts)
        for name in release.frame["worker"].dropna().unique():
            assert f",{name}," not in text and f">{name}<" not in svg


def test_the_reading_quotes_only_what_the_tables_show(releases):
    quoted = 0
    for release in releases:
        for part in release.report.section("effects").parts:
            if not part.estimable or len(part.reading) < 3:
                continue
            shown = {cl.text for t in part.tables for r in t.rows for cl in r.cells}
            for number in re.findall(
                r"[+-]?\d+(?:\.\d+)?(?= percentage points| to )", " ".join(part.reading)
            ):
                assert number.lstrip("+") in shown or f"-{number.lstrip('+-')}" in shown or number in shown, (
                    number
                )
                quoted += 1
    assert quoted > COHORTS // 2


def test_small_groups_change_how_finely_an_estimate_is_shown():
    small = resolution(45, 1.0, RULE)  # 43 people at least: one moves a share by 1/43
    large = resolution(5_000, 1.0, RULE)
    assert small == 0.05 and large == 0.001
    assert math.isclose(resolution(100, 1.0, RULE), 0.05)  # 98 people: 0.0102 needs the 0.05 step
    assert resolution(1_000_002, 1.0, RULE) == 0.0001
    assert columns.label("peer_bridged")  # the labels the report quotes are the frame's own
