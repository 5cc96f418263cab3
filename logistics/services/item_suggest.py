"""Items to offer in a form's list, a bounded few: the most moved lately, or those matching what
is being typed.

A form's datalist never carries a whole catalogue: with 500 items it would weigh more than the
page. Without JavaScript the typed label is still matched on submit (item_search.ItemIndex.find),
so the list only saves typing.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from ..extensions import db
from ..models import Item, StockMovement
from ..models.catalogue import item_label
from ..models.types import utcnow
from .item_search import MAX_TYPED_WORDS, PREFIX, PREFIX_FROM, ItemIndex, word_forms, words

MAX_SUGGESTIONS = 40  # a datalist a phone scrolls in a few swipes
RECENT_DAYS = 30
MAX_QUERY_LENGTH = 100


def most_moved_ids(
    organisation_id: int, limit: int = MAX_SUGGESTIONS, now: datetime | None = None
) -> list[int]:
    """Return the ids of the items the organisation moved most often lately, most first."""
    since = (now or utcnow()) - timedelta(days=RECENT_DAYS)
    moves = func.count(StockMovement.id)
    query = (
        select(StockMovement.item_id)
        .where(StockMovement.organisation_id == organisation_id, StockMovement.occurred_at >= since)
        .group_by(StockMovement.item_id)
        .order_by(moves.desc(), StockMovement.item_id)
        .limit(limit)
    )
    return list(db.session.scalars(query))


def offered(organisation_id: int, limit: int = MAX_SUGGESTIONS) -> list[Item]:
    """Return the items a form lists, by name, read alone: the most moved lately, topped up
    by name (all of a short catalogue), in one query whatever the catalogue's size."""
    since = utcnow() - timedelta(days=RECENT_DAYS)
    moves = (
        select(StockMovement.item_id, func.count(StockMovement.id).label("moves"))
        .where(StockMovement.organisation_id == organisation_id, StockMovement.occurred_at >= since)
        .group_by(StockMovement.item_id)
        .subquery()
    )
    query = (
        select(Item)
        .outerjoin(moves, moves.c.item_id == Item.id)
        .where(Item.organisation_id == organisation_id, Item.active.is_(True))
        .order_by(func.coalesce(moves.c.moves, 0).desc(), Item.name, Item.size, Item.id)
        .limit(limit)
    )
    return sorted(db.session.scalars(query), key=lambda item: (item.name, item.size, item.id))


@dataclass(frozen=True)
class Choice:
    """An item as a list offers it: enough to show and search it, kept between requests."""

    id: int
    name: str
    name_fr: str | None
    size: str
    aliases: str
    active: bool = True

    @property
    def label(self) -> str:
        """Name in the reader's language with its size, as Item.label."""
        return item_label(self.name, self.size, self.name_fr)


def matching(organisation_id: int, typed: str, limit: int = MAX_SUGGESTIONS) -> list[Choice]:
    """Return the active items matching what is typed, best first, as the forms match them.

    Nothing typed offers the most moved lately.
    """
    rows = tuple(
        tuple(row)
        for row in db.session.execute(
            select(Item.id, Item.name, Item.name_fr, Item.size, Item.aliases)
            .where(Item.organisation_id == organisation_id, Item.active.is_(True))
            .order_by(Item.id)
        )
    )
    written = words(typed[:MAX_QUERY_LENGTH])[:MAX_TYPED_WORDS]
    if not written:
        by_id = {row[0]: row for row in rows}
        ids = most_moved_ids(organisation_id, limit)
        return [Choice(*by_id[i]) for i in ids if i in by_id]
    forms = [word_forms(word) for word in written]
    ranked = sorted(
        (rank, entry.item.id, entry.item)
        for entry in _index(rows).entries
        if (rank := _rank(entry, written, forms)) is not None
    )
    return [item for _, _, item in ranked[:limit]]


@functools.lru_cache(maxsize=16)
def _index(rows: tuple[tuple[Any, ...], ...]) -> ItemIndex:
    """Return the search index of these items, built once while none of them changes.

    Working out every item's words costs ten times reading them: as someone types, the
    same catalogue is searched again and again.
    """
    return ItemIndex(Choice(*row) for row in rows)  # type: ignore[arg-type]  # reads the same fields


def _rank(entry: Any, written: Sequence[str], forms: Sequence[Any]) -> tuple[int, int, str] | None:
    """Rank an item as the forms do, except that the last word, still being typed, may be the
    beginning of a word however short ("kit 5" finds Kit 590)."""
    rank = entry.rank(written, forms)
    last = written[-1]
    if rank is not None or len(last) >= PREFIX_FROM:
        return rank
    if not any(word.startswith(last) for word in entry.written):
        return None
    head = entry.rank(written[:-1], forms[:-1]) if len(written) > 1 else (0, 0, entry.key)
    return None if head is None else (head[0] + PREFIX, head[1], head[2])
