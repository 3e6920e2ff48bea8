"""Every entry point computes times with the pinned tzdata package, not the host's zone files.

British Columbia's rules changed between the host's 2025b and the pinned 2026 release: in
December 2026 Vancouver is on UTC-7 by the pinned data and UTC-8 by the old. The host's file is
read directly here to show that the difference is real on this machine (when it is older)."""

import datetime
import os
import subprocess
import sys
import zoneinfo
from pathlib import Path

import pytest
import tzdata

ROOT = Path(__file__).resolve().parents[2]
WINTER_2026 = datetime.datetime(2026, 12, 15, 12, 0)
PINNED_OFFSET = datetime.timedelta(hours=-7)
HOST_FILE = Path("/usr/share/zoneinfo/America/Vancouver")


def test_the_package_pins_the_zone_database():
    assert zoneinfo.TZPATH == ()
    assert zoneinfo.ZoneInfo("America/Vancouver").utcoffset(WINTER_2026) == PINNED_OFFSET


@pytest.mark.skipif(not HOST_FILE.exists(), reason="no host zone files to differ from")
def test_the_host_database_would_answer_otherwise_here():
    host = zoneinfo.ZoneInfo.from_file(HOST_FILE.open("rb"))
    if host.utcoffset(WINTER_2026) == PINNED_OFFSET:
        pytest.skip("the host's zone files are as new as the pinned ones")
    assert host.utcoffset(WINTER_2026) == datetime.timedelta(hours=-8)


def test_manage_py_and_the_worker_use_the_pinned_database():
    """manage.py (and so db_worker, the same entry point) sees the pinned offset."""
    code = (
        "import datetime, zoneinfo;"
        "print(zoneinfo.ZoneInfo('America/Vancouver').utcoffset(datetime.datetime(2026, 12, 15, 12)))"
    )
    env = {**os.environ, "SECRET_KEY": "test-only", "DEBUG": "0"}
    result = subprocess.run(  # noqa: S603 -- our own manage.py with fixed arguments
        [sys.executable, str(ROOT / "manage.py"), "shell", "--no-imports", "-c", code],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "-1 day, 17:00:00"


def test_the_wsgi_entry_point_pins_it_before_django_starts(collected_static):
    code = "import recoverybridge.wsgi, zoneinfo; print(zoneinfo.TZPATH)"
    env = {
        **os.environ,
        "SECRET_KEY": "test-only",
        "DEBUG": "0",
        "PYTHONPATH": str(ROOT / "src"),
        "STATIC_ROOT": str(collected_static),
    }
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "()"


def test_the_api_says_which_database(client, db):
    answer = client.get("/api/v1/meta").json()
    assert answer["time_zone_database"] == tzdata.IANA_VERSION
    assert answer["api_version"] == "1"
