"""Cohorts: the analysis frame (`evaluation.frame`) built from care and outcome records.

`build_cohort(spec, now=None, actor=None)` returns one row per episode of the chosen kinds,
started in the chosen period, of people on the chosen teams whose consent covers evaluation.
Reading a cohort is an access to health data: pass `actor` (the signed-in user) and one audit
event (action "view", object type "evaluation.cohort") records the specification and the
counts, never a person. Without an actor nothing is audited: that is for the command line and
the benchmark, never for a page.

Privacy. Only episodes of people with an active Consent of purpose "evaluation" at `now`
(given on or before it, not revoked, not expired: `Consent.objects.active`) are
included; the others are counted in `Cohort.n_without_consent`, nothing more. The frame holds no
name, date of birth, contact detail, free text or person id: age in years instead of the date
of birth, and labels for the units. An empty `team_ids` means every team: a page must pass the
teams its user may evaluate.

Data definitions (dates are local dates; "today" is the date of `now`). A cohort is built as
of `now`: episodes, referrals, responses, check-ins and milestones dated after it are not seen,
and an episode ending after it counts as ongoing, so a cohort rebuilt for a past date shows what
was known then (except for later edits of a record, which keep no history).

Units
- worker: the episode's navigator, else the person's navigator (full name, else username).
- team: the person's team; service: its organisation; area: the team's area, else the
  organisation's.

Exposures. An episode's window runs from its start to BRIDGING_DAYS (28) after it ended (the
aftercare of a detox discharge is where bridging happens), or to today while it is ongoing.
"Referrals in the window" are the person's referrals authored in it that were sent: drafts
and referrals entered in error are left out; cancelled, rejected and failed ones count (the
worker did refer).
- peer_bridged: 1 when a referral in the window has an assisted step (introduced to a member
  or accompanied to a meeting), else 0.
- referred_mutual_aid: a referral in the window to a meeting or a fellowship.
- referred_rehab: a referral in the window to residential rehab.
- online_group: among the window's mutual-aid referrals, 1 when a meeting the person chose
  (or the referral's meeting) is online or hybrid, 0 when all are in person; NaN when not
  referred to mutual aid or no meeting was named (a referral to a fellowship only).

Outcomes
- treatment_within_14d (detox episodes that ended): 1 when an episode of community
  treatment, residential rehab or aftercare started between the detox's start and 14 days
  after its discharge; 0 otherwise once 14 days have passed; NaN before then, while the detox
  is ongoing and for other kinds. Referrals alone do not count: a referral's acceptance is not
  a start of treatment, and its date is not kept.
- mutual_aid_28d: 1 when, within 28 days of the episode's start, a mutual-aid referral reached
  "attended first meeting" or "attending regularly", or a check-in reported at least one
  meeting; 0 otherwise once 28 days have passed; NaN before then. A milestone's date is the
  audit event that recorded it (referrals keep no date per milestone); without such an event
  (records loaded in bulk) the referral's last change (updated_at) stands in, which is late
  whenever the referral changed again afterwards.
- recovery_capital_change: BARC-10 total at 6 months (else 3 months) minus baseline.
- days_used_6m / days_used_12m: the substance-use-28 "days-used-max" score (the most days of
  any one substance in the past 28) at 6 and 12 months.
- treatment_completed: 1 when the episode ended "completed", 0 for dropped out or other, NaN
  while ongoing and for transfers (a transfer is neither).
- days_to_event / event: from discharge to the first of readmission (a later detox episode,
  or residential rehab starting more than 14 days after discharge: a step-down within 14 days
  is treatment, not readmission) or return to use (a substance-use-28 response completed after
  discharge with days used > 0, dated when it was completed, so an upper bound on the true
  time); censored today when neither happened. NaN for ongoing episodes.

Covariates
- age: whole years at the episode's start; on_moud: the person's current flag (no history is
  kept); baseline_recovery_capital and baseline_days_used: BARC-10 total and days-used-max at
  baseline; prior_episodes: the person's episodes started before this one (any kind, any
  period); prefers_secular: 1 when the person's spiritual preference is secular.

Dose and mediators
- meetings_per_week: the mean meetings_count of check-ins in the first 90 days of the episode;
  without check-ins, the mutual-help instrument's meetings in the past 90 days at 3 months,
  divided by 90/7 weeks; NaN when neither exists.
- supportive_network_3m: the social-network instrument's "supportive" answer (people who
  support the recovery) at 3 months; recovery_capital_3m: BARC-10 total at 3 months.

Responses belong to an episode through the scheduled assessment they fulfilled; a response
without one belongs to the episode whose time point it is nearest to (baseline within 30 days
of the start, later points within 60 days of the start plus their months), so a detox and the
community treatment that follows it share their measurements. Only completed responses count.

Indicators are floats (0.0 / 1.0 / NaN), labels pandas Categoricals, dates datetime64.
Everything is read in a dozen set-based queries and joined with pandas; it runs the same on
SQLite and PostgreSQL.
"""

