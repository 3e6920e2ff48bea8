"""How much of an effect goes through a mediator (e.g. a more recovery-supportive network)?

statsmodels' `Mediation` (Imai, Keele and Tingley's quasi-Bayesian algorithm): a model for the
mediator (treatment and covariates) and one for the outcome (treatment, mediator, covariates),
least squares for a numeric variable and logistic for a 0/1 one. `n_rep` times it draws both
models' coefficients from their sampling distribution, simulates each person's mediator under
treatment and control, predicts the outcome, and averages: the indirect effect (ACME), the
direct effect (ADE) and the total, with percentile intervals over the draws.

Every draw keeps a prediction per person and per arm, so memory grows with rows x `n_rep`.
Above `max_rows` the analysis runs on a simple random sample of that many rows (drawn with
`seed`); `n_used` says how many, and the intervals are honest for that sample size.

The reading is causal only under sequential ignorability: no unmeasured confounding of the
treatment and of the mediator-outcome relation, given the covariates.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from recoverybridge.evaluation.errors import EvaluationError
from recoverybridge.evaluation.survival import binary_values, complete_rows, design_matrix, require_columns

DEFAULT_REPS = 200
DEFAULT_MAX_ROWS = 10_000


@dataclass(frozen=True)
class MediationResult:
    treatment: str
    mediator: str
    outcome: str
    covariates: tuple[str, ...]
    indirect: float  # average causal mediated effect, averaged over both arms
    indirect_ci: tuple[float, float]
    direct: float  # average direct effect, averaged over both arms
    direct_ci: tuple[float, float]
    total: float
    total_ci: tuple[float, float]
    proportion_mediated: float  # indirect / total; unstable when the total is near 0
    n: int  # rows with everything present
    n_used: int  # rows analysed (a random sample of n when n > max_rows)
    n_dropped: int
    n_rep: int


def _is_binary(values: pd.Series) -> bool:
    numeric = pd.to_numeric(values, errors="coerce")
    return bool(numeric.notna().all() and numeric.isin((0, 1)).all() and numeric.nunique() == 2)


def _model(endog: pd.Series, exog: pd.DataFrame) -> object:
    import statsmodels.api as sm

    if _is_binary(endog):
        return sm.GLM(endog.astype(float), exog, family=sm.families.Binomial())
    return sm.OLS(endog.astype(float), exog)


def mediate(
    frame: pd.DataFrame,
    treatment: str,
    mediator: str,
    outcome: str,
    covariates: Sequence[str] = (),
    n_rep: int = DEFAULT_REPS,
    seed: int = 0,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> MediationResult:
    """Indirect, direct and total effects of a 0/1 treatment on the outcome through the mediator."""
    from statsmodels.stats.mediation import Mediation

    covariates = tuple(covariates)
    named = [treatment, mediator, outcome, *covariates]
    if len(set(named)) != len(named):
        raise EvaluationError("covariates: treatment, mediator, outcome and covariates must be different")
    if n_rep < 20:
        raise EvaluationError("n_rep: at least 20 draws are needed for an interval")
    if max_rows < 50:
        raise EvaluationError("max_rows: at least 50 rows are needed")
    require_columns(frame, named)
    keep = complete_rows(frame, named)
    data = frame.loc[keep, named]
    n = len(data)
    if n == 0:
        raise EvaluationError(
            f"{treatment}: no rows with the treatment, mediator, outcome and every covariate"
        )
    treated = binary_values(data[treatment], treatment)
    if treated.min() == treated.max():
        raise EvaluationError(f"{treatment}: every row has the value {treated[0]:g}; nothing to compare")
    for name in (mediator, outcome):
        if not pd.api.types.is_numeric_dtype(data[name]) or isinstance(data[name].dtype, pd.CategoricalDtype):
            raise EvaluationError(f"{name}: must be numbers (0/1 for a yes/no)")
        if data[name].nunique() < 2:
            raise EvaluationError(f"{name}: every row has the same value; nothing to explain")

    rng = np.random.default_rng(seed)
    if n > max_rows:
        data = data.iloc[np.sort(rng.choice(n, size=max_rows, replace=False))]
        if data[treatment].nunique() < 2:
            raise EvaluationError(f"{treatment}: the sample has only one arm; raise max_rows")

    adjusters = design_matrix(data, covariates)
    const = pd.Series(1.0, index=data.index, name="const")
    exposure = data[treatment].astype(float)
    mediator_exog = pd.concat([const, exposure, adjusters], axis=1)
    outcome_exog = pd.concat([const, exposure, data[mediator].astype(float), adjusters], axis=1)
    analysis = Mediation(
        _model(data[outcome], outcome_exog),
        _model(data[mediator], mediator_exog),
        treatment,
        mediator,
    )
    summary = analysis.fit(method="parametric", n_rep=n_rep, rng=rng).summary()

    def row(name: str) -> tuple[float, tuple[float, float]]:
        values = summary.loc[name]
        return float(values["Estimate"]), (float(values["Lower CI bound"]), float(values["Upper CI bound"]))

    indirect, indirect_ci = row("ACME (average)")
    direct, direct_ci = row("ADE (average)")
    total, total_ci = row("Total effect")
    return MediationResult(
        treatment=treatment,
        mediator=mediator,
        outcome=outcome,
        covariates=covariates,
        indirect=indirect,
        indirect_ci=indirect_ci,
        direct=direct,
        direct_ci=direct_ci,
        total=total,
        total_ci=total_ci,
        proportion_mediated=float(summary.loc["Prop. mediated (average)", "Estimate"]),
        n=n,
        n_used=len(data),
        n_dropped=len(frame) - n,
        n_rep=n_rep,
    )
