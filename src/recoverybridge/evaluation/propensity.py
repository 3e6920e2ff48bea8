"""Propensity scores e(X) = P(treated | X): statsmodels' logistic GLM, with the choices researchers expect.

- `model="logit"`: maximum likelihood (statsmodels `GLM(..., Binomial())`, IRLS).
- `model="penalised"`: the same model with a mild ridge penalty, a normal prior of standard deviation
  PRIOR_SD on each standardised coefficient (the intercept is free), fitted by statsmodels'
  `fit_regularized(L1_wt=0)`. It exists whenever the data do, also under separation (Gelman,
  Jakulin, Pittau & Su 2008 argue for weakly informative priors on standardised logistic
  coefficients for exactly this reason).
- `terms="main"` (each covariate as it is), `"splines"` (restricted cubic splines, knots at the 5th,
  35th, 65th and 95th centiles, for every measurement with enough distinct values) or
  `"interactions"` (every pairwise product of the main terms besides).

Separation. When the covariates (nearly) predict treatment, maximum likelihood has no finite
answer: some coefficients grow without end and the fitted scores run to 0 or 1. That is no reason
to refuse: the literature keeps those units. For the effect on the treated, a comparison episode
with a propensity near 0 is simply unlike every treated one, and its weight e/(1 - e) is near 0
(Imbens & Rubin 2015, ch. 14). The model is then refitted with the mild penalty, which has a finite
answer, and the estimate says why (`Propensity.reason`). Nothing is clipped: a score of 1e-9 stays
1e-9, and weights are computed from the linear predictor (odds e/(1 - e) = exp(eta)), not from 1 - e,
so they stay exact at both ends.

Common support (`support`), offered and reported with how many were dropped in each arm:
- "crump": Crump, Hotz, Imbens & Mitnik (2009): with g = 1/(e(1 - e)), keep e in [a, 1 - a]
  where a solves 1/(a(1 - a)) = 2 E[g | g <= 1/(a(1 - a))] (no trimming when max g <= 2 E[g]);
- "treated": the treated group's range (Dehejia & Wahba 1999): comparison episodes below the lowest
  or above the highest treated propensity are dropped, which leaves the effect on the treated the
  same question;
- "fixed": e in [trim, 1 - trim] for a chosen trim.
Dropping units changes who an effect is about (except "treated" for the ATT); the model is refitted
on the units kept.
"""

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from recoverybridge.evaluation.errors import EvaluationError

MODELS = ("logit", "penalised")
TERMS = ("main", "splines", "interactions")
SUPPORTS = ("all", "crump", "treated", "fixed")
# Standard deviation of the normal prior on each standardised coefficient of the penalised model.
PRIOR_SD = 2.5
SPLINE_CENTILES = (5, 35, 65, 95)
# A measurement needs this many distinct values before spline terms mean anything.
SPLINE_MIN_DISTINCT = 5
# Beyond this condition number the information matrix of an unpenalised fit does not settle.
ILL_CONDITIONED = 1e10
# The linear predictor is kept within exp()'s range; a score of exp(-700) is 0 for every purpose.
ETA_LIMIT = 700.0


@dataclass(frozen=True)
class Propensity:
    """A fitted propensity model on one set of rows."""

    z: np.ndarray  # the design: intercept, then standardised terms
    names: tuple[str, ...]  # names of z's columns after the intercept
    beta: np.ndarray
    eta: np.ndarray  # linear predictor, logit e
    penalty: np.ndarray  # per coefficient, on the mean log-likelihood scale (0: unpenalised)
    bread: np.ndarray  # inverse of the mean (penalised) information matrix
    model: str  # the model used: "logit" or "penalised"
    reason: str  # why the penalised model was used when "logit" was asked for; else ""

    @property
    def ps(self) -> np.ndarray:
        return expit(self.eta)

    @property
    def odds(self) -> np.ndarray:
        """e / (1 - e), exactly, from the linear predictor."""
        return np.exp(self.eta)

    def score_rows(self, a: np.ndarray) -> np.ndarray:
        """Each row's estimating function: z (a - e), less its share of the penalty's gradient."""
        return self.z * (a - self.ps)[:, None] - self.penalty * self.beta


# --- the design ---------------------------------------------------------------------------------


