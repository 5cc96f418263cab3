"""A source per planned line: meals from the kitchen, blankets from the warehouse.

Outcomes take each line from its own source, the agenda and the kitchen plan follow the line,
series edits carry line sources to their occurrences, and stock at a distribution point is
stock that can be given out there.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import World
from factories import assert_error, kitchen_items, occurrence, receive, site
from pypdf import PdfReader
from sqlalchemy import event, select

from logistics.extensions import db
from logistics.models import Distribution, Organisation, StockMovement
from logistics.services import distributions, kitchen, ledger, needs, reports
from logistics.services.distributions import OutcomeInput, PlanLine
from logistics.services.errors import InsufficientStock, ValidationError
from logistics.services.reports import ReportRequest

PARIS = ZoneInfo("Europe/Paris")


def today(world: World) -> date:
    return distributions.local_today(world.org_id)


def at(day: date, hour: int = 18) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=PARIS)


def meals_and_blankets(world: World, day: date, meals: int = 300, blankets: int = 40) -> int:
    """Schedule a distribution with meals from the kitchen and blankets from Main; commit."""
    made = distributions.create_one_off(
        world.org_id,
        site_id=world.sites["point"],
        source_site_id=world.sites["kitchen"],
        starts_at=at(day),
        lines=[
            (world.items["meal"], meals),
            PlanLine(world.items["blanket"], blankets, world.sites["main"]),
        ],
    )
    db.session.commit()
    return made.id


def sources(distribution_id: int) -> dict[int, int]:
    """Return per item the source of a distribution's lines."""
    db.session.expire_all()
    found = db.session.get(Distribution, distribution_id)
    return {line.item_id: line.source_site_id for line in found.lines}


def given_at(distribution_id: int) -> dict[tuple[int, int], int]:
    """Return the give-out movements of a distribution by (site, item)."""
    rows = db.session.scalars(
        select(StockMovement).where(
            StockMovement.distribution_id == distribution_id,
            StockMovement.kind == "distribution",
        )
    )
    return {(row.site_id, row.item_id): row.quantity for row in rows}


@pytest.fixture
def meal_world(world: World) -> World:
    kitchen_items(world)
    return world


def test_the_outcome_takes_each_line_from_its_own_source_all_or_nothing(meal_world) -> None:
    world = meal_world
    receive(world, "kitchen", "meal", 300)
    receive(world, "main", "blanket", 40)
    receive(world, "kitchen", "blanket", 500)  # blankets at the kitchen are not this line's
    yesterday = today(world) - timedelta(days=1)
    first = meals_and_blankets(world, yesterday)
    assert sources(first) == {
        world.items["meal"]: world.sites["kitchen"],
        world.items["blanket"]: world.sites["main"],
    }

    distributions.record_outcome(
        world.org_id,
        None,
        first,
        OutcomeInput(
            "held", headcount=280, given=[(world.items["meal"], 280), (world.items["blanket"], 30)]
        ),
    )
    db.session.commit()
    assert given_at(first) == {
        (world.sites["kitchen"], world.items["meal"]): -280,
        (world.sites["main"], world.items["blanket"]): -30,
    }
    assert ledger.held(world.sites["main"], world.items["blanket"]) == 10
    assert ledger.held(world.sites["kitchen"], world.items["blanket"]) == 500

    # Main holds 10 blankets now: the next outcome is refused whole, naming Main warehouse.
    second = meals_and_blankets(world, yesterday - timedelta(days=1), meals=10, blankets=20)
    with pytest.raises(InsufficientStock) as refused:
        distributions.record_outcome(
            world.org_id,
            None,
            second,
            OutcomeInput(
                "held",
                headcount=20,
                given=[(world.items["meal"], 10), (world.items["blanket"], 20)],
            ),
        )
    db.session.rollback()
    assert refused.value.message.startswith("Not recorded, the source does not hold enough:")
    assert "Main warehouse" in refused.value.message
    assert given_at(second) == {}
    assert ledger.held(world.sites["kitchen"], world.items["meal"]) == 20
    assert db.session.get(Distribution, second).status == "planned"

    # A line given with no planned line leaves the distribution's own source.
    receive(world, "kitchen", "tarp", 5)
    distributions.record_outcome(
        world.org_id,
        None,
        second,
        OutcomeInput(
            "held", headcount=20, given=[(world.items["meal"], 10), (world.items["tarp"], 5)]
        ),
    )
    db.session.commit()
    assert given_at(second) == {
        (world.sites["kitchen"], world.items["meal"]): -10,
        (world.sites["kitchen"], world.items["tarp"]): -5,
    }


