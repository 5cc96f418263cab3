"""The demo organisation built by `flask seed-demo`: consistent, believable, logins that work.

Seeding takes a few seconds, so one test per database seeds once and checks it all.
"""

from __future__ import annotations

import math
from datetime import timedelta
from decimal import Decimal
from statistics import mean

from conftest import login
from flask import Flask
from sqlalchemy import func, select

from logistics.demo import DEMO_PASSWORD, demo_logins, seed
from logistics.extensions import db
from logistics.models import (
    Alert,
    Cooking,
    Distribution,
    Incident,
    MenuChoice,
    Organisation,
    StockMovement,
)
from logistics.models.types import utcnow
from logistics.services import (
    accounts,
    catalogue,
    distributions,
    incidents,
    kitchen,
    ledger,
    needs,
    replacement,
    stock,
)


def _held(org_id: int) -> dict[str, int]:
    """Return each item's held total (every site) by label."""
    labels = {i.id: i.label for i in catalogue.list_items(org_id)}
    held = dict.fromkeys(labels.values(), 0)
    for row in stock.levels(org_id):
        held[labels[row.item_id]] += row.quantity
    return held


def _movement_count() -> int:
    return db.session.scalar(select(func.count()).select_from(StockMovement))


def test_seed_demo_builds_a_believable_demo_once(app: Flask) -> None:
    runner = app.test_cli_runner()

    result = runner.invoke(args=["seed-demo"])

    assert result.exit_code == 0, result.output
    assert "already present" not in result.output
    organisation = accounts.organisation_by_slug("demo")
    assert (organisation.name, organisation.timezone) == ("Demo Solidarity Calais", "Europe/Paris")
    _assert_stock(organisation.id)
    _assert_distributions(organisation.id)
    _assert_incidents(organisation.id)
    _assert_kitchen(organisation.id)
    _assert_logins_and_pages(app, result.output)

    movements = _movement_count()
    again = runner.invoke(args=["seed-demo", "--if-empty"])
    assert again.exit_code == 0
    assert "already present" in again.output
    assert seed(if_empty=False) is False  # the demo is there already
    assert _movement_count() == movements
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 1


def _assert_stock(org_id: int) -> None:
    """Sites and items as a group has them; the ledger adds up; the usual things are short."""
    sites = catalogue.list_sites(org_id)
    points = [s for s in sites if s.kind == "distribution_point"]
    assert len(points) == 5 and all(s.details for s in points)
    assert {s.area for s in sites} == {"Calais", "Grande-Synthe"}
    labels = {i.label for i in catalogue.list_items(org_id)}
    assert len(labels) >= 40
    assert {f"Shoes ({size})" for size in range(40, 46)} <= labels
    # Volunteers type French or English names: the items' other names find them.
    assert catalogue.find_item(org_id, "duvets").label == "Sleeping bag"
    assert catalogue.find_item(org_id, "bache").label == "Tarpaulin (4x6 m)"
    main = catalogue.main_site(org_id)
    assert (main.name, main.kind) == ("Main warehouse", "warehouse")

    assert stock.check_ledger() == []
    kinds = set(db.session.scalars(select(StockMovement.kind).distinct()))
    assert {"donation", "purchase", "transfer_out", "transfer_in", "distribution"} <= kinds
    assert {"loss", "adjustment", "reversal", "production", "consumption"} <= kinds
    oldest = db.session.scalar(select(func.min(StockMovement.occurred_at)))
    assert utcnow() - timedelta(days=43) < oldest < utcnow() - timedelta(days=40)
    # Give-outs belong to distributions now, not to bare movements.
    assert not db.session.scalar(
        select(func.count()).where(
            StockMovement.kind == "distribution", StockMovement.distribution_id.is_(None)
        )
    )

    held = _held(org_id)
    minimum = {i.label: i.min_stock for i in catalogue.list_items(org_id)}
    for always_short in ("Blanket", "Sleeping bag", "Shoes (42)"):
        assert held[always_short] < minimum[always_short], always_short
    assert any(held[label] >= minimum[label] > 0 for label in held), "nothing is well stocked"


