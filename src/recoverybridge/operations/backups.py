"""Encrypted backups and their restore, for the embedded SQLite database and for PostgreSQL.

A backup is the database as one consistent copy (SQLite's online backup API, which copies a
live database page by page under its own lock; `pg_dump --format=custom` for PostgreSQL),
encrypted at rest with AES-256-GCM under BACKUP_KEY (from the environment, never stored
beside the backups). The file is a header, then the copy in sealed chunks: each chunk's
number and whether it is the last are authenticated with it, so a file cut short, reordered or
changed fails to open rather than restoring part of a database.

With the copy goes what to check after a restore: the number of rows of every table, counted in
the copy itself, so `restore` can prove it put back what was taken; it also verifies the audit
trail's chain.
"""

import base64
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.apps import apps
from django.conf import settings
from django.db import connection, connections
from django.utils import timezone

from recoverybridge.audit import chain

MAGIC = b"RBBACKUP1\n"
CHUNK = 1 << 20
NONCE = 12


class BackupError(Exception):
    """A backup or restore that cannot go ahead, said plainly (no key, wrong key, damaged file)."""


def new_key() -> str:
    """A fresh BACKUP_KEY: 32 random bytes, base64."""
    return base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()


def _key() -> AESGCM:
    raw = os.environ.get("BACKUP_KEY", "")
    if not raw:
        raise BackupError("BACKUP_KEY is not set: backups are encrypted with it (make one with --new-key).")
    try:
        key = base64.b64decode(raw, validate=True)
    except ValueError:
        raise BackupError("BACKUP_KEY is not base64 (make one with --new-key).") from None
    if len(key) != 32:
        raise BackupError("BACKUP_KEY must be 32 bytes, base64 (make one with --new-key).")
    return AESGCM(key)


def _tables() -> list[str]:
    present = set(connection.introspection.table_names())
    known = {model._meta.db_table for model in apps.get_models(include_auto_created=True)}
    return sorted(present & known)


def _count(cursor: Any, tables: list[str]) -> dict[str, int]:
    counts = {}
    for table in tables:
        cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608 -- names from Django's models
        counts[table] = cursor.fetchone()[0]
    return counts


def row_counts() -> dict[str, int]:
    """Rows in every table of Django's models, by table name, as the database holds them now."""
    with connection.cursor() as cursor:
        return _count(cursor, _tables())


def _seal(aead: AESGCM, index: int, last: bool, data: bytes) -> bytes:
    nonce = os.urandom(NONCE)
    sealed = aead.encrypt(nonce, data, MAGIC + struct.pack(">Q?", index, last))
    return struct.pack(">I", len(sealed)) + nonce + sealed


def _encrypt(source: IO[bytes], facts: dict[str, Any], out: IO[bytes]) -> None:
    aead = _key()
    out.write(MAGIC)
    out.write(_seal(aead, 0, False, json.dumps(facts).encode()))
    index, pending = 1, source.read(CHUNK)
    while True:
        following = source.read(CHUNK)
        out.write(_seal(aead, index, not following, pending))
        if not following:
            return
        index, pending = index + 1, following


def _decrypt(backup: IO[bytes]) -> Iterator[bytes]:
    """The facts first, then the copy's chunks; BackupError on anything tampered or cut short."""
    aead = _key()
    if backup.read(len(MAGIC)) != MAGIC:
        raise BackupError("This is not a RecoveryBridge backup.")
    index, last = 0, False
    while not last:
        size_bytes = backup.read(4)
        if len(size_bytes) < 4:
            raise BackupError("The backup is cut short.")
        (size,) = struct.unpack(">I", size_bytes)
        nonce, sealed = backup.read(NONCE), backup.read(size)
        if len(sealed) < size:
            raise BackupError("The backup is cut short.")
        for candidate in (False, True):
            try:
                data = aead.decrypt(nonce, sealed, MAGIC + struct.pack(">Q?", index, candidate))
            except Exception:  # noqa: S112 -- InvalidTag: try the other flag, then give up
                continue
            last = candidate and index > 0
            break
        else:
            raise BackupError("The backup cannot be opened: wrong BACKUP_KEY, or the file was changed.")
        yield data
        index += 1


