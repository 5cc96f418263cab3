"""Errors services raise; views and the API turn them into clear messages."""

from __future__ import annotations

from typing import Any

from flask_babel import LazyString


class ServiceError(Exception):
    """A refusal with a message fit to show the person who asked.

    The message and field notes may be lazy translations: they become text when read,
    in the language of whoever is shown them.
    """

    status = 422
    code = "invalid"

    def __init__(self, message: Any, fields: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self._message = message
        self._fields = fields or {}

    @property
    def message(self) -> str:
        """Return the message as text."""
        return str(self._message)

    @property
    def reason(self) -> Any:
        """Return the message as raised: lazy, so it is translated where it is shown."""
        return self._message

    @property
    def fields(self) -> dict[str, str]:
        """Return the field notes as text."""
        return {name: str(note) for name, note in self._fields.items()}


class ValidationError(ServiceError):
    """The input does not make sense."""


class NotFound(ServiceError):
    """No such thing in this organisation."""

    status = 404
    code = "not_found"


class Conflict(ServiceError):
    """The request clashes with what is recorded (duplicate, already reversed)."""

    status = 409
    code = "conflict"


class InsufficientStock(Conflict):
    """An outgoing movement asks for more than the site holds."""

    code = "insufficient_stock"


def sentences(*parts: Any) -> LazyString:
    """Join whole sentences (each maybe lazy) into one message, translated when shown."""
    return LazyString(lambda: " ".join(str(part) for part in parts if str(part)))
