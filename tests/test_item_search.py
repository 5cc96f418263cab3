"""Finding an item as a volunteer types it: forgiving matching, other names, offered choices."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from html import unescape

import pytest
from conftest import form_token
from factories import assert_error, held, item, receive
from sqlalchemy import event, select

from logistics.extensions import db
from logistics.models import IncidentLine, Item
from logistics.services import catalogue, distributions, item_search, ledger
from logistics.services.errors import ValidationError
from logistics.services.item_search import NoSuchItem, SeveralItems


def found(world, typed: str) -> str:
    """Return the label of the item found for what was typed."""
    return catalogue.find_item(world.org_id, typed).label


def refusal(world, typed: str):
    """Return the refusal for what was typed, which must name no single item."""
    with pytest.raises(item_search.UnclearItem) as caught:
        catalogue.find_item(world.org_id, typed)
    return caught.value


def add_tents(world) -> None:
    """Give the world a second tent and a tent peg beside its Tent (2-person)."""
    item(world.org_id, "Tent", "shelter", size="4-person")
    item(world.org_id, "Tent peg", "shelter")


# --- the matching itself ------------------------------------------------------------------------


@pytest.mark.postgres
def test_case_spacing_and_punctuation_are_ignored(world) -> None:
    assert found(world, "  SLEEPING   bag. ") == "Sleeping bag"
    assert found(world, "shoes-42") == "Shoes (42)"
    assert found(world, "Tent, 2 person") == "Tent (2-person)"


@pytest.mark.postgres
def test_accents_are_ignored_both_ways(world) -> None:
    item(world.org_id, "Bâche", "shelter")
    item(world.org_id, "Couverture", "bedding")
    item(world.org_id, "Œuf", "food")

    assert found(world, "bache") == "Bâche"
    assert found(world, "BACHE") == "Bâche"
    assert found(world, "couvérture") == "Couverture"
    assert found(world, "oeuf") == "Œuf"


@pytest.mark.postgres
def test_english_and_french_plurals_find_the_singular(world) -> None:
    item(world.org_id, "Couverture", "bedding")
    item(world.org_id, "Manteau", "clothing", size="L")
    item(world.org_id, "Battery", "other", size="AA")

    assert found(world, "sleeping bags") == "Sleeping bag"
    assert found(world, "Blankets") == "Blanket"
    assert found(world, "couvertures") == "Couverture"
    assert found(world, "manteaux") == "Manteau (L)"
    assert found(world, "batteries") == "Battery (AA)"
    # A short word keeps its s: "gas" is no plural of "ga".
    assert item_search.word_forms("gas") == {"gas"}


@pytest.mark.postgres
def test_words_match_anywhere_in_the_name_and_size(world) -> None:
    assert found(world, "water") == "Drinking water"
    assert found(world, "bag") == "Sleeping bag"
    assert found(world, "42") == "Shoes (42)"
    assert found(world, "sleep") == "Sleeping bag"  # the start of a word is enough


@pytest.mark.postgres
def test_other_names_find_their_item(world) -> None:
    item(world.org_id, "Survival blanket", "bedding", aliases="foil\ncouverture de survie")

    assert found(world, "foil") == "Survival blanket"
    assert found(world, "couvertures de survie") == "Survival blanket"


@pytest.mark.postgres
def test_an_exact_label_always_wins(world) -> None:
    # "blanket" is a word of both, and the other name of the survival blanket.
    item(world.org_id, "Survival blanket", "bedding", aliases="blanket")
    item(world.org_id, "Tent", "shelter")

    assert found(world, "blanket") == "Blanket"
    assert found(world, "TENT") == "Tent"  # not Tent (2-person)


@pytest.mark.postgres
def test_several_matches_are_offered_best_first(world) -> None:
    add_tents(world)

    several = refusal(world, "tent")

    assert isinstance(several, SeveralItems)
    assert several.choices == ["Tent (2-person)", "Tent (4-person)", "Tent peg"]
    assert several.message == 'Several items match "tent": choose one.'


@pytest.mark.postgres
def test_at_most_eight_choices_are_offered(world) -> None:
    for size in range(30, 42):  # and the world's 42
        item(world.org_id, "Shoes", "clothing", size=str(size), commit=False)
    db.session.commit()

    assert len(refusal(world, "shoes").choices) == item_search.MAX_CHOICES


@pytest.mark.postgres
def test_no_match_offers_the_items_sharing_a_word(world) -> None:
    add_tents(world)

    nothing = refusal(world, "cooking pot")
    near = refusal(world, "blue tent")

    assert isinstance(nothing, NoSuchItem) and nothing.choices == []
    assert nothing.message == "No item called cooking pot. Pick one from the list."
    assert isinstance(near, NoSuchItem)
    assert near.choices == ["Tent (2-person)", "Tent (4-person)", "Tent peg"]


@pytest.mark.postgres
def test_retired_items_are_never_matched(world) -> None:
    catalogue.save_item(
        world.org_id,
        {"name": "Blanket", "category": "bedding", "aliases": "plaid"},
        world.items["blanket"],
    )
    catalogue.set_item_active(world.org_id, world.items["blanket"], False)
    db.session.commit()

    for typed in ("Blanket", "blankets", "plaid"):
        assert isinstance(refusal(world, typed), NoSuchItem), typed
    assert "Blanket" not in refusal(world, "wool blanket").choices


@pytest.mark.postgres
def test_another_organisations_items_are_never_matched(world, other_world) -> None:
    item(other_world.org_id, "Bâche", "shelter")

    assert isinstance(refusal(world, "bache"), NoSuchItem)


@pytest.mark.postgres
def test_one_read_of_the_catalogue_serves_every_search(world) -> None:
    statements: list[str] = []

    def count(*args) -> None:
        if args[2].lstrip().upper().startswith("SELECT"):
            statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        index = catalogue.item_index(world.org_id)
        for typed in ("sleeping bags", "water", "shoes 42", "bag", "tent"):
            catalogue.find_item(world.org_id, typed, index)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)

    assert len(statements) == 1


# --- other names on the item ---------------------------------------------------------------------


@pytest.mark.postgres
def test_other_names_are_trimmed_and_kept_once(world) -> None:
    saved = catalogue.save_item(
        world.org_id,
        {
            "name": "Sleeping bag",
            "category": "bedding",
            "aliases": " duvet \n\nDuvet\n sac  de  couchage ",
        },
        world.items["sleeping_bag"],
    )
    db.session.commit()

    assert saved.aliases == "duvet\nsac de couchage"
    assert catalogue.aliases_of(saved) == ["duvet", "sac de couchage"]
    # Saving without them (a script that sets one field) keeps them.
    catalogue.save_item(
        world.org_id,
        {"name": "Sleeping bag", "category": "bedding", "min_stock": 5},
        saved.id,
    )
    assert db.session.get(Item, saved.id).aliases == "duvet\nsac de couchage"


@pytest.mark.parametrize(
    ("aliases", "problem"),
    [
        ("x" * 61, "at most 60 characters each"),
        ("\n".join(f"name {n}" for n in range(21)), "at most 20 other names"),
    ],
)
def test_too_long_or_too_many_other_names_are_refused(world, aliases, problem) -> None:
    with pytest.raises(ValidationError) as caught:
        catalogue.save_item(
            world.org_id,
            {"name": "Sleeping bag", "category": "bedding", "aliases": aliases},
            world.items["sleeping_bag"],
        )

    assert problem in caught.value.fields["aliases"]


# --- the pages --------------------------------------------------------------------------------


def receive_form(client, world, typed: str, **extra: str):
    data = {
        "item": typed,
        "quantity": "7",
        "site_id": str(world.sites["main"]),
        "kind": "donation",
        "source": "Secours paroissial",
        "request_token": form_token(client.get("/receive").get_data(as_text=True)),
        "save": "Save",
        **extra,
    }
    return data, client.post("/receive", data=data)


def choices_offered(page: str, name: str) -> list[str]:
    """Return the values of the radio buttons offered under a name, in page order."""
    return [
        unescape(value)
        for value in re.findall(rf'<input type="radio" name="{name}" value="([^"]*)"', page)
    ]


def test_receiving_sleeping_bags_records_sleeping_bag(client_as, world) -> None:
    client = client_as("warehouse")

    data, response = receive_form(client, world, "sleeping bags")

    assert response.status_code == 302
    assert held(world, "main", "sleeping_bag") == 7
    page = client.get("/").get_data(as_text=True)
    assert "Recorded 7 Sleeping bag received at Main warehouse." in page


def test_an_ambiguous_item_offers_the_choices_and_keeps_the_rest(client_as, world) -> None:
    add_tents(world)
    client = client_as("warehouse")

    data, response = receive_form(client, world, "tent")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Several items match &#34;tent&#34;: choose one." in page
    assert choices_offered(page, "pick-item") == ["Tent (2-person)", "Tent (4-person)", "Tent peg"]
    assert re.search(r'name="quantity"[^>]*value="7"', page)
    assert 'value="Secours paroissial"' in page
    assert held(world, "main", "tent") == 0

    # Tapping one sends the same form again, with the same request token.
    response = client.post("/receive", data={**data, "pick-item": "Tent (4-person)"})

    assert response.status_code == 302
    four = db.session.scalar(select(Item.id).where(Item.name == "Tent", Item.size == "4-person"))
    assert ledger.held(world.sites["main"], four) == 7  # the tent tapped, the quantity typed
    assert held(world, "main", "tent") == 0


def test_no_match_names_what_was_typed_and_offers_near_items(client_as, world) -> None:
    client = client_as("warehouse")

    _, response = receive_form(client, world, "blue tent")

    page = response.get_data(as_text=True)
    assert "No item called blue tent. Pick one from the list." in page
    assert "Did you mean one of these?" in page
    assert choices_offered(page, "pick-item") == ["Tent (2-person)"]


def test_every_unclear_line_is_offered_at_once_and_a_pick_records_it(client_as, world) -> None:
    add_tents(world)
    receive(world, "gs_store", "blanket", 40)
    client = client_as("coordinator")
    local_morning = datetime.now(distributions.organisation_zone(world.org_id)) - timedelta(hours=2)
    line = {"action": "slashed", "origin": "after_distribution", "site_id": "0"}
    data = {
        "occurred_at": local_morning.strftime("%Y-%m-%dT%H:%M"),
        "kind": "eviction",
        "area": "Calais",
        "site_id": "0",
        "bailiff_present": "yes",
        "interpreter_present": "no",
        "legal_basis_shown": "no",
        "shelter_offered": "unknown",
        "people_affected": "40",
        "shelters_affected": "12",
        "description": "Eviction at dawn.",
        **{f"lines-0-{k}": v for k, v in line.items()},
        **{f"lines-1-{k}": v for k, v in line.items()},
        **{f"lines-2-{k}": v for k, v in line.items()},
        "lines-0-item": "sleeping bags",
        "lines-0-quantity": "20",
        "lines-1-item": "tents",
        "lines-1-quantity": "12",
        "lines-2-item": "blue blankets",
        "lines-2-quantity": "5",
        "request_token": "incident-tents",
    }

    page = client.post("/incidents/new", data=data).get_data(as_text=True)

    assert "Line 2: Several items match &#34;tents&#34;: choose one." in page
    assert "Line 3: No item called blue blankets. Pick one from the list." in page
    assert choices_offered(page, "pick-lines-1-item")[:2] == ["Tent (2-person)", "Tent (4-person)"]
    assert choices_offered(page, "pick-lines-2-item") == ["Blanket"]
    # The line that was clear shows the item found.
    assert re.search(r'name="lines-0-item"[^>]*value="Sleeping bag"', page)
    assert re.search(r'name="lines-1-quantity"[^>]*value="12"', page)

    response = client.post(
        "/incidents/new",
        data={**data, "pick-lines-1-item": "Tent (4-person)", "pick-lines-2-item": "Blanket"},
    )

    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.rollback()
    recorded = {
        (line.item.label, line.quantity) for line in db.session.scalars(select(IncidentLine))
    }
    assert recorded == {("Sleeping bag", 20), ("Tent (4-person)", 12), ("Blanket", 5)}


def test_the_item_page_edits_other_names_and_forms_offer_them(client_as, world) -> None:
    client = client_as("coordinator")
    url = f"/items/{world.items['sleeping_bag']}/edit"
    page = client.get(url).get_data(as_text=True)
    assert "Other names people use, one per line" in page

    response = client.post(
        url,
        data={
            "request_token": form_token(page),
            "name": "Sleeping bag",
            "category": "bedding",
            "unit": "piece",
            "aliases": "duvet\r\nsac de couchage\r\n",
            "save": "Save",
        },
    )

    assert response.status_code == 302
    assert "duvet\nsac de couchage" in client.get(url).get_data(as_text=True)
    assert "also: duvet, sac de couchage" in client.get("/items").get_data(as_text=True)
    receive_page = client.get("/receive").get_data(as_text=True)
    assert '<option value="Sleeping bag" label="duvet, sac de couchage">' in receive_page
    assert receive_page.count('<datalist id="item-labels">') == 1


@pytest.mark.parametrize(
    ("aliases", "problem", "kept"),
    [
        (
            "duvet\n" + "x" * 61,
            "at most 60 characters each (&#34;" + "x" * 20 + "…&#34;",
            "duvet",
        ),
        ("\n".join(f"name {n}" for n in range(21)), "at most 20 other names", "name 20"),
    ],
)
def test_the_item_page_refuses_too_long_or_too_many_names(
    client_as, world, aliases, problem, kept
) -> None:
    client = client_as("coordinator")
    url = f"/items/{world.items['sleeping_bag']}/edit"
    page = client.get(url).get_data(as_text=True)

    response = client.post(
        url,
        data={
            "request_token": form_token(page),
            "name": "Sleeping bag",
            "category": "bedding",
            "unit": "piece",
            "aliases": aliases,
            "save": "Save",
        },
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert problem in page
    assert kept in page  # what was typed is kept, to be shortened
    db.session.rollback()
    assert db.session.get(Item, world.items["sleeping_bag"]).aliases == ""


# --- the API ----------------------------------------------------------------------------------


def test_the_api_writes_and_lists_other_names(api, world) -> None:
    coordinator = api("coordinator")

    response = coordinator.post(
        "/items",
        {"name": "Bâche", "category": "shelter", "aliases": [" tarp ", "Tarp", "bache bleue"]},
    )

    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["aliases"] == ["tarp", "bache bleue"]
    listed = {i["label"]: i["aliases"] for i in api("warehouse").get("/items").get_json()["items"]}
    assert listed["Bâche"] == ["tarp", "bache bleue"]
    assert listed["Blanket"] == []
    none = coordinator.post("/items", {"name": "Soap", "category": "hygiene", "aliases": None})
    assert none.status_code == 201 and none.get_json()["aliases"] == []
    assert found(world, "tarp") == "Bâche"


def test_the_api_refuses_a_bad_list_of_other_names(api, world) -> None:
    coordinator = api("coordinator")
    soap = {"name": "Soap", "category": "hygiene"}

    assert_error(coordinator.post("/items", {**soap, "aliases": "savon"}), 400, "bad_request")
    assert_error(coordinator.post("/items", {**soap, "aliases": [3]}), 400, "bad_request")
    assert_error(
        coordinator.post("/items", {**soap, "aliases": [f"n{n}" for n in range(21)]}),
        422,
        "invalid",
        "aliases",
    )
    assert_error(coordinator.post("/items", {**soap, "aliases": ["x" * 61]}), 422, "invalid")
    assert "Soap" not in {i["name"] for i in coordinator.get("/items").get_json()["items"]}
