"""Shared by the outcome page tests (tests/outcomes/test_pages_*.py): the care world (Bob on
Pat's Detox team, Dave on the Community team with Quinn, Nina at another organisation with
Rowan, Alice managing Detox), answers, and helpers to sign in and read the audit trail."""

import datetime

from django.test import Client
from django.utils import timezone

from recoverybridge.audit.models import AuditAction, AuditEvent

ALL_FIVES = {f"barc-{n}": "5" for n in range(1, 11)}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def views_of(person) -> int:
    return AuditEvent.objects.filter(action=AuditAction.VIEW, person_id=person.pk).count()


def barc_post(answers: dict[str, str], **extra: str) -> dict[str, str]:
    data = {f"a_{link}": value for link, value in answers.items()}
    data.update(extra)
    return data


def months_ago(months: int) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=30 * months)
