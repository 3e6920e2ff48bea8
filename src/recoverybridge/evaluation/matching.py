"""Matching and subclassification on the propensity score, beside weighting.

Nearest-neighbour matching (`nearest_neighbour`): each treated episode (and, for the ATE, each
comparison episode too) is matched with replacement to its `neighbours` nearest episodes of the
other arm on the linear propensity score logit e(X), within a caliper of `caliper` standard
deviations of it (0.2 by default: Rosenbaum & Rubin 1985; Austin 2011). Episodes with no partner
within the caliper are left unmatched, counted, and the estimate is about the matched ones.
Standard errors are Abadie & Imbens' (2006): with w_j the weight an episode gets as someone's
match (sum over the episodes it is matched to of 1/|their matches|) and v_j the sum of
1/|their matches|², for the ATT

    V = (1/N1²) [ Σ_treated (Y_i - Ŷ_i(0) - τ)² + Σ_controls (w_j² - v_j) s2_j ],

and for the ATE V = (1/N²) [ Σ_i (Ŷ_i(1) - Ŷ_i(0) - τ)² + Σ_i ((1 + w_i)² - 1 - v_i) s2_i ],
which with M matches each reduce to their K(K-1)/M² and (K/M)² + (2M-1)/M · K/M. The conditional
variances s2_i are estimated by matching within the arm: J/(J+1) (Y_i - mean of its J nearest
same-arm neighbours)², J = 2 (Abadie, Drukker, Herr & Imbens 2004). The bootstrap is not valid
for nearest-neighbour matching (Abadie & Imbens 2008), so none is offered. These errors treat the
propensity score as known; Abadie & Imbens (2016) show the adjustment for its estimation is small
and, for the ATE, makes the interval narrower (the simulations in the tests check the coverage).

Subclassification (`subclassify`): the episodes are divided into blocks of similar propensity and
the effect is the weighted mean of the within-block differences in means (Rosenbaum & Rubin 1984;
Cochran 1968), weighted by the block's treated episodes (ATT) or all its episodes (ATE), with
variance Σ w_b² (s²_1b/n_1b + s²_0b/n_0b). The blocks are chosen from the data as Imbens & Rubin
(2015, §13.5) describe: a block is split at its median linear propensity while the two arms'
linear propensities in it still differ (|t| > 1.96) and both halves keep enough episodes of each
arm (at the treated episodes' median when the block's own would leave a half without one arm); or, with `subclasses=k`, at quantiles of the (treated episodes', for the ATT) propensity. For
the ATT, comparison episodes below the lowest treated propensity belong to no block.
"""

from dataclasses import dataclass

import numpy as np

from recoverybridge.evaluation.errors import EvaluationError

DEFAULT_CALIPER = 0.2
VARIANCE_NEIGHBOURS = 2
# A block needs this many episodes of each arm (for a variance), and a split that many more.
MIN_PER_BLOCK = 3
BLOCK_T = 1.96
MAX_BLOCKS = 50


@dataclass(frozen=True)
class Matched:
    """One arm-comparison from matching or subclassification, ready for the estimators' summary."""

    mu1: float
    mu0: float
    variance: float
    weights: np.ndarray  # per row of the analysis sample, for the balance table (0: not used)
    unmatched_treated: int = 0
    unmatched_control: int = 0
    blocks: int = 0

    @property
    def effect(self) -> float:
        return self.mu1 - self.mu0


