"""The take-away list: the options the person looked at with their worker, as a PDF in the
person's own language, to keep. It carries no name, date of birth or contact details, so a
lost copy tells a finder nothing about who it was printed for.

WeasyPrint renders it from a template (care/takeaway.html) with the fonts the system has."""

import datetime

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation

from recoverybridge.care.models import Referral, ReferralTargetKind
from recoverybridge.care.queries import referral_options
from recoverybridge.directory.models import AttendanceMode
from recoverybridge.directory.timing import schedule_text

MUTUAL_AID = {ReferralTargetKind.MEETING, ReferralTargetKind.FELLOWSHIP}


def language_for(code: str) -> str:
    """The person's language if the site speaks it, else the default."""
    spoken = {code for code, _name in settings.LANGUAGES}
    return code if code in spoken else settings.LANGUAGE_CODE


def takeaway_pdf(referral: Referral, now: datetime.datetime | None = None) -> bytes:
    language = language_for(referral.person.preferred_language)
    options = referral_options(referral)
    with translation.override(language):
        rows = [
            {
                "meeting": option.meeting,
                "chosen": option.chosen,
                "schedule": schedule_text(option.meeting),
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
                "printed_on": timezone.localdate(now or timezone.now()),
            },
        )
    # Imported here so the rest of the site runs on a machine without pango.
    from weasyprint import HTML

    pdf: bytes = HTML(string=html).write_pdf()
    return pdf
