"""The retention rules run every day on the real task queue (`manage.py enqueue_daily`, then
`db_worker`), and from the command line, where a dry run says what would happen."""

import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from recoverybridge.care.models import Person
from recoverybridge.rights.models import RetentionRun
from tests.care_world import build_world, make_person

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
LONG_AGO = timezone.make_aware(datetime.datetime(2010, 1, 1, 12, 0))


def old_person(world) -> Person:
    person = make_person(world.detox, "RB-OLD00001", "Olga")
    Person.objects.filter(pk=person.pk).update(created_at=LONG_AGO, updated_at=LONG_AGO)
    return person


def test_the_daily_run_erases_what_is_due_on_the_real_worker():
    world = build_world()
    olga = old_person(world)
    call_command("enqueue_daily", stdout=StringIO())
    assert DBTaskResult.objects.filter(task_path="recoverybridge.rights.tasks.apply_retention").count() == 1

    call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)

    assert not Person.objects.filter(pk=olga.pk).exists()
    assert Person.objects.filter(pk=world.pat.pk).exists()
    run = RetentionRun.objects.get()
    assert not run.dry_run and run.report["erased"] == 1


def test_the_command_dry_run_and_time_travel():
    world = build_world()
    olga = old_person(world)
    out = StringIO()
    call_command("retention", "--dry-run", "--now", "2030-01-01", stdout=out)
    assert "Would do as of 2030-01-01" in out.getvalue() and "erased: 1" in out.getvalue()
    assert Person.objects.filter(pk=olga.pk).exists()
    out = StringIO()
    call_command("retention", "--now", "2015-01-01", stdout=out)  # nothing is due yet in 2015
    assert "erased: 0" in out.getvalue() and Person.objects.filter(pk=olga.pk).exists()
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("retention", "--now", "next year", stdout=StringIO())


def test_administrators_read_the_reports_in_the_admin_and_change_nothing(client):
    from django.contrib.auth.models import User

    from recoverybridge.rights import retention

    run = retention.apply(dry_run=True)
    client.force_login(User.objects.create_superuser("root", "root@example.org", "a long admin passphrase"))
    listing = client.get("/admin/rights/retentionrun/")
    assert listing.status_code == 200 and "kept_under_hold" in listing.content.decode()
    assert client.get("/admin/rights/retentionrun/add/").status_code == 403
    assert client.post(f"/admin/rights/retentionrun/{run.pk}/delete/", {"post": "yes"}).status_code == 403
    assert RetentionRun.objects.filter(pk=run.pk).exists()
