"""Issue an organisation's API token for the FHIR Task API; prints it once."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from recoverybridge.accounts.actions import issue_api_token
from recoverybridge.organisations.models import Organisation


class Command(BaseCommand):
    help = (
        "Issue a new API token for an organisation (by id or exact name) and print it once. "
        "Any earlier token of the organisation stops working."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("organisation", help="the organisation's id or exact name")

    def handle(self, *args: Any, **options: Any) -> None:
        given: str = options["organisation"]
        found = Organisation.objects.filter(name=given)
        if given.isdigit():
            found = found | Organisation.objects.filter(pk=int(given))
        organisations = list(found)
        if len(organisations) != 1:
            raise CommandError(f"No single organisation is called or numbered {given!r}.")
        token = issue_api_token(organisations[0])
        self.stderr.write(f"API token for {organisations[0].name} (shown once; store it now):")
        self.stdout.write(token)
