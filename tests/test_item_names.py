"""Items in both languages: a French name is written, found when typed, shown to French readers."""

from __future__ import annotations

import pytest
from conftest import form_token, login
from factories import assert_error, held, item
from flask_babel import force_locale, refresh

from logistics.demo import DEMO_PASSWORD, demo_logins
from logistics.demo.data import CATALOGUE, NAMES_FR
from logistics.extensions import db
from logistics.models import Item, User
from logistics.services import accounts, catalogue
from logistics.services.errors import Conflict, ValidationError


def name_in_french(world, key: str, name_fr: str) -> None:
    """Give an item of the world its French name; commit."""
    catalogue.edit_item(world.org_id, world.items[key], {"name_fr": name_fr})
    db.session.commit()


def reads_french(world, role: str) -> None:
    """Make a member of the world read in French, whatever the organisation's language; commit."""
    db.session.get(User, world.users[role]).locale = "fr"
    db.session.commit()


def page(client, url: str) -> str:
    """Return a page as its reader sees it, in their language."""
    # The tests hold one app context open, where Flask-Babel keeps the last request's locale.
    refresh()
    return client.get(url).get_data(as_text=True)


def receive_typed(client, world, typed: str):
    """Post the Receive form with an item as typed; return the answer."""
    token = form_token(client.get("/receive").get_data(as_text=True))
    data = {
        "item": typed,
        "quantity": "7",
        "site_id": str(world.sites["main"]),
        "kind": "donation",
        "source": "Secours paroissial",
        "request_token": token,
        "save": "Save",
    }
    return client.post("/receive", data=data)


# --- the service ------------------------------------------------------------------------------


@pytest.mark.postgres
def test_the_french_name_is_trimmed_kept_and_shown_to_french_readers(world) -> None:
    name_in_french(world, "sleeping_bag", "  Duvet   chaud ")

    bag = db.session.get(Item, world.items["sleeping_bag"])
    assert bag.name_fr == "Duvet chaud"
    assert bag.label == "Sleeping bag"
    with force_locale("fr"):
        assert bag.label == "Duvet chaud"


@pytest.mark.postgres
def test_saving_without_a_french_name_keeps_the_one_given(world) -> None:
    name_in_french(world, "sleeping_bag", "Duvet")

    catalogue.save_item(
        world.org_id, {"name": "Sleeping bag", "category": "bedding"}, world.items["sleeping_bag"]
    )

    assert db.session.get(Item, world.items["sleeping_bag"]).name_fr == "Duvet"


@pytest.mark.postgres
def test_a_french_name_over_120_characters_is_refused(world) -> None:
    with pytest.raises(ValidationError) as refused:
        catalogue.edit_item(world.org_id, world.items["blanket"], {"name_fr": "x" * 121})

    assert refused.value.fields == {"name_fr": "at most 120 characters"}


@pytest.mark.postgres
def test_a_name_another_item_goes_by_in_either_language_is_refused(world) -> None:
    name_in_french(world, "sleeping_bag", "Duvet")

    with pytest.raises(Conflict) as twin:  # another item's French name, any case
        catalogue.edit_item(world.org_id, world.items["blanket"], {"name_fr": "duvet"})
    assert twin.value.message == "There is already an item called Duvet."
    assert twin.value.fields == {"name_fr": "already exists"}
    with pytest.raises(Conflict):  # another item's English name
        catalogue.edit_item(world.org_id, world.items["blanket"], {"name_fr": "Sleeping bag"})
    with pytest.raises(Conflict) as named:  # an English name that is another's French one
        item(world.org_id, "Duvet")
    assert named.value.fields == {"name": "already exists"}
    with force_locale("fr"):
        assert "Duvet" in twin.value.message

    # Another size is another item: "Chaussures" in 42 and in 43.
    name_in_french(world, "shoes42", "Chaussures")
    shoes43 = item(world.org_id, "Shoes", "clothing", size="43", name_fr="Chaussures")
    assert shoes43.name_fr == "Chaussures"
    # Its own names again are no twin.
    name_in_french(world, "sleeping_bag", "Duvet")


@pytest.mark.postgres
def test_typing_either_name_finds_the_item(world) -> None:
    name_in_french(world, "sleeping_bag", "Duvet")
    name_in_french(world, "tarp", "Bâche")

    assert catalogue.find_item(world.org_id, "duvets").id == world.items["sleeping_bag"]
    assert catalogue.find_item(world.org_id, "Sleeping bag").id == world.items["sleeping_bag"]
    assert catalogue.find_item(world.org_id, "bache 4x6 m").id == world.items["tarp"]
    assert catalogue.find_item(world.org_id, "Bâche (4x6 m)").id == world.items["tarp"]
    with force_locale("fr"):  # the reader's language changes what is shown, not what is found
        assert catalogue.find_item(world.org_id, "sleeping bags").label == "Duvet"


# --- the pages --------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize("typed", ["duvets", "couchage"])
def test_receiving_under_the_french_name_or_an_alias_records_the_item(
    client_as, world, typed
) -> None:
    name_in_french(world, "sleeping_bag", "Duvet")
    catalogue.edit_item(world.org_id, world.items["sleeping_bag"], {"aliases": "sac de couchage"})
    db.session.commit()

    response = receive_typed(client_as("warehouse"), world, typed)

    assert response.status_code == 302, response.get_data(as_text=True)
    assert held(world, "main", "sleeping_bag") == 7


def test_french_readers_see_the_french_name_on_the_stock_page(client_as, world) -> None:
    name_in_french(world, "sleeping_bag", "Duvet")
    reads_french(world, "coordinator")

    french = page(client_as("coordinator"), "/?category=bedding")
    english = page(client_as("warehouse"), "/?category=bedding")

    assert "Duvet" in french and "Sleeping bag" not in french
    assert "Sleeping bag" in english and "Duvet" not in english


