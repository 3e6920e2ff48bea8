"""URL converters shared by every app's URLconf (registered in recoverybridge.urls)."""

# The largest primary key the databases store (a signed 64-bit integer). A longer number in a
# URL names no record: it must be a 404, not an OverflowError from SQLite (a 500).
LARGEST_ID = 2**63 - 1


class RecordId:
    """A record's number in a URL: `<id:meeting_id>`. Like Django's `int`, but bounded."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > LARGEST_ID:
            raise ValueError("beyond the largest record number")  # no match: a 404
        return number

    def to_url(self, value: int) -> str:
        return str(value)
