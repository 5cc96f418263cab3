"""Kitchens: meal forecasts and plans, recipes, menus, ingredient needs, cooking and leftovers.

The forecast is docs/needs.md's: expected headcount = mean headcount of the last 4 held
occurrences of the series on the same weekday, else of the last 7 held of the series, else the
plan; recommended meals = ceil(expected × (1 + buffer %)).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from .. import i18n, limits
from ..extensions import db
from ..models import (
    Cooking,
    Distribution,
    DistributionLine,
    DistributionSeries,
    Item,
    MenuChoice,
    Organisation,
    Recipe,
    RecipeLine,
    Site,
    StockLevel,
    StockMovement,
)
from ..models.types import utcnow
from . import distributions, ledger
from .catalogue import is_meal, meal_item_clause
from .coverage import levels
from .errors import Conflict, ValidationError
from .lines import sync_lines
from .outgoing import Take, take_all
from .rows import owned

SAME_WEEKDAY_OCCURRENCES = 4
SERIES_OCCURRENCES = 7
# A series has one occurrence a day, so 4 same weekdays lie within 28 held ones; 100 leaves
# room for weekdays that were often cancelled.
HISTORY_LIMIT = 100
MAX_PLAN_DAYS = limits.MAX_KITCHEN_PLAN_DAYS
MAX_MEALS = limits.MAX_MEALS
MAX_PER_100 = Decimal(limits.MAX_PER_100)
PER_100_PLACES = Decimal("0.001")
MAX_NAME = limits.MAX_RECIPE_NAME
MAX_NOTES = limits.MAX_DIETARY_NOTES
LEFTOVER_REASON = "Leftovers (spoilage)"

# (ingredient item id, quantity per 100 meals) and (recipe id, meals), as forms and the API give.
RecipeLineInput = tuple[int, Decimal]
SplitInput = tuple[int, int]


# --- lookups ---------------------------------------------------------------------------------


def kitchens(organisation_id: int) -> list[Site]:
    """Return the organisation's active kitchen sites by name."""
    return list(
        db.session.scalars(
            select(Site)
            .where(
                Site.organisation_id == organisation_id,
                Site.kind == "kitchen",
                Site.active.is_(True),
            )
            .order_by(Site.name)
        )
    )


def meal_items(organisation_id: int) -> list[Item]:
    """Return the organisation's active meal items by name."""
    return _active_items(organisation_id, meal_item_clause())


def ingredient_items(organisation_id: int) -> list[Item]:
    """Return the organisation's active ingredient items by name."""
    return _active_items(organisation_id, Item.category == "ingredient")


def kitchen_stock(organisation_id: int) -> list[tuple[Site, list[tuple[Item, int]]]]:
    """Return, per active kitchen, the meals then the ingredients it holds now, in one query."""
    sites = kitchens(organisation_id)
    rows = db.session.execute(
        select(StockLevel.site_id, Item, StockLevel.quantity)
        .join(Item, Item.id == StockLevel.item_id)
        .where(
            StockLevel.site_id.in_([site.id for site in sites]),
            StockLevel.quantity != 0,
            Item.active.is_(True),
            # Meals and ingredients only: a kitchen may hold blankets too.
            or_(Item.category == "ingredient", meal_item_clause()),
        )
    )
    held: dict[int, list[tuple[Item, int]]] = defaultdict(list)
    for site_id, item, quantity in rows:
        if is_meal(item) or item.category == "ingredient":
            held[site_id].append((item, quantity))
    for found in held.values():
        found.sort(key=lambda pair: (not is_meal(pair[0]), pair[0].label))
    return [(site, held[site.id]) for site in sites]


def _active_items(organisation_id: int, kind: ColumnElement[bool]) -> list[Item]:
    """Return the organisation's active items of a kind by name: read alone, not the catalogue."""
    return list(
        db.session.scalars(
            select(Item)
            .where(Item.organisation_id == organisation_id, Item.active.is_(True), kind)
            .order_by(Item.name, Item.size)
        )
    )


def get_kitchen(organisation_id: int, site_id: int) -> Site:
    """Return the organisation's kitchen site, or refuse a site that is not a kitchen."""
    site = ledger.get_site(organisation_id, site_id)
    if site.kind != "kitchen":
        raise ValidationError(
            _l("%(site)s is not a kitchen.", site=site.name), {"site_id": "not a kitchen"}
        )
    return site