def test_the_item_datalist_offers_the_other_language_as_another_name(client_as, world) -> None:
    name_in_french(world, "sleeping_bag", "Duvet")
    reads_french(world, "coordinator")

    french = page(client_as("coordinator"), "/receive")
    english = page(client_as("warehouse"), "/receive")

    assert '<option value="Duvet" label="Sleeping bag">' in french
    assert '<option value="Sleeping bag" label="Duvet">' in english
    assert '<option value="Blanket">' in french  # no French name: the English one


def test_the_item_page_writes_the_french_name_and_refuses_a_twin(client_as, world) -> None:
    client = client_as("coordinator")
    url = f"/items/{world.items['sleeping_bag']}/edit"
    page = client.get(url).get_data(as_text=True)
    assert "French name" in page
    assert "Shown to French-speaking readers" in page
    values = {"name": "Sleeping bag", "category": "bedding", "unit": "piece", "save": "Save"}

    saved = client.post(url, data={**values, "name_fr": "Duvet", "request_token": form_token(page)})

    assert saved.status_code == 302
    assert 'value="Duvet"' in client.get(url).get_data(as_text=True)
    blanket = f"/items/{world.items['blanket']}/edit"
    page = client.get(blanket).get_data(as_text=True)
    refused = client.post(
        blanket,
        data={**values, "name": "Blanket", "name_fr": "Duvet", "request_token": form_token(page)},
    )
    assert refused.status_code == 200
    assert "There is already an item called Duvet." in refused.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(Item, world.items["blanket"]).name_fr == ""


# --- the API ----------------------------------------------------------------------------------


def patch(client, path: str, body: dict):
    """Send a PATCH to the API with the client's token."""
    return client.client.patch(f"/api/v1{path}", json=body, headers=client.headers)


@pytest.mark.postgres
def test_the_api_writes_changes_and_lists_the_french_name(api, world) -> None:
    coordinator = api("coordinator")

    made = coordinator.post(
        "/items", {"name": "Hygiene kit", "name_fr": " Kit d'hygiène ", "category": "hygiene"}
    )

    assert made.status_code == 201, made.get_data(as_text=True)
    answer = made.get_json()
    assert (answer["name"], answer["name_fr"], answer["label"]) == (
        "Hygiene kit",
        "Kit d'hygiène",
        "Hygiene kit",  # the API speaks English
    )
    changed = patch(coordinator, f"/items/{answer['id']}", {"name_fr": "Trousse d'hygiène"})
    assert changed.status_code == 200, changed.get_data(as_text=True)
    assert changed.get_json()["name_fr"] == "Trousse d'hygiène"
    assert changed.get_json()["category"] == "hygiene"  # what was left out stays
    listed = {i["name"]: i["name_fr"] for i in api("warehouse").get("/items").get_json()["items"]}
    assert listed["Hygiene kit"] == "Trousse d'hygiène"
    assert listed["Blanket"] == ""
    cleared = patch(coordinator, f"/items/{answer['id']}", {"name_fr": "", "min_stock": 5})
    assert cleared.get_json()["name_fr"] == "" and cleared.get_json()["min_stock"] == 5


@pytest.mark.postgres
def test_the_api_refuses_a_twin_or_too_long_french_name(api, world, other_world) -> None:
    coordinator = api("coordinator")
    bag = world.items["sleeping_bag"]
    assert patch(coordinator, f"/items/{bag}", {"name_fr": "Duvet"}).status_code == 200

    twin = coordinator.post("/items", {"name": "Quilt", "name_fr": "Duvet", "category": "bedding"})
    assert_error(twin, 409, "conflict", "name_fr")
    assert "Duvet" in twin.get_json()["error"]["message"]
    long = patch(coordinator, f"/items/{world.items['blanket']}", {"name_fr": "x" * 121})
    assert_error(long, 422, "invalid", "name_fr")
    assert_error(patch(api("warehouse"), f"/items/{bag}", {"name_fr": "Sac"}), 403, "forbidden")
    theirs = other_world.items["blanket"]
    assert_error(
        patch(coordinator, f"/items/{theirs}", {"name_fr": "Couverture"}), 404, "not_found"
    )


def test_the_document_declares_the_french_name(api, world) -> None:
    document = api("coordinator").get("/openapi.json").get_json()
    schemas = document["components"]["schemas"]

    assert "name_fr" in schemas["ItemInput"]["properties"]
    assert "name_fr" in schemas["Item"]["properties"]
    assert "name_fr" in schemas["ItemChanges"]["properties"]
    assert "patch" in document["paths"]["/items/{item_id}"]


# --- the demo ---------------------------------------------------------------------------------


def test_every_demo_item_has_a_french_name() -> None:
    assert set(NAMES_FR) == set(CATALOGUE)
    assert all(name.strip() == name and name for name in NAMES_FR.values())


def test_the_demo_seeded_in_french_names_its_items_in_french(app) -> None:
    result = app.test_cli_runner().invoke(args=["seed-demo", "--locale", "fr"])

    assert result.exit_code == 0, result.output
    organisation = accounts.organisation_by_slug("demo")
    assert organisation.locale == "fr"
    client = app.test_client()
    login(client, demo_logins()[0][0], DEMO_PASSWORD)
    stock_page = page(client, "/?category=bedding")
    assert "Duvet" in stock_page and "Sleeping bag" not in stock_page
    assert '<html lang="fr">' in stock_page
    assert catalogue.find_item(organisation.id, "sleeping bags").name_fr == "Duvet"
