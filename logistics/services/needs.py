"""Needs and shortages per item, exactly as docs/needs.md describes them."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import BindParameter, ColumnElement, Row, Select, and_, bindparam, func, select
from sqlalchemy.orm import aliased

from .. import limits
from ..extensions import db
from ..i18n import current_language
from ..models import (
    Distribution,
    DistributionLine,
    Item,
    Organisation,
    PeopleEstimate,
    Site,
    StockLevel,
    StockMovement,
)
from ..models.catalogue import item_label
from ..models.types import utcnow
from . import kitchen, replacement
from .accounts import organisation_zone
from .catalogue import meal_item_clause
from .errors import ValidationError

RATE_WINDOW_DAYS = 28
CRITICAL_WINDOW = timedelta(hours=48)
# Kinds whose outflow counts as use: given out, lost from stock, used in cooking.
USE_KINDS = ("distribution", "loss", "consumption")
STATUS_ORDER = {"critical": 0, "warning": 1, "ok": 2}
MAX_HORIZON_DAYS = limits.MAX_HORIZON_DAYS
# What a need reads of each item, in the order _need unpacks it.
NEED_ITEM_COLUMNS = (
    Item.id,
    Item.name,
    Item.name_fr,
    Item.size,
    Item.category,
    Item.unit,
    Item.min_stock,
    Item.cover_target_days,
    Item.per_person_per_day,
)


@dataclass(frozen=True)
class Need:
    """Every figure of one item's need, and the terms that produced it."""

    item_id: int
    label: str
    category: str
    unit: str
    held: int
    consumption_rate: float
    committed: int
    committed_48h: int
    people: int
    per_person_per_day: float
    need_from_committed: int
    need_from_rate: float
    need_from_people: float
    # Replacement of what evictions destroyed, due within 24 hours of each (docs/needs.md).
    need_from_replacement: int
    min_stock: int
    need: int
    shortfall: int
    days_of_cover: float | None
    cover_target_days: int
    short_by: datetime | None
    status: str
    horizon_days: int
    # Where the stock is: (site id, site name, quantity), most first.
    held_at: tuple[tuple[int, str, int], ...] = ()

    def figures(self) -> dict:
        """Return the figures as plain JSON values (for alerts, webhooks and the API)."""
        # Every field is a plain value: a shallow dict, not asdict's recursive deep copy.
        values = {field.name: getattr(self, field.name) for field in fields(self)}
        values["short_by"] = self.short_by.isoformat() if self.short_by else None
        values["held_at"] = [
            {"site_id": site_id, "site": name, "quantity": quantity}
            for site_id, name, quantity in self.held_at
        ]
        return values


def compute_needs(
    organisation_id: int,
    horizon_days: int | None = None,
    now: datetime | None = None,
    *,
    sites: bool = True,
) -> list[Need]:
    """Return the needs of every active item, most urgent first.

    Without `sites` the needs name no site (held_at is empty): a page names them for the
    rows it shows through with_sites, instead of reading every level of a federation.
    """
    organisation = db.session.get(Organisation, organisation_id)
    horizon = organisation.forecast_horizon_days if horizon_days is None else horizon_days
    if not 1 <= horizon <= MAX_HORIZON_DAYS:
        raise ValidationError(
            _l("The horizon is 1 to %(most)s days.", most=MAX_HORIZON_DAYS),
            {"horizon_days": "out of range"},
        )
    moment = now or utcnow()
    # Columns, not Item objects: building 500 ORM objects costs several times the query.
    items = (
        db.session.connection()
        .execute(
            select(*NEED_ITEM_COLUMNS).where(
                Item.organisation_id == organisation_id, Item.active.is_(True)
            )
        )
        .all()
    )
    held = _held(organisation_id)
    used = _used(organisation_id, moment - timedelta(days=RATE_WINDOW_DAYS), moment)
    # Critical looks 48 hours ahead even when the horizon is shorter.
    plan = _planned(organisation_id, moment, moment + max(timedelta(days=horizon), CRITICAL_WINDOW))
    replacing = replacement.demand(organisation_id, moment)
    local_day = moment.astimezone(organisation_zone(organisation_id)).date()
    people = people_estimate(organisation_id, local_day)
    frame = _Frame(
        moment=moment,
        horizon=horizon,
        horizon_end=moment + timedelta(days=horizon),
        critical_end=moment + CRITICAL_WINDOW,
        people=people,
        language=current_language(),
    )
    needs = [
        _need(
            item,
            held.get(item.id, 0),
            used.get(item.id, 0),
            plan.get(item.id, []),
            replacing.get(item.id, []),
            frame,
        )
        for item in items
    ]
    needs.sort(
        key=lambda n: (STATUS_ORDER[n.status], -n.shortfall, n.days_of_cover or math.inf, n.label)
    )
    return with_sites(organisation_id, needs) if sites else needs


