"""A real production server (gunicorn) on the test database, for tests of what must hold across
processes: SQLite's in-memory test database copied to a file first (another process cannot open
memory), PostgreSQL's used as it is; `stop()` ends the server and brings what it wrote back."""

import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parents[1]
# gunicorn's access log line: the worker's process id, the method, the path and the status.
ACCESS = r"%(p)s %(m)s %(U)s %(s)s"


def database_url(tmp_path: Path) -> str:
    settings = connection.settings_dict
    if connection.vendor == "postgresql":
        host, port = settings["HOST"] or "127.0.0.1", settings["PORT"] or 5432
        return f"postgres://{settings['USER']}@{host}:{port}/{settings['NAME']}"
    path = tmp_path / "served.sqlite3"
    connection.ensure_connection()
    copy = sqlite3.connect(path)
    connection.connection.backup(copy)
    copy.close()
    return f"sqlite:///{path}"


class Gunicorn:
    """`workers` processes of one thread each; `access` collects the access log's lines."""

    def __init__(self, tmp_path: Path, static_root: Path, *, workers: int, env: dict[str, str]):
        self.url = database_url(tmp_path)
        self.access: list[str] = []
        environment = {
            **os.environ,
            "DATABASE_URL": self.url,
            "DATABASE_CONN_MAX_AGE": "0",
            "SECRET_KEY": "server-test-only",
            "DEBUG": "0",
            "ALLOWED_HOSTS": "127.0.0.1",
            "STATIC_ROOT": str(static_root),  # production refuses to start without them
            **env,
        }
        command = [sys.executable, "-m", "gunicorn", "--pythonpath", "src", "--bind", "127.0.0.1:0"]
        command += ["--workers", str(workers), "--access-logfile", "-", "--access-logformat", ACCESS]
        command += ["recoverybridge.wsgi"]
        self.process = subprocess.Popen(  # noqa: S603 -- our own server, fixed arguments
            command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.base = self._listening()
        self._reader = threading.Thread(target=self._collect_access, daemon=True)
        self._reader.start()

    def _listening(self) -> str:
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
                return found.group(1)
        self.process.kill()
        raise AssertionError("gunicorn did not start")

    def _collect_access(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.access.append(line.strip())

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.terminate()
        self.process.wait(timeout=30)
        self._reader.join(timeout=30)  # the access log's last lines
        if self.url.startswith("sqlite:"):
            served_copy = sqlite3.connect(self.url.removeprefix("sqlite:///"))
            served_copy.backup(connection.connection)
            served_copy.close()
