"""Best-before lots: dated stock held per date, taken earliest first, checked against the ledger.

Only the ledger's write path (services/ledger.py) moves lots, in the same transaction and under
the same level lock as the movement: a lot never goes below zero, and the lots of a (site, item)
never add up to more than its level. What the level holds beyond its lots is undated and goes
last. Each movement of a dated item writes the lot draws that explain it, so a reversal returns
exactly what was taken and `check_lots` can add the draws up.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from .. import i18n
from ..extensions import db
from ..models import Item, LotDraw, Site, StockLevel, StockLot
from .errors import InsufficientStock, ValidationError
from .rows import names_of

# A best-before date this far out is a typing mistake (2062 for 2026), not a tin of beans.
LATEST_BEST_BEFORE_YEARS = 20
EARLIEST_BEST_BEFORE = date(2000, 1, 1)
# Lots that reach their date within this many days are flagged: "give them first".
EXPIRING_WITHIN_DAYS = 14

Share = tuple[date, int]  # (best-before date, a quantity > 0)


@dataclass(frozen=True)
class Lot:
    site_id: int
    item_id: int
    best_before: date
    quantity: int


def require_best_before(item_label: str) -> None:
    """Refuse a receipt of a dated item that does not say its best-before date."""
    raise ValidationError(
        _l("Give the best-before date of %(item)s.", item=item_label),
        {"best_before": "required for a dated item"},
    )


def check_best_before(value: date) -> None:
    """Refuse a best-before date no one could mean."""
    today = date.today()
    latest = today.replace(year=today.year + LATEST_BEST_BEFORE_YEARS)
    if not EARLIEST_BEST_BEFORE <= value <= latest:
        raise ValidationError(
            _l("That best-before date is not a real one."), {"best_before": "out of range"}
        )


def refuse_undated(item_label: str) -> None:
    """Refuse a best-before date for an item held without dates."""
    raise ValidationError(
        _l("%(item)s is not a dated item: leave the best-before date empty.", item=item_label),
        {"best_before": "item is not dated"},
    )


def _add_statement(dialect: object) -> object:
    statement = dialect.insert(StockLot.__table__).values(  # type: ignore[attr-defined]
        organisation_id=bindparam("org"),
        site_id=bindparam("site"),
        item_id=bindparam("item"),
        best_before=bindparam("best_before"),
        quantity=bindparam("added"),
    )
    return statement.on_conflict_do_update(
        index_elements=["site_id", "item_id", "best_before"],
        set_={"quantity": StockLot.quantity + statement.excluded.quantity},
    )


_ADD = {"postgresql": _add_statement(postgresql), "sqlite": _add_statement(sqlite)}
# The level lock is held already; the guard keeps a lot from going below zero all the same.
_TAKE = (
    update(StockLot.__table__)
    .where(
        StockLot.site_id == bindparam("site"),
        StockLot.item_id == bindparam("item"),
        StockLot.best_before == bindparam("lot"),
        StockLot.quantity >= bindparam("taken"),
    )
    .values(quantity=StockLot.quantity - bindparam("taken"))
)


def put_in(organisation_id: int, site_id: int, item_id: int, shares: Sequence[Share]) -> None:
    """Add each share to its lot at the site, making the lot when it is new."""
    connection = db.session.connection()
    connection.execute(
        _ADD[connection.dialect.name],
        [
            {"org": organisation_id, "site": site_id, "item": item_id, "best_before": d, "added": q}
            for d, q in shares
        ],
    )


def held_lots(site_id: int, item_id: int) -> list[Share]:
    """Return the site's lots of the item that hold something, earliest date first."""
    rows = db.session.execute(
        select(StockLot.best_before, StockLot.quantity)
        .where(StockLot.site_id == site_id, StockLot.item_id == item_id, StockLot.quantity > 0)
        .order_by(StockLot.best_before)
    )
    return [(best_before, quantity) for best_before, quantity in rows]


def plan_take(held: Sequence[Share], quantity: int, first: Sequence[Share] = ()) -> list[Share]:
    """Return what to take from the lots: the shares named first as far as they go, then earliest.

    What the lots cannot give comes from the undated rest of the level (the caller has checked
    the level holds it).
    """
    left = dict(held)
    taken: dict[date, int] = defaultdict(int)
    wanted = quantity
    for best_before, amount in (*first, *held):
        if wanted == 0:
            break
        share = min(amount, left.get(best_before, 0), wanted)
        if share > 0:
            taken[best_before] += share
            left[best_before] -= share
            wanted -= share
    return sorted(taken.items())