@dataclass(frozen=True)
class _Frame:
    """What every item's need is computed against: the moment, its windows, people, language."""

    moment: datetime
    horizon: int
    horizon_end: datetime
    critical_end: datetime
    people: int
    language: str


def _need(
    item: Row[Any],
    held: int,
    used: int,
    plan: list[tuple[datetime, int]],
    replacing: list[tuple[datetime, int]],
    frame: _Frame,
) -> Need:
    item_id, name, name_fr, size, category, unit, min_stock, cover_target, per_person_day = item
    horizon = frame.horizon
    rate = used / RATE_WINDOW_DAYS
    # Most items have no distribution planned: nothing to add up or to sort.
    in_horizon = [entry for entry in plan if entry[0] < frame.horizon_end] if plan else plan
    committed = sum(quantity for _starts, quantity in in_horizon)
    # Replacement is due within 24 hours: inside the 48 hours and the horizon alike.
    from_replacement = sum(quantity for _due, quantity in replacing)
    committed_48h = (
        sum(q for starts, q in plan if starts < frame.critical_end) if plan else 0
    ) + from_replacement
    per_person = float(per_person_day) if per_person_day else 0.0
    from_rate = rate * horizon
    from_people = frame.people * per_person * horizon
    need = math.ceil(max(committed, from_rate, from_people)) + from_replacement + min_stock
    shortfall = max(0, need - held)
    cover = held / rate if rate > 0 else None
    if held < committed_48h or (held == 0 and committed + from_replacement > 0):
        status = "critical"
    elif shortfall > 0 or (cover is not None and cover < cover_target):
        status = "warning"
    else:
        status = "ok"
    return Need(
        item_id=item_id,
        label=item_label(name, size, name_fr, frame.language),
        category=category,
        unit=unit,
        held=held,
        consumption_rate=rate,
        committed=committed,
        committed_48h=committed_48h,
        people=frame.people,
        per_person_per_day=per_person,
        need_from_committed=committed,
        need_from_rate=from_rate,
        need_from_people=from_people,
        need_from_replacement=from_replacement,
        min_stock=min_stock,
        need=need,
        shortfall=shortfall,
        days_of_cover=cover,
        cover_target_days=cover_target,
        short_by=_short_by(held, in_horizon + replacing, rate, frame.moment),
        status=status,
        horizon_days=horizon,
    )


def _short_by(
    held: int, plan: list[tuple[datetime, int]], rate: float, moment: datetime
) -> datetime | None:
    """Return when stock runs out: the first distribution it cannot cover, else at the rate."""
    remaining = held
    for starts, quantity in sorted(plan):
        remaining -= quantity
        if remaining < 0:
            return starts
    if rate > 0:
        return moment + timedelta(days=held / rate)
    return None


def with_sites(organisation_id: int, needs: list[Need]) -> list[Need]:
    """Return these needs naming the sites that hold each item, in one query."""
    held_at = _held_at(organisation_id, {need.item_id for need in needs})
    return [replace(need, held_at=tuple(held_at.get(need.item_id, ()))) for need in needs]


def _held(organisation_id: int) -> dict[int, int]:
    """Return what every site together holds of each item."""
    rows = db.session.connection().execute(
        select(StockLevel.item_id, func.sum(StockLevel.quantity))
        .where(StockLevel.organisation_id == organisation_id)
        .group_by(StockLevel.item_id)
    )
    return {item_id: int(total) for item_id, total in rows.all()}


