"""Fetch one organisation's row by id: another organisation's id is a 404, never data.

See docs/principles.md, "Organisations are isolated".
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol, TypeVar

from sqlalchemy import select

from ..extensions import db
from ..models import Item, Site
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


def names_of(
    site_ids: Iterable[int], item_ids: Iterable[int]
) -> tuple[dict[int, str], dict[int, str]]:
    """Return these sites' names and these items' labels by id, one query each (none if none)."""
    wanted_sites, wanted_items = sorted(set(site_ids)), sorted(set(item_ids))
    sites = (
        dict(db.session.execute(select(Site.id, Site.name).where(Site.id.in_(wanted_sites))).all())
        if wanted_sites
        else {}
    )
    items = (
        {i.id: i.label for i in db.session.scalars(select(Item).where(Item.id.in_(wanted_items)))}
        if wanted_items
        else {}
    )
    return sites, items
