class InvalidParameter(ValueError):
    """A request or command parameter that cannot be used; says which and why."""

    def __init__(self, parameter: str, reason: str) -> None:
        super().__init__(f"{parameter}: {reason}")
        self.parameter = parameter
        self.reason = reason


class NotFound(InvalidParameter):
    """The parameter names nothing that exists (the API answers 404, not 400)."""
