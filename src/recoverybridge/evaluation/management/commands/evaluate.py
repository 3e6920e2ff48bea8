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

from recoverybridge.evaluation import estimators
from recoverybridge.evaluation.errors import EvaluationError


class Command(BaseCommand):
    help = (
        "Estimate the effect of a 0/1 treatment on an outcome from a CSV file (one row per episode), "
        "adjusting for covariates by propensity weighting (ipw) or doubly robust estimation (aipw). "
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
        parser.add_argument("--method", choices=estimators.METHODS, default="aipw")
        parser.add_argument("--estimand", choices=estimators.ESTIMANDS, default="ate")
        parser.add_argument(
            "--trim",
            type=float,
            help="Drop units with propensity outside [t, 1-t], e.g. 0.05 (Crump et al.).",
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
        try:
            result = estimators.estimate_effect(
                frame,
                options["treatment"],
                options["outcome"],
                covariates,
                method=options["method"],
                estimand=options["estimand"],
                trim=options["trim"],
                interval=options["interval"],
                bootstrap_reps=options["bootstrap_reps"],
                seed=options["seed"],
            )
        except EvaluationError as error:
            raise CommandError(str(error)) from error
        if options["json"]:
            self.stdout.write(json.dumps(as_json(result), allow_nan=False))
            if result.overlap is not None and result.overlap.limited:
                self.stderr.write(overlap_warning(result.overlap))
        else:
            self.stdout.write(as_text(result))


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
        f"group's range (treated {overlap.ps_treated_min:.3f}-{overlap.ps_treated_max:.3f}, controls "
        f"{overlap.ps_control_min:.3f}-{overlap.ps_control_max:.3f}); consider --trim 0.05"
    )


def _number(value: float | None, digits: int = 4) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


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
    overlap = result.overlap
    if overlap is not None:
        lines.append(
            f"Propensity: treated {overlap.ps_treated_min:.3f}-{overlap.ps_treated_max:.3f}, controls "
            f"{overlap.ps_control_min:.3f}-{overlap.ps_control_max:.3f}"
            + (
                f"; trimmed {overlap.trimmed} outside [{overlap.trim_bounds[0]:g}, {overlap.trim_bounds[1]:g}]"
                if overlap.trim_bounds
                else ""
            )
        )
        if overlap.limited:
            lines.append(overlap_warning(overlap))
    lines.append("")
    header = ("Covariate", "SMD before", "SMD after")
    rows = [(b.covariate, _number(b.smd_before, 3), _number(b.smd_after, 3)) for b in result.balance]
    width = max(len(header[0]), *(len(row[0]) for row in rows)) if rows else len(header[0])
    lines.append(f"{header[0]:<{width}}  {header[1]:>10}  {header[2]:>10}")
    lines.extend(f"{name:<{width}}  {before:>10}  {after:>10}" for name, before, after in rows)
    return "\n".join(lines)