@dataclass(frozen=True)
class Restored:
    facts: dict[str, Any]
    rows: dict[str, int]
    audit_chain_intact: bool
    audit_events: int

    @property
    def matches(self) -> bool:
        return self.rows == self.facts["rows"]


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client).")
    return found


def _pg_environment() -> tuple[list[str], dict[str, str]]:
    db = connection.settings_dict
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    args = ["--host", str(db.get("HOST") or "127.0.0.1"), "--port", str(db.get("PORT") or 5432)]
    args += ["--username", str(db.get("USER") or "postgres"), "--dbname", str(db["NAME"])]
    return args, env


def _copy_sqlite(copy: Path, tables: list[str]) -> dict[str, int]:
    source = sqlite3.connect(str(connection.settings_dict["NAME"]))
    target = sqlite3.connect(copy)
    with target:
        source.backup(target)
    source.close()
    counts = _count(target.cursor(), tables)  # counted in the copy itself
    target.close()
    return counts


def _copy_postgresql(copy: Path, tables: list[str]) -> dict[str, int]:
    """pg_dump reads the snapshot of a transaction that counts the rows: the counts are exactly
    those of the copy, however busy the database is meanwhile."""
    args, env = _pg_environment()
    with connection.cursor() as cursor:
        cursor.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        try:
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            counts = _count(cursor, tables)
            done = subprocess.run(  # noqa: S603 -- pg_dump with our own settings
                [_tool("pg_dump"), "--format=custom", "--no-owner", f"--snapshot={snapshot}", "--file", str(copy), *args],
                env=env, capture_output=True, text=True, check=False,
            )  # fmt: skip
        finally:
            cursor.execute("COMMIT")
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
    return counts


def backup(path: Path) -> dict[str, Any]:
    """Write an encrypted backup of the database to `path`; returns what it holds."""
    _key()  # refuse before doing any work
    if connection.vendor not in ("sqlite", "postgresql"):
        raise BackupError(f"No backup for the {connection.vendor} database.")
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        copy = Path(work) / "copy"
        tables = _tables()
        rows = _copy_sqlite(copy, tables) if connection.vendor == "sqlite" else _copy_postgresql(copy, tables)
        facts = {"engine": connection.vendor, "made_at": timezone.now().isoformat(), "rows": rows}
        partial = path.with_name(path.name + ".partial")
        with copy.open("rb") as source_file, partial.open("wb") as out:
            _encrypt(source_file, facts, out)
        partial.replace(path)  # a backup file is complete or absent
    return facts


def restore(path: Path) -> Restored:
    """Replace the database's contents with the backup's, then count and verify what came back."""
    with path.open("rb") as backup_file, tempfile.TemporaryDirectory() as work:
        chunks = _decrypt(backup_file)
        facts = json.loads(next(chunks))
        if facts["engine"] != connection.vendor:
            raise BackupError(f"This backup is of a {facts['engine']} database, not {connection.vendor}.")
        copy = Path(work) / "copy"
        with copy.open("wb") as out:
            for data in chunks:
                out.write(data)
        connections.close_all()
        if connection.vendor == "sqlite":
            source = sqlite3.connect(copy)
            target = sqlite3.connect(str(connection.settings_dict["NAME"]))
            with target:
                source.backup(target)
            source.close()
            target.close()
        else:
            args, env = _pg_environment()
            done = subprocess.run(  # noqa: S603 -- pg_restore with our own settings
                [_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction", *args, str(copy)],
                env=env, capture_output=True, text=True, check=False,
            )  # fmt: skip
            if done.returncode != 0:
                raise BackupError(f"pg_restore failed: {done.stderr.strip()}")
    verdict = chain.verify()
    return Restored(facts, row_counts(), verdict.intact, verdict.checked)


def default_path() -> Path:
    folder = Path(os.environ.get("BACKUP_DIR", Path(settings.PROJECT_DIR) / "var" / "backups"))
    return folder / f"recoverybridge-{timezone.now():%Y%m%dT%H%M%SZ}.rbbackup"
