"""The audit trail is a tamper-evident chain: every event sealed in order with a key kept out of
the database; `verify_audit` proves the chain whole or names the first broken link. A database
superuser's raw SQL (the append-only trigger lifted, a row rewritten, removed or slipped in) is
caught."""

import os
import subprocess
import sys
import threading
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from recoverybridge.audit import chain, triggers
from recoverybridge.audit.actions import event, record, record_many
from recoverybridge.audit.models import AuditAction, AuditEvent

ROOT = Path(__file__).resolve().parents[2]


def write(count: int, detail: str = "viewed") -> list[AuditEvent]:
    return [
        record(None, AuditAction.VIEW, None, object_type="care.person", object_id=str(n), detail=detail)
        for n in range(count)
    ]


def as_superuser(sql: str, params: list[object]) -> None:
    """What someone with the database's keys can do: lift the trigger, change rows, put it back."""
    with transaction.atomic(), connection.cursor() as cursor:
        triggers.drop(connection)
        cursor.execute(sql, params)
        triggers.create(connection)


def verify() -> tuple[int, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_audit", stdout=out, stderr=err)
    except SystemExit as stop:
        return int(stop.code or 0), out.getvalue() + err.getvalue()
    return 0, out.getvalue() + err.getvalue()


@pytest.mark.django_db
def test_events_are_numbered_and_sealed_in_order():
    events = write(3) + record_many(event(None, AuditAction.VIEW, None, object_type="x") for _ in range(2))
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert len({e.seal for e in events}) == 5
    assert chain.verify().intact
    code, said = verify()
    assert code == 0 and "5 events" in said and "intact" in said


@pytest.mark.django_db
def test_a_rewritten_row_is_caught_at_that_link():
    events = write(5)
    as_superuser("UPDATE audit_auditevent SET detail = %s WHERE id = %s", ["nothing to see", events[2].id])
    verdict = chain.verify()
    assert (verdict.broken_at, verdict.event_id) == (3, events[2].id)
    code, said = verify()
    assert code == 1 and "event 3" in said and f"id {events[2].id}" in said


@pytest.mark.django_db
def test_a_resealed_row_without_the_key_is_caught():
    """Recomputing a seal needs the key: a plain SHA-256 over the row does not pass."""
    import hashlib

    events = write(3)
    forged = hashlib.sha256(b"anything").hexdigest()
    as_superuser(
        "UPDATE audit_auditevent SET detail = %s, seal = %s WHERE id = %s", ["x", forged, events[1].id]
    )
    assert chain.verify().broken_at == 2


@pytest.mark.django_db
def test_a_removed_row_is_caught():
    events = write(4)
    as_superuser("DELETE FROM audit_auditevent WHERE id = %s", [events[1].id])
    verdict = chain.verify()
    assert verdict.broken_at == 2 and "missing" in verdict.reason


@pytest.mark.django_db
def test_a_removed_last_row_is_caught():
    events = write(3)
    as_superuser("DELETE FROM audit_auditevent WHERE id = %s", [events[-1].id])
    verdict = chain.verify()
    assert not verdict.intact and "removed" in verdict.reason


@pytest.mark.django_db
def test_an_unsealed_row_slipped_in_is_caught():
    write(2)
    as_superuser(
        "INSERT INTO audit_auditevent (at, action, object_type, object_id, request_id, changes, detail)"
        " VALUES ('2026-01-01 00:00:00', 'view', 'care.person', '9', '', '{}', '')",
        [],
    )
    verdict = chain.verify()
    assert not verdict.intact and "inserted" in verdict.reason


@pytest.mark.django_db
def test_a_rolled_back_event_leaves_no_gap():
    write(1)
    with pytest.raises(RuntimeError), transaction.atomic():
        write(1)
        raise RuntimeError
    write(1)
    assert [e.seq for e in AuditEvent.objects.order_by("seq")] == [1, 2]
    assert chain.verify().intact


@pytest.mark.skipif(
    connection.vendor == "sqlite",
    reason="the in-memory test database locks whole tables; see the file test below",
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_writers_keep_one_unbroken_chain():
    """Two threads writing at once (two connections): the head's lock keeps the chain in one line."""
    failures: list[BaseException] = []

    def writer() -> None:
        try:
            write(20)
        except BaseException as error:
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sorted(AuditEvent.objects.values_list("seq", flat=True)) == list(range(1, 41))
    assert chain.verify().intact


WRITE_20 = (
    "from recoverybridge.audit.actions import record;"
    "[record(None, 'view', None, object_type='care.person', object_id=str(n)) for n in range(20)]"
)


def test_concurrent_processes_on_an_sqlite_file_keep_one_unbroken_chain(tmp_path):
    """As the embedded default runs: a database file, two processes appending at once."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'chain.sqlite3'}",
        "SECRET_KEY": "test-only",
        "DEBUG": "0",
    }
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True)  # noqa: S603
    writers = [
        subprocess.Popen([*manage, "shell", "--no-imports", "-c", WRITE_20], env=env, stderr=subprocess.PIPE)  # noqa: S603
        for _ in range(2)
    ]
    assert [writer.wait() for writer in writers] == [0, 0], [w.stderr.read() for w in writers if w.stderr]
    verified = subprocess.run([*manage, "verify_audit"], env=env, capture_output=True, text=True, check=False)  # noqa: S603
    assert verified.returncode == 0, verified.stderr
    assert "Audit chain intact: 40 events" in verified.stdout
