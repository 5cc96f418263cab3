"""The JSON API: tokens, roles, isolation, errors, idempotency, and a spec that stays true."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from conftest import World, api_token
from factories import Api, assert_error, held, movement_count, receive
from flask import Flask

from logistics import create_app
from logistics.extensions import db
from logistics.services import accounts, ledger
from logistics.views.api.openapi import document

MOVEMENT_KEYS = {
    "id",
    "kind",
    "site_id",
    "item_id",
    "quantity",
    "occurred_at",
    "recorded_at",
    "source",
    "note",
    "transfer_group",
    "reverses_id",
}


def ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


def test_catalogue_lists_and_creates_items_and_sites(api, world: World) -> None:
    items = api("warehouse").get("/items").get_json()["items"]
    assert {i["label"] for i in items} >= {"Blanket", "Shoes (42)", "Tent (2-person)"}

    coordinator = api("coordinator")
    gloves = {"name": "Gloves", "category": "clothing", "size": "L", "unit_value_eur": 3.5}
    response = coordinator.post("/items", {**gloves, "min_stock": 20})
    assert response.status_code == 201
    created = response.get_json()
    assert created["label"] == "Gloves (L)"
    assert created["min_stock"] == 20 and created["unit_value_eur"] == 3.5
    assert created["id"] in {i["id"] for i in coordinator.get("/items").get_json()["items"]}
    assert_error(coordinator.post("/items", gloves), 409, "conflict", "name")
    assert_error(api("warehouse").post("/items", {**gloves, "size": "M"}), 403, "forbidden")

    site = {"name": "Loon-Plage point", "kind": "distribution_point", "area": "Loon-Plage"}
    response = coordinator.post("/sites", {**site, "details": "Lorry park, east gate"})
    assert response.status_code == 201
    assert response.get_json()["details"] == "Lorry park, east gate"

    by_coordinator = {s["name"]: s for s in coordinator.get("/sites").get_json()["sites"]}
    assert by_coordinator["Main warehouse"]["details"].startswith("Unit 4")
    assert [name for name, s in by_coordinator.items() if s["main"]] == ["Main warehouse"]
    donor_view = api("donor").get("/sites")
    assert donor_view.status_code == 200
    donor_sites = donor_view.get_json()["sites"]
    assert {s["name"] for s in donor_sites} == set(by_coordinator)
    assert all("details" not in s for s in donor_sites)
    assert "Lorry park" not in donor_view.get_data(as_text=True)
    # One main warehouse: naming another moves it; a distribution point is refused.
    store = {"name": "Dunkirk store", "kind": "warehouse", "area": "Dunkirk", "main": True}
    assert coordinator.post("/sites", store).get_json()["main"] is True
    mains = [s["name"] for s in coordinator.get("/sites").get_json()["sites"] if s["main"]]
    assert mains == ["Dunkirk store"]
    point = {"name": "Dunkirk point", "kind": "distribution_point", "area": "Dunkirk", "main": True}
    assert_error(coordinator.post("/sites", point), 422, "invalid", "main")


def test_every_movement_kind_moves_stock(api, world: World) -> None:
    warehouse = api("warehouse")
    main, blanket = world.sites["main"], world.items["blanket"]
    when = ago(hours=2)
    response = warehouse.post(
        "/movements",
        {
            "kind": "donation",
            "site_id": main,
            "item_id": blanket,
            "quantity": 40,
            "source": "Secours Populaire",
            "occurred_at": when,
        },
    )
    assert response.status_code == 201
    donation = response.get_json()
    assert set(donation) == MOVEMENT_KEYS
    assert (donation["kind"], donation["quantity"], donation["source"]) == (
        "donation",
        40,
        "Secours Populaire",
    )
    assert datetime.fromisoformat(donation["occurred_at"]) == datetime.fromisoformat(when)
    assert datetime.fromisoformat(donation["recorded_at"]).utcoffset() is not None

    def post(body: dict[str, Any]) -> Any:
        return warehouse.post("/movements", {"site_id": main, "item_id": blanket, **body})

    water = {"item_id": world.items["water"], "quantity": 100}
    assert post({"kind": "purchase", **water}).status_code == 201
    loss = post({"kind": "loss", "quantity": 5, "reason": "Soaked in the rain"}).get_json()
    assert (loss["quantity"], loss["note"]) == (-5, "Soaked in the rain")
    counted = post({"kind": "adjustment", "counted": 30, "note": "Stocktake"}).get_json()
    assert counted["quantity"] == -5
    found = post({"kind": "adjustment", "quantity": 2, "reason": "Found in the van"})
    assert found.get_json()["quantity"] == 2
    same = post({"kind": "adjustment", "counted": 32, "reason": "Recount"})
    assert same.status_code == 200 and same.get_json()["movement"] is None

    levels = warehouse.get("/stock", site_id=main).get_json()["levels"]
    assert {(lv["item_id"], lv["quantity"]) for lv in levels} == {
        (blanket, 32),
        (world.items["water"], 100),
    }

    response = warehouse.post(
        "/transfers",
        {"from_site_id": main, "to_site_id": world.sites["kitchen"], "item_id": blanket},
    )
    assert_error(response, 422, "invalid", "quantity")
    response = warehouse.post(
        "/transfers",
        {
            "from_site_id": main,
            "to_site_id": world.sites["kitchen"],
            "item_id": blanket,
            "quantity": 10,
        },
    )
    assert response.status_code == 201
    transfer = response.get_json()
    out, into = transfer["movements"]
    assert (out["kind"], out["quantity"], into["kind"], into["quantity"]) == (
        "transfer_out",
        -10,
        "transfer_in",
        10,
    )
    assert out["transfer_group"] == into["transfer_group"] == transfer["transfer_group"]
    blankets = warehouse.get("/stock", item_id=blanket).get_json()["levels"]
    assert {(lv["site_id"], lv["quantity"]) for lv in blankets} == {
        (main, 22),
        (world.sites["kitchen"], 10),
    }


def test_reversing_a_transfer_leg_reverses_both_once(api, world: World) -> None:
    receive(world, "main", "tent", 15)
    warehouse = api("warehouse")
    transfer = warehouse.post(
        "/transfers",
        {
            "from_site_id": world.sites["main"],
            "to_site_id": world.sites["gs_store"],
            "item_id": world.items["tent"],
            "quantity": 6,
        },
    ).get_json()
    leg_ids = {m["id"] for m in transfer["movements"]}
    into_id = transfer["movements"][1]["id"]

    assert_error(
        api("kitchen").post(f"/movements/{into_id}/reverse", {"reason": "x"}), 403, "forbidden"
    )
    assert_error(warehouse.post(f"/movements/{into_id}/reverse", {}), 422, "invalid", "reason")
    response = warehouse.post(f"/movements/{into_id}/reverse", {"reason": "Wrong van"})
    assert response.status_code == 201
    reversals = response.get_json()["movements"]
    assert {m["reverses_id"] for m in reversals} == leg_ids
    assert all(m["kind"] == "reversal" for m in reversals)
    assert (held(world, "main", "tent"), held(world, "gs_store", "tent")) == (15, 0)

    again = warehouse.post(f"/movements/{into_id}/reverse", {"reason": "Wrong van"})
    assert_error(again, 409, "conflict")
    assert movement_count(world.org_id) == 5


def test_only_a_live_bearer_token_opens_the_api(app: Flask, api, world: World, client_as) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic eDp5"}):
        response = app.test_client().get("/api/v1/items", headers=headers)
        assert_error(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")

    token = api_token(world, "warehouse")
    live = Api(app, token)
    assert live.get("/items").status_code == 200
    membership = accounts.membership_for_token(token)
    accounts.revoke_token(membership.id, accounts.tokens_of(membership.id)[0].id)
    db.session.commit()
    assert_error(live.get("/items"), 401, "unauthorized")

    # A browser that is logged in, with CSRF protection on, still needs a token.
    browser = client_as("admin")
    app.config["WTF_CSRF_ENABLED"] = True
    body = {"kind": "donation", "site_id": world.sites["main"]}
    body |= {"item_id": world.items["water"], "quantity": 50}
    assert_error(browser.get("/api/v1/stock"), 401, "unauthorized")
    assert_error(browser.post("/api/v1/movements", json=body), 401, "unauthorized")
    assert browser.post("/receive", data={}).status_code == 400  # pages do check CSRF
    assert api("warehouse").post("/movements", body).status_code == 201  # the API is exempt
    assert app.test_client().get("/api/v1/openapi.json").status_code == 200


def test_roles_decide_who_may_record_and_read_the_ledger(api, world: World) -> None:
    body = {"kind": "donation", "site_id": world.sites["main"]}
    body |= {"item_id": world.items["blanket"], "quantity": 3}
    donor = api("donor")
    assert_error(donor.post("/movements", body), 403, "forbidden")
    assert_error(donor.get("/movements"), 403, "forbidden")
    assert donor.get("/stock").status_code == 200
    assert movement_count(world.org_id) == 0
    assert api("warehouse").post("/movements", body).status_code == 201
    assert movement_count(world.org_id) == 1


def test_ids_of_another_organisation_are_not_found(api, world: World, other_world: World) -> None:
    theirs = receive(other_world, "main", "blanket", 30)
    site, item = other_world.sites["main"], other_world.items["blanket"]
    ours = {"site": world.sites["main"], "item": world.items["blanket"]}
    warehouse, admin = api("warehouse"), api("admin")
    donation = {"kind": "donation", "quantity": 5}
    transfer = {"from_site_id": ours["site"], "to_site_id": world.sites["kitchen"]}
    transfer |= {"item_id": ours["item"], "quantity": 1}
    refused = [
        warehouse.post("/movements", {**donation, "site_id": site, "item_id": ours["item"]}),
        warehouse.post("/movements", {**donation, "site_id": ours["site"], "item_id": item}),
        warehouse.post("/movements", {**donation, "site_id": 10**12, "item_id": ours["item"]}),
        warehouse.post("/transfers", {**transfer, "from_site_id": site}),
        warehouse.post("/transfers", {**transfer, "to_site_id": site}),
        warehouse.post("/transfers", {**transfer, "item_id": item}),
        admin.post(f"/movements/{theirs}/reverse", {"reason": "not ours"}),
        admin.post("/movements/99999999999999/reverse", {"reason": "no such"}),
        warehouse.get("/stock", site_id=site),
        warehouse.get("/stock", item_id=item),
        warehouse.get("/stock/as-of", at=ago(days=1), site_id=site),
        warehouse.get("/movements", site_id=site),
        warehouse.get("/movements", item_id=item),
    ]
    for response in refused:
        assert_error(response, 404, "not_found")
        assert set(response.get_json()) == {"error"}
    assert movement_count(world.org_id) == 0
    assert movement_count(other_world.org_id) == 1
    assert held(other_world, "main", "blanket") == 30


def test_not_enough_stock_is_a_conflict_that_names_what_is_held(api, world: World) -> None:
    receive(world, "main", "blanket", 12)
    warehouse = api("warehouse")
    where = {"site_id": world.sites["main"], "item_id": world.items["blanket"]}
    loss = warehouse.post(
        "/movements", {"kind": "loss", "quantity": 20, "note": "Slashed", **where}
    )
    message = assert_error(loss, 409, "insufficient_stock")["message"]
    assert "Blanket" in message and "Main warehouse" in message and "12" in message
    transfer = warehouse.post(
        "/transfers",
        {
            "from_site_id": world.sites["main"],
            "to_site_id": world.sites["kitchen"],
            "item_id": world.items["blanket"],
            "quantity": 13,
        },
    )
    assert_error(transfer, 409, "insufficient_stock")
    assert movement_count(world.org_id) == 1
    assert (held(world, "main", "blanket"), held(world, "kitchen", "blanket")) == (12, 0)


def test_values_that_break_a_rule_are_422_and_write_nothing(api, world: World) -> None:
    first = receive(world, "main", "water", 200)
    where = {"site_id": world.sites["main"], "item_id": world.items["water"]}
    donation = {"kind": "donation", "quantity": 5, **where}
    next_year = (datetime.now(UTC) + timedelta(days=365)).isoformat()
    cases = [
        ("/movements", {**donation, "quantity": 0}, "quantity"),
        ("/movements", {**donation, "quantity": -3}, "quantity"),
        ("/movements", {"kind": "donation", "quantity": 5, "item_id": 1}, "site_id"),
        ("/movements", {**donation, "kind": "distribution"}, "kind"),
        ("/movements", {**donation, "kind": "loss"}, "reason"),
        ("/movements", {**donation, "kind": "adjustment", "counted": 3, "reason": "x"}, "counted"),
        ("/movements", {**donation, "occurred_at": "2024-11-02T18:30:00"}, "occurred_at"),
        ("/movements", {**donation, "occurred_at": "last Tuesday"}, "occurred_at"),
        ("/movements", {**donation, "occurred_at": next_year}, "occurred_at"),
        ("/movements", {**donation, "source": "x" * 201}, "source"),
        ("/movements", {**donation, "kind": "loss", "reason": "x", "source": "y"}, "source"),
        ("/transfers", {"from_site_id": 1, "to_site_id": 1, "item_id": 1}, "quantity"),
        ("/items", {"category": "bedding"}, "name"),
        ("/items", {"name": "Toy", "category": "toys"}, "category"),
        ("/items", {"name": "Soap", "category": "hygiene", "min_stock": 10**12}, "min_stock"),
        ("/sites", {"name": "Camp", "kind": "camp", "area": "Calais"}, "kind"),
        (f"/movements/{first}/reverse", {"reason": "  "}, "reason"),
    ]
    admin = api("admin")
    for path, body, field in cases:
        assert_error(admin.post(path, body), 422, "invalid", field)
    assert_error(admin.get("/movements", kind="bogus"), 422, "invalid", "kind")
    assert_error(admin.get("/stock/as-of"), 422, "invalid", "at")
    assert movement_count(world.org_id) == 1
    assert len(admin.get("/items").get_json()["items"]) == 6


def test_malformed_json_and_wrong_types_are_400(api, world: World) -> None:
    warehouse = api("warehouse")
    where = {"site_id": world.sites["main"], "item_id": world.items["water"]}
    donation = {"kind": "donation", "quantity": 5, **where}
    assert_error(warehouse.post("/movements", raw='{"kind": "donation",'), 400, "bad_request")
    assert_error(warehouse.post("/movements", raw="[1, 2]"), 400, "bad_request")
    assert_error(warehouse.post("/transfers", raw=""), 400, "bad_request")
    for body, field in [
        ({**donation, "quantity": "5"}, "quantity"),
        ({**donation, "quantity": 2.5}, "quantity"),
        ({**donation, "quantity": True}, "quantity"),
        ({**donation, "site_id": str(where["site_id"])}, "site_id"),
        ({**donation, "note": 7}, "note"),
        ({**donation, "occurred_at": 1700000000}, "occurred_at"),
        ({**donation, "request_token": 7}, "request_token"),
    ]:
        assert_error(warehouse.post("/movements", body), 400, "bad_request", field)
    assert_error(warehouse.get("/stock", site_id="main"), 400, "bad_request", "site_id")
    assert_error(warehouse.get("/movements", cursor="abc"), 400, "bad_request", "cursor")
    assert movement_count(world.org_id) == 0


def test_a_replayed_request_token_writes_once(api, world: World) -> None:
    warehouse = api("warehouse")
    body = {"kind": "donation", "site_id": world.sites["main"], "item_id": world.items["tarp"]}
    body |= {"quantity": 25, "request_token": "phone-7f3a"}
    first = warehouse.post("/movements", body)
    again = warehouse.post("/movements", body)
    assert first.status_code == again.status_code == 201
    assert "replayed" not in first.get_json()
    assert again.get_json() == {**first.get_json(), "replayed": True}
    assert movement_count(world.org_id) == 1
    assert held(world, "main", "tarp") == 25

    transfer = {"from_site_id": world.sites["main"], "to_site_id": world.sites["point"]}
    transfer |= {"item_id": world.items["tarp"], "quantity": 5, "request_token": "phone-7f3b"}
    assert warehouse.post("/transfers", transfer).status_code == 201
    assert warehouse.post("/transfers", transfer).get_json()["replayed"] is True
    reused = warehouse.post("/transfers", {**transfer, "request_token": "phone-7f3a"})
    assert_error(reused, 409, "conflict", "request_token")
    assert movement_count(world.org_id) == 3
    assert held(world, "main", "tarp") == 20


def test_stock_as_of_gives_the_level_before_a_later_movement(app: Flask, api, world: World) -> None:
    receive(world, "kitchen", "water", 300, occurred_at=datetime.now(UTC) - timedelta(days=3))
    ledger.record_loss(
        world.org_id,
        None,
        site_id=world.sites["kitchen"],
        item_id=world.items["water"],
        quantity=120,
        reason="Gassed by police",
        occurred_at=datetime.now(UTC) - timedelta(days=1),
    )
    db.session.commit()
    donor = api("donor")

    def water_at(at: str) -> list[tuple[int, int]]:
        response = donor.get("/stock/as-of", at=at, item_id=world.items["water"])
        assert response.status_code == 200, response.get_data(as_text=True)
        return [(lv["site_id"], lv["quantity"]) for lv in response.get_json()["levels"]]

    kitchen = world.sites["kitchen"]
    assert water_at(ago(days=2)) == [(kitchen, 300)]
    assert water_at(ago(seconds=1)) == [(kitchen, 180)]
    assert water_at(ago(days=4)) == []
    # A + left unescaped in the query string arrives as a space; it is still understood.
    two_days_ago = (datetime.now(UTC) - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S")
    raw = app.test_client().get(
        f"/api/v1/stock/as-of?at={two_days_ago}+00:00&item_id={world.items['water']}",
        headers=donor.headers,
    )
    assert raw.status_code == 200, raw.get_data(as_text=True)
    assert raw.get_json()["levels"][0]["quantity"] == 300


def test_the_ledger_pages_newest_first_with_a_cursor(api, world: World) -> None:
    ids = [receive(world, "main", "blanket", n) for n in (5, 6, 7, 8, 9)]
    ids.append(receive(world, "gs_store", "shoes42", 4, occurred_at=datetime.now(UTC)))
    coordinator = api("coordinator")
    seen: list[int] = []
    cursor = None
    for _page in range(5):
        params = {"limit": 2, "item_id": world.items["blanket"]}
        if cursor:
            params["cursor"] = cursor
        page = coordinator.get("/movements", **params).get_json()
        seen += [m["id"] for m in page["movements"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == sorted(ids[:5], reverse=True)
    shoes = coordinator.get("/movements", site_id=world.sites["gs_store"]).get_json()
    assert [m["id"] for m in shoes["movements"]] == [ids[5]]
    assert shoes["next"] is None
    future = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    assert coordinator.get("/movements", since=future).get_json()["movements"] == []
    assert coordinator.get("/movements", kind="loss").get_json()["movements"] == []


def test_openapi_describes_exactly_the_routes(tmp_path) -> None:
    # Needs no database, so it runs once rather than once per engine.
    app = create_app(
        {
            "TESTING": True,
            "ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'spec.sqlite3'}",
            "INSTANCE_DIR": str(tmp_path),
        }
    )
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    assert spec == document(app)
    assert spec["openapi"].startswith("3.1")
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"

    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
            routes |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    described = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    assert routes == described

    text = str(spec)
    for ref in set(re.findall(r"'#/components/(\w+)/(\w+)'", text)):
        assert ref[1] in spec["components"][ref[0]], ref
    for (path, method), operation in ((k, spec["paths"][k[0]][k[1]]) for k in described):
        if path != "/openapi.json":
            assert {"401", "403"} <= set(operation["responses"]), path
        if method == "post":
            content = operation["requestBody"]["content"]
            body = content.get("application/json") or content["multipart/form-data"]
            assert body["schema"], path
            assert {"400", "422"} <= set(operation["responses"]), path
        for parameter in re.findall(r"{(\w+)}", path):
            assert parameter in str(operation["parameters"])
