"""Evaluation reports: every part, released for the audience, in one pass.

The cohort is 3,000 simulated episodes, plus three episodes in a small "Islands" area seen by a
new worker ("Worker new"): the commissioners' copy must hide them, the care team's must show them.
"""

import csv
import dataclasses
import io
import re

import numpy as np
import pandas as pd
import pytest
from django.utils import translation
from django.utils.safestring import SafeString

from recoverybridge.evaluation.errors import EvaluationError
from recoverybridge.evaluation.reports import (
    CARE_TEAM,
    COUNT,
    CSV_HEADER,
    OUTSIDE,
    RATE,
    Cell,
    Chart,
    Column,
    Part,
    Report,
    ReportSpec,
    Row,
    Section,
    Table,
    build_report,
    pseudonymous_workers,
    report_csv,
)
from recoverybridge.evaluation.simulate import simulate_episodes
from recoverybridge.evaluation.suppression import SUPPRESSED, SuppressionRule, resolution

SMALL_AREA = "Islands"
NEW_WORKER = "Worker new"
SMALL = 3  # episodes in the small area, all with the new worker


def with_small_area(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    frame["area"] = frame["area"].cat.add_categories([SMALL_AREA])
    frame["worker"] = frame["worker"].cat.add_categories([NEW_WORKER])
    rows = frame.index[:SMALL]
    frame.loc[rows, "area"] = SMALL_AREA
    frame.loc[rows, "worker"] = NEW_WORKER
    return frame


@pytest.fixture(autouse=True)
def _english():
    # Page tests elsewhere may leave Spanish active; these tests read English sentences.
    with translation.override("en"):
        yield


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return with_small_area(simulate_episodes(3000, seed=11).frame)


@pytest.fixture(scope="module")
def outside(frame) -> Report:
    with translation.override("en"):
        return build_report(frame, audience=OUTSIDE, title="North evaluation", rule=SuppressionRule(7, 5))


@pytest.fixture(scope="module")
def care_team(frame) -> Report:
    with translation.override("en"):
        # Mediation's simulation draws take a second; the outside report covers that section.
        return build_report(frame, ReportSpec(mediator=None), audience=CARE_TEAM, title="North evaluation")


def row(table: Table, key: str) -> dict[str, Cell]:
    found = next(r for r in table.rows if r.key == key)
    return {column.key: cell for column, cell in zip(table.columns, found.cells, strict=True)}


def test_a_report_has_every_section_and_part(outside, frame):
    assert [s.key for s in outside.sections] == [
        "cohort",
        "funnels",
        "effects",
        "benefits",
        "dose",
        "survival",
        "mediation",
    ]
    spec = outside.spec
    funnels = outside.section("funnels")
    assert [p.key for p in funnels.parts] == [
        f"{i}.{u}" for i in spec.funnel_indicators for u in spec.funnel_units
    ]
    for part in funnels.parts:
        if frame[part.key.split(".")[1]].nunique() < 2:  # one service: nothing to compare
            assert "nothing to compare" in part.not_estimable
            continue
        assert part.estimable
        units = part.table("units").rows[:-1]
        if all(r.cells[2].value == SUPPRESSED for r in units):
            # Every area hidden (North takes the Islands' secondary suppression): nothing to draw.
            assert not part.charts and part.key.endswith(".area")
        else:
            assert part.charts[0].svg.startswith("<svg")
    for outcome in spec.outcomes:
        part = outside.section("effects").part(outcome)
        assert part.estimable
        assert [r.key for r in part.table("estimates").rows] == [
            "naive",
            "ipw",
            "aipw",
            "matching",
            "subclassification",
        ]
        assert {r.key for r in part.table("balance").rows} == set(spec.covariates)
        assert part.reading  # the plain-language reading
    assert outside.section("survival").part("kaplan_meier").charts
    dose = outside.section("dose").part("dose")
    assert dose.estimable and [r.key for r in dose.table("bands").rows] == [
        "0-0",
        "0-1",
        "1-3",
        "3+",
        "total",
    ]
    mediation = outside.section("mediation").part("mediation")
    assert mediation.estimable and mediation.reading
    assert [r.key for r in mediation.table("effects").rows] == [
        "indirect",
        "direct",
        "total",
        "proportion_mediated",
    ]
    assert [r.key for r in outside.section("survival").part("cox").table("hazard_ratios").rows] == [
        "weighted",
        "adjusted",
    ]


def test_the_adjusted_estimate_is_closer_to_the_truth_than_the_naive_one(care_team):
    truth = simulate_episodes(1, seed=0).truth["recovery_capital_change"]["ate"]
    estimates = care_team.section("effects").part("recovery_capital_change").table("estimates")
    naive = row(estimates, "naive")["estimate"].value
    aipw = row(estimates, "aipw")["estimate"].value
    assert isinstance(naive, float) and isinstance(aipw, float)
    assert abs(aipw - truth) < abs(naive - truth)


def released_counts(report: Report) -> list[object]:
    return [cell.value for *_where, cell in report.cells() if cell.kind == COUNT]


def test_outside_no_count_from_1_to_7_anywhere(outside):
    counts = released_counts(outside)
    assert SUPPRESSED in counts  # the small area and the new worker are hidden
    for value in counts:
        assert value == SUPPRESSED or (isinstance(value, int) and value % 5 == 0), value
    for line in csv.DictReader(io.StringIO(report_csv(outside))):
        if line["kind"] == COUNT:
            assert line["value"] == SUPPRESSED or int(line["value"]) % 5 == 0, line


def test_outside_hides_the_small_area_and_the_new_workers_rate(outside, care_team, frame):
    by_area = outside.section("cohort").parts[0].table("by_area")
    assert row(by_area, SMALL_AREA)["total"].text == SUPPRESSED
    # Outside a care team the new worker is a pseudonym, and hidden.
    pseudonym = pseudonymous_workers([str(w) for w in frame["worker"].dropna().unique()])[NEW_WORKER]
    worker = row(outside.section("funnels").part("referred_mutual_aid.worker").table("units"), pseudonym)
    assert worker["n"].value == SUPPRESSED
    assert worker["percent"].value == SUPPRESSED
    assert worker["position"].value == SUPPRESSED

    raw_area = row(care_team.section("cohort").parts[0].table("by_area"), SMALL_AREA)
    assert raw_area["total"].value == SMALL
    raw_worker = row(
        care_team.section("funnels").part("referred_mutual_aid.worker").table("units"), NEW_WORKER
    )
    assert raw_worker["n"].value == SMALL
    assert raw_worker["percent"].kind == RATE and isinstance(raw_worker["percent"].value, float)


def test_outside_every_hidden_count_hides_its_rate(outside):
    for section, _part, table, table_row, _column, _cell in outside.cells():
        if section.key != "funnels" or table.key != "units":
            continue
        cells = dict(zip((c.key for c in table.columns), table_row.cells, strict=True))
        if SUPPRESSED in (cells["n"].value, cells["events"].value):
            assert cells["percent"].value == SUPPRESSED


def test_the_care_team_sees_exact_counts(care_team, frame):
    summary = care_team.section("cohort").parts[0].table("summary")
    assert row(summary, "episodes")["episodes"].value == len(frame)
    counts = [v for v in released_counts(care_team) if isinstance(v, int)]
    assert SUPPRESSED not in released_counts(care_team)
    assert any(v % 5 for v in counts)  # not rounded


def test_outside_a_covariate_few_have_shows_no_standardised_difference(frame):
    # Only three peer-bridged episodes are on MOUD: their SMD would narrow that 3 down.
    rare = frame.copy()
    bridged_on_moud = rare.index[(rare.peer_bridged == 1) & (rare.on_moud == 1)]
    rare.loc[bridged_on_moud[3:], "on_moud"] = 0.0
    spec = ReportSpec(outcomes=("recovery_capital_change",), dose=None, mediator=None, survival=False)
    outside_balance = (
        build_report(rare, spec, audience=OUTSIDE)
        .section("effects")
        .part("recovery_capital_change")
        .table("balance")
    )
    assert row(outside_balance, "on_moud")["smd_before"].value == SUPPRESSED
    assert row(outside_balance, "age")["smd_before"].value != SUPPRESSED
    care_balance = (
        build_report(rare, spec, audience=CARE_TEAM)
        .section("effects")
        .part("recovery_capital_change")
        .table("balance")
    )
    assert isinstance(row(care_balance, "on_moud")["smd_before"].value, float)


def test_outside_withholds_estimates_on_small_groups(frame):
    # Twelve peer-bridged episodes: enough to estimate, too few to show under a threshold of 20.
    few = frame.copy()
    few["peer_bridged"] = 0.0
    few.loc[few.index[-12:], "peer_bridged"] = 1.0
    spec = ReportSpec(
        outcomes=("recovery_capital_change",),
        funnel_units=("area",),
        dose=None,
        mediator=None,
        survival=False,
    )
    rule = SuppressionRule(threshold=20, rounding=5)
    shown = build_report(few, spec, audience=OUTSIDE, rule=rule).section("effects").parts[0]
    cells = row(shown.table("estimates"), "aipw")
    assert cells["estimate"].value == SUPPRESSED and cells["n_treated"].value == SUPPRESSED
    assert all(c.value == SUPPRESSED for r in shown.table("balance").rows for c in r.cells)
    assert len(shown.reading) == 1 and "Too few" in shown.reading[0]
    raw = build_report(few, spec, audience=CARE_TEAM).section("effects").parts[0]
    assert isinstance(row(raw.table("estimates"), "aipw")["estimate"].value, float)


def test_a_part_that_cannot_be_estimated_is_reported_not_raised(frame):
    broken = frame.assign(days_used_12m=np.nan, event=0.0)
    spec = ReportSpec(
        outcomes=("mutual_aid_28d", "days_used_12m"), funnel_units=("area",), dose=None, mediator=None
    )
    for audience in (OUTSIDE, CARE_TEAM):
        report = build_report(broken, spec, audience=audience)
        effects = report.section("effects")
        assert effects.part("mutual_aid_28d").estimable
        missing = effects.part("days_used_12m")
        assert missing.not_estimable.startswith("Not estimable:") and not missing.tables
        assert not report.section("survival").part("cox").estimable
        rows = list(csv.DictReader(io.StringIO(report_csv(report))))
        assert {"section": "effects", "part": "days_used_12m", "column": "not_estimable"}.items() <= next(
            r for r in rows if r["part"] == "days_used_12m"
        ).items()
    # Outside, the module's own message (which may quote counts) stays in the care team.
    assert (
        "days_used_12m"
        in build_report(broken, spec, audience=CARE_TEAM)
        .section("effects")
        .part("days_used_12m")
        .not_estimable
    )
    assert (
        "days_used_12m"
        not in build_report(broken, spec, audience=OUTSIDE)
        .section("effects")
        .part("days_used_12m")
        .not_estimable
    )


def test_a_funnel_of_one_unit_says_there_is_nothing_to_compare(frame):
    one_service = frame.assign(service=pd.Categorical(["Harbour Recovery"] * len(frame)))
    spec = ReportSpec(
        outcomes=("mutual_aid_28d",),
        funnel_units=("worker", "service"),
        dose=None,
        mediator=None,
        survival=False,
    )
    funnels = build_report(one_service, spec, audience=CARE_TEAM).section("funnels")
    assert funnels.part("referred_mutual_aid.worker").estimable
    alone = funnels.part("referred_mutual_aid.service")
    assert "only one service" in alone.not_estimable and not alone.tables and not alone.charts


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (ReportSpec(outcomes=("no_such_outcome",)), "outcomes"),
        (ReportSpec(treatment="nobody"), "treatment"),
        (ReportSpec(covariates=("age", "shoe_size")), "covariates"),
        (ReportSpec(funnel_units=("planet",)), "funnel_units"),
        (ReportSpec(dose="coffee"), "dose"),
        (ReportSpec(mediator="luck"), "mediator"),
        (ReportSpec(estimand="everyone"), "estimand"),
        (ReportSpec(trim=0.7), "trim"),
    ],
)
def test_a_bad_spec_names_its_field(frame, spec, field):
    with pytest.raises(EvaluationError, match=rf"ReportSpec\.{field}"):
        build_report(frame, spec)


