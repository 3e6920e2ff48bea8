"""{% load phones %}: phone numbers as people read them."""

from django import template

from recoverybridge.messaging import phones

register = template.Library()


@register.filter
def readable_phone(number: str) -> str:
    """+447911123456 as +44 7911 123456."""
    return phones.readable(number) if number else ""
