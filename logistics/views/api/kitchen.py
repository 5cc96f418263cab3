"""The JSON API's kitchen endpoints (API.md): the meal plan, recipes, menus and cooking."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from flask import Response, jsonify

from ...models import Cooking, Recipe
from ...services import distributions, kitchen
from ...services.errors import ValidationError
from .common import bp, current_org_id, current_user_id, dump, local_time
from .legacy import (
    MAX_LINES,
    MAX_NOTE,
    ApiResponse,
    ApiResult,
    Fields,
    allowed,
    json_body,
    once_response,
    possible_id,
    query_date,
    query_flag,
    query_whole,
)
from .stock import Movement

PLAN_DAYS = 7


# --- how kitchen things look in JSON ---------------------------------------------------------


def meal_row_json(row: kitchen.MealRow) -> dict[str, Any]:
    """Return one distribution's meal forecast and plan as the API shows it."""
    distribution = row.distribution
    return {
        "id": distribution.id,
        "series_id": distribution.series_id,
        "starts_at": local_time(distribution.starts_at),
        "local_date": distribution.local_date.isoformat(),
        "site_id": distribution.site_id,
        "source_site_id": distribution.source_site_id,
        "meal_item_id": row.meal_item.id,
        "expected_headcount": row.forecast.expected_headcount,
        "basis": row.forecast.basis,
        "past_headcounts": [
            {"date": day.isoformat(), "headcount": count} for day, count in row.forecast.past
        ],
        "recommended_meals": row.recommended,
        "planned_meals": row.planned,
    }


def recipe_json(recipe: Recipe) -> dict[str, Any]:
    """Return a recipe with its ingredients per 100 meals."""
    return {
        "id": recipe.id,
        "name": recipe.name,
        "dietary_notes": recipe.dietary_notes,
        "active": recipe.active,
        "lines": [
            {
                "item_id": line.item_id,
                "label": line.item.label,
                "unit": line.item.unit,
                "quantity_per_100": float(line.quantity_per_100),
            }
            for line in recipe.lines
        ],
    }


def cooking_json(cooking: Cooking) -> dict[str, Any]:
    """Return a cooking with the movements it wrote."""
    return {
        "id": cooking.id,
        "site_id": cooking.site_id,
        "meal_item_id": cooking.item_id,
        "meals": cooking.meals,
        "occurred_at": local_time(cooking.occurred_at),
        "note": cooking.note,
        "lines": [{"recipe_id": r["recipe_id"], "meals": r["meals"]} for r in cooking.recipes],
        "movements": [dump(Movement.model_validate(m)) for m in kitchen.cooking_movements(cooking)],
    }


# --- the meal plan ---------------------------------------------------------------------------


@bp.get("/kitchen/plan")
@allowed("view_kitchen")
def kitchen_plan() -> Response:
    org_id = current_org_id()
    days = query_whole("days")
    days = PLAN_DAYS if days is None else days
    if not 1 <= days <= kitchen.MAX_PLAN_DAYS:
        raise ValidationError(
            f"Please check days: 1 to {kitchen.MAX_PLAN_DAYS}.",
            {"days": f"1 to {kitchen.MAX_PLAN_DAYS}"},
        )
    first = query_date("from") or distributions.local_today(org_id) + timedelta(days=1)
    plan = kitchen.meal_plan(org_id, first, days)
    return jsonify(
        {
            "from": plan.first.isoformat(),
            "to": plan.last.isoformat(),
            "buffer_percent": plan.buffer_percent,
            "distributions": [meal_row_json(row) for row in plan.rows],
            "kitchens": [
                {
                    "date": kitchen_day.day.isoformat(),
                    "site_id": kitchen_day.site.id,
                    "recipe_id": kitchen_day.recipe.id if kitchen_day.recipe else None,
                    "recommended_meals": kitchen_day.recommended,
                    "planned_meals": kitchen_day.planned,
                }
                for plan_day in plan.days
                for kitchen_day in plan_day.kitchens
            ],
            "ingredients": [
                {
                    "site_id": need.site.id,
                    "item_id": need.item.id,
                    "label": need.item.label,
                    "unit": need.item.unit,
                    "needed": need.needed,
                    "held": need.held,
                    "short": need.short,
                }
                for need in kitchen.ingredient_needs(org_id, first, days)
            ],
        }
    )


