"""The table of the "limits" cache (settings.CACHES), made by migrate so that no deployment can
forget it, and made whether or not REDIS_URL is set today, so that a deployment that stops
using Redis finds it there."""

from typing import Any

from django.core.management.commands.createcachetable import Command as CreateCacheTable
from django.db import migrations

TABLE = "limit_counters"  # settings.CACHES["limits"]["LOCATION"] without Redis


def create_counter_table(apps: Any, schema_editor: Any) -> None:
    command = CreateCacheTable()
    command.verbosity = 0
    command.create_table(schema_editor.connection.alias, TABLE, dry_run=False)


class Migration(migrations.Migration):
    dependencies: list[tuple[str, str]] = []
    operations = [migrations.RunPython(create_counter_table, migrations.RunPython.noop)]
