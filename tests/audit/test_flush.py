"""`flush` works on a database of any age: with the audit trigger in place (it is lifted for the
flush and put back) and before the audit table exists (a database migrated part of the way, as a
benchmark's old file may be). Run against a database file of its own, so the suite's test
database keeps its migration data."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def manage(database: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "SECRET_KEY": "test-only", "DEBUG": "0"}
    return subprocess.run(  # noqa: S603 -- our own manage.py with fixed arguments
        [sys.executable, str(ROOT / "manage.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def rows(database: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(database) as connection:
        return connection.execute(sql).fetchall()


def test_flush_empties_an_append_only_audit_table_and_puts_the_trigger_back(tmp_path):
    database = tmp_path / "flush.sqlite3"
    assert manage(database, "migrate", "-v0").returncode == 0
    with sqlite3.connect(database) as connection:
        connection.execute(
            "INSERT INTO audit_auditevent (at, action, object_type, object_id, request_id, changes, detail)"
            " VALUES ('2026-01-01', 'view', 'person', '1', '', '{}', '')"
        )

    flushed = manage(database, "flush", "--no-input")

    assert flushed.returncode == 0, flushed.stderr
    assert rows(database, "SELECT count(*) FROM audit_auditevent") == [(0,)]
    triggers = {name for (name,) in rows(database, "SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert {"audit_auditevent_no_update", "audit_auditevent_no_delete"} <= triggers


def test_flush_before_the_audit_table_exists(tmp_path):
    database = tmp_path / "partial.sqlite3"
    assert manage(database, "migrate", "-v0").returncode == 0
    assert manage(database, "migrate", "audit", "zero", "-v0").returncode == 0
    assert rows(database, "SELECT name FROM sqlite_master WHERE name = 'audit_auditevent'") == []

    flushed = manage(database, "flush", "--no-input")

    assert flushed.returncode == 0, flushed.stderr
    assert rows(database, "SELECT count(*) FROM directory_fellowship") == [(0,)]


pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")