import datetime
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser, User
from django.db import transaction
from django.db.models import Case, Exists, FloatField, OuterRef, QuerySet, When
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone

from recoverybridge.audit import actions as audit
from recoverybridge.audit.models import AuditAction, AuditEvent
from recoverybridge.care.models import (
    AssistedStep,
    AssistedStepKind,
    Consent,
    ConsentPurpose,
    EpisodeEnd,
    EpisodeKind,
    GroupGenderPreference,
    MutualAidMilestone,
    Person,
    Referral,
    ReferralOption,
    ReferralTargetKind,
    SpiritualPreference,
    TaskStatus,
)
from recoverybridge.care.models import Episode as EpisodeModel
from recoverybridge.directory.models import AttendanceMode
from recoverybridge.evaluation import frame as columns
from recoverybridge.evaluation.errors import EvaluationError
from recoverybridge.outcomes.models import CheckIn, Response, ResponseStatus, ScheduledAssessment, TimePoint

BRIDGING_DAYS = 28
TREATMENT_DAYS = 14
MUTUAL_AID_DAYS = 28
DOSE_DAYS = 90
STEP_DOWN_DAYS = 14
BASELINE_TOLERANCE_DAYS = 30
FOLLOW_UP_TOLERANCE_DAYS = 60

TREATMENT_KINDS = (EpisodeKind.COMMUNITY_TREATMENT, EpisodeKind.RESIDENTIAL_REHAB, EpisodeKind.AFTERCARE)
MUTUAL_AID_TARGETS = (ReferralTargetKind.MEETING, ReferralTargetKind.FELLOWSHIP)
NOT_SENT = (TaskStatus.DRAFT, TaskStatus.ENTERED_IN_ERROR)
ATTENDED = (MutualAidMilestone.ATTENDED_FIRST, MutualAidMilestone.ATTENDING_REGULARLY)
ONLINE_MODES = (AttendanceMode.ONLINE, AttendanceMode.HYBRID)

# (column, instrument, time point, months after the start) read from responses.
MEASURES = (
    ("baseline_recovery_capital", "barc-10", TimePoint.BASELINE, 0),
    ("recovery_capital_3m", "barc-10", TimePoint.MONTH_3, 3),
    ("_recovery_capital_6m", "barc-10", TimePoint.MONTH_6, 6),
    ("baseline_days_used", "substance-use-28", TimePoint.BASELINE, 0),
    ("days_used_6m", "substance-use-28", TimePoint.MONTH_6, 6),
    ("days_used_12m", "substance-use-28", TimePoint.MONTH_12, 12),
    ("supportive_network_3m", "social-network", TimePoint.MONTH_3, 3),
    ("_mutual_help_meetings_3m", "mutual-help", TimePoint.MONTH_3, 3),
)
# The one number each instrument contributes: a score, or (social network) an answer.
VALUE_PATHS = {
    "barc-10": "scores__total",
    "substance-use-28": "scores__days-used-max",
    "social-network": "answers__supportive",
    "mutual-help": "scores__meetings-total",
}

FRAME_COLUMNS = [*columns.ID_COLUMNS, *(column.name for column in columns.ALL)]
LABEL_COLUMNS = ("episode_kind", "worker", "team", "service", "area")
CATEGORY_COLUMNS = ("fama_level", "fellowship_approach", "group_gender")
FAMA_LEVELS = columns.FAMA_LEVELS
MIXED_APPROACHES = "mixed"


