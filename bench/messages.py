"""Messages to people: what a text costs to write, and how long a page waits to send one.

    .venv/bin/python bench/messages.py [--runs 100]
    DATABASE_URL=postgres://... .venv/bin/python bench/messages.py

1. Writing: a meeting's text (messaging.texts.render with its fitting into two segments) for a
   short name, a long one, a long Spanish one and one in Cyrillic (which must be cut to nothing).
2. Sending: the Send a link page posted with "By text message", through Django's test client,
   to a local HTTP server that answers as Twilio does (tests/messaging/twilio_server.py): the
   whole request, which creates the link, queues the text and delivers it after the commit, so
   this is what the worker waits for. Then with a provider that does not answer: the page waits
   SMS_TIMEOUT_SECONDS at most and leaves the text to the worker.

Without DATABASE_URL it uses a fresh SQLite file (var/bench/messages.sqlite3); with it, that
database is flushed first. Prints p50 and p95 in milliseconds (microseconds for writing).
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

NAMES = {
    "short name": ("en", "Lewes SMART"),
    "long name": (
        "en",
        "Thursday Night Big Book Step Study and Speaker Meeting of the Lewes and District Intergroup",
    ),
    "long Spanish name, Spanish text": (
        "es",
        "Grupo Esperanza - Sesión de la mañana «Solo por hoy» para recién llegados",
    ),
    "Cyrillic name": ("en", "Медицинская группа поддержки выздоровления"),
}


def percentiles(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    return statistics.median(times), times[max(int(len(times) * 0.95) - 1, 0)]


def writing(runs: int) -> None:
    from zoneinfo import ZoneInfo

    from recoverybridge.messaging.models import Channel, MessageKind
    from recoverybridge.messaging.segments import count
    from recoverybridge.messaging.texts import render

    link = "https://recoverybridge.example.org/q/" + "T" * 43 + "/"
    print("## Writing a meeting's text\n")
    print("| meeting | p50 µs | p95 µs | segments | encoding |\n|---|---:|---:|---:|---|")
    for label, (language, name) in NAMES.items():
        context = {
            "meeting": name,
            "when": "every Thursday, 7:30 p.m.",
            "where": "Ringmer Village Hall",
            "link": link,
        }
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            body = render(MessageKind.MEETING, Channel.SMS, context, language, ZoneInfo("Europe/London")).body
            times.append((time.perf_counter() - started) * 1e6)
        p50, p95 = percentiles(times)
        print(f"| {label} | {p50:.0f} | {p95:.0f} | {count(body).count} | {count(body).encoding} |")


def sending(runs: int, vendor: str) -> None:
    import threading
    from http.server import ThreadingHTTPServer

    from django.conf import settings
    from django.test import Client
    from django.test.utils import override_settings
    from tests.care_world import build_world
    from tests.messaging import twilio_server

    from recoverybridge.care import actions
    from recoverybridge.messaging.models import Message

    state = twilio_server.TwilioServer()
    server = ThreadingHTTPServer(("127.0.0.1", 0), twilio_server.handler_for(state))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    world = build_world()
    actions.give_consent(world.bob, world.pat, purpose="messages_by_text")
    client = Client()
    client.force_login(world.bob)
    twilio = {
        "SMS_BACKEND": "twilio",
        "TWILIO_API_URL": f"http://127.0.0.1:{server.server_address[1]}",
        "TWILIO_ACCOUNT_SID": twilio_server.ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": twilio_server.AUTH_TOKEN,
        "DEFAULT_FROM_SMS": twilio_server.FROM_NUMBER,
        "STORAGES": {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
    }
    url = f"/staff/people/{world.pat.pk}/outcomes/links/new/"
    form = {"what": "questionnaire:barc-10", "language": "en", "valid_days": "14", "send_by": "sms"}
    print(f"\n## Send a link by text ({vendor}, local Twilio-like server)\n")
    print("| provider | runs | p50 ms | p95 ms | texts sent |\n|---|---:|---:|---:|---:|")
    for label, hang, n in [
        ("answers at once", 0.0, runs),
        ("does not answer (SMS_TIMEOUT_SECONDS=2)", 30.0, 3),
    ]:
        with override_settings(**twilio, SMS_TIMEOUT_SECONDS=2):
            client.post(url, form)  # warm
            Message.objects.all().delete()
            times = []
            for _ in range(n):
                if hang:
                    state.hang(hang)
                started = time.perf_counter()
                response = client.post(url, form)
                times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.status_code
        p50, p95 = percentiles(times)
        print(
            f"| {label} | {n} | {p50:.1f} | {p95:.1f} | {Message.objects.filter(sent_at__isnull=False).count()} |"
        )
    server.shutdown()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=100)
    args = parser.parse_args()
    from bench.page_database import fresh_page_database

    vendor = fresh_page_database("messages")
    writing(args.runs * 10)
    sending(args.runs, vendor)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
