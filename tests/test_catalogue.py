"""Item and site pages: create, edit, retire, bring back; roles, privacy and isolation."""

from __future__ import annotations

import re
from decimal import Decimal

from conftest import ITEMS, SITES, form_token
from sqlalchemy import func, select

from logistics.extensions import db
from logistics.models import Item, Site


def fresh(model: type, object_id: int):
    """Return a row as the database has it now, not as this session remembers it."""
    db.session.expire_all()
    return db.session.get(model, object_id)


def rows(client, path: str) -> str:
    """Return the table body of a list page (flash messages also name things)."""
    html = client.get(path).get_data(as_text=True)
    return html[html.index("<tbody>") : html.index("</tbody>")]


def item_data(token: str, **overrides: str) -> dict[str, str]:
    data = {
        "request_token": token,
        "name": "Socks",
        "size": "M",
        "category": "clothing",
        "unit": "pair",
        "min_stock": "200",
        "cover_target_days": "7",
        "unit_value_eur": "1.50",
        "per_person_per_day": "",
        "save": "Save",
    }
    data.update(overrides)
    return data


def test_item_is_created_once_edited_retired_and_brought_back(client_as, world) -> None:
    client = client_as("coordinator")
    token = form_token(client.get("/items/new").get_data(as_text=True))
    first = client.post("/items/new", data=item_data(token))
    again = client.post("/items/new", data=item_data(token))  # a double click
    assert first.status_code == again.status_code == 302
    socks = db.session.scalars(select(Item).where(Item.name == "Socks")).all()
    assert len(socks) == 1
    item_id = socks[0].id
    assert (socks[0].category, socks[0].min_stock) == ("clothing", 200)
    assert socks[0].unit_value_eur == Decimal("1.50")
    clothing = rows(client, "/items?category=clothing")
    assert "Socks (M)" in clothing and "Shoes (42)" in clothing and "Blanket" not in clothing

    page = client.get(f"/items/{item_id}/edit").get_data(as_text=True)
    assert 'value="200"' in page
    edit = item_data(form_token(page), min_stock="350", per_person_per_day="0.5")
    assert client.post(f"/items/{item_id}/edit", data=edit).status_code == 302
    assert fresh(Item, item_id).min_stock == 350
    assert fresh(Item, item_id).per_person_per_day == Decimal("0.5")

    assert client.post(f"/items/{item_id}/retire").status_code == 303
    assert fresh(Item, item_id).active is False
    assert "Socks (M)" not in rows(client, "/items")
    assert "Socks (M)" in rows(client, "/items?retired=1")
    assert client.post(f"/items/{item_id}/restore").status_code == 303
    assert fresh(Item, item_id).active is True

    # The next size starts from this item, with the size left empty.
    large = item_data(token + "-l", size="L", save_and_add="Save and add another size")
    del large["save"]
    response = client.post("/items/new", data=large)
    assert response.status_code == 302 and "like=" in response.location
    page = client.get(response.location).get_data(as_text=True)
    assert re.search(r'<input[^>]*name="name"[^>]*value="Socks"', page)
    assert re.search(r'<input[^>]*name="size"[^>]*value=""', page)


def test_duplicate_item_and_bad_numbers_are_explained_beside_the_fields(client_as, world) -> None:
    client = client_as("admin")
    token = form_token(client.get("/items/new").get_data(as_text=True))
    duplicate = client.post("/items/new", data=item_data(token, name="Shoes", size="42"))
    html = duplicate.get_data(as_text=True)
    assert duplicate.status_code == 200
    assert "There is already an item called Shoes in size 42." in html
    assert "already exists" in html

    for bad in ("lots", "-3", "99999999999999999999"):
        response = client.post("/items/new", data=item_data(token, min_stock=bad))
        assert response.status_code == 200, bad
        assert 'class="error"' in response.get_data(as_text=True), bad
    nan = client.post("/items/new", data=item_data(token, unit_value_eur="NaN"))
    assert nan.status_code == 200 and 'class="error"' in nan.get_data(as_text=True)
    count = db.session.scalar(select(func.count()).select_from(Item).where(Item.name == "Socks"))
    assert count == 0


def test_site_is_created_edited_retired_and_brought_back(client_as, world) -> None:
    client = client_as("admin")
    token = form_token(client.get("/sites/new").get_data(as_text=True))
    data = {
        "request_token": token,
        "name": "Dunkirk kitchen",
        "kind": "kitchen",
        "area": "Grande-Synthe",
        "details": "Behind the old swimming pool",
    }
    assert client.post("/sites/new", data=data).status_code == 302
    assert client.post("/sites/new", data=data).status_code == 302  # resubmitted
    sites = db.session.scalars(select(Site).where(Site.name == "Dunkirk kitchen")).all()
    assert len(sites) == 1
    site_id = sites[0].id
    assert sites[0].details == "Behind the old swimming pool"

    page = client.get(f"/sites/{site_id}/edit").get_data(as_text=True)
    edited = {**data, "request_token": form_token(page), "area": "Dunkirk"}
    assert client.post(f"/sites/{site_id}/edit", data=edited).status_code == 302
    assert fresh(Site, site_id).area == "Dunkirk"

    assert client.post(f"/sites/{site_id}/retire").status_code == 303
    assert fresh(Site, site_id).active is False
    assert "Dunkirk kitchen" not in rows(client, "/sites")
    assert "Dunkirk kitchen" in rows(client, "/sites?retired=1")
    assert client.post(f"/sites/{site_id}/restore").status_code == 303
    assert fresh(Site, site_id).active is True


