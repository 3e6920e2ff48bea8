"""`{% booklet_links lat lon %}`: links to the printed booklets of the area around a place, for the
finder's pages (directory/_booklet_links.html; nothing when no booklet covers the place)."""

from typing import Any

from django import template
from django.utils.translation import get_language

from recoverybridge.directory.booklets import booklets_for_place

register = template.Library()


@register.inclusion_tag("directory/_booklet_links.html")
def booklet_links(latitude: float | None, longitude: float | None) -> dict[str, Any]:
    # The reader's own language first.
    language = get_language() or ""
    found = booklets_for_place(latitude, longitude)
    return {"booklets": sorted(found, key=lambda b: (b.language != language[:2], b.title, b.large_print))}
