"""The replacement kit: the page, the API, the demand evictions add, and what is held of it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import factories
import pytest
from conftest import World, form_token
from factories import assert_error, receive
from sqlalchemy import event, select

from logistics import limits
from logistics.extensions import db
from logistics.models import Alert, Incident, Item, ReplacementKitLine
from logistics.services import catalogue, incidents, needs, replacement
from logistics.services.errors import ValidationError
from logistics.services.incidents import IncidentInput

KIT_URL = "/incidents/replacement-kit"
API_KIT = "/api/v1/replacement-kit"


def _kit(world: World) -> None:
    """Save a kit: per shelter a tent, 2 sleeping bags and a tarpaulin; per person a blanket."""
    items = world.items
    replacement.save_kit(
        world.org_id,
        [(items["tent"], 1), (items["sleeping_bag"], 2), (items["tarp"], 1)],
        [(items["blanket"], 1)],
    )
    db.session.commit()


def _eviction(world: World, shelters: int | None = 40, people: int | None = 10) -> Incident:
    values = IncidentInput(
        occurred_at=datetime.now(UTC) - timedelta(hours=1),
        kind="eviction",
        area="Calais",
        shelters_affected=shelters,
        people_affected=people,
    )
    incident = incidents.record_incident(world.org_id, None, values)
    db.session.commit()
    return incident


def _saved(world: World) -> dict[str, dict[str, int]]:
    """Return the kit as the requests committed it: per basis, item key to quantity."""
    db.session.rollback()
    keys = {item_id: key for key, item_id in world.items.items()}
    kit = replacement.kit(world.org_id)
    return {
        "shelter": {keys[line.item.id]: line.quantity for line in kit.per_shelter},
        "person": {keys[line.item.id]: line.quantity for line in kit.per_person},
    }


def _form(html: str, shelter: list[tuple[Any, Any]], person: list[tuple[Any, Any]]) -> dict:
    """Fill the kit form: each row's item typed by its label (from an id), or as written."""
    data: dict[str, Any] = {"request_token": form_token(html)}
    for name, rows in (("per_shelter", shelter), ("per_person", person)):
        for index, (item, quantity) in enumerate(rows):
            typed = db.session.get(Item, item).label if isinstance(item, int) and item else item
            data[f"{name}-{index}-item"] = typed or ""
            data[f"{name}-{index}-quantity"] = quantity
    return data


def _put(api_client: Any, body: Any) -> Any:
    return api_client.client.put(API_KIT, json=body, headers=api_client.headers)


# --- the page -----------------------------------------------------------------------------------


def test_coordinators_edit_the_kit_on_a_page_linked_from_the_incidents(world, client_as):
    coordinator = client_as("coordinator")
    listing = coordinator.get("/incidents").get_data(as_text=True)
    assert KIT_URL in listing and "Replacement kit" in listing
    page = coordinator.get(KIT_URL)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Per shelter destroyed" in html and "Per person affected" in html
    items = world.items

    sent = _form(
        html,
        [(items["tent"], 1), (items["sleeping_bag"], 2), (items["tarp"], 1), (0, "")],
        [(items["blanket"], 1), (items["water"], ""), (0, 3)],  # no quantity, or no item: skipped
    )
    saved = coordinator.post(KIT_URL, data=sent, follow_redirects=True)
    assert saved.status_code == 200
    assert "Replacement kit saved." in saved.get_data(as_text=True)
    assert _saved(world) == {
        "shelter": {"tent": 1, "sleeping_bag": 2, "tarp": 1},
        "person": {"blanket": 1},
    }
    # The same form sent twice (a double click) records once.
    again = coordinator.post(KIT_URL, data=sent, follow_redirects=True)
    assert "Already recorded at " in again.get_data(as_text=True)

    ids = dict(db.session.execute(select(ReplacementKitLine.item_id, ReplacementKitLine.id)).all())
    html = coordinator.get(KIT_URL).get_data(as_text=True)
    assert 'name="per_shelter-1-item" type="text" value="Sleeping bag"' in html
    edit = _form(
        html,
        [(items["tent"], 1), (items["sleeping_bag"], 3), (items["tarp"], 0)],  # 0 removes
        [(items["blanket"], 1)],
    )
    assert coordinator.post(KIT_URL, data=edit).status_code == 302
    assert _saved(world) == {"shelter": {"tent": 1, "sleeping_bag": 3}, "person": {"blanket": 1}}
    # Synced in place: the lines kept are the same rows.
    kept = dict(db.session.execute(select(ReplacementKitLine.item_id, ReplacementKitLine.id)).all())
    assert kept == {key: ids[key] for key in kept} and items["tarp"] not in kept


