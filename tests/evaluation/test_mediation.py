"""Mediation: recovers the simulator's indirect (through the network) and direct effects."""

import numpy as np
import pandas as pd
import pytest

from recoverybridge.evaluation.errors import EvaluationError
from recoverybridge.evaluation.mediation import mediate
from recoverybridge.evaluation.simulate import simulate_episodes

COVARIATES = ["age", "on_moud", "baseline_recovery_capital", "baseline_days_used", "prior_episodes"]


def network_mediation(frame, **kwargs):
    return mediate(
        frame, "peer_bridged", "supportive_network_3m", "recovery_capital_change", COVARIATES, **kwargs
    )


def test_indirect_and_direct_effects_are_recovered():
    truth = simulate_episodes(10).truth
    indirect_truth = truth["recovery_capital_change_indirect"]["ate"]
    total_truth = truth["recovery_capital_change"]["ate"]
    direct_truth = total_truth - indirect_truth
    covered = {"indirect": 0, "direct": 0, "total": 0}
    for seed in range(3):
        result = network_mediation(simulate_episodes(1500, seed=seed).frame, n_rep=60, seed=seed)
        covered["indirect"] += result.indirect_ci[0] <= indirect_truth <= result.indirect_ci[1]
        covered["direct"] += result.direct_ci[0] <= direct_truth <= result.direct_ci[1]
        covered["total"] += result.total_ci[0] <= total_truth <= result.total_ci[1]
        assert result.indirect + result.direct == pytest.approx(result.total)
        assert 0.2 < result.proportion_mediated < 0.6
        assert result.n == result.n_used == 1500 and result.n_rep == 60
    assert all(count >= 2 for count in covered.values()), covered


def test_indirect_effect_is_the_product_of_the_two_paths():
    # For two linear models the mediated effect is a x b: checked with plain least squares.
    frame = simulate_episodes(1000, seed=8).frame
    result = network_mediation(frame, n_rep=60)
    x = np.column_stack([np.ones(len(frame)), frame.peer_bridged, frame[COVARIATES]])
    a = np.linalg.lstsq(x, frame.supportive_network_3m, rcond=None)[0][1]
    x_outcome = np.column_stack([x, frame.supportive_network_3m])
    b = np.linalg.lstsq(x_outcome, frame.recovery_capital_change, rcond=None)[0][-1]
    direct = np.linalg.lstsq(x_outcome, frame.recovery_capital_change, rcond=None)[0][1]
    assert result.indirect == pytest.approx(a * b, abs=0.1)
    assert result.direct == pytest.approx(direct, abs=0.1)


def test_large_frames_are_sampled_and_say_so():
    frame = simulate_episodes(1200, seed=2).frame
    frame.loc[:99, "supportive_network_3m"] = np.nan
    result = network_mediation(frame, n_rep=30, max_rows=400)
    assert (result.n, result.n_used, result.n_dropped) == (1100, 400, 100)
    again = network_mediation(frame, n_rep=30, max_rows=400)
    assert again == result  # the same seed draws the same sample and the same simulations


def test_a_yes_no_outcome_uses_a_logistic_model():
    frame = simulate_episodes(1000, seed=4).frame
    result = mediate(frame, "peer_bridged", "supportive_network_3m", "mutual_aid_28d", COVARIATES, n_rep=30)
    # Risk differences: bounded by 1, the simulator's effect on attendance is direct.
    assert -1 < result.indirect_ci[0] <= result.indirect_ci[1] < 1
    assert result.direct_ci[0] > 0


@pytest.mark.parametrize(
    ("change", "kwargs", "message"),
    [
        (lambda f: f.drop(columns="supportive_network_3m"), {}, "supportive_network_3m"),
        (lambda f: f.assign(peer_bridged=3.0), {}, "peer_bridged"),
        (lambda f: f.assign(peer_bridged=0.0), {}, "peer_bridged"),
        (lambda f: f.assign(supportive_network_3m=2.0), {}, "supportive_network_3m"),
        (lambda f: f.assign(recovery_capital_change="x"), {}, "recovery_capital_change"),
        (lambda f: f.assign(age=np.nan), {}, "no rows"),
        (lambda f: f, {"n_rep": 5}, "n_rep"),
        (lambda f: f, {"max_rows": 10}, "max_rows"),
    ],
)
def test_bad_input_is_an_evaluation_error(change, kwargs, message):
    frame = change(simulate_episodes(200, seed=1).frame)
    with pytest.raises(EvaluationError, match=message):
        network_mediation(frame, **kwargs)


def test_mediator_cannot_also_be_a_covariate():
    frame = pd.DataFrame({"t": [0.0, 1.0] * 50, "m": np.arange(100.0), "y": np.arange(100.0)})
    with pytest.raises(EvaluationError, match="different"):
        mediate(frame, "t", "m", "y", ["m"])
