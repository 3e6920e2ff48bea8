"""The directory's version token (models.DirectoryVersion): a new random value in the same
transaction as any change to meetings.

- Database triggers on the meeting table: every insert, update or delete, whoever makes
  it (imports, editors, the admin, a shell, raw SQL). PostgreSQL's fire once per
  statement (TRUNCATE and COPY included), SQLite's once per row.
- A meeting's attributes (attribute and language searches count through them) change
  with its row in every writer we have: the import rewrites a changed meeting's row and
  its attributes together, the admin saves the row with the form. For attributes changed
  on their own through the ORM (`meeting.attributes.add(...)`), the m2m_changed signal
  changes the token too. A trigger on the attribute links as well cost SQLite imports
  about 17% of their speed (one per link, ~50,000 for 20,000 meetings); raw SQL on the
  link table alone is the one change not seen.
"""

import secrets
from contextvars import ContextVar, Token
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

VERSION_TABLE = "directory_directoryversion"
MEETING_TABLE = "directory_meeting"
SQLITE_EVENTS = ["INSERT", "UPDATE", "DELETE"]

# What the triggers set: a new token and, since migration 0009, when it changed (the
# public answers' Last-Modified). Migration 0007 made them before the column existed.
POSTGRESQL_SET = {
    False: "token = floor(random() * 4e18)::bigint",
    True: "token = floor(random() * 4e18)::bigint, changed_at = clock_timestamp()",
}
SQLITE_SET = {
    False: "token = random()",
    True: "token = random(), changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now')",
}


def postgresql_create(stamp: bool) -> list[str]:
    return [
        f"""CREATE OR REPLACE FUNCTION directory_version_bump() RETURNS trigger AS $$
    BEGIN
        UPDATE {VERSION_TABLE} SET {POSTGRESQL_SET[stamp]} WHERE id = 1;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql""",  # noqa: S608 -- table names are constants
        f"""CREATE TRIGGER {MEETING_TABLE}_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON {MEETING_TABLE} FOR EACH STATEMENT EXECUTE FUNCTION directory_version_bump()""",
    ]


POSTGRESQL_DROP = [
    f"DROP TRIGGER IF EXISTS {MEETING_TABLE}_version ON {MEETING_TABLE}",
    "DROP FUNCTION IF EXISTS directory_version_bump()",
]


def sqlite_create(stamp: bool) -> list[str]:
    return [
        f"""CREATE TRIGGER {MEETING_TABLE}_version_{event.lower()} AFTER {event} ON {MEETING_TABLE}
    BEGIN UPDATE {VERSION_TABLE} SET {SQLITE_SET[stamp]} WHERE id = 1; END"""  # noqa: S608 -- constants
        for event in SQLITE_EVENTS
    ]


SQLITE_DROP = [f"DROP TRIGGER IF EXISTS {MEETING_TABLE}_version_{event.lower()}" for event in SQLITE_EVENTS]


def create_triggers(connection: BaseDatabaseWrapper, stamp: bool = True) -> None:
    """The triggers; `stamp=False` as migration 0007 made them (no changed_at column yet)."""
    statements = {"postgresql": postgresql_create(stamp), "sqlite": sqlite_create(stamp)}.get(
        connection.vendor, []
    )
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def drop_triggers(connection: BaseDatabaseWrapper) -> None:
    statements = {"postgresql": POSTGRESQL_DROP, "sqlite": SQLITE_DROP}.get(connection.vendor, [])
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def _new_token() -> int:
    return secrets.randbits(62)


def bump() -> None:
    """A new token, for changes the triggers do not see."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {VERSION_TABLE} SET token = %s, changed_at = %s WHERE id = 1",  # noqa: S608
            [_new_token(), timezone.now()],
        )


def directory_changed(sender: Any, **kwargs: Any) -> None:
    """post_save / post_delete receiver for what the public pages show beside meetings (a
    place's address, a fellowship's or an attribute's name): edited in the admin, not by
    imports (an import that moves a meeting to another place rewrites the meeting's row)."""
    bump()


def attributes_changed(sender: Any, action: str, **kwargs: Any) -> None:
    """m2m_changed receiver for Meeting.attributes."""
    if action in ("post_add", "post_remove", "post_clear"):
        bump()


def current_token() -> int | None:
    """The token as this connection sees it; None on a database without the triggers.

    Within a public request (directory/caching.py), the token read for its validators: the
    answer is computed from a directory no older than it, and the token is not read twice.

    A flush empties the table: the row comes back with a new token (nothing was kept
    under it), so the triggers have a row to change again.
    """
    read = _read_for_request.get()
    if read is not None:
        return read.token
    if connection.vendor not in ("postgresql", "sqlite"):
        return None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT token FROM {VERSION_TABLE} WHERE id = 1")  # noqa: S608 -- constants
        row = cursor.fetchone()
        if row is None:
            token = _new_token()
            cursor.execute(
                f"INSERT INTO {VERSION_TABLE} (id, token) VALUES (1, %s) ON CONFLICT (id) DO NOTHING",  # noqa: S608
                [token],
            )
            cursor.execute(f"SELECT token FROM {VERSION_TABLE} WHERE id = 1")  # noqa: S608
            row = cursor.fetchone()
    return None if row is None else int(row[0])


@dataclass(frozen=True)
class State:
    token: int
    changed_at: datetime | None


_read_for_request: ContextVar[State | None] = ContextVar("directory_state_read_for_request", default=None)


def read_for_request(state: State) -> Token[State | None]:
    """Let the rest of this request use the state already read (undo with `forget_read`)."""
    return _read_for_request.set(state)


def forget_read(token: Token[State | None]) -> None:
    _read_for_request.reset(token)


def _aware(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite hands back the text the trigger wrote
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def current_state() -> State | None:
    """The token and when it last changed, in one query; None on a database without triggers."""
    if connection.vendor not in ("postgresql", "sqlite"):
        return None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT token, changed_at FROM {VERSION_TABLE} WHERE id = 1")  # noqa: S608
        row = cursor.fetchone()
    if row is None:
        token = current_token()  # makes the row again after a flush
        return None if token is None else State(token, None)
    return State(int(row[0]), _aware(row[1]))
