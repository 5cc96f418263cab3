"""Kitchens (API.md): the meal plan, recipes, menus and cooking."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from pydantic import Field

from ... import limits
from ...models import Cooking as CookingRow
from ...models import Distribution
from ...models import Recipe as RecipeRow
from ...services import distributions, kitchen
from .common import (
    Body,
    Day,
    Flag,
    Id,
    LocalTime,
    Once,
    Out,
    Query,
    QueryDay,
    Time,
    bp,
    current_org_id,
    current_user_id,
    lines_of,
    number,
    once,
    operation,
    text,
    whole,
)
from .distributions import distribution_of
from .stock import Movement

Meals = whole(0, limits.MAX_MEALS)

# --- what goes in -----------------------------------------------------------------------------


class PlanQuery(Query):
    """From which day (default: tomorrow), for how many days."""

    from_: QueryDay | None = Field(None, alias="from")
    days: whole(1, limits.MAX_KITCHEN_PLAN_DAYS) = limits.KITCHEN_PLAN_DAYS


class RecipeListing(Query):
    """Whether retired recipes are listed too."""

    include_retired: Flag = False


class PlannedMealsInput(Once):
    """How many meals a distribution gets, and which meal item (when it has none yet)."""

    planned_meals: Meals
    meal_item_id: Id | None = None


class MenuInput(Once):
    """The recipe a kitchen cooks on a day; none clears the choice."""

    site_id: Id
    date: Day
    recipe_id: Id | None = None


class RecipeLineInput(Body):
    """An ingredient, per 100 meals."""

    item_id: Id
    quantity_per_100: number(limits.MAX_PER_100, limits.PER_100_PLACES)


class RecipeInput(Once):
    """A dish and its ingredients per 100 meals."""

    name: text(limits.MAX_RECIPE_NAME, required=True)
    dietary_notes: text(limits.MAX_DIETARY_NOTES) = ""
    lines: lines_of(RecipeLineInput) = []


class CookingLineInput(Body):
    """How many meals were cooked with one recipe."""

    recipe_id: Id
    meals: whole(1, limits.MAX_MEALS)


class CookingInput(Once):
    """A cooking: the kitchen, the meal item, meals per recipe."""

    site_id: Id
    meal_item_id: Id
    lines: lines_of(CookingLineInput) = []
    occurred_at: Time | None = None
    note: text(limits.MAX_NOTE) = ""


# --- what comes out ---------------------------------------------------------------------------


class PastHeadcount(Out):
    """A past occurrence's headcount."""

    date: date
    headcount: int


class MealPlanRow(Out):
    """One distribution's meal forecast and plan."""

    id: int
    series_id: int | None
    starts_at: LocalTime
    local_date: date
    site_id: int
    source_site_id: int
    meal_item_id: int
    expected_headcount: float
    basis: str
    past_headcounts: list[PastHeadcount]
    recommended_meals: int
    planned_meals: int


class KitchenDay(Out):
    """What one kitchen cooks on one day."""

    date: date
    site_id: int
    recipe_id: int | None
    recommended_meals: int
    planned_meals: int


class IngredientNeed(Out):
    """An ingredient at a kitchen: needed for the planned meals, held there now."""

    site_id: int
    item_id: int
    label: str
    unit: str
    needed: int
    held: int
    short: int


class MealPlan(Out):
    """Distributions with meals, per kitchen and day, and the ingredients they need."""

    from_: date = Field(alias="from")
    to: date
    buffer_percent: int
    distributions: list[MealPlanRow]
    kitchens: list[KitchenDay]
    ingredients: list[IngredientNeed]


class MenuChoice(Out):
    """The recipe chosen for a kitchen's day."""

    site_id: int
    date: date
    recipe_id: int | None


class RecipeLine(Out):
    """An ingredient per 100 meals."""

    item_id: int
    label: str
    unit: str
    quantity_per_100: float


class Recipe(Out):
    """A recipe with its ingredients per 100 meals."""

    id: int
    name: str
    dietary_notes: str
    active: bool
    lines: list[RecipeLine]


class Recipes(Out):
    """Recipes by name."""

    recipes: list[Recipe]


class CookingLine(Out):
    """Meals cooked with one recipe."""

    recipe_id: int
    meals: int


class Cooking(Out):
    """A cooking with the movements it wrote."""

    id: int
    site_id: int
    meal_item_id: int
    meals: int
    occurred_at: LocalTime
    note: str
    lines: list[CookingLine]
    movements: list[Movement]


def _meal_row(row: kitchen.MealRow) -> MealPlanRow:
    distribution = row.distribution
    return MealPlanRow(
        id=distribution.id,
        series_id=distribution.series_id,
        starts_at=distribution.starts_at,
        local_date=distribution.local_date,
        site_id=distribution.site_id,
        source_site_id=row.source.id,
        meal_item_id=row.meal_item.id,
        expected_headcount=row.forecast.expected_headcount,
        basis=row.forecast.basis,
        past_headcounts=[PastHeadcount(date=d, headcount=n) for d, n in row.forecast.past],
        recommended_meals=row.recommended,
        planned_meals=row.planned,
    )


