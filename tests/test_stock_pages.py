"""The stock pages as a warehouse volunteer uses them on a phone."""

from __future__ import annotations

import re

import factories
from conftest import form_token

from logistics.extensions import db
from logistics.services import ledger, overview


def _receive(client, world, item="Sleeping bag", quantity=40, token=None, **extra):
    data = {
        "item": item,
        "quantity": quantity,
        "site_id": world.sites["main"],
        "kind": "donation",
        "source": "Secours paroissial",
        "request_token": token or form_token(client.get("/receive").get_data(as_text=True)),
        "save": "Save",
        **extra,
    }
    return client.post("/receive", data=data)


def _row(html: str, label: str) -> str:
    match = re.search(rf"<tr[^>]*>\s*<td><a[^>]*>{re.escape(label)}</a>.*?</tr>", html, re.S)
    assert match, f"no row for {label}"
    return match.group(0)


def test_receive_then_transfer_moves_both_sites(client_as, world):
    client = client_as("warehouse")
    assert _receive(client, world).status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "Recorded 40 Sleeping bag received at Main warehouse." in page
    response = client.post(
        "/transfer",
        data={
            "item": "Sleeping bag",
            "quantity": 20,
            "from_site_id": world.sites["main"],
            "to_site_id": world.sites["gs_store"],
            "request_token": "move-1",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert ledger.held(world.sites["main"], world.items["sleeping_bag"]) == 20
    assert ledger.held(world.sites["gs_store"], world.items["sleeping_bag"]) == 20


def test_resubmitting_the_same_form_records_once(client_as, world):
    client = client_as("warehouse")
    token = form_token(client.get("/receive").get_data(as_text=True))
    _receive(client, world, token=token)
    _receive(client, world, token=token)
    assert "Already recorded at " in client.get("/").get_data(as_text=True)
    assert ledger.held(world.sites["main"], world.items["sleeping_bag"]) == 40


def test_save_and_add_another_keeps_the_site_and_gives_a_fresh_form(client_as, world):
    client = client_as("warehouse")
    response = _receive(
        client, world, site_id=world.sites["gs_store"], save=None, save_and_add="Save and add"
    )
    assert response.headers["Location"].endswith("/receive")
    page = client.get("/receive").get_data(as_text=True)
    assert f'value="{world.sites["gs_store"]}" checked>' in page
    assert "Recorded 40 Sleeping bag received at Grande-Synthe store." in page


def test_unknown_item_and_short_stock_get_clear_messages(client_as, world):
    client = client_as("warehouse")
    page = _receive(client, world, item="Sleeping bags XXL").get_data(as_text=True)
    assert "No item called Sleeping bags XXL. Pick one from the list." in page
    response = client.post(
        "/loss",
        data={
            "item": "Blanket",
            "quantity": 3,
            "site_id": world.sites["main"],
            "reason": "damp",
            "request_token": "loss-1",
        },
    )
    assert response.status_code == 200
    assert "Only 0 Blanket at Main warehouse; cannot write off 3." in response.get_data(
        as_text=True
    )


def test_bad_numbers_get_field_errors_not_a_500(client_as, world):
    client = client_as("warehouse")
    for quantity in ("twelve", "-4", "", "1e9"):
        response = _receive(client, world, quantity=quantity)
        assert response.status_code == 200
        assert 'class="error"' in response.get_data(as_text=True)
    assert ledger.held(world.sites["main"], world.items["sleeping_bag"]) == 0


def test_stocktake_corrects_to_the_count(client_as, world):
    client = client_as("warehouse")
    _receive(client, world, item="Shoes (42)", quantity=12)
    client.post(
        "/stocktake",
        data={
            "item": "shoes (42)",
            "counted": 9,
            "site_id": world.sites["main"],
            "reason": "Stocktake",
            "request_token": "count-1",
        },
    )
    assert "Counted 9 Shoes (42): corrected by -3." in client.get("/").get_data(as_text=True)
    assert ledger.held(world.sites["main"], world.items["shoes42"]) == 9


def test_overview_highlights_items_under_minimum_and_filters(client_as, world):
    client = client_as("donor")
    ledger.receive(
        world.org_id, None, site_id=world.sites["main"], item_id=world.items["tent"], quantity=50
    )
    ledger.receive(
        world.org_id, None, site_id=world.sites["main"], item_id=world.items["blanket"], quantity=4
    )
    db.session.commit()
    page = client.get("/?category=bedding").get_data(as_text=True)
    assert 'class="low"' in _row_for(page, "Blanket")
    shelter_only = client.get("/?category=shelter").get_data(as_text=True)
    assert 'class="low"' not in _row_for(shelter_only, "Tent (2-person)")
    assert "Tent (2-person)" in shelter_only and "Blanket" not in shelter_only
    assert "Unit 4" not in page  # site details never reach a donor


def _row_for(html: str, label: str) -> str:
    match = re.search(rf"<tr[^>]*>\s*<td>(?:<a[^>]*>)?{re.escape(label)}.*?</tr>", html, re.S)
    assert match, f"no row for {label}"
    return match.group(0)


def test_item_history_shows_running_balance_and_reverse(client_as, world):
    client = client_as("warehouse")
    _receive(client, world, quantity=40)
    _receive(client, world, quantity=10)
    movement_id = 2
    page = client.get(f"/items/{world.items['sleeping_bag']}/history").get_data(as_text=True)
    balances = re.findall(r'<td class="num">(\d+)</td>\s*<td>Secours', page)
    assert balances == ["50", "40"]
    response = client.post(
        f"/movements/{movement_id}/reverse", data={"reason": "Counted twice", "request_token": "r1"}
    )
    assert response.status_code == 302
    assert ledger.held(world.sites["main"], world.items["sleeping_bag"]) == 40
    again = client.get(f"/movements/{movement_id}/reverse").get_data(as_text=True)
    assert "already been reversed" in again


def test_another_organisations_ids_are_404(client_as, world, other_world):
    theirs = ledger.receive(
        other_world.org_id,
        None,
        site_id=other_world.sites["main"],
        item_id=other_world.items["blanket"],
        quantity=3,
    )
    db.session.commit()
    client = client_as("admin")
    for url in (
        f"/items/{other_world.items['blanket']}/history",
        f"/items/{world.items['blanket']}/history?site_id={other_world.sites['main']}",
        f"/movements/{theirs.id}/reverse",
    ):
        assert client.get(url).status_code == 404, url
    response = client.post(
        f"/movements/{theirs.id}/reverse", data={"reason": "x", "request_token": "z"}
    )
    assert response.status_code == 404
    # Posting their site id into our form is refused too, and nothing moves.
    _receive(client, world, site_id=other_world.sites["main"])
    assert ledger.held(other_world.sites["main"], other_world.items["sleeping_bag"]) == 0


def test_overview_shows_points_only_when_they_hold_stock(client_as, world):
    client = client_as("warehouse")
    assert "Verrotières point</th>" not in client.get("/?category=shelter").get_data(as_text=True)
    ledger.receive(
        world.org_id, None, site_id=world.sites["main"], item_id=world.items["tent"], quantity=5
    )
    ledger.transfer(
        world.org_id,
        None,
        from_site_id=world.sites["main"],
        to_site_id=world.sites["point"],
        item_id=world.items["tent"],
        quantity=2,
    )
    db.session.commit()
    page = client.get("/?category=shelter").get_data(as_text=True)
    assert "Verrotières point</th>" in page
    # Stock at a point is held like any other: Main 3 + point 2, under the minimum of 10.
    cells = re.findall(r'<td class="num">(\d+)</td>', _row_for(page, "Tent (2-person)"))
    assert cells[-2:] == ["5", "10"] and "2" in cells


def _nav_links(html: str, name: str) -> list[str]:
    nav = re.search(rf'<nav class="actions" aria-label="{name}">(.*?)</nav>', html, re.S)
    assert nav, f"no {name} row"
    return re.findall(r'href="([^"]+)"', nav.group(1))


def test_overview_opens_on_one_category_with_the_others_one_tap_away(client_as, world):
    factories.receive(world, "main", "blanket", 4)  # held, under its minimum of 10
    factories.receive(world, "main", "tent", 50)
    client = client_as("warehouse")
    page = client.get("/").get_data(as_text=True)
    # The first category running low opens: bedding, not shelter (whose tents are plenty).
    assert "Blanket" in page and "Tent (2-person)" not in page
    assert 'aria-current="page" class="badge">Bedding<' in page
    categories = _nav_links(page, "Category")
    assert "/?category=shelter" in categories and "/?category=bedding" not in categories
    assert f"/?site_id={world.sites['gs_store']}" in _nav_links(page, "Site")
    shelter = client.get("/?category=shelter").get_data(as_text=True)
    assert "Tent (2-person)" in shelter and "Blanket" not in shelter


def test_overview_remembers_the_last_choice(client_as, world):
    factories.receive(world, "main", "water", 30)
    factories.receive(world, "gs_store", "shoes42", 16)
    client = client_as("warehouse")
    assert "Drinking water" in client.get("/").get_data(as_text=True)  # the one held category
    client.get(f"/?site_id={world.sites['gs_store']}")
    page = client.get("/").get_data(as_text=True)
    # The store alone, listing what it holds: its shoes, not the main warehouse's water.
    assert "Grande-Synthe store</th>" in page and "Main warehouse</th>" not in page
    assert "Shoes (42)" in page and "Drinking water" not in page
    client.get("/?category=shelter")
    assert "Tarpaulin (4x6 m)" in client.get("/").get_data(as_text=True)
    # Another member opens on their own first visit's choice.
    assert "Drinking water" in client_as("coordinator").get("/").get_data(as_text=True)


def test_overview_pages_a_long_category(client_as, world):
    for n in range(overview.PAGE_SIZE + 5):
        factories.item(world.org_id, f"Kit {n:03d}", "hygiene", commit=False)
    db.session.commit()
    client = client_as("warehouse")
    first = client.get("/?category=hygiene").get_data(as_text=True)
    assert first.count('<tr class="') == overview.PAGE_SIZE
    assert "Kit 000" in first and f"Kit {overview.PAGE_SIZE:03d}" not in first
    assert "/?category=hygiene&amp;page=2" in first
    second = client.get("/?category=hygiene&page=2").get_data(as_text=True)
    assert second.count('<tr class="') == 5 and f"Kit {overview.PAGE_SIZE + 4:03d}" in second
    assert "page=3" not in second and "/?category=hygiene&amp;page=1" in second
