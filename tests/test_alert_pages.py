"""The alerts page says what to move where, and its link fills the transfer form that moves it.

Alerts are made here with the model (kind, key, figures as the services store them): the figures
themselves come from the real coverage and needs services.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import factories
from conftest import World, form_token
from factories import held, receive

from logistics.extensions import db
from logistics.models import Alert, AlertChange, Distribution, DistributionLine, Incident
from logistics.services import catalogue, coverage, needs


def distribution(world: World, starts_at: datetime, **planned: int) -> Distribution:
    """Plan a distribution at the point from Main warehouse; commit."""
    made = Distribution(
        organisation_id=world.org_id,
        site_id=world.sites["point"],
        source_site_id=world.sites["main"],
        starts_at=starts_at,
        local_date=starts_at.date(),
        lines=[
            DistributionLine(
                item_id=world.items[key],
                planned_quantity=quantity,
                source_site_id=world.sites["main"],
            )
            for key, quantity in planned.items()
        ],
    )
    db.session.add(made)
    db.session.commit()
    return made


def incident(world: World, shelters: int) -> Incident:
    """Record an eviction in Calais that destroyed shelters; commit."""
    made = Incident(
        organisation_id=world.org_id,
        occurred_at=datetime.now(UTC) - timedelta(hours=1),
        kind="eviction",
        area="Calais",
        shelters_affected=shelters,
    )
    db.session.add(made)
    db.session.commit()
    return made


def alert(world: World, kind: str, key: str, figures: dict[str, Any], **fields: Any) -> Alert:
    """Open an alert with its opening change, as the alert check stores them; commit."""
    made = Alert(
        organisation_id=world.org_id,
        kind=kind,
        key=key,
        severity=fields.pop("severity", "critical"),
        figures=figures,
        **fields,
    )
    db.session.add(made)
    db.session.add(
        AlertChange(alert=made, change="opened", severity=made.severity, figures=figures)
    )
    db.session.commit()
    return made


def shortage_alert(world: World, planned: Distribution) -> Alert:
    """Open a short distribution's alert, with the figures coverage gives it."""
    (shortage,) = [
        s for s in coverage.distribution_shortages(world.org_id) if s.distribution_id == planned.id
    ]
    return alert(
        world,
        "distribution",
        f"distribution:{shortage.distribution_id}",
        shortage.figures(),
        distribution_id=shortage.distribution_id,
    )


def eviction_alert(world: World, shelters: int, tents_held: int) -> Alert:
    """Open an eviction alert for a new incident: a tent per shelter destroyed."""
    made = incident(world, shelters)
    figures = {
        "incident_id": made.id,
        "area": "Calais",
        "shelters": shelters,
        "people": 0,
        "due": (datetime.now(UTC) + timedelta(hours=23)).isoformat(),
        "lines": [
            {
                "item_id": world.items["tent"],
                "label": "Tent (2-person)",
                "unit": "piece",
                "quantity": shelters,
                "held": tents_held,
            }
        ],
    }
    return alert(world, "eviction", f"incident:{made.id}", figures, incident_id=made.id)


def item_alert(world: World, item: str) -> Alert:
    """Open an item alert with the item's real need figures (held_at included)."""
    (need,) = [n for n in needs.compute_needs(world.org_id) if n.item_id == world.items[item]]
    return alert(
        world,
        "item",
        f"item:{need.item_id}",
        need.figures(),
        item_id=need.item_id,
        severity="warning",
    )


def card(page: str, alert_id: int) -> str:
    """Return the text of one alert's card."""
    match = re.search(rf'<div class="card[^"]*" id="alert-{alert_id}">(.*?)\n  </div>', page, re.S)
    assert match, f"no card for alert {alert_id}"
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split())


def move_links(page: str) -> list[str]:
    return [unescape(href) for href in re.findall(r'<a class="move" href="([^"]+)"', page)]


def selected(page: str, name: str) -> str | None:
    """Return the site chosen in a form: a ticked site button (six sites or fewer)."""
    buttons = re.findall(rf'<input type="radio" name="{name}" value="(\d+)"( checked)?>', page)
    assert buttons, f"no site buttons for {name}"
    chosen = [value for value, checked in buttons if checked]
    return chosen[0] if chosen else None


def value_of(page: str, name: str) -> str | None:
    field = re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0)
    value = re.search(r'value="([^"]*)"', field)
    return unescape(value.group(1)) or None if value else None


