"""Who is acting, and the refusal when they may not: the start of every staff action.

Actions in every app begin with `require` (or `signed_in` where the rule is the action's own),
so a page or API that forgets to check cannot change a record, and every refusal is written to
the audit trail, in a transaction of its own so that it outlives the refused change.
"""

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db import models, transaction

from recoverybridge.accounts import access
from recoverybridge.audit import actions as audit
from recoverybridge.audit.models import AuditAction

Actor = AbstractBaseUser | AnonymousUser | None


def signed_in(actor: Actor) -> User:
    """The acting user, or PermissionDenied when nobody (or an inactive account) is signed in."""
    if actor is None or not actor.is_authenticated or not actor.is_active:
        raise PermissionDenied("Sign in first.")
    assert isinstance(actor, User)
    return actor


def deny(actor: Actor, obj: Any, person: models.Model | int | None, what: str) -> PermissionDenied:
    """Record a refused attempt to `what` (no personal data: "change this person") and return
    the error to raise."""
    with transaction.atomic():
        audit.record(actor, AuditAction.DENIED, obj, person=person, detail=what)
    return PermissionDenied(f"You may not {what}.")


def require(actor: Actor, permission: str, obj: models.Model, person: models.Model | None, what: str) -> User:
    """The acting user if `access.can` grants `permission` on `obj`; otherwise a recorded refusal."""
    user = signed_in(actor)
    if not access.can(user, permission, obj):
        raise deny(user, obj, person, what)
    return user
