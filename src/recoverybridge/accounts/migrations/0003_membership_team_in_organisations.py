"""Membership.team points at the ground floor's Team (moved from care; the table and its rows
are the same, so this changes Django's state only)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_initial"), ("organisations", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="membership",
                    name="team",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="memberships",
                        to="organisations.team",
                    ),
                )
            ],
            database_operations=[],
        )
    ]
