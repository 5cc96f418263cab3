"""Monthly level snapshots: taken by the nightly job, kept true by back-dated movements, checked.

A snapshot at a moment T holds, for every (site, item), the sum of its movements with
occurred_at <= T, zeros left out; `snapshot_taken` says which moments were written down. Stock
as of a past date then starts from the first snapshot after it and walks back at most a month
(services/stock.levels_as_of), whatever the ledger's length. A movement recorded with a time
before a snapshot moves that snapshot too, in the same transaction (services/ledger.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, insert, literal, select, text
from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db
from ..models import LevelSnapshot, Organisation, SnapshotTaken, StockMovement
from ..models.types import utcnow
from .rows import names_of

Key = tuple[int, int]  # (site_id, item_id)


def month_starts(first: datetime, now: datetime) -> Iterator[datetime]:
    """Yield the first instant (UTC) of every month after `first`, up to `now`."""
    year, month = first.year, first.month
    while True:
        month += 1
        if month == 13:
            year, month = year + 1, 1
        start = datetime(year, month, 1, tzinfo=UTC)
        if start > now:
            return
        yield start


def take_snapshots(organisation_id: int | None = None, now: datetime | None = None) -> int:
    """Write every month-start snapshot not yet taken; return how many moments were written."""
    moment = now or utcnow()
    ids = (
        [organisation_id]
        if organisation_id is not None
        else list(db.session.scalars(select(Organisation.id).order_by(Organisation.id)))
    )
    return sum(_take_for(org, moment) for org in ids)


def _take_for(organisation_id: int, now: datetime) -> int:
    first = db.session.scalar(
        select(func.min(StockMovement.occurred_at)).where(
            StockMovement.organisation_id == organisation_id
        )
    )
    if first is None:
        return 0
    taken = set(taken_moments(organisation_id))
    due = [start for start in month_starts(first, now) if start not in taken]
    if not due:
        return 0
    _hold_writers()
    base = max((t for t in taken if t < due[0]), default=None)
    held = _snapshot(organisation_id, base) if base is not None else {}
    months = month_starts(base or first, due[-1])
    for start, levels in _running_levels(organisation_id, months, base, held):
        if start in due:
            _write(organisation_id, start, levels)
    db.session.flush()
    return len(due)


def _running_levels(
    organisation_id: int,
    moments: Iterable[datetime],
    since: datetime | None = None,
    held: dict[Key, int] | None = None,
) -> Iterator[tuple[datetime, dict[Key, int]]]:
    """Yield each moment, earliest first, with every level then (the levels `since`, plus).

    Each interval's movements are summed once: the ledger is read once whatever the months.
    """
    levels = dict(held or {})
    for moment in moments:
        for key, moved in _moved(organisation_id, since, moment).items():
            levels[key] = levels.get(key, 0) + moved
        since = moment
        yield moment, levels


def _hold_writers() -> None:
    """Keep movements from being written meanwhile, so none falls between read and write.

    PostgreSQL: a SHARE lock waits for writers in flight and holds new ones until the
    transaction ends. SQLite lets one writer in at a time already (write_intent).
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("LOCK TABLE stock_movement IN SHARE MODE"))


def taken_moments(organisation_id: int) -> list[datetime]:
    """Return the moments the organisation's levels were written down, earliest first."""
    return list(
        db.session.scalars(
            select(SnapshotTaken.taken_at)
            .where(SnapshotTaken.organisation_id == organisation_id)
            .order_by(SnapshotTaken.taken_at)
        )
    )


def _snapshot(organisation_id: int, taken_at: datetime) -> dict[Key, int]:
    rows = db.session.execute(
        select(LevelSnapshot.site_id, LevelSnapshot.item_id, LevelSnapshot.quantity).where(
            LevelSnapshot.organisation_id == organisation_id, LevelSnapshot.taken_at == taken_at
        )
    )
    return {(site, item): quantity for site, item, quantity in rows}


def _moved(organisation_id: int, after: datetime | None, until: datetime) -> dict[Key, int]:
    """Return what moved per (site, item) with after < occurred_at <= until."""
    query = (
        select(StockMovement.site_id, StockMovement.item_id, func.sum(StockMovement.quantity))
        .where(
            StockMovement.organisation_id == organisation_id,
            StockMovement.occurred_at <= until,
        )
        .group_by(StockMovement.site_id, StockMovement.item_id)
    )
    if after is not None:
        query = query.where(StockMovement.occurred_at > after)
    return {(site, item): int(total) for site, item, total in db.session.execute(query)}


def _write(organisation_id: int, taken_at: datetime, held: dict[Key, int]) -> None:
    db.session.add(SnapshotTaken(organisation_id=organisation_id, taken_at=taken_at))
    rows = [
        {
            "organisation_id": organisation_id,
            "taken_at": taken_at,
            "site_id": site,
            "item_id": item,
            "quantity": quantity,
        }
        for (site, item), quantity in held.items()
        if quantity
    ]
    if rows:
        db.session.execute(insert(LevelSnapshot), rows)


def follow_movement(
    organisation_id: int, site_id: int, item_id: int, occurred_at: datetime, quantity: int
) -> None:
    """Add a movement to every snapshot taken at or after its time (a back-dated movement)."""
    later = select(
        SnapshotTaken.organisation_id,
        SnapshotTaken.taken_at,
        literal(site_id),
        literal(item_id),
        literal(quantity),
    ).where(SnapshotTaken.organisation_id == organisation_id, SnapshotTaken.taken_at >= occurred_at)
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(LevelSnapshot).from_select(
        ["organisation_id", "taken_at", "site_id", "item_id", "quantity"], later
    )
    db.session.execute(
        statement.on_conflict_do_update(
            index_elements=["site_id", "item_id", "taken_at"],
            set_={"quantity": LevelSnapshot.quantity + statement.excluded.quantity},
        )
    )


@dataclass(frozen=True)
class SnapshotMismatch:
    organisation_id: int
    taken_at: datetime
    site: str
    item: str
    snapshot: int
    movements: int


def check_snapshots(organisation_id: int | None = None) -> list[SnapshotMismatch]:
    """Return every snapshot figure that differs from the sum of its movements up to then.

    One query per month taken, each over that month's movements: the whole ledger once.
    """
    ids = (
        [organisation_id]
        if organisation_id is not None
        else list(db.session.scalars(select(SnapshotTaken.organisation_id).distinct()))
    )
    found: list[tuple[int, datetime, int, int, int, int]] = []
    for org in ids:
        for taken_at, held in _running_levels(org, taken_moments(org)):
            written = _snapshot(org, taken_at)
            for key in set(written) | {k for k, v in held.items() if v}:
                if written.get(key, 0) != held.get(key, 0):
                    found.append((org, taken_at, *key, written.get(key, 0), held.get(key, 0)))
    sites, items = names_of((row[2] for row in found), (row[3] for row in found))
    return [
        SnapshotMismatch(org, taken_at, sites[site], items[item], snapshot, movements)
        for org, taken_at, site, item, snapshot, movements in found
    ]
