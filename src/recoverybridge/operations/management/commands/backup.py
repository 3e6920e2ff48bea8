"""Write an encrypted backup of the database (BACKUP_KEY from the environment)."""

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from recoverybridge.operations import backups


class Command(BaseCommand):
    help = "Back the database up, encrypted with BACKUP_KEY (docs/operations.md, Backups)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--output", type=Path, help="The backup file (default: BACKUP_DIR or var/backups)."
        )
        parser.add_argument("--new-key", action="store_true", help="Print a new BACKUP_KEY and stop.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["new_key"]:
            self.stdout.write(backups.new_key())
            return
        path = options["output"] or backups.default_path()
        try:
            facts = backups.backup(path)
        except backups.BackupError as error:
            raise CommandError(str(error)) from None
        total = sum(facts["rows"].values())
        self.stdout.write(f"Backed up {total} rows in {len(facts['rows'])} tables to {path}.")
