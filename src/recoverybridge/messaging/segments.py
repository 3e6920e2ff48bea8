"""How many SMS segments a text takes, and how to make it take fewer.

A text message travels in segments of 140 bytes. Written only with the GSM 03.38 alphabet
(GSM-7), a lone segment holds 160 characters and each part of a longer message 153 (the rest
is the header that joins them); a character of the extension table (^ { } [ ] ~ | € \\ and form
feed) costs two. One character outside GSM-7 turns the whole message into UCS-2: 70 units
alone, 67 a part, where a character outside the Basic Multilingual Plane (an emoji) costs two.
A part never ends half-way through a two-unit character. This is how Twilio and the carriers
count, and what a person pays for.
"""

import unicodedata
from dataclasses import dataclass

GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = frozenset("\f^{}\\[~]|€")
GSM7, UCS2 = "GSM-7", "UCS-2"
# (one segment alone, each part of a longer message), in septets or UTF-16 units.
CAPACITY = {GSM7: (160, 153), UCS2: (70, 67)}

# Look-alikes for characters that would otherwise force UCS-2 (what Twilio calls smart
# encoding): typographic quotes and dashes. Accented letters lose their accent through
# Unicode decomposition (á → a) when the plain letter is GSM-7; é, ñ, ü and friends are GSM-7.
LOOK_ALIKES = {
    # quotation marks and primes
    **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032", "'"),
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb", '"'),
    # hyphens, dashes and bullets
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2022\u00b7", "-"),
}


@dataclass(frozen=True)
class Segments:
    encoding: str  # GSM-7 or UCS-2
    count: int  # segments the text is sent (and billed) as
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)


def is_gsm(text: str) -> bool:
    return all(c in GSM_BASIC or c in GSM_EXTENSION for c in text)


def count(text: str) -> Segments:
    if is_gsm(text):
        encoding, costs = GSM7, [2 if c in GSM_EXTENSION else 1 for c in text]
    else:
        encoding, costs = UCS2, [len(c.encode("utf-16-le")) // 2 for c in text]
    alone, part = CAPACITY[encoding]
    units = sum(costs)
    if units <= alone:
        return Segments(encoding, 1, units)
    segments, used = 1, 0
    for cost in costs:
        if used + cost > part:
            segments, used = segments + 1, 0
        used += cost
    return Segments(encoding, segments, units)


def _plain(char: str) -> str:
    if char in GSM_BASIC or char in GSM_EXTENSION:
        return char
    if char in LOOK_ALIKES:
        return LOOK_ALIKES[char]
    stripped = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    return stripped if stripped and is_gsm(stripped) else char


def to_gsm(text: str) -> str:
    """The text with each character that has a GSM-7 look-alike replaced by it (a curly quote by
    ', a dash by -, á by a, an ellipsis by ...); characters without one (most scripts other than
    Latin, emoji) are kept."""
    return "".join(_plain(c) for c in text)
