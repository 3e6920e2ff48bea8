"""Run by test_moved_models.py in a process of its own, against a database of its own:
`before` migrates to the last state where care held Organisation and Team and writes rows that
refer to them from every app; `after` runs every migration and prints what became of them."""

import json
import sys

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.migrations.executor import MigrationExecutor  # noqa: E402

BEFORE = [
    ("care", "0002_alter_consent_purpose"),
    ("accounts", "0002_initial"),
    ("audit", "0003_append_only_trigger"),
    ("outcomes", "0001_initial"),
    ("auth", "0012_alter_user_first_name_max_length"),
]


def before() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    model = apps.get_model
    harbour = model("care", "Organisation").objects.create(name="Harbour", kind="treatment", area="North")
    bridge = model("care", "Organisation").objects.create(name="Bridge", kind="peer_recovery")
    detox = model("care", "Team").objects.create(organisation=harbour, name="Detox")
    user = model("auth", "User").objects.create(username="bob")
    model("accounts", "Membership").objects.create(user=user, team=detox, role="peer_worker")
    person = model("care", "Person").objects.create(team=detox, reference="RB-TEST0001", given_name="Pat")
    consent = model("care", "Consent").objects.create(
        person=person, purpose="referral", recipient=bridge, given_at="2026-01-01T00:00:00Z"
    )
    model("care", "Referral").objects.create(
        person=person,
        team=detox,
        referred_by=user,
        target_kind="other_service",
        target_organisation=bridge,
        consent=consent,
        status="requested",
        authored_on="2026-01-02T00:00:00Z",
    )
    model("audit", "AuditEvent").objects.create(
        at="2026-01-02T00:00:00Z", actor_organisation=bridge, action="view", object_type="care.referral"
    )
    model("outcomes", "OutcomeSchedule").objects.create(organisation=harbour, months=[3], instruments=[])
    content_type = model("contenttypes", "ContentType").objects.create(app_label="care", model="organisation")
    model("auth", "Permission").objects.create(
        content_type=content_type, codename="view_organisation", name="Can view organisation"
    )


def after() -> None:
    call_command("migrate", verbosity=0)
    from django.contrib.auth.models import Permission

    from recoverybridge.accounts.models import Membership
    from recoverybridge.audit.models import AuditEvent
    from recoverybridge.care.models import Person, Referral
    from recoverybridge.organisations.models import Organisation, Team
    from recoverybridge.outcomes.models import OutcomeSchedule

    person = Person.objects.select_related("team__organisation").get(reference="RB-TEST0001")
    referral = Referral.objects.select_related("target_organisation", "consent__recipient").get()
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        person_keys = connection.introspection.get_relations(cursor, "care_person")
    print(
        json.dumps(
            {
                "organisations": sorted(Organisation.objects.values_list("name", flat=True)),
                "teams": [str(team) for team in Team.objects.all()],
                "person_team": str(person.team),
                "referred_to": referral.target_organisation.name,
                "consent_recipient": referral.consent.recipient.name,
                "member_of": str(Membership.objects.get().team),
                "audit_actor_organisation": AuditEvent.objects.get().actor_organisation.name,
                "schedule_of": OutcomeSchedule.objects.get().organisation.name,
                "permission_app": Permission.objects.get(codename="view_organisation").content_type.app_label,
                "old_tables": sorted(t for t in tables if t in ("care_organisation", "care_team")),
                "person_team_table": person_keys["team_id"][1],
            }
        )
    )


if __name__ == "__main__":
    {"before": before, "after": after}[sys.argv[1]]()
