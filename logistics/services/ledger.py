"""The ledger rules: every stock change is a movement, levels move with it, never below zero."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, exists, func, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from .. import i18n, limits
from ..extensions import db
from ..models import (
    MOVEMENT_KINDS,
    Item,
    Site,
    SnapshotTaken,
    StockLevel,
    StockLot,
    StockMovement,
)
from ..models.types import utcnow
from . import lots, snapshots
from .errors import Conflict, InsufficientStock, NotFound, ValidationError
from .rows import owned

RECEIPT_KINDS = ("donation", "purchase")
# How far ahead of the server clock a phone's clock may be before we call it wrong.
CLOCK_SKEW = timedelta(minutes=10)
MAX_QUANTITY = limits.MAX_QUANTITY
MAX_SOURCE = limits.MAX_SOURCE  # the column's width


def get_site(organisation_id: int, site_id: int) -> Site:
    """Return the organisation's site or raise NotFound."""
    return owned(Site, organisation_id, site_id, _l("No such site."), {"site_id": "unknown site"})


def get_item(organisation_id: int, item_id: int) -> Item:
    """Return the organisation's item or raise NotFound."""
    return owned(Item, organisation_id, item_id, _l("No such item."), {"item_id": "unknown item"})


def get_movement(organisation_id: int, movement_id: int) -> StockMovement:
    """Return the organisation's movement or raise NotFound."""
    return owned(StockMovement, organisation_id, movement_id, _l("No such movement."))


def held(site_id: int, item_id: int) -> int:
    """Return the quantity of an item at a site now."""
    quantity = db.session.scalar(
        select(StockLevel.quantity).where(
            StockLevel.site_id == site_id, StockLevel.item_id == item_id
        )
    )
    return quantity or 0


def record(
    organisation_id: int,
    user_id: int | None,
    *,
    site_id: int,
    item_id: int,
    quantity: int,
    kind: str,
    occurred_at: datetime | None = None,
    source: str = "",
    note: str = "",
    transfer_group: str | None = None,
    reverses_id: int | None = None,
    distribution_id: int | None = None,
    incident_id: int | None = None,
    cooking_id: int | None = None,
    best_before: date | None = None,
    from_lots: Sequence[lots.Share] = (),
) -> StockMovement:
    """Write one signed movement and move the level with it; refuse to go below zero.

    For a dated item the movement also moves its lots: what comes in goes to `best_before`
    (or to the lots `from_lots` names: a transfer's other leg, a reversal's original), what
    goes out leaves the lot `best_before` names, or else `from_lots` first and then the
    earliest dates.
    """
    standing = _check_owner(organisation_id, site_id, item_id)
    if kind not in MOVEMENT_KINDS:
        raise ValidationError(
            _l("Unknown movement kind: %(kind)s.", kind=kind), {"kind": "unknown"}
        )
    if len(source.strip()) > MAX_SOURCE:
        raise ValidationError(
            _l("The source label is at most %(n)s characters.", n=MAX_SOURCE),
            {"source": "too long"},
        )
    _check_quantity(quantity, allow_negative=True)
    values = {
        "organisation_id": organisation_id,
        "site_id": site_id,
        "item_id": item_id,
        "quantity": quantity,
        "kind": kind,
        "occurred_at": _check_when(occurred_at),
        "recorded_at": utcnow(),
        "recorded_by_id": user_id,
        "source": source.strip(),
        "note": note.strip(),
        "transfer_group": transfer_group,
        "reverses_id": reverses_id,
        "distribution_id": distribution_id,
        "incident_id": incident_id,
        "cooking_id": cooking_id,
    }
    # Rows this movement points to (a distribution, an incident) must be written first.
    db.session.flush()
    return _apply(values, standing, best_before, from_lots)


@dataclass(frozen=True)
class Standing:
    """What else a movement of this item at this site moves besides the level."""

    dated: bool  # it takes best-before dates
    in_lots: bool  # its stock here is held in lots
    last_snapshot: datetime | None  # a movement at or before it moves the snapshots too


