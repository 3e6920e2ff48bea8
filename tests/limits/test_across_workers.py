"""A rate limit holds across web processes: "report a change" allows CHANGE_REQUESTS_PER_HOUR (5)
reports an hour from one address, however many gunicorn workers answer them. Twelve reports
sent at once to three workers: exactly five are taken, seven are answered 429 with the reason,
and the access log shows more than one worker answering. With the counts in each process's
memory (as before), each worker allowed five: up to fifteen were taken. Run with the database
cache (the default) and again with Redis (REDIS_URL) when one answers."""

import hashlib
import re
import threading
import uuid
from datetime import time

import pytest
import redis
import requests

from recoverybridge.directory.models import ChangeRequest
from tests.factories import make_meeting
from tests.limits.redis_here import NO_REDIS, REDIS_URL, redis_answers
from tests.servers import Gunicorn

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
WORKERS = 3
REPORTS = 12
ALLOWED = 5  # CHANGE_REQUESTS_PER_HOUR's default


def send_together(url: str, count: int) -> list[requests.Response]:
    """`count` reports from one address, released at the same instant."""
    form = requests.get(url, timeout=60)
    assert form.status_code == 200, form.text[:300]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
    assert token is not None
    # The CSRF cookie is Secure (production settings): send it by hand over plain HTTP.
    cookie = {"Cookie": f"csrftoken={form.cookies['csrftoken']}"}
    data = {"csrfmiddlewaretoken": token.group(1), "message": "We moved to half past seven."}
    start = threading.Barrier(count)
    answers: list[requests.Response | None] = [None] * count

    def send(index: int) -> None:
        start.wait()
        answers[index] = requests.post(url, data=data, headers=cookie, allow_redirects=False, timeout=120)

    threads = [threading.Thread(target=send, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert all(answer is not None for answer in answers)
    return [answer for answer in answers if answer is not None]


def reports_through_workers(tmp_path, static_root, env: dict[str, str]) -> tuple[list[int], set[str], str]:
    meeting = make_meeting("na", name="Tuesday Hope", weekday=2, start_time=time(19, 0))
    server = Gunicorn(tmp_path, static_root, workers=WORKERS, env=env)
    try:
        answers = send_together(f"{server.base}/meetings/{meeting.pk}/report/", REPORTS)
    finally:
        server.stop()
    refused = next(answer.text for answer in answers if answer.status_code == 429)
    path = f"/meetings/{meeting.pk}/report/"
    workers = {line.split()[0] for line in server.access if f" POST {path} " in f" {line} "}
    return sorted(answer.status_code for answer in answers), workers, refused


def expected() -> list[int]:
    return sorted([302] * ALLOWED + [429] * (REPORTS - ALLOWED))


def test_the_report_limit_holds_across_three_workers_with_the_database_cache(tmp_path, collected_static):
    env = {"REDIS_URL": "", "CHANGE_REQUESTS_PER_HOUR": str(ALLOWED)}
    statuses, workers, refused = reports_through_workers(tmp_path, collected_static, env)

    assert statuses == expected()
    assert len(workers) > 1, "one worker answered every report: nothing was shared"
    assert "several reports in the last hour" in refused
    assert ChangeRequest.objects.count() == ALLOWED


def test_the_report_limit_holds_across_three_workers_with_redis(tmp_path, collected_static):
    if not redis_answers():
        pytest.skip(NO_REDIS)
    secret = f"limits-test-{uuid.uuid4().hex}"  # counts of this run's own
    env = {"REDIS_URL": REDIS_URL, "SECRET_KEY": secret, "CHANGE_REQUESTS_PER_HOUR": str(ALLOWED)}
    try:
        statuses, workers, refused = reports_through_workers(tmp_path, collected_static, env)
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        client.delete("rb:1:change-requests:" + hashlib.sha256(f"{secret}:127.0.0.1".encode()).hexdigest())
        client.close()

    assert statuses == expected()
    assert len(workers) > 1, "one worker answered every report: nothing was shared"
    assert "several reports in the last hour" in refused
    assert ChangeRequest.objects.count() == ALLOWED