def get_meal_item(organisation_id: int, item_id: int) -> Item:
    """Return the organisation's meal item, or refuse an item that is not counted in meals."""
    item = ledger.get_item(organisation_id, item_id)
    if not is_meal(item):
        raise ValidationError(
            _l(
                "%(item)s is not a meal item (its unit is %(unit)s).",
                item=item.label,
                unit=item.unit,
            ),
            {"meal_item_id": "not a meal"},
        )
    return item


def get_recipe(organisation_id: int, recipe_id: int) -> Recipe:
    """Return the organisation's recipe or raise NotFound."""
    return owned(
        Recipe, organisation_id, recipe_id, _l("No such recipe."), {"recipe_id": "unknown recipe"}
    )


# --- the forecast ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Forecast:
    """An expected headcount, the rule that gave it and the past headcounts it used."""

    expected: Fraction
    basis: str
    past: list[tuple[date, int]]  # (local date, headcount), newest first

    @property
    def expected_headcount(self) -> float:
        return round(float(self.expected), 1)

    @property
    def expected_people(self) -> int:
        """Return the expected headcount as people come: whole, half up (402.5 -> 403)."""
        return int(self.expected + Fraction(1, 2))


def forecast(day: date, history: Sequence[tuple[date, int]], planned: int) -> Forecast:
    """Return the expected headcount on a day from its series' held headcounts (newest first)."""
    before = [(d, h) for d, h in history if d < day]
    same = [(d, h) for d, h in before if d.weekday() == day.weekday()]
    if len(same) >= SAME_WEEKDAY_OCCURRENCES:
        used = same[:SAME_WEEKDAY_OCCURRENCES]
        return Forecast(_mean(used), "same_weekday", used)
    if before:
        used = before[:SERIES_OCCURRENCES]
        return Forecast(_mean(used), "series", used)
    return Forecast(Fraction(planned), "plan", [])


def recommended_meals(expected: Fraction, buffer_percent: int) -> int:
    """Return ceil(expected × (1 + buffer %)), exactly (no float rounding)."""
    return math.ceil(expected * (100 + buffer_percent) / 100)


def _mean(rows: Sequence[tuple[date, int]]) -> Fraction:
    return Fraction(sum(h for _, h in rows), len(rows))


def _held_histories(series_ids: set[int]) -> dict[int, list[tuple[date, int]]]:
    """Return per series its latest held (local date, headcount), newest first, in one query."""
    if not series_ids:
        return {}
    # Numbered newest first within each series, so one query keeps each series' latest only.
    newest = (
        func.row_number()
        .over(partition_by=Distribution.series_id, order_by=Distribution.local_date.desc())
        .label("newest")
    )
    held = (
        select(Distribution.series_id, Distribution.local_date, Distribution.headcount, newest)
        .where(
            Distribution.series_id.in_(series_ids),
            Distribution.status == "held",
            Distribution.headcount.is_not(None),
        )
        .subquery()
    )
    rows = db.session.execute(
        select(held.c.series_id, held.c.local_date, held.c.headcount)
        .where(held.c.newest <= HISTORY_LIMIT)
        .order_by(held.c.series_id, held.c.local_date.desc())
    )
    histories: dict[int, list[tuple[date, int]]] = {series_id: [] for series_id in series_ids}
    for series_id, day, headcount in rows:
        histories[series_id].append((day, headcount))
    return histories


# --- the meal plan ---------------------------------------------------------------------------


@dataclass
class MealRow:
    """One distribution's meals: the forecast, the recommendation and what is planned."""

    distribution: Distribution
    meal_item: Item
    forecast: Forecast
    recommended: int
    planned: int
    # The kitchen (or store) the meal line comes from, which may not be the distribution's.
    source: Site


@dataclass
class KitchenDay:
    """What one kitchen cooks for one day: the distributions it feeds and the recipe."""

    day: date
    site: Site
    rows: list[MealRow] = field(default_factory=list)
    recipe: Recipe | None = None

    @property
    def recommended(self) -> int:
        return sum(row.recommended for row in self.rows)

    @property
    def planned(self) -> int:
        return sum(row.planned for row in self.rows)