def test_an_unknown_audience_is_refused(frame):
    with pytest.raises(EvaluationError, match="audience"):
        build_report(frame, audience="public")


def test_the_csv_parses_and_holds_every_table(outside):
    text = report_csv(outside)
    lines = list(csv.reader(io.StringIO(text)))
    assert tuple(lines[0]) == CSV_HEADER
    records = [dict(zip(CSV_HEADER, line, strict=True)) for line in lines[1:]]
    not_estimable = [p for s in outside.sections for p in s.parts if p.not_estimable]
    assert len(records) == len(outside.cells()) + len(not_estimable)  # one row says why
    assert {r["section"] for r in records} == {s.key for s in outside.sections}
    tables = {(r["section"], r["part"], r["table"]) for r in records}
    assert ("cohort", "cohort", "by_kind") in tables
    assert ("effects", "mutual_aid_28d", "balance") in tables
    assert ("survival", "cox", "hazard_ratios") in tables
    assert ("dose", "dose", "bands") in tables
    assert ("mediation", "mediation", "effects") in tables
    aipw = next(
        r
        for r in records
        if r["part"] == "mutual_aid_28d" and r["row"] == "aipw" and r["column"] == "estimate"
    )
    cell = row(outside.section("effects").part("mutual_aid_28d").table("estimates"), "aipw")["estimate"]
    assert float(aipw["value"]) == cell.value


