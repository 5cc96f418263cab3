"""The needs endpoints of the JSON API: needs, people estimates, alerts and alert channels."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from conftest import World
from factories import assert_error, receive
from sqlalchemy import func, select

from logistics.extensions import db
from logistics.models import (
    Alert,
    Channel,
    Distribution,
    DistributionLine,
    Incident,
    PeopleEstimate,
    Submission,
)
from logistics.services import accounts, alerts, catalogue, coverage, distributions, ledger, needs

PARIS = ZoneInfo("Europe/Paris")
SECRET = "whsec-calais-aid-0123456789-kqZt"


def today() -> date:
    return datetime.now(PARIS).date()


def one_off(world: World, item: str, quantity: int, starts_at: datetime) -> None:
    distributions.create_one_off(
        world.org_id,
        site_id=world.sites["point"],
        source_site_id=world.sites["main"],
        starts_at=starts_at,
        lines=[(world.items[item], quantity)],
    )
    db.session.commit()


def water_per_person(world: World, litres: int, min_stock: int) -> None:
    catalogue.save_item(
        world.org_id,
        {
            "name": "Drinking water",
            "category": "water",
            "unit": "litre",
            "per_person_per_day": litres,
            "min_stock": min_stock,
        },
        item_id=world.items["water"],
    )
    db.session.commit()


def by_label(response: Any) -> dict[str, dict[str, Any]]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return {row["label"]: row for row in response.get_json()["needs"]}


def only_blankets_short(world: World) -> datetime:
    """Leave one critical shortage: 10 blankets held, 40 planned in 6 hours; return its start."""
    for key in ("sleeping_bag", "tent", "tarp", "water", "shoes42"):
        catalogue.set_item_active(world.org_id, world.items[key], False)
    receive(world, "main", "blanket", 10)
    starts = (datetime.now(UTC) + timedelta(hours=6)).replace(second=0, microsecond=0)
    one_off(world, "blanket", 40, starts)
    return starts


def test_needs_equal_a_hand_calculation(api, world: World) -> None:
    now = datetime.now(UTC)
    # Blankets: 100 in, 42 slashed by police 3 days ago (1.5 a day), 70 planned in 3 days.
    receive(world, "main", "blanket", 100, occurred_at=now - timedelta(days=30))
    ledger.record_loss(
        world.org_id,
        None,
        site_id=world.sites["main"],
        item_id=world.items["blanket"],
        quantity=42,
        reason="Slashed at the eviction",
        occurred_at=now - timedelta(days=3),
    )
    starts = (now + timedelta(days=3)).replace(second=0, microsecond=0)
    one_off(world, "blanket", 70, starts)
    # Water: 10 litres a person a day for 120 people in Calais; 2,000 litres held.
    water_per_person(world, 10, 100)
    needs.record_estimate(world.org_id, None, area="Calais", people=120, as_of=today())
    receive(world, "kitchen", "water", 2000)

    response = api("coordinator").get("/needs", horizon_days=7)
    rows = by_label(response)
    assert list(rows)[:2] == ["Drinking water", "Blanket"]  # largest shortfall first
    assert response.get_json()["horizon_days"] == 7
    assert rows["Blanket"] == {
        "item_id": world.items["blanket"],
        "label": "Blanket",
        "category": "bedding",
        "unit": "piece",
        "held": 58,
        "consumption_rate": 1.5,
        "committed": 70,
        "committed_48h": 0,
        "people": 120,
        "per_person_per_day": 0.0,
        "need_from_committed": 70,
        "need_from_rate": 10.5,
        "need_from_people": 0.0,
        "need_from_replacement": 0,
        "min_stock": 10,
        "need": 70 + 10,
        "shortfall": 80 - 58,
        "days_of_cover": 58 / 1.5,  # unrounded: pages round, the API does not
        "cover_target_days": 7,
        # 58 held cannot cover the 70 planned: that distribution is when it runs short.
        "short_by": starts.astimezone(PARIS).isoformat(),
        "status": "warning",
        "horizon_days": 7,
        "held_at": [{"site_id": world.sites["main"], "site": "Main warehouse", "quantity": 58}],
    }
    assert rows["Blanket"]["days_of_cover"] != round(58 / 1.5, 1)
    water = rows["Drinking water"]
    assert (water["need_from_people"], water["need"], water["shortfall"]) == (8400, 8500, 6500)
    assert (water["days_of_cover"], water["short_by"], water["status"]) == (None, None, "warning")

    three_days = by_label(api("coordinator").get("/needs", horizon_days=3))
    assert three_days["Drinking water"]["need"] == 120 * 10 * 3 + 100
    default = api("coordinator").get("/needs").get_json()
    assert default["horizon_days"] == 7 and len(default["needs"]) == 6

    for bad in ("0", "91", "-1", "x", "2.5"):
        response = api("coordinator").get("/needs", horizon_days=bad)
        assert response.status_code in (400, 422), bad
        assert "horizon_days" in response.get_json()["error"]["fields"], bad
    assert_error(api("coordinator").get("/needs", horizon_days="0"), 422, "invalid")
    assert_error(api("coordinator").get("/needs", horizon_days="x"), 400, "bad_request")


def test_a_posted_people_estimate_changes_the_water_need(api, world: World) -> None:
    water_per_person(world, 5, 0)
    needs.record_estimate(world.org_id, None, area="Calais", people=100, as_of=today())
    db.session.commit()
    coordinator = api("coordinator")
    assert by_label(coordinator.get("/needs"))["Drinking water"]["need"] == 100 * 5 * 7

    body = {"area": " Grande-Synthe ", "people": 400, "as_of": today().isoformat()}
    response = coordinator.post("/people-estimates", {**body, "request_token": "gs-count"})
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["area"] == "Grande-Synthe"
    replay = coordinator.post("/people-estimates", {**body, "request_token": "gs-count"})
    assert replay.get_json() == {**response.get_json(), "replayed": True}

    listed = coordinator.get("/people-estimates").get_json()
    assert listed["people"] == 500
    assert [(e["area"], e["people"]) for e in listed["latest"]] == [
        ("Calais", 100),
        ("Grande-Synthe", 400),
    ]
    assert listed["history"][0] == response.get_json()
    water = by_label(coordinator.get("/needs"))["Drinking water"]
    assert (water["people"], water["need"]) == (500, 500 * 5 * 7)

    tomorrow = (today() + timedelta(days=1)).isoformat()
    for wrong, status, field in (
        ({**body, "people": -1}, 422, "people"),
        ({**body, "people": "400"}, 400, "people"),
        ({**body, "as_of": tomorrow}, 422, "as_of"),
        ({**body, "as_of": "02/11/2024"}, 422, "as_of"),
        ({"people": 10}, 422, "area"),
    ):
        response = coordinator.post("/people-estimates", wrong)
        assert response.status_code == status, (wrong, response.get_data(as_text=True))
        assert field in response.get_json()["error"]["fields"]
    db.session.rollback()
    assert db.session.scalar(select(func.count(PeopleEstimate.id))) == 2


def test_donors_read_needs_but_not_estimates_alerts_or_channels(api, world: World) -> None:
    donor = api("donor")
    assert donor.get("/needs").status_code == 200
    assert donor.get("/people-estimates").status_code == 200
    estimate = {"area": "Calais", "people": 900, "as_of": today().isoformat()}
    channel = {"kind": "email", "target": "donor@example.org"}
    for response in (
        donor.post("/people-estimates", estimate),
        donor.get("/alerts"),
        donor.get("/channels"),
        donor.post("/channels", channel),
        api("kitchen").post("/people-estimates", estimate),
        api("warehouse").get("/channels"),
        api("warehouse").post("/channels", channel),
    ):
        assert_error(response, 403, "forbidden")
    assert api("warehouse").get("/alerts").status_code == 200
    db.session.rollback()
    assert db.session.scalar(select(func.count(PeopleEstimate.id))) == 0
    assert db.session.scalar(select(func.count(Channel.id))) == 0


def test_alerts_list_open_ones_with_figures_then_recent_ones(api, world: World) -> None:
    starts = only_blankets_short(world)
    warehouse = api("warehouse")
    assert warehouse.get("/alerts").get_json() == {"status": "open", "alerts": []}
    alerts.reconcile(world.org_id)
    db.session.commit()

    listed = warehouse.get("/alerts", status="open").get_json()["alerts"]
    # The distribution its source cannot cover has an alert of its own.
    by_kind = {a["kind"]: a for a in listed}
    assert sorted(by_kind) == ["distribution", "item"] and len(listed) == 2
    alert = by_kind["item"]
    assert (alert["item_id"], alert["label"]) == (world.items["blanket"], "Blanket")
    assert (alert["kind"], alert["key"]) == ("item", f"item:{world.items['blanket']}")
    assert (alert["distribution_id"], alert["incident_id"]) == (None, None)
    assert (alert["severity"], alert["resolved_at"]) == ("critical", None)
    figures = alert["figures"]
    assert (figures["held"], figures["committed_48h"], figures["need"]) == (10, 40, 50)
    assert figures["shortfall"] == 40
    assert figures["short_by"] == starts.astimezone(PARIS).isoformat()
    assert [(c["change"], c["severity"]) for c in alert["changes"]] == [("opened", "critical")]
    assert (
        datetime.fromisoformat(alert["opened_at"]).utcoffset()
        == starts.astimezone(PARIS).utcoffset()
    )

    receive(world, "main", "blanket", 500)
    alerts.reconcile(world.org_id)
    db.session.commit()
    assert warehouse.get("/alerts").get_json()["alerts"] == []
    recent = warehouse.get("/alerts", status="recent").get_json()["alerts"]
    assert {a["kind"] for a in recent} == {"distribution", "item"}
    (resolved,) = [a for a in recent if a["kind"] == "item"]
    assert resolved["id"] == alert["id"] and resolved["resolved_at"] is not None
    assert [c["change"] for c in resolved["changes"]] == ["opened", "resolved"]
    assert_error(warehouse.get("/alerts", status="closed"), 422, "invalid", "status")


def test_distribution_and_eviction_alerts_say_their_kind_key_and_local_times(
    api, world: World, other_world: World
) -> None:
    receive(world, "gs_store", "blanket", 86)
    starts = (datetime.now(UTC) + timedelta(hours=6)).replace(microsecond=0)
    planned = Distribution(
        organisation_id=world.org_id,
        site_id=world.sites["point"],
        source_site_id=world.sites["main"],
        starts_at=starts,
        local_date=starts.date(),
        lines=[
            DistributionLine(
                item_id=world.items["blanket"],
                planned_quantity=40,
                source_site_id=world.sites["main"],
            )
        ],
    )
    evicted = Incident(
        organisation_id=world.org_id,
        occurred_at=datetime.now(UTC),
        kind="eviction",
        area="Calais",
        shelters_affected=40,
    )
    db.session.add_all([planned, evicted])
    db.session.commit()
    (shortage,) = coverage.distribution_shortages(world.org_id)
    due = starts + timedelta(hours=12)
    eviction_figures = {"incident_id": evicted.id, "area": "Calais", "shelters": 40, "people": 0}
    for kind, key, figures, ids in (
        (
            "distribution",
            f"distribution:{planned.id}",
            shortage.figures(),
            {"distribution_id": planned.id},
        ),
        (
            "eviction",
            f"incident:{evicted.id}",
            {**eviction_figures, "due": due.isoformat(), "lines": []},
            {"incident_id": evicted.id},
        ),
    ):
        db.session.add(
            Alert(
                organisation_id=world.org_id,
                kind=kind,
                key=key,
                severity="critical",
                figures=figures,
                **ids,
            )
        )
    db.session.add(
        Alert(
            organisation_id=other_world.org_id,
            kind="eviction",
            key="incident:1",
            severity="critical",
            figures={},
        )
    )
    db.session.commit()

    listed = {a["kind"]: a for a in api("warehouse").get("/alerts").get_json()["alerts"]}
    assert set(listed) == {"distribution", "eviction"}  # not the other organisation's
    short = listed["distribution"]
    assert (short["key"], short["distribution_id"]) == (f"distribution:{planned.id}", planned.id)
    assert (short["item_id"], short["label"], short["incident_id"]) == (None, None, None)
    local = starts.astimezone(PARIS).isoformat()
    assert short["figures"]["starts_at"] == local
    (line,) = short["figures"]["lines"]
    assert (line["source_site"], line["planned"], line["available"], line["missing"]) == (
        "Main warehouse",
        40,
        0,
        40,
    )
    (transfer,) = line["transfers"]
    assert (transfer["from_site_id"], transfer["quantity"], transfer["before"]) == (
        world.sites["gs_store"],
        40,
        local,
    )
    eviction = listed["eviction"]
    assert (eviction["key"], eviction["incident_id"]) == (f"incident:{evicted.id}", evicted.id)
    assert eviction["figures"]["due"] == due.astimezone(PARIS).isoformat()


def test_channels_keep_their_secret_and_their_organisation(
    api, world: World, other_world: World
) -> None:
    admin = api("admin")
    responses = []
    webhook = {"kind": "webhook", "target": "https://hooks.example.org/calais"}
    short = admin.post("/channels", {**webhook, "secret": "too-short"})
    assert_error(short, 422, "invalid", "secret")
    assert_error(admin.post("/channels", {**webhook, "kind": "sms"}), 422, "invalid", "kind")
    assert_error(admin.post("/channels", {**webhook, "mode": "hourly"}), 422, "invalid", "mode")

    body = {**webhook, "secret": SECRET, "request_token": "hook-1"}
    first, again = admin.post("/channels", body), admin.post("/channels", body)
    responses += [short, first, again]
    assert first.status_code == again.status_code == 201, first.get_data(as_text=True)
    assert again.get_json() == {**first.get_json(), "replayed": True}
    hook = first.get_json()
    assert (hook["secret_hint"], hook["active"], hook["min_severity"]) == (
        SECRET[-4:],
        True,
        "warning",
    )
    email = admin.post(
        "/channels",
        {
            "kind": "email",
            "target": "lead@example.org",
            "min_severity": "critical",
            "mode": "digest",
        },
    )
    assert email.status_code == 201 and email.get_json()["secret_hint"] is None
    # A member's own subscription is not one of the group's channels.
    member = accounts.user_by_email(world.email("coordinator")).memberships[0]
    own = alerts.set_subscription(world.org_id, member, "all")
    theirs = alerts.save_channel(other_world.org_id, kind="email", target="x@example.org")
    db.session.commit()

    listed = admin.get("/channels")
    responses.append(listed)
    assert [c["id"] for c in listed.get_json()["channels"]] == [hook["id"], email.get_json()["id"]]

    off = admin.post(f"/channels/{hook['id']}/deactivate")
    responses.append(off)
    assert off.status_code == 200 and off.get_json()["active"] is False
    assert admin.get("/channels").get_json()["channels"][0]["active"] is False
    on = admin.post(f"/channels/{hook['id']}/activate", {"request_token": "hook-on"})
    responses.append(on)
    assert on.get_json()["active"] is True

    only_blankets_short(world)
    alerts.reconcile(world.org_id)
    db.session.commit()
    deliveries = admin.get(f"/channels/{hook['id']}/deliveries")
    responses.append(deliveries)
    (delivery,) = deliveries.get_json()["deliveries"]
    # One message for the check's changes (a batch), not one per alert change.
    assert (delivery["status"], delivery["attempts"], delivery["change"]) == ("pending", 0, None)
    assert delivery["batch_id"] is not None
    assert (
        admin.get(f"/channels/{email.get_json()['id']}/deliveries").get_json()["deliveries"] == []
    )

    for text in [r.get_data(as_text=True) for r in responses]:
        assert SECRET not in text
    db.session.rollback()
    assert all(SECRET not in str(s.result) for s in db.session.scalars(select(Submission)))
    assert db.session.scalar(select(func.count(Channel.id)).where(Channel.kind == "webhook")) == 1

    for channel_id in (theirs.id, own.id, 10**12):
        assert_error(admin.post(f"/channels/{channel_id}/deactivate"), 404, "not_found")
        assert_error(admin.post(f"/channels/{channel_id}/activate"), 404, "not_found")
        assert_error(admin.get(f"/channels/{channel_id}/deliveries"), 404, "not_found")
    db.session.rollback()
    assert db.session.get(Channel, theirs.id).active is True
