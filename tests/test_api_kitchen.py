"""The kitchen endpoints of the JSON API: the meal plan, recipes, menus and cooking."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

from conftest import World, api_token
from factories import (
    Api,
    assert_error,
    held,
    kitchen_items,
    meal_series,
    movement_count,
    receive,
    tomorrow,
)
from flask import Flask

from logistics.extensions import db
from logistics.services import catalogue


def dal(world: World, **extra: Any) -> dict[str, Any]:
    return {
        "name": "Dal with rice",
        "dietary_notes": "vegetarian",
        "lines": [
            {"item_id": world.items["onions"], "quantity_per_100": 13.6},
            {"item_id": world.items["rice"], "quantity_per_100": 10},
        ],
        **extra,
    }


def test_plan_recipes_and_menu_give_the_forecast_and_ingredient_needs(api, world: World) -> None:
    kitchen_items(world)
    t = tomorrow(world)
    series = meal_series(world, t, 400, time(18, 0), water=50)
    receive(world, "kitchen", "onions", 30)
    kitchen_lead = api("kitchen")

    body = api("warehouse").get("/kitchen/plan", days=2).get_json()
    assert (body["from"], body["to"], body["buffer_percent"]) == (
        t.isoformat(),
        (t + timedelta(days=1)).isoformat(),
        10,
    )
    first = body["distributions"][0]
    assert {k: first[k] for k in ("site_id", "basis", "past_headcounts")} == {
        "site_id": world.sites["point"],
        "basis": "plan",
        "past_headcounts": [],
    }
    assert (first["expected_headcount"], first["recommended_meals"], first["planned_meals"]) == (
        400,
        440,
        400,
    )
    assert body["ingredients"] == []

    created = kitchen_lead.post("/recipes", dal(world))
    assert created.status_code == 201, created.get_json()
    recipe = created.get_json()
    assert [line["quantity_per_100"] for line in recipe["lines"]] == [13.6, 10.0]
    assert [r["id"] for r in api("coordinator").get("/recipes").get_json()["recipes"]] == [
        recipe["id"]
    ]
    chosen = kitchen_lead.post(
        "/kitchen/menu",
        {"site_id": world.sites["kitchen"], "date": t.isoformat(), "recipe_id": recipe["id"]},
    )
    assert chosen.status_code == 200, chosen.get_json()
    changed = kitchen_lead.post(f"/kitchen/plan/{first['id']}", {"planned_meals": 450})
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["planned_meals"] == 450

    body = kitchen_lead.get("/kitchen/plan", days=2).get_json()
    # Only tomorrow has a recipe: onions 450 × 13.6 / 100 = 61.2 → 62 kg; rice 45.
    needs = {(n["item_id"], n["needed"], n["held"], n["short"]) for n in body["ingredients"]}
    assert needs == {(world.items["onions"], 62, 30, 32), (world.items["rice"], 45, 0, 45)}
    assert body["kitchens"][0] == {
        "date": t.isoformat(),
        "site_id": world.sites["kitchen"],
        "recipe_id": recipe["id"],
        "recommended_meals": 440,
        "planned_meals": 450,
    }
    lines = {
        line["item_id"]: line["planned"]
        for line in api("coordinator").get(f"/distributions/{first['id']}").get_json()["lines"]
    }
    assert lines == {world.items["meal"]: 450, world.items["water"]: 50}
    assert series.id == first["series_id"]


def test_bad_recipes_and_plans_are_refused(api, world: World) -> None:
    kitchen_items(world)
    lead = api("kitchen")
    meal_line = {"item_id": world.items["meal"], "quantity_per_100": 100}
    assert_error(lead.post("/recipes", dal(world, lines=[meal_line])), 422, "invalid", "lines")
    bad_type = {"item_id": world.items["rice"], "quantity_per_100": "10"}
    assert_error(lead.post("/recipes", dal(world, lines=[bad_type])), 400, "bad_request")
    assert_error(lead.post("/recipes", dal(world, lines=[])), 422, "invalid", "lines")
    assert lead.post("/recipes", dal(world)).status_code == 201
    assert_error(lead.post("/recipes", dal(world)), 409, "conflict", "name")
    assert_error(lead.get("/kitchen/plan", days=29), 422, "invalid", "days")
    assert_error(lead.post("/kitchen/plan/999", {"planned_meals": 10}), 404, "not_found")
    assert_error(api("warehouse").post("/recipes", dal(world, name="Other")), 403, "forbidden")
    assert_error(api("donor").get("/kitchen/plan"), 403, "forbidden")


def test_cooking_moves_stock_once_and_refuses_shortage_as_a_whole(
    app: Flask, api, world: World, other_world: World
) -> None:
    kitchen_items(world)
    lead = api("kitchen")
    recipe = lead.post("/recipes", dal(world)).get_json()
    receive(world, "kitchen", "onions", 50)
    receive(world, "kitchen", "rice", 40)
    cooking = {
        "site_id": world.sites["kitchen"],
        "meal_item_id": world.items["meal"],
        "lines": [{"recipe_id": recipe["id"], "meals": 650}],
        "request_token": "tonight-1",
    }
    before = movement_count(world.org_id)
    error = assert_error(lead.post("/cooking", cooking), 409, "insufficient_stock")
    assert "Onions" in error["message"] and "Rice" in error["message"]
    assert movement_count(world.org_id) == before
    assert_error(api("warehouse").post("/cooking", cooking), 403, "forbidden")

    receive(world, "kitchen", "onions", 50)
    receive(world, "kitchen", "rice", 40)
    cooking["request_token"] = "tonight-2"
    first = lead.post("/cooking", cooking)
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert body["meals"] == 650
    assert sorted((m["kind"], m["item_id"], m["quantity"]) for m in body["movements"]) == [
        ("consumption", world.items["onions"], -89),
        ("consumption", world.items["rice"], -65),
        ("production", world.items["meal"], 650),
    ]
    again = lead.post("/cooking", cooking)
    assert again.status_code == 201 and again.get_json()["replayed"] is True
    assert held(world, "kitchen", "meal") == 650
    assert held(world, "kitchen", "onions") == 11

    # Another organisation's recipe or kitchen is not found.
    theirs = catalogue.save_item(
        other_world.org_id, {"name": "Onions", "category": "ingredient", "unit": "kg"}
    )
    db.session.commit()
    their_lead = Api(app, api_token(other_world, "kitchen"))
    their_recipe = their_lead.post(
        "/recipes", {"name": "Soup", "lines": [{"item_id": theirs.id, "quantity_per_100": 5}]}
    ).get_json()
    stolen = {**cooking, "lines": [{"recipe_id": their_recipe["id"], "meals": 10}]}
    stolen.pop("request_token")
    assert_error(lead.post("/cooking", stolen), 404, "not_found")
    assert_error(
        lead.post("/cooking", {**stolen, "site_id": other_world.sites["kitchen"]}),
        404,
        "not_found",
    )