def test_the_agenda_marks_the_blanket_line_short_against_its_warehouse_only(
    meal_world, client_as
) -> None:
    world = meal_world
    receive(world, "main", "blanket", 20)
    receive(world, "kitchen", "blanket", 500)  # would cover it, were it the line's source
    tonight = meals_and_blankets(world, today(world) + timedelta(days=1))

    entries = distributions.agenda(world.org_id, today(world), today(world) + timedelta(days=6))
    lines = {line.line.item_id: line for entry in entries for line in entry.lines}
    assert [entry.distribution.id for entry in entries] == [tonight]
    blanket, meal = lines[world.items["blanket"]], lines[world.items["meal"]]
    assert (blanket.enough, blanket.missing) == (False, 20)
    assert (meal.enough, meal.missing) == (True, 0)  # cooked on the day

    page = client_as("coordinator").get("/distributions").get_data(as_text=True)
    items = page.split("<li>")
    blanket_item = next(item for item in items if "Blanket 40" in item)
    assert "from Main warehouse" in blanket_item and "20 short" in blanket_item
    meal_item = next(item for item in items if "Hot meal 300" in item)
    assert "from " not in meal_item.split("</li>")[0] and "short" not in meal_item

    sheet = client_as("warehouse").get(f"/distributions/{tonight}").get_data(as_text=True)
    assert "several sites" in sheet and "Main warehouse</td>" in sheet


def test_the_kitchen_plan_and_ingredient_demand_follow_the_meal_lines_kitchen(meal_world):
    world = meal_world
    dunkirk = site(world.org_id, "Dunkirk kitchen", "kitchen", "Grande-Synthe").id
    day = today(world) + timedelta(days=1)
    recipe = kitchen.save_recipe(
        world.org_id,
        name="Dal with rice",
        dietary_notes="vegetarian",
        lines=[(world.items["onions"], Decimal("13.6")), (world.items["rice"], Decimal("10"))],
    )
    kitchen.choose_menu(world.org_id, None, dunkirk, day, recipe.id)
    kitchen.choose_menu(world.org_id, None, world.sites["kitchen"], day, recipe.id)
    # Blankets from Main by default, meals from the Dunkirk kitchen.
    made = distributions.create_one_off(
        world.org_id,
        site_id=world.sites["point"],
        source_site_id=world.sites["main"],
        starts_at=at(day),
        lines=[(world.items["blanket"], 40), (world.items["meal"], 200, dunkirk)],
    )
    db.session.commit()

    plan = kitchen.meal_plan(world.org_id, day, 1)
    [row] = plan.rows
    assert row.distribution.id == made.id and row.source.id == dunkirk
    assert [k.site.id for k in plan.days[0].kitchens] == [dunkirk]

    needed = {
        (n.site.id, n.item.label): n.needed for n in kitchen.ingredient_needs(world.org_id, day, 1)
    }
    # 200 meals × 13.6 kg ÷ 100 and × 10 kg ÷ 100, at the Dunkirk kitchen only.
    assert needed == {(dunkirk, "Onions"): 28, (dunkirk, "Rice"): 20}
    start = at(day, 0).astimezone(UTC)
    demand = kitchen.ingredient_demand(world.org_id, start, start + timedelta(days=1))
    assert {item: [q for _, q in rows] for item, rows in demand.items()} == {
        world.items["onions"]: [28],
        world.items["rice"]: [20],
    }