def _nearest(sorted_keys: np.ndarray, queries: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """For each query, the positions in `sorted_keys` of its `count` nearest keys and their distances
    (nearest first). The nearest lie within `count` places either side of the insertion point."""
    size = len(sorted_keys)
    count = min(count, size)
    position = np.searchsorted(sorted_keys, queries)
    offsets = np.arange(-count, count)
    candidates = np.clip(position[:, None] + offsets[None, :], 0, size - 1)
    distance = np.abs(sorted_keys[candidates] - queries[:, None])
    # The same candidate may appear twice after clipping at an end: count it once.
    duplicate = np.zeros_like(distance, dtype=bool)
    duplicate[:, 1:] = candidates[:, 1:] == candidates[:, :-1]
    distance = np.where(duplicate, np.inf, distance)
    order = np.argsort(distance, axis=1, kind="stable")[:, :count]
    rows = np.arange(len(queries))[:, None]
    return candidates[rows, order], distance[rows, order]


def _within_arm_variance(keys: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The conditional variances by matching each episode to its nearest same-arm neighbours (itself excluded)."""
    order = np.argsort(keys, kind="stable")
    sorted_keys, sorted_y = keys[order], y[order]
    size = len(keys)
    if size < 2:
        return np.zeros(size)
    count = min(VARIANCE_NEIGHBOURS, size - 1)
    offsets = np.concatenate([np.arange(-count, 0), np.arange(1, count + 1)])
    positions = np.arange(size)[:, None] + offsets[None, :]
    valid = (positions >= 0) & (positions < size)
    clipped = np.clip(positions, 0, size - 1)
    distance = np.where(valid, np.abs(sorted_keys[clipped] - sorted_keys[:, None]), np.inf)
    nearest = np.argsort(distance, axis=1, kind="stable")[:, :count]
    rows = np.arange(size)[:, None]
    mean = sorted_y[clipped[rows, nearest]].mean(axis=1)
    variance = np.empty(size)
    variance[order] = count / (count + 1) * (sorted_y - mean) ** 2
    return variance


def _match_arm(
    keys_from: np.ndarray, keys_to: np.ndarray, neighbours: int, caliper: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Match every episode of one arm to the other: (matched?, partner weights w, partner v), the
    latter two per episode of the other arm; an episode without a partner in the caliper gives none."""
    order = np.argsort(keys_to, kind="stable")
    positions, distance = _nearest(keys_to[order], keys_from, neighbours)
    within = distance <= caliper
    matched = within[:, 0]
    per_match = np.where(within, 1.0, 0.0)
    sizes = per_match.sum(axis=1)
    share = np.divide(per_match, sizes[:, None], out=np.zeros_like(per_match), where=sizes[:, None] > 0)
    partners = order[positions]
    w = np.bincount(partners.ravel(), weights=share.ravel(), minlength=len(keys_to))
    v = np.bincount(partners.ravel(), weights=(share**2).ravel(), minlength=len(keys_to))
    return matched, w, v


def nearest_neighbour(
    a: np.ndarray,
    y: np.ndarray,
    eta: np.ndarray,
    estimand: str,
    *,
    neighbours: int = 1,
    caliper: float = DEFAULT_CALIPER,
) -> Matched:
    """Matching with replacement on the linear propensity `eta` (see the module docstring)."""
    if neighbours < 1:
        raise EvaluationError(f"neighbours {neighbours}: match at least one episode")
    if caliper <= 0:
        raise EvaluationError(f"caliper {caliper!r}: use a positive number of standard deviations, e.g. 0.2")
    treated = a == 1
    width = caliper * float(np.std(eta, ddof=1))
    sigma2 = np.empty(len(y))
    sigma2[treated] = _within_arm_variance(eta[treated], y[treated])
    sigma2[~treated] = _within_arm_variance(eta[~treated], y[~treated])
    t_index, c_index = np.flatnonzero(treated), np.flatnonzero(~treated)
    # Each treated episode's comparison partners.
    t_matched, w_c, v_c = _match_arm(eta[treated], eta[~treated], neighbours, width)
    if estimand == "att":
        used = t_index[t_matched]
        if len(used) == 0:
            raise EvaluationError("no treated episode has a comparison episode within the caliper")
        predicted0 = _partner_means(eta[used], eta[~treated], y[~treated], neighbours, width)
        n1 = len(used)
        effect_i = y[used] - predicted0
        tau = float(effect_i.mean())
        variance = (np.sum((effect_i - tau) ** 2) + np.sum((w_c**2 - v_c) * sigma2[c_index])) / n1**2
        weights = np.zeros(len(y))
        weights[used] = 1.0
        weights[c_index] = w_c
        mu1 = float(y[used].mean())
        return Matched(
            mu1=mu1,
            mu0=mu1 - tau,
            variance=float(variance),
            weights=weights,
            unmatched_treated=int((~t_matched).sum()),
        )
    # ATE: every episode gets its missing potential outcome from the other arm.
    c_matched, w_t, v_t = _match_arm(eta[~treated], eta[treated], neighbours, width)
    t_used, c_used = t_index[t_matched], c_index[c_matched]
    if len(t_used) == 0 or len(c_used) == 0:
        raise EvaluationError("no episode of one arm has a partner of the other within the caliper")
    y1 = np.concatenate([y[t_used], _partner_means(eta[c_used], eta[treated], y[treated], neighbours, width)])
    y0 = np.concatenate(
        [_partner_means(eta[t_used], eta[~treated], y[~treated], neighbours, width), y[c_used]]
    )
    n = len(y1)
    tau = float(np.mean(y1 - y0))
    own = np.zeros(len(y))
    own[t_used] = 1.0
    own[c_used] = 1.0
    w = np.zeros(len(y))
    v = np.zeros(len(y))
    w[t_index], v[t_index] = w_t, v_t
    w[c_index], v[c_index] = w_c, v_c
    extra = (own + w) ** 2 - own - v
    variance = (np.sum((y1 - y0 - tau) ** 2) + np.sum(extra * sigma2)) / n**2
    return Matched(
        mu1=float(y1.mean()),
        mu0=float(y0.mean()),
        variance=float(variance),
        weights=own + w,
        unmatched_treated=int((~t_matched).sum()),
        unmatched_control=int((~c_matched).sum()),
    )


def _partner_means(
    keys_from: np.ndarray, keys_to: np.ndarray, y_to: np.ndarray, neighbours: int, caliper: float
) -> np.ndarray:
    """The mean outcome of each episode's partners within the caliper (its nearest one at least)."""
    order = np.argsort(keys_to, kind="stable")
    positions, distance = _nearest(keys_to[order], keys_from, neighbours)
    within = distance <= caliper
    within[:, 0] = True
    values = y_to[order][positions]
    return (values * within).sum(axis=1) / within.sum(axis=1)


# --- subclassification --------------------------------------------------------------------------


def _enough(a: np.ndarray, rows: np.ndarray, least: int) -> bool:
    treated = int(a[rows].sum())
    return treated >= least and len(rows) - treated >= least


def _split(a: np.ndarray, eta: np.ndarray, rows: np.ndarray, out: list[np.ndarray]) -> None:
    """Imbens & Rubin's recursive blocking: split at the median while the arms still differ."""
    treated = a[rows] == 1
    t, c = eta[rows][treated], eta[rows][~treated]
    if len(out) < MAX_BLOCKS and len(t) >= 2 and len(c) >= 2:
        spread = np.sqrt(t.var(ddof=1) / len(t) + c.var(ddof=1) / len(c))
        if spread > 0 and abs(t.mean() - c.mean()) / spread > BLOCK_T:
            # At the block's median; where a half would lack an arm, at the treated episodes'.
            for median in (float(np.median(eta[rows])), float(np.median(t))):
                lower, upper = rows[eta[rows] < median], rows[eta[rows] >= median]
                if _enough(a, lower, MIN_PER_BLOCK) and _enough(a, upper, MIN_PER_BLOCK):
                    _split(a, eta, lower, out)
                    _split(a, eta, upper, out)
                    return
    out.append(rows)


def _quantile_blocks(a: np.ndarray, eta: np.ndarray, rows: np.ndarray, count: int, estimand: str) -> list:
    basis = eta[rows][a[rows] == 1] if estimand == "att" else eta[rows]
    edges = np.unique(np.quantile(basis, np.linspace(0, 1, count + 1)[1:-1]))
    labels = np.searchsorted(edges, eta[rows], side="right")
    blocks = [rows[labels == k] for k in range(len(edges) + 1)]
    # Merge a block lacking an arm into the one above it (the last into the one below).
    merged: list[np.ndarray] = []
    pending = np.array([], dtype=int)
    for block in blocks:
        pending = np.concatenate([pending, block])
        if _enough(a, pending, 2):
            merged.append(pending)
            pending = np.array([], dtype=int)
    if len(pending):
        if merged:
            merged[-1] = np.concatenate([merged[-1], pending])
        else:
            merged.append(pending)
    return merged


def subclassify(
    a: np.ndarray, y: np.ndarray, eta: np.ndarray, estimand: str, *, subclasses: int | None = None
) -> Matched:
    """The effect from blocks of similar propensity (see the module docstring)."""
    if subclasses is not None and not 2 <= subclasses <= MAX_BLOCKS:
        raise EvaluationError(
            f"subclasses {subclasses}: use between 2 and {MAX_BLOCKS}, or none for automatic"
        )
    rows = np.arange(len(a))
    below = 0
    if estimand == "att":
        lowest = float(eta[a == 1].min())
        below = int(((eta < lowest) & (a == 0)).sum())
        rows = rows[eta >= lowest]
    if subclasses is None:
        blocks: list[np.ndarray] = []
        _split(a, eta, rows, blocks)
    else:
        blocks = _quantile_blocks(a, eta, rows, subclasses, estimand)
    if not all(_enough(a, block, 2) for block in blocks):
        raise EvaluationError(
            "subclassification needs at least two treated and two comparison episodes of similar "
            "propensity; there are too few comparison episodes like the treated ones"
        )
    total = sum(int(a[b].sum()) if estimand == "att" else len(b) for b in blocks)
    mu1 = mu0 = variance = 0.0
    weights = np.zeros(len(a))
    for block in blocks:
        treated = a[block] == 1
        y1, y0 = y[block][treated], y[block][~treated]
        share = (len(y1) if estimand == "att" else len(block)) / total
        mu1 += share * float(y1.mean())
        mu0 += share * float(y0.mean())
        variance += share**2 * (y1.var(ddof=1) / len(y1) + y0.var(ddof=1) / len(y0))
        weights[block[treated]] = share / len(y1)
        weights[block[~treated]] = share / len(y0)
    return Matched(
        mu1=mu1,
        mu0=mu0,
        variance=float(variance),
        weights=weights,
        unmatched_control=below,
        blocks=len(blocks),
    )
