"""The directory's version token, changed by triggers with every change to meetings or their
attributes (see directory/version.py)."""

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

from recoverybridge.directory import version


def create_triggers(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    apps.get_model("directory", "DirectoryVersion").objects.create(id=1, token=0)
    version.create_triggers(schema_editor.connection, stamp=False)


def drop_triggers(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    version.drop_triggers(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0006_meeting_mode_zone_when"),
    ]

    operations = [
        migrations.CreateModel(
            name="DirectoryVersion",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("token", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(create_triggers, drop_triggers, elidable=False),
    ]