@dataclass(frozen=True)
class CohortSpec:
    """Which episodes: kinds (empty: all), started in [started_from, started_to] (either end
    open when None), of people on `team_ids` (empty: every team; pages pass the user's)."""

    episode_kinds: tuple[str, ...] = ()
    started_from: datetime.date | None = None
    started_to: datetime.date | None = None
    team_ids: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        kinds = tuple(self.episode_kinds)
        unknown = sorted(set(kinds) - set(EpisodeKind.values))
        if unknown:
            raise EvaluationError(
                f"episode_kinds: unknown kind(s) {', '.join(unknown)}; "
                f"known kinds are {', '.join(EpisodeKind.values)}"
            )
        for name in ("started_from", "started_to"):
            value = getattr(self, name)
            if value is not None and (
                not isinstance(value, datetime.date) or isinstance(value, datetime.datetime)
            ):
                raise EvaluationError(f"{name}: must be a date, not {value!r}")
        if self.started_from and self.started_to and self.started_from > self.started_to:
            raise EvaluationError(
                f"started_from: {self.started_from} is after started_to ({self.started_to})"
            )
        team_ids = tuple(self.team_ids)
        if any(isinstance(pk, bool) or not isinstance(pk, int) for pk in team_ids):
            raise EvaluationError("team_ids: must be whole numbers (team ids)")
        # Lists are accepted and kept as tuples, so a spec stays hashable and comparable.
        object.__setattr__(self, "episode_kinds", kinds)
        object.__setattr__(self, "team_ids", team_ids)

    def describe(self) -> dict[str, Any]:
        """The specification as plain values, for the audit trail and report headers."""
        return {
            "episode_kinds": list(self.episode_kinds),
            "started_from": self.started_from.isoformat() if self.started_from else None,
            "started_to": self.started_to.isoformat() if self.started_to else None,
            "team_ids": list(self.team_ids),
        }


@dataclass(frozen=True)
class Cohort:
    frame: pd.DataFrame = field(repr=False)
    spec: CohortSpec
    n_episodes: int
    # Episodes matching the spec left out because the person's consent does not cover evaluation.
    n_without_consent: int
    built_at: datetime.datetime


def evaluation_consented(now: datetime.datetime) -> QuerySet[Any]:
    """Active evaluation consents, to correlate with a person (OuterRef("person_id"))."""
    return Consent.objects.active(now).filter(
        purpose=ConsentPurpose.EVALUATION, person_id=OuterRef("person_id")
    )


def build_cohort(
    spec: CohortSpec,
    now: datetime.datetime | None = None,
    actor: AbstractBaseUser | AnonymousUser | None = None,
) -> Cohort:
    """The analysis frame for `spec` as of `now`; audited when `actor` is given (see above)."""
    if not isinstance(spec, CohortSpec):
        raise EvaluationError(f"spec: must be a CohortSpec, not {type(spec).__name__}")
    now = now or timezone.now()
    today = pd.Timestamp(timezone.localdate(now))

    matching = _matching(spec, now)
    episodes = _frame(
        matching.values(
            "id", "person_id", "kind", "started_on", "ended_on", "end_reason", "navigator_id", "consented"
        ),
        ["id", "person_id", "kind", "started_on", "ended_on", "end_reason", "navigator_id", "consented"],
        order=("started_on", "id"),
    )
    n_without_consent = int((~episodes["consented"].astype(bool)).sum())
    episodes = episodes[episodes["consented"].astype(bool)].drop(columns="consented").reset_index(drop=True)
    for name in ("started_on", "ended_on"):
        episodes[name] = _dates(episodes[name])
    later_end = episodes["ended_on"] > today
    episodes.loc[later_end, "ended_on"] = pd.NaT
    episodes.loc[later_end, "end_reason"] = EpisodeEnd.ONGOING
    # The people of the cohort, as a subquery every other read is narrowed to.
    people = matching.filter(consented=True).values("person_id")

    frame = _assemble(episodes, people, now)
    cohort = Cohort(
        frame=frame,
        spec=spec,
        n_episodes=len(frame),
        n_without_consent=n_without_consent,
        built_at=now,
    )
    if actor is not None:
        record_cohort_read(actor, cohort)
    return cohort


def _matching(spec: CohortSpec, now: datetime.datetime) -> QuerySet[Any]:
    """The spec's episodes as of `now` (records dated later are not seen), each marked consented."""
    today = timezone.localdate(now)
    matching: QuerySet[Any] = EpisodeModel.objects.filter(started_on__lte=today)
    if spec.episode_kinds:
        matching = matching.filter(kind__in=spec.episode_kinds)
    if spec.started_from:
        matching = matching.filter(started_on__gte=spec.started_from)
    if spec.started_to:
        matching = matching.filter(started_on__lte=spec.started_to)
    if spec.team_ids:
        matching = matching.filter(person__team_id__in=spec.team_ids)
    return matching.annotate(consented=Exists(evaluation_consented(now)))