@dataclass
class PlanDay:
    day: date
    rows: list[MealRow]
    kitchens: list[KitchenDay]


@dataclass
class MealPlan:
    first: date
    last: date
    buffer_percent: int
    days: list[PlanDay]

    @property
    def rows(self) -> list[MealRow]:
        return [row for day in self.days for row in day.rows]


def meal_plan(organisation_id: int, first_day: date, days: int = 7) -> MealPlan:
    """Return, day by day, every planned distribution carrying meals with its forecast."""
    _check_days(days)
    # The last day lies at most 27 days past a first day before 2101: it cannot overflow.
    distributions.check_day(first_day, "from")
    last = first_day + timedelta(days=days - 1)
    organisation = db.session.get(Organisation, organisation_id)
    buffer = organisation.meal_buffer_percent
    meal_lines = _meal_lines(organisation_id, first_day, last)
    histories = _held_histories({d.series_id for d, _ in meal_lines if d.series_id is not None})
    by_day: dict[date, list[MealRow]] = defaultdict(list)
    for distribution, line in meal_lines:
        history = histories.get(distribution.series_id, []) if distribution.series_id else []
        expected = forecast(distribution.local_date, history, _plan_meals(distribution, line))
        by_day[distribution.local_date].append(
            MealRow(
                distribution=distribution,
                meal_item=line.item,
                forecast=expected,
                recommended=recommended_meals(expected.expected, buffer),
                planned=line.planned_quantity,
                source=line.source_site,
            )
        )
    menus = _menus(organisation_id, first_day, last)
    plan_days = []
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        rows = by_day.get(day, [])
        plan_days.append(PlanDay(day, rows, _kitchen_days(day, rows, menus)))
    return MealPlan(first_day, last, buffer, plan_days)


def _meal_lines(
    organisation_id: int, first: date, last: date
) -> list[tuple[Distribution, DistributionLine]]:
    rows = db.session.execute(
        select(Distribution, DistributionLine)
        .join(DistributionLine, DistributionLine.distribution_id == Distribution.id)
        .join(Item, Item.id == DistributionLine.item_id)
        .where(
            Distribution.organisation_id == organisation_id,
            Distribution.status == "planned",
            Distribution.local_date >= first,
            Distribution.local_date <= last,
            meal_item_clause(),
        )
        .order_by(Distribution.starts_at, Distribution.id, DistributionLine.id)
        # Rows show the point and the line's source; forecasts read the series' lines, and
        # the day's form reads the distribution's own lines.
        .options(
            selectinload(Distribution.site),
            selectinload(Distribution.lines),
            selectinload(Distribution.series).selectinload(DistributionSeries.lines),
            selectinload(DistributionLine.source_site),
        )
    )
    return [(distribution, line) for distribution, line in rows]


def _plan_meals(distribution: Distribution, line: DistributionLine) -> int:
    """Return the plan to fall back on: the series' meals (stable), else this occurrence's."""
    if distribution.series is not None:
        for series_line in distribution.series.lines:
            if series_line.item_id == line.item_id:
                return series_line.planned_quantity
    return line.planned_quantity


def _menus(organisation_id: int, first: date, last: date) -> dict[tuple[int, date], MenuChoice]:
    rows = db.session.scalars(
        select(MenuChoice)
        .where(
            MenuChoice.organisation_id == organisation_id,
            MenuChoice.local_date >= first,
            MenuChoice.local_date <= last,
        )
        .options(selectinload(MenuChoice.recipe))
    )
    return {(menu.site_id, menu.local_date): menu for menu in rows}


def _kitchen_days(
    day: date, rows: list[MealRow], menus: dict[tuple[int, date], MenuChoice]
) -> list[KitchenDay]:
    by_site: dict[int, KitchenDay] = {}
    for row in rows:
        source = row.source
        if source.id not in by_site:
            menu = menus.get((source.id, day))
            by_site[source.id] = KitchenDay(day, source, recipe=menu.recipe if menu else None)
        by_site[source.id].rows.append(row)
    return sorted(by_site.values(), key=lambda k: k.site.name)