ALLOWED = (str, int, float, bool, type(None), SafeString, ReportSpec)


def test_a_report_holds_released_values_only(outside):
    """Nothing raw rides along: every field, all the way down, is a released value or structure."""

    def walk(value: object) -> None:
        if isinstance(value, Report | Section | Part | Table | Row | Cell | Column | Chart):
            for f in dataclasses.fields(value):
                walk(getattr(value, f.name))
        elif isinstance(value, tuple):
            for item in value:
                walk(item)
        else:
            assert isinstance(value, ALLOWED), type(value)

    walk(outside)


def test_outside_the_survival_curve_is_drawn_in_coarse_steps(frame):
    """Each drawn step covers more than `threshold` events, so fewer vertices than the exact curve."""
    spec = ReportSpec(outcomes=(), funnel_units=("area",), dose=None, mediator=None)
    small = frame.iloc[:400]

    def vertices(audience: str) -> int:
        report = build_report(small, spec, audience=audience, rule=SuppressionRule(7, 5))
        svg = report.section("survival").part("kaplan_meier").charts[0].svg
        return sum(len(points.split()) for points in re.findall(r'<polyline points="([^"]*)"', svg))

    exact, coarse = vertices(CARE_TEAM), vertices(OUTSIDE)
    assert 0 < coarse < exact / 2