def _recipe(recipe: RecipeRow) -> Recipe:
    lines = [
        RecipeLine(
            item_id=line.item_id,
            label=line.item.label,
            unit=line.item.unit,
            quantity_per_100=float(line.quantity_per_100),
        )
        for line in recipe.lines
    ]
    return Recipe(
        id=recipe.id,
        name=recipe.name,
        dietary_notes=recipe.dietary_notes,
        active=recipe.active,
        lines=lines,
    )


def _cooking(cooking: CookingRow) -> Cooking:
    return Cooking(
        id=cooking.id,
        site_id=cooking.site_id,
        meal_item_id=cooking.item_id,
        meals=cooking.meals,
        occurred_at=cooking.occurred_at,
        note=cooking.note,
        lines=[CookingLine.model_validate(line) for line in cooking.recipes],
        movements=[Movement.model_validate(m) for m in kitchen.cooking_movements(cooking)],
    )


# --- the meal plan ----------------------------------------------------------------------------


@bp.get("/kitchen/plan")
@operation("view_kitchen", {200: MealPlan}, query=PlanQuery)
def kitchen_plan(query: PlanQuery) -> MealPlan:
    """The meal plan: forecasts, recommended and planned meals, ingredients needed."""
    org_id = current_org_id()
    first = query.from_ or distributions.local_today(org_id) + timedelta(days=1)
    plan = kitchen.meal_plan(org_id, first, query.days)
    kitchens = [
        KitchenDay(
            date=day.day,
            site_id=day.site.id,
            recipe_id=day.recipe.id if day.recipe else None,
            recommended_meals=day.recommended,
            planned_meals=day.planned,
        )
        for plan_day in plan.days
        for day in plan_day.kitchens
    ]
    ingredients = [
        IngredientNeed(
            site_id=need.site.id,
            item_id=need.item.id,
            label=need.item.label,
            unit=need.item.unit,
            needed=need.needed,
            held=need.held,
            short=need.short,
        )
        for need in kitchen.ingredient_needs(org_id, first, query.days)
    ]
    return MealPlan(
        from_=plan.first,
        to=plan.last,
        buffer_percent=plan.buffer_percent,
        distributions=[_meal_row(row) for row in plan.rows],
        kitchens=kitchens,
        ingredients=ingredients,
    )


@bp.post("/kitchen/plan/<int:distribution_id>")
@operation("plan_kitchen", {200: MealPlanRow}, body=PlannedMealsInput, first=distribution_of)
def set_planned_meals(
    distribution_id: int, found: Distribution, body: PlannedMealsInput
) -> tuple[dict[str, Any], int]:
    """Set how many meals a distribution gets."""

    def produce() -> tuple[Out, int]:
        org_id = current_org_id()
        kitchen.set_planned_meals(org_id, found.id, body.planned_meals, body.meal_item_id)
        rows = kitchen.meal_plan(org_id, found.local_date, 1).rows
        return _meal_row(next(row for row in rows if row.distribution.id == found.id)), 200

    return once("api_kitchen_plan", body.request_token, produce)


@bp.post("/kitchen/menu")
@operation("plan_kitchen", {200: MenuChoice}, body=MenuInput)
def choose_menu(body: MenuInput) -> tuple[dict[str, Any], int]:
    """Choose the recipe a kitchen cooks on a day (none clears it)."""

    def produce() -> tuple[Out, int]:
        kitchen.choose_menu(
            current_org_id(), current_user_id(), body.site_id, body.date, body.recipe_id
        )
        return MenuChoice(site_id=body.site_id, date=body.date, recipe_id=body.recipe_id), 200

    return once("api_kitchen_menu", body.request_token, produce)


# --- recipes ----------------------------------------------------------------------------------


@bp.get("/recipes")
@operation("view_kitchen", {200: Recipes}, query=RecipeListing)
def list_recipes(query: RecipeListing) -> Recipes:
    """Recipes by name."""
    rows = kitchen.list_recipes(current_org_id(), include_retired=query.include_retired)
    return Recipes(recipes=[_recipe(recipe) for recipe in rows])


@bp.post("/recipes")
@operation("plan_kitchen", {201: Recipe}, body=RecipeInput, errors=(409,))
def create_recipe(body: RecipeInput) -> tuple[dict[str, Any], int]:
    """Add a recipe with its ingredients per 100 meals."""
    lines = [(line.item_id, line.quantity_per_100) for line in body.lines]

    def produce() -> tuple[Out, int]:
        recipe = kitchen.save_recipe(
            current_org_id(), name=body.name, dietary_notes=body.dietary_notes, lines=lines
        )
        return _recipe(recipe), 201

    return once("api_recipe_create", body.request_token, produce)


# --- cooking ----------------------------------------------------------------------------------


@bp.post("/cooking")
@operation("plan_kitchen", {201: Cooking}, body=CookingInput, errors=(409,))
def log_cooking(body: CookingInput) -> tuple[dict[str, Any], int]:
    """Log a cooking: ingredients leave the kitchen, the meals join its stock; all or nothing."""

    def produce() -> tuple[Out, int]:
        cooking = kitchen.cook(
            current_org_id(),
            current_user_id(),
            site_id=body.site_id,
            meal_item_id=body.meal_item_id,
            split=[(line.recipe_id, line.meals) for line in body.lines],
            occurred_at=body.occurred_at,
            note=body.note,
        )
        return _cooking(cooking), 201

    return once("api_cooking", body.request_token, produce)
