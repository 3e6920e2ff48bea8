"""Synthetic episodes with a known truth and built-in self-selection.

Tests use it to show the adjusted estimators recover the true effect while the naive
comparison does not; `bench/evaluation.py` uses it to time a full report on a million
episodes. Every column of `evaluation.frame` is present.

The story it tells: people with more recovery capital and fewer days of use at baseline are
more likely to be peer bridged (self-selection) *and* do better anyway, so a naive comparison
flatters peer bridging. The true effects of peer bridging (the treatment, `peer_bridged`):

- mutual_aid_28d: +0.8 on the log-odds scale; its risk difference (ATE and ATT) depends on
  the covariate mix, so `Simulation.truth` holds it computed over two million draws;
- recovery_capital_change: +3.0 points for everyone, of which 1.2 goes through
  `supportive_network_3m` (1.5 more supportive people x 0.8 points each) and 1.8 is direct;
- days to return to use or readmission: hazard ratio 0.7, conditional on the covariates;
- each extra mutual-aid meeting per week: one day less of use at 6 months (before days are
  truncated to 0-28).

Referral rates vary between workers beyond chance (a random worker effect, sd 0.35 on the
log-odds scale) and about 2% of workers refer far more than the rest, so funnel plots show
overdispersion and real outliers. Everything is vectorised: a million rows take a few seconds.
"""

import datetime
import functools
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from recoverybridge.evaluation.frame import FAMA_LEVELS

EPISODE_KINDS = ("detox", "community_treatment", "residential_rehab", "aftercare", "prison_release")
EPISODE_KIND_SHARES = (0.30, 0.40, 0.15, 0.10, 0.05)
AREAS = (
    "North",
    "South",
    "East",
    "West",
    "Central",
    "Coast",
    "Valley",
    "Hills",
)
FIRST_START = datetime.date(2024, 1, 1)
APPROACHES = ("twelve-step", "secular", "faith-based", "medication-assisted")
APPROACH_SHARES = (0.6, 0.25, 0.1, 0.05)
GROUP_GENDERS = ("any", "women", "men")
GROUP_GENDER_SHARES = (0.8, 0.12, 0.08)
TRUTH_DRAWS = 2_000_000


@dataclass(frozen=True)
class Design:
    """What the simulated world looks like; change one thing with `dataclasses.replace`."""

    # Log-odds effect of peer bridging on attending mutual aid within 28 days.
    mutual_aid_log_odds: float = 0.8
    # Points of BARC-10 gained through the network (a x b) and directly.
    network_gain: float = 1.5  # a: supportive people added by peer bridging
    network_value: float = 0.8  # b: recovery capital points per supportive person
    direct_gain: float = 1.8
    hazard_ratio: float = 0.7
    dose_days: float = -1.0  # days used at 6 months per extra meeting a week
    # 0 = peer bridging is random; 1 = strong self-selection on baseline capital and use.
    confounding: float = 1.0
    people_per_worker: int = 400
    workers_per_team: int = 6
    teams_per_service: int = 4
    worker_sd: float = 0.35
    outlier_share: float = 0.02

    @property
    def recovery_capital_effect(self) -> float:
        return self.direct_gain + self.network_gain * self.network_value


@dataclass
class Simulation:
    frame: pd.DataFrame
    design: Design
    # {outcome: {"ate": value, "att": value}} and a few named scalars (see module docstring).
    truth: dict[str, dict[str, float]] = field(default_factory=dict)


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _labels(prefix: str, count: int) -> list[str]:
    width = len(str(count))
    return [f"{prefix} {i + 1:0{width}d}" for i in range(count)]