def test_series_edits_carry_line_sources_to_untouched_occurrences(meal_world) -> None:
    world = meal_world
    now = datetime.now(UTC)
    start = today(world) + timedelta(days=1)
    values: dict[str, Any] = {
        "site_id": world.sites["point"],
        "weekdays": range(7),
        "local_time": time(18),
        "starts_on": start,
        "ends_on": start + timedelta(days=6),
    }
    series = distributions.create_series(
        world.org_id,
        source_site_id=world.sites["main"],
        lines=[(world.items["blanket"], 40), (world.items["meal"], 300, world.sites["kitchen"])],
        now=now,
        **values,
    )
    db.session.commit()
    blanket, meal = world.items["blanket"], world.items["meal"]
    first = occurrence(series, start).id
    assert sources(first) == {blanket: world.sites["main"], meal: world.sites["kitchen"]}
    # One day changed by hand keeps its plan whatever the series does.
    by_hand = occurrence(series, start + timedelta(days=2)).id
    distributions.edit_occurrence(
        world.org_id,
        by_hand,
        starts_at=None,
        lines=[(blanket, 50), (meal, 300, world.sites["kitchen"])],
    )
    db.session.commit()

    # The default moves to Grande-Synthe: the blanket line, naming none, follows it.
    distributions.update_series(
        world.org_id,
        series.id,
        source_site_id=world.sites["gs_store"],
        lines=[(blanket, 40), (meal, 300, world.sites["kitchen"])],
        now=now,
        **values,
    )
    db.session.commit()
    db.session.expire_all()
    assert {line.item_id: line.source_site_id for line in series.lines} == {
        blanket: world.sites["gs_store"],
        meal: world.sites["kitchen"],
    }
    for offset in range(7):
        found = occurrence(series, start + timedelta(days=offset)).id
        expected_blanket = world.sites["main"] if found == by_hand else world.sites["gs_store"]
        assert sources(found) == {blanket: expected_blanket, meal: world.sites["kitchen"]}

    # A line's own source changes: the untouched occurrences follow, the hand-made one does not.
    distributions.update_series(
        world.org_id,
        series.id,
        source_site_id=world.sites["gs_store"],
        lines=[(blanket, 40, world.sites["main"]), (meal, 300, world.sites["kitchen"])],
        now=now,
        **values,
    )
    db.session.commit()
    assert sources(first)[blanket] == world.sites["main"]
    assert sources(occurrence(series, start + timedelta(days=6)).id)[blanket] == world.sites["main"]


def test_a_line_source_is_checked_like_the_distributions(meal_world, other_world) -> None:
    world = meal_world
    day = today(world) + timedelta(days=1)

    def one_off(source: int, site_id: int | None = None, line_source: int | None = None) -> None:
        distributions.create_one_off(
            world.org_id,
            site_id=site_id or world.sites["point"],
            source_site_id=source,
            starts_at=at(day),
            lines=[(world.items["blanket"], 4, line_source)],
        )

    # A distribution point may give out what was moved there ahead: its own point as source.
    one_off(world.sites["point"])
    one_off(world.sites["main"], line_source=world.sites["point"])
    db.session.commit()
    with pytest.raises(ValidationError) as at_a_warehouse:
        one_off(world.sites["main"], site_id=world.sites["main"])
    assert "distribution point" in at_a_warehouse.value.message
    db.session.rollback()
    with pytest.raises(Exception) as theirs:
        one_off(world.sites["main"], line_source=other_world.sites["main"])
    assert "No such site" in str(theirs.value.message)
    db.session.rollback()


def test_stock_moved_to_a_point_is_counted_and_given_out_there(world) -> None:
    receive(world, "main", "blanket", 100)
    ledger.transfer(
        world.org_id,
        None,
        from_site_id=world.sites["main"],
        to_site_id=world.sites["point"],
        item_id=world.items["blanket"],
        quantity=30,
    )
    db.session.commit()
    blanket = next(n for n in needs.compute_needs(world.org_id) if n.label == "Blanket")
    assert blanket.held == 100
    assert {site_id: quantity for site_id, _name, quantity in blanket.held_at} == {
        world.sites["main"]: 70,
        world.sites["point"]: 30,
    }

    yesterday = today(world) - timedelta(days=1)
    there = distributions.create_one_off(
        world.org_id,
        site_id=world.sites["point"],
        source_site_id=world.sites["point"],
        starts_at=at(yesterday),
        lines=[(world.items["blanket"], 30)],
    )
    distributions.record_outcome(
        world.org_id,
        None,
        there.id,
        OutcomeInput("held", headcount=25, given=[(world.items["blanket"], 25)]),
    )
    db.session.commit()
    assert ledger.held(world.sites["point"], world.items["blanket"]) == 5
    assert ledger.held(world.sites["main"], world.items["blanket"]) == 70
    blanket = next(n for n in needs.compute_needs(world.org_id) if n.label == "Blanket")
    assert blanket.held == 75


