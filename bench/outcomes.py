"""Outcomes: scoring throughput and a person's trajectory with 5 years of monthly responses.

    .venv/bin/python bench/outcomes.py [--responses 100000] [--runs 50]

1. Scores `--responses` random BARC-10 answer sets in memory (validate + score, the same
   engine the actions use), and the same for the other instruments; prints responses/s.
2. On a fresh SQLite file (var/bench/outcomes.sqlite3): one person with 60 monthly
   completed responses of each of the 4 instruments (240 responses), among 2,000 other
   responses on the team; times `outcomes.queries.trajectory` (the read behind the person
   page's charts) p50/p95 and its query count. The person page itself belongs to the pages
   work; this measures the query it calls.
"""

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]


def setup(database: Path) -> None:
    database.parent.mkdir(parents=True, exist_ok=True)
    database.unlink(missing_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recoverybridge.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def random_answers(instrument_id: str, rng: random.Random) -> dict:
    if instrument_id == "barc-10":
        return {f"barc-{n}": str(rng.randint(1, 6)) for n in range(1, 11) if rng.random() > 0.03}
    if instrument_id == "substance-use-28":
        return {
            "days-alcohol": rng.randint(0, 28),
            "days-cannabis": rng.randint(0, 28),
            "days-injected": rng.randint(0, 5),
            "shared-equipment": False,
            "psychological-health": rng.randint(0, 20),
            "physical-health": rng.randint(0, 20),
            "quality-of-life": rng.randint(0, 20),
        }
    if instrument_id == "social-network":
        size = rng.randint(1, 20)
        return {"network-size": size, "in-recovery": rng.randint(0, size), "supportive": rng.randint(0, size)}
    return {
        "meetings": [
            {"meetings.fellowship": "other", "meetings.count": rng.randint(0, 40)} for _ in range(2)
        ],
        "sponsor-or-mentor": rng.random() > 0.5,
        "service-role": False,
        "contact-outside": True,
        "program-work": False,
    }


def scoring_throughput(count: int) -> list[tuple[str, float]]:
    from recoverybridge.outcomes import instruments
    from recoverybridge.outcomes.scoring import validate_and_score

    rng = random.Random(5)
    results = []
    for instrument_id in ("barc-10", "substance-use-28", "social-network", "mutual-help"):
        instrument = instruments.get(instrument_id)
        n = count if instrument_id == "barc-10" else count // 4
        batch = [random_answers(instrument_id, rng) for _ in range(n)]
        started = time.perf_counter()
        for answers in batch:
            validate_and_score(instrument, answers, complete=False)
        elapsed = time.perf_counter() - started
        results.append((f"{instrument_id} ({n:,} responses)", n / elapsed))
    return results


def five_years_of_responses():
    """The care world, with Pat holding 5 years of monthly responses to each instrument (240)
    and Quinn, on the same team, 2,000 more. Shared by bench/outcome_pages.py."""
    from tests.care_world import build_world

    from recoverybridge.outcomes import instruments
    from recoverybridge.outcomes.models import CollectionMode, Response, ResponseStatus
    from recoverybridge.outcomes.scoring import validate_and_score

    world = build_world()
    rng = random.Random(7)
    start = datetime(2020, 1, 1, tzinfo=UTC)
    rows = []
    ids = ("barc-10", "substance-use-28", "social-network", "mutual-help")
    for person, months in [(world.pat, 60), (world.quinn, 500)]:
        for month in range(months):
            for instrument_id in ids:
                instrument = instruments.get(instrument_id)
                answers, scores = validate_and_score(
                    instrument, random_answers(instrument_id, rng), complete=False
                )
                at = start + timedelta(days=30 * month)
                rows.append(
                    Response(
                        person=person,
                        instrument=instrument_id,
                        instrument_version=instrument.version,
                        time_point="ad-hoc",
                        answers=answers,
                        scores=scores,
                        status=ResponseStatus.COMPLETED,
                        mode=CollectionMode.STAFF,
                        collected_by=world.bob,
                        started_at=at,
                        completed_at=at,
                    )
                )
    Response.objects.bulk_create(rows, batch_size=500)
    return world


def trajectory_timing(runs: int) -> tuple[float, float, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from recoverybridge.outcomes.queries import trajectory

    world = five_years_of_responses()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = trajectory(world.bob, world.pat)
        times.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as captured:
        result = trajectory(world.bob, world.pat)
    points = (
        len(result.recovery_capital)
        + len(result.days_used)
        + len(result.meetings)
        + len(result.supportiveness)
    )
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], len(captured), points


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--responses", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    setup(ROOT / "var" / "bench" / "outcomes.sqlite3")
    print("## Outcomes\n")
    print("### Scoring throughput (validate + score, in memory, one process)\n")
    print("| instrument | responses/s |\n|---|---:|")
    for name, rate in scoring_throughput(args.responses):
        print(f"| {name} | {rate:,.0f} |")
    p50, p95, queries, points = trajectory_timing(args.runs)
    print(
        f"\n### Trajectory of one person, 5 years of monthly responses x 4 instruments (SQLite, {args.runs} runs)\n"
    )
    print("| read | p50 ms | p95 ms | queries | points |\n|---|---:|---:|---:|---:|")
    print(f"| outcomes.queries.trajectory | {p50:.1f} | {p95:.1f} | {queries} | {points} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
