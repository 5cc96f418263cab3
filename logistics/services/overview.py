"""The stock overview's bounded reads: one page of items and the levels of that page alone.

The overview shows one category or one site at a time, a page of items at a time, so what it
reads depends on the page, never on the size of the catalogue × sites or of the ledger.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import and_, case, func, select

from ..extensions import db
from ..models import CATEGORIES, Item, StockLevel

PAGE_SIZE = 40  # items a page: a phone's long scroll, 40 × 20 sites at most as cells


@dataclass
class OverviewPage:
    """One page of the overview: its items, their levels per site and held in total."""

    items: list[Item]
    cells: dict[int, dict[int, int]] = field(default_factory=dict)
    held_total: dict[int, int] = field(default_factory=dict)
    has_next: bool = False


def page_of_items(
    organisation_id: int,
    *,
    category: str | None = None,
    site_id: int | None = None,
    page: int = 1,
    size: int = PAGE_SIZE,
) -> OverviewPage:
    """Return a page of active items with their levels at every site.

    A category lists all its items (held or not: an empty shelf is news); a site lists only the
    items it holds (the count sheet has the rest).
    """
    query = select(Item).where(Item.organisation_id == organisation_id, Item.active.is_(True))
    if category is not None:
        query = query.where(Item.category == category)
    if site_id is not None:
        held_here = select(StockLevel.item_id).where(
            StockLevel.site_id == site_id, StockLevel.quantity != 0
        )
        query = query.where(Item.id.in_(held_here))
    query = query.order_by(Item.name, Item.size, Item.id)
    # One more than a page tells whether a next page exists without counting them all.
    rows = list(db.session.scalars(query.offset((max(page, 1) - 1) * size).limit(size + 1)))
    result = OverviewPage(items=rows[:size], has_next=len(rows) > size)
    _fill_levels(organisation_id, result)
    return result


def _fill_levels(organisation_id: int, result: OverviewPage) -> None:
    """Read the page's items' levels at every site in one query."""
    ids = [item.id for item in result.items]
    result.cells = {item_id: {} for item_id in ids}
    if not ids:
        return
    query = select(StockLevel.item_id, StockLevel.site_id, StockLevel.quantity).where(
        StockLevel.organisation_id == organisation_id,
        StockLevel.item_id.in_(ids),
        StockLevel.quantity != 0,
    )
    for item_id, site_id, quantity in db.session.execute(query):
        result.cells[item_id][site_id] = quantity
    # Every kind of site holds stock: the total counts each site, listed or not.
    result.held_total = {
        item_id: sum(by_site.values()) for item_id, by_site in result.cells.items()
    }


def opening_category(organisation_id: int) -> str | None:
    """Return the category to open on first: the first whose stock runs low, else the first
    with stock, else None (nothing held yet).

    Running low is held but under its minimum: what a volunteer can still act on today. An item
    never stocked is no reason to open on its category (a big catalogue has many).
    """
    held = (
        select(StockLevel.item_id, func.sum(StockLevel.quantity).label("held"))
        .where(StockLevel.organisation_id == organisation_id)
        .group_by(StockLevel.item_id)
        .subquery()
    )
    total = func.coalesce(held.c.held, 0)
    query = (
        select(
            Item.category,
            func.max(total),
            func.sum(case((and_(total > 0, total < Item.min_stock), 1), else_=0)),
        )
        .outerjoin(held, held.c.item_id == Item.id)
        .where(Item.organisation_id == organisation_id, Item.active.is_(True))
        .group_by(Item.category)
    )
    found = {category: (most, low) for category, most, low in db.session.execute(query)}
    return _first(found, lambda c: (found[c][1] or 0) > 0) or _first(
        found, lambda c: (found[c][0] or 0) > 0
    )


def _first(found: dict[str, tuple[int, int]], keep: Callable[[str], bool]) -> str | None:
    """Return the first category, in the usual order, that keep accepts."""
    return next((c for c in CATEGORIES if c in found and keep(c)), None)
