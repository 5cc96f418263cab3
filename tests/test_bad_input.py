"""Bad input on pages and in the API: a clear message, never a 500, nothing half-written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from conftest import api_token, form_token
from sqlalchemy import func, select

from logistics.extensions import db
from logistics.models import Distribution, Incident, Report, StockMovement, Submission
from logistics.services import distributions, submissions

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


# --- request tokens belong to their sender and their action ------------------------------------

ELSEWHERE = "This request token was already used for another request."


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _report_form(world) -> dict[str, str]:
    return {"kind": "shortfall", "first": "2024-11-01", "last": "2024-11-07"} | {
        "site_id": str(world.sites["main"]),
        "distribution_id": "0",
        "day": "2024-11-01",
    }


def test_another_users_token_is_refused_not_answered(client_as, world) -> None:
    made = client_as("coordinator").post(
        "/reports", data={**_report_form(world), "request_token": "coordinator-1"}
    )
    assert made.status_code == 302 and "made=" in made.headers["Location"]
    replay = client_as("warehouse").post(
        "/reports", data={**_report_form(world), "request_token": "coordinator-1"}
    )
    # Not the coordinator's report (its id was the answer), and no second one.
    assert replay.status_code == 409, replay.get_data(as_text=True)
    assert ELSEWHERE in replay.get_data(as_text=True) and "Location" not in replay.headers
    assert _count(Report) == 1
    # The sender's own replay still gets the first answer.
    again = client_as("coordinator").post(
        "/reports", data={**_report_form(world), "request_token": "coordinator-1"}
    )
    assert again.headers["Location"] == made.headers["Location"] and _count(Report) == 1


def test_another_users_token_is_refused_by_the_api(app, world) -> None:
    client = app.test_client()
    body = {"kind": "donation", "site_id": world.sites["main"], "item_id": world.items["tarp"]}
    body |= {"quantity": 25, "request_token": "phone-1"}
    answers = {}
    for role in ("coordinator", "warehouse", "coordinator"):
        headers = {"Authorization": f"Bearer {api_token(world, role)}"}
        answers.setdefault(role, []).append(
            client.post("/api/v1/movements", json=body, headers=headers)
        )
    first, again = answers["coordinator"]
    assert first.status_code == again.status_code == 201 and again.get_json()["replayed"]
    refused = answers["warehouse"][0]
    error = refused.get_json()["error"]
    assert refused.status_code == 409 and error["code"] == "conflict"
    assert "request_token" in error["fields"] and "id" not in refused.get_json()
    assert _movements() == 1


def test_a_token_used_by_another_action_is_a_409_and_writes_nothing(client_as, world) -> None:
    coordinator = client_as("coordinator")
    received = coordinator.post(
        "/receive",
        data={"item": "Blanket", "site_id": world.sites["main"], "quantity": 5}
        | {"kind": "donation", "request_token": "one-token", "save": "Save"},
    )
    assert received.status_code == 302
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    forms = {
        "/reports": _report_form(world),
        "/incidents/new": {"occurred_at": "2024-11-02T07:30", "kind": "eviction"}
        | {"area": "Calais", "site_id": "0", "bailiff_present": "unknown"}
        | {"interpreter_present": "unknown", "legal_basis_shown": "unknown"}
        | {"shelter_offered": "unknown"},
        "/distributions/new": {"site_id": world.sites["point"], "starts_at": tomorrow}
        | {"source_site_id": world.sites["main"], "lines-0-item": "Blanket"}
        | {"lines-0-quantity": "4"},
    }
    for address, data in forms.items():
        response = coordinator.post(address, data={**data, "request_token": "one-token"})
        assert response.status_code == 409, address
        assert ELSEWHERE in response.get_data(as_text=True), address
    assert (_count(Report), _count(Incident), _count(Distribution)) == (0, 0, 0)
    assert _movements() == 1


def test_a_token_from_before_owners_were_kept_replays_to_nobody(app, world) -> None:
    db.session.add(
        Submission(organisation_id=world.org_id, request_token="old", kind="receive", result={})
    )
    db.session.commit()
    with pytest.raises(submissions.TokenConflict):
        submissions.run_once(
            world.org_id, "old", "receive", lambda: {}, user_id=world.users["warehouse"]
        )


# --- NUL characters and numbers no column holds ------------------------------------------------

NUL_PAGE = "invisible NUL character"


def test_nul_characters_are_refused_in_words_on_pages_and_in_the_api(app, client_as, world):
    warehouse = client_as("warehouse")
    for address, data in (
        ("/receive", {"item": "Blan\x00ket", "site_id": world.sites["main"], "quantity": 5}),
        ("/receive", {"item": "Blanket", "quantity": 5, "request_token": "to\x00ken"}),
        ("/loss", {"reason\x00": "damp"}),
    ):
        response = warehouse.post(address, data=data)
        assert response.status_code == 400, address
        assert NUL_PAGE in response.get_data(as_text=True), address
    for address in ("/ledger?kind=loss\x00", "/distributions?day=2024-11-02%00"):
        response = warehouse.get(address)
        assert response.status_code == 400 and NUL_PAGE in response.get_data(as_text=True)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {api_token(world, 'warehouse')}"}
    body = {"kind": "donation", "site_id": world.sites["main"], "item_id": world.items["tarp"]}
    for sent, field in (
        ({**body, "quantity": 2, "request_token": "a\x00b"}, "request_token"),
        ({**body, "quantity": 2, "source": "Church\x00"}, "source"),
        ({"lines": [{"note": "x\x00"}]}, "lines[0].note"),
    ):
        response = client.post("/api/v1/movements", json=sent, headers=headers)
        error = response.get_json()["error"]
        assert response.status_code == 400 and error["code"] == "bad_request", sent
        assert field in error["fields"] and field in error["message"], sent
    response = client.get("/api/v1/movements?kind=loss%00", headers=headers)
    assert response.status_code == 400 and "kind" in response.get_json()["error"]["fields"]
    assert _movements() == 0


def test_a_number_no_column_holds_gets_a_field_message(client_as, world) -> None:
    warehouse = client_as("warehouse")
    for field in ("quantity", "site_id"):
        response = warehouse.post(
            "/receive",
            data={"item": "Blanket", "site_id": world.sites["main"], "quantity": 5}
            | {"kind": "donation", "request_token": f"big-{field}", "save": "Save"}
            | {field: "9" * 30},
        )
        assert response.status_code == 200, field
    response = client_as("coordinator").post(
        "/incidents/new",
        data={"occurred_at": "2024-11-02T07:30", "kind": "eviction", "area": "Calais"}
        | {"site_id": str(2**31), "request_token": "big-site"},
    )
    assert response.status_code == 200
    assert "Not a valid choice" in response.get_data(as_text=True) or "could not" in (
        response.get_data(as_text=True)
    )
    counted = client_as("warehouse").post(
        "/stocktake",
        data={"item": "Blanket", "site_id": world.sites["main"], "counted": "9" * 30}
        | {"reason": "Stocktake", "request_token": "big-count", "save": "Save"},
    )
    assert counted.status_code == 200
    assert "Enter a smaller number." in counted.get_data(as_text=True)
    assert _movements() == 0
    assert _count(Incident) == 0