def _check_days(days: int) -> None:
    if not 1 <= days <= MAX_PLAN_DAYS:
        raise ValidationError(
            _l("Plan 1 to %(most)s days at a time.", most=MAX_PLAN_DAYS),
            {"days": f"1 to {MAX_PLAN_DAYS}"},
        )


def set_planned_meals(
    organisation_id: int, distribution_id: int, meals: int, meal_item_id: int | None = None
) -> Distribution:
    """Make a planned meal count the distribution's meal line, keeping its other lines."""
    distribution = distributions.get_distribution(organisation_id, distribution_id, for_update=True)
    if distribution.status != "planned":
        raise ValidationError(
            _l("Only a planned distribution's meals can be changed."),
            {"planned_meals": "not planned"},
        )
    _check_meals(meals, "planned_meals", allow_zero=True)
    meal_lines = [line for line in distribution.lines if is_meal(line.item)]
    if meal_item_id is not None:
        meal_lines = [line for line in meal_lines if line.item_id == meal_item_id]
    if not meal_lines:
        raise ValidationError(
            _l("This distribution carries no meals."), {"meal_item_id": "no meal line"}
        )
    if len(meal_lines) > 1:
        raise ValidationError(
            _l("This distribution carries several meal items; say which."),
            {"meal_item_id": "required"},
        )
    # Only the meal line changes: the occurrence stays with its series for everything else.
    line = meal_lines[0]
    line.planned_quantity = meals
    line.planned_by_hand = True
    db.session.flush()
    return distribution


def _check_meals(meals: int, name: str, allow_zero: bool = False) -> None:
    low = 0 if allow_zero else 1
    if not low <= meals <= MAX_MEALS:
        raise ValidationError(
            _l(
                "Meals are a whole number from %(low)s to %(most)s.",
                low=low,
                most=i18n.number(MAX_MEALS),
            ),
            {name: "whole number"},
        )


# --- recipes ---------------------------------------------------------------------------------


def list_recipes(organisation_id: int, include_retired: bool = False) -> list[Recipe]:
    """Return the organisation's recipes by name."""
    # Each recipe is shown with its lines and their items: load them with it, not per row.
    query = (
        select(Recipe)
        .where(Recipe.organisation_id == organisation_id)
        .options(selectinload(Recipe.lines).selectinload(RecipeLine.item))
    )
    if not include_retired:
        query = query.where(Recipe.active.is_(True))
    return list(db.session.scalars(query.order_by(Recipe.name)))


def save_recipe(
    organisation_id: int,
    *,
    name: str,
    dietary_notes: str,
    lines: Sequence[RecipeLineInput],
    active: bool = True,
    recipe_id: int | None = None,
) -> Recipe:
    """Create a recipe, or change one, with its ingredients per 100 meals."""
    clean_name = " ".join((name or "").split())
    if not clean_name or len(clean_name) > MAX_NAME:
        raise ValidationError(
            _l("Give the dish a name (at most %(most)s characters).", most=MAX_NAME),
            {"name": "required"},
        )
    notes = " ".join((dietary_notes or "").split())
    if len(notes) > MAX_NOTES:
        raise ValidationError(
            _l("Dietary notes are at most %(most)s characters.", most=MAX_NOTES),
            {"dietary_notes": "too long"},
        )
    clean = _clean_recipe_lines(organisation_id, lines)
    recipe = (
        get_recipe(organisation_id, recipe_id)
        if recipe_id is not None
        else Recipe(organisation_id=organisation_id)
    )
    taken = Conflict(
        _l("There is already a recipe called %(name)s.", name=clean_name), {"name": "taken"}
    )
    twin = db.session.scalar(
        select(Recipe.id).where(
            Recipe.organisation_id == organisation_id,
            func.lower(Recipe.name) == clean_name.lower(),
        )
    )
    if twin is not None and twin != recipe.id:
        raise taken
    recipe.name = clean_name
    recipe.dietary_notes = notes
    recipe.active = active
    _set_recipe_lines(recipe, clean)
    db.session.add(recipe)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:  # another request took the name first
        raise taken from exc
    return recipe


