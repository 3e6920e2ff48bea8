"""Database triggers that make the audit table append-only below the ORM, per database vendor."""

from django.db.backends.base.base import BaseDatabaseWrapper

TABLE = "audit_auditevent"
MESSAGE = "audit events are append-only"

POSTGRESQL_CREATE = [
    f"""CREATE OR REPLACE FUNCTION audit_auditevent_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION '{MESSAGE}';
    END;
    $$ LANGUAGE plpgsql""",
    f"""CREATE TRIGGER audit_auditevent_append_only BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION audit_auditevent_append_only()""",
]
POSTGRESQL_DROP = [
    f"DROP TRIGGER IF EXISTS audit_auditevent_append_only ON {TABLE}",
    "DROP FUNCTION IF EXISTS audit_auditevent_append_only()",
]

SQLITE_CREATE = [
    f"""CREATE TRIGGER audit_auditevent_no_update BEFORE UPDATE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER audit_auditevent_no_delete BEFORE DELETE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS audit_auditevent_no_update",
    "DROP TRIGGER IF EXISTS audit_auditevent_no_delete",
]


def create(connection: BaseDatabaseWrapper) -> None:
    statements = {"postgresql": POSTGRESQL_CREATE, "sqlite": SQLITE_CREATE}.get(connection.vendor, [])
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def drop(connection: BaseDatabaseWrapper) -> None:
    statements = {"postgresql": POSTGRESQL_DROP, "sqlite": SQLITE_DROP}.get(connection.vendor, [])
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
