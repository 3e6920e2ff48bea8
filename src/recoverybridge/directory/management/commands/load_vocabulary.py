from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from recoverybridge.directory.models import Attribute, AttributeMapping, Fellowship
from recoverybridge.directory.vocabulary import load_vocabulary


class Command(BaseCommand):
    help = "Create or update the fellowships, attributes and code mappings the directory knows."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            load_vocabulary(Fellowship, Attribute, AttributeMapping)
        self.stdout.write(
            f"{Fellowship.objects.count()} fellowships, {Attribute.objects.count()} attributes, "
            f"{AttributeMapping.objects.count()} code mappings."
        )
