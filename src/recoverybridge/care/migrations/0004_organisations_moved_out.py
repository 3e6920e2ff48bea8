"""Organisations and teams move to the ground floor (last of three steps): care's foreign keys
point at `organisations` in Django's state (the database constraints already do, since 0003
renamed the tables they reference) and the two models leave care's state."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("care", "0003_organisation_team_tables"),
        ("organisations", "0001_initial"),
        ("accounts", "0003_membership_team_in_organisations"),
        ("audit", "0004_actor_organisation_in_organisations"),
        ("outcomes", "0002_schedule_organisation_in_organisations"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="person",
                    name="team",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="people",
                        to="organisations.team",
                    ),
                ),
                migrations.AlterField(
                    model_name="referral",
                    name="team",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="referrals",
                        to="organisations.team",
                    ),
                ),
                migrations.AlterField(
                    model_name="referral",
                    name="target_organisation",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="referrals_received",
                        to="organisations.organisation",
                    ),
                ),
                migrations.AlterField(
                    model_name="consent",
                    name="recipient",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="consents_received",
                        to="organisations.organisation",
                        verbose_name="recipient",
                    ),
                ),
                migrations.DeleteModel(name="Team"),
                migrations.DeleteModel(name="Organisation"),
            ],
            database_operations=[],
        )
    ]