def _covariates(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    age = np.clip(rng.normal(38.0, 11.0, n), 18, 80).round()
    on_moud = (rng.random(n) < 0.35).astype(float)
    capital = np.clip(rng.normal(32.0, 8.0, n), 10, 60).round()
    days = np.clip(np.round(rng.normal(14.0 - 0.2 * (capital - 32.0), 7.0)), 0, 28)
    prior = rng.poisson(1.0 + 0.5 * on_moud).astype(float)
    secular = (rng.random(n) < 0.3).astype(float)
    return {
        "age": age,
        "on_moud": on_moud,
        "baseline_recovery_capital": capital,
        "baseline_days_used": days,
        "prior_episodes": prior,
        "prefers_secular": secular,
    }


def _standardised(cov: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (
        (cov["baseline_recovery_capital"] - 32.0) / 8.0,
        (cov["baseline_days_used"] - 14.0) / 7.0,
        (cov["age"] - 38.0) / 11.0,
    )


def _propensity_logit(design: Design, cov: dict[str, np.ndarray]) -> np.ndarray:
    z_capital, z_days, z_age = _standardised(cov)
    selection = 0.7 * z_capital - 0.6 * z_days + 0.4 * cov["on_moud"] - 0.3 * z_age
    return -0.3 + design.confounding * selection


def _mutual_aid_logit(cov: dict[str, np.ndarray]) -> np.ndarray:
    z_capital, z_days, z_age = _standardised(cov)
    return -0.6 + 0.6 * z_capital - 0.5 * z_days + 0.3 * cov["on_moud"] - 0.1 * z_age


@functools.cache
def population_truth(design: Design) -> dict[str, dict[str, float]]:
    """The true effects in the population, by Monte Carlo over two million draws (cached)."""
    rng = np.random.default_rng(20261121)
    cov = _covariates(rng, TRUTH_DRAWS)
    treated = rng.random(TRUTH_DRAWS) < _expit(_propensity_logit(design, cov))
    base = _mutual_aid_logit(cov)
    difference = _expit(base + design.mutual_aid_log_odds) - _expit(base)
    effect = design.recovery_capital_effect
    return {
        "mutual_aid_28d": {"ate": float(difference.mean()), "att": float(difference[treated].mean())},
        "recovery_capital_change": {"ate": effect, "att": effect},
        "recovery_capital_change_indirect": {
            "ate": design.network_gain * design.network_value,
            "att": design.network_gain * design.network_value,
        },
        "hazard_ratio": {"ate": design.hazard_ratio, "att": design.hazard_ratio},
        "dose_days_used_6m": {"ate": design.dose_days, "att": design.dose_days},
    }


def simulate_episodes(n: int, seed: int = 0, design: Design | None = None) -> Simulation:
    """`n` synthetic episodes (one row each) drawn with `seed`, and the truth they were drawn from."""
    if n < 1:
        raise ValueError("n must be at least 1")
    design = design or Design()
    rng = np.random.default_rng(seed)
    cov = _covariates(rng, n)
    z_capital, z_days, _z_age = _standardised(cov)

    # Who works with whom: workers in teams in services in areas.
    workers = max(10, n // design.people_per_worker)
    teams = max(2, -(-workers // design.workers_per_team))
    services = max(1, -(-teams // design.teams_per_service))
    worker = rng.integers(0, workers, n)
    team_of_worker = np.arange(workers) % teams
    service_of_team = np.arange(teams) % services
    area_of_service = np.arange(services) % len(AREAS)
    worker_effect = rng.normal(0.0, design.worker_sd, workers)
    outliers = rng.random(workers) < design.outlier_share
    worker_effect[outliers] += 1.2
    team = team_of_worker[worker]
    service = service_of_team[team]
    area = area_of_service[service]

    kind = rng.choice(len(EPISODE_KINDS), size=n, p=EPISODE_KIND_SHARES)
    started = np.datetime64(FIRST_START) + rng.integers(0, 700, n).astype("timedelta64[D]")
    length = rng.integers(7, 121, n).astype("timedelta64[D]")
    ongoing = rng.random(n) < 0.1
    ended = np.where(ongoing, np.datetime64("NaT"), started + length).astype("datetime64[D]")

    # Self-selection into peer bridging.
    treated = (rng.random(n) < _expit(_propensity_logit(design, cov))).astype(float)
    referred_mutual_aid = rng.random(n) < _expit(
        -0.2 + 1.5 * treated + 0.3 * z_capital + worker_effect[worker]
    )
    referred_rehab = rng.random(n) < _expit(-2.2 + 0.5 * z_days + worker_effect[worker] * 0.8)
    online = np.where(referred_mutual_aid, (rng.random(n) < 0.25 + 0.1 * cov["prefers_secular"]), np.nan)
    # FAMA level of the mutual-aid referral: peer bridging is an introduction or accompanying.
    accompanied = rng.random(n) < 0.5
    fama = np.where(referred_mutual_aid, np.where(treated == 1, np.where(accompanied, 2, 1), 0), -1)
    approach = np.where(referred_mutual_aid, rng.choice(len(APPROACHES), size=n, p=APPROACH_SHARES), -1)
    group_gender = rng.choice(len(GROUP_GENDERS), size=n, p=GROUP_GENDER_SHARES)

    mutual_aid = rng.random(n) < _expit(_mutual_aid_logit(cov) + design.mutual_aid_log_odds * treated)
    network = 2.0 + design.network_gain * treated + 0.6 * z_capital - 0.3 * z_days + rng.normal(0, 1.5, n)
    change = (
        1.0
        + design.direct_gain * treated
        + design.network_value * network
        - 1.0 * z_capital
        - 1.2 * z_days
        + 1.0 * cov["on_moud"]
        + rng.normal(0.0, 4.0, n)
    )
    capital_3m = np.clip(cov["baseline_recovery_capital"] + 0.6 * change + rng.normal(0, 2.0, n), 10, 60)
    meetings = np.clip(rng.poisson(np.exp(0.2 + 0.7 * treated + 0.2 * z_capital - 0.1 * z_days)), 0, 14)
    days_6m = 2.0 + 0.55 * cov["baseline_days_used"] + design.dose_days * meetings - 1.5 * treated
    days_6m = np.clip(np.round(days_6m + rng.normal(0, 4.0, n)), 0, 28)
    days_12m = np.clip(np.round(days_6m * 0.9 + rng.normal(0, 4.0, n)), 0, 28)
    lost_12m = rng.random(n) < _expit(-2.0 + 0.4 * z_days)
    days_12m[lost_12m] = np.nan
    completed = (rng.random(n) < _expit(0.2 + 0.5 * treated + 0.4 * z_capital - 0.3 * z_days)).astype(float)
    completed[ongoing] = np.nan
    detox_discharged = (kind == 0) & ~ongoing
    within_14d = (rng.random(n) < _expit(-0.5 + 0.9 * treated + 0.3 * z_capital)).astype(float)
    within_14d[~detox_discharged] = np.nan

    hazard = (1 / 300.0) * np.exp(
        np.log(design.hazard_ratio) * treated + 0.3 * z_days - 0.4 * z_capital + 0.2 * cov["on_moud"]
    )
    event_time = rng.exponential(1.0 / hazard)
    censor_time = rng.uniform(30.0, 730.0, n)
    days_to_event = np.ceil(np.minimum(event_time, censor_time))

    frame = pd.DataFrame(
        {
            "episode_id": np.arange(1, n + 1, dtype=np.int64),
            "episode_kind": pd.Categorical.from_codes(kind, categories=list(EPISODE_KINDS)),
            "started_on": started.astype("datetime64[s]"),
            "ended_on": ended.astype("datetime64[s]"),
            "worker": pd.Categorical.from_codes(worker, categories=_labels("Worker", workers)),
            "team": pd.Categorical.from_codes(team, categories=_labels("Team", teams)),
            "service": pd.Categorical.from_codes(service, categories=_labels("Service", services)),
            "area": pd.Categorical.from_codes(area, categories=list(AREAS)),
            "peer_bridged": treated,
            "referred_mutual_aid": referred_mutual_aid.astype(float),
            "referred_rehab": referred_rehab.astype(float),
            "online_group": online.astype(float),
            "treatment_within_14d": within_14d,
            "mutual_aid_28d": mutual_aid.astype(float),
            "recovery_capital_change": change,
            "days_used_6m": days_6m,
            "days_used_12m": days_12m,
            "treatment_completed": completed,
            "days_to_event": days_to_event,
            "event": (event_time <= censor_time).astype(float),
            **cov,
            "meetings_per_week": meetings.astype(float),
            "supportive_network_3m": network,
            "recovery_capital_3m": capital_3m,
            "group_gender": pd.Categorical.from_codes(group_gender, categories=list(GROUP_GENDERS)),
            "fellowship_approach": pd.Categorical.from_codes(approach, categories=list(APPROACHES)),
            "fama_level": pd.Categorical.from_codes(fama, categories=list(FAMA_LEVELS)),
        }
    )
    return Simulation(frame=frame, design=design, truth=population_truth(design))


def without_confounding(design: Design | None = None) -> Design:
    """The same world with peer bridging assigned at random (a trial), for comparison."""
    return replace(design or Design(), confounding=0.0)


# A survey comparison group: few treated, many untreated who mostly look nothing like them.
SURVEY_INTERCEPT = -15.0
SURVEY_SELECTION = 1.0
# The share of the population like the treated (x1 centred at SURVEY_SHIFT instead of 0).
SURVEY_LIKE = 0.10
SURVEY_SHIFT = 12.5
SURVEY_TRUTH_DRAWS = 4_000_000


def _survey_people(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    x1 = rng.normal(0.0, 1.0, n) + SURVEY_SHIFT * (rng.random(n) < SURVEY_LIKE)
    x2 = rng.normal(0.0, 1.0, n)
    x3 = (rng.random(n) < 0.4).astype(float)
    logit = SURVEY_INTERCEPT + SURVEY_SELECTION * x1 + 0.5 * x2 + 0.5 * x3
    return x1, x2, x3, logit


def _survey_effect(x1: np.ndarray, x3: np.ndarray) -> np.ndarray:
    return 1.0 + 0.2 * x1 - 0.5 * x3


@functools.cache
def survey_truth() -> float:
    """The effect on the treated in the survey world, by Monte Carlo (cached)."""
    rng = np.random.default_rng(20261203)
    x1, _x2, x3, logit = _survey_people(rng, SURVEY_TRUTH_DRAWS)
    treated = rng.random(SURVEY_TRUTH_DRAWS) < _expit(logit)
    return float(_survey_effect(x1, x3)[treated].mean())


def simulate_survey_comparison(n: int = 15_000, seed: int = 0) -> Simulation:
    """A world like the classic job-training benchmarks: about 1% of `n` people take part,
    selected strongly on what they were like before (x1 above all: a few people are like the
    treated, most are not), so most of the rest have a propensity below 1e-6; the effect varies with x1 and x3, so the effect on the treated
    (`truth["y"]["att"]`) differs from everyone's. Columns: treated, y, x1, x2, x3."""
    rng = np.random.default_rng(seed)
    x1, x2, x3, logit = _survey_people(rng, n)
    treated = (rng.random(n) < _expit(logit)).astype(float)
    y = 1.0 + 0.5 * x1 + 1.0 * x2 + 0.5 * x3 + _survey_effect(x1, x3) * treated + rng.normal(0.0, 1.0, n)
    frame = pd.DataFrame({"treated": treated, "y": y, "x1": x1, "x2": x2, "x3": x3})
    return Simulation(frame=frame, design=Design(), truth={"y": {"att": survey_truth()}})
