"""When the directory last changed, set by the version triggers with the token: the public
answers' Last-Modified (directory/caching.py)."""

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps
from django.utils import timezone

from recoverybridge.directory import version


def stamping_triggers(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    version.drop_triggers(schema_editor.connection)
    version.create_triggers(schema_editor.connection, stamp=True)
    apps.get_model("directory", "DirectoryVersion").objects.filter(id=1).update(changed_at=timezone.now())


def plain_triggers(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    version.drop_triggers(schema_editor.connection)
    version.create_triggers(schema_editor.connection, stamp=False)


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0008_booklet"),
    ]

    operations = [
        migrations.AddField(
            model_name="directoryversion",
            name="changed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(stamping_triggers, plain_triggers, elidable=False),
    ]
