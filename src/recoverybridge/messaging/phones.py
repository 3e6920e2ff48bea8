"""Phone numbers in one form, E.164 (+447911123456), read with Google's libphonenumber
(`phonenumbers`): a number typed the way people write it locally ("07911 123456") is read in
PHONE_REGION, one with its country code anywhere."""

import phonenumbers
from django.conf import settings
from phonenumbers import PhoneNumberFormat, PhoneNumberType

# Types of number that can receive a text. FIXED_LINE_OR_MOBILE is how North American numbers
# read (the two share ranges); UNKNOWN ones are left to the provider to refuse.
TEXTABLE = frozenset(
    {
        PhoneNumberType.MOBILE,
        PhoneNumberType.FIXED_LINE_OR_MOBILE,
        PhoneNumberType.PERSONAL_NUMBER,
        PhoneNumberType.UNKNOWN,
    }
)


class InvalidNumber(ValueError):
    """Not a phone number that can be dialled."""


def _parse(number: str, region: str | None = None) -> phonenumbers.PhoneNumber:
    try:
        parsed = phonenumbers.parse(number, region or settings.PHONE_REGION)
    except phonenumbers.NumberParseException as error:
        raise InvalidNumber(str(number)) from error
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidNumber(str(number))
    return parsed


def normalise(number: str, region: str | None = None) -> str:
    """The number in E.164 form, or InvalidNumber."""
    return phonenumbers.format_number(_parse(number, region), PhoneNumberFormat.E164)


def can_receive_texts(number: str) -> bool:
    """Whether the number is of a kind that takes text messages (a mobile, not a landline)."""
    try:
        return phonenumbers.number_type(_parse(number)) in TEXTABLE
    except InvalidNumber:
        return False


def readable(number: str) -> str:
    """The number grouped as people read it (+44 7911 123456); as given when it is not valid."""
    try:
        return phonenumbers.format_number(_parse(number), PhoneNumberFormat.INTERNATIONAL)
    except InvalidNumber:
        return number


def example() -> tuple[str, str]:
    """A mobile number of PHONE_REGION as people write it there, and with its country code, for
    a form's error message: ("07400 123456", "+44 7400 123456") for GB."""
    sample = phonenumbers.example_number_for_type(settings.PHONE_REGION, PhoneNumberType.MOBILE)
    if sample is None:
        return "", "+44 7400 123456"
    return (
        phonenumbers.format_number(sample, PhoneNumberFormat.NATIONAL),
        phonenumbers.format_number(sample, PhoneNumberFormat.INTERNATIONAL),
    )


def masked(number: str) -> str:
    """Only the last three digits, for pages that confirm which number a text went to."""
    digits = [c for c in number if c.isdigit()]
    return "•••• " + "".join(digits[-3:]) if len(digits) > 3 else "••••"
