"""Dates as the person's region writes them: {{ day|long_date:locale }} ("Thursday, 14 Mar 2026")."""

import datetime

from django import template

from recoverybridge.care.times import long_date as long_date_text

register = template.Library()


@register.filter
def long_date(day: datetime.date | None, locale: str) -> str:
    return long_date_text(day, locale) if day else ""