def take_out(
    organisation_id: int,
    site_id: int,
    item_id: int,
    quantity: int,
    *,
    chosen: date | None = None,
    first: Sequence[Share] = (),
) -> list[Share]:
    """Take quantity from the lots, earliest first or from the chosen lot; return the draws."""
    held = held_lots(site_id, item_id)
    if chosen is not None:
        have = dict(held).get(chosen, 0)
        if have < quantity:
            raise InsufficientStock(
                _lot_short(organisation_id, site_id, item_id, chosen, have, quantity),
                {"best_before": f"{have} held with this date"},
            )
        shares = [(chosen, quantity)]
    else:
        shares = plan_take(held, quantity, first)
    if shares:
        result = db.session.connection().execute(
            _TAKE,
            [{"site": site_id, "item": item_id, "lot": d, "taken": q} for d, q in shares],
        )
        if result.rowcount != len(shares):  # only if a writer got past the level lock
            raise InsufficientStock(_l("Those lots changed meanwhile; try again."))
    return shares


def _lot_short(
    organisation_id: int, site_id: int, item_id: int, chosen: date, have: int, wanted: int
) -> object:
    item = db.session.get(Item, item_id)
    site = db.session.get(Site, site_id)
    return _l(
        "Only %(held)s %(item)s best before %(date)s at %(site)s; cannot take out %(wanted)s.",
        held=i18n.number(have),
        item=item.label if item else "",
        date=i18n.when(chosen, "day_month"),
        site=site.name if site else "",
        wanted=i18n.number(wanted),
    )


def write_draws(
    organisation_id: int, movement_id: int, site_id: int, item_id: int, draws: Iterable[Share]
) -> None:
    """Record how the movement moved each lot (signed: + put in, − taken out)."""
    rows = [
        {
            "organisation_id": organisation_id,
            "movement_id": movement_id,
            "site_id": site_id,
            "item_id": item_id,
            "best_before": best_before,
            "quantity": quantity,
        }
        for best_before, quantity in draws
        if quantity
    ]
    if rows:
        db.session.execute(insert(LotDraw), rows)


def draws_of(movement_id: int) -> list[Share]:
    """Return how a movement moved the lots (signed), earliest date first."""
    rows = db.session.execute(
        select(LotDraw.best_before, LotDraw.quantity)
        .where(LotDraw.movement_id == movement_id)
        .order_by(LotDraw.best_before)
    )
    return [(best_before, quantity) for best_before, quantity in rows]


def lots_by_level(
    organisation_id: int, *, site_id: int | None = None, item_id: int | None = None
) -> dict[tuple[int, int], list[dict[str, Any]]]:
    """Return every held lot keyed by (site, item), earliest first, as the API lists them.

    One query, read as plain rows: the stock API lists thousands.
    """
    query = (
        select(StockLot.site_id, StockLot.item_id, StockLot.best_before, StockLot.quantity)
        .where(StockLot.organisation_id == organisation_id, StockLot.quantity > 0)
        .order_by(StockLot.site_id, StockLot.item_id, StockLot.best_before)
    )
    if site_id is not None:
        query = query.where(StockLot.site_id == site_id)
    if item_id is not None:
        query = query.where(StockLot.item_id == item_id)
    found: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
    for site, item, best_before, quantity in db.session.connection().execute(query):
        found[(site, item)].append({"best_before": best_before, "quantity": quantity})
    return dict(found)


@dataclass(frozen=True)
class Expiring:
    """A held lot at or near its best-before date, with the names people read."""

    site_id: int
    site: str
    item_id: int
    label: str
    unit: str
    best_before: date
    quantity: int

    def figures(self, today: date) -> dict[str, Any]:
        """Return the lot as an alert keeps it (plain JSON values)."""
        return {
            "site_id": self.site_id,
            "site": self.site,
            "item_id": self.item_id,
            "label": self.label,
            "unit": self.unit,
            "best_before": self.best_before.isoformat(),
            "quantity": self.quantity,
            "expired": self.best_before < today,
        }

    def text(self, today: date) -> str:
        """Say what to do about the lot today (see expiry_text)."""
        return expiry_text(self.figures(today), today)


def expiring(
    organisation_id: int,
    today: date,
    within_days: int = EXPIRING_WITHIN_DAYS,
    limit: int | None = None,
) -> list[Expiring]:
    """Return the held lots whose date is past or within the days ahead, earliest first."""
    rows = db.session.execute(
        select(
            StockLot.site_id,
            Site.name,
            Item,
            StockLot.best_before,
            StockLot.quantity,
        )
        .join(Item, Item.id == StockLot.item_id)
        .join(Site, Site.id == StockLot.site_id)
        .where(*_expiring(organisation_id, today, within_days))
        .order_by(StockLot.best_before, Item.name, Site.name)
        .limit(limit)
    )
    return [
        Expiring(site_id, site, item.id, item.label, item.unit, best_before, quantity)
        for site_id, site, item, best_before, quantity in rows
    ]


