"""Counting SMS segments as carriers bill them: GSM-7 (160 alone, 153 a part, extension table
characters counting two and never split) and UCS-2 (70 alone, 67 a part, a character outside the
Basic Multilingual Plane counting two and never split)."""

import pytest

from recoverybridge.messaging.segments import count, is_gsm, to_gsm


@pytest.mark.parametrize(
    ("text", "encoding", "segments", "units"),
    [
        ("", "GSM-7", 1, 0),
        ("a" * 160, "GSM-7", 1, 160),
        ("a" * 161, "GSM-7", 2, 161),
        ("a" * 306, "GSM-7", 2, 306),
        ("a" * 307, "GSM-7", 3, 307),
        # Extension table: two septets each.
        ("€" * 80, "GSM-7", 1, 160),
        ("[" * 81, "GSM-7", 2, 162),
        # An escape pair is not split: 152 + the two septets of "{" do not fit one part of 153.
        ("a" * 152 + "{" + "a" * 152, "GSM-7", 3, 306),
        # Spanish letters in GSM-7: é ñ ü ¿ ¡, and no others.
        ("¿Qué año? ¡Pingüino!", "GSM-7", 1, 20),
        ("Reunión", "UCS-2", 1, 7),
        ("á" * 70, "UCS-2", 1, 70),
        ("á" * 71, "UCS-2", 2, 71),
        ("á" * 134, "UCS-2", 2, 134),
        ("á" * 135, "UCS-2", 3, 135),
        # An emoji is two UTF-16 units and is not split either: 66 + 2 does not fit 67.
        ("😀" * 35, "UCS-2", 1, 70),
        ("a" * 66 + "😀" + "a" * 66, "UCS-2", 3, 134),
        # One curly apostrophe makes the whole text UCS-2.
        ("St Mary’s " + "a" * 60, "UCS-2", 1, 70),  # noqa: RUF001
    ],
)
def test_count(text, encoding, segments, units):
    found = count(text)
    assert (found.encoding, found.count, found.units) == (encoding, segments, units)


def test_look_alikes_bring_a_text_back_to_gsm_7():
    assert to_gsm("Reunión en línea – “Sesión de la mañana”… St Mary’s • ça") == (  # noqa: RUF001
        'Reunion en linea - "Sesion de la mañana"... St Mary\'s - ca'
    )
    assert is_gsm(to_gsm("Quinta sesión, miércoles, 18:30, música"))
    # What has no look-alike stays: lower-case Greek (GSM-7 has only capitals), an emoji.
    assert to_gsm("ΩΛ Λόγος 😀") == "ΩΛ Λόγος 😀"
    assert not is_gsm(to_gsm("😀"))