def _clean_recipe_lines(
    organisation_id: int, lines: Sequence[RecipeLineInput]
) -> list[RecipeLineInput]:
    if not lines:
        raise ValidationError(
            _l("Give at least one ingredient with its quantity per 100 meals."),
            {"lines": "required"},
        )
    clean: list[RecipeLineInput] = []
    seen: set[int] = set()
    for item_id, quantity in lines:
        item = ledger.get_item(organisation_id, item_id)
        if item.category != "ingredient":
            raise ValidationError(
                _l(
                    "%(item)s is not an ingredient (its category is %(category)s); "
                    "a recipe uses ingredient items only.",
                    item=item.label,
                    category=item.category,
                ),
                {"lines": "not an ingredient"},
            )
        if item_id in seen:
            raise ValidationError(
                _l("%(item)s appears twice.", item=item.label), {"lines": "duplicate item"}
            )
        seen.add(item_id)
        clean.append((item_id, _per_100(quantity, item)))
    return clean


def _per_100(quantity: Any, item: Item) -> Decimal:
    try:
        value = Decimal(str(quantity)).quantize(PER_100_PLACES, ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        value = Decimal(0)
    if not value.is_finite() or not 0 < value <= MAX_PER_100:
        raise ValidationError(
            _l(
                "Quantity of %(item)s per 100 meals must be more than 0 (in %(unit)s, e.g. 13.6).",
                item=item.label,
                unit=item.unit,
            ),
            {"lines": "bad quantity"},
        )
    return value


def _set_recipe_lines(recipe: Recipe, lines: Sequence[RecipeLineInput]) -> None:
    """Make the recipe's lines match, updating rows in place (an item is there once)."""
    sync_lines(
        recipe.lines,
        dict(lines),
        "quantity_per_100",
        lambda item_id, quantity: RecipeLine(item_id=item_id, quantity_per_100=quantity),
    )


def choose_menu(
    organisation_id: int,
    user_id: int | None,
    site_id: int,
    day: date,
    recipe_id: int | None,
) -> MenuChoice | None:
    """Pick the recipe a kitchen cooks for a day's meals; None clears the choice."""
    kitchen = get_kitchen(organisation_id, site_id)
    distributions.check_day(day, "date")
    existing = _menu_of(kitchen.id, day)
    if recipe_id is None:
        if existing is not None:
            db.session.delete(existing)
            db.session.flush()
        return None
    recipe = get_recipe(organisation_id, recipe_id)
    if not recipe.active:
        raise ValidationError(
            _l("%(recipe)s is retired.", recipe=recipe.name), {"recipe_id": "retired"}
        )
    if existing is None:
        existing = MenuChoice(organisation_id=organisation_id, site_id=kitchen.id, local_date=day)
        try:
            with db.session.begin_nested():
                existing.recipe_id = recipe.id
                existing.chosen_by_id = user_id
                db.session.add(existing)
        except IntegrityError:  # chosen at the same moment elsewhere: change that one
            existing = _menu_of(kitchen.id, day)
            if existing is None:
                raise
    existing.recipe_id = recipe.id
    existing.chosen_by_id = user_id
    existing.chosen_at = utcnow()
    db.session.flush()
    return existing


def _menu_of(site_id: int, day: date) -> MenuChoice | None:
    return db.session.scalar(
        select(MenuChoice).where(MenuChoice.site_id == site_id, MenuChoice.local_date == day)
    )


# --- ingredient demand -----------------------------------------------------------------------


@dataclass(frozen=True)
class Demand:
    """Ingredients one planned distribution's meals need, by its kitchen's recipe of the day."""

    distribution_id: int
    site_id: int
    local_date: date
    starts_at: datetime
    item_id: int
    quantity: int


def ingredient_demand(
    organisation_id: int, start: datetime, end: datetime
) -> dict[int, list[tuple[datetime, int]]]:
    """Return per ingredient the (starts_at, quantity) of distributions starting in [start, end)."""
    plan: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    rows = _demand(organisation_id, Distribution.starts_at >= start, Distribution.starts_at < end)
    for demand in rows:
        plan[demand.item_id].append((demand.starts_at, demand.quantity))
    return plan


def _demand(organisation_id: int, *conditions: Any) -> list[Demand]:
    rows = db.session.execute(
        select(
            Distribution.id,
            DistributionLine.source_site_id,
            Distribution.local_date,
            Distribution.starts_at,
            DistributionLine.planned_quantity,
            RecipeLine.item_id,
            RecipeLine.quantity_per_100,
        )
        .join(DistributionLine, DistributionLine.distribution_id == Distribution.id)
        .join(Item, Item.id == DistributionLine.item_id)
        .join(
            MenuChoice,
            and_(
                MenuChoice.site_id == DistributionLine.source_site_id,
                MenuChoice.local_date == Distribution.local_date,
            ),
        )
        .join(RecipeLine, RecipeLine.recipe_id == MenuChoice.recipe_id)
        .where(
            Distribution.organisation_id == organisation_id,
            Distribution.status == "planned",
            DistributionLine.planned_quantity > 0,
            meal_item_clause(),
            *conditions,
        )
    )
    # Keyed by the meal line's kitchen too: one distribution may carry meals from two.
    totals: dict[tuple[int, int, int], Decimal] = defaultdict(Decimal)
    about: dict[int, tuple[date, datetime]] = {}
    for dist_id, site_id, day, starts_at, meals, item_id, per_100 in rows:
        totals[(dist_id, site_id, item_id)] += Decimal(meals) * Decimal(per_100)
        about[dist_id] = (day, starts_at)
    return [
        Demand(dist_id, site_id, *about[dist_id], item_id, _ceil_hundredth(total))
        for (dist_id, site_id, item_id), total in totals.items()
        if total > 0
    ]


def _ceil_hundredth(total: Decimal) -> int:
    """Return total ÷ 100 rounded up: part of a kilo still has to be bought."""
    return int((total / 100).to_integral_value(ROUND_CEILING))


@dataclass
class IngredientNeed:
    """One ingredient at one kitchen: needed for the planned meals vs held there now."""

    site: Site
    item: Item
    needed: int
    held: int
    by_day: dict[date, int]

    @property
    def short(self) -> int:
        return max(0, self.needed - self.held)

    @property
    def short_from(self) -> date | None:
        """Return the first day whose meals the stock held now cannot cover."""
        remaining = self.held
        for day in sorted(self.by_day):
            remaining -= self.by_day[day]
            if remaining < 0:
                return day
        return None


def ingredient_needs(organisation_id: int, first_day: date, days: int = 7) -> list[IngredientNeed]:
    """Return per kitchen and ingredient what the planned meals need vs what the kitchen holds."""
    _check_days(days)
    # The last day lies at most 27 days past a first day before 2101: it cannot overflow.
    distributions.check_day(first_day, "from")
    last = first_day + timedelta(days=days - 1)
    rows = _demand(
        organisation_id, Distribution.local_date >= first_day, Distribution.local_date <= last
    )
    by_key: dict[tuple[int, int], dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for demand in rows:
        by_key[(demand.site_id, demand.item_id)][demand.local_date] += demand.quantity
    # One query for what each kitchen holds, not one per ingredient row.
    held = levels(set(by_key))
    sites = _by_id(Site, {site_id for site_id, _ in by_key})
    items = _by_id(Item, {item_id for _, item_id in by_key})
    needs = []
    for (site_id, item_id), by_day in by_key.items():
        needs.append(
            IngredientNeed(
                site=sites[site_id],
                item=items[item_id],
                needed=sum(by_day.values()),
                held=held[(site_id, item_id)],
                by_day=dict(by_day),
            )
        )
    needs.sort(key=lambda n: (n.site.name, n.short == 0, n.item.label))
    return needs


def _by_id(model: Any, ids: set[int]) -> dict[int, Any]:
    """Load rows of a model by id in one query."""
    if not ids:
        return {}
    return {row.id: row for row in db.session.scalars(select(model).where(model.id.in_(ids)))}


# --- cooking and leftovers -------------------------------------------------------------------


def cook(
    organisation_id: int,
    user_id: int | None,
    *,
    site_id: int,
    meal_item_id: int,
    split: Sequence[SplitInput],
    occurred_at: datetime | None = None,
    note: str = "",
) -> Cooking:
    """Log a cooking: ingredients leave the kitchen, the meals join its stock; all or nothing."""
    kitchen = get_kitchen(organisation_id, site_id)
    meal_item = get_meal_item(organisation_id, meal_item_id)
    recipes = _clean_split(organisation_id, split)
    when = ledger._check_when(occurred_at)
    meals = sum(n for _, n in recipes)
    if meals > MAX_MEALS:
        raise ValidationError(
            _l("At most %(most)s meals at once.", most=i18n.number(MAX_MEALS)),
            {"lines": "too many"},
        )
    used: dict[int, Decimal] = defaultdict(Decimal)
    for recipe, count in recipes:
        for line in recipe.lines:
            used[line.item_id] += Decimal(count) * Decimal(line.quantity_per_100)
    names = " and ".join(recipe.name for recipe, _ in recipes)
    label = f"Cooked {meals} meals: {names}"
    cooking = Cooking(
        organisation_id=organisation_id,
        site_id=kitchen.id,
        item_id=meal_item.id,
        meals=meals,
        recipes=[{"recipe_id": r.id, "name": r.name, "meals": n} for r, n in recipes],
        note=(note or "").strip(),
        occurred_at=when,
        recorded_by_id=user_id,
    )
    with db.session.begin_nested():
        db.session.add(cooking)
        db.session.flush()
        # Refused whole: leaving the block with the error rolls the savepoint back.
        take_all(
            organisation_id,
            user_id,
            (
                Take(
                    site_id=kitchen.id,
                    item_id=item_id,
                    quantity=_ceil_hundredth(used[item_id]),
                    kind="consumption",
                    occurred_at=when,
                    note=label,
                    cooking_id=cooking.id,
                )
                for item_id in sorted(used, key=lambda i: db.session.get(Item, i).label)
            ),
            _l("Not recorded, the kitchen does not hold enough:"),
            {"lines": "not enough ingredients"},
        )
        ledger.record(
            organisation_id,
            user_id,
            site_id=kitchen.id,
            item_id=meal_item.id,
            quantity=meals,
            kind="production",
            occurred_at=when,
            note=label,
            cooking_id=cooking.id,
        )
    return cooking


def _clean_split(organisation_id: int, split: Sequence[SplitInput]) -> list[tuple[Recipe, int]]:
    clean: list[tuple[Recipe, int]] = []
    seen: set[int] = set()
    for recipe_id, meals in split:
        recipe = get_recipe(organisation_id, recipe_id)
        if not recipe.active:
            raise ValidationError(
                _l("%(recipe)s is retired.", recipe=recipe.name), {"lines": "retired recipe"}
            )
        if recipe.id in seen:
            raise ValidationError(
                _l("%(recipe)s appears twice.", recipe=recipe.name),
                {"lines": "duplicate recipe"},
            )
        seen.add(recipe.id)
        _check_meals(meals, "lines")
        clean.append((recipe, meals))
    if not clean:
        raise ValidationError(
            _l("Say which recipe and how many meals were cooked."), {"lines": "required"}
        )
    return clean


def record_leftovers(
    organisation_id: int,
    user_id: int | None,
    *,
    site_id: int,
    meal_item_id: int,
    meals: int,
    occurred_at: datetime | None = None,
) -> StockMovement:
    """Write off cooked meals that cannot be kept (a loss, reason "Leftovers (spoilage)")."""
    kitchen = get_kitchen(organisation_id, site_id)
    meal_item = get_meal_item(organisation_id, meal_item_id)
    _check_meals(meals, "meals")
    return ledger.record_loss(
        organisation_id,
        user_id,
        site_id=kitchen.id,
        item_id=meal_item.id,
        quantity=meals,
        reason=LEFTOVER_REASON,
        occurred_at=occurred_at,
    )


def recent_cookings(organisation_id: int, limit: int = 20) -> list[Cooking]:
    """Return the latest cookings, newest first."""
    return list(
        db.session.scalars(
            select(Cooking)
            .where(Cooking.organisation_id == organisation_id)
            .order_by(Cooking.occurred_at.desc(), Cooking.id.desc())
            .limit(limit)
        )
    )


def cooking_movements(cooking: Cooking) -> list[StockMovement]:
    """Return a cooking's consumption and production movements."""
    return list(
        db.session.scalars(
            select(StockMovement)
            .where(StockMovement.cooking_id == cooking.id)
            .order_by(StockMovement.id)
        )
    )