def _apply(
    values: dict[str, Any],
    standing: Standing,
    best_before: date | None = None,
    from_lots: Sequence[lots.Share] = (),
) -> StockMovement:
    """Move the level (and a dated item's lots) and write the movement: every movement's path."""
    org, site, item = values["organisation_id"], values["site_id"], values["item_id"]
    quantity, kind = values["quantity"], values["kind"]
    if best_before is not None:
        if not standing.in_lots:
            lots.refuse_undated(get_item(org, item).label)
        lots.check_best_before(best_before)
    elif standing.dated and kind in RECEIPT_KINDS and not from_lots:
        lots.require_best_before(get_item(org, item).label)
    _move_level(org, site, item, quantity, kind)
    draws: list[lots.Share] = []
    if quantity > 0 and (standing.dated or from_lots):
        draws = [(best_before, quantity)] if best_before is not None else list(from_lots)
        if draws:
            lots.put_in(org, site, item, draws)
    elif quantity < 0 and standing.in_lots:
        taken = lots.take_out(org, site, item, -quantity, chosen=best_before, first=from_lots)
        draws = [(day, -share) for day, share in taken]
    movement = _insert_movement(values)
    if draws:
        lots.write_draws(org, movement.id, site, item, draws)
    if standing.last_snapshot is not None and values["occurred_at"] <= standing.last_snapshot:
        snapshots.follow_movement(org, site, item, values["occurred_at"], quantity)
    return movement


def _insert_movement(values: dict[str, Any]) -> StockMovement:
    """Add the movement to the session and write it now; return it, id and all.

    A movement of a savepoint or transaction rolled back leaves the session with it, so the
    next movement may take its id.
    """
    movement = StockMovement(**values)
    db.session.add(movement)
    db.session.flush()
    return movement


def receive(
    organisation_id: int,
    user_id: int | None,
    *,
    site_id: int,
    item_id: int,
    quantity: int,
    kind: str = "donation",
    source: str = "",
    note: str = "",
    occurred_at: datetime | None = None,
    best_before: date | None = None,
) -> StockMovement:
    """Record a donation or purchase coming in (a dated item: with its best-before date)."""
    if kind not in RECEIPT_KINDS:
        raise ValidationError(_l("Choose donation or purchase."), {"kind": "donation or purchase"})
    _check_quantity(quantity)
    return record(
        organisation_id,
        user_id,
        site_id=site_id,
        item_id=item_id,
        quantity=quantity,
        kind=kind,
        occurred_at=occurred_at,
        source=source,
        note=note,
        best_before=best_before,
    )


def record_shipment(
    organisation_id: int,
    user_id: int | None,
    *,
    shipment_id: int,
    site_id: int,
    item_id: int,
    quantity: int,
    kind: str,
) -> StockMovement:
    """Take a shipment's line out of the sender's site, or put it into the receiver's."""
    if kind not in ("shipment_out", "shipment_in"):
        raise ValidationError(
            _l("Unknown movement kind: %(kind)s.", kind=kind), {"kind": "unknown"}
        )
    standing = _check_owner(organisation_id, site_id, item_id)
    _check_quantity(quantity)
    signed = -quantity if kind == "shipment_out" else quantity
    # The shipment this movement names must be written first.
    db.session.flush()
    now = utcnow()
    # A partner's dates are not known here: what arrives is undated, what leaves earliest first.
    return _apply(
        {
            "organisation_id": organisation_id,
            "site_id": site_id,
            "item_id": item_id,
            "quantity": signed,
            "kind": kind,
            "occurred_at": now,
            "recorded_at": now,
            "recorded_by_id": user_id,
            "source": "",
            "note": "",
            "shipment_id": shipment_id,
        },
        standing,
    )


def record_loss(
    organisation_id: int,
    user_id: int | None,
    *,
    site_id: int,
    item_id: int,
    quantity: int,
    reason: str,
    occurred_at: datetime | None = None,
    best_before: date | None = None,
) -> StockMovement:
    """Write off stock that is gone (spoiled, stolen, destroyed, expired), with its reason."""
    _check_quantity(quantity)
    _require_reason(reason)
    return record(
        organisation_id,
        user_id,
        site_id=site_id,
        item_id=item_id,
        quantity=-quantity,
        kind="loss",
        occurred_at=occurred_at,
        note=reason,
        best_before=best_before,
    )


def adjust(
    organisation_id: int,
    user_id: int | None,
    *,
    site_id: int,
    item_id: int,
    reason: str,
    delta: int | None = None,
    counted: int | None = None,
    occurred_at: datetime | None = None,
) -> StockMovement | None:
    """Correct a level by a signed delta or to a counted quantity; None when nothing differs."""
    _require_reason(reason)
    if (delta is None) == (counted is None):
        raise ValidationError(
            _l("Give either the counted quantity or a change, not both."),
            {"counted": "counted or quantity"},
        )
    if counted is not None:
        if counted < 0 or counted > MAX_QUANTITY:
            raise ValidationError(_l("A count cannot be negative."), {"counted": "0 or more"})
        site = get_site(organisation_id, site_id)
        get_item(organisation_id, item_id)
        delta = counted - _lock_level(organisation_id, site.id, item_id)
    assert delta is not None
    if delta == 0:
        return None
    return record(
        organisation_id,
        user_id,
        site_id=site_id,
        item_id=item_id,
        quantity=delta,
        kind="adjustment",
        occurred_at=occurred_at,
        note=reason,
    )


