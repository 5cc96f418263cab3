"""Bad input on pages and in the API: a clear message, never a 500, nothing half-written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from conftest import api_token, form_token
from sqlalchemy import func, select

from logistics.extensions import db
from logistics.models import Distribution, StockMovement
from logistics.services import distributions

BIG = "99999999999999999999"
NOTHING = "There is nothing here."
DATE_RANGE = "Dates lie between 2000-01-01 and 2100-12-31."
WRITTEN = "Dates are written YYYY-MM-DD."
TOO_OLD = "That date is too far in the past."

# (address, status, message); {blanket} stands for that item's id.
PAGES = [
    (f"/?site_id={BIG}", 404, NOTHING),
    ("/?site_id=0", 404, NOTHING),
    ("/?site_id=-3", 404, NOTHING),
    ("/?site_id=lots", 404, NOTHING),
    ("/?site_id=2147483647", 404, NOTHING),
    (f"/ledger?site_id={BIG}", 404, NOTHING),
    (f"/ledger?before={BIG}", 404, NOTHING),
    (f"/items/{{blanket}}/history?site_id={BIG}", 404, NOTHING),
    (f"/items/{{blanket}}/history?before={BIG}", 404, NOTHING),
    (f"/distributions/figures?site_id={BIG}", 404, NOTHING),
    (f"/reports?made={BIG}", 404, NOTHING),
    ("/distributions?day=9999-12-31", 422, DATE_RANGE),
    ("/distributions?day=0001-01-01", 422, DATE_RANGE),
    ("/distributions?day=1999-12-31", 422, DATE_RANGE),
    ("/distributions?day=2024-02-30", 422, WRITTEN),
    ("/distributions?day=20241102", 422, WRITTEN),
    ("/distributions/figures?from=0001-01-01&to=9999-12-31", 422, DATE_RANGE),
    ("/distributions/figures?to=9999-12-31", 422, DATE_RANGE),
    ("/kitchen?day=0001-01-01", 422, DATE_RANGE),
    ("/kitchen?day=9999-12-31", 422, DATE_RANGE),
    ("/incidents?from=0001-01-01", 422, DATE_RANGE),
    ("/incidents?to=0001-01-01", 422, DATE_RANGE),
    ("/incidents?to=2101-01-01", 422, DATE_RANGE),
    ("/incidents/figures?to=9999-12-31", 422, DATE_RANGE),
    ("/incidents/figures?from=0001-01-01", 422, DATE_RANGE),
    (f"/needs?horizon_days={BIG}", 422, "The horizon is a whole number of days"),
    (f"/items/new?like={BIG}", 200, "New item"),
    ("/csv/ledger.csv?to=9999-12-31", 422, DATE_RANGE),
]

# (address, status, error code, field); the API answers in its own words.
API_GETS = [
    ("/kitchen/plan?from=9999-12-30", 422, "invalid", "from"),
    ("/kitchen/plan?from=0001-01-01", 422, "invalid", "from"),
    ("/distributions?from=0001-01-01", 422, "invalid", "from"),
    ("/distributions?from=9999-12-31", 422, "invalid", "from"),
    ("/distributions/figures?from=0001-01-01&to=2024-01-02", 422, "invalid", "from"),
    ("/distributions/figures?to=9999-12-31", 422, "invalid", "to"),
    ("/incidents?from=0001-01-01", 422, "invalid", "from"),
    ("/incidents/figures?to=9999-12-31", 422, "invalid", "to"),
    (f"/distributions/figures?site_id={BIG}", 404, "not_found", None),
    (f"/stock?site_id={BIG}", 404, "not_found", None),
    (f"/movements?site_id={BIG}", 404, "not_found", None),
]


def _movements() -> int:
    return db.session.scalar(select(func.count(StockMovement.id)))


def test_pages_refuse_far_dates_and_impossible_ids_in_words(client_as, world) -> None:
    admin = client_as("admin")
    wrong = []
    for address, status, message in PAGES:
        response = admin.get(address.format(blanket=world.items["blanket"]))
        if response.status_code != status or message not in response.get_data(as_text=True):
            wrong.append(f"{address}: {response.status_code}")
    assert wrong == []
    day_page = client_as("kitchen").post("/kitchen/day/9999-12-31", data={})
    assert day_page.status_code == 404 and NOTHING in day_page.get_data(as_text=True)
    # The first and last dates allowed still show, weeks that run past 2100 included.
    for address in (
        "/distributions?day=2100-12-31",
        "/distributions?day=2000-01-01",
        "/kitchen?day=2100-12-31",
        "/incidents?to=2000-01-01",
        "/incidents/figures?from=2000-01-01&to=2100-12-31",
        "/distributions/figures?from=2000-01-01&to=2100-12-31",
        f"/?site_id={world.sites['main']}",
    ):
        assert admin.get(address).status_code == 200, address


def test_the_api_refuses_far_dates_and_impossible_ids_in_its_own_words(app, world) -> None:
    client = app.test_client()
    headers = {"Authorization": f"Bearer {api_token(world, 'admin')}"}
    wrong = []
    for address, status, code, field in API_GETS:
        response = client.get(f"/api/v1{address}", headers=headers)
        error = (response.get_json() or {}).get("error", {})
        named = field is None or (field in error["fields"] and field in error["message"])
        if response.status_code != status or error.get("code") != code or not named:
            wrong.append(f"{address}: {response.status_code} {error}")
    assert wrong == []


def test_movements_dated_year_1_are_refused_and_nothing_is_written(client_as, world) -> None:
    warehouse = client_as("warehouse")
    for address, fields in (
        ("/receive", {"quantity": 4, "kind": "donation"}),
        ("/loss", {"quantity": 1, "reason": "damp"}),
        ("/stocktake", {"counted": 3, "reason": "Stocktake"}),
    ):
        token = form_token(warehouse.get(address).get_data(as_text=True))
        response = warehouse.post(
            address,
            data={
                "item": "Blanket",
                "site_id": world.sites["main"],
                "occurred_at": "0001-01-01T00:00",
                "request_token": token,
                "save": "Save",
                **fields,
            },
        )
        # A refused form comes back filled in, with the reason above it.
        assert response.status_code == 200, address
        assert TOO_OLD in response.get_data(as_text=True), address
    assert _movements() == 0


def test_distributions_far_in_time_are_refused(client_as, world) -> None:
    coordinator = client_as("coordinator")
    for starts_at in ("0001-01-01T00:00", "9999-12-31T23:30"):
        response = coordinator.post(
            "/distributions/new",
            data={
                "site_id": world.sites["point"],
                "source_site_id": world.sites["main"],
                "starts_at": starts_at,
                "lines-0-item": "Blanket",
                "lines-0-quantity": "40",
                "request_token": f"far-{starts_at}",
            },
        )
        assert response.status_code == 200, starts_at
        assert DATE_RANGE in response.get_data(as_text=True), starts_at
    assert db.session.scalar(select(func.count(Distribution.id))) == 0

    tomorrow = datetime.now(UTC) + timedelta(days=1)
    planned = distributions.create_one_off(
        world.org_id,
        site_id=world.sites["point"],
        source_site_id=world.sites["main"],
        starts_at=tomorrow,
        lines=[(world.items["blanket"], 40)],
    )
    db.session.commit()
    response = coordinator.post(
        f"/distributions/{planned.id}/plan",
        data={
            "starts_at": "0001-01-01T00:00",
            "lines-0-item": "Blanket",
            "lines-0-quantity": "40",
            "request_token": "move-to-year-1",
        },
    )
    assert response.status_code == 200
    assert DATE_RANGE in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Distribution, planned.id).starts_at > datetime.now(UTC)


def test_a_year_1_donation_through_the_api_is_refused_and_writes_nothing(app, world) -> None:
    headers = {"Authorization": f"Bearer {api_token(world, 'warehouse')}"}
    response = app.test_client().post(
        "/api/v1/movements",
        json={
            "kind": "donation",
            "site_id": world.sites["main"],
            "item_id": world.items["blanket"],
            "quantity": 5,
            "occurred_at": "0001-01-01T00:00:00Z",
        },
        headers=headers,
    )
    assert response.status_code == 422, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["message"] == TOO_OLD and "occurred_at" in error["fields"]
    assert _movements() == 0