def test_the_move_button_opens_the_filled_transfer_and_saving_it_moves_the_stock(
    client_as, world
) -> None:
    # Calais East tonight: 40 blankets planned from Main, which holds 20; Grande-Synthe has 86.
    receive(world, "main", "blanket", 20)
    receive(world, "gs_store", "blanket", 86)
    tonight = (datetime.now(UTC) + timedelta(hours=6)).replace(microsecond=0)
    made = shortage_alert(world, distribution(world, tonight, blanket=40))

    coordinator = client_as("coordinator")
    page = coordinator.get("/alerts").get_data(as_text=True)
    text = card(page, made.id)
    assert text.startswith("Verrotières point (Calais) ·")
    assert "Main warehouse holds 20 of 40 Blanket (20 missing)" in text
    assert "Move 20 from Grande-Synthe store" in text
    (link,) = move_links(page)
    assert link.startswith("/transfer?")

    volunteer = client_as("warehouse")
    form = volunteer.get(link).get_data(as_text=True)
    assert value_of(form, "item") == "Blanket" and 'id="from-alert"' in form
    assert value_of(form, "quantity") == "20"
    assert selected(form, "from_site_id") == str(world.sites["gs_store"])
    assert selected(form, "to_site_id") == str(world.sites["main"])
    saved = volunteer.post(
        "/transfer",
        data={
            "item": value_of(form, "item"),
            "quantity": value_of(form, "quantity"),
            "from_site_id": selected(form, "from_site_id"),
            "to_site_id": selected(form, "to_site_id"),
            "request_token": form_token(form),
            "save": "Save",
        },
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)
    assert (held(world, "main", "blanket"), held(world, "gs_store", "blanket")) == (40, 66)
    assert coverage.distribution_shortages(world.org_id) == []


def test_a_link_with_another_organisations_ids_or_nonsense_fills_nothing(
    client_as, world, other_world
) -> None:
    theirs = {
        "item_id": other_world.items["blanket"],
        "from_site_id": other_world.sites["main"],
        "to_site_id": other_world.sites["gs_store"],
        "quantity": 7,
    }
    client = client_as("warehouse")
    response = client.get("/transfer", query_string=theirs)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert value_of(page, "item") is None
    # Their sites are ignored: the move starts from our main warehouse, going nowhere yet.
    assert selected(page, "from_site_id") == str(world.sites["main"])
    assert selected(page, "to_site_id") is None
    assert value_of(page, "quantity") == "7"  # a quantity is no one's secret
    assert "Paris Solidarity" not in page
    for nonsense in ("abc", "-4", "0", "99999999999", "1e3", " "):
        query = {name: nonsense for name in theirs}
        response = client.get("/transfer", query_string=query)
        assert response.status_code == 200, nonsense
        page = response.get_data(as_text=True)
        assert value_of(page, "item") is None and value_of(page, "quantity") is None, nonsense
    # A retired item is not offered either.
    catalogue.set_item_active(world.org_id, world.items["tarp"], False)
    db.session.commit()
    page = client.get(f"/transfer?item_id={world.items['tarp']}").get_data(as_text=True)
    assert value_of(page, "item") is None


def test_distributions_come_first_then_evictions_then_items_with_where_they_are_held(
    client_as, world
) -> None:
    receive(world, "main", "tent", 5)
    receive(world, "gs_store", "tent", 3)
    receive(world, "gs_store", "blanket", 30)
    tonight = (datetime.now(UTC) + timedelta(hours=6)).replace(microsecond=0)
    planned = distribution(world, tonight, blanket=12)
    tents = item_alert(world, "tent")  # opened first, listed last
    eviction = eviction_alert(world, shelters=40, tents_held=8)
    short = shortage_alert(world, planned)
    resolved = eviction_alert(world, shelters=3, tents_held=8)
    resolved.resolved_at = datetime.now(UTC)
    db.session.commit()

    coordinator = client_as("coordinator")
    page = coordinator.get("/alerts").get_data(as_text=True)
    open_part = page[: page.index("Resolved in the last")]
    ids = [int(i) for i in re.findall(r'id="alert-(\d+)"', open_part)]
    assert ids == [short.id, eviction.id, tents.id]

    assert "Main warehouse holds 0 of 12 Blanket" in card(page, short.id)
    assert "Move 12 from Grande-Synthe store" in card(page, short.id)
    text = card(page, eviction.id)
    assert "Eviction in Calais" in text and "40 shelters destroyed" in text
    assert "40 Tent (2-person) (8 held)" in text
    assert f'href="/incidents/{eviction.incident_id}"' in page
    text = card(page, tents.id)
    assert "Held at: Main warehouse 5, Grande-Synthe store 3" in text
    assert "below its minimum stock of 10" in text
    assert f'href="/needs#item-{world.items["tent"]}"' in page
    resolved_part = page[page.index("Resolved in the last") :]
    assert f'id="alert-{resolved.id}"' in resolved_part and "3 shelters destroyed" in resolved_part

    # A volunteer sees the same alerts, without the incident (coordinators only).
    page = client_as("warehouse").get("/alerts").get_data(as_text=True)
    assert "Eviction in Calais" in page and f'"/incidents/{eviction.incident_id}"' not in page
    assert "Move 12 from Grande-Synthe store" in page