def transfer(
    organisation_id: int,
    user_id: int | None,
    *,
    from_site_id: int,
    to_site_id: int,
    item_id: int,
    quantity: int,
    note: str = "",
    occurred_at: datetime | None = None,
    best_before: date | None = None,
) -> tuple[StockMovement, StockMovement]:
    """Move stock between two sites: two movements sharing a transfer group.

    A dated item's lots travel with it: the second leg puts in what the first took out.
    """
    if from_site_id == to_site_id:
        raise ValidationError(
            _l("Choose two different sites."), {"to_site_id": "same as the source"}
        )
    _check_quantity(quantity)
    # Check every id before writing the first leg.
    get_site(organisation_id, from_site_id)
    get_site(organisation_id, to_site_id)
    get_item(organisation_id, item_id)
    _lock_levels([(from_site_id, item_id), (to_site_id, item_id)], organisation_id)
    group = str(uuid.uuid4())
    common = {"item_id": item_id, "occurred_at": occurred_at, "note": note}
    out = record(
        organisation_id,
        user_id,
        site_id=from_site_id,
        quantity=-quantity,
        kind="transfer_out",
        transfer_group=group,
        best_before=best_before,
        **common,
    )
    into = record(
        organisation_id,
        user_id,
        site_id=to_site_id,
        quantity=quantity,
        kind="transfer_in",
        transfer_group=group,
        from_lots=[(day, -share) for day, share in lots.draws_of(out.id)],
        **common,
    )
    return out, into


def reverse(
    organisation_id: int,
    user_id: int | None,
    movement_id: int,
    reason: str,
    *,
    by_outcome: bool = False,
) -> list[StockMovement]:
    """Undo a movement (both legs of a transfer) with reversing movements; only once.

    Goods given at a distribution are put right by correcting its outcome (by_outcome),
    so the distribution's figures and the ledger never disagree.
    """
    _require_reason(reason)
    original = get_movement(organisation_id, movement_id)
    if original.kind == "reversal":
        raise Conflict(_l("A reversal cannot be reversed; record the movement again instead."))
    if original.distribution_id is not None and not by_outcome:
        raise Conflict(
            _l("This was given out at a distribution: correct that distribution's outcome instead.")
        )
    if original.shipment_id is not None:
        # The partner's ledger and the shipment record would no longer agree with this one.
        raise Conflict(_l("This went in or out with a shipment to or from a partner: it stays."))
    legs = _legs(original)
    _lock_levels([(leg.site_id, leg.item_id) for leg in legs], organisation_id)
    # Take stock out before putting it back, so a refusal comes before any write.
    legs.sort(key=lambda leg: leg.quantity, reverse=True)
    reversals = []
    for leg in legs:
        if _reversal_of(leg.id) is not None:
            raise Conflict(_l("Movement %(id)s has already been reversed.", id=leg.id))
        try:
            with db.session.begin_nested():
                reversals.append(
                    record(
                        organisation_id,
                        user_id,
                        site_id=leg.site_id,
                        item_id=leg.item_id,
                        quantity=-leg.quantity,
                        kind="reversal",
                        note=reason,
                        transfer_group=leg.transfer_group,
                        reverses_id=leg.id,
                        distribution_id=leg.distribution_id,
                        incident_id=leg.incident_id,
                        cooking_id=leg.cooking_id,
                        # What it took goes back to its lots; what it put in is taken back.
                        from_lots=[(day, abs(share)) for day, share in lots.draws_of(leg.id)],
                    )
                )
        except IntegrityError as exc:  # another request reversed it first
            raise Conflict(_l("Movement %(id)s has already been reversed.", id=leg.id)) from exc
    return reversals


def live_movements(
    organisation_id: int,
    *,
    kind: str,
    distribution_id: int | None = None,
    incident_id: int | None = None,
) -> list[StockMovement]:
    """Return the movements of a distribution or incident that have not been reversed."""
    reversed_ids = select(StockMovement.reverses_id).where(StockMovement.reverses_id.is_not(None))
    query = select(StockMovement).where(
        StockMovement.organisation_id == organisation_id,
        StockMovement.kind == kind,
        StockMovement.id.not_in(reversed_ids),
    )
    if distribution_id is not None:
        query = query.where(StockMovement.distribution_id == distribution_id)
    if incident_id is not None:
        query = query.where(StockMovement.incident_id == incident_id)
    return list(db.session.scalars(query.order_by(StockMovement.id)))


