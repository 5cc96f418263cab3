"""Kitchen: the meal forecast, planned meals, recipes, ingredient needs, cooking and leftovers."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from conftest import form_token
from factories import kitchen_items, meal_series, occurrence, tomorrow
from sqlalchemy import func, select

from logistics.extensions import db
from logistics.models import Cooking, StockMovement
from logistics.services import alerts, catalogue, distributions, kitchen, ledger, needs, stock
from logistics.services.distributions import OutcomeInput
from logistics.services.errors import Conflict, InsufficientStock, NotFound, ValidationError

# Dal with rice: kg per 100 meals (onions as in docs/field-facts.md).
DAL = {"onions": "13.6", "rice": "10", "lentils": "6"}


def _recipe(world, name: str = "Dal with rice", lines: dict[str, str] = DAL):
    recipe = kitchen.save_recipe(
        world.org_id,
        name=name,
        dietary_notes="vegetarian",
        lines=[(world.items[key], Decimal(q)) for key, q in lines.items()],
    )
    db.session.commit()
    return recipe


def _stock(world, site: str = "kitchen", **quantities: int) -> None:
    for key, quantity in quantities.items():
        ledger.receive(
            world.org_id,
            None,
            site_id=world.sites[site],
            item_id=world.items[key],
            quantity=quantity,
            occurred_at=datetime.now(UTC) - timedelta(days=1),
        )
    db.session.commit()


def _held(world, series, counts: dict[date, int], disrupted: frozenset[date] = frozenset()):
    for day, headcount in counts.items():
        status = "disrupted" if day in disrupted else "held"
        distributions.record_outcome(
            world.org_id,
            None,
            occurrence(series, day).id,
            OutcomeInput(status, headcount=headcount),
        )
    db.session.commit()


def _movement_count() -> int:
    return db.session.scalar(select(func.count(StockMovement.id)))


def test_forecast_equals_a_hand_calculation_with_its_fall_backs(world):
    kitchen_items(world)
    t = tomorrow(world)
    # A: five weeks of history; on tomorrow's weekday 410, (150 disrupted: not held), 390, 400, 420.
    a = meal_series(world, t - timedelta(days=35), 400, time(12, 0))
    history = {t - timedelta(days=n): 300 for n in range(2, 36)}
    history |= {t - timedelta(days=7): 410, t - timedelta(days=14): 150}
    history |= {t - timedelta(days=21): 390, t - timedelta(days=28): 400}
    history |= {t - timedelta(days=35): 420}
    _held(world, a, history, disrupted=frozenset({t - timedelta(days=14)}))
    # B: nine days, so one same weekday: the last 7 held count (999, the eighth back, does not).
    b = meal_series(world, t - timedelta(days=9), 250, time(18, 0))
    counts = [999, 200, 220, 240, 260, 280, 300, 320]
    _held(world, b, {t - timedelta(days=9 - i): c for i, c in enumerate(counts)})
    # C: a brand-new series: its plan. D: a one-off: its own plan. Water only: no meals.
    meal_series(world, t, 500, time(19, 0))
    zone = distributions.organisation_zone(world.org_id)
    distributions.create_one_off(
        world.org_id,
        site_id=world.sites["point"],
        source_site_id=world.sites["kitchen"],
        starts_at=datetime.combine(t, time(20, 0), tzinfo=zone),
        lines=[(world.items["meal"], 120), (world.items["water"], 10)],
    )
    distributions.create_one_off(
        world.org_id,
        site_id=world.sites["point"],
        source_site_id=world.sites["main"],
        starts_at=datetime.combine(t, time(10, 0), tzinfo=zone),
        lines=[(world.items["water"], 300)],
    )
    db.session.commit()

    plan = kitchen.meal_plan(world.org_id, t, 1)
    rows = [
        (r.forecast.basis, r.forecast.expected, r.recommended, r.planned) for r in plan.days[0].rows
    ]
    # Buffer 10%, exact: 405 × 1.1 = 445.5 → 446; 260 × 1.1 = 286 (a float would say 287);
    # 500 → 550 and 120 → 132 (floats: 551 and 133).
    assert rows == [
        ("same_weekday", 405, 446, 400),
        ("series", 260, 286, 250),
        ("plan", 500, 550, 500),
        ("plan", 120, 132, 120),
    ]
    assert plan.days[0].rows[0].forecast.past == [
        (t - timedelta(days=7), 410),
        (t - timedelta(days=21), 390),
        (t - timedelta(days=28), 400),
        (t - timedelta(days=35), 420),
    ]
    assert [c for _, c in plan.days[0].rows[1].forecast.past] == [320, 300, 280, 260, 240, 220, 200]
    [kitchen_day] = plan.days[0].kitchens
    assert (kitchen_day.site.id, kitchen_day.recommended, kitchen_day.planned) == (
        world.sites["kitchen"],
        446 + 286 + 550 + 132,
        400 + 250 + 500 + 120,
    )


def test_planned_meals_become_the_line_and_survive_a_series_edit(world):
    kitchen_items(world)
    t = tomorrow(world)
    series = meal_series(world, t, 400, time(18, 0), water=100)
    kitchen.set_planned_meals(world.org_id, occurrence(series, t).id, 446)
    db.session.commit()
    distributions.update_series(
        world.org_id,
        series.id,
        site_id=world.sites["point"],
        source_site_id=world.sites["kitchen"],
        weekdays=range(7),
        local_time=time(18, 0),
        starts_on=t,
        ends_on=None,
        lines=[(world.items["meal"], 300), (world.items["water"], 100)],
    )
    db.session.commit()
    db.session.expire_all()

    def plan(day: date) -> dict[int, int]:
        return {line.item_id: line.planned_quantity for line in occurrence(series, day).lines}

    assert plan(t) == {world.items["meal"]: 446, world.items["water"]: 100}
    assert plan(t + timedelta(days=1)) == {world.items["meal"]: 300, world.items["water"]: 100}
    assert kitchen.meal_plan(world.org_id, t, 1).rows[0].planned == 446
    water_only = distributions.create_one_off(
        world.org_id,
        site_id=world.sites["point"],
        source_site_id=world.sites["main"],
        starts_at=occurrence(series, t).starts_at,
        lines=[(world.items["water"], 50)],
    )
    with pytest.raises(ValidationError, match="carries no meals"):
        kitchen.set_planned_meals(world.org_id, water_only.id, 10)


def test_recipes_take_ingredients_only_and_unique_names(world, other_world):
    kitchen_items(world)
    recipe = _recipe(world)
    assert {line.item_id: line.quantity_per_100 for line in recipe.lines}[
        world.items["onions"]
    ] == Decimal("13.6")
    for junk in ("meal", "blanket"):
        with pytest.raises(ValidationError, match="not an ingredient"):
            kitchen.save_recipe(
                world.org_id, name="Junk", dietary_notes="", lines=[(world.items[junk], 5)]
            )
    with pytest.raises(ValidationError, match="more than 0"):
        kitchen.save_recipe(
            world.org_id, name="Empty", dietary_notes="", lines=[(world.items["rice"], 0)]
        )
    with pytest.raises(Conflict, match="already a recipe"):
        kitchen.save_recipe(
            world.org_id,
            name="dal WITH rice",
            dietary_notes="",
            lines=[(world.items["rice"], Decimal(1))],
        )
    db.session.rollback()
    # Another organisation can neither see nor use it.
    with pytest.raises(NotFound):
        kitchen.get_recipe(other_world.org_id, recipe.id)
    with pytest.raises(NotFound):
        kitchen.choose_menu(
            other_world.org_id, None, other_world.sites["kitchen"], date.today(), recipe.id
        )


def test_ingredient_needs_join_committed_demand_and_raise_an_alert(world):
    kitchen_items(world)
    t = tomorrow(world)
    _stock(world, onions=50, rice=1000, lentils=1000)
    dal = _recipe(world)
    meal_series(world, t, 650, time(18, 0))
    before = {n.item_id: n for n in needs.compute_needs(world.org_id)}
    assert before[world.items["onions"]].committed == 0  # no recipe chosen yet
    kitchen.choose_menu(world.org_id, None, world.sites["kitchen"], t, dal.id)
    db.session.commit()

    by_item = {n.item_id: n for n in needs.compute_needs(world.org_id)}
    # 650 meals: onions 650 × 13.6 / 100 = 88.4 → 89 kg; rice 65; lentils 39.
    assert by_item[world.items["onions"]].committed == 89
    assert by_item[world.items["rice"]].committed == 65
    assert by_item[world.items["lentils"]].committed == 39
    assert by_item[world.items["onions"]].status == "critical"  # 50 held < 89 within 48 h
    assert by_item[world.items["rice"]].status == "ok"
    changes = alerts.reconcile(world.org_id)
    db.session.commit()
    opened = {c.alert.item_id: c.severity for c in changes if c.change == "opened"}
    assert opened[world.items["onions"]] == "critical"
    assert world.items["rice"] not in opened

    shown = {n.item.id: n for n in kitchen.ingredient_needs(world.org_id, t, 7)}
    onions = shown[world.items["onions"]]
    assert (onions.site.id, onions.needed, onions.held, onions.short, onions.short_from) == (
        world.sites["kitchen"],
        89,
        50,
        39,
        t,
    )
    assert shown[world.items["rice"]].short == 0


def test_cooking_short_of_ingredients_writes_nothing_and_names_each(world):
    kitchen_items(world)
    _stock(world, onions=50, rice=30, lentils=100)
    dal = _recipe(world)
    count = _movement_count()
    with pytest.raises(InsufficientStock) as refusal:
        kitchen.cook(
            world.org_id,
            world.users["kitchen"],
            site_id=world.sites["kitchen"],
            meal_item_id=world.items["meal"],
            split=[(dal.id, 650)],
        )
    db.session.rollback()
    assert "Onions" in refusal.value.message and "89" in refusal.value.message
    assert "Rice" in refusal.value.message and "Lentils" not in refusal.value.message
    assert _movement_count() == count
    assert db.session.scalar(select(func.count(Cooking.id))) == 0
    assert ledger.held(world.sites["kitchen"], world.items["lentils"]) == 100
    with pytest.raises(ValidationError, match="not a kitchen"):
        kitchen.cook(
            world.org_id,
            None,
            site_id=world.sites["main"],
            meal_item_id=world.items["meal"],
            split=[(dal.id, 10)],
        )


def test_cooking_distribution_and_leftovers_keep_the_ledger_balanced(world):
    kitchen_items(world)
    _stock(world, onions=200, rice=200, lentils=100)
    dal = _recipe(world)
    stew = _recipe(world, "Rice and onions", {"onions": "13.6", "rice": "10"})
    now = datetime.now(UTC)
    cooked = kitchen.cook(
        world.org_id,
        world.users["kitchen"],
        site_id=world.sites["kitchen"],
        meal_item_id=world.items["meal"],
        split=[(dal.id, 400), (stew.id, 250)],
        occurred_at=now - timedelta(hours=3),
    )
    db.session.commit()
    # Summed across recipes, then rounded up: onions 650 × 13.6 / 100 = 88.4 → 89.
    moved = {(m.item_id, m.kind): m.quantity for m in kitchen.cooking_movements(cooked)}
    assert moved == {
        (world.items["lentils"], "consumption"): -24,
        (world.items["onions"], "consumption"): -89,
        (world.items["rice"], "consumption"): -65,
        (world.items["meal"], "production"): 650,
    }
    evening = distributions.create_one_off(
        world.org_id,
        site_id=world.sites["point"],
        source_site_id=world.sites["kitchen"],
        starts_at=now - timedelta(hours=1),
        lines=[(world.items["meal"], 650)],
    )
    distributions.record_outcome(
        world.org_id,
        world.users["kitchen"],
        evening.id,
        OutcomeInput("held", headcount=600, given=[(world.items["meal"], 600)]),
    )
    db.session.commit()
    assert ledger.held(world.sites["kitchen"], world.items["meal"]) == 50
    with pytest.raises(InsufficientStock):
        kitchen.record_leftovers(
            world.org_id,
            None,
            site_id=world.sites["kitchen"],
            meal_item_id=world.items["meal"],
            meals=51,
        )
    db.session.rollback()
    loss = kitchen.record_leftovers(
        world.org_id,
        world.users["kitchen"],
        site_id=world.sites["kitchen"],
        meal_item_id=world.items["meal"],
        meals=50,
    )
    db.session.commit()
    assert (loss.kind, loss.quantity, loss.note) == ("loss", -50, "Leftovers (spoilage)")
    assert ledger.held(world.sites["kitchen"], world.items["meal"]) == 0
    assert ledger.held(world.sites["kitchen"], world.items["onions"]) == 111
    assert stock.check_ledger() == []


# --- pages -------------------------------------------------------------------------------------


class _Inputs(HTMLParser):
    """Collect the named inputs and selected options of the form whose action matches."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action = action
        self.inside = False
        self.select: str | None = None
        self.values: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.inside = self.action in (a.get("action") or "")
        elif self.inside and tag == "input" and a.get("name"):
            self.values[a["name"]] = a.get("value") or ""
        elif self.inside and tag == "select":
            self.select = a.get("name")
        elif self.inside and tag == "option" and self.select and "selected" in a:
            self.values[self.select] = a.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False


