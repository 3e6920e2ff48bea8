"""Building a report for the pages: in the request for a small cohort, in the background (the task
queue, `evaluation.tasks.build_report`, run by `manage.py db_worker`) for a large one.

A built report is kept in the "evaluation" cache (a database table every web process and the worker
share) under a key made of everything it depends on (`cache_key`): the teams in the user's scope
and its audience (a care team's exact figures never reach an outside reader), the normalised form,
the language, the date, the suppression rule, the state of evaluation consents and the report
code's hash. While a background build runs, its progress (parts done of parts planned) is kept
beside it, so the page can show a progress bar and poll until the report is there.
"""

import dataclasses
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.cache import caches
from django.db.models import Count, Max
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from recoverybridge.accounts import access
from recoverybridge.accounts.access import EvaluationScope
from recoverybridge.care.models import Consent, ConsentPurpose, EpisodeKind
from recoverybridge.evaluation import cohorts, frame, reports
from recoverybridge.evaluation.errors import EvaluationError
from recoverybridge.evaluation.forms import ReportForm
from recoverybridge.evaluation.suppression import SuppressionRule
from recoverybridge.organisations.models import Team

# Below this many consented episodes a comparison says nothing useful: a message, not a report.
MIN_EPISODES = 10
REPORT_CACHE = "evaluation"
# Cohorts of at least this many episodes are built by the task queue while the page polls.
BACKGROUND_EPISODES = getattr(settings, "EVALUATION_BACKGROUND_EPISODES", 5_000)
# How long a queued build may take before the page stops waiting for it.
PENDING_SECONDS = 30 * 60

# The code that builds a report: a deploy that changes it starts new entries, so no old entry
# is unpickled by new code.
CODE_VERSION = hashlib.sha256(
    b"".join(Path(module.__file__ or "").read_bytes() for module in (cohorts, reports, frame))
).hexdigest()[:16]


@dataclasses.dataclass(frozen=True)
class Built:
    """What the report pages show for one valid form, as kept in the cache: the cohort's counts
    (its frame is not kept), and the report or why there is none."""

    cohort: cohorts.Cohort
    report: reports.Report | None = None
    too_small: str = ""


@dataclasses.dataclass(frozen=True)
class Progress:
    """A background build as the page sees it: queued or running (parts done of planned), or failed."""

    done: int = 0
    total: int = 0
    stage: str = ""
    failed: str = ""

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def report_form(scope: EvaluationScope, data: Any = None) -> ReportForm:
    teams = Team.objects.filter(pk__in=scope.team_ids).select_related("organisation")
    return ReportForm(data, teams=teams)


def _consent_state() -> list[str]:
    """The state of evaluation consents: one given or revoked starts a new entry at once, so a
    revocation is never answered from a report built before it."""
    state = Consent.objects.filter(purpose=ConsentPurpose.EVALUATION).aggregate(
        count=Count("id"), given=Max("given_at"), revoked=Max("revoked_at"), expires=Max("expires_at")
    )
    return [str(state[name]) for name in ("count", "given", "revoked", "expires")]


def cache_key(form: ReportForm, scope: EvaluationScope) -> str:
    """Everything the built report depends on, hashed: no health data in the key."""
    rule = SuppressionRule.from_settings()
    parts = {
        "teams": sorted(scope.team_ids),
        "audience": scope.audience,
        "form": form.cleaned_data,
        "language": translation.get_language(),
        "today": timezone.localdate(),
        "rule": [rule.threshold, rule.rounding],
        "names": access.outside_sees_worker_names(),
        "consents": _consent_state(),
        "code": CODE_VERSION,
    }
    text = json.dumps(parts, sort_keys=True, default=str)
    return "evaluation-report:" + hashlib.sha256(text.encode()).hexdigest()


def cohort_spec(form: ReportForm, scope: EvaluationScope) -> cohorts.CohortSpec:
    data = form.cleaned_data
    return cohorts.CohortSpec(
        episode_kinds=tuple(data["episode_kinds"]),
        started_from=data["started_from"],
        started_to=data["started_to"],
        team_ids=form.team_ids(scope.team_ids),
    )


