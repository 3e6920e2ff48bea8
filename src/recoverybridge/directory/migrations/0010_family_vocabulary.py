import secrets
from typing import Any

from django.db import migrations
from django.utils import timezone

from recoverybridge.directory.vocabulary import load_vocabulary


def forwards(apps: Any, schema_editor: Any) -> None:
    # Families Anonymous, CRAFT family groups, the "family and friends" attribute and the codes
    # feeds use for it; load_vocabulary is idempotent.
    load_vocabulary(
        apps.get_model("directory", "Fellowship"),
        apps.get_model("directory", "Attribute"),
        apps.get_model("directory", "AttributeMapping"),
    )
    # The historical models send no signals the version listens to, and the public answers
    # (fellowships, kinds of group, which group) change: a new token and Last-Modified.
    apps.get_model("directory", "DirectoryVersion").objects.using(schema_editor.connection.alias).filter(
        id=1
    ).update(token=secrets.randbits(62), changed_at=timezone.now())


class Migration(migrations.Migration):
    dependencies = [("directory", "0009_directory_changed_at")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