def _assert_distributions(org_id: int) -> None:
    """Six weeks of recorded outcomes behind, planned occurrences ahead, blankets short."""
    today = distributions.local_today(org_id)
    past = distributions.distributions_between(
        org_id, today - timedelta(days=42), today - timedelta(days=1)
    )
    by_status: dict[str, list[Distribution]] = {}
    for distribution in past:
        by_status.setdefault(distribution.status, []).append(distribution)
    assert set(by_status) == {"held", "disrupted", "cancelled"}
    for giving in by_status["held"] + by_status["disrupted"]:
        assert giving.headcount and giving.outcome_recorded_at is not None
    assert all(d.headcount is None for d in by_status["cancelled"])
    assert any(d.headcount_minors is not None for d in by_status["held"])
    evenings = [d.headcount for d in past if d.site.name == "Calais East point" and d.headcount]
    assert len(evenings) > 30 and 300 <= min(evenings) < max(evenings) <= 600

    ahead = distributions.distributions_between(org_id, today, today + timedelta(days=27))
    assert len(ahead) > 28 and {d.status for d in ahead} == {"planned"}
    agenda = distributions.agenda(org_id, today, today + timedelta(days=6))
    short = {line.line.item.label for entry in agenda for line in entry.lines if not line.enough}
    assert "Blanket" in short


def _assert_incidents(org_id: int) -> None:
    """Evictions in both areas, most locked, and tents destroyed soon after they were given."""
    # Six weeks of evictions are history, recorded as they happened: only one of the last
    # 24 hours may still ask for its replacement, and none opened an alert while seeding.
    everything = db.session.scalars(select(Incident).where(Incident.organisation_id == org_id))
    created = sorted(incident.created_at for incident in everything)
    assert created[0] < utcnow() - timedelta(days=30)
    if created[-1] < utcnow() - timedelta(hours=24):
        assert replacement.demand(org_id, utcnow()) == {}
    assert not db.session.scalar(select(func.count(Alert.id)).where(Alert.kind == "eviction"))
    today = distributions.local_today(org_id)
    recorded = incidents.list_incidents(org_id, today - timedelta(days=42), today)
    after_distribution = {
        incident.area
        for incident in recorded
        if any(line.origin == "after_distribution" for line in incident.lines)
    }
    assert after_distribution == {"Calais", "Grande-Synthe"}
    assert any(line.origin == "from_stock" for incident in recorded for line in incident.lines)
    locked = [incident for incident in recorded if incident.locked]
    assert len(recorded) / 2 < len(locked) < len(recorded)
    assert any(incident.amendments for incident in locked)

    figures = incidents.loss_figures(org_id, today - timedelta(days=27), today)
    tents = [row for row in figures.items if row.label.startswith("Tent")]
    assert any(row.given and row.share_of_given > 0 for row in tents)