def _legs(movement: StockMovement) -> list[StockMovement]:
    if movement.transfer_group is None:
        return [movement]
    return list(
        db.session.scalars(
            select(StockMovement).where(
                StockMovement.organisation_id == movement.organisation_id,
                StockMovement.transfer_group == movement.transfer_group,
                StockMovement.kind.in_(("transfer_out", "transfer_in")),
            )
        )
    )


def _reversal_of(movement_id: int) -> StockMovement | None:
    return db.session.scalar(select(StockMovement).where(StockMovement.reverses_id == movement_id))


def _ensure_level(organisation_id: int, site_id: int, item_id: int) -> None:
    """Create the level row at zero if it is not there, without racing another writer."""
    dialect = db.session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    statement = (
        module.insert(StockLevel)
        .values(organisation_id=organisation_id, site_id=site_id, item_id=item_id, quantity=0)
        .on_conflict_do_nothing(index_elements=["site_id", "item_id"])
    )
    db.session.execute(statement)


def _lock_levels(keys: list[tuple[int, int]], organisation_id: int) -> None:
    """Make sure these (site, item) levels exist, then lock them in (site_id, item_id) order.

    A unit of work that moves several levels takes them all first, in one order shared by
    every writer: two opposite transfers then queue behind each other instead of each holding
    one level and waiting for the other, which PostgreSQL aborts as a deadlock. SQLite needs
    none of it: BEGIN IMMEDIATE already lets one writer in at a time.
    """
    ordered = sorted(set(keys))
    if len(ordered) < 2 or db.session.get_bind().dialect.name != "postgresql":
        return
    db.session.execute(
        postgresql.insert(StockLevel)
        .values(
            [
                {"organisation_id": organisation_id, "site_id": s, "item_id": i, "quantity": 0}
                for s, i in ordered
            ]
        )
        .on_conflict_do_nothing(index_elements=["site_id", "item_id"])
    )
    # PostgreSQL sorts first and locks the rows as they come out of the sort, in this order.
    db.session.execute(
        select(StockLevel.site_id)
        .where(tuple_(StockLevel.site_id, StockLevel.item_id).in_(ordered))
        .order_by(StockLevel.site_id, StockLevel.item_id)
        .with_for_update()
    ).all()


def _lock_level(organisation_id: int, site_id: int, item_id: int) -> int:
    """Return the current level, locked until the transaction ends."""
    _ensure_level(organisation_id, site_id, item_id)
    return db.session.execute(
        select(StockLevel.quantity)
        .where(StockLevel.site_id == site_id, StockLevel.item_id == item_id)
        .with_for_update()
    ).scalar_one()


# Built once: the two statements every movement runs (the write benchmark's hot path).
_TAKE_LEVEL = (
    update(StockLevel.__table__)
    .where(
        StockLevel.site_id == bindparam("site"),
        StockLevel.item_id == bindparam("item"),
        StockLevel.quantity >= bindparam("taken"),
    )
    .values(quantity=StockLevel.quantity - bindparam("taken"))
)

# One row: the organisation of the site and of the item (NULL when there is no such row),
# whether the item is dated or the site still holds lots of it (marked undated since), and the
# organisation's last level snapshot.
_OWNERS = select(
    select(Site.organisation_id).where(Site.id == bindparam("site")).scalar_subquery(),
    select(Item.organisation_id).where(Item.id == bindparam("item")).scalar_subquery(),
    select(Item.dated).where(Item.id == bindparam("item")).scalar_subquery(),
    exists().where(
        StockLot.site_id == bindparam("site"),
        StockLot.item_id == bindparam("item"),
        StockLot.quantity > 0,
    ),
    select(func.max(SnapshotTaken.taken_at))
    .where(SnapshotTaken.organisation_id == bindparam("org"))
    .scalar_subquery(),
)


def _check_owner(organisation_id: int, site_id: int, item_id: int) -> Standing:
    """Refuse a site or item of another organisation as if it did not exist; say what else to move.

    One query: the write benchmark's hot path.
    """
    parameters = {"site": site_id, "item": item_id, "org": organisation_id}
    site_owner, item_owner, dated, has_lots, last_snapshot = (
        db.session.connection().execute(_OWNERS, parameters).one()
    )
    if site_owner != organisation_id:
        raise NotFound(_l("No such site."), {"site_id": "unknown site"})
    if item_owner != organisation_id:
        raise NotFound(_l("No such item."), {"item_id": "unknown item"})
    return Standing(bool(dated), bool(dated) or bool(has_lots), last_snapshot)


