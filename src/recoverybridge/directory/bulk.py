"""Plain multi-row INSERT and UPDATE for whole feeds, on SQLite and PostgreSQL.

bulk_create and bulk_update build a model instance and compile an expression
per value; for a 50,000-meeting feed that was most of the import's time (and
bulk_update's CASE WHEN per field grows with the batch). These helpers take
plain dicts keyed by field attname, fill in the model's defaults, adapt values
as Django's backend does, and send few statements:
- SQLite: multi-row VALUES (inserts), executemany (updates);
- PostgreSQL: COPY for inserts (keys taken from the sequence beforehand), and
  one array parameter per column through UNNEST for updates, so a statement
  has a handful of parameters however many rows it carries.
Callers run them inside their own transaction. Table and column names come
from the models' metadata, quoted by the backend; every value is a parameter.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.db import connection, models
from django.utils import timezone

from recoverybridge.directory.models import Location, Meeting, MeetingSource

SQLITE_BATCH = 500
POSTGRES_BATCH = 10_000


@dataclass
class Columns:
    names: list[str]  # quoted column names
    types: list[str]  # database types, for PostgreSQL's array casts
    adapters: list[Any]  # per column: a function adapting a value, or None

    def row(self, values: Iterable[Any]) -> list[Any]:
        return [
            value if adapter is None or value is None else adapter(value)
            for value, adapter in zip(values, self.adapters, strict=True)
        ]


def columns_of(model: type[models.Model], attnames: Sequence[str]) -> Columns:
    ops = connection.ops
    columns = Columns([], [], [])
    for attname in attnames:
        field = model._meta.get_field(attname)
        assert isinstance(field, models.Field)
        columns.names.append(ops.quote_name(field.column))
        columns.types.append(str(field.db_type(connection)))
        kind = field.get_internal_type()
        # Cached: a feed repeats the same few start times and timestamps thousands of times.
        if kind == "TimeField":
            columns.adapters.append(lru_cache(maxsize=4096)(ops.adapt_timefield_value))
        elif kind == "DateTimeField":
            columns.adapters.append(lru_cache(maxsize=4096)(ops.adapt_datetimefield_value))
        elif kind == "DateField":
            columns.adapters.append(lru_cache(maxsize=4096)(ops.adapt_datefield_value))
        else:
            columns.adapters.append(None)
    return columns


def with_defaults(model: type[models.Model], rows: list[dict[str, Any]]) -> list[str]:
    """Every concrete column but the primary key: given values, else the field's default."""
    now = timezone.now()
    attnames: list[str] = []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        attnames.append(field.attname)
        if field.attname in rows[0]:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            default: Any = now
        else:
            default = field.get_default()
        for row in rows:
            row.setdefault(field.attname, default)
    return attnames


def unnest(columns: Columns, rows: list[list[Any]]) -> tuple[str, list[list[Any]]]:
    """PostgreSQL: `unnest(%s::type[], ...)` and its per-column arrays."""
    arrays = [list(values) for values in zip(*rows, strict=True)] if rows else [[] for _ in columns.names]
    casts = ", ".join(f"%s::{kind}[]" for kind in columns.types)
    return f"unnest({casts})", arrays


def copy_rows(cursor: Any, table: str, columns: list[str], rows: Iterable[Sequence[Any]]) -> None:
    """PostgreSQL's COPY: the fastest way in, with no SQL text per row at all."""
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def insert(model: type[models.Model], rows: list[dict[str, Any]]) -> list[int]:
    """Insert rows (dicts by attname); returns their new primary keys in order."""
    if not rows:
        return []
    attnames = with_defaults(model, rows)
    columns = columns_of(model, attnames)
    table = connection.ops.quote_name(model._meta.db_table)
    pk = connection.ops.quote_name(model._meta.pk.column)
    into = f"INSERT INTO {table} ({', '.join(columns.names)})"
    values = [columns.row(row[name] for name in attnames) for row in rows]
    ids: list[int] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Take the keys from the table's sequence first, then COPY the rows with them.
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [model._meta.db_table, model._meta.pk.column, len(values)],
            )
            ids = [row[0] for row in cursor.fetchall()]
            copy_rows(
                cursor,
                table,
                [pk, *columns.names],
                ([key, *row] for key, row in zip(ids, values, strict=True)),
            )
            return ids
        one = "(" + ", ".join(["%s"] * len(attnames)) + ")"
        per_statement = max(
            1, min(SQLITE_BATCH, (connection.features.max_query_params or 999) // len(attnames))
        )
        for start in range(0, len(values), per_statement):
            part = values[start : start + per_statement]
            params = [value for row in part for value in row]
            cursor.execute(f"{into} VALUES {', '.join([one] * len(part))} RETURNING {pk}", params)
            # SQLite returns the RETURNING rows of a multi-row VALUES in order (as bulk_create relies on).
            ids.extend(row[0] for row in cursor.fetchall())
    return ids


def insert_rows(model: type[models.Model], attnames: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert plain tuples (many-to-many rows, say); no keys returned."""
    columns = columns_of(model, attnames)
    table = connection.ops.quote_name(model._meta.db_table)
    into = f"INSERT INTO {table} ({', '.join(columns.names)})"
    values = [columns.row(row) for row in rows]
    if not values:
        return 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            copy_rows(cursor, table, columns.names, values)
        else:
            cursor.executemany(f"{into} VALUES ({', '.join(['%s'] * len(attnames))})", values)
    return len(values)


def update(model: type[models.Model], attnames: Sequence[str], rows: list[dict[str, Any]]) -> None:
    """Set the named fields of each row (dicts by attname, with "id")."""
    if not rows or not attnames:
        return
    columns = columns_of(model, ["id", *attnames])
    table = connection.ops.quote_name(model._meta.db_table)
    pk, *targets = columns.names
    values = [columns.row([row["id"], *(row[name] for name in attnames)]) for row in rows]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            aliases = ", ".join(f"c{number}" for number in range(len(columns.names)))
            assignments = ", ".join(
                f"{column} = v.c{number}" for number, column in enumerate(targets, start=1)
            )
            for start in range(0, len(values), POSTGRES_BATCH):
                source, arrays = unnest(columns, values[start : start + POSTGRES_BATCH])
                match = f"{table}.{pk} = v.c0"
                sql = f"UPDATE {table} SET {assignments} FROM {source} AS v({aliases}) WHERE {match}"  # noqa: S608
                cursor.execute(sql, arrays)
        else:
            assignments = ", ".join(f"{column} = %s" for column in targets)
            sql = f"UPDATE {table} SET {assignments} WHERE {pk} = %s"  # noqa: S608
            cursor.executemany(sql, [[*row[1:], row[0]] for row in values])


DIRECTORY_TABLES = (Location, Meeting, Meeting.attributes.through, MeetingSource)


def refresh_statistics() -> None:
    """Update the query planner's statistics for the directory's tables.

    Without them SQLite guesses that `status = 'active'` is selective and
    scans every meeting for a place search instead of walking the coordinate
    index: 450 ms instead of 30 ms for a dense city at 200k meetings. Run
    after a bulk change (an import, a generated directory); it takes a
    fraction of a second.
    """
    with connection.cursor() as cursor:
        for model in DIRECTORY_TABLES:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
