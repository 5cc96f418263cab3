"""A form's item list stays bounded at a 600-item catalogue; the search refills it as one types."""

from __future__ import annotations

import re

import factories
from conftest import World
from flask import render_template_string

from logistics.extensions import db
from logistics.services import catalogue, item_suggest

BIG = 600


def _big_catalogue(world: World) -> None:
    """Add 600 items besides the world's six; commit."""
    for n in range(BIG):
        factories.item(world.org_id, f"Kit {n:03d}", "hygiene", commit=False)
    db.session.commit()


def _options(html: str) -> list[str]:
    datalist = re.search(r'<datalist id="item-labels">(.*?)</datalist>', html, re.S)
    assert datalist, "no item list"
    return re.findall(r'<option value="([^"]*)"', datalist.group(1))


def test_a_small_catalogue_is_offered_whole(client_as, world) -> None:
    options = _options(client_as("warehouse").get("/receive").get_data(as_text=True))
    assert len(options) == 6 and "Tent (2-person)" in options


def test_a_big_catalogue_offers_its_most_moved_items_only(client_as, world) -> None:
    _big_catalogue(world)
    factories.receive(world, "main", "tent", 5)
    factories.receive(world, "main", "tent", 5)
    factories.receive(world, "main", "blanket", 5)
    client = client_as("warehouse")
    for url in ("/receive", "/transfer", "/loss", "/stocktake"):
        html = client.get(url).get_data(as_text=True)
        options = _options(html)
        assert len(options) == item_suggest.MAX_SUGGESTIONS, url
        # The moved ones, then the first by name to fill the list.
        assert {"Tent (2-person)", "Blanket", "Kit 000"} <= set(options)
        assert "Kit 599" not in options
        assert 'id="item-suggest" data-url="/items/suggest"' in html
    # What was not offered is still matched on submit, without JavaScript.
    receive = client.post(
        "/receive",
        data={
            "item": "kit 599",
            "quantity": 3,
            "site_id": world.sites["main"],
            "kind": "donation",
            "request_token": "kit-599",
            "save": "Save",
        },
    )
    assert receive.status_code == 302


def test_the_search_answers_what_is_typed_best_first(client_as, world) -> None:
    _big_catalogue(world)
    client = client_as("warehouse")
    found = client.get("/items/suggest?q=kit 59").get_json()["items"]
    labels = [row["label"] for row in found]
    assert labels == [f"Kit 59{n}" for n in range(10)]
    bags = client.get("/items/suggest?q=sleeping bags").get_json()["items"]
    assert bags[0] == {"label": "Sleeping bag", "also": ""}
    many = client.get("/items/suggest?q=kit").get_json()["items"]
    assert len(many) == item_suggest.MAX_SUGGESTIONS
    assert client.get("/items/suggest?q=zzz").get_json() == {"items": []}
    factories.receive(world, "main", "water", 5)
    assert client.get("/items/suggest?q=").get_json()["items"] == [
        {"label": "Drinking water", "also": ""}
    ]


def test_the_search_keeps_to_the_organisation_and_its_members(
    app, client_as, world, other_world
) -> None:
    factories.item(other_world.org_id, "Secret kit", "hygiene")
    assert client_as("warehouse").get("/items/suggest?q=secret").get_json() == {"items": []}
    assert app.test_client().get("/items/suggest?q=kit").status_code == 302  # to the login page


def test_the_search_follows_a_renamed_item_and_another_name(client_as, world) -> None:
    client = client_as("warehouse")
    assert client.get("/items/suggest?q=duvet").get_json() == {"items": []}
    catalogue.save_item(
        world.org_id,
        {"name": "Sleeping bag", "category": "bedding", "aliases": "duvet"},
        item_id=world.items["sleeping_bag"],
    )
    db.session.commit()
    assert client.get("/items/suggest?q=duvet").get_json()["items"] == [
        {"label": "Sleeping bag", "also": "duvet"}
    ]


def test_a_form_given_no_items_reads_its_bounded_list_alone(app, world) -> None:
    _big_catalogue(world)
    factories.receive(world, "main", "water", 5)
    offered = [item.label for item in item_suggest.offered(world.org_id)]
    assert len(offered) == item_suggest.MAX_SUGGESTIONS and "Drinking water" in offered
    assert offered == sorted(offered) and "Kit 599" not in offered
    gloves = factories.item(world.org_id, "Gloves", "clothing")
    catalogue.set_item_active(world.org_id, gloves.id, False)
    db.session.commit()
    assert "Gloves" not in [item.label for item in item_suggest.offered(world.org_id, 1000)]


def test_the_macro_given_nothing_lists_the_bounded_few(client_as, world) -> None:
    _big_catalogue(world)
    client = client_as("warehouse")
    with client:  # keeps the request (and its member) open to render in
        client.get("/receive")
        html = render_template_string(
            '{% from "_macros.html" import item_datalist %}{{ item_datalist() }}'
        )
    assert len(_options(html)) == item_suggest.MAX_SUGGESTIONS