def _held_at(organisation_id: int, item_ids: set[int]) -> dict[int, list[tuple[int, str, int]]]:
    """Return per item of these the sites that hold it, most first (any kind of site)."""
    if not item_ids:
        return {}
    connection = db.session.connection()
    names = dict(
        connection.execute(
            select(Site.id, Site.name).where(Site.organisation_id == organisation_id)
        ).all()
    )
    # Plain rows fetched at once, named from the sites read once: a federation holds 10,000
    # levels, and a join or a fetch per row cost more than the figures themselves.
    rows = connection.execute(
        select(StockLevel.item_id, StockLevel.site_id, StockLevel.quantity).where(
            StockLevel.organisation_id == organisation_id,
            StockLevel.quantity != 0,
            StockLevel.item_id.in_(sorted(item_ids)),
        )
    ).all()
    held: dict[int, list[tuple[int, str, int]]] = defaultdict(list)
    for item_id, site_id, quantity in sorted(rows, key=lambda r: (r[0], -r[2], names[r[1]])):
        held[item_id].append((site_id, names[site_id], quantity))
    return held


def _used(organisation_id: int, start: datetime, end: datetime) -> dict[int, int]:
    """Return what went out as use in the window, net of reversals of such movements.

    A reversal counts in the window of the movement it undoes, so correcting an old
    outcome never lowers today's rate.
    """
    values = {"organisation_id": organisation_id, "start": start, "end": end}
    connection = db.session.connection()
    used: dict[int, int] = defaultdict(int)
    for query in _use_queries():
        for item_id, total in connection.execute(query, values).all():
            used[item_id] -= int(total)
    return used


@cache
def _use_queries() -> tuple[Select[tuple[int, int]], ...]:
    """Build the queries of _used once; each call binds its values (building took 1.3 ms).

    Two queries, each reading its own range of ix_stock_movement_org_kind_occurred: what was
    used in the window, and the reversals of such movements since it began.
    """
    organisation_id = bindparam("organisation_id")
    start, end = bindparam("start"), bindparam("end")
    # Meals a kitchen cooks on the day are not stock used up: their ingredients are.
    cooked = _cooked_on_the_day(organisation_id, StockMovement.site_id, StockMovement.item_id)
    total = select(StockMovement.item_id, func.sum(StockMovement.quantity)).where(
        StockMovement.organisation_id == organisation_id, ~cooked
    )
    original = aliased(StockMovement)
    return (
        total.where(
            StockMovement.kind.in_(USE_KINDS),
            StockMovement.occurred_at >= start,
            StockMovement.occurred_at < end,
        ).group_by(StockMovement.item_id),
        total.join(original, original.id == StockMovement.reverses_id)
        .where(
            StockMovement.kind == "reversal",
            # A reversal is recorded after what it undoes: this bound keeps the range short.
            StockMovement.occurred_at >= start,
            original.kind.in_(USE_KINDS),
            original.occurred_at >= start,
            original.occurred_at < end,
        )
        .group_by(StockMovement.item_id),
    )


def _planned(
    organisation_id: int, start: datetime, end: datetime
) -> dict[int, list[tuple[datetime, int]]]:
    """Return per item what planned distributions take, (start, quantity), in the period.

    Lines of distributions starting at the same time are added up (a federation's points all
    open at 18:30): what is committed and when stock runs out read the same, from fewer rows.
    """
    rows = db.session.connection().execute(
        _planned_query(), {"organisation_id": organisation_id, "start": start, "end": end}
    )
    plan: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for item_id, starts_at, quantity in rows.all():
        plan[item_id].append((starts_at, int(quantity)))
    # Planned meals need their ingredients, by the recipe each kitchen chose for the day.
    for item_id, demand in kitchen.ingredient_demand(organisation_id, start, end).items():
        plan[item_id].extend(demand)
    return plan


