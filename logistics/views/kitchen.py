"""Kitchen pages: the meal plan, recipes, the cooking log and leftovers."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from .. import i18n
from ..auth import current_membership, current_org_id, current_role, current_user_id, requires
from ..forms.common import choices
from ..forms.kitchen import (
    COOK_ROWS,
    RECIPE_ROWS,
    CookingForm,
    DayPlanForm,
    LeftoversForm,
    RecipeForm,
)
from ..models import Recipe
from ..permissions import can
from ..services import distributions, kitchen
from ..services.errors import ValidationError
from ._submit import filled_rows, or_404, query_date, submit_once

bp = Blueprint("kitchen", __name__)
PLAN_DAYS = 7
LOG_LENGTH = 20


# --- the meal plan ---------------------------------------------------------------------------


@bp.route("/kitchen")
@requires("view_kitchen")
def plan() -> str:
    return _plan_page(query_date("day") or _tomorrow())


@bp.route("/kitchen/day/<day>", methods=["POST"])
@requires("plan_kitchen")
def save_day(day: str) -> str | Response:
    the_day = _parse_day(day)
    first = query_date("first") or _tomorrow()
    form = DayPlanForm()
    _offer_menu_recipes(form)
    if form.validate_on_submit():
        org_id = current_org_id()
        user_id = current_user_id()

        def action() -> dict[str, Any]:
            meals = 0
            for row in form.rows:
                kitchen.set_planned_meals(
                    org_id, row.distribution_id.data, row.meals.data, row.meal_item_id.data
                )
                meals += row.meals.data
            for menu in form.menus:
                kitchen.choose_menu(
                    org_id, user_id, menu.site_id.data, the_day, menu.recipe_id.data or None
                )
            return {
                "message": _(
                    "Plan for %(day)s saved: %(meals)s meals.",
                    day=i18n.when(the_day, "day"),
                    meals=meals,
                )
            }

        if submit_once(form, "kitchen_day_plan", action) is not None:
            return redirect(
                url_for(".plan", day=first.isoformat(), _anchor=f"day-{the_day.isoformat()}")
            )
    return _plan_page(first, failed=(the_day, form))


def _plan_page(first: date, failed: tuple[date, DayPlanForm] | None = None) -> str:
    org_id = current_org_id()
    meal_plan = kitchen.meal_plan(org_id, first, PLAN_DAYS)
    forms: dict[date, DayPlanForm] = {}
    if can(current_role(), "plan_kitchen"):
        # The recipes are read once for the week's forms, not once per day.
        options = _recipe_options(_("— not chosen yet —"))
        for plan_day in meal_plan.days:
            if failed is not None and failed[0] == plan_day.day:
                forms[plan_day.day] = failed[1]
            elif plan_day.rows:
                forms[plan_day.day] = _day_form(plan_day, options)
    # Entries by distribution and kitchen: a form sent back may not match today's rows.
    rows = {day: {e.distribution_id.data: e for e in form.rows} for day, form in forms.items()}
    menus = {day: {e.site_id.data: e for e in form.menus} for day, form in forms.items()}
    return render_template(
        "kitchen/plan.html",
        plan=meal_plan,
        forms=forms,
        row_entries=rows,
        menu_entries=menus,
        needs=kitchen.ingredient_needs(org_id, first, PLAN_DAYS),
        tomorrow=_tomorrow(),
        previous=first - timedelta(days=PLAN_DAYS),
        following=first + timedelta(days=PLAN_DAYS),
    )


def _day_form(plan_day: kitchen.PlanDay, options: list[Any]) -> DayPlanForm:
    """Build a day's form: each count defaults to the recommendation until someone set it."""
    form = DayPlanForm(formdata=None)
    for row in plan_day.rows:
        chosen = row.distribution.edited_by_hand or any(
            line.planned_by_hand
            for line in row.distribution.lines
            if line.item_id == row.meal_item.id
        )
        form.rows.append_entry(
            {
                "distribution_id": row.distribution.id,
                "meal_item_id": row.meal_item.id,
                "meals": row.planned if chosen else row.recommended,
            }
        )
    for kitchen_day in plan_day.kitchens:
        if kitchen_day.site.kind != "kitchen":  # meals sent from a warehouse have no menu
            continue
        form.menus.append_entry(
            {
                "site_id": kitchen_day.site.id,
                "recipe_id": kitchen_day.recipe.id if kitchen_day.recipe else 0,
            }
        )
    _offer_menu_recipes(form, options)
    return form


def _offer_menu_recipes(form: DayPlanForm, options: list[Any] | None = None) -> None:
    options = options or _recipe_options(_("— not chosen yet —"))
    for menu in form.menus:
        menu.recipe_id.choices = options


def _recipe_options(blank: str) -> list[Any]:
    labels = [
        (r.id, f"{r.name} ({r.dietary_notes})" if r.dietary_notes else r.name)
        for r in kitchen.list_recipes(current_org_id())
    ]
    return choices([(0, blank), *labels])


# --- recipes ---------------------------------------------------------------------------------


@bp.route("/kitchen/recipes")
@requires("view_kitchen")
def recipes() -> str:
    include_retired = bool(request.args.get("retired"))
    return render_template(
        "kitchen/recipes.html",
        recipes=kitchen.list_recipes(current_org_id(), include_retired=include_retired),
        include_retired=include_retired,
    )


@bp.route("/kitchen/recipes/new", methods=["GET", "POST"])
@requires("plan_kitchen")
def new_recipe() -> str | Response:
    form = RecipeForm()
    return _recipe_form(form, None)


