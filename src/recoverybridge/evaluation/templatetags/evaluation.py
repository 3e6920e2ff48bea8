"""Template helpers for the evaluation pages: the navigation link and the balance flag."""

from typing import Any

from django import template

from recoverybridge.accounts import access
from recoverybridge.evaluation.reading import BALANCE_LIMIT

register = template.Library()


@register.simple_tag
def may_evaluate(user: access.User) -> bool:
    return access.may_evaluate(user)


@register.filter
def unbalanced(cell: Any) -> bool:
    """A standardised mean difference at or above the limit (said in words, not only colour)."""
    value = getattr(cell, "value", None)
    return isinstance(value, float) and abs(value) >= BALANCE_LIMIT
