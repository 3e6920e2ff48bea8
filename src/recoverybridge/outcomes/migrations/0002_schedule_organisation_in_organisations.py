"""OutcomeSchedule.organisation points at the ground floor's Organisation (moved from care;
same table, same rows): Django's state only."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("outcomes", "0001_initial"), ("organisations", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="outcomeschedule",
                    name="organisation",
                    field=models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="outcome_schedule",
                        to="organisations.organisation",
                    ),
                )
            ],
            database_operations=[],
        )
    ]