@bp.route("/kitchen/recipes/<int:recipe_id>/edit", methods=["GET", "POST"])
@requires("plan_kitchen")
def edit_recipe(recipe_id: int) -> str | Response:
    recipe = or_404(kitchen.get_recipe, current_org_id(), recipe_id)
    form = RecipeForm()
    if request.method == "GET":
        form.name.data = recipe.name
        form.dietary_notes.data = recipe.dietary_notes
        form.active.data = recipe.active
        while len(form.lines):
            form.lines.pop_entry()
        for line in recipe.lines:
            quantity = Decimal(format(line.quantity_per_100.normalize(), "f"))
            form.lines.append_entry({"item": line.item.label, "quantity": quantity})
        for _blank in range(max(2, RECIPE_ROWS - len(recipe.lines))):
            form.lines.append_entry()
    return _recipe_form(form, recipe)


def _recipe_form(form: RecipeForm, recipe: Recipe | None) -> str | Response:
    if request.method == "POST" and form.validate_on_submit():
        org_id = current_org_id()

        def action() -> dict[str, Any]:
            saved = kitchen.save_recipe(
                org_id,
                name=form.name.data or "",
                dietary_notes=form.dietary_notes.data or "",
                lines=_recipe_lines(form),
                active=bool(form.active.data) if recipe is not None else True,
                recipe_id=recipe.id if recipe is not None else None,
            )
            return {"recipe_id": saved.id, "message": _("Recipe %(name)s saved.", name=saved.name)}

        if submit_once(form, "recipe_save", action) is not None:
            return redirect(url_for(".recipes"))
    return render_template(
        "kitchen/recipe_form.html",
        form=form,
        recipe=recipe,
        ingredients=kitchen.ingredient_items(current_org_id()),
    )


def _recipe_lines(form: RecipeForm) -> list[tuple[int, Decimal]]:
    """Turn the filled rows into (item_id, quantity per 100); unknown labels are refused."""
    lines = []
    for row, item in filled_rows(form.lines):
        if row.quantity.data is None:
            raise ValidationError(
                _("Say how much %(label)s 100 meals take.", label=item.label),
                {"lines": _("quantity missing")},
            )
        lines.append((item.id, row.quantity.data))
    return lines


# --- cooking and leftovers -------------------------------------------------------------------


@bp.route("/kitchen/cooking", methods=["GET", "POST"])
@requires("view_kitchen")
def cooking() -> str | Response:
    may_cook = can(current_role(), "plan_kitchen")
    if request.method == "POST" and not may_cook:
        abort(403)
    form = CookingForm() if may_cook else None
    if form is not None:
        _offer_kitchen_and_meal(form)
        options = _recipe_options("—")
        for row in form.lines:
            row.recipe_id.choices = options
    if form is not None and form.validate_on_submit():
        org_id = current_org_id()

        def action() -> dict[str, Any]:
            cooked = kitchen.cook(
                org_id,
                current_user_id(),
                site_id=form.site_id.data,
                meal_item_id=form.meal_item_id.data,
                split=_split(form),
                occurred_at=form.occurred_at_utc(_timezone()),
                note=form.note.data or "",
            )
            return {
                "cooking_id": cooked.id,
                "message": _(
                    "Cooked %(meals)s meals logged; ingredients taken from %(site)s.",
                    meals=cooked.meals,
                    site=cooked.site.name,
                ),
            }

        if submit_once(form, "kitchen_cooking", action) is not None:
            return redirect(url_for(".cooking"))
    org_id = current_org_id()
    return render_template(
        "kitchen/cooking.html",
        form=form,
        cookings=kitchen.recent_cookings(org_id, LOG_LENGTH),
        kitchen_stock=kitchen.kitchen_stock(org_id),
        cook_rows=COOK_ROWS,
    )


def _split(form: CookingForm) -> list[tuple[int, int]]:
    split = []
    for row in form.lines:
        if not row.meals.data:
            continue
        if not row.recipe_id.data:
            raise ValidationError(
                _("Choose the recipe of the %(meals)s meals.", meals=row.meals.data),
                {"lines": _("recipe missing")},
            )
        split.append((row.recipe_id.data, row.meals.data))
    return split


@bp.route("/kitchen/leftovers", methods=["GET", "POST"])
@requires("plan_kitchen")
def leftovers() -> str | Response:
    form = LeftoversForm()
    _offer_kitchen_and_meal(form)
    if form.validate_on_submit():
        org_id = current_org_id()

        def action() -> dict[str, Any]:
            movement = kitchen.record_leftovers(
                org_id,
                current_user_id(),
                site_id=form.site_id.data,
                meal_item_id=form.meal_item_id.data,
                meals=form.meals.data,
                occurred_at=form.occurred_at_utc(_timezone()),
            )
            return {
                "movement_id": movement.id,
                "message": _("%(meals)s leftover meals written off.", meals=-movement.quantity),
            }

        if submit_once(form, "kitchen_leftovers", action) is not None:
            return redirect(url_for(".cooking"))
    return render_template(
        "kitchen/leftovers.html", form=form, kitchen_stock=kitchen.kitchen_stock(current_org_id())
    )


def _offer_kitchen_and_meal(form: CookingForm | LeftoversForm) -> None:
    org_id = current_org_id()
    form.site_id.choices = choices((s.id, s.name) for s in kitchen.kitchens(org_id))
    form.meal_item_id.choices = choices((i.id, i.label) for i in kitchen.meal_items(org_id))


# --- helpers ---------------------------------------------------------------------------------


def _tomorrow() -> date:
    return distributions.local_today(current_org_id()) + timedelta(days=1)


def _timezone() -> str:
    return current_membership().organisation.timezone


def _parse_day(value: str) -> date:
    """Read the day in the page's address; one that cannot be planned names no page."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        abort(404)
    if not distributions.EARLIEST_DAY <= day <= distributions.LATEST_DAY:
        abort(404)
    return day
