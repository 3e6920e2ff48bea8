"""`{% booklet_links lat lon %}`: links to the printed booklets of the area around a place, for the
finder's pages (directory/_booklet_links.html; nothing when no booklet covers the place)."""

from typing import Any

from django import template
from django.utils.translation import get_language

from recoverybridge.directory.booklets import booklets_for_place, reader_first

register = template.Library()


@register.inclusion_tag("directory/_booklet_links.html")
def booklet_links(latitude: float | None, longitude: float | None) -> dict[str, Any]:
    return {"booklets": reader_first(booklets_for_place(latitude, longitude), get_language() or "")}
