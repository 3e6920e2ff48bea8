from typing import Any

from django.db import migrations

from recoverybridge.directory.vocabulary import load_vocabulary


def forwards(apps: Any, schema_editor: Any) -> None:
    load_vocabulary(
        apps.get_model("directory", "Fellowship"),
        apps.get_model("directory", "Attribute"),
        apps.get_model("directory", "AttributeMapping"),
    )


class Migration(migrations.Migration):
    dependencies = [("directory", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