def count_expiring(
    organisation_id: int, today: date, within_days: int = EXPIRING_WITHIN_DAYS
) -> int:
    """Count the held lots whose date is past or within the days ahead."""
    return db.session.scalar(
        select(func.count())
        .select_from(StockLot)
        .join(Item, Item.id == StockLot.item_id)
        .where(*_expiring(organisation_id, today, within_days))
    )


def _expiring(organisation_id: int, today: date, within_days: int) -> tuple[Any, ...]:
    """Return the conditions of a lot near its date: held, of an active item, dated soon."""
    return (
        StockLot.organisation_id == organisation_id,
        StockLot.quantity > 0,
        StockLot.best_before <= today + timedelta(days=within_days),
        Item.active.is_(True),
    )


def expiry_text(figures: dict[str, Any], today: date) -> str:
    """Say what to do about a lot: "320 Meal pack at Depot expire on 12 Dec — give them first"."""
    best_before = date.fromisoformat(figures["best_before"])
    values = {
        "quantity": i18n.number(figures["quantity"]),
        "item": figures["label"],
        "site": figures["site"],
        "day": i18n.when(best_before, "day_month"),
    }
    if best_before < today:
        return _(
            "%(quantity)s %(item)s at %(site)s expired on %(day)s — check them or write them"
            " off as expired",
            **values,
        )
    return _("%(quantity)s %(item)s at %(site)s expire on %(day)s — give them first", **values)


@dataclass(frozen=True)
class LotMismatch:
    organisation_id: int
    site: str
    item: str
    best_before: date | None  # None: the lots together exceed the level
    held: int
    expected: int


def check_lots(organisation_id: int | None = None) -> list[LotMismatch]:
    """Return every lot that differs from the sum of its draws, and every level its lots exceed."""
    draws = (
        select(
            LotDraw.site_id,
            LotDraw.item_id,
            LotDraw.best_before,
            func.sum(LotDraw.quantity).label("total"),
        )
        .group_by(LotDraw.site_id, LotDraw.item_id, LotDraw.best_before)
        .subquery()
    )
    lot_side = select(
        StockLot.organisation_id,
        StockLot.site_id,
        StockLot.item_id,
        StockLot.best_before,
        StockLot.quantity,
        func.coalesce(draws.c.total, 0),
    ).outerjoin(
        draws,
        and_(
            draws.c.site_id == StockLot.site_id,
            draws.c.item_id == StockLot.item_id,
            draws.c.best_before == StockLot.best_before,
        ),
    )
    orphans = (
        select(
            Site.organisation_id,
            draws.c.site_id,
            draws.c.item_id,
            draws.c.best_before,
            func.cast(0, StockLot.quantity.type),
            draws.c.total,
        )
        .join(Site, Site.id == draws.c.site_id)
        .outerjoin(
            StockLot,
            and_(
                StockLot.site_id == draws.c.site_id,
                StockLot.item_id == draws.c.item_id,
                StockLot.best_before == draws.c.best_before,
            ),
        )
        .where(StockLot.id.is_(None), draws.c.total != 0)
    )
    sums = (
        select(StockLot.site_id, StockLot.item_id, func.sum(StockLot.quantity).label("dated"))
        .group_by(StockLot.site_id, StockLot.item_id)
        .subquery()
    )
    over_level = (
        select(
            Site.organisation_id,
            sums.c.site_id,
            sums.c.item_id,
            func.coalesce(StockLevel.quantity, 0),
            sums.c.dated,
        )
        .join(Site, Site.id == sums.c.site_id)
        .outerjoin(
            StockLevel,
            and_(StockLevel.site_id == sums.c.site_id, StockLevel.item_id == sums.c.item_id),
        )
        .where(sums.c.dated > func.coalesce(StockLevel.quantity, 0))
    )
    found: list[tuple[int, int, int, date | None, int, int]] = []
    for org, site, item, best_before, held, total in db.session.execute(lot_side):
        if held != total:
            found.append((org, site, item, best_before, held, int(total)))
    for org, site, item, best_before, held, total in db.session.execute(orphans):
        found.append((org, site, item, best_before, int(held), int(total)))
    for org, site, item, level, dated in db.session.execute(over_level):
        found.append((org, site, item, None, int(dated), int(level)))
    if organisation_id is not None:
        found = [row for row in found if row[0] == organisation_id]
    sites, items = names_of((row[1] for row in found), (row[2] for row in found))
    return [
        LotMismatch(org, sites[site], items[item], best_before, held, expected)
        for org, site, item, best_before, held, expected in found
    ]
