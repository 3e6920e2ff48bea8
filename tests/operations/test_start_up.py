"""Production settings refuse to start without collected static files (a clear message at
start-up, not a 500 on every page), and `check --deploy` is clean with the documented
production settings."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def start(static_root: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SECRET_KEY": "test-only",
        "DEBUG": "0",
        "STATIC_ROOT": str(static_root),
        "PYTHONPATH": str(ROOT / "src"),
    }
    return subprocess.run(
        [sys.executable, "-c", "import recoverybridge.wsgi"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_refuses_to_start_without_collected_static_files(tmp_path):
    refused = start(tmp_path / "empty")
    assert refused.returncode != 0
    assert "Static files have not been collected" in refused.stderr
    assert "collectstatic" in refused.stderr


def test_production_starts_once_they_are_collected(collected_static):
    started = start(collected_static)
    assert started.returncode == 0, started.stderr


def test_check_deploy_names_the_missing_static_files_and_migrate_is_not_stopped(tmp_path):
    env = {**os.environ, "SECRET_KEY": "test-only", "DEBUG": "0", "STATIC_ROOT": str(tmp_path)}
    checked = subprocess.run(  # noqa: S603
        [sys.executable, str(ROOT / "manage.py"), "check", "--deploy"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode != 0
    assert "operations.E001" in checked.stderr
    # Deploying migrates before collecting static files: migrate is not stopped by it.
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'deploy.sqlite3'}"
    migrated = subprocess.run(  # noqa: S603
        [sys.executable, str(ROOT / "manage.py"), "migrate", "-v0"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert migrated.returncode == 0, migrated.stderr


def documented_https_settings() -> dict[str, str]:
    """The SECURE_* variables docs/operations.md exports in its production server block."""
    text = (ROOT / "docs" / "operations.md").read_text()
    found = dict(re.findall(r"\b(SECURE_[A-Z_]+)=(\S+)", "\n".join(re.findall(r"^export (.+)$", text, re.M))))
    assert {"SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS"} <= set(found)
    return found


def test_check_deploy_is_clean_with_the_documented_production_settings(collected_static):
    env = {
        **os.environ,
        **documented_https_settings(),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DEBUG": "0",
        "ALLOWED_HOSTS": "meetings.example.org",
        "STATIC_ROOT": str(collected_static),
        "SMS_BACKEND": "off",  # or a Twilio account (messaging.W001 otherwise)
    }
    checked = subprocess.run(  # noqa: S603
        [sys.executable, str(ROOT / "manage.py"), "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    assert "System check identified no issues" in checked.stdout


def test_check_deploy_warns_of_what_the_defaults_leave_off(collected_static):
    """Off by default (a first install over plain HTTP works), and said so by check --deploy."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SECURE_")},
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DEBUG": "0",
        "ALLOWED_HOSTS": "meetings.example.org",
        "STATIC_ROOT": str(collected_static),
        "SMS_BACKEND": "off",
    }
    checked = subprocess.run(  # noqa: S603
        [sys.executable, str(ROOT / "manage.py"), "check", "--deploy"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert "security.W004" in checked.stderr and "security.W008" in checked.stderr