@pytest.mark.parametrize(
    ("shelter", "message"),
    [
        (lambda i, other: [("Igloo", 1)], "Line 1: No item called Igloo."),
        (lambda i, other: [(i["tent"], 1), (i["tent"], 2)], "is listed twice per shelter"),
        (lambda i, other: [(i["tent"], limits.MAX_KIT_QUANTITY + 1)], "Number must be between"),
        (lambda i, other: [(i["tent"], -1)], "Number must be between"),
        (lambda i, other: [(i["tent"], "lots")], "Not a valid integer value"),
    ],
)
def test_the_page_refuses_bad_lines_with_a_message(world, other_world, client_as, shelter, message):
    _kit(world)
    coordinator = client_as("coordinator")
    html = coordinator.get(KIT_URL).get_data(as_text=True)
    rows = shelter(world.items, other_world.items["tent"])
    answer = coordinator.post(KIT_URL, data=_form(html, rows, []))
    assert answer.status_code == 200
    assert message in answer.get_data(as_text=True)
    assert _saved(world)["shelter"] == {"tent": 1, "sleeping_bag": 2, "tarp": 1}


def test_the_page_types_items_and_names_a_retired_one_until_it_is_removed(world, client_as):
    _kit(world)
    for number in range(60):
        factories.item(world.org_id, f"Sock pack {number:02d}", "clothing", commit=False)
    catalogue.set_item_active(world.org_id, world.items["tarp"], False)
    db.session.commit()
    coordinator = client_as("coordinator")
    html = coordinator.get(KIT_URL).get_data(as_text=True)
    # A typed item and a bounded list, never the 67-item catalogue in every row.
    assert "<select" not in html
    assert len(re.findall(r"<option ", html.split('id="item-labels"', 1)[1])) <= 40
    assert "Tarpaulin (4x6 m) (retired)" in html
    kept = [(world.items["tent"], 1), (world.items["sleeping_bag"], 2)]
    unchanged = _form(html, [*kept, ("Tarpaulin (4x6 m)", 1)], [(world.items["blanket"], 1)])
    refused = coordinator.post(KIT_URL, data=unchanged).get_data(as_text=True)
    assert "Tarpaulin (4x6 m) is retired: pick another item or remove it." in unescape(refused)
    typo = _form(html, [*kept, ("sock pack", 4)], [(world.items["blanket"], 1)])
    unclear = coordinator.post(KIT_URL, data=typo).get_data(as_text=True)
    assert 'Which one is "sock pack"?' in unescape(unclear)
    assert 'name="pick-per_shelter-2-item" value="Sock pack 03"' in unclear
    tapped = coordinator.post(KIT_URL, data={**typo, "pick-per_shelter-2-item": "Sock pack 03"})
    assert tapped.status_code == 302
    db.session.rollback()
    kit = replacement.kit(world.org_id)
    assert [(line.item.label, line.quantity) for line in kit.per_shelter] == [
        ("Tent (2-person)", 1),
        ("Sleeping bag", 2),
        ("Sock pack 03", 4),
    ]


@pytest.mark.parametrize("role", ["warehouse", "kitchen", "donor"])
def test_other_roles_may_neither_read_nor_edit_the_kit(world, client_as, api, role):
    _kit(world)
    member = client_as(role)
    assert member.get(KIT_URL).status_code == 403
    assert member.post(KIT_URL, data={}).status_code == 403
    assert api(role).get("/replacement-kit").status_code == 403
    body = {"per_shelter": [], "per_person": []}
    assert _put(api(role), body).status_code == 403
    assert _saved(world)["shelter"] == {"tent": 1, "sleeping_bag": 2, "tarp": 1}


# --- the API ------------------------------------------------------------------------------------


