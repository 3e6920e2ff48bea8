"""The referral Task's state machine, as in the HL7 Gravity SDOH referral guide.

The requester (the referring team) drafts, requests, cancels and marks entered-in-error;
the performer (the receiving organisation) accepts, rejects, starts, holds, fails and
completes. A referral to a meeting or group has no receiving organisation, so the
referring team records the performer's steps as the person reports them.
"""

import datetime

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser

from recoverybridge.accounts import access
from recoverybridge.care.models import Referral, TaskStatus
from recoverybridge.organisations.models import Organisation

S = TaskStatus

REQUESTER_STATUSES = frozenset({S.DRAFT, S.REQUESTED, S.CANCELLED, S.ENTERED_IN_ERROR})
PERFORMER_STATUSES = frozenset({S.ACCEPTED, S.REJECTED, S.IN_PROGRESS, S.ON_HOLD, S.FAILED, S.COMPLETED})

TERMINAL = frozenset({S.REJECTED, S.CANCELLED, S.FAILED, S.COMPLETED, S.ENTERED_IN_ERROR})

TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.REQUESTED, S.CANCELLED, S.ENTERED_IN_ERROR}),
    S.REQUESTED: frozenset({S.ACCEPTED, S.REJECTED, S.IN_PROGRESS, S.CANCELLED, S.ENTERED_IN_ERROR}),
    S.ACCEPTED: frozenset({S.IN_PROGRESS, S.ON_HOLD, S.COMPLETED, S.FAILED, S.CANCELLED, S.ENTERED_IN_ERROR}),
    S.IN_PROGRESS: frozenset({S.ON_HOLD, S.COMPLETED, S.FAILED, S.CANCELLED, S.ENTERED_IN_ERROR}),
    S.ON_HOLD: frozenset({S.IN_PROGRESS, S.COMPLETED, S.FAILED, S.CANCELLED, S.ENTERED_IN_ERROR}),
    # A finished referral can still be found to have been entered in error.
    S.REJECTED: frozenset({S.ENTERED_IN_ERROR}),
    S.CANCELLED: frozenset({S.ENTERED_IN_ERROR}),
    S.FAILED: frozenset({S.ENTERED_IN_ERROR}),
    S.COMPLETED: frozenset({S.ENTERED_IN_ERROR}),
    S.ENTERED_IN_ERROR: frozenset(),
}


def allowed_statuses(
    actor: AbstractBaseUser | AnonymousUser | Organisation | None,
    referral: Referral,
    now: datetime.datetime | None = None,
) -> set[str]:
    """The Task statuses this actor (a user, or an organisation through its API token) may move
    the referral to from where it is now."""
    allowed: set[str] = set()
    if isinstance(actor, Organisation):
        if Referral.objects.received_by([actor.pk], now).filter(pk=referral.pk).exists():
            allowed |= PERFORMER_STATUSES
    else:
        if access.can(actor, "referral.request", referral):
            allowed |= REQUESTER_STATUSES
        if access.can(actor, "referral.perform", referral, now=now):
            allowed |= PERFORMER_STATUSES
    return allowed & TRANSITIONS[referral.status]