def _form_values(html: str, action: str) -> dict[str, str]:
    parser = _Inputs(action)
    parser.feed(html)
    return parser.values


def test_roles_and_other_organisations_on_the_kitchen_pages(world, other_world, client_as):
    kitchen_items(world)
    kitchen_items(other_world)
    theirs = _recipe(other_world)
    _recipe(world)
    warehouse = client_as("warehouse")
    assert warehouse.get("/kitchen").status_code == 200
    recipes = warehouse.get("/kitchen/recipes").get_data(as_text=True)
    assert "Dal with rice" in recipes and "Onions: 13.6 kg" in recipes and "Edit" not in recipes
    page = warehouse.get("/kitchen/cooking")
    assert page.status_code == 200 and "Log cooking" not in page.get_data(as_text=True)
    # Which role may open which page (and post) is the matrix of test_permissions.
    cook = client_as("kitchen")
    assert "Log cooking" in cook.get("/kitchen/cooking").get_data(as_text=True)
    assert cook.get(f"/kitchen/recipes/{theirs.id}/edit").status_code == 404


def test_done_when_plan_tomorrow_pick_a_recipe_see_onions_short_and_cook(world, client_as):
    kitchen_items(world)
    t = tomorrow(world)
    for name in ("Lorry park", "Park"):
        site = catalogue.save_site(
            world.org_id, {"name": name, "kind": "distribution_point", "area": "Calais"}
        )
        world.sites[name] = site.id
    _stock(world, onions=50, rice=500, lentils=300)
    usual = meal_series(world, t - timedelta(days=28), 400, time(12, 0))
    _held(
        world,
        usual,
        {t - timedelta(days=7 * n): c for n, c in ((1, 410), (2, 380), (3, 420), (4, 400))},
    )
    meal_series(world, t, 300, time(18, 0), point="Lorry park")
    meal_series(world, t, 200, time(19, 0), point="Park")
    lead = client_as("kitchen")

    # Open tomorrow's plan: 402.5 expected at the usual point (403 people) → 443 recommended;
    # 330; 220.
    html = lead.get("/kitchen").get_data(as_text=True)
    text = re.sub(r"<[^>]+>", "", html)
    assert "Expected people: 403" in text and "same weekday:" in text
    assert "410, 380, 420, 400" in text

    # Write the recipe (13,6 as French volunteers type it).
    token = form_token(lead.get("/kitchen/recipes/new").get_data(as_text=True))
    response = lead.post(
        "/kitchen/recipes/new",
        data={
            "request_token": token,
            "name": "Dal with rice",
            "dietary_notes": "vegetarian",
            "lines-0-item": "Onions",
            "lines-0-quantity": "13,6",
            "lines-1-item": "rice",
            "lines-1-quantity": "10",
            "lines-2-item": "Lentils",
            "lines-2-quantity": "6",
        },
    )
    assert response.status_code == 302
    [dal] = kitchen.list_recipes(world.org_id)

    # Accept two recommendations, change the third, pick the recipe.
    values = _form_values(lead.get("/kitchen").get_data(as_text=True), f"/kitchen/day/{t}")
    assert [values[f"rows-{i}-meals"] for i in range(3)] == ["443", "330", "220"]
    values["rows-2-meals"] = "250"
    values["menus-0-recipe_id"] = str(dal.id)
    wrong = lead.post(f"/kitchen/day/{t}?first={t}", data={**values, "rows-1-meals": "-5"})
    assert wrong.status_code == 200 and "Number must be between" in wrong.get_data(as_text=True)
    assert kitchen.meal_plan(world.org_id, t, 1).rows[1].planned == 300
    response = lead.post(f"/kitchen/day/{t}?first={t}", data=values)
    assert response.status_code == 302, response.get_data(as_text=True)
    planned = sorted(r.planned for r in kitchen.meal_plan(world.org_id, t, 1).rows)
    assert planned == [250, 330, 443]

    # Onions: ceil(60.248) + ceil(44.88) + 34 = 61 + 45 + 34 = 140 kg needed, 50 held.
    html = lead.get("/kitchen").get_data(as_text=True)
    assert "short by 90" in html

    # Tonight's cooking is refused while onions are short, then goes through once bought.
    def cook() -> str:
        page = lead.get("/kitchen/cooking").get_data(as_text=True)
        token = form_token(page)
        response = lead.post(
            "/kitchen/cooking",
            data={
                "request_token": token,
                "site_id": world.sites["kitchen"],
                "meal_item_id": world.items["meal"],
                "lines-0-recipe_id": dal.id,
                "lines-0-meals": 1023,
            },
            follow_redirects=True,
        )
        return response.get_data(as_text=True)

    refused = cook()
    assert "Only 50 Onions at Community kitchen; cannot use 140" in refused
    assert ledger.held(world.sites["kitchen"], world.items["onions"]) == 50
    _stock(world, onions=100)
    logged = cook()
    assert "Cooked 1023 meals logged" in logged
    assert ledger.held(world.sites["kitchen"], world.items["meal"]) == 1023
    assert ledger.held(world.sites["kitchen"], world.items["onions"]) == 10
    assert ledger.held(world.sites["kitchen"], world.items["rice"]) == 500 - 103
    assert "1,023 Dal with rice" in logged
    # What was not given out tonight is written off.
    page = lead.get("/kitchen/leftovers").get_data(as_text=True)
    response = lead.post(
        "/kitchen/leftovers",
        data={
            "request_token": form_token(page),
            "site_id": world.sites["kitchen"],
            "meal_item_id": world.items["meal"],
            "meals": 23,
        },
    )
    assert response.status_code == 302
    assert ledger.held(world.sites["kitchen"], world.items["meal"]) == 1000
    edit = lead.get(f"/kitchen/recipes/{dal.id}/edit").get_data(as_text=True)
    assert 'value="13.6"' in edit and 'value="10"' in edit
