"""The distribution endpoints of the JSON API: schedule, list, record outcomes, figures."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from conftest import World
from factories import Api, assert_error, held, movement_count, receive
from sqlalchemy import func, select

from logistics.extensions import db
from logistics.models import Distribution, DistributionSeries
from logistics.services import distributions, stock

PARIS = ZoneInfo("Europe/Paris")


def today() -> date:
    return datetime.now(PARIS).date()


def evening(day: date) -> str:
    """Return 18:30 Paris time on a day, as the API takes it."""
    return datetime.combine(day, time(18, 30), tzinfo=PARIS).isoformat()


def one_off(world: World, day: date, **lines: int) -> dict[str, Any]:
    """Return a body scheduling a one-off at the point, from the main warehouse."""
    return {
        "site_id": world.sites["point"],
        "source_site_id": world.sites["main"],
        "starts_at": evening(day),
        "lines": [{"item_id": world.items[key], "planned": n} for key, n in lines.items()],
    }


def daily_series(world: World, starts_on: date, **lines: int) -> dict[str, Any]:
    return {
        "site_id": world.sites["point"],
        "source_site_id": world.sites["main"],
        "weekdays": [0, 1, 2, 3, 4, 5, 6],
        "time": "18:00",
        "starts_on": starts_on.isoformat(),
        "lines": [{"item_id": world.items[key], "planned": n} for key, n in lines.items()],
    }


def given(world: World, **lines: int) -> list[dict[str, int]]:
    return [{"item_id": world.items[key], "given": n} for key, n in lines.items()]


def stock_of(client: Api, world: World, site: str, item: str) -> int:
    """Read a level the way a script would: GET /api/v1/stock."""
    response = client.get("/stock", site_id=world.sites[site], item_id=world.items[item])
    assert response.status_code == 200
    return sum(level["quantity"] for level in response.get_json()["levels"])


def distribution_count(org_id: int) -> int:
    db.session.rollback()
    return db.session.scalar(
        select(func.count(Distribution.id)).where(Distribution.organisation_id == org_id)
    )


def test_a_series_made_over_the_api_fills_the_agenda(api, world: World) -> None:
    coordinator = api("coordinator")
    response = coordinator.post("/distribution-series", daily_series(world, today(), blanket=40))
    assert response.status_code == 201, response.get_data(as_text=True)
    series = response.get_json()
    assert series["generated"] == 29  # today and the 28 days after it
    assert series["weekdays"] == list(range(7)) and series["time"] == "18:00"
    main = world.sites["main"]
    blanket = world.items["blanket"]
    assert series["lines"] == [{"item_id": blanket, "planned": 40, "source_site_id": main}]

    week = coordinator.get("/distributions").get_json()
    assert (week["from"], week["to"]) == (today().isoformat(), (today() + timedelta(6)).isoformat())
    rows = week["distributions"]
    assert [row["local_date"] for row in rows] == [
        (today() + timedelta(n)).isoformat() for n in range(7)
    ]
    first = rows[0]
    assert first["series_id"] == series["id"] and first["status"] == "planned"
    # 18:00 where the organisation works, shown with its offset.
    assert datetime.fromisoformat(first["starts_at"]).astimezone(PARIS).time() == time(18)
    assert first["starts_at"].endswith(("+01:00", "+02:00"))
    assert first["lines"] == [
        {"item_id": blanket, "planned": 40, "given": None, "source_site_id": main}
    ]
    assert coordinator.get(f"/distributions/{first['id']}").get_json() == first
    elsewhere = coordinator.get("/distributions", site_id=world.sites["kitchen"])
    assert elsewhere.get_json()["distributions"] == []

    far = (today() + timedelta(92)).isoformat()
    assert_error(coordinator.get("/distributions", to=far), 422, "invalid", "to")
    assert_error(
        coordinator.get("/distributions", **{"from": far}, to="2026-01-01"), 422, "invalid"
    )
    assert_error(
        coordinator.get("/distributions", **{"from": "26/11/2026"}), 422, "invalid", "from"
    )

    refused = [
        ({"weekdays": "Mon"}, 400, "weekdays"),
        ({"weekdays": [1, "2"]}, 400, "weekdays"),
        ({"time": 1800}, 400, "time"),
        ({"lines": [{"item_id": str(world.items["tent"]), "planned": 1}]}, 400, "lines[0].item_id"),
        ({"weekdays": [7]}, 422, "weekdays"),
        ({"weekdays": []}, 422, "weekdays"),
        ({"time": "6pm"}, 422, "time"),
        ({"starts_on": "2026-02-30"}, 422, "starts_on"),
        ({"ends_on": (today() - timedelta(1)).isoformat()}, 422, "ends_on"),
        ({"lines": [{"item_id": world.items["tent"], "planned": -1}]}, 422, "lines[0].planned"),
    ]
    for change, status, field in refused:
        body = daily_series(world, today(), tent=2) | change
        code = "bad_request" if status == 400 else "invalid"
        assert_error(coordinator.post("/distribution-series", body), status, code, field)
    db.session.rollback()
    assert db.session.scalar(select(func.count(DistributionSeries.id))) == 1
    assert distribution_count(world.org_id) == 29


def test_a_one_off_is_scheduled_and_bad_ones_are_refused(api, world: World) -> None:
    coordinator = api("coordinator")
    day = today() + timedelta(days=3)
    response = coordinator.post("/distributions", one_off(world, day, blanket=40, tent=5))
    assert response.status_code == 201, response.get_data(as_text=True)
    created = response.get_json()
    assert created["series_id"] is None and created["local_date"] == day.isoformat()
    assert datetime.fromisoformat(created["starts_at"]) == datetime.combine(
        day, time(18, 30), tzinfo=PARIS
    )
    assert {(line["item_id"], line["planned"]) for line in created["lines"]} == {
        (world.items["blanket"], 40),
        (world.items["tent"], 5),
    }
    listed = coordinator.get("/distributions", **{"from": day.isoformat(), "to": day.isoformat()})
    assert [row["id"] for row in listed.get_json()["distributions"]] == [created["id"]]

    blanket = world.items["blanket"]
    refused = [
        ({"lines": {"item_id": blanket}}, 400, "lines"),
        ({"lines": [[blanket, 3]]}, 400, "lines[0]"),
        ({"lines": [{"item_id": blanket, "planned": 2.5}]}, 400, "lines[0].planned"),
        ({"starts_at": 1700000000}, 400, "starts_at"),
        ({"starts_at": None}, 422, "starts_at"),
        ({"starts_at": "2026-11-30T18:30:00"}, 422, "starts_at"),
        ({"starts_at": "9999-12-31T23:30:00Z"}, 422, "starts_at"),
        ({"lines": [{"item_id": blanket}]}, 422, "lines[0].planned"),
        ({"lines": [{"item_id": blanket, "planned": 1}] * 2}, 422, "lines"),
        ({"source_site_id": world.sites["point"], "site_id": world.sites["kitchen"]}, 422, None),
    ]
    for change, status, field in refused:
        code = "bad_request" if status == 400 else "invalid"
        body = one_off(world, day) | change
        assert_error(coordinator.post("/distributions", body), status, code, field)
    assert distribution_count(world.org_id) == 1


def test_an_outcome_gives_out_stock_and_a_correction_balances(api, world: World) -> None:
    receive(world, "main", "blanket", 200)
    coordinator, warehouse = api("coordinator"), api("warehouse")
    yesterday = today() - timedelta(days=1)
    planned = coordinator.post("/distributions", one_off(world, yesterday, blanket=40)).get_json()
    url = f"/distributions/{planned['id']}/outcome"
    outcome = {
        "status": "disrupted",
        "headcount": 120,
        "headcount_minors": 14,
        "note": "CRS stopped it at 18:50",
        "lines": given(world, blanket=25),
        "request_token": "phone-out-1",
    }
    response = warehouse.post(url, outcome)
    assert response.status_code == 200, response.get_data(as_text=True)
    recorded = response.get_json()
    assert recorded["status"] == "disrupted" and recorded["headcount"] == 120
    assert recorded["headcount_minors"] == 14 and recorded["headcount_women"] is None
    assert recorded["note"] == "CRS stopped it at 18:50"
    assert recorded["lines"] == [
        {
            "item_id": world.items["blanket"],
            "planned": 40,
            "given": 25,
            "source_site_id": world.sites["main"],
        }
    ]
    assert stock_of(warehouse, world, "main", "blanket") == 175

    # The phone retries on a bad connection: the same token records nothing more.
    again = warehouse.post(url, outcome)
    assert again.status_code == 200 and again.get_json() == {**recorded, "replayed": True}
    assert movement_count(world.org_id) == 2
    assert stock_of(warehouse, world, "main", "blanket") == 175

    corrected = {"status": "held", "headcount": 130, "lines": given(world, blanket=30)}
    assert warehouse.post(url, corrected).status_code == 200
    assert stock_of(warehouse, world, "main", "blanket") == 170
    assert stock.check_ledger() == []
    ledger = coordinator.get("/movements", item_id=world.items["blanket"]).get_json()
    assert [(m["kind"], m["quantity"]) for m in ledger["movements"]] == [
        ("distribution", -30),
        ("reversal", 25),
        ("distribution", -25),
        ("donation", 200),
    ]
    assert coordinator.get(f"/distributions/{planned['id']}").get_json()["lines"][0]["given"] == 30

    refused = [
        ({"status": "held", "headcount": "130"}, 400, "headcount"),
        ({"status": "held", "headcount": 1, "lines": [5]}, 400, "lines[0]"),
        ({"status": "lost", "headcount": 1}, 422, "status"),
        ({"status": "held"}, 422, "headcount"),
        ({"status": "held", "headcount": 10, "headcount_women": 11}, 422, "headcount_women"),
        ({"status": "held", "headcount": 5, "lines": given(world, blanket=-2)}, 422, None),
        ({"status": "cancelled", "lines": given(world, blanket=2)}, 422, "lines"),
    ]
    for body, status, field in refused:
        code = "bad_request" if status == 400 else "invalid"
        assert_error(warehouse.post(url, body), status, code, field)
    assert movement_count(world.org_id) == 4
    assert held(world, "main", "blanket") == 170


def test_a_short_outcome_is_409_naming_each_item_and_writes_nothing(api, world: World) -> None:
    receive(world, "main", "blanket", 10)
    receive(world, "main", "tent", 1)
    planned = api("coordinator").post("/distributions", one_off(world, today(), blanket=40))
    url = f"/distributions/{planned.get_json()['id']}/outcome"
    warehouse = api("warehouse")
    outcome = {
        "status": "held",
        "headcount": 300,
        "lines": given(world, blanket=40, tent=3, water=5),
        # Today's 18:30 may lie more than 6 hours ahead when the suite runs: confirmed.
        "confirm_early": True,
        "request_token": "short-1",
    }
    message = assert_error(warehouse.post(url, outcome), 409, "insufficient_stock")["message"]
    assert "Only 10 Blanket at Main warehouse; cannot give out 40." in message
    assert "Tent (2-person)" in message and "Drinking water" in message
    assert movement_count(world.org_id) == 2
    assert stock_of(warehouse, world, "main", "blanket") == 10
    assert api("coordinator").get(url.removesuffix("/outcome")).get_json()["status"] == "planned"

    # The refused request did not use up its token: once stock arrives, the retry records.
    receive(world, "main", "blanket", 30)
    receive(world, "main", "tent", 2)
    receive(world, "main", "water", 5)
    response = warehouse.post(url, outcome)
    assert response.status_code == 200 and "replayed" not in response.get_json()
    assert held(world, "main", "blanket") == held(world, "main", "tent") == 0


def test_roles_decide_who_plans_records_and_reads(api, world: World) -> None:
    planned = api("admin").post("/distributions", one_off(world, today(), blanket=5))
    assert planned.status_code == 201
    url = f"/distributions/{planned.get_json()['id']}/outcome"
    donor, warehouse = api("donor"), api("warehouse")
    for response in (
        donor.get("/distributions"),
        donor.get("/distributions/figures"),
        donor.get(url.removesuffix("/outcome")),
        donor.post(url, {"status": "cancelled"}),
        warehouse.post("/distribution-series", daily_series(world, today(), blanket=5)),
        warehouse.post("/distributions", one_off(world, today(), blanket=5)),
        api("kitchen").post("/distribution-series", daily_series(world, today(), blanket=5)),
    ):
        assert_error(response, 403, "forbidden")
    assert distribution_count(world.org_id) == 1
    assert api("kitchen").get("/distributions").status_code == 200
    response = warehouse.post(url, {"status": "cancelled", "note": "Prefecture ban"})
    assert response.status_code == 200 and response.get_json()["status"] == "cancelled"


def test_another_organisations_ids_are_not_found(api, world: World, other_world: World) -> None:
    theirs = distributions.create_one_off(
        other_world.org_id,
        site_id=other_world.sites["point"],
        source_site_id=other_world.sites["main"],
        starts_at=datetime.combine(today(), time(12), tzinfo=PARIS),
        lines=[(other_world.items["blanket"], 5)],
    ).id
    db.session.commit()
    admin = api("admin")
    their_item = [{"item_id": other_world.items["blanket"], "planned": 1}]
    refused = [
        admin.get(f"/distributions/{theirs}"),
        admin.post(f"/distributions/{theirs}/outcome", {"status": "cancelled"}),
        admin.post("/distributions/99999999999/outcome", {"status": "cancelled"}),
        admin.get("/distributions", site_id=other_world.sites["point"]),
        admin.get("/distributions/figures", site_id=other_world.sites["point"]),
        admin.post("/distributions", one_off(world, today()) | {"lines": their_item}),
        admin.post(
            "/distributions", one_off(world, today()) | {"site_id": other_world.sites["point"]}
        ),
        admin.post(
            "/distribution-series",
            daily_series(world, today()) | {"source_site_id": other_world.sites["main"]},
        ),
    ]
    for response in refused:
        assert_error(response, 404, "not_found")
    assert distribution_count(world.org_id) == 0
    db.session.expire_all()
    assert db.session.get(Distribution, theirs).status == "planned"


def test_figures_match_a_hand_count(api, world: World) -> None:
    receive(world, "main", "blanket", 500)
    receive(world, "main", "water", 5000)
    coordinator = api("coordinator")
    start = today() - timedelta(days=9)
    coordinator.post("/distribution-series", daily_series(world, start, blanket=40))
    week = {"from": start.isoformat(), "to": today().isoformat()}
    rows = coordinator.get("/distributions", **week).get_json()
    by_day = {date.fromisoformat(row["local_date"]): row["id"] for row in rows["distributions"]}
    outcomes = {
        start: {"status": "held", "headcount": 410, "headcount_minors": 30, "headcount_women": 12}
        | {"lines": given(world, blanket=40)},
        start + timedelta(1): {"status": "disrupted", "headcount": 150}
        | {"lines": given(world, blanket=10, water=600)},
        start + timedelta(2): {"status": "cancelled"},
        start + timedelta(7): {
            "status": "held",
            "headcount": 999,
            "lines": given(world, blanket=9),
        },
    }
    for day, body in outcomes.items():
        response = coordinator.post(f"/distributions/{by_day[day]}/outcome", body)
        assert response.status_code == 200, response.get_data(as_text=True)

    period = {"from": start.isoformat(), "to": (start + timedelta(6)).isoformat()}
    figures = coordinator.get("/distributions/figures", **period).get_json()
    assert figures["by_status"] == {"planned": 4, "held": 1, "disrupted": 1, "cancelled": 1}
    assert (figures["people_served"], figures["minors"], figures["women"]) == (560, 30, 12)
    assert figures["items"] == [
        {
            "item_id": world.items["blanket"],
            "label": "Blanket",
            "category": "bedding",
            "unit": "piece",
            "quantity": 50,
        },
        {
            "item_id": world.items["water"],
            "label": "Drinking water",
            "category": "water",
            "unit": "litre",
            "quantity": 600,
        },
    ]
    assert figures["by_category"] == {"bedding": 50, "water": 600}
    at_kitchen = coordinator.get("/distributions/figures", site_id=world.sites["kitchen"], **period)
    assert at_kitchen.get_json()["people_served"] == 0
    year = {"from": "2025-01-01", "to": "2026-01-02"}
    assert_error(coordinator.get("/distributions/figures", **year), 422, "invalid", "to")
