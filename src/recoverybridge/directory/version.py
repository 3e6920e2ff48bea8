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
from typing import Any

from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper

VERSION_TABLE = "directory_directoryversion"
MEETING_TABLE = "directory_meeting"
SQLITE_EVENTS = ["INSERT", "UPDATE", "DELETE"]

POSTGRESQL_CREATE = [
    f"""CREATE OR REPLACE FUNCTION directory_version_bump() RETURNS trigger AS $$
    BEGIN
        UPDATE {VERSION_TABLE} SET token = floor(random() * 4e18)::bigint WHERE id = 1;
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

SQLITE_CREATE = [
    f"""CREATE TRIGGER {MEETING_TABLE}_version_{event.lower()} AFTER {event} ON {MEETING_TABLE}
    BEGIN UPDATE {VERSION_TABLE} SET token = random() WHERE id = 1; END"""  # noqa: S608 -- constants
    for event in SQLITE_EVENTS
]
SQLITE_DROP = [f"DROP TRIGGER IF EXISTS {MEETING_TABLE}_version_{event.lower()}" for event in SQLITE_EVENTS]


def create_triggers(connection: BaseDatabaseWrapper) -> None:
    statements = {"postgresql": POSTGRESQL_CREATE, "sqlite": SQLITE_CREATE}.get(connection.vendor, [])
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
        cursor.execute(f"UPDATE {VERSION_TABLE} SET token = %s WHERE id = 1", [_new_token()])  # noqa: S608


def attributes_changed(sender: Any, action: str, **kwargs: Any) -> None:
    """m2m_changed receiver for Meeting.attributes."""
    if action in ("post_add", "post_remove", "post_clear"):
        bump()


def current_token() -> int | None:
    """The token as this connection sees it; None on a database without the triggers.

    A flush empties the table: the row comes back with a new token (nothing was kept
    under it), so the triggers have a row to change again.
    """
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
