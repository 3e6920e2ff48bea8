from typing import Any

from django.db import migrations

from recoverybridge.directory.vocabulary import load_vocabulary


def forwards(apps: Any, schema_editor: Any) -> None:
    # Adds the NA formats and the BMLT and HSDS code mappings; load_vocabulary is idempotent.
    load_vocabulary(
        apps.get_model("directory", "Fellowship"),
        apps.get_model("directory", "Attribute"),
        apps.get_model("directory", "AttributeMapping"),
    )


class Migration(migrations.Migration):
    dependencies = [("directory", "0002_vocabulary")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
