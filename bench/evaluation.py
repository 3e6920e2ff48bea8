"""Evaluation: a full report on a million synthetic episodes, in time and in memory.

    .venv/bin/python bench/evaluation.py [--episodes 1000000] [--seed 1] [--audience outside]

1. Draws `--episodes` episodes with `evaluation.simulate.simulate_episodes` (known effects,
   self-selection, overdispersed workers) and prints the time and the peak RSS so far.
2. Runs `evaluation.reports.build_report` with the default ReportSpec (two outcomes, eight
   funnels, dose-response, Kaplan-Meier, weighted and adjusted Cox, mediation) for the
   audience "outside" (every count suppressed), then `report_csv`; prints the time of each
   part, the total and the peak RSS of the process, and the peak's growth over step 1.

Targets (issue 6): the report (step 2) under 60 s and under 2 GB on the 2-core machine.
Peak RSS is `ru_maxrss`: the whole process's high-water mark, frame generation included.
"""

import argparse
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

TARGET_SECONDS = 60.0
TARGET_MB = 2048.0


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def setup_django() -> None:
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recoverybridge.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--episodes", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--audience", choices=("outside", "care_team"), default="outside")
    args = parser.parse_args()
    setup_django()
    from recoverybridge.evaluation.reports import build_report, report_csv
    from recoverybridge.evaluation.simulate import simulate_episodes

    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} cores)")
    started = time.perf_counter()
    frame = simulate_episodes(args.episodes, seed=args.seed).frame
    generated = time.perf_counter() - started
    after_generation = peak_mb()
    print(f"generate {args.episodes:,} episodes: {generated:.1f} s, peak RSS {after_generation:.0f} MB")

    timings: dict[str, float] = {}
    started = time.perf_counter()
    report = build_report(frame, audience=args.audience, title="Benchmark", timings=timings)
    built = time.perf_counter() - started
    started = time.perf_counter()
    text = report_csv(report)
    csv_seconds = time.perf_counter() - started
    total = built + csv_seconds
    peak = peak_mb()

    print(f"\n{'part':<58} {'seconds':>8}")
    for part, seconds in sorted(timings.items(), key=lambda item: -item[1]):
        print(f"{part:<58} {seconds:>8.2f}")
    print(f"{'report_csv (' + format(len(text.splitlines()), ',') + ' rows)':<58} {csv_seconds:>8.2f}")
    print(f"{'total: build_report + report_csv':<58} {total:>8.2f}")
    not_estimable = [f"{s.key}/{p.key}" for s in report.sections for p in s.parts if not p.estimable]
    if not_estimable:
        print("not estimable:", ", ".join(not_estimable))
    print(
        f"\npeak RSS {peak:.0f} MB (after generation {after_generation:.0f} MB, "
        f"growth during the report {peak - after_generation:.0f} MB)"
    )
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    time_ok = "met" if total < TARGET_SECONDS else "MISSED"
    memory_ok = "met" if peak < TARGET_MB else "MISSED"
    print(f"target < {TARGET_SECONDS:.0f} s: {time_ok}; target < {TARGET_MB / 1024:.0f} GB: {memory_ok}")


if __name__ == "__main__":
    main()