def cohort_size(spec: CohortSpec, now: datetime.datetime | None = None) -> int:
    """How many consented episodes `build_cohort` would read (one count query, nothing audited:
    a page uses it to decide whether to build the report in the background)."""
    return _matching(spec, now or timezone.now()).filter(consented=True).count()


def record_cohort_read(actor: AbstractBaseUser | AnonymousUser, cohort: Cohort) -> AuditEvent:
    """One VIEW event: the specification and the counts, no person."""
    spec = cohort.spec.describe()
    kinds = ",".join(spec["episode_kinds"]) or "all"
    teams = ",".join(str(pk) for pk in spec["team_ids"]) or "all"
    detail = (
        f"evaluation cohort: {cohort.n_episodes} episodes, {cohort.n_without_consent} without consent; "
        f"kinds {kinds}; started {spec['started_from'] or '…'} to {spec['started_to'] or '…'}; teams {teams}"
    )
    with transaction.atomic():
        return audit.record(
            actor if isinstance(actor, User) else None,
            AuditAction.VIEW,
            None,
            object_type="evaluation.cohort",
            changes={
                "spec": {"old": None, "new": spec},
                "counts": {
                    "old": None,
                    "new": {"episodes": cohort.n_episodes, "without_consent": cohort.n_without_consent},
                },
            },
            detail=detail,
            at=cohort.built_at,
        )


# ---------------------------------------------------------------- assembly


def _assemble(episodes: pd.DataFrame, people: QuerySet[Any], now: datetime.datetime) -> pd.DataFrame:
    today = pd.Timestamp(timezone.localdate(now))
    frame = pd.DataFrame({"episode_id": episodes["id"].astype("int64")})
    frame["episode_kind"] = episodes["kind"]
    frame["started_on"] = episodes["started_on"]
    frame["ended_on"] = episodes["ended_on"]
    ended = episodes["ended_on"].notna()
    window_end = episodes["ended_on"].add(pd.Timedelta(days=BRIDGING_DAYS)).where(ended, today)
    episodes = episodes.assign(window_end=window_end)

    persons = _persons(people)
    person = episodes[["person_id", "navigator_id"]].merge(persons, on="person_id", how="left")
    navigator = person["navigator_id"].astype(float).fillna(person["person_navigator_id"].astype(float))
    frame["worker"] = navigator.map(_worker_labels(navigator))
    frame["team"] = person["team"]
    frame["service"] = person["service"]
    frame["area"] = person["team_area"].where(person["team_area"] != "", person["organisation_area"])

    exposures = _exposures(episodes, people, now)
    for name in ("peer_bridged", "referred_mutual_aid", "referred_rehab", "online_group"):
        frame[name] = exposures[name].to_numpy()
    frame["fama_level"] = pd.Categorical(exposures["fama_level"], categories=FAMA_LEVELS)
    frame["fellowship_approach"] = pd.Categorical(exposures["fellowship_approach"])

    history = _frame(
        EpisodeModel.objects.filter(person_id__in=people, started_on__lte=today.date()).values(
            "id", "person_id", "kind", "started_on"
        ),
        ["id", "person_id", "kind", "started_on"],
    )
    history["started_on"] = _dates(history["started_on"])
    measures = _measures(episodes, people, now)
    check_ins = _check_ins(people, now)

    frame["treatment_within_14d"] = _treatment_within(episodes, history, today).to_numpy()
    frame["mutual_aid_28d"] = _mutual_aid_within(episodes, people, check_ins, now).to_numpy()
    later = measures["_recovery_capital_6m"].fillna(measures["recovery_capital_3m"])
    frame["recovery_capital_change"] = (later - measures["baseline_recovery_capital"]).to_numpy()
    frame["days_used_6m"] = measures["days_used_6m"].to_numpy()
    frame["days_used_12m"] = measures["days_used_12m"].to_numpy()
    reason = episodes["end_reason"]
    completed = np.where(reason == EpisodeEnd.COMPLETED, 1.0, 0.0)
    frame["treatment_completed"] = np.where(
        ~ended | (reason == EpisodeEnd.TRANSFERRED) | (reason == EpisodeEnd.ONGOING), np.nan, completed
    )
    days, event = _time_to_event(episodes, history, people, now)
    frame["days_to_event"] = days.to_numpy()
    frame["event"] = event.to_numpy()

    frame["age"] = _age(person["date_of_birth"], episodes["started_on"]).to_numpy()
    frame["on_moud"] = person["on_moud"].astype(float).to_numpy()
    frame["baseline_recovery_capital"] = measures["baseline_recovery_capital"].to_numpy()
    frame["baseline_days_used"] = measures["baseline_days_used"].to_numpy()
    frame["prior_episodes"] = _prior_episodes(episodes, history).to_numpy()
    frame["prefers_secular"] = (person["spiritual_preference"] == SpiritualPreference.SECULAR).astype(float)
    frame["group_gender"] = pd.Categorical(
        person["group_gender_preference"], categories=GroupGenderPreference.values
    )

    from_check_ins = _check_in_dose(episodes, check_ins)
    from_instrument = measures["_mutual_help_meetings_3m"] / (DOSE_DAYS / 7)
    frame["meetings_per_week"] = from_check_ins.fillna(from_instrument).to_numpy()
    frame["supportive_network_3m"] = measures["supportive_network_3m"].to_numpy()
    frame["recovery_capital_3m"] = measures["recovery_capital_3m"].to_numpy()

    for name in LABEL_COLUMNS:
        frame[name] = pd.Categorical(frame[name].astype("object"))
    frame["episode_kind"] = frame["episode_kind"].cat.set_categories(EpisodeKind.values)
    floats = [
        name for name in FRAME_COLUMNS if name not in (*columns.ID_COLUMNS, *LABEL_COLUMNS, *CATEGORY_COLUMNS)
    ]
    frame[floats] = frame[floats].astype(float)
    return frame[FRAME_COLUMNS]


