"""Audit events cannot be updated or deleted, even with raw SQL: a trigger refuses it."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

from recoverybridge.audit import triggers


def create_trigger(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    triggers.create(schema_editor.connection)


def drop_trigger(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    triggers.drop(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_initial")]

    operations = [migrations.RunPython(create_trigger, drop_trigger, elidable=False)]
