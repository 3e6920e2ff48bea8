"""State changes made through the web pages: reported changes and editors' reviews.

One function per change, one transaction each. Every change to a meeting made
here is recorded as a ChangeRequest with who reviewed it and when, including
an editor's own MOUD verification, so the listing's history is in one place.
"""

from datetime import date, datetime, time
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from recoverybridge.directory.models import (
    ChangeRequest,
    ChangeRequestStatus,
    Meeting,
    MeetingStatus,
    MoudStance,
)

# Meeting fields a public report may propose, and how a JSON value becomes the field's value.
EDITABLE_FIELDS = (
    "name",
    "weekday",
    "start_time",
    "end_time",
    "conference_url",
    "conference_phone",
    "status",
)


class ReviewError(ValueError):
    """A review that cannot happen (already reviewed, bad proposed value)."""


def _field_value(name: str, value: Any) -> Any:
    if name in ("start_time", "end_time"):
        try:
            return time.fromisoformat(value) if value else None
        except (TypeError, ValueError):
            raise ReviewError(f"{name} {value!r} is not a time HH:MM") from None
    if name == "weekday":
        day = int(value) if str(value).isdecimal() else -1
        if not 0 <= day <= 6:
            raise ReviewError(f"weekday {value!r} is not 0 to 6")
        return day
    if name == "status":
        if value not in MeetingStatus.values:
            raise ReviewError(f"status {value!r} is not one of {MeetingStatus.values}")
        return value
    return str(value)


def json_value(value: Any) -> Any:
    """A form value as stored in `proposed`: times as HH:MM, the rest as is."""
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return value


@transaction.atomic
def report_change(
    meeting: Meeting, *, proposed: dict[str, Any], message: str, contact_email: str = ""
) -> ChangeRequest:
    """A visitor's report: stored for review, changes nothing yet."""
    unknown = set(proposed) - set(EDITABLE_FIELDS)
    if unknown:
        raise ReviewError(f"cannot propose a change to {sorted(unknown)}")
    return ChangeRequest.objects.create(
        meeting=meeting,
        proposed={name: json_value(value) for name, value in proposed.items()},
        message=message,
        contact_email=contact_email,
    )


def _locked_pending(change_id: int) -> ChangeRequest:
    change = ChangeRequest.objects.select_for_update().select_related("meeting").get(pk=change_id)
    if change.status != ChangeRequestStatus.PENDING:
        raise ReviewError(f"this change request was already {change.status}")
    return change


def _reviewer(user: AbstractBaseUser | AnonymousUser) -> Any:
    if not user.is_authenticated:
        raise ReviewError("reviews need a signed-in editor")
    return user


@transaction.atomic
def approve_change(
    change_id: int, *, editor: AbstractBaseUser | AnonymousUser, note: str = "", now: datetime | None = None
) -> ChangeRequest:
    """Apply the proposed values to the meeting and record who approved it and when."""
    reviewer = _reviewer(editor)
    change = _locked_pending(change_id)
    meeting = change.meeting
    changed = []
    for name, value in change.proposed.items():
        if name not in EDITABLE_FIELDS:
            raise ReviewError(f"cannot change {name!r}")
        setattr(meeting, name, _field_value(name, value))
        changed.append(name)
    if changed:
        # Validate only what changes: an old oddity elsewhere in the row must not block a fix.
        others = [f.name for f in Meeting._meta.concrete_fields if f.name not in changed]
        try:
            meeting.full_clean(exclude=others, validate_constraints=False)
        except ValidationError as error:
            raise ReviewError(
                "; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())
            ) from None
        meeting.save(update_fields=[*changed, "updated_at"])
    change.status = ChangeRequestStatus.APPROVED
    change.reviewed_by = reviewer
    change.reviewed_at = now or timezone.now()
    change.review_note = note
    change.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note"])
    return change


@transaction.atomic
def reject_change(
    change_id: int, *, editor: AbstractBaseUser | AnonymousUser, note: str = "", now: datetime | None = None
) -> ChangeRequest:
    """Close the request without touching the meeting."""
    reviewer = _reviewer(editor)
    change = _locked_pending(change_id)
    change.status = ChangeRequestStatus.REJECTED
    change.reviewed_by = reviewer
    change.reviewed_at = now or timezone.now()
    change.review_note = note
    change.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note"])
    return change


@transaction.atomic
def set_moud_stance(
    meeting_id: int,
    *,
    stance: str,
    source: str,
    verified_on: date,
    editor: AbstractBaseUser | AnonymousUser,
    now: datetime | None = None,
) -> Meeting:
    """An editor records whether a meeting welcomes people on MOUD, who said so and when."""
    reviewer = _reviewer(editor)
    if stance not in MoudStance.values:
        raise ReviewError(f"stance {stance!r} is not one of {MoudStance.values}")
    if not source.strip():
        raise ReviewError("say who said so (the source)")
    meeting = Meeting.objects.select_for_update().get(pk=meeting_id)
    previous = {
        "moud_stance": meeting.moud_stance,
        "moud_source": meeting.moud_source,
        "moud_verified_on": meeting.moud_verified_on.isoformat() if meeting.moud_verified_on else None,
    }
    meeting.moud_stance = stance
    meeting.moud_source = source.strip()
    meeting.moud_verified_on = verified_on
    meeting.save(update_fields=["moud_stance", "moud_source", "moud_verified_on", "updated_at"])
    ChangeRequest.objects.create(
        meeting=meeting,
        proposed={
            "moud_stance": stance,
            "moud_source": meeting.moud_source,
            "moud_verified_on": verified_on.isoformat(),
        },
        message=f"MOUD stance set by an editor; was {previous}",
        status=ChangeRequestStatus.APPROVED,
        reviewed_by=reviewer,
        reviewed_at=now or timezone.now(),
    )
    return meeting
