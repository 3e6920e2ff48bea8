"""Small helpers of the finder's templates."""

from django import template

from recoverybridge.directory.timing import zone_city as city

register = template.Library()


@register.filter
def zone_city(zone_name: str) -> str:
    """{{ meeting.timezone|zone_city }}: "London", not "Europe/London"."""
    return city(zone_name)
