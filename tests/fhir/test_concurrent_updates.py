"""Two of Lighthouse's staff update Sam's Task at the same moment, both from the version they
read: one wins, the other gets 412, and nothing is lost. Against a real server with its own
database connections (gunicorn, the production server, with four threads) on the test database,
SQLite or PostgreSQL, from two client threads released together."""

import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from django.db import connection

from recoverybridge.audit.models import AuditAction, AuditEvent
from recoverybridge.care import fhir
from recoverybridge.care.models import MutualAidMilestone, Referral, TaskStatus
from tests.servers import database_url

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 6


class Server:
    """gunicorn serving the test database; `stop()` ends it and brings what it wrote back."""

    def __init__(self, tmp_path, static_root):
        self.url = database_url(tmp_path)
        env = {
            **os.environ,
            "DATABASE_URL": self.url,
            "DATABASE_CONN_MAX_AGE": "0",
            "SECRET_KEY": "concurrency-test-only",
            "DEBUG": "0",
            "ALLOWED_HOSTS": "127.0.0.1",
            "STATIC_ROOT": str(static_root),  # production refuses to start without them
        }
        command = [sys.executable, "-m", "gunicorn", "--pythonpath", "src", "--bind", "127.0.0.1:0"]
        command += ["--workers", "1", "--threads", "4", "recoverybridge.wsgi"]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)  # noqa: S603
        self.base = self._listening()

    def _listening(self):
        assert self.process.stderr is not None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if not line and self.process.poll() is not None:
                break
            found = re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", line)
            if found:
                # Drain its log so that it never blocks on a full pipe.
                threading.Thread(target=self.process.stderr.read, daemon=True).start()
                return f"{found.group(1)}/api/v1/fhir/"
        self.process.kill()
        raise AssertionError("gunicorn did not start")

    def stop(self):
        if self.process.poll() is not None:
            return
        self.process.terminate()
        self.process.wait(timeout=30)
        if self.url.startswith("sqlite:"):
            served_copy = sqlite3.connect(self.url.removeprefix("sqlite:///"))
            served_copy.backup(connection.connection)
            served_copy.close()


@pytest.fixture
def server(tmp_path, referral, lighthouse_token, collected_static):
    """A real server on the test database, once Sam's referral and Lighthouse's token are in it."""
    running = Server(tmp_path, collected_static)
    yield running
    running.stop()


def together(*calls):
    """Run the calls in threads released at the same instant; their answers in order."""
    start = threading.Barrier(len(calls))
    answers = [None] * len(calls)

    def run(index, call):
        start.wait()
        answers[index] = call()

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def headers_for(token, **more):
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json", **more}


def test_two_updates_of_one_version_one_wins_the_other_is_412(server, referral, lighthouse_token):
    """Rounds of two milestone updates made on one version, by PATCH and by PUT in turn."""
    headers = headers_for(lighthouse_token)
    task_url = f"{server.base}Task/{referral.pk}"
    milestones = [value for value in MutualAidMilestone.values if value]
    winners = []
    for round_number in range(ROUNDS):
        read = requests.get(task_url, headers=headers, timeout=30)
        assert read.status_code == 200, read.text
        current, etag = read.json(), read.headers["ETag"]
        now = current.get("businessStatus", {}).get("coding", [{}])[0].get("code")
        mine, theirs = [value for value in milestones if value != now][:2]

        def update(code, current=current, etag=etag, put=bool(round_number % 2)):
            concept = {"coding": [{"system": fhir.MILESTONE_SYSTEM, "code": code}]}
            conditional = {**headers, "If-Match": etag}
            if put:  # the whole Task, as read
                body = {**current, "businessStatus": concept}
                return requests.put(task_url, json=body, headers=conditional, timeout=60)
            return requests.patch(task_url, json={"businessStatus": concept}, headers=conditional, timeout=60)

        first, second = together(lambda code=mine: update(code), lambda code=theirs: update(code))

        assert sorted([first.status_code, second.status_code]) == [200, 412], (first.text, second.text)
        loser = second if first.status_code == 200 else first
        assert loser.json()["issue"][0]["code"] == "conflict"
        winners.append(mine if first.status_code == 200 else theirs)
        after = requests.get(task_url, headers=headers, timeout=30).json()
        assert after["businessStatus"]["coding"][0]["code"] == winners[-1]
        assert after["meta"]["versionId"] == str(2 + round_number)

    server.stop()
    saved = Referral.objects.get(pk=referral.pk)
    assert (saved.business_status, saved.version) == (winners[-1], 1 + ROUNDS)
    changes = AuditEvent.objects.filter(action=AuditAction.UPDATE, object_id=str(referral.pk)).order_by("id")
    assert [event.changes["business_status"]["new"] for event in changes] == winners
    refused = AuditEvent.objects.filter(action=AuditAction.DENIED, object_id=str(referral.pk))
    assert refused.count() == ROUNDS
    assert {event.detail for event in refused} == {
        "FHIR Task patch refused (412 conflict)",
        "FHIR Task update refused (412 conflict)",
    }


def test_accept_against_reject_the_loser_changes_nothing(server, referral, lighthouse, lighthouse_token):
    task_url = f"{server.base}Task/{referral.pk}"
    etag = requests.get(task_url, headers=headers_for(lighthouse_token), timeout=30).headers["ETag"]
    conditional = headers_for(lighthouse_token, **{"If-Match": etag})
    bodies = [{"status": "accepted"}, {"status": "rejected", "statusReason": {"text": "No capacity"}}]

    answers = together(
        *[
            lambda body=body: requests.patch(task_url, json=body, headers=conditional, timeout=60)
            for body in bodies
        ]
    )

    assert sorted(answer.status_code for answer in answers) == [200, 412]
    winner = bodies[[answer.status_code for answer in answers].index(200)]
    server.stop()
    saved = Referral.objects.get(pk=referral.pk)
    assert saved.status == winner["status"]
    assert saved.status_reason == winner.get("statusReason", {}).get("text", "")
    (change,) = AuditEvent.objects.filter(action=AuditAction.UPDATE, object_id=str(referral.pk))
    assert change.changes["status"] == {"old": TaskStatus.REQUESTED, "new": winner["status"]}
    assert change.actor_organisation == lighthouse
