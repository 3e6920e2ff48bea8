"""The restore drill's steps, run by test_backup.py in one process of its own against a database
of its own (migrated first): the real backup, restore and verify_audit commands, called as an
operator would, with what each said printed as JSON for the test to read."""

import json
import os
import sys
from io import StringIO

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.core.management.base import CommandError  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from recoverybridge.audit import triggers  # noqa: E402
from recoverybridge.audit.actions import record  # noqa: E402
from recoverybridge.audit.models import AuditEvent  # noqa: E402
from recoverybridge.organisations.models import Organisation, Team  # noqa: E402

folder = sys.argv[1]
said: dict[str, object] = {}


def run(name: str, *args: str, key: str | None = None) -> None:
    if key is not None:
        os.environ["BACKUP_KEY"] = key
    out, err = StringIO(), StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
        said[name] = {"ok": True, "out": out.getvalue()}
    except (CommandError, SystemExit) as stop:
        said[name] = {"ok": False, "out": out.getvalue() + err.getvalue() + str(stop)}
    finally:
        os.environ["BACKUP_KEY"] = KEY


def counts() -> list[int]:
    return [AuditEvent.objects.count(), Team.objects.count()]


KEY = os.environ["BACKUP_KEY"]
harbour = Organisation.objects.create(name="Harbour", kind="treatment")
Team.objects.create(organisation=harbour, name="Detox")
for n in range(10):
    record(None, "view", None, object_type="care.person", object_id=str(n))
backup = f"{folder}/drill.rbbackup"
run("backup", "backup", "--output", backup)

with transaction.atomic(), connection.cursor() as cursor:  # damage, as a superuser could
    triggers.drop(connection)
    cursor.execute("DELETE FROM audit_auditevent WHERE seq > 5")
    cursor.execute("UPDATE audit_auditevent SET detail = 'rewritten' WHERE seq = 2")
    triggers.create(connection)
    cursor.execute("DELETE FROM organisations_team")
said["damaged"] = counts()
run("verify_damaged", "verify_audit")

run("restore", "restore", backup, "--yes")
said["restored"] = counts()
run("verify_restored", "verify_audit")

run("wrong_key", "restore", backup, "--yes", key="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
data = open(backup, "rb").read()  # noqa: SIM115
open(f"{folder}/cut.rbbackup", "wb").write(data[:-10])  # noqa: SIM115
run("cut", "restore", f"{folder}/cut.rbbackup", "--yes")
changed = bytearray(data)
changed[len(changed) // 2] ^= 1
open(f"{folder}/changed.rbbackup", "wb").write(bytes(changed))  # noqa: SIM115
run("changed", "restore", f"{folder}/changed.rbbackup", "--yes")
run("no_key", "backup", "--output", f"{folder}/none.rbbackup", key="")
said["after_refusals"] = counts()
said["plain_text_in_backup"] = b"Harbour" in data
print(json.dumps(said))
