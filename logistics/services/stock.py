"""Reading stock: current levels, levels at a past moment, item history, ledger checks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select, union_all
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Item, LevelSnapshot, Site, SnapshotTaken, StockLevel, StockMovement


@dataclass(frozen=True)
class LevelRow:
    site_id: int
    item_id: int
    quantity: int


def levels(
    organisation_id: int,
    *,
    site_id: int | None = None,
    item_id: int | None = None,
    category: str | None = None,
    include_zero: bool = False,
) -> list[LevelRow]:
    """Return current levels of active items, filtered by site, item or category."""
    query = (
        select(StockLevel.site_id, StockLevel.item_id, StockLevel.quantity)
        .join(Item, Item.id == StockLevel.item_id)
        .where(StockLevel.organisation_id == organisation_id, Item.active.is_(True))
        .order_by(StockLevel.item_id, StockLevel.site_id)
    )
    if site_id is not None:
        query = query.where(StockLevel.site_id == site_id)
    if item_id is not None:
        query = query.where(StockLevel.item_id == item_id)
    if category:
        query = query.where(Item.category == category)
    if not include_zero:
        query = query.where(StockLevel.quantity != 0)
    # Plain rows through the connection: 10,000 levels without the ORM's per-row work.
    return [LevelRow(*row) for row in db.session.connection().execute(query)]


def levels_as_of(
    organisation_id: int,
    at: datetime,
    *,
    site_id: int | None = None,
    item_id: int | None = None,
) -> list[LevelRow]:
    """Return levels at a past moment, walking back at most a month whatever the ledger's length.

    From the first level snapshot after the moment (services/snapshots.py), less what moved
    between the two; after the last snapshot, from today's levels less what moved since.
    Retired items are left out, as in levels().
    """
    snapshot_at = db.session.scalar(
        select(func.min(SnapshotTaken.taken_at)).where(
            SnapshotTaken.organisation_id == organisation_id, SnapshotTaken.taken_at >= at
        )
    )
    if snapshot_at is None:
        return _walked_back_from_today(organisation_id, at, site_id=site_id, item_id=item_id)
    return _walked_back_from_snapshot(
        organisation_id, at, snapshot_at, site_id=site_id, item_id=item_id
    )


def _walked_back_from_snapshot(
    organisation_id: int,
    at: datetime,
    snapshot_at: datetime,
    *,
    site_id: int | None = None,
    item_id: int | None = None,
) -> list[LevelRow]:
    """Return levels at a moment before a snapshot: the snapshot's, less what moved between.

    One query: the snapshot's rows and the movements between, negated, summed per level.
    """
    held = select(
        LevelSnapshot.site_id, LevelSnapshot.item_id, LevelSnapshot.quantity.label("moved")
    ).where(LevelSnapshot.organisation_id == organisation_id, LevelSnapshot.taken_at == snapshot_at)
    between = select(
        StockMovement.site_id, StockMovement.item_id, (-StockMovement.quantity).label("moved")
    ).where(
        StockMovement.organisation_id == organisation_id,
        StockMovement.occurred_at > at,
        StockMovement.occurred_at <= snapshot_at,
    )
    if site_id is not None:
        held = held.where(LevelSnapshot.site_id == site_id)
        between = between.where(StockMovement.site_id == site_id)
    if item_id is not None:
        held = held.where(LevelSnapshot.item_id == item_id)
        between = between.where(StockMovement.item_id == item_id)
    both = union_all(held, between).subquery()
    quantity = func.sum(both.c.moved)
    query = (
        select(both.c.site_id, both.c.item_id, quantity)
        .join(Item, Item.id == both.c.item_id)
        .where(Item.active.is_(True))
        .group_by(both.c.item_id, both.c.site_id)
        .having(quantity != 0)
        .order_by(both.c.item_id, both.c.site_id)
    )
    # Plain rows through the connection: 10,000 levels without the ORM's per-row work.
    rows = db.session.connection().execute(query)
    return [LevelRow(site, item, int(level)) for site, item, level in rows]


def _walked_back_from_today(
    organisation_id: int,
    at: datetime,
    *,
    site_id: int | None = None,
    item_id: int | None = None,
) -> list[LevelRow]:
    """Return levels at a moment after the last snapshot: today's, less what moved since.

    The database does the subtraction in one query.
    """
    since = select(
        StockMovement.site_id,
        StockMovement.item_id,
        func.sum(StockMovement.quantity).label("moved"),
    ).where(StockMovement.organisation_id == organisation_id, StockMovement.occurred_at > at)
    if site_id is not None:
        since = since.where(StockMovement.site_id == site_id)
    if item_id is not None:
        since = since.where(StockMovement.item_id == item_id)
    moved = since.group_by(StockMovement.site_id, StockMovement.item_id).subquery()
    quantity = StockLevel.quantity - func.coalesce(moved.c.moved, 0)
    query = (
        select(StockLevel.site_id, StockLevel.item_id, quantity)
        .join(Item, Item.id == StockLevel.item_id)
        .outerjoin(
            moved,
            and_(moved.c.site_id == StockLevel.site_id, moved.c.item_id == StockLevel.item_id),
        )
        .where(
            StockLevel.organisation_id == organisation_id,
            Item.active.is_(True),
            quantity != 0,
        )
        .order_by(StockLevel.item_id, StockLevel.site_id)
    )
    if site_id is not None:
        query = query.where(StockLevel.site_id == site_id)
    if item_id is not None:
        query = query.where(StockLevel.item_id == item_id)
    rows = db.session.connection().execute(query)
    return [LevelRow(site, item, int(level)) for site, item, level in rows]


@dataclass(frozen=True)
class HistoryRow:
    movement: StockMovement
    balance: int


def item_history(
    organisation_id: int,
    item_id: int,
    *,
    site_id: int | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> tuple[list[HistoryRow], int | None]:
    """Return an item's movements newest first with the running balance after each.

    Paged by movement id; returns the rows and the cursor for the next page.
    """
    scope = [StockMovement.organisation_id == organisation_id, StockMovement.item_id == item_id]
    if site_id is not None:
        scope.append(StockMovement.site_id == site_id)
    order = (StockMovement.occurred_at.desc(), StockMovement.id.desc())
    query = (
        select(StockMovement)
        .where(*scope)
        .options(selectinload(StockMovement.site))
        .order_by(*order)
        .limit(limit + 1)
    )
    newer_sum = 0
    if before_id is not None:
        anchor = db.session.get(StockMovement, before_id)
        if anchor is not None and anchor.organisation_id == organisation_id:
            older = or_(
                StockMovement.occurred_at < anchor.occurred_at,
                and_(
                    StockMovement.occurred_at == anchor.occurred_at,
                    StockMovement.id < anchor.id,
                ),
            )
            query = query.where(older)
            newer_sum = db.session.scalar(
                select(func.coalesce(func.sum(StockMovement.quantity), 0)).where(*scope, ~older)
            )
    movements = list(db.session.scalars(query))
    next_cursor = movements[limit - 1].id if len(movements) > limit else None
    balance = _total_held(organisation_id, item_id, site_id) - int(newer_sum)
    rows = []
    for movement in movements[:limit]:
        rows.append(HistoryRow(movement, balance))
        balance -= movement.quantity
    return rows, next_cursor


def _total_held(organisation_id: int, item_id: int, site_id: int | None) -> int:
    query = select(func.coalesce(func.sum(StockLevel.quantity), 0)).where(
        StockLevel.organisation_id == organisation_id, StockLevel.item_id == item_id
    )
    if site_id is not None:
        query = query.where(StockLevel.site_id == site_id)
    return int(db.session.scalar(query))


@dataclass(frozen=True)
class LedgerMismatch:
    organisation_id: int
    site: str
    item: str
    level: int
    movements: int


def check_ledger(organisation_id: int | None = None) -> list[LedgerMismatch]:
    """Return every (site, item) whose level differs from the sum of its movements."""
    sums = (
        select(
            StockMovement.site_id,
            StockMovement.item_id,
            func.sum(StockMovement.quantity).label("total"),
        )
        .group_by(StockMovement.site_id, StockMovement.item_id)
        .subquery()
    )
    level_side = select(
        StockLevel.site_id, StockLevel.item_id, StockLevel.quantity, sums.c.total
    ).outerjoin(
        sums, and_(sums.c.site_id == StockLevel.site_id, sums.c.item_id == StockLevel.item_id)
    )
    orphan_side = (
        select(sums.c.site_id, sums.c.item_id, sums.c.total)
        .outerjoin(
            StockLevel,
            and_(StockLevel.site_id == sums.c.site_id, StockLevel.item_id == sums.c.item_id),
        )
        .where(StockLevel.site_id.is_(None), sums.c.total != 0)
    )
    pairs: list[tuple[int, int, int, int]] = []
    for site_id, item_id, level, total in db.session.execute(level_side):
        if level != (total or 0):
            pairs.append((site_id, item_id, level, int(total or 0)))
    for site_id, item_id, total in db.session.execute(orphan_side):
        pairs.append((site_id, item_id, 0, int(total)))
    mismatches = []
    for site_id, item_id, level, total in pairs:
        site = db.session.get(Site, site_id)
        item = db.session.get(Item, item_id)
        if organisation_id is not None and site.organisation_id != organisation_id:
            continue
        mismatches.append(LedgerMismatch(site.organisation_id, site.name, item.label, level, total))
    return mismatches


def movements(
    organisation_id: int,
    *,
    kind: str | None = None,
    site_id: int | None = None,
    item_id: int | None = None,
    since: datetime | None = None,
    before_id: int | None = None,
    after_id: int | None = None,
    limit: int = 100,
    newest_first: bool = True,
    with_names: bool = False,
) -> tuple[list[StockMovement], int | None]:
    """Return a page of the ledger, paged by movement id, and the cursor for the next page.

    with_names loads the page's items and sites with it (a page that names them), in one
    query each rather than one per row.
    """
    query = select(StockMovement).where(StockMovement.organisation_id == organisation_id)
    if with_names:
        query = query.options(selectinload(StockMovement.item), selectinload(StockMovement.site))
    if kind is not None:
        query = query.where(StockMovement.kind == kind)
    if site_id is not None:
        query = query.where(StockMovement.site_id == site_id)
    if item_id is not None:
        query = query.where(StockMovement.item_id == item_id)
    if since is not None:
        query = query.where(StockMovement.occurred_at >= since)
    if before_id is not None:
        query = query.where(StockMovement.id < before_id)
    if after_id is not None:
        query = query.where(StockMovement.id > after_id)
    order = StockMovement.id.desc() if newest_first else StockMovement.id.asc()
    rows = list(db.session.scalars(query.order_by(order).limit(limit + 1)))
    next_cursor = rows[limit - 1].id if len(rows) > limit else None
    return rows[:limit], next_cursor


def reversed_ids(movement_ids: list[int]) -> set[int]:
    """Return which of these movements have been reversed."""
    if not movement_ids:
        return set()
    return set(
        db.session.scalars(
            select(StockMovement.reverses_id).where(StockMovement.reverses_id.in_(movement_ids))
        )
    )
