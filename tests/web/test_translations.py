"""Spanish throughout: every message translated, and the committed .mo matches the .po."""

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

LOCALE = Path(settings.LOCALE_PATHS[0]) / "es" / "LC_MESSAGES"


def po_entries(path: Path) -> list[dict[str, str]]:
    """msgctxt/msgid/msgid_plural/msgstr[n] of each entry; enough of the PO format for our file."""
    entries: list[dict[str, str]] = []
    current: dict[str, str] = {}
    key = ""
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        match = re.match(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d\])?) (\".*\")$", line)
        if match:
            if (
                match[1] in ("msgid", "msgctxt")
                and current.get("msgstr", current.get("msgstr[0]")) is not None
            ):
                entries.append(current)
                current = {}
            key = match[1]
            current[key] = ast.literal_eval(match[2])
        elif line.startswith('"'):
            current[key] += ast.literal_eval(line)
    if current:
        entries.append(current)
    return [entry for entry in entries if entry.get("msgid")]


def test_every_message_has_a_spanish_translation():
    entries = po_entries(LOCALE / "django.po")
    assert len(entries) > 250
    untranslated = [e["msgid"] for e in entries if not all(v for k, v in e.items() if k.startswith("msgstr"))]
    assert untranslated == []
    assert "#, fuzzy" not in (LOCALE / "django.po").read_text(encoding="utf-8")


def test_the_compiled_catalogue_says_what_the_po_says():
    with (LOCALE / "django.mo").open("rb") as handle:
        catalogue = gettext.GNUTranslations(handle)
    stale = []
    for entry in po_entries(LOCALE / "django.po"):
        context = entry.get("msgctxt")
        if "msgid_plural" in entry:
            got = catalogue.ngettext(entry["msgid"], entry["msgid_plural"], 1)
            wanted = entry["msgstr[0]"]
        elif context is not None:
            got, wanted = catalogue.pgettext(context, entry["msgid"]), entry["msgstr"]
        else:
            got, wanted = catalogue.gettext(entry["msgid"]), entry["msgstr"]
        if got != wanted:
            stale.append(entry["msgid"])
    assert stale == [], "run `manage.py compilemessages` and commit the .mo"


@pytest.mark.django_db
def test_the_browsers_language_by_default_and_the_switcher_remembers_a_choice(client: Client):
    spanish = client.get("/", headers={"accept-language": "es-MX,es;q=0.9"}).content.decode()
    assert '<html lang="es">' in spanish and "Encuentre una reunión de recuperación" in spanish
    english = client.get("/", headers={"accept-language": "en-GB"}).content.decode()
    assert '<html lang="en">' in english and "Find a recovery meeting" in english
    response = client.post("/i18n/setlang/", {"language": "es", "next": "/which-group/"})
    assert response.status_code == 302 and response["Location"] == "/which-group/"
    chosen = client.get("/which-group/", headers={"accept-language": "en"}).content.decode()
    assert "¿Qué grupo es para mí?" in chosen


@pytest.mark.django_db
def test_dates_and_times_follow_the_language(client: Client):
    from tests.factories import make_meeting

    meeting = make_meeting("aa")
    english = client.get(f"/meetings/{meeting.pk}/").content.decode()
    spanish = client.get(f"/meetings/{meeting.pk}/", headers={"accept-language": "es"}).content.decode()
    assert "7 p.m." in english
    assert "19:00" in spanish and "p.m." not in spanish
