"""The worked example of docs/evaluation.md: LaLonde's job-training data (the National Supported
Work demonstration's 185 treated men, Dehejia & Wahba's sample) against 15,992 men of the Current
Population Survey, as the `causaldata` package ships them (Cunningham's Mixtape data).

The experiment says the programme raised 1978 earnings by $1,794 (treated minus experimental
controls). Comparing the treated with the survey instead gives a naive difference of about -$8,500:
the survey's men earned far more before. The adjusted estimates must recover the experiment, and
the command must not refuse (most survey men have a propensity near 0)."""

import json

import numpy as np
import pandas as pd
import pytest

from recoverybridge.evaluation import estimators
from tests.evaluation.test_evaluate_command import evaluate

causaldata = pytest.importorskip("causaldata")
COVARIATES = ["age", "educ", "black", "hisp", "marr", "nodegree", "re74", "re75", "u74", "u75"]


def lalonde() -> tuple[pd.DataFrame, float]:
    from causaldata import cps_mixtape, nsw_mixtape

    nsw = nsw_mixtape.load_pandas().data
    experiment = float(nsw[nsw.treat == 1].re78.mean() - nsw[nsw.treat == 0].re78.mean())
    frame = pd.concat([nsw[nsw.treat == 1], cps_mixtape.load_pandas().data], ignore_index=True)
    frame = frame.drop(columns="data_id").astype(float)
    frame["u74"] = (frame.re74 == 0).astype(float)
    frame["u75"] = (frame.re75 == 0).astype(float)
    return frame, experiment


@pytest.fixture(scope="module")
def data():
    return lalonde()


def test_the_data_are_the_classic_ones(data):
    frame, experiment = data
    assert (frame.treat == 1).sum() == 185 and (frame.treat == 0).sum() == 15_992
    assert experiment == pytest.approx(1794.34, abs=0.5)


def test_adjusted_estimates_recover_the_experiment_where_the_naive_one_is_far_off(data):
    frame, experiment = data
    results = estimators.compare_methods(frame, "treat", "re78", COVARIATES, "att", terms="splines")
    by_method = {r.method: r for r in results}
    assert by_method["naive"].estimate < -8000
    for method in ("ipw", "aipw", "matching", "subclassification"):
        result = by_method[method]
        assert result.ci_low < experiment < result.ci_high, method
        assert 1000 < result.estimate < 2500, method
    assert by_method["ipw"].overlap.ps_control_min < 1e-6


def test_the_command_answers_with_and_without_trimming(data, tmp_path):
    frame, _experiment = data
    path = tmp_path / "lalonde.csv"
    frame.to_csv(path, index=False)
    base = [
        "--data",
        str(path),
        "--treatment",
        "treat",
        "--outcome",
        "re78",
        "--covariates",
        ",".join(COVARIATES),
    ]
    for method in ("ipw", "aipw"):
        for extra in ([], ["--trim", "0.01"]):
            result = json.loads(evaluate(*base, "--json", "--method", method, "--estimand", "att", *extra)[0])
            assert np.isfinite(result["estimate"]) and result["ci_low"] < result["ci_high"]
