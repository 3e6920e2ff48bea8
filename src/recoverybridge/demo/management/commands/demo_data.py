"""Everything `make demo` needs, and safe to run again: vocabulary, a synthetic directory, real feeds."""

import os
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand

from recoverybridge.demo.evaluation import load_demo_evaluation
from recoverybridge.demo.sources import load_demo_sources
from recoverybridge.directory.generate import FEED_NAME, generate_directory
from recoverybridge.directory.models import MeetingSource

# Real Meeting Guide feeds in ../shared/data/feeds/meeting-guide: file stem -> fellowship.
SHARED_FEEDS = {"sussexaa": "aa", "al-anon": "al-anon", "eda": "eda", "kc": "aa"}


class Command(BaseCommand):
    help = "Load the vocabulary, a synthetic directory (once) and the shared real feeds; idempotent."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--meetings", type=int, default=5000, help="Size of the synthetic directory.")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--shared", type=Path, help="The shared folder (../shared) with real feeds.")

    def handle(self, *args: Any, **options: Any) -> None:
        call_command("load_vocabulary", verbosity=0)
        self.stdout.write("Vocabulary loaded.")
        self.synthetic(options["meetings"], options["seed"])
        if options["shared"] is not None:
            self.real_feeds(options["shared"] / "data" / "feeds" / "meeting-guide")
            # Beside them (`make demo`), feed sources on schedules, one held for an editor and one
            # failing: /editor/sources/. Their files go to var/demo-feeds/.
            feeds = settings.PROJECT_DIR / "var" / "demo-feeds"
            self.stdout.write(load_demo_sources(feeds, list(SHARED_FEEDS)))
        self.admin_user()
        # Demo care records refer people to the meetings loaded above.
        call_command("demo_care", stdout=self.stdout)
        # Evaluation demo people on the demo care teams, so the evaluation report has data.
        self.stdout.write(load_demo_evaluation())

    def synthetic(self, meetings: int, seed: int) -> None:
        existing = MeetingSource.objects.filter(feed_source__name=FEED_NAME).count()
        if existing:
            self.stdout.write(f"Synthetic directory already there ({existing} meetings): left as it is.")
            return
        result = generate_directory(meetings, seed)
        self.stdout.write(f"Generated a synthetic directory of {result['created']} meetings.")

    def real_feeds(self, folder: Path) -> None:
        if not folder.is_dir():
            self.stdout.write(f"No real feeds at {folder}: skipped.")
            return
        if "import_feed" not in get_commands():
            self.stdout.write("The import_feed command is not available: real feeds skipped.")
            return
        for stem, fellowship in SHARED_FEEDS.items():
            path = folder / f"{stem}.json"
            if not path.is_file():
                self.stdout.write(f"{path} is missing: skipped.")
                continue
            self.stdout.write(f"Importing {path.name} ({fellowship})...")
            call_command(
                "import_feed", "--format", "meeting-guide", "--source", stem, str(path),
                "--fellowship", fellowship, "--no-progress", stdout=self.stdout, stderr=self.stderr,
            )  # fmt: skip

    def admin_user(self) -> None:
        """Only with DEMO_ADMIN_PASSWORD in the environment: never a password written down here."""
        password = os.environ.get("DEMO_ADMIN_PASSWORD")
        if not password:
            self.stdout.write("No DEMO_ADMIN_PASSWORD set: no demo admin user.")
            return
        username = os.environ.get("DEMO_ADMIN_USER", "admin")
        users = get_user_model()
        user = users.objects.filter(username=username).first() or users(username=username)
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        self.stdout.write(f"Demo admin user {username!r} ready (password from DEMO_ADMIN_PASSWORD).")
