"""Errors raised by care actions; pages and the API turn them into clear messages."""

from django.core.exceptions import PermissionDenied


class ConsentRequired(PermissionDenied):
    """Disclosing this to another organisation needs the person's active consent to refer to it."""

    def __init__(self, recipient_name: str) -> None:
        super().__init__(
            f"The person has no active consent to share this referral with {recipient_name}. "
            "Record their consent (purpose: referral, recipient: this organisation) first."
        )
        self.recipient_name = recipient_name


class InvalidTransition(ValueError):
    """The referral cannot move to that status from where it is, or not by this actor."""


class NoRecipient(ValueError):
    """The referral goes to no organisation (a meeting or group only), so there is nobody to export to."""


class DraftIncomplete(ValueError):
    """A referral draft cannot be sent yet: `problems` says which step needs what."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(message for _step, message in problems))
        self.problems = problems


class StaleVersion(ValueError):
    """An update made on an older version of the referral than the current one (If-Match)."""

    def __init__(self, expected: str, current: int) -> None:
        super().__init__(f"The Task is at version {current}, not {expected}: read it again, then update it.")
        self.expected = expected
        self.current = current
