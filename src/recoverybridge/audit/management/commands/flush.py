"""`flush` empties the whole database (the test runner uses it between transactional tests).
On SQLite it deletes row by row, which the audit trigger refuses, so the trigger is lifted
for the flush only and put back in the same transaction. PostgreSQL truncates, which the
row trigger does not see."""

from typing import Any

from django.core.management.commands.flush import Command as FlushCommand
from django.db import connections, transaction

from recoverybridge.audit import triggers


class Command(FlushCommand):
    def handle(self, **options: Any) -> None:
        connection = connections[options["database"]]
        # A database not migrated as far as the audit table has no trigger to lift.
        if connection.vendor != "sqlite" or triggers.TABLE not in connection.introspection.table_names():
            super().handle(**options)
            return
        with transaction.atomic(using=connection.alias):
            triggers.drop(connection)
            super().handle(**options)
            triggers.create(connection)
