"""The take-away list: the options the person looked at with their worker, as a PDF in the
person's own language, to keep. Meeting times are in their own time zone (with the meeting's
zone alongside when it differs, for online meetings elsewhere), dates as their region writes
them. It carries no name, date of birth or contact details, so a lost copy tells a finder
nothing about who it was printed for.

WeasyPrint renders it from a template (care/takeaway.html) with the fonts the system has."""

import datetime

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation

from recoverybridge.care.models import MUTUAL_AID, Referral
from recoverybridge.care.queries import referral_options
from recoverybridge.care.times import format_locale, meeting_time
from recoverybridge.directory.models import AttendanceMode
from recoverybridge.directory.timing import zone


def language_for(code: str) -> str:
    """The person's language if the site speaks it, else the default."""
    spoken = {code for code, _name in settings.LANGUAGES}
    return code if code in spoken else settings.LANGUAGE_CODE


def takeaway_pdf(referral: Referral, now: datetime.datetime | None = None) -> bytes:
    now = now or timezone.now()
    zone_name = referral.person.zone_name
    language = language_for(referral.person.preferred_language)
    locale = format_locale(zone_name, language)
    options = referral_options(referral)
    # The person's language, with their region's date and time formats (en-gb, es-mx...).
    with translation.override(locale):
        rows = [
            {
                "meeting": option.meeting,
                "chosen": option.chosen,
                "time": meeting_time(option.meeting, zone_name, now, locale),
                "online": option.meeting.attendance_mode in (AttendanceMode.ONLINE, AttendanceMode.HYBRID),
                "in_person": option.meeting.attendance_mode != AttendanceMode.ONLINE,
                "languages": [
                    a.name_in(language) for a in option.meeting.attributes.all() if a.category == "language"
                ],
            }
            for option in options
        ]
        html = render_to_string(
            "care/takeaway.html",
            {
                "language": language,
                "referral": referral,
                "service": referral.target_kind not in MUTUAL_AID,
                "chosen": [r for r in rows if r["chosen"]],
                "others": [r for r in rows if not r["chosen"]],
                "printed_on": timezone.localdate(now, timezone=zone(zone_name)),
            },
        )
    # Imported here so the rest of the site runs on a machine without pango.
    from weasyprint import HTML

    pdf: bytes = HTML(string=html).write_pdf()
    return pdf
