"""The table of the "evaluation" cache (built reports, see settings.CACHES), made by migrate so
that no deployment can forget it. `manage.py createcachetable` does the same and leaves a
table that is already there alone."""

from typing import Any

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps: Any, schema_editor: Any) -> None:
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies: list[tuple[str, str]] = []
    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