def spline_terms(x: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """Restricted cubic spline terms (linear beyond the outer knots), scaled by the knot span squared."""
    first, before_last, last = knots[0], knots[-2], knots[-1]

    def cube(values: np.ndarray) -> np.ndarray:
        return np.clip(values, 0.0, None) ** 3

    columns = [
        cube(x - knot)
        - cube(x - before_last) * (last - knot) / (last - before_last)
        + cube(x - last) * (before_last - knot) / (last - before_last)
        for knot in knots[:-2]
    ]
    return np.column_stack(columns) / (last - first) ** 2


def flexible_terms(
    x: np.ndarray, names: list[str], binary: np.ndarray, terms: str
) -> tuple[np.ndarray, list[str]]:
    """The model's columns: the main terms, then splines or pairwise interactions if asked for."""
    if terms not in TERMS:
        raise EvaluationError(f"terms {terms!r}: use one of {', '.join(TERMS)}")
    blocks, labels = [x], list(names)
    if terms == "splines":
        for j, name in enumerate(names):
            if binary[j] or len(np.unique(x[:, j])) < SPLINE_MIN_DISTINCT:
                continue
            knots = np.unique(np.percentile(x[:, j], SPLINE_CENTILES))
            if len(knots) < 3:
                continue
            block = spline_terms(x[:, j], knots)
            blocks.append(block)
            labels += [f"{name} (spline {k + 1})" for k in range(block.shape[1])]
    elif terms == "interactions":
        for j in range(len(names)):
            for k in range(j + 1, len(names)):
                # Two levels of one categorical covariate never occur together.
                if "=" in names[j] and names[j].split("=")[0] == names[k].split("=")[0]:
                    continue
                blocks.append((x[:, j] * x[:, k])[:, None])
                labels.append(f"{names[j]} * {names[k]}")
    return np.column_stack(blocks) if len(blocks) > 1 else x, labels


def standardised(x: np.ndarray) -> np.ndarray:
    """Intercept plus centred and scaled columns: the same model, better conditioned."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    z = np.empty((x.shape[0], x.shape[1] + 1))
    z[:, 0] = 1.0
    np.subtract(x, mean, out=z[:, 1:])
    z[:, 1:] /= scale
    return z


def independent_columns(z: np.ndarray, names: list[str], main: int) -> tuple[np.ndarray, list[str]]:
    """Drop constant extra terms and any extra term that is a combination of earlier columns; a
    main term that is one is an error (the covariates themselves are collinear)."""
    spread = np.ptp(z[:, 1:], axis=0) > 0
    keep = np.concatenate([[True], spread | (np.arange(len(names)) < main)])
    z, names = z[:, keep], [n for n, k in zip(names, keep[1:], strict=True) if k]
    gram = z.T @ z / len(z)
    _q, r = np.linalg.qr(gram)
    diagonal = np.abs(np.diag(r))
    dependent = diagonal < 1e-9 * max(diagonal.max(), 1.0)
    if dependent[: main + 1].any():
        raise EvaluationError(
            f"the covariates are collinear (one is a combination of others): {', '.join(names[:main])}"
        )
    if dependent.any():
        z = z[:, ~dependent]
        names = [n for n, d in zip(names, dependent[1:], strict=True) if not d]
    return z, names


# --- fitting ------------------------------------------------------------------------------------


def _information(z: np.ndarray, eta: np.ndarray) -> np.ndarray:
    p = expit(eta)
    return (z * (p * (1 - p))[:, None]).T @ z / len(z)


def _maximum_likelihood(z: np.ndarray, a: np.ndarray) -> tuple[np.ndarray, str]:
    """(coefficients, why they cannot be trusted or "")."""
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            # Newton steps on the p x p information matrix: no decomposition of the tall design,
            # which costs far more on a busy machine with a million rows.
            result = sm.GLM(a, z, family=sm.families.Binomial()).fit(
                method="newton", maxiter=100, tol=1e-10, disp=False, max_start_irls=0
            )
        except (np.linalg.LinAlgError, ValueError):
            return np.zeros(z.shape[1]), "the maximum likelihood fit failed"
    beta = np.asarray(result.params, dtype=float)
    if any(issubclass(w.category, PerfectSeparationWarning) for w in caught):
        return beta, "separation"
    if not result.mle_retvals.get("converged", False) or any(
        issubclass(w.category, ConvergenceWarning) for w in caught
    ):
        return beta, "separation"
    if not np.isfinite(beta).all():
        return beta, "separation"
    eta = np.clip(z @ beta, -ETA_LIMIT, ETA_LIMIT)
    if np.linalg.cond(_information(z, eta)) > ILL_CONDITIONED:
        return beta, "separation"
    return beta, ""


def _penalised(z: np.ndarray, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import statsmodels.api as sm

    penalty = np.full(z.shape[1], 1.0 / (PRIOR_SD**2 * len(a)))
    penalty[0] = 0.0  # the intercept is free
    model = sm.GLM(a, z, family=sm.families.Binomial())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # judged below, by the gradient
        result = model.fit_regularized(alpha=penalty, L1_wt=0.0, opt_method="bfgs", maxiter=500)
    beta = np.asarray(result.params, dtype=float)
    eta = np.clip(z @ beta, -ETA_LIMIT, ETA_LIMIT)
    gradient = z.T @ (a - expit(eta)) / len(a) - penalty * beta
    if not np.isfinite(beta).all() or np.max(np.abs(gradient)) > 1e-4:
        # BFGS stops early on very flat likelihoods; Newton steps on the penalised problem finish.
        beta = _newton_polish(z, a, penalty, np.nan_to_num(beta))
    return beta, penalty


def _newton_polish(z: np.ndarray, a: np.ndarray, penalty: np.ndarray, beta: np.ndarray) -> np.ndarray:
    for _ in range(50):
        eta = np.clip(z @ beta, -ETA_LIMIT, ETA_LIMIT)
        gradient = z.T @ (a - expit(eta)) / len(a) - penalty * beta
        hessian = _information(z, eta) + np.diag(penalty)
        step = np.linalg.lstsq(hessian, gradient, rcond=None)[0]
        beta = beta + step
        if np.max(np.abs(step)) < 1e-10 * (1 + np.max(np.abs(beta))):
            break
    return beta


def logistic(z: np.ndarray, y: np.ndarray, model: str = "logit") -> tuple[np.ndarray, np.ndarray, str, str]:
    """A logistic regression of `y` (0/1) on the design `z` (intercept first, standardised):
    (coefficients, penalty per coefficient, model used, why the penalty was needed or "")."""
    if model not in MODELS:
        raise EvaluationError(f"propensity model {model!r}: use one of {', '.join(MODELS)}")
    reason = ""
    if model == "logit":
        beta, trouble = _maximum_likelihood(z, y)
        if not trouble:
            return beta, np.zeros(z.shape[1]), "logit", ""
        reason = (
            "the covariates separate the groups (some coefficients of the maximum likelihood model do "
            "not settle), so the model was fitted with a mild penalty"
        )
    beta, penalty = _penalised(z, y)
    return beta, penalty, "penalised", reason


def fit(
    x: np.ndarray,
    names: list[str],
    binary: np.ndarray,
    a: np.ndarray,
    *,
    model: str = "logit",
    terms: str = "main",
) -> Propensity:
    """The propensity model of treatment `a` (0/1) on the covariates `x` (see the module docstring)."""
    full, labels = flexible_terms(x, names, binary, terms)
    z, labels = independent_columns(standardised(full), labels, len(names))
    beta, penalty, used, reason = logistic(z, a, model)
    eta = np.clip(z @ beta, -ETA_LIMIT, ETA_LIMIT)
    return Propensity(
        z=z,
        names=tuple(labels),
        beta=beta,
        eta=eta,
        penalty=penalty,
        bread=np.linalg.inv(_information(z, eta) + np.diag(penalty)),
        model=used,
        reason=reason,
    )


# --- common support -----------------------------------------------------------------------------


def crump_bound(ps: np.ndarray) -> float:
    """Crump et al. (2009)'s optimal trimming bound a (0 when no trimming is needed)."""
    p = np.clip(ps, 1e-300, 1 - 1e-16)
    g = 1.0 / (p * (1 - p))
    if g.max() <= 2 * g.mean():
        return 0.0
    ordered = np.sort(g)
    running_mean = np.cumsum(ordered) / np.arange(1, len(ordered) + 1)
    # The smallest gamma = 1/(a(1-a)) with gamma <= 2 E[g | g <= gamma], over the observed g.
    ok = ordered <= 2 * running_mean
    gamma = float(ordered[np.flatnonzero(ok)[-1]]) if ok.any() else float(ordered[0])
    # 1/(a(1-a)) = gamma  =>  a = 1/2 - sqrt(1/4 - 1/gamma)
    return float(0.5 - np.sqrt(max(0.25 - 1.0 / gamma, 0.0)))


def support_mask(ps: np.ndarray, a: np.ndarray, support: str, trim: float | None) -> tuple[np.ndarray, tuple]:
    """Which rows to keep, and the bounds used (for the report)."""
    if support not in SUPPORTS:
        raise EvaluationError(f"support {support!r}: use one of {', '.join(SUPPORTS)}")
    if support == "all":
        return np.ones(len(ps), dtype=bool), ()
    if support == "fixed":
        if trim is None:
            raise EvaluationError("support 'fixed' needs a trim bound, e.g. 0.05")
        return (ps >= trim) & (ps <= 1 - trim), (trim, 1 - trim)
    if support == "crump":
        bound = crump_bound(ps)
        return (ps >= bound) & (ps <= 1 - bound), (bound, 1 - bound)
    treated = ps[a == 1]
    low, high = float(treated.min()), float(treated.max())
    return (a == 1) | ((ps >= low) & (ps <= high)), (low, high)