@cache
def _planned_query() -> Select[tuple[int, datetime, int]]:
    """Build the query of _planned once; each call binds its values."""
    organisation_id = bindparam("organisation_id")
    # Columns only: loading a Site and an Item object per planned line cost more than the query.
    return (
        select(
            DistributionLine.item_id,
            Distribution.starts_at,
            func.sum(DistributionLine.planned_quantity),
        )
        .join(Distribution, Distribution.id == DistributionLine.distribution_id)
        .where(
            Distribution.organisation_id == organisation_id,
            Distribution.status == "planned",
            Distribution.starts_at >= bindparam("start"),
            Distribution.starts_at < bindparam("end"),
            DistributionLine.planned_quantity > 0,
            # Meals from a kitchen are cooked for each distribution, not taken from stock.
            ~_cooked_on_the_day(
                organisation_id, DistributionLine.source_site_id, DistributionLine.item_id
            ),
        )
        .group_by(DistributionLine.item_id, Distribution.starts_at)
    )


def _cooked_on_the_day(
    organisation_id: int | BindParameter[int],
    site_id: ColumnElement[int],
    item_id: ColumnElement[int],
) -> ColumnElement[bool]:
    """Return the condition "a meal item at a kitchen": cooked on the day, not held in stock.

    The same test as catalogue.cooked_to_plan (units are stored stripped), as IN subqueries:
    with joins PostgreSQL misjudges the rows left by an OR and loops over every item for each
    movement in _used (380 ms instead of 17 ms at 1M movements).
    """
    kitchens = select(Site.id).where(
        Site.organisation_id == organisation_id, Site.kind == "kitchen"
    )
    meals = select(Item.id).where(Item.organisation_id == organisation_id, meal_item_clause())
    return and_(site_id.in_(kitchens), item_id.in_(meals))


# --- people estimates -----------------------------------------------------------------------


def record_estimate(
    organisation_id: int, user_id: int | None, *, area: str, people: int, as_of: date
) -> PeopleEstimate:
    """Record how many people an area has on a date."""
    clean_area = " ".join((area or "").split())
    if not clean_area or len(clean_area) > limits.MAX_AREA:
        raise ValidationError(_l("Name the area (town or district)."), {"area": "required"})
    if not 0 <= people <= limits.MAX_PEOPLE:
        raise ValidationError(
            _l("People is a whole number, 0 or more."), {"people": "whole number"}
        )
    if as_of is None:
        raise ValidationError(_l("Give the date of the estimate."), {"as_of": "required"})
    local_today = utcnow().astimezone(organisation_zone(organisation_id)).date()
    if as_of > local_today:
        raise ValidationError(_l("An estimate cannot be dated in the future."), {"as_of": "future"})
    estimate = PeopleEstimate(
        organisation_id=organisation_id,
        area=clean_area,
        people=people,
        as_of=as_of,
        created_by_id=user_id,
    )
    db.session.add(estimate)
    db.session.flush()
    return estimate


def latest_estimates(organisation_id: int, on: date) -> list[PeopleEstimate]:
    """Return the latest estimate per area on or before a date."""
    latest: dict[str, PeopleEstimate] = {}
    rows = db.session.scalars(
        select(PeopleEstimate)
        .where(PeopleEstimate.organisation_id == organisation_id, PeopleEstimate.as_of <= on)
        .order_by(PeopleEstimate.as_of, PeopleEstimate.id)
    )
    for estimate in rows:
        latest[estimate.area] = estimate
    return sorted(latest.values(), key=lambda e: e.area)


def people_estimate(organisation_id: int, on: date) -> int:
    """Return the people estimate: the latest per area, added up."""
    return sum(e.people for e in latest_estimates(organisation_id, on))


def estimates_history(organisation_id: int, limit: int = 50) -> list[PeopleEstimate]:
    """Return the most recent estimates, newest first."""
    return list(
        db.session.scalars(
            select(PeopleEstimate)
            .where(PeopleEstimate.organisation_id == organisation_id)
            .order_by(PeopleEstimate.as_of.desc(), PeopleEstimate.id.desc())
            .limit(limit)
        )
    )
