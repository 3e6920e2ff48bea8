"""Organisations and teams moved from care to the ground floor's `organisations` app: a database
made before the move keeps every row, and every reference to them from every app, after
`migrate`. Run in a process of its own against a database of its own (SQLite, and PostgreSQL
when the suite runs on it), so the suite's test database is untouched."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
STEPS = Path(__file__).with_name("migration_steps.py")


def run(database_url: str, step: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-only",
        "DEBUG": "0",
        "DJANGO_SETTINGS_MODULE": "recoverybridge.settings",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
    }
    return subprocess.run(  # noqa: S603 -- our own script with fixed arguments
        [sys.executable, str(STEPS), step], env=env, capture_output=True, text=True, check=False
    )


def moved(database_url: str) -> dict:
    made = run(database_url, "before")
    assert made.returncode == 0, made.stderr
    migrated = run(database_url, "after")
    assert migrated.returncode == 0, migrated.stderr
    return json.loads(migrated.stdout.strip().splitlines()[-1])


EXPECTED = {
    "organisations": ["Bridge", "Harbour"],
    "teams": ["Harbour — Detox"],
    "person_team": "Harbour — Detox",
    "referred_to": "Bridge",
    "consent_recipient": "Bridge",
    "member_of": "Harbour — Detox",
    "audit_actor_organisation": "Bridge",
    "schedule_of": "Harbour",
    "permission_app": "organisations",
    "old_tables": [],
    "person_team_table": "organisations_team",
}


def test_sqlite_database_keeps_its_organisations_and_teams(tmp_path):
    assert moved(f"sqlite:///{tmp_path / 'before-move.sqlite3'}") == EXPECTED


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="the suite runs on SQLite; the PostgreSQL run covers this",
)
def test_postgresql_database_keeps_its_organisations_and_teams():
    import psycopg

    server = settings.DATABASES["default"]
    name = f"rb_move_{uuid.uuid4().hex[:12]}"
    conninfo = {
        "host": server["HOST"] or "127.0.0.1",
        "port": server["PORT"] or 5432,
        "user": server["USER"],
        "password": server["PASSWORD"],
        "dbname": "postgres",
    }
    with psycopg.connect(**conninfo, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = f"postgres://{server['USER']}:{server['PASSWORD']}@{conninfo['host']}:{conninfo['port']}/{name}"
        assert moved(url) == EXPECTED
    finally:
        with psycopg.connect(**conninfo, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
