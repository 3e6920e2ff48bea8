"""Admin permissions and log entries name the moved models by content type: relabel care's
rows so that they follow the models, rather than leaving them behind as stale ones."""

from django.db import migrations

MOVED = ("organisation", "team")


def relabel(apps, schema_editor):  # type: ignore[no-untyped-def]
    content_type = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        if not content_type.objects.filter(app_label="organisations", model=model).exists():
            content_type.objects.filter(app_label="care", model=model).update(app_label="organisations")


def unlabel(apps, schema_editor):  # type: ignore[no-untyped-def]
    content_type = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        if not content_type.objects.filter(app_label="care", model=model).exists():
            content_type.objects.filter(app_label="organisations", model=model).update(app_label="care")


class Migration(migrations.Migration):
    dependencies = [
        ("organisations", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(relabel, unlabel)]