def test_the_agenda_runs_a_bounded_number_of_queries(meal_world, client_as) -> None:
    world = meal_world
    first = today(world) + timedelta(days=1)
    coordinator = client_as("coordinator")

    def statements_for(count: int) -> int:
        for n in range(count):
            meals_and_blankets(world, first + timedelta(days=n % 7), meals=10 + n)
        seen: list[str] = []

        def count_it(*_args: Any) -> None:
            seen.append("statement")

        event.listen(db.engine, "before_cursor_execute", count_it)
        try:
            page = coordinator.get("/distributions", query_string={"day": first.isoformat()})
        finally:
            event.remove(db.engine, "before_cursor_execute", count_it)
        assert page.status_code == 200 and "from Main warehouse" in page.get_data(as_text=True)
        return len(seen)

    small = statements_for(2)
    assert statements_for(12) == small  # 14 distributions now, and not one statement more


def test_the_api_round_trip_with_and_without_line_sources(meal_world, api) -> None:
    world = meal_world
    coordinator = api("coordinator")
    day = (today(world) + timedelta(days=2)).isoformat()
    body = {
        "site_id": world.sites["point"],
        "source_site_id": world.sites["kitchen"],
        "starts_at": f"{day}T18:00:00+01:00",
        "lines": [
            {"item_id": world.items["meal"], "planned": 300},
            {
                "item_id": world.items["blanket"],
                "planned": 40,
                "source_site_id": world.sites["main"],
            },
            {"item_id": world.items["tarp"], "planned": 5, "source_site_id": None},
        ],
        "request_token": "line-sources-1",
    }
    response = coordinator.post("/distributions", body)
    assert response.status_code == 201, response.get_data(as_text=True)
    made = response.get_json()
    assert made["source_site_id"] == world.sites["kitchen"]
    assert {line["item_id"]: line["source_site_id"] for line in made["lines"]} == {
        world.items["meal"]: world.sites["kitchen"],
        world.items["blanket"]: world.sites["main"],
        world.items["tarp"]: world.sites["kitchen"],
    }
    assert coordinator.get(f"/distributions/{made['id']}").get_json() == made

    series_body = {
        "site_id": world.sites["point"],
        "source_site_id": world.sites["main"],
        "weekdays": [0, 1, 2, 3, 4, 5, 6],
        "time": "12:30",
        "starts_on": day,
        "lines": [
            {
                "item_id": world.items["meal"],
                "planned": 200,
                "source_site_id": world.sites["kitchen"],
            },
            {"item_id": world.items["blanket"], "planned": 20},
        ],
        "request_token": "line-sources-2",
    }
    response = coordinator.post("/distribution-series", series_body)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["lines"] == [
        {"item_id": world.items["meal"], "planned": 200, "source_site_id": world.sites["kitchen"]},
        {"item_id": world.items["blanket"], "planned": 20, "source_site_id": world.sites["main"]},
    ]
    week = coordinator.get("/distributions", **{"from": day, "to": day}).get_json()
    lunch = next(d for d in week["distributions"] if d["series_id"])
    assert {line["item_id"]: line["source_site_id"] for line in lunch["lines"]} == {
        world.items["meal"]: world.sites["kitchen"],
        world.items["blanket"]: world.sites["main"],
    }
    plan = api("kitchen").get("/kitchen/plan", **{"from": day, "days": 1}).get_json()
    assert {row["source_site_id"] for row in plan["distributions"]} == {world.sites["kitchen"]}

    refused = body | {"request_token": "line-sources-3"}
    refused["lines"] = [{"item_id": world.items["tarp"], "planned": 1, "source_site_id": "main"}]
    assert_error(
        coordinator.post("/distributions", refused), 400, "bad_request", "lines[0].source_site_id"
    )
    refused["lines"] = [{"item_id": world.items["tarp"], "planned": 1, "source_site_id": 99999999}]
    assert_error(coordinator.post("/distributions", refused), 404, "not_found")


