"""The person closes the loop: what the daily task costs to send the links after first meetings,
and what the person's answer costs.

    .venv/bin/python bench/closing_the_loop.py [--people 500]
    DATABASE_URL=postgres://... .venv/bin/python bench/closing_the_loop.py

Builds the care test world, then for `--people` people: a referral with two chosen meetings and
their consent to texts, the meetings sent by text (care.actions.send_chosen_meetings, which
plans the question after the first meeting). Then times:

1. outcomes.actions.send_attendance_links when every question is due (one private link made,
   audited and queued as a text per person; the texts leave through Django's in-memory SMS
   backend after the commit): milliseconds and queries per link;
2. the person's answer through the public page (GET the page, POST "Something got in the way"
   with two barriers), through Django's test client: p50 and p95 in milliseconds, queries.

Without DATABASE_URL it uses a fresh SQLite file; with it, that database is flushed first.
"""

import argparse
import contextlib
import datetime
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]


def percentiles(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    return statistics.median(times), times[max(int(len(times) * 0.95) - 1, 0)]


@contextlib.contextmanager
def counting(connection):  # type: ignore[no-untyped-def]
    """The queries run inside, counted as they run (Django's query log stops at 9,000)."""
    ran: list[str] = []

    def count(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        ran.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        yield ran


def run(people: int) -> None:
    import sms
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings
    from tests.care_world import build_world, make_person
    from tests.factories import make_meeting

    from recoverybridge.care import actions
    from recoverybridge.care.models import AttendanceAsk, ConsentPurpose, ReferralTargetKind
    from recoverybridge.directory.models import Fellowship
    from recoverybridge.messaging.models import Channel
    from recoverybridge.outcomes import actions as outcomes

    plain_static = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    with override_settings(SMS_BACKEND="locmem", STORAGES={**settings.STORAGES, "staticfiles": plain_static}):
        world = build_world()
        aa = Fellowship.objects.get(slug="aa")
        monday = make_meeting("aa", name="Harbour Hall AA", weekday=1)
        thursday = make_meeting("aa", name="Quayside AA", weekday=4)
        started = time.perf_counter()
        for n in range(people):
            person = make_person(world.detox, f"RB-B{n:07d}", f"Person{n}")
            actions.give_consent(world.bob, person, purpose=ConsentPurpose.MESSAGES_BY_TEXT)
            referral = actions.create_referral(
                world.bob,
                person,
                target_kind=ReferralTargetKind.FELLOWSHIP,
                fellowship=aa,
                presented=[monday, thursday],
                chosen=[monday, thursday],
            )
            actions.send_chosen_meetings(world.bob, referral, channel=Channel.SMS)
        print(f"set up {people} people in {time.perf_counter() - started:.1f} s ({connection.vendor})\n")
        due = max(AttendanceAsk.objects.values_list("due_at", flat=True))
        sms.outbox = []

        with counting(connection) as queries:
            started = time.perf_counter()
            sent = outcomes.send_attendance_links(now=due)
            took = time.perf_counter() - started
        assert sent == people == len(sms.outbox), (sent, people, len(sms.outbox))
        print("| step | people | total s | ms per person | queries per person |")
        print("|---|---:|---:|---:|---:|")
        print(
            f"| daily task: links after the first meeting | {people} | {took:.2f} | "
            f"{1000 * took / people:.1f} | {len(queries) / people:.1f} |"
        )

        times, counts = [], []
        for n, text in enumerate(sms.outbox):
            # Each person from their own phone: one address would meet the links' rate limit.
            client = Client(REMOTE_ADDR=f"10.0.{n // 250}.{n % 250 + 1}")
            token = re.search(r"/q/([\w-]+)/", text.body).group(1)
            with counting(connection) as queries:
                started = time.perf_counter()
                page = client.get(f"/q/{token}/")
                answer = client.post(
                    f"/q/{token}/", {"result": "barrier", "barriers": ["transport", "work_hours"]}
                )
                times.append(1000 * (time.perf_counter() - started))
            assert page.status_code == 200 and answer.status_code == 302, (
                page.status_code,
                answer.status_code,
            )
            counts.append(len(queries))
        p50, p95 = percentiles(times)
        print(
            f"| the person's answer (page + post) | {len(times)} | {sum(times) / 1000:.2f} | "
            f"p50 {p50:.1f}, p95 {p95:.1f} | {statistics.median(counts):.0f} |"
        )
        print(f"\nmeasured {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=500)
    args = parser.parse_args()
    from bench.page_database import fresh_page_database

    fresh_page_database("closing_the_loop")
    run(args.people)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