@bp.post("/kitchen/plan/<int:distribution_id>")
@allowed("plan_kitchen")
def set_planned_meals(distribution_id: int) -> ApiResponse:
    # Another organisation's distribution is not found, whatever the body says.
    distribution = distributions.get_distribution(current_org_id(), possible_id(distribution_id))
    data = json_body()
    fields = Fields(data)
    meals = fields.whole("planned_meals", required=True, low=0, high=kitchen.MAX_MEALS)
    meal_item_id = fields.ident("meal_item_id", required=False)
    fields.check()

    def produce() -> ApiResult:
        org_id = current_org_id()
        kitchen.set_planned_meals(org_id, distribution.id, meals, meal_item_id)
        rows = kitchen.meal_plan(org_id, distribution.local_date, 1).rows
        mine = [row for row in rows if row.distribution.id == distribution.id]
        return meal_row_json(mine[0]), 200

    return once_response("api_kitchen_plan", data, produce)


@bp.post("/kitchen/menu")
@allowed("plan_kitchen")
def choose_menu() -> ApiResponse:
    data = json_body()
    fields = Fields(data)
    site_id = fields.ident("site_id")
    day = fields.day("date", required=True)
    recipe_id = fields.ident("recipe_id", required=False)
    fields.check()

    def produce() -> ApiResult:
        kitchen.choose_menu(current_org_id(), current_user_id(), site_id, day, recipe_id)
        body = {"site_id": site_id, "date": day.isoformat(), "recipe_id": recipe_id}
        return body, 200

    return once_response("api_kitchen_menu", data, produce)


# --- recipes ---------------------------------------------------------------------------------


@bp.get("/recipes")
@allowed("view_kitchen")
def list_recipes() -> Response:
    rows = kitchen.list_recipes(current_org_id(), include_retired=query_flag("include_retired"))
    return jsonify({"recipes": [recipe_json(recipe) for recipe in rows]})


@bp.post("/recipes")
@allowed("plan_kitchen")
def create_recipe() -> ApiResponse:
    data = json_body()
    fields = Fields(data)
    name = fields.text("name", required=True, limit=kitchen.MAX_NAME)
    notes = fields.text("dietary_notes", limit=kitchen.MAX_NOTES)
    lines = _rows(fields, "lines", "item_id", _per_100)
    fields.check()

    def produce() -> ApiResult:
        recipe = kitchen.save_recipe(current_org_id(), name=name, dietary_notes=notes, lines=lines)
        return recipe_json(recipe), 201

    return once_response("api_recipe_create", data, produce)


def _per_100(row: Fields) -> Decimal | None:
    if row.data.get("quantity_per_100") is None:
        row.invalid["quantity_per_100"] = "required"
        return None
    return row.number("quantity_per_100", high=int(kitchen.MAX_PER_100), places=3)


# --- cooking ---------------------------------------------------------------------------------


@bp.post("/cooking")
@allowed("plan_kitchen")
def log_cooking() -> ApiResponse:
    data = json_body()
    fields = Fields(data)
    site_id = fields.ident("site_id")
    meal_item_id = fields.ident("meal_item_id")
    split = _rows(
        fields,
        "lines",
        "recipe_id",
        lambda row: row.whole("meals", required=True, low=1, high=kitchen.MAX_MEALS),
    )
    occurred_at = fields.time("occurred_at")
    note = fields.text("note", limit=MAX_NOTE)
    fields.check()

    def produce() -> ApiResult:
        cooking = kitchen.cook(
            current_org_id(),
            current_user_id(),
            site_id=site_id,
            meal_item_id=meal_item_id,
            split=split,
            occurred_at=occurred_at,
            note=note,
        )
        return cooking_json(cooking), 201

    return once_response("api_cooking", data, produce)


def _rows(fields: Fields, name: str, id_key: str, read: Any) -> list[tuple[int, Any]]:
    """Read a list of {<id_key>, <value>} objects as (id, value) pairs, collecting problems."""
    value = fields.data.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        fields.wrong_type[name] = "a list of objects"
        return []
    if len(value) > MAX_LINES:
        fields.invalid[name] = f"at most {MAX_LINES} lines"
        return []
    pairs = []
    for index, entry in enumerate(value):
        where = f"{name}[{index}]"
        if not isinstance(entry, dict):
            fields.wrong_type[where] = "an object"
            continue
        row = Fields(entry)
        ident = row.ident(id_key)
        amount = read(row)
        fields.wrong_type |= {f"{where}.{key}": why for key, why in row.wrong_type.items()}
        fields.invalid |= {f"{where}.{key}": why for key, why in row.invalid.items()}
        if ident is not None and amount is not None:
            pairs.append((ident, amount))
    return pairs
