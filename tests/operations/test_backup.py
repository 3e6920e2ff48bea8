"""The restore drill: back up, damage, restore, verify every table's rows and the audit chain; on
the embedded SQLite database and on PostgreSQL. Each runs the real commands in processes of
their own against a database of its own. Also: a wrong key, a cut or changed file,
are refused with a clear message and change nothing."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
KEY = "q3TIWgfZ7F+Xgq2m7m0zYc0D9Jv3p8Xl2GQx6kq0Y1E="  # 32 bytes, base64: a test key

STEPS = Path(__file__).with_name("drill_steps.py")


def drill(url: str, folder: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "test-only",
        "DEBUG": "0",
        "BACKUP_KEY": KEY,
        "DJANGO_SETTINGS_MODULE": "recoverybridge.settings",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
    }
    migrate = [sys.executable, str(ROOT / "manage.py"), "migrate", "-v0"]
    assert subprocess.run(migrate, env=env, check=False).returncode == 0  # noqa: S603
    done = subprocess.run(  # noqa: S603 -- our own drill script
        [sys.executable, str(STEPS), str(folder)], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    said = json.loads(done.stdout.strip().splitlines()[-1])

    assert said["backup"]["ok"] and "to " in said["backup"]["out"]
    assert not said["plain_text_in_backup"]  # encrypted at rest
    assert said["damaged"] == [5, 0]
    assert not said["verify_damaged"]["ok"] and "broken at event 2" in said["verify_damaged"]["out"]
    assert said["restore"]["ok"], said["restore"]["out"]
    assert "0 tables differ; audit chain intact (10 sealed events)" in said["restore"]["out"]
    assert said["restored"] == [10, 1]
    assert said["verify_restored"]["ok"]
    assert "wrong BACKUP_KEY" in said["wrong_key"]["out"]
    assert "cut short" in said["cut"]["out"]
    assert "the file was changed" in said["changed"]["out"]
    assert "BACKUP_KEY is not set" in said["no_key"]["out"]
    assert said["after_refusals"] == [10, 1]  # refusals changed nothing


def test_restore_drill_on_sqlite(tmp_path):
    drill(f"sqlite:///{tmp_path / 'drill.sqlite3'}", tmp_path)


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="the suite runs on SQLite; the PostgreSQL run covers this",
)
def test_restore_drill_on_postgresql(tmp_path):
    import psycopg

    server = settings.DATABASES["default"]
    name = f"rb_drill_{uuid.uuid4().hex[:12]}"
    host, port = server["HOST"] or "127.0.0.1", server["PORT"] or 5432
    admin = {
        "host": host,
        "port": port,
        "user": server["USER"],
        "password": server["PASSWORD"],
        "dbname": "postgres",
    }
    with psycopg.connect(**admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        drill(f"postgres://{server['USER']}:{server['PASSWORD']}@{host}:{port}/{name}", tmp_path)
    finally:
        with psycopg.connect(**admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
