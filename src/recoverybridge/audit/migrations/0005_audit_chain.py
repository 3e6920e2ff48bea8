"""The tamper-evident chain (audit.chain): a seal and a number on every event from now on, and
the chain's head, made here so that the first two writers never race to create it. Events
already written stay unsealed, before the chain's start; the columns are nullable so SQLite adds
them without rebuilding the table (which would lose the append-only triggers)."""

from django.conf import settings
from django.db import migrations, models


def make_head(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("audit", "ChainHead").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0004_actor_organisation_in_organisations"),
        ("organisations", "0002_content_types"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ChainHead",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("seq", models.BigIntegerField(default=0)),
                ("seal", models.CharField(blank=True, max_length=64)),
            ],
            options={
                "verbose_name": "audit chain head",
            },
        ),
        migrations.AddField(
            model_name="auditevent",
            name="seal",
            field=models.CharField(blank=True, max_length=64, null=True, verbose_name="seal"),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="seq",
            field=models.BigIntegerField(blank=True, null=True, verbose_name="sequence"),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["seq"], name="audit_seq"),
        ),
        migrations.RunPython(make_head, migrations.RunPython.noop),
    ]