def _assert_kitchen(org_id: int) -> None:
    """Recipes, a cooking a day by the day's menu, meals that vary by weekday, onions short."""
    recipes = {recipe.name: recipe for recipe in kitchen.list_recipes(org_id)}
    assert len(recipes) == 3
    assert all("vegetarian" in recipe.dietary_notes for recipe in recipes.values())
    assert all(
        line.item.category == "ingredient" for recipe in recipes.values() for line in recipe.lines
    )
    dal = {line.item.label: line.quantity_per_100 for line in recipes["Dal with rice"].lines}
    assert dal["Onions"] == Decimal("13.6") and {"Rice", "Red lentils"} <= set(dal)

    # Cooking through the kitchen: every such movement belongs to a cooking, which balances.
    assert not db.session.scalar(
        select(func.count()).where(
            StockMovement.kind.in_(("consumption", "production")),
            StockMovement.cooking_id.is_(None),
        )
    )
    today = distributions.local_today(org_id)
    zone = distributions.organisation_zone(org_id)
    past = distributions.distributions_between(org_id, today - timedelta(days=42), today)
    kitchen_id = next(s.id for s in catalogue.list_sites(org_id) if s.kind == "kitchen")
    meals_out = [d for d in past if d.source_site_id == kitchen_id and d.status != "planned"]
    went_ahead = sorted({d.local_date for d in meals_out if d.status != "cancelled"})
    cookings = list(db.session.scalars(select(Cooking).order_by(Cooking.occurred_at)))
    days = [cooking.occurred_at.astimezone(zone).date() for cooking in cookings]
    # One cooking a day the meals went out (none on the day of the ban), six weeks of them.
    assert days == went_ahead and len(days) >= 40
    menus = {
        menu.local_date: menu.recipe_id
        for menu in db.session.scalars(
            select(MenuChoice).where(MenuChoice.organisation_id == org_id)
        )
    }
    assert all(
        c.recipes[0]["recipe_id"] == menus[day] for c, day in zip(cookings, days, strict=True)
    )
    two_pots = [cooking for cooking in cookings if len(cooking.recipes) == 2]  # on Fridays
    assert len(two_pots) >= 5
    by_id = {recipe.id: recipe for recipe in recipes.values()}
    for cooking in (cookings[-1], two_pots[-1]):
        movements = kitchen.cooking_movements(cooking)
        assert [m.quantity for m in movements if m.kind == "production"] == [cooking.meals]
        # Each ingredient used is meals × quantity per 100 ÷ 100 over the pots, rounded up.
        expected: dict[str, Decimal] = {}
        for pot in cooking.recipes:
            for line in by_id[pot["recipe_id"]].lines:
                label = line.item.label
                expected[label] = expected.get(label, 0) + pot["meals"] * line.quantity_per_100
        used = {m.item.label: -m.quantity for m in movements if m.kind == "consumption"}
        assert used == {label: math.ceil(total / 100) for label, total in expected.items()}
    assert ledger.held(kitchen_id, cookings[-1].item_id) == 0  # all given out or written off
    leftovers = db.session.scalars(
        select(StockMovement).where(
            StockMovement.kind == "loss", StockMovement.note == kitchen.LEFTOVER_REASON
        )
    ).all()
    assert leftovers and all(m.site_id == kitchen_id for m in leftovers)

    # Meal distributions: headcounts vary by weekday; tomorrow is forecast from them.
    by_weekday: dict[int, list[int]] = {}
    for distribution in meals_out:
        if distribution.headcount:
            weekday = distribution.local_date.weekday()
            by_weekday.setdefault(weekday, []).append(distribution.headcount)
    means = [mean(counts) for counts in by_weekday.values()]
    assert len(by_weekday) == 7 and max(means) > 1.1 * min(means)
    plan = kitchen.meal_plan(org_id, today + timedelta(days=1), 7)
    tomorrow = plan.days[0]
    assert tomorrow.rows
    for row in tomorrow.rows:  # four weeks of the same weekday behind every forecast
        assert row.forecast.basis == "same_weekday"
        assert {day.weekday() for day, _ in row.forecast.past} == {tomorrow.day.weekday()}
        assert 100 <= row.forecast.expected <= 600 and row.recommended > row.forecast.expected
    # The kitchen lead chose the dishes of the coming week.
    assert all(day.kitchens and day.kitchens[0].recipe is not None for day in plan.days)
    assert all(today + timedelta(days=n) in menus for n in range(8))

    # With those menus, onions run short within the week; the other ingredients are in.
    ingredient_needs = kitchen.ingredient_needs(org_id, today + timedelta(days=1), 7)
    assert len(ingredient_needs) >= 8
    short = [n for n in ingredient_needs if n.short]
    assert [n.item.label for n in short] == ["Onions"]
    assert short[0].held > 0 and short[0].short_from <= plan.last
    onions = next(n for n in needs.compute_needs(org_id) if n.label == "Onions")
    assert onions.committed > 0 and onions.status != "ok"


def _assert_logins_and_pages(app: Flask, output: str) -> None:
    """Every printed login works; the stock page and the agenda show what is short."""
    assert DEMO_PASSWORD in output
    for email, role in demo_logins():
        assert email in output and role in output
        response = login(app.test_client(), email, DEMO_PASSWORD)
        assert response.status_code == 302, email

    warehouse = app.test_client()
    login(warehouse, "warehouse@demo.example.org", DEMO_PASSWORD)
    page = warehouse.get("/?category=bedding")
    assert page.status_code == 200
    blanket_row = next(
        row for row in page.get_data(as_text=True).split("<tr") if ">Blanket<" in row
    )
    assert 'class="low"' in blanket_row

    coordinator = app.test_client()
    login(coordinator, "coordinator@demo.example.org", DEMO_PASSWORD)
    agenda = coordinator.get("/distributions")
    assert agenda.status_code == 200
    lines = agenda.get_data(as_text=True).split("<li>")
    assert any("Blanket " in line and "short" in line for line in lines)

    lead = app.test_client()
    login(lead, "kitchen@demo.example.org", DEMO_PASSWORD)
    plan = lead.get("/kitchen")
    assert plan.status_code == 200
    rows = plan.get_data(as_text=True).split("<tr")
    onions = next(row for row in rows if "<td>Onions" in row)
    assert 'class="low"' in onions and "short by" in onions
    rice = next(row for row in rows if "<td>Rice" in row)
    assert "enough" in rice
