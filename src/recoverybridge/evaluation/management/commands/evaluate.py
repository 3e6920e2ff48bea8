"""`manage.py evaluate`: a programme effect from a researcher's own CSV (one row per episode).

Reads the file, estimates with `evaluation.estimators` and prints the result; it writes nothing
and never touches the database, so it runs on an installation that was never migrated.
"""

import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd
from django.core.management.base import BaseCommand, CommandError, CommandParser

from recoverybridge.evaluation import estimators, propensity
from recoverybridge.evaluation.errors import EvaluationError


class Command(BaseCommand):
    help = (
        "Estimate the effect of a 0/1 treatment on an outcome from a CSV file (one row per episode), "
        "adjusting for covariates by propensity weighting (ipw), doubly robust estimation (aipw), "
        "nearest-neighbour matching or subclassification, or all of them side by side (all). "
        "Prints the estimate, its interval, the E-value and covariate balance; writes nothing."
    )
    # The system checks are about the web app; this command reads one file and nothing else.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--data", required=True, metavar="FILE.csv", help="CSV file, one row per episode."
        )
        parser.add_argument("--treatment", required=True, metavar="COL", help="0/1 column: treated or not.")
        parser.add_argument(
            "--outcome", required=True, metavar="COL", help="Numeric (or 0/1) outcome column."
        )
        parser.add_argument(
            "--covariates", required=True, metavar="A,B,...", help="Comma-separated confounder columns."
        )
        parser.add_argument("--method", choices=(*estimators.METHODS, "all"), default="aipw")
        parser.add_argument("--estimand", choices=estimators.ESTIMANDS, default="ate")
        parser.add_argument(
            "--model",
            choices=propensity.MODELS,
            default="logit",
            help="Propensity model: maximum likelihood logit (a mild penalty is used if the covariates "
            "separate the groups) or the penalised logit throughout.",
        )
        parser.add_argument(
            "--terms",
            choices=propensity.TERMS,
            default="main",
            help="Flexible terms of the propensity model.",
        )
        parser.add_argument(
            "--support",
            choices=[s for s in propensity.SUPPORTS if s != "fixed"],
            help="Common support: Crump et al.'s rule, or the treated group's range (default: everyone).",
        )
        parser.add_argument(
            "--trim",
            type=float,
            help="Drop units with propensity outside [t, 1-t], e.g. 0.05.",
        )
        parser.add_argument(
            "--caliper",
            type=float,
            default=0.2,
            help="Matching: largest distance, in standard deviations of the linear propensity.",
        )
        parser.add_argument("--neighbours", type=int, default=1, help="Matching: partners per episode.")
        parser.add_argument(
            "--subclasses", type=int, help="Subclassification: blocks at quantiles (default: from the data)."
        )
        parser.add_argument("--interval", choices=estimators.INTERVALS, default="sandwich")
        parser.add_argument(
            "--bootstrap-reps", type=int, default=200, help="Resamples for --interval bootstrap."
        )
        parser.add_argument("--seed", type=int, default=0, help="Seed of the bootstrap resampling.")
        parser.add_argument("--json", action="store_true", help="Print one JSON object instead of text.")

    def handle(self, *args: Any, **options: Any) -> None:
        covariates = [name.strip() for name in options["covariates"].split(",") if name.strip()]
        if not covariates:
            raise CommandError("--covariates: name at least one column, e.g. --covariates age,baseline_score")
        columns = [options["treatment"], options["outcome"], *covariates]
        frame = read_csv(options["data"], columns)
        if options["support"] and options["trim"] is not None:
            raise CommandError("--support and --trim: choose one way of restricting to common support")
        if options["trim"] is not None and not 0 < options["trim"] < 0.5:
            raise CommandError(
                f"--trim {options['trim']}: use a propensity bound between 0 and 0.5, e.g. 0.05"
            )
        arguments: dict[str, Any] = {
            "estimand": options["estimand"],
            "trim": options["trim"],
            "interval": options["interval"],
            "bootstrap_reps": options["bootstrap_reps"],
            "seed": options["seed"],
            "model": options["model"],
            "terms": options["terms"],
            "support": options["support"],
            "caliper": options["caliper"],
            "neighbours": options["neighbours"],
            "subclasses": options["subclasses"],
        }
        try:
            if options["method"] == "all":
                results = estimators.compare_methods(
                    frame, options["treatment"], options["outcome"], covariates, **arguments
                )
            else:
                results = [
                    estimators.estimate_effect(
                        frame,
                        options["treatment"],
                        options["outcome"],
                        covariates,
                        method=options["method"],
                        **arguments,
                    )
                ]
        except EvaluationError as error:
            raise CommandError(str(error)) from error
        overlap = next((r.overlap for r in results if r.overlap is not None), None)
        if options["json"]:
            shown = as_json(results[0]) if len(results) == 1 else [as_json(r) for r in results]
            self.stdout.write(json.dumps(shown, allow_nan=False))
            if overlap is not None and overlap.limited:
                self.stderr.write(overlap_warning(overlap))
        elif len(results) == 1:
            self.stdout.write(as_text(results[0]))
        else:
            self.stdout.write(comparison_text(results))