def test_the_api_puts_the_kit_whole_and_reads_it_back(world, api):
    admin = api("admin")
    items = world.items
    assert admin.get("/replacement-kit").get_json() == {"per_shelter": [], "per_person": []}
    body = {
        "per_shelter": [
            {"item_id": items["tent"], "quantity": 1},
            {"item_id": items["sleeping_bag"], "quantity": 2},
        ],
        "per_person": [{"item_id": items["blanket"], "quantity": 1}],
    }
    put = _put(admin, body)
    assert put.status_code == 200, put.get_data(as_text=True)
    shown = admin.get("/replacement-kit").get_json()
    assert put.get_json() == shown
    assert shown["per_shelter"][0] == {
        "item_id": items["tent"],
        "item": "Tent (2-person)",
        "unit": "piece",
        "quantity": 1,
    }
    rows = db.session.scalars(select(ReplacementKitLine.id).order_by(ReplacementKitLine.id)).all()
    # Idempotent: the same PUT again leaves the same rows.
    assert _put(admin, body).get_json() == shown
    db.session.rollback()
    again = db.session.scalars(select(ReplacementKitLine.id).order_by(ReplacementKitLine.id)).all()
    assert again == rows
    # Lines left out are removed.
    body["per_shelter"] = body["per_shelter"][1:]
    assert [line["item_id"] for line in _put(admin, body).get_json()["per_shelter"]] == [
        items["sleeping_bag"]
    ]
    assert _saved(world) == {"shelter": {"sleeping_bag": 2}, "person": {"blanket": 1}}


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"item_id": "other", "quantity": 1}, "per_shelter[0].item_id"),
        ({"item_id": "tent", "quantity": 0}, "per_shelter[0].quantity"),
        ({"item_id": "tent", "quantity": limits.MAX_KIT_QUANTITY + 1}, "per_shelter[0].quantity"),
        ({"item_id": 10**12, "quantity": 1}, "per_shelter[0].item_id"),
    ],
)
def test_the_api_refuses_bad_lines_with_422_and_keeps_the_kit(world, other_world, api, line, field):
    _kit(world)
    named = {"other": other_world.items["tent"], **world.items}
    line = {**line, "item_id": named.get(line["item_id"], line["item_id"])}
    answer = _put(api("coordinator"), {"per_shelter": [line], "per_person": []})
    assert_error(answer, 422, "invalid", field)
    assert _saved(world)["shelter"] == {"tent": 1, "sleeping_bag": 2, "tarp": 1}


def test_the_api_refuses_a_repeated_item_a_missing_basis_and_a_wrong_type(world, api):
    coordinator = api("coordinator")
    tent = {"item_id": world.items["tent"], "quantity": 1}
    twice = _put(coordinator, {"per_shelter": [tent, tent], "per_person": []})
    error = assert_error(twice, 422, "invalid", "per_shelter[1].item_id")
    assert "listed twice" in error["message"]
    assert_error(_put(coordinator, {"per_shelter": [tent]}), 422, "invalid", "per_person")
    wrong = {"per_shelter": [{"item_id": "tent", "quantity": 1}], "per_person": []}
    assert_error(_put(coordinator, wrong), 400, "bad_request", "per_shelter[0].item_id")
    assert _saved(world) == {"shelter": {}, "person": {}}


def test_the_service_refuses_retired_items_and_too_many_lines(world):
    catalogue.set_item_active(world.org_id, world.items["tarp"], False)
    with pytest.raises(ValidationError) as retired:
        replacement.save_kit(world.org_id, [(world.items["tarp"], 1)], [])
    assert "retired" in retired.value.message
    assert retired.value.fields == {"per_shelter[0].item_id": "retired item"}
    many = [(world.items["tent"], 1)] * (limits.MAX_LINES + 1)
    with pytest.raises(ValidationError) as too_many:
        replacement.save_kit(world.org_id, [], many)
    assert "per_person" in too_many.value.fields
    with pytest.raises(ValidationError):
        replacement.save_kit(world.org_id, [(world.items["tent"], True)], [])


# --- the demand ---------------------------------------------------------------------------------


def test_an_eviction_asks_for_its_counts_times_the_kit_until_24_hours_after(world, other_world):
    _kit(world)
    incident = _eviction(world, shelters=40, people=10)
    due = incident.created_at + timedelta(hours=24)
    items = world.items
    expected = {
        items["tent"]: [(due, 40)],
        items["sleeping_bag"]: [(due, 80)],
        items["tarp"]: [(due, 40)],
        items["blanket"]: [(due, 10)],
    }
    assert replacement.demand(world.org_id, incident.created_at) == expected
    assert replacement.demand(world.org_id, due - timedelta(seconds=1)) == expected
    assert replacement.demand(world.org_id, due) == {}
    assert replacement.demand(world.org_id, incident.created_at - timedelta(seconds=1)) == {}
    # Another organisation's kit and incidents are its own.
    assert replacement.demand(other_world.org_id, incident.created_at) == {}

    # A second eviction adds its own line; an incident without counts asks for nothing.
    second = _eviction(world, shelters=5, people=None)
    _eviction(world, shelters=None, people=None)
    later = second.created_at + timedelta(hours=24)
    tents = replacement.demand(world.org_id, second.created_at)[items["tent"]]
    assert tents == [(due, 40), (later, 5)]
    assert items["blanket"] not in replacement.demand(world.org_id, due)


