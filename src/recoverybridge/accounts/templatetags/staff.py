"""Template helpers for every staff page: whether to offer a part of the system (menus)."""

from django import template

from recoverybridge.accounts import access

register = template.Library()


@register.simple_tag
def may(user: access.User, capability: str) -> bool:
    """`{% may request.user "evaluation.view" as evaluates %}`: access.may, for menus."""
    return access.may(user, capability)