def report_spec(form: ReportForm, cohort: cohorts.Cohort) -> reports.ReportSpec:
    data = form.cleaned_data
    return reports.ReportSpec(
        treatment=data["treatment"],
        outcomes=tuple(data["outcomes"]),
        # A covariate the same for everyone in the cohort adjusts for nothing (and cannot be fitted).
        covariates=tuple(name for name in data["covariates"] if cohort.frame[name].nunique(dropna=True) > 1),
        estimand=data["estimand"],
        trim=form.trim_value(),
        support=form.support_value(),
    )


def cohort_description(form: ReportForm) -> str:
    data = form.cleaned_data
    parts = [
        ", ".join(str(label) for kind, label in EpisodeKind.choices if kind in data["episode_kinds"])
        or _("All kinds of episode")
    ]
    if data["started_from"] and data["started_to"]:
        parts.append(
            _("started %(start)s to %(end)s") % {"start": data["started_from"], "end": data["started_to"]}
        )
    elif data["started_from"]:
        parts.append(_("started on or after %(start)s") % {"start": data["started_from"]})
    elif data["started_to"]:
        parts.append(_("started on or before %(end)s") % {"end": data["started_to"]})
    chosen = [form.team_labels[pk] for pk in data["teams"]]
    parts.append("; ".join(chosen) if chosen else _("every team you may see"))
    return "; ".join(parts)


def compute(
    form: ReportForm,
    scope: EvaluationScope,
    actor: AbstractBaseUser | AnonymousUser,
    progress: Callable[[int, int, str], None] | None = None,
) -> Built:
    """The cohort (its read audited by build_cohort) and the report, or why there is none."""
    data = form.cleaned_data
    cohort = cohorts.build_cohort(cohort_spec(form, scope), actor=actor)
    # The frame (one row per episode) is what the report is built from; only the counts are kept.
    counts = dataclasses.replace(cohort, frame=cohort.frame.iloc[:0])
    if cohort.n_episodes == 0:
        return Built(counts, too_small=_("No episodes with consent to evaluation match this cohort."))
    if cohort.n_episodes < MIN_EPISODES:
        return Built(
            counts,
            too_small=_(
                "Fewer than %(n)s episodes with consent to evaluation match this cohort: too few to "
                "compare fairly. Choose a longer period, more kinds of episode or more teams."
            )
            % {"n": MIN_EPISODES},
        )
    try:
        report = reports.build_report(
            cohort.frame,
            report_spec(form, cohort),
            audience=scope.audience,
            title=_("Evaluation: %(treatment)s") % {"treatment": frame.label(data["treatment"])},
            cohort_description=cohort_description(form),
            n_without_consent=cohort.n_without_consent,
            progress=progress,
        )
    except EvaluationError as error:
        # The analysis's own words may quote counts: only the care team reads them.
        reason = str(error) if scope.audience != access.OUTSIDE else _("too few people in some group")
        return Built(
            counts,
            too_small=_("This cohort is too small or too uniform to analyse: %(reason)s")
            % {"reason": reason},
        )
    return Built(counts, report=report)


def cached(key: str) -> Built | None:
    built = caches[REPORT_CACHE].get(key)
    return built if isinstance(built, Built) else None


def store(key: str, built: Built) -> None:
    cache = caches[REPORT_CACHE]
    cache.set(key, built)
    cache.delete(_progress_key(key))


def _progress_key(key: str) -> str:
    return f"{key}:progress"


def progress_of(key: str) -> Progress | None:
    """The background build's progress, or None when none is queued or running."""
    found = caches[REPORT_CACHE].get(_progress_key(key))
    return found if isinstance(found, Progress) else None


def record_progress(key: str, progress: Progress) -> None:
    caches[REPORT_CACHE].set(_progress_key(key), progress, PENDING_SECONDS)


def claim(key: str) -> bool:
    """Mark a background build as queued; False when one already is (so it is queued once)."""
    return caches[REPORT_CACHE].add(
        _progress_key(key), Progress(stage=_("Waiting to start")), PENDING_SECONDS
    )


def release_claim(key: str) -> None:
    caches[REPORT_CACHE].delete(_progress_key(key))