def test_an_item_in_both_bases_adds_up_and_retired_items_ask_for_nothing(world):
    items = world.items
    replacement.save_kit(
        world.org_id, [(items["blanket"], 2), (items["tarp"], 1)], [(items["blanket"], 1)]
    )
    db.session.commit()
    incident = _eviction(world, shelters=3, people=4)
    catalogue.set_item_active(world.org_id, items["tarp"], False)
    db.session.commit()
    assert replacement.demand(world.org_id, incident.created_at) == {
        items["blanket"]: [(incident.created_at + timedelta(hours=24), 10)]
    }


def test_demand_reads_the_incidents_their_amendments_and_the_kit_once_each(app, world):
    _kit(world)
    for _ in range(5):
        moment = _eviction(world).created_at
    statements = []

    def count(*_args: Any) -> None:
        statements.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        demand = replacement.demand(world.org_id, moment)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(demand[world.items["tent"]]) == 5
    # The incidents, their amendments (which may correct the counts), the kit: not per row.
    assert len(statements) == 3


def test_correcting_the_counts_changes_the_demand(world):
    _kit(world)
    incident = _eviction(world, shelters=40, people=10)
    moment = incident.created_at
    corrected = IncidentInput(
        occurred_at=incident.occurred_at,
        kind="eviction",
        area="Calais",
        shelters_affected=12,
        people_affected=None,
    )
    incidents.update_incident(world.org_id, None, incident.id, corrected)
    db.session.commit()
    asked = replacement.demand(world.org_id, moment)
    assert {item: lines[0][1] for item, lines in asked.items()} == {
        world.items["tent"]: 12,
        world.items["sleeping_bag"]: 24,
        world.items["tarp"]: 12,
    }
    corrected.shelters_affected = 0
    incidents.update_incident(world.org_id, None, incident.id, corrected)
    db.session.commit()
    assert replacement.demand(world.org_id, moment) == {}

    # Once locked, an amendment adds words, not counts: the demand stays as it was.
    corrected.shelters_affected = 2
    incidents.update_incident(world.org_id, None, incident.id, corrected)
    incidents.lock(world.org_id, None, incident.id)
    incidents.amend(world.org_id, None, incident.id, "Two more shelters were found slashed.")
    db.session.commit()
    assert replacement.demand(world.org_id, moment)[world.items["tent"]][0][1] == 2


def test_the_needs_carry_the_replacement_and_an_item_short_of_it_goes_critical(world):
    _kit(world)
    receive(world, "main", "tent", 12)
    receive(world, "main", "sleeping_bag", 200)
    incident = _eviction(world, shelters=40, people=10)
    by_item = {n.item_id: n for n in needs.compute_needs(world.org_id, now=incident.created_at)}
    tent = by_item[world.items["tent"]]
    assert tent.need_from_replacement == 40
    assert tent.need == 40 + tent.min_stock
    assert tent.status == "critical"  # 12 held, 40 due within 24 hours
    bags = by_item[world.items["sleeping_bag"]]
    assert bags.need_from_replacement == 80 and bags.status != "critical"
    assert by_item[world.items["water"]].need_from_replacement == 0

    after = incident.created_at + timedelta(hours=24)
    tent_after = next(
        n for n in needs.compute_needs(world.org_id, now=after) if n.item_id == world.items["tent"]
    )
    assert tent_after.need_from_replacement == 0 and tent_after.status != "critical"


def test_eviction_needs_give_each_item_with_what_every_site_holds(world):
    _kit(world)
    receive(world, "main", "tent", 7)
    receive(world, "gs_store", "tent", 5)
    receive(world, "gs_store", "sleeping_bag", 54)
    receive(world, "point", "blanket", 3)  # a distribution point's stock counts too
    incident = _eviction(world, shelters=40, people=10)
    lines = replacement.eviction_needs(world.org_id, incident, incident.created_at)
    due = incident.created_at + timedelta(hours=24)
    assert [(line.label, line.unit, line.quantity, line.held, line.due) for line in lines] == [
        ("Tent (2-person)", "piece", 40, 12, due),
        ("Sleeping bag", "piece", 80, 54, due),
        ("Tarpaulin (4x6 m)", "piece", 40, 0, due),
        ("Blanket", "piece", 10, 3, due),
    ]
    assert lines[0].item_id == world.items["tent"]
    nothing = _eviction(world, shelters=0, people=None)
    assert replacement.eviction_needs(world.org_id, nothing, nothing.created_at) == []


def test_saving_an_eviction_opens_an_alert_with_the_replacement_lines(world):
    _kit(world)
    receive(world, "main", "tent", 12)
    incident = _eviction(world, shelters=40, people=10)
    alert = db.session.scalar(select(Alert).where(Alert.incident_id == incident.id))
    assert alert is not None and alert.kind == "eviction"
    tent = alert.figures["lines"][0]
    assert (tent["label"], tent["quantity"], tent["held"]) == ("Tent (2-person)", 40, 12)