def _add_level_statement(dialect: Any) -> Any:
    statement = dialect.insert(StockLevel.__table__).values(
        organisation_id=bindparam("org"),
        site_id=bindparam("site"),
        item_id=bindparam("item"),
        quantity=bindparam("added"),
    )
    return statement.on_conflict_do_update(
        index_elements=["site_id", "item_id"],
        set_={"quantity": StockLevel.quantity + statement.excluded.quantity},
    )


_ADD_LEVEL = {
    "postgresql": _add_level_statement(postgresql),
    "sqlite": _add_level_statement(sqlite),
}


def _move_level(organisation_id: int, site_id: int, item_id: int, delta: int, kind: str) -> None:
    """Add delta to the level; a decrement only when enough is held (no row: nothing held)."""
    connection = db.session.connection()
    if delta > 0:
        parameters = {"org": organisation_id, "site": site_id, "item": item_id, "added": delta}
        connection.execute(_ADD_LEVEL[connection.dialect.name], parameters)
        return
    taken = connection.execute(_TAKE_LEVEL, {"site": site_id, "item": item_id, "taken": -delta})
    if taken.rowcount == 0:
        have = held(site_id, item_id)
        item = get_item(organisation_id, item_id)
        site = get_site(organisation_id, site_id)
        raise InsufficientStock(
            _short(
                kind,
                held=i18n.number(have),
                item=item.label,
                site=site.name,
                wanted=i18n.number(-delta),
            ),
            {"quantity": f"{have} held"},
        )


def _short(kind: str, **values: Any) -> Any:
    """Say that a site holds too little for this movement, in a sentence for its kind."""
    if kind == "transfer_out":
        return _l("Only %(held)s %(item)s at %(site)s; cannot move %(wanted)s.", **values)
    if kind == "distribution":
        return _l("Only %(held)s %(item)s at %(site)s; cannot give out %(wanted)s.", **values)
    if kind == "loss":
        return _l("Only %(held)s %(item)s at %(site)s; cannot write off %(wanted)s.", **values)
    if kind == "adjustment":
        return _l("Only %(held)s %(item)s at %(site)s; cannot take off %(wanted)s.", **values)
    if kind == "consumption":
        return _l("Only %(held)s %(item)s at %(site)s; cannot use %(wanted)s.", **values)
    if kind == "reversal":
        return _l("Only %(held)s %(item)s at %(site)s; cannot reverse %(wanted)s.", **values)
    return _l("Only %(held)s %(item)s at %(site)s; cannot take out %(wanted)s.", **values)


def _check_quantity(quantity: int, allow_negative: bool = False) -> None:
    # Scripts and the CSV import reach the ledger too: the type is checked here as well.
    if not isinstance(quantity, int) or isinstance(quantity, bool):
        raise ValidationError(_l("Quantity must be a whole number."), {"quantity": "whole number"})
    if quantity == 0 or (quantity < 0 and not allow_negative):
        raise ValidationError(_l("Quantity must be more than zero."), {"quantity": "more than 0"})
    if abs(quantity) > MAX_QUANTITY:
        raise ValidationError(_l("That quantity is too large."), {"quantity": "too large"})


# Earlier times are typing mistakes (year 1 for 2024), and do not survive a time zone change.
EARLIEST_TIME = limits.EARLIEST_TIME


def _check_when(occurred_at: datetime | None) -> datetime:
    """Return when a movement happened: now when not given; refuse a time before 2000 or ahead."""
    now = utcnow()
    if occurred_at is None:
        return now
    if occurred_at.tzinfo is None:
        raise ValidationError(_l("Give the time with its time zone."), {"occurred_at": "no offset"})
    if occurred_at < EARLIEST_TIME:
        raise ValidationError(
            _l("That date is too far in the past."), {"occurred_at": "before 2000-01-01"}
        )
    if occurred_at > now + CLOCK_SKEW:
        raise ValidationError(_l("That time is in the future."), {"occurred_at": "in the future"})
    return occurred_at


def _require_reason(reason: str) -> None:
    if not reason or not reason.strip():
        raise ValidationError(_l("Say why (a short reason)."), {"reason": "required"})


__all__ = [
    "adjust",
    "get_item",
    "get_movement",
    "get_site",
    "held",
    "receive",
    "record",
    "record_loss",
    "record_shipment",
    "reverse",
    "transfer",
]