def _frame(rows: Any, names: list[str], order: tuple[str, ...] = ()) -> pd.DataFrame:
    # Only the cohort's own rows are ordered; the other reads are joined, so sorting them is waste.
    frame = pd.DataFrame.from_records(list(rows.order_by(*order).values_list(*names)), columns=names)
    if frame.empty:
        # Typed keys, so merging an empty read with a full one still lines up.
        keys = [name for name in names if name == "id" or name.endswith("_id")]
        frame = frame.astype(dict.fromkeys(keys, "int64"))
    return frame


def _dates(values: pd.Series) -> pd.Series:
    """Dates (or aware datetimes, taken as local dates) as datetime64[s] at midnight."""
    if values.empty:
        return pd.Series(pd.to_datetime(values), dtype="datetime64[s]")
    first = values.dropna().iloc[0] if values.notna().any() else None
    converted = pd.to_datetime(values, utc=isinstance(first, datetime.datetime))
    if getattr(converted.dt, "tz", None) is not None:
        converted = converted.dt.tz_convert(timezone.get_current_timezone_name()).dt.tz_localize(None)
    return converted.dt.normalize().astype("datetime64[s]")


def _persons(people: QuerySet[Any]) -> pd.DataFrame:
    names = [
        "id",
        "navigator_id",
        "date_of_birth",
        "on_moud",
        "spiritual_preference",
        "group_gender_preference",
        "team__name",
        "team__area",
        "team__organisation__name",
        "team__organisation__area",
    ]
    persons = _frame(Person.objects.filter(pk__in=people).values(*names), names)
    persons.columns = [
        "person_id",
        "person_navigator_id",
        "date_of_birth",
        "on_moud",
        "spiritual_preference",
        "group_gender_preference",
        "team",
        "team_area",
        "service",
        "organisation_area",
    ]
    return persons


def _worker_labels(navigator_ids: pd.Series) -> dict[Any, str]:
    ids = [int(pk) for pk in navigator_ids.dropna().unique()]
    users = _frame(User.objects.filter(pk__in=ids), ["id", "username", "first_name", "last_name"])
    full = (users["first_name"] + " " + users["last_name"]).str.strip()
    users["label"] = full.where(full != "", users["username"])
    return dict(zip(users["id"].astype(float), users["label"], strict=True))


def _in_window(pairs: pd.DataFrame, at: str) -> pd.Series:
    return (pairs[at] >= pairs["started_on"]) & (pairs[at] <= pairs["window_end"])


