"""Replace the database's contents with an encrypted backup, then prove what came back."""

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from recoverybridge.operations import backups


class Command(BaseCommand):
    help = (
        "Restore a backup over the current database (stop the web and worker processes first), "
        "then check every table's rows and the audit chain."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("backup", type=Path)
        parser.add_argument("--yes", action="store_true", help="Do not ask before replacing the data.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["backup"]
        if not path.is_file():
            raise CommandError(f"No backup at {path}.")
        if (
            not options["yes"]
            and input("This replaces every row of the database. Type 'restore': ") != "restore"
        ):
            raise CommandError("Nothing restored.")
        try:
            restored = backups.restore(path)
        except backups.BackupError as error:
            raise CommandError(str(error)) from None
        differ = {
            table: (restored.facts["rows"].get(table), restored.rows.get(table))
            for table in set(restored.rows) | set(restored.facts["rows"])
            if restored.rows.get(table) != restored.facts["rows"].get(table)
        }
        for table, (expected, found) in sorted(differ.items()):
            self.stderr.write(f"{table}: {found} rows, the backup had {expected}")
        chain = "intact" if restored.audit_chain_intact else "BROKEN (run verify_audit)"
        self.stdout.write(
            f"Restored the backup made {restored.facts['made_at']}: "
            f"{sum(restored.rows.values())} rows, {len(differ)} tables differ; audit chain {chain} "
            f"({restored.audit_events} sealed events)."
        )
        if differ or not restored.audit_chain_intact:
            raise CommandError("The restored database is not what the backup held.")