def test_only_coordinators_and_admins_see_where_sites_are(client_as, world) -> None:
    details = SITES["main"][3]
    coordinator = client_as("coordinator").get("/sites").get_data(as_text=True)
    assert details in coordinator
    for role in ("donor", "warehouse", "kitchen"):
        client = client_as(role)
        for path in ("/sites", "/sites?retired=1"):
            response = client.get(path)
            html = response.get_data(as_text=True)
            assert response.status_code == 200
            assert "Main warehouse" in html and "Calais" in html
            assert details not in html, (role, path)


def test_donor_and_warehouse_may_not_change_the_catalogue(client_as, world) -> None:
    item_id, site_id = world.items["blanket"], world.sites["main"]
    for role in ("donor", "warehouse"):
        client = client_as(role)
        assert client.get("/items").status_code == 200
        new_item = client.post("/items/new", data=item_data("t-" + role))
        new_site = client.post(
            "/sites/new", data={"name": "Hut", "kind": "warehouse", "area": "Calais"}
        )
        assert (new_item.status_code, new_site.status_code) == (403, 403), role
        assert client.post(f"/items/{item_id}/retire").status_code == 403
        assert client.post(f"/sites/{site_id}/edit", data={"name": "X"}).status_code == 403
    assert db.session.scalar(select(Item).where(Item.name == "Socks")) is None
    assert db.session.scalar(select(Site).where(Site.name == "Hut")) is None
    assert fresh(Item, item_id).active is True


def test_another_organisations_items_and_sites_are_not_found(client_as, world, other_world) -> None:
    client = client_as("admin")
    item_id, site_id = other_world.items["blanket"], other_world.sites["main"]
    for path in (f"/items/{item_id}/edit", f"/sites/{site_id}/edit"):
        assert client.get(path).status_code == 404, path
    edit_item = item_data("x1", name="Stolen")
    assert client.post(f"/items/{item_id}/edit", data=edit_item).status_code == 404
    edit_site = {"request_token": "x2", "name": "Stolen", "kind": "warehouse", "area": "Calais"}
    assert client.post(f"/sites/{site_id}/edit", data=edit_site).status_code == 404
    for path in (
        f"/items/{item_id}/retire",
        f"/items/{item_id}/restore",
        f"/sites/{site_id}/retire",
        f"/sites/{site_id}/restore",
    ):
        assert client.post(path).status_code == 404, path
    item, site = fresh(Item, item_id), fresh(Site, site_id)
    assert (item.name, item.active) == ("Blanket", True)
    assert (site.name, site.active) == ("Main warehouse", True)


def test_items_page_a_hundred_at_a_time_within_a_category(client_as, world) -> None:
    for n in range(230):
        category = "hygiene" if n % 2 else "clothing"
        db.session.add(
            Item(organisation_id=world.org_id, name=f"Kit {n:03d}", category=category, unit="piece")
        )
    db.session.commit()
    client = client_as("coordinator")
    everything = sorted(
        [f"Kit {n:03d}" for n in range(230)] + [name for name, *_ in ITEMS.values()]
    )
    seen, path = [], "/items"
    while path:
        html = client.get(path).get_data(as_text=True)
        body = html[html.index("<tbody>") : html.index("</tbody>")]
        names = re.findall(r"<td>([^<]+?) <span class=\"muted\">", body)
        assert len(names) <= 100
        seen += [name.split(" (")[0] for name in names]
        more = re.search(r'href="([^"]+)" rel="next"', html)
        path = more.group(1).replace("&amp;", "&") if more else None
    assert seen == everything  # 236 items over three pages, none twice, in the list's order
    first = client.get("/items?category=hygiene").get_data(as_text=True)
    assert first.count("Kit ") == 100 and "Blanket" not in first
    more = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    assert "category=hygiene" in more
    second = client.get(more).get_data(as_text=True)
    assert second.count("Kit ") == 15 and 'rel="next"' not in second
    assert "Previous items" in second


def test_sites_page_a_hundred_at_a_time(client_as, world) -> None:
    for n in range(101):
        db.session.add(
            Site(
                organisation_id=world.org_id, name=f"Point {n:03d}", kind="warehouse", area="Calais"
            )
        )
    db.session.commit()
    client = client_as("coordinator")
    first = client.get("/sites").get_data(as_text=True)
    more = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    second = client.get(more).get_data(as_text=True)
    assert first.count("Point ") + second.count("Point ") == 101
    # 105 sites by name: the last five (Point 097 to 100, Verrotières point) on the second page.
    assert second.count("Point ") == 4 and "Verrotières point" in second
    assert "Verrotières point" not in first and "Previous sites" in second