def _exposures(episodes: pd.DataFrame, people: QuerySet[Any], now: datetime.datetime) -> pd.DataFrame:
    names = [
        "id",
        "person_id",
        "target_kind",
        "authored_on",
        "meeting__attendance_mode",
        "fellowship__approach",
        "meeting__fellowship__approach",
    ]
    referrals = _frame(
        Referral.objects.filter(person_id__in=people, authored_on__lte=now)
        .exclude(status__in=NOT_SENT)
        .values(*names),
        names,
    )
    referrals["authored_on"] = _dates(referrals["authored_on"])
    steps = _frame(
        AssistedStep.objects.filter(referral__person_id__in=people).values("referral_id", "kind"),
        ["referral_id", "kind"],
    )
    bridged = set(steps["referral_id"])
    accompanied = set(steps.loc[steps["kind"] == AssistedStepKind.ACCOMPANIED, "referral_id"])
    chosen = _frame(
        ReferralOption.objects.filter(referral__person_id__in=people, chosen=True).values(
            "referral_id", "meeting__attendance_mode", "meeting__fellowship__approach"
        ),
        ["referral_id", "meeting__attendance_mode", "meeting__fellowship__approach"],
    )
    (
        chosen.dropna(subset=["meeting__fellowship__approach"])
        .groupby("referral_id")["meeting__fellowship__approach"]
        .first()
    )
    online_chosen = set(chosen.loc[chosen["meeting__attendance_mode"].isin(ONLINE_MODES), "referral_id"])
    named = set(chosen["referral_id"])

    referrals["bridged"] = referrals["id"].isin(bridged)
    referrals["accompanied"] = referrals["id"].isin(accompanied)
    referrals["approach"] = referrals["fellowship__approach"].fillna(
        referrals["meeting__fellowship__approach"]
    )
    referrals["mutual_aid"] = referrals["target_kind"].isin(MUTUAL_AID_TARGETS)
    referrals["rehab"] = referrals["target_kind"] == ReferralTargetKind.RESIDENTIAL_REHAB
    # A meeting is known when one was named or chosen; online when any of them is.
    referrals["meeting_known"] = referrals["mutual_aid"] & (
        referrals["meeting__attendance_mode"].notna() | referrals["id"].isin(named)
    )
    referrals["online"] = referrals["mutual_aid"] & (
        referrals["meeting__attendance_mode"].isin(ONLINE_MODES) | referrals["id"].isin(online_chosen)
    )
    pairs = episodes[["id", "person_id", "started_on", "window_end"]].merge(
        referrals, on="person_id", suffixes=("", "_r")
    )
    pairs = pairs[_in_window(pairs, "authored_on")]
    flags = pairs.groupby("id")[["bridged", "mutual_aid", "rehab", "meeting_known", "online"]].any()
    flags = flags.reindex(episodes["id"], fill_value=False)
    online = flags["online"].astype(float).where(flags["mutual_aid"] & flags["meeting_known"])
    mutual_aid = pairs[pairs["mutual_aid"]]
    # FAMA level: the most support any mutual-aid referral of the window had.
    level = (
        mutual_aid.assign(level=np.where(mutual_aid["accompanied"], 2, np.where(mutual_aid["bridged"], 1, 0)))
        .groupby("id")["level"]
        .max()
    )
    approaches = (
        mutual_aid.dropna(subset=["approach"])
        .groupby("id")["approach"]
        .agg(lambda values: values.iloc[0] if values.nunique() == 1 else MIXED_APPROACHES)
    )
    return pd.DataFrame(
        {
            "fama_level": episodes["id"].map(level).map(dict(enumerate(FAMA_LEVELS))).to_numpy(),
            "fellowship_approach": episodes["id"].map(approaches).to_numpy(),
            "peer_bridged": flags["bridged"].astype(float),
            "referred_mutual_aid": flags["mutual_aid"].astype(float),
            "referred_rehab": flags["rehab"].astype(float),
            "online_group": online,
        }
    )


def _treatment_within(episodes: pd.DataFrame, history: pd.DataFrame, today: pd.Timestamp) -> pd.Series:
    detox = episodes[(episodes["kind"] == EpisodeKind.DETOX) & episodes["ended_on"].notna()]
    treatment = history[history["kind"].isin(TREATMENT_KINDS)][["person_id", "started_on"]]
    pairs = detox[["id", "person_id", "started_on", "ended_on"]].merge(
        treatment, on="person_id", suffixes=("", "_next")
    )
    started = (pairs["started_on_next"] >= pairs["started_on"]) & (
        pairs["started_on_next"] <= pairs["ended_on"] + pd.Timedelta(days=TREATMENT_DAYS)
    )
    hit = set(pairs.loc[started, "id"])
    result = pd.Series(np.nan, index=episodes["id"])
    known = detox["ended_on"] + pd.Timedelta(days=TREATMENT_DAYS) <= today
    result[detox.loc[known, "id"].to_numpy()] = 0.0
    result[list(hit)] = 1.0
    return result


