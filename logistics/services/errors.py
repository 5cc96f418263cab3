"""Errors services raise; views and the API turn them into clear messages."""

from __future__ import annotations


class ServiceError(Exception):
    """A refusal with a message fit to show the person who asked."""

    status = 422
    code = "invalid"

    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


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