def test_outside_survival_shares_are_no_finer_than_one_person_at_risk_moves_them(frame):
    """Each share is read from the curve as drawn (steps of more than `threshold` events) and shown
    to a step of at least 1/(people at risk), so it cannot undo the rounding of the at-risk count."""
    spec = ReportSpec(outcomes=(), funnel_units=("area",), dose=None, mediator=None, subgroups=(), fama=False)
    report = build_report(frame.iloc[:250], spec, audience=OUTSIDE, rule=SuppressionRule(7, 5))
    table = report.section("survival").part("kaplan_meier").table("survival_at")
    assert "days" not in [column.key for column in table.columns]  # the row label is the day
    assert "read from the curve as drawn" in table.note
    checked = 0
    for table_row in table.rows:
        cells = row(table, table_row.key)
        for value in ("0.0", "1.0"):
            share, at_risk = cells[f"{value}:survival"].value, cells[f"{value}:at_risk"].value
            if not isinstance(share, float) or not isinstance(at_risk, int):
                continue
            step = resolution(at_risk, 1.0, SuppressionRule(7, 5))
            assert step >= 1 / (at_risk - 2)
            assert abs(share / step - round(share / step)) < 1e-6, (share, step)
            checked += 1
    assert checked


def test_survival_headings_are_not_repeated(outside):
    section = outside.section("survival")
    titles = [section.title]
    for part in section.parts:
        titles.append(part.title)
        titles.extend(table.title for table in part.tables)
    assert len(titles) == len(set(titles)), titles


def test_outside_the_propensity_range_is_given_to_the_histogram_bins(outside, care_team):
    exact = care_team.section("effects").part("mutual_aid_28d").table("overlap")
    coarse = outside.section("effects").part("mutual_aid_28d").table("overlap")
    for key in ("treated", "control"):
        low, high = row(exact, key)["min"].value, row(exact, key)["max"].value
        shown_low, shown_high = row(coarse, key)["min"].value, row(coarse, key)["max"].value
        assert round(shown_low * 20, 6) == int(round(shown_low * 20, 6))  # a multiple of 0.05
        assert round(shown_high * 20, 6) == int(round(shown_high * 20, 6))
        assert shown_low <= low < shown_low + 0.05 and shown_high - 0.05 < high <= shown_high
    assert "histogram's bins" in coarse.note