def _mutual_aid_within(
    episodes: pd.DataFrame, people: QuerySet[Any], check_ins: pd.DataFrame, now: datetime.datetime
) -> pd.Series:
    today = pd.Timestamp(timezone.localdate(now))
    attended = Referral.objects.filter(
        person_id__in=people,
        authored_on__lte=now,
        target_kind__in=MUTUAL_AID_TARGETS,
        business_status__in=ATTENDED,
    ).exclude(status__in=NOT_SENT)
    milestones = _frame(attended.values("id", "person_id", "updated_at"), ["id", "person_id", "updated_at"])
    recorded = _frame(
        AuditEvent.objects.filter(
            object_type="care.referral",
            action=AuditAction.UPDATE,
            person_id__in=people,
            at__lte=now,
            changes__business_status__new__in=[str(m) for m in ATTENDED],
        ).values("object_id", "at"),
        ["object_id", "at"],
    )
    recorded["id"] = pd.to_numeric(recorded["object_id"], errors="coerce")
    first = recorded.groupby("id")["at"].min()
    recorded_at = pd.to_datetime(milestones["id"].map(first), utc=True)
    milestones["at"] = _dates(recorded_at.fillna(pd.to_datetime(milestones["updated_at"], utc=True)))
    attending = check_ins.loc[check_ins["meetings_count"] > 0, ["person_id", "at"]]
    signs = pd.concat([milestones[["person_id", "at"]], attending], ignore_index=True)
    window = episodes[["id", "person_id", "started_on"]].assign(
        window_end=episodes["started_on"] + pd.Timedelta(days=MUTUAL_AID_DAYS)
    )
    pairs = window.merge(signs, on="person_id")
    hit = set(pairs.loc[_in_window(pairs, "at"), "id"])
    result = pd.Series(np.where(window["window_end"] <= today, 0.0, np.nan), index=episodes["id"])
    result[list(hit)] = 1.0
    return result


def _responses(people: QuerySet[Any], now: datetime.datetime) -> pd.DataFrame:
    value = Case(
        *(
            When(instrument=instrument, then=Cast(KT(path), FloatField()))
            for instrument, path in VALUE_PATHS.items()
        ),
        output_field=FloatField(),
    )
    wanted = {time_point for _c, _i, time_point, _m in MEASURES}
    rows = (
        Response.objects.filter(
            person_id__in=people,
            status=ResponseStatus.COMPLETED,
            completed_at__lte=now,
            instrument__in=list(VALUE_PATHS),
            time_point__in=wanted,
        )
        .annotate(value=value)
        .values("id", "person_id", "instrument", "time_point", "completed_at", "value")
    )
    responses = _frame(rows, ["id", "person_id", "instrument", "time_point", "completed_at", "value"])
    responses["on"] = _dates(responses["completed_at"])
    responses["value"] = responses["value"].astype(float)
    return responses


def _measures(episodes: pd.DataFrame, people: QuerySet[Any], now: datetime.datetime) -> pd.DataFrame:
    """One column per MEASURES entry, indexed like `episodes`."""
    responses = _responses(people, now)
    links = _frame(
        ScheduledAssessment.objects.filter(person_id__in=people, response__isnull=False).values(
            "episode_id", "response_id"
        ),
        ["episode_id", "response_id"],
    )
    linked = links.merge(responses, left_on="response_id", right_on="id")
    measures = pd.DataFrame(index=episodes.index)
    for name, instrument, time_point, months in MEASURES:
        chosen = responses[(responses["instrument"] == instrument) & (responses["time_point"] == time_point)]
        # The response that fulfilled this episode's scheduled assessment wins...
        scheduled = linked[(linked["instrument"] == instrument) & (linked["time_point"] == time_point)]
        by_link = episodes["id"].map(scheduled.groupby("episode_id")["value"].last())
        # ...otherwise the one nearest the time point, within the tolerance.
        tolerance = BASELINE_TOLERANCE_DAYS if months == 0 else FOLLOW_UP_TOLERANCE_DAYS
        due = (episodes["started_on"] + pd.DateOffset(months=months)).astype("datetime64[s]")
        nearest = _nearest(episodes["person_id"], due, chosen, tolerance)
        measures[name] = by_link.fillna(nearest).to_numpy()
    return measures