def test_an_item_held_at_many_sites_names_the_three_that_hold_most(client_as, world) -> None:
    for extra in ("Dunkirk store", "Lille depot"):
        site = catalogue.save_site(world.org_id, {"name": extra, "kind": "warehouse", "area": "X"})
        db.session.commit()
        world.sites[extra] = site.id
    catalogue.save_item(
        world.org_id,
        {"name": "Shoes", "size": "42", "category": "clothing", "unit": "pair", "min_stock": 100},
        item_id=world.items["shoes42"],
    )
    for site, quantity in (("main", 4), ("gs_store", 9), ("Dunkirk store", 2), ("Lille depot", 1)):
        receive(world, site, "shoes42", quantity)
    shoes = item_alert(world, "shoes42")
    text = card(client_as("kitchen").get("/alerts").get_data(as_text=True), shoes.id)
    assert "Held at: Grande-Synthe store 9, Main warehouse 4, Dunkirk store 2, …" in text
    assert "Lille depot" not in text


def test_the_alerts_page_costs_the_same_statements_for_3_alerts_as_for_12(
    app, client_as, world
) -> None:
    client = client_as("coordinator")
    receive(world, "gs_store", "blanket", 1000)
    made: list[int] = []

    def add_alerts(count: int) -> None:
        """Open count alerts of each kind, each item alert on an item not yet alerted."""
        for _ in range(count):
            made.append(len(made) + 1)
            starts = (datetime.now(UTC) + timedelta(hours=2 + len(made))).replace(microsecond=0)
            planned = distribution(world, starts, blanket=5)
            figures = {
                "distribution_id": planned.id,
                "starts_at": starts.isoformat(),
                "site": "Verrotières point",
                "area": "Calais",
                "missing": 5,
                "lines": [],
            }
            alert(world, "distribution", f"distribution:{planned.id}", figures)
            eviction_alert(world, shelters=2, tents_held=0)
            item_alert(world, list(world.items)[len(made) - 1])

    def statements() -> int:
        with factories.counted_statements() as seen:
            assert client.get("/alerts").status_code == 200
        return len(seen)

    add_alerts(1)
    few = statements()
    add_alerts(3)
    assert statements() == few
    assert len(made) == 4


def test_open_and_resolved_alerts_come_a_page_at_a_time(client_as, world, monkeypatch) -> None:
    from logistics.views import needs as needs_views

    monkeypatch.setattr(needs_views, "OPEN_ALERTS_PAGE", 2)
    monkeypatch.setattr(needs_views, "RESOLVED_ALERTS_PAGE", 2)
    now = datetime.now(UTC)
    for n in range(3):  # oldest first within a kind and severity
        alert(
            world,
            "item",
            f"item:x{n}",
            {"label": f"Kit {n}"},
            severity="warning",
            opened_at=now - timedelta(hours=10 - n),
        )
    alert(world, "eviction", "eviction:1", {"area": "Calais", "lines": []}, severity="warning")
    for n in range(3):  # resolved newest first
        alert(
            world,
            "item",
            f"item:r{n}",
            {"label": f"Done {n}"},
            opened_at=now - timedelta(days=2),
            resolved_at=now - timedelta(hours=5 - n),
        )
    client = client_as("coordinator")

    def open_and_resolved(url: str) -> tuple[str, str]:
        page = unescape(client.get(url).get_data(as_text=True))
        return page[: page.index('id="resolved"')], page[page.index('id="resolved"') :]

    first, resolved = open_and_resolved("/alerts")
    # The eviction comes before items on the first page; 4 open in all, 2 shown.
    assert "Eviction in Calais" in first and "Kit 0" in first and "Kit 1" not in first
    assert "Open (4)" in re.sub(r"<[^>]+>", "", first)
    assert "/alerts?open_page=2" in first
    assert "Done 2" in resolved and "Done 1" in resolved and "Done 0" not in resolved
    assert "/alerts?resolved_page=2#resolved" in resolved
    second, older = open_and_resolved("/alerts?open_page=2&resolved_page=2")
    assert "Kit 1" in second and "Kit 2" in second and "Eviction" not in second
    assert "open_page=3" not in second
    assert "Done 0" in older and "Done 2" not in older and "resolved_page=3" not in older
