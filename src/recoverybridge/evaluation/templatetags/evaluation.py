"""Template helpers for the evaluation pages: the balance flag."""

from typing import Any

from django import template

from recoverybridge.evaluation.reading import BALANCE_LIMIT

register = template.Library()


@register.filter
def unbalanced(cell: Any) -> bool:
    """A standardised mean difference at or above the limit (said in words, not only colour)."""
    value = getattr(cell, "value", None)
    return isinstance(value, float) and abs(value) >= BALANCE_LIMIT


@register.filter
def index(sequence: Any, position: int) -> Any:
    """The item at `position` (a table's column for the cell at that place)."""
    return sequence[position]
