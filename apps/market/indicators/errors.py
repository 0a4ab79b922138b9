"""Error type shared by the indicator package."""

from __future__ import annotations


class IndicatorError(ValueError):
    """Invalid indicator request; ``field`` names the offending input or parameter.

    The API layer turns this into an HTTP 400 of the form ``{field: [message]}``.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
