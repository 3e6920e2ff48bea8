"""Dates as the person's region writes them (care.times): {{ day|long_date:locale }} ("Thursday,
14 Mar 2026"), {{ moment|short_date:locale }} ("14 Mar 2026"; a date-time on the site's calendar)."""

import datetime

from django import template
from django.utils import timezone

from recoverybridge.care.times import format_date
from recoverybridge.care.times import long_date as long_date_text

register = template.Library()


@register.filter
def long_date(day: datetime.date | None, locale: str) -> str:
    return long_date_text(day, locale) if day else ""


@register.filter
def short_date(value: datetime.date | datetime.datetime | None, locale: str) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        value = timezone.localdate(value)
    return format_date(value, locale)
