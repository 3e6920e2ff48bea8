"""Organisation and Team, taken over from `care` (its migration 0003 renamed the tables to
ours): in Django's state only, the database already holds them with their rows."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [("care", "0003_organisation_team_tables")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Organisation",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("name", models.CharField(max_length=200, unique=True, verbose_name="name")),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("treatment", "Treatment service"),
                                    ("primary_care", "Primary care"),
                                    ("criminal_justice", "Criminal justice"),
                                    ("housing", "Housing"),
                                    ("peer_recovery", "Peer or recovery organisation"),
                                    ("commissioner", "Commissioner"),
                                ],
                                max_length=24,
                                verbose_name="kind",
                            ),
                        ),
                        ("area", models.CharField(blank=True, max_length=120, verbose_name="area")),
                        ("api_token_hash", models.CharField(blank=True, db_index=True, max_length=64)),
                    ],
                    options={
                        "verbose_name": "organisation",
                        "verbose_name_plural": "organisations",
                        "ordering": ["name"],
                    },
                ),
                migrations.CreateModel(
                    name="Team",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("name", models.CharField(max_length=200, verbose_name="name")),
                        ("area", models.CharField(blank=True, max_length=120, verbose_name="area")),
                        (
                            "organisation",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="teams",
                                to="organisations.organisation",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "team",
                        "verbose_name_plural": "teams",
                        "ordering": ["organisation__name", "name"],
                        "constraints": [
                            models.UniqueConstraint(fields=("organisation", "name"), name="unique_team_name")
                        ],
                    },
                ),
            ],
            database_operations=[],
        )
    ]
