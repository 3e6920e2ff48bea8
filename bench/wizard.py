"""The referral wizard's options step: ranking a directory for one person, with what matters to
them and what gets in their way.

    .venv/bin/python bench/wizard.py [--meetings 20000] [--runs 30]
    DATABASE_URL=postgres://... .venv/bin/python bench/wizard.py

Generates a directory (directory.generate, meetings around ~45 cities, London among the
busiest), then for a person in central London times, p50/p95:
- `care.wizard.options_for` alone, with the person's record only, and with a Spanish speaker on
  MOUD naming four barriers (transport, childcare, work hours, anxiety about groups: the most
  searches the ranking makes);
- the whole options page (`/staff/referral-drafts/<id>/options/`) through Django's test client,
  with its query count;
- the "check and send" page.
Without DATABASE_URL it uses a fresh SQLite file (var/bench/wizard.sqlite3); with it, that
database is flushed first. Prints a Markdown section for docs/benchmarks.md.
"""

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]


def timed(call: Callable[[], object], runs: int) -> tuple[float, float]:
    call()  # warm
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[max(int(len(times) * 0.95) - 1, 0)]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--meetings", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    from bench.page_database import fresh_page_database

    vendor = fresh_page_database("wizard")
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings
    from django.utils import timezone
    from tests.care_world import build_world

    from recoverybridge.care import actions
    from recoverybridge.care.drafts import Answers, Matters
    from recoverybridge.care.wizard import options_for
    from recoverybridge.directory.generate import generate_directory
    from recoverybridge.directory.models import Attribute, AttributeMapping, Fellowship
    from recoverybridge.directory.vocabulary import load_vocabulary

    # PostgreSQL was flushed: put back the vocabulary that migrations load.
    load_vocabulary(Fellowship, Attribute, AttributeMapping)
    started = time.perf_counter()
    generate_directory(args.meetings, seed=7)
    built = time.perf_counter() - started
    world = build_world()
    pat = world.pat
    pat.latitude, pat.longitude, pat.time_zone = 51.5074, -0.1278, "Europe/London"
    pat.save()
    now = timezone.now()
    barriers = ["transport", "childcare", "work_hours", "group_anxiety"]
    busy = Matters(**{**Matters.of(pat).as_json(), "language": "es", "on_moud": True})

    rows = []
    plain = timed(lambda: options_for(pat, now=now), args.runs)
    rows.append(("options_for, the record's preferences", *plain, ""))
    heavy = timed(lambda: options_for(pat, now=now, matters=busy, barriers=barriers), args.runs)
    shown = len(options_for(pat, now=now, matters=busy, barriers=barriers).options)
    rows.append((f"options_for, Spanish, on MOUD, 4 barriers ({shown} options)", *heavy, ""))

    draft = actions.start_referral_draft(world.bob, pat)
    answers = Answers(matters=busy, barriers=barriers)
    actions.save_referral_draft(world.bob, draft, answers, step="options")
    client = Client()
    client.force_login(world.bob)
    plain_static = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=plain_static):
        for label, step in (
            ("options page (the same answers)", "options"),
            ("check and send page", "review"),
        ):
            url = f"/staff/referral-drafts/{draft.pk}/{step}/"

            def get(url: str = url) -> None:
                assert client.get(url).status_code == 200

            p50, p95 = timed(get, args.runs)
            with CaptureQueriesContext(connection) as captured:
                get()
            rows.append((label, p50, p95, str(len(captured))))

    print(
        f"### Referral wizard, {vendor}: {args.meetings:,} meetings (built in {built:.0f} s), {args.runs} runs\n"
    )
    print("| what | p50 ms | p95 ms | queries |")
    print("|---|---|---|---|")
    for label, p50, p95, queries in rows:
        print(f"| {label} | {p50:.1f} | {p95:.1f} | {queries} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
