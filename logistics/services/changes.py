"""Mark an organisation for a shortage check when a write changes what it holds or needs.

Every write that touches stock, plans, items, people estimates, incidents or the replacement kit
leaves one `NeedsChange` row per organisation per transaction, in that transaction; the
scheduler's quick check (jobs.check_changed) reads the marks within a minute, reconciles the
alerts and deletes the marks it read. The marks are inserts only, so writers never wait on
one another for them.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, event, select
from sqlalchemy.orm import Session, SessionTransaction

from ..extensions import db
from ..models import (
    Distribution,
    DistributionLine,
    Incident,
    Item,
    MenuChoice,
    NeedsChange,
    Organisation,
    PeopleEstimate,
    Recipe,
    RecipeLine,
    ReplacementKitLine,
    StockMovement,
)
from ..models.types import utcnow

# Rows whose writing can change a need, a distribution's cover or an eviction's replacement.
WATCHED = (
    StockMovement,
    Distribution,
    DistributionLine,
    Item,
    PeopleEstimate,
    MenuChoice,
    Recipe,
    RecipeLine,
    Incident,
    ReplacementKitLine,
    Organisation,
)
MARKED = "needs_change_marked"
# Wait for writes to settle this long, but never make a change wait longer than LONGEST.
QUIET = timedelta(seconds=10)
LONGEST = timedelta(seconds=40)


def organisation_of(row: Any) -> int | None:
    """Return the organisation a watched row belongs to."""
    if isinstance(row, Organisation):
        return row.id
    if isinstance(row, DistributionLine):
        return row.distribution.organisation_id if row.distribution else None
    if isinstance(row, RecipeLine):
        return row.recipe.organisation_id if row.recipe else None
    return row.organisation_id


def install() -> None:
    """Start marking changes in every session (called once by the app factory)."""
    if not event.contains(Session, "before_flush", _mark_changes):
        event.listen(Session, "before_flush", _mark_changes)
        event.listen(Session, "after_transaction_end", _forget_marks_at_the_end)
        event.listen(Session, "after_soft_rollback", _forget_marks)


def _mark_changes(session: Session, _context: object, _instances: object) -> None:
    marked: set[int] = session.info.setdefault(MARKED, set())
    with session.no_autoflush:
        for row in (*session.new, *session.dirty, *session.deleted):
            if not isinstance(row, WATCHED) or isinstance(row, NeedsChange):
                continue
            if row in session.dirty and not session.is_modified(row):
                continue
            organisation_id = organisation_of(row)
            if organisation_id is not None and organisation_id not in marked:
                marked.add(organisation_id)
                session.add(NeedsChange(organisation_id=organisation_id))


def _forget_marks_at_the_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the whole transaction, not a savepoint inside it
        session.info.pop(MARKED, None)


def _forget_marks(session: Session, _transaction: SessionTransaction) -> None:
    # Any rollback, a savepoint's included, may take the mark with it: mark again.
    session.info.pop(MARKED, None)


def due(now: datetime | None = None) -> dict[int, list[int]]:
    """Return, per organisation whose marks are due, the ids of the marks read.

    Due: no write for QUIET, or the oldest mark waited LONGEST (debounced, within a minute).
    Exactly the ids read are forgotten after the check: a mark that commits late, even with
    a lower id, stays for the next turn.
    """
    moment = now or utcnow()
    marks: dict[int, list[tuple[int, datetime]]] = defaultdict(list)
    rows = db.session.execute(
        select(NeedsChange.organisation_id, NeedsChange.id, NeedsChange.at).order_by(NeedsChange.id)
    )
    for organisation_id, mark_id, at in rows:
        marks[organisation_id].append((mark_id, at))
    return {
        organisation_id: [mark_id for mark_id, _at in read]
        for organisation_id, read in marks.items()
        if max(at for _id, at in read) <= moment - QUIET
        or min(at for _id, at in read) <= moment - LONGEST
    }


def forget(organisation_id: int, mark_ids: list[int]) -> None:
    """Delete the marks read for an organisation, once its alerts were checked."""
    db.session.execute(
        delete(NeedsChange).where(
            NeedsChange.organisation_id == organisation_id, NeedsChange.id.in_(mark_ids)
        )
    )
