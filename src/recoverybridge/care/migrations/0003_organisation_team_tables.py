"""Organisations and teams move to the ground floor's `organisations` app (first of three steps).

The tables are renamed here, keeping every row and every foreign key pointing at them; the
`organisations` app then takes the models over in its state only, and 0004 drops them from this
app's state. Nothing is copied or deleted.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("care", "0002_alter_consent_purpose")]

    operations = [
        migrations.AlterModelTable(name="organisation", table="organisations_organisation"),
        migrations.AlterModelTable(name="team", table="organisations_team"),
    ]
