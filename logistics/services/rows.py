"""Fetch one organisation's row by id: another organisation's id is a 404, never data.

See docs/principles.md, "Organisations are isolated".
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from ..extensions import db
from .errors import NotFound


class _Owned(Protocol):
    organisation_id: Any


Row = TypeVar("Row", bound=_Owned)


def owned(
    model: type[Row],
    organisation_id: int,
    row_id: int,
    message: Any,
    fields: dict[str, Any] | None = None,
    *,
    for_update: bool = False,
) -> Row:
    """Return the organisation's row of this model, or raise NotFound with the message.

    With for_update the row is locked and read again, so two writers take turns.
    """
    row = db.session.get(model, row_id, with_for_update=for_update, populate_existing=for_update)
    if row is None or row.organisation_id != organisation_id:
        raise NotFound(message, fields)
    return row