def _nearest(person_ids: pd.Series, due: pd.Series, responses: pd.DataFrame, tolerance: int) -> pd.Series:
    """For each (person, due date) the value of that person's response nearest the date."""
    result = pd.Series(np.nan, index=person_ids.index)
    if responses.empty or person_ids.empty:
        return result
    left = pd.DataFrame({"person_id": person_ids.astype("int64"), "due": due, "row": person_ids.index})
    right = responses[["person_id", "on", "value"]].astype({"person_id": "int64"}).sort_values("on")
    matched = pd.merge_asof(
        left.sort_values("due"),
        right,
        left_on="due",
        right_on="on",
        by="person_id",
        direction="nearest",
        tolerance=pd.Timedelta(days=tolerance),
    )
    result[matched["row"].to_numpy()] = matched["value"].to_numpy()
    return result


def _time_to_event(
    episodes: pd.DataFrame, history: pd.DataFrame, people: QuerySet[Any], now: datetime.datetime
) -> tuple[pd.Series, pd.Series]:
    today = pd.Timestamp(timezone.localdate(now))
    ended = episodes[episodes["ended_on"].notna()][["id", "person_id", "ended_on"]]
    later = history[history["kind"].isin([EpisodeKind.DETOX, EpisodeKind.RESIDENTIAL_REHAB])]
    pairs = ended.merge(later, on="person_id", suffixes=("", "_next"))
    gap = pairs["started_on"] - pairs["ended_on"]
    step_down = (pairs["kind"] == EpisodeKind.RESIDENTIAL_REHAB) & (gap <= pd.Timedelta(days=STEP_DOWN_DAYS))
    readmitted = pairs[(pairs["id_next"] != pairs["id"]) & (gap >= pd.Timedelta(0)) & ~step_down]
    first_readmission = readmitted.groupby("id")["started_on"].min()

    use = _frame(
        Response.objects.filter(
            person_id__in=people,
            status=ResponseStatus.COMPLETED,
            completed_at__lte=now,
            instrument="substance-use-28",
        )
        .annotate(days=Cast(KT(VALUE_PATHS["substance-use-28"]), FloatField()))
        .filter(days__gt=0)
        .values("person_id", "completed_at"),
        ["person_id", "completed_at"],
    )
    use["on"] = _dates(use["completed_at"])
    used = ended.merge(use[["person_id", "on"]], on="person_id")
    first_use = used[used["on"] > used["ended_on"]].groupby("id")["on"].min()

    event_on = pd.concat([first_readmission, first_use], axis=1).min(axis=1)
    event_on = ended["id"].map(event_on)
    happened = event_on.notna()
    until = event_on.where(happened, today)
    days = pd.Series(np.nan, index=episodes["id"])
    event = pd.Series(np.nan, index=episodes["id"])
    days[ended["id"].to_numpy()] = (until - ended["ended_on"]).dt.days.to_numpy()
    event[ended["id"].to_numpy()] = happened.astype(float).to_numpy()
    return days, event


def _age(born: pd.Series, started: pd.Series) -> pd.Series:
    born = pd.to_datetime(born)
    stamp = born.dt.year * 10000 + born.dt.month * 100 + born.dt.day
    at = started.dt.year * 10000 + started.dt.month * 100 + started.dt.day
    return ((at - stamp) // 10000).astype(float)


def _prior_episodes(episodes: pd.DataFrame, history: pd.DataFrame) -> pd.Series:
    ordered = history.sort_values(["person_id", "started_on", "id"])
    earlier = pd.Series(ordered.groupby("person_id").cumcount().to_numpy(), index=ordered["id"].to_numpy())
    return episodes["id"].map(earlier).astype(float)


def _check_ins(people: QuerySet[Any], now: datetime.datetime) -> pd.DataFrame:
    """Check-ins that say how many meetings the person went to that week."""
    check_ins = _frame(
        CheckIn.objects.filter(person_id__in=people, at__lte=now, meetings_count__isnull=False).values(
            "person_id", "at", "meetings_count"
        ),
        ["person_id", "at", "meetings_count"],
    )
    check_ins["at"] = _dates(check_ins["at"])
    return check_ins


def _check_in_dose(episodes: pd.DataFrame, check_ins: pd.DataFrame) -> pd.Series:
    window = episodes[["id", "person_id", "started_on"]].assign(
        window_end=episodes["started_on"] + pd.Timedelta(days=DOSE_DAYS - 1)
    )
    pairs = window.merge(check_ins, on="person_id")
    pairs = pairs[_in_window(pairs, "at")]
    mean = pairs.groupby("id")["meetings_count"].mean()
    return pd.Series(episodes["id"].map(mean).astype(float).to_numpy(), index=episodes.index)
