"""`manage.py evaluate`: a researcher brings a CSV from outside the system and gets an effect.

No test here has database access: the command must never touch the database.
"""

import io
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from recoverybridge.evaluation import estimators
from recoverybridge.evaluation.simulate import Design, simulate_episodes, simulate_survey_comparison

COVARIATES = "age,on_moud,baseline_recovery_capital,baseline_days_used,prior_episodes,episode_kind"
PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def episodes_csv(tmp_path_factory):
    """A researcher's export: 2,000 simulated episodes, a few ages missing."""
    frame = simulate_episodes(2000, seed=7).frame.copy()
    frame.loc[:11, "age"] = np.nan
    path = tmp_path_factory.mktemp("export") / "episodes.csv"
    frame.to_csv(path, index=False)
    return path


def evaluate(*args, **options):
    out, err = io.StringIO(), io.StringIO()
    call_command("evaluate", *args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def _args(path, outcome="mutual_aid_28d", covariates=COVARIATES, treatment="peer_bridged"):
    return ["--data", str(path), "--treatment", treatment, "--outcome", outcome, "--covariates", covariates]


def test_text_report_shows_estimate_interval_counts_e_value_and_balance(episodes_csv):
    out, _ = evaluate(*_args(episodes_csv))
    lines = out.splitlines()
    assert lines[0] == "Effect of peer_bridged on mutual_aid_28d: AIPW, ATE, risk difference"
    assert lines[1].startswith("Estimate: 0.") and "(95% CI " in lines[1] and "sandwich" in lines[1]
    assert "n treated " in out and "n control " in out and "n dropped (missing values) 12" in out
    assert "E-value: " in out
    assert "Warning" not in out
    table = lines[lines.index("") + 1 :]
    assert table[0].split() == ["Covariate", "SMD", "before", "SMD", "after"]
    assert [row.split()[0] for row in table[1:]] == [
        "age",
        "on_moud",
        "baseline_recovery_capital",
        "baseline_days_used",
        "prior_episodes",
        # Read from CSV the kinds are text: sorted, "aftercare" is the reference level.
        "episode_kind=community_treatment",
        "episode_kind=detox",
        "episode_kind=prison_release",
        "episode_kind=residential_rehab",
    ]
    assert len({len(row) for row in table}) == 1  # aligned columns


def test_json_is_one_object_with_the_promised_keys(episodes_csv):
    out, _ = evaluate(*_args(episodes_csv, outcome="recovery_capital_change"), "--json", "--estimand", "att")
    result = json.loads(out)  # exactly one JSON document, nothing else on stdout
    assert out.count("\n") == 1
    for key, kind in {
        "method": str,
        "estimand": str,
        "estimate": float,
        "ci_low": float,
        "ci_high": float,
        "n_treated": int,
        "n_control": int,
        "balance": list,
        "treatment": str,
        "outcome": str,
        "scale": str,
        "std_error": float,
        "n_dropped": int,
        "e_value": float,
        "e_value_ci": float,
        "overlap": dict,
        "interval": str,
    }.items():
        assert isinstance(result[key], kind), key
    assert (result["method"], result["estimand"], result["scale"]) == ("aipw", "att", "mean difference")
    assert all(set(row) == {"covariate", "smd_before", "smd_after"} for row in result["balance"])
    assert result["ci_low"] < result["estimate"] < result["ci_high"]
    assert len(result["overlap"]["treated_counts"]) == 20 and result["overlap"]["limited"] is False


def test_json_matches_the_api_on_the_same_data(episodes_csv):
    import pandas as pd

    out, _ = evaluate(*_args(episodes_csv), "--json", "--method", "ipw", "--trim", "0.05")
    result = json.loads(out)
    frame = pd.read_csv(episodes_csv)
    api = estimators.estimate_effect(
        frame, "peer_bridged", "mutual_aid_28d", COVARIATES.split(","), method="ipw", trim=0.05
    )
    assert result["estimate"] == pytest.approx(api.estimate)
    assert result["overlap"]["trimmed"] == api.overlap.trimmed
    assert result["overlap"]["trim_bounds"] == [0.05, 0.95]
    assert result["n_treated"] + result["n_control"] == 2000 - 12 - api.overlap.trimmed


def test_naive_and_bootstrap_options(episodes_csv):
    naive = json.loads(evaluate(*_args(episodes_csv), "--json", "--method", "naive")[0])
    assert naive["method"] == "naive" and naive["overlap"] is None
    boot = json.loads(
        evaluate(*_args(episodes_csv), "--json", "--interval", "bootstrap", "--bootstrap-reps", "30")[0]
    )
    assert boot["interval"] == "bootstrap" and boot["ci_low"] < boot["estimate"] < boot["ci_high"]


def test_limited_overlap_gets_a_warning_line(tmp_path):
    frame = simulate_episodes(3000, seed=2, design=replace(Design(), confounding=2.5)).frame
    path = tmp_path / "strong.csv"
    frame.to_csv(path, index=False)
    out, _ = evaluate(*_args(path, covariates="age,on_moud,baseline_recovery_capital,baseline_days_used"))
    assert [line for line in out.splitlines() if line.startswith("Warning: limited overlap")]
    out, err = evaluate(*_args(path, covariates="age,on_moud,baseline_recovery_capital"), "--json")
    assert json.loads(out)["overlap"]["limited"] is True
    assert err.startswith("Warning: limited overlap")


def test_nothing_is_written(episodes_csv, tmp_path):
    before = sorted(p.name for p in episodes_csv.parent.iterdir())
    evaluate(*_args(episodes_csv))
    assert sorted(p.name for p in episodes_csv.parent.iterdir()) == before


# --- bad input: one clear line each -----------------------------------------------------------


def _fails(match, *args):
    with pytest.raises(CommandError, match=match) as caught:
        evaluate(*args)
    assert "\n" not in str(caught.value)


def test_missing_and_unreadable_files(tmp_path):
    _fails(r"no such file", *_args(tmp_path / "absent.csv"))
    _fails(r"not a file", *_args(tmp_path))
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    _fails(r"empty file", *_args(empty))
    unterminated = tmp_path / "unterminated.csv"
    unterminated.write_text('peer_bridged,mutual_aid_28d,age\n1,0,30\n0,1,"40\n1,1,3\n')
    _fails(r"not a readable CSV file \(Error tokenizing data", *_args(unterminated, covariates="age"))
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81peer\x00\n\x93\xff")
    _fails(r"not a readable CSV file \('utf-8' codec can't decode", *_args(binary, covariates="age"))


def test_unknown_column_lists_the_available_ones(episodes_csv):
    _fails(
        r"unknown column 'agee'; available: episode_id, episode_kind, ",
        *_args(episodes_csv, covariates="agee"),
    )
    _fails(r"unknown column 'bridged'", *_args(episodes_csv, treatment="bridged"))


def test_bad_columns(episodes_csv):
    _fails(
        r"treatment 'prior_episodes' must hold 0 and 1 only; found 2",
        *_args(episodes_csv, treatment="prior_episodes", covariates="age"),
    )
    _fails(r"outcome 'area' is not numeric", *_args(episodes_csv, outcome="area", covariates="age"))
    _fails(r"--covariates: name at least one column", *_args(episodes_csv, covariates=" , "))


def test_too_few_constant_and_separated(tmp_path):
    frame = simulate_episodes(400, seed=3).frame
    few = tmp_path / "few.csv"
    frame[(frame.peer_bridged == 0) | (frame.index < 10)].head(200).to_csv(few, index=False)
    _fails(r"too few complete rows", *_args(few, covariates="age"))
    constant = tmp_path / "constant.csv"
    frame.assign(age=40).to_csv(constant, index=False)
    _fails(r"covariate 'age' is constant", *_args(constant, covariates="age,on_moud"))
    separated = tmp_path / "separated.csv"
    frame.assign(score=frame.peer_bridged * 5 + frame.index % 3).to_csv(separated, index=False)
    _fails(
        r"no defensible estimate: 'score' alone tells the groups apart",
        *_args(separated, covariates="age,score"),
    )


def test_bad_options_are_argument_errors(episodes_csv):
    with pytest.raises(CommandError, match="invalid choice: 'ols'"):
        evaluate(*_args(episodes_csv), "--method", "ols")
    _fails(r"trim 0.7", *_args(episodes_csv), "--trim", "0.7")


def test_manage_py_exits_nonzero_without_a_traceback_and_without_a_database(episodes_csv, tmp_path):
    env = {
        **os.environ,
        "SECRET_KEY": "test-only",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'never-migrated.sqlite3'}",
        "PYTHONPATH": str(PROJECT / "src"),
    }

    def manage(*args):
        return subprocess.run(  # noqa: S603 -- our own manage.py with fixed arguments
            [sys.executable, str(PROJECT / "manage.py"), "evaluate", *args],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )

    ok = manage(*_args(episodes_csv), "--json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["method"] == "aipw"
    bad = manage(*_args(episodes_csv, covariates="nope"))
    assert bad.returncode != 0
    assert bad.stdout == ""
    assert bad.stderr.strip().startswith("CommandError: ") and "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "never-migrated.sqlite3").exists()


# --- a survey comparison group: the command never refuses it ------------------------------------


@pytest.fixture(scope="module")
def survey_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("survey") / "survey.csv"
    simulate_survey_comparison(seed=11).frame.to_csv(path, index=False)
    return path


def _survey(path):
    return ["--data", str(path), "--treatment", "treated", "--outcome", "y", "--covariates", "x1,x2,x3"]


@pytest.mark.parametrize("method", ["ipw", "aipw", "matching", "subclassification"])
@pytest.mark.parametrize("trim", [[], ["--trim", "0.01"], ["--support", "treated"], ["--support", "crump"]])
def test_most_propensities_below_one_in_a_million_are_no_reason_to_refuse(survey_csv, method, trim):
    result = json.loads(
        evaluate(*_survey(survey_csv), "--json", "--estimand", "att", "--method", method, *trim)[0]
    )
    assert result["ci_low"] < result["estimate"] < result["ci_high"]
    assert result["n_treated"] > 100
    if not trim:
        assert result["overlap"]["ps_control_min"] < 1e-6


def test_all_methods_side_by_side(survey_csv):
    out, _ = evaluate(*_survey(survey_csv), "--estimand", "att", "--method", "all", "--terms", "splines")
    lines = out.splitlines()
    assert lines[0] == "Effect of treated on y: ATT, mean difference"
    assert [line.split()[0] for line in lines[2:7]] == [
        "naive",
        "ipw",
        "aipw",
        "matching",
        "subclassification",
    ]
    assert "Propensity model: " in out and "Effective number of episodes" in out and "Subclasses: " in out
    both = json.loads(evaluate(*_survey(survey_csv), "--json", "--method", "all", "--estimand", "att")[0])
    assert [r["method"] for r in both] == ["naive", "ipw", "aipw", "matching", "subclassification"]
    assert both[3]["interval"] == "abadie-imbens"


def test_support_and_trim_together_is_refused(survey_csv):
    _fails(r"choose one way", *_survey(survey_csv), "--support", "crump", "--trim", "0.05")
    _fails(
        r"bootstrap is not valid for nearest-neighbour matching",
        *_survey(survey_csv),
        "--method",
        "matching",
        "--interval",
        "bootstrap",
    )