def read_csv(path: str, columns: list[str]) -> pd.DataFrame:
    """Only the named columns of the CSV (a large file stays cheap); a clear error for anything wrong."""
    file = Path(path)
    if not file.exists():
        raise CommandError(f"--data {path}: no such file")
    if not file.is_file():
        raise CommandError(f"--data {path}: not a file")
    try:
        header = pd.read_csv(file, nrows=0)
        available = [str(name) for name in header.columns]
        unknown = [name for name in dict.fromkeys(columns) if name not in available]
        if unknown:
            names = ", ".join(repr(name) for name in unknown)
            raise CommandError(f"{path}: unknown column {names}; available: {', '.join(available)}")
        return pd.read_csv(file, usecols=list(dict.fromkeys(columns)))
    except CommandError:
        raise
    except pd.errors.EmptyDataError as error:
        raise CommandError(f"--data {path}: empty file, no CSV header") from error
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CommandError(f"--data {path}: not a readable CSV file ({reason})") from error
    except OSError as error:
        raise CommandError(f"--data {path}: cannot read ({error.strerror or error})") from error


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity: they become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def as_json(result: estimators.EffectEstimate) -> dict[str, Any]:
    return _finite(asdict(result))


def overlap_warning(overlap: estimators.Overlap) -> str:
    return (
        "Warning: limited overlap - many units have propensity scores near 0 or 1 or outside the other "
        f"group's range (treated {overlap.ps_treated_min:.3g}-{overlap.ps_treated_max:.3g}, controls "
        f"{overlap.ps_control_min:.3g}-{overlap.ps_control_max:.3g}); consider --support crump (or, for "
        "the effect on the treated, --support treated)"
    )


def _number(value: float | None, digits: int = 4) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def comparison_text(results: list[estimators.EffectEstimate]) -> str:
    """Every method on one line each, then the first adjusted method's notes."""
    first = results[0]
    lines = [
        f"Effect of {first.treatment} on {first.outcome}: {first.estimand.upper()}, {first.scale}",
        f"{'Method':<18} {'Estimate':>12} {'95% CI':>27} {'Treated':>8} {'Compared':>9}",
    ]
    for result in results:
        interval = f"{_number(result.ci_low)} to {_number(result.ci_high)}"
        lines.append(
            f"{result.method:<18} {_number(result.estimate):>12} {interval:>27} "
            f"{result.n_treated:>8} {result.n_control:>9}"
        )
    lines += _notes(next((r for r in results if r.overlap is not None), first))
    for result in results:
        lines += _matching_notes(result)
    return "\n".join(lines)


def _notes(result: estimators.EffectEstimate) -> list[str]:
    """The propensity model used, common support, matching, overlap."""
    lines = []
    if result.model:
        lines.append(
            f"Propensity model: {result.model}" + (f" ({result.model_reason})" if result.model_reason else "")
        )
    overlap = result.overlap
    if overlap is not None:
        lines.append(
            f"Propensity: treated {overlap.ps_treated_min:.3g}-{overlap.ps_treated_max:.3g}, controls "
            f"{overlap.ps_control_min:.3g}-{overlap.ps_control_max:.3g}"
            + (
                f"; common support ({overlap.support}) {overlap.trim_bounds[0]:.3g} to {overlap.trim_bounds[1]:.3g}"
                f" dropped {overlap.dropped_treated} treated and {overlap.dropped_control} controls"
                if overlap.trim_bounds
                else ""
            )
        )
    if result.effective_control is not None:
        lines.append(
            f"Effective number of episodes behind the weighted means: treated {result.effective_treated:.1f}, "
            f"controls {result.effective_control:.1f}"
        )
    if overlap is not None and overlap.limited:
        lines.append(overlap_warning(overlap))
    return lines


def _matching_notes(result: estimators.EffectEstimate) -> list[str]:
    lines = []
    if result.method == "matching" and (result.unmatched_treated or result.unmatched_control):
        lines.append(
            f"Matching: no partner within the caliper for {result.unmatched_treated} treated and "
            f"{result.unmatched_control} controls (the estimate is about the matched ones)"
        )
    if result.blocks:
        lines.append(
            f"Subclasses: {result.blocks}"
            + (
                f"; {result.unmatched_control} controls below the lowest treated propensity"
                if result.unmatched_control
                else ""
            )
        )
    return lines


def as_text(result: estimators.EffectEstimate) -> str:
    level = f"{result.confidence:.0%}"
    lines = [
        f"Effect of {result.treatment} on {result.outcome}: {result.method.upper()}, "
        f"{result.estimand.upper()}, {result.scale}",
        f"Estimate: {_number(result.estimate)} ({level} CI {_number(result.ci_low)} to "
        f"{_number(result.ci_high)}, {result.interval}; SE {_number(result.std_error)})",
        f"Mean under treatment {_number(result.mean_treated)}, under control {_number(result.mean_control)}",
        f"n treated {result.n_treated}, n control {result.n_control}, n dropped (missing values) "
        f"{result.n_dropped}",
        f"E-value: {_number(result.e_value, 2)} (for the CI limit nearer the null: {_number(result.e_value_ci, 2)})",
    ]
    lines += _notes(result) + _matching_notes(result)
    lines.append("")
    header = ("Covariate", "SMD before", "SMD after")
    rows = [(b.covariate, _number(b.smd_before, 3), _number(b.smd_after, 3)) for b in result.balance]
    width = max(len(header[0]), *(len(row[0]) for row in rows)) if rows else len(header[0])
    lines.append(f"{header[0]:<{width}}  {header[1]:>10}  {header[2]:>10}")
    lines.extend(f"{name:<{width}}  {before:>10}  {after:>10}" for name, before, after in rows)
    return "\n".join(lines)
