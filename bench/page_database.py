"""A fresh, migrated database for the page benchmarks that drive Django's test client."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def fresh_page_database(name: str) -> str:
    """Configure Django on DATABASE_URL, else on a new SQLite file var/bench/<name>.sqlite3;
    migrate it, empty it (PostgreSQL keeps its database between runs) and return the vendor."""
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "recoverybridge.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["ALLOWED_HOSTS"] = "testserver"
    if "DATABASE_URL" not in os.environ:
        database = ROOT / "var" / "bench" / f"{name}.sqlite3"
        database.parent.mkdir(parents=True, exist_ok=True)
        database.unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    if connection.vendor != "sqlite":
        call_command("flush", interactive=False, verbosity=0)
    return connection.vendor
