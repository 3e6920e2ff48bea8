from typing import Any

from django.db import migrations

from recoverybridge.directory.vocabulary import load_vocabulary


def forwards(apps: Any, schema_editor: Any) -> None:
    # Families Anonymous, CRAFT family groups, the "family and friends" attribute and the codes
    # feeds use for it; load_vocabulary is idempotent.
    load_vocabulary(
        apps.get_model("directory", "Fellowship"),
        apps.get_model("directory", "Attribute"),
        apps.get_model("directory", "AttributeMapping"),
    )


class Migration(migrations.Migration):
    dependencies = [("directory", "0008_booklet")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