def test_the_forms_let_each_line_choose_its_source_without_javascript(meal_world, client_as):
    world = meal_world
    coordinator = client_as("coordinator")
    day = today(world) + timedelta(days=3)
    response = coordinator.post(
        "/distributions/new",
        data={
            "site_id": world.sites["point"],
            "source_site_id": world.sites["kitchen"],
            "starts_at": f"{day.isoformat()}T18:00",
            "lines-0-item": "Hot meal",
            "lines-0-quantity": "300",
            "lines-0-source": "0",
            "lines-1-item": "Blanket",
            "lines-1-quantity": "40",
            "lines-1-source": str(world.sites["main"]),
            "request_token": "form-sources-1",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    made = int(response.headers["Location"].rstrip("/").split("/")[-1])
    assert sources(made) == {
        world.items["meal"]: world.sites["kitchen"],
        world.items["blanket"]: world.sites["main"],
    }
    page = coordinator.get(f"/distributions/{made}/plan").get_data(as_text=True)
    assert "Same as the distribution" in page
    assert f'<option selected value="{world.sites["main"]}">' in page

    # Changing one line's source on the plan form changes that line only.
    response = coordinator.post(
        f"/distributions/{made}/plan",
        data={
            "starts_at": f"{day.isoformat()}T18:00",
            "lines-0-item": "Hot meal",
            "lines-0-quantity": "300",
            "lines-0-source": "0",
            "lines-1-item": "Blanket",
            "lines-1-quantity": "40",
            "lines-1-source": str(world.sites["gs_store"]),
            "request_token": "form-sources-2",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert sources(made)[world.items["blanket"]] == world.sites["gs_store"]


def test_the_run_sheet_pdf_says_where_to_pack_each_line(app, meal_world) -> None:
    world = meal_world
    receive(world, "main", "blanket", 25)
    tonight = meals_and_blankets(world, today(world) + timedelta(days=1))
    organisation = db.session.get(Organisation, world.org_id)
    data = reports.render_pdf(
        organisation, ReportRequest("run_sheet", distribution_id=tonight), datetime.now(UTC)
    )
    text = " ".join(
        " ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages
    )
    assert "pack from several sites" in text
    # Item, unit, pack, pack from, held there now.
    assert "Blanket pieces 40 Main warehouse 25" in text
    assert "Hot meal meals 300 Community kitchen 0" in text


def test_the_series_form_keeps_each_lines_source(meal_world, client_as) -> None:
    world = meal_world
    coordinator = client_as("coordinator")
    values = {
        "site_id": world.sites["point"],
        "source_site_id": world.sites["kitchen"],
        "weekdays": [str(d) for d in range(7)],
        "local_time": "12:30",
        "starts_on": today(world).isoformat(),
        "lines-0-item": "Hot meal",
        "lines-0-quantity": "420",
        "lines-0-source": "0",
        "lines-1-item": "Blanket",
        "lines-1-quantity": "20",
        "lines-1-source": str(world.sites["main"]),
        "request_token": "series-sources-1",
    }
    response = coordinator.post("/series/new", data=values)
    assert response.status_code == 302, response.get_data(as_text=True)
    listing = coordinator.get("/series").get_data(as_text=True)
    assert "Blanket 20 <span" in listing and "(from Main warehouse)" in listing
    assert "Hot meal 420," in listing
    [series] = distributions.list_series(world.org_id)
    form = coordinator.get(f"/series/{series.id}/edit").get_data(as_text=True)
    assert f'<option selected value="{world.sites["main"]}">' in form

    # A source outside the offered sites is a form error, not a 500.
    values |= {"lines-1-source": "99999999", "request_token": "series-sources-2"}
    refused = coordinator.post(f"/series/{series.id}/edit", data=values)
    assert refused.status_code == 200 and "Not a valid choice" in refused.get_data(as_text=True)


def test_an_outcome_over_the_api_may_name_where_a_line_was_taken(meal_world, api) -> None:
    world = meal_world
    receive(world, "kitchen", "meal", 100)
    receive(world, "gs_store", "blanket", 30)  # Main holds none: the van brought them
    yesterday = meals_and_blankets(world, today(world) - timedelta(days=1), meals=100)
    body = {
        "status": "held",
        "headcount": 90,
        "lines": [
            {"item_id": world.items["meal"], "given": 90},
            {
                "item_id": world.items["blanket"],
                "given": 30,
                "source_site_id": world.sites["gs_store"],
            },
        ],
        "request_token": "given-from-1",
    }
    response = api("coordinator").post(f"/distributions/{yesterday}/outcome", body)
    assert response.status_code == 200, response.get_data(as_text=True)
    lines = {line["item_id"]: line for line in response.get_json()["lines"]}
    assert lines[world.items["blanket"]]["source_site_id"] == world.sites["gs_store"]
    assert lines[world.items["meal"]]["source_site_id"] == world.sites["kitchen"]
    assert given_at(yesterday) == {
        (world.sites["kitchen"], world.items["meal"]): -90,
        (world.sites["gs_store"], world.items["blanket"]): -30,
    }
