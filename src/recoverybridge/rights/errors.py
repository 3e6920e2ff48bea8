"""Errors raised by rights actions; pages turn them into clear messages."""


class RequestClosed(ValueError):
    """The request was answered already (by someone else, meanwhile): nothing more to do on it."""


class NothingDelivered(ValueError):
    """An access request is answered by a copy of the record: none has been produced yet."""


class UnderLegalHold(ValueError):
    """A legal hold keeps the record: it cannot be erased or anonymised until the hold is lifted."""


class RecordGone(ValueError):
    """The person's record was erased: a copy or a correction can no longer be made."""


class ExtendedAlready(ValueError):
    """A request is given more time once."""


class TooLateToExtend(ValueError):
    """More time must be taken before the answer is due."""


class HeldAlready(ValueError):
    """One legal hold at a time."""


class NothingCorrected(ValueError):
    """An accepted correction changes something, or says what was changed elsewhere."""
