"""The field phone (issue 14): one-thumb menu, forms that start at the right site, quick stock
forms and replies that reassure a volunteer who tapped twice."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import factories
import pytest
from conftest import form_token
from sqlalchemy import func, select

from logistics.extensions import db
from logistics.models import Alert, Membership, Organisation, Site, StockMovement, Submission
from logistics.services import accounts, catalogue, ledger
from logistics.services.errors import ValidationError

pytestmark = pytest.mark.postgres

# The menu is the same on both databases: its page tests run on SQLite only.
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

# The role badge beside the organisation's name, as the menu writes it (labels.ROLE_LABELS).
ROLE_NAMES = {
    "admin": "Admin",
    "coordinator": "Coordinator",
    "warehouse": "Warehouse volunteer",
    "kitchen": "Kitchen lead",
    "donor": "Donor (read only)",
}
FIELD_ACTIONS = {
    "warehouse": ["/receive", "/give-out", "/transfer", "/stocktake", "/loss"],
    "kitchen": ["/kitchen", "/kitchen/cooking", "/give-out"],
    "coordinator": ["/distributions", "/needs", "/alerts"],
    "admin": ["/distributions", "/needs", "/alerts"],
    "donor": ["/donor", "/reports", "/incidents/figures"],
}
# What each role's menu linked to before issue 14 (templates/base.html at b3f855c).
STAFF_BEFORE = {
    "/", "/receive", "/transfer", "/stocktake", "/needs", "/distributions", "/kitchen",
    "/alerts", "/ledger", "/reports", "/csv", "/items", "/sites", "/account",
}  # fmt: skip
LINKS_BEFORE = {
    "admin": STAFF_BEFORE | {"/incidents", "/members"},
    "coordinator": STAFF_BEFORE | {"/incidents"},
    "warehouse": STAFF_BEFORE | {"/incidents/new", "/incidents/figures"},
    "kitchen": STAFF_BEFORE | {"/incidents/new", "/incidents/figures"},
    "donor": {"/", "/needs", "/incidents/figures", "/reports", "/items", "/sites", "/account"},
}
STOCK_FORMS = {"/receive": "site_id", "/transfer": "from_site_id", "/stocktake": "site_id"}
STOCK_FORMS["/loss"] = "site_id"


def _nav(html: str) -> str:
    match = re.search(r'<nav class="menu".*?</nav>', html, re.S)
    assert match, "no menu"
    return match.group(0)


def _links(fragment: str) -> list[str]:
    return re.findall(r'<a href="([^"]+)"', fragment)


def _field_actions(html: str) -> list[str]:
    return _links(re.search(r'<ul class="field-actions">(.*?)</ul>', _nav(html), re.S).group(1))


def _more(html: str) -> str:
    match = re.search(
        r'<details class="menu-more">\s*<summary>More</summary>(.*?)</details>', html, re.S
    )
    assert match, "no More menu"
    return match.group(1)


def _chosen(html: str, name: str) -> str | None:
    """Return the site a form starts at: the ticked button, or the selected option."""
    buttons = re.findall(rf'<input type="radio" name="{name}" value="(\d+)"( checked)?>', html)
    if buttons:
        return next((value for value, ticked in buttons if ticked), None)
    select = re.search(rf'<select id="{name}" name="{name}">(.*?)</select>', html, re.S)
    assert select, f"no site chooser {name}"
    chosen = re.search(r'<option value="(\d*)" selected>', select.group(1))
    return chosen.group(1) or None if chosen else None


def _flashes(html: str) -> list[tuple[str, str]]:
    region = re.search(r'<div class="flashes" role="status">(.*?)</div>', html, re.S)
    assert region, "no flash region"
    return re.findall(r'<p class="(flash[^"]*)">([^<]*)</p>', region.group(1))


def _receive(client, world, site: str = "main", item: str = "Sleeping bag", token: str = ""):
    data = {
        "item": item,
        "quantity": 40,
        "site_id": world.sites[site],
        "kind": "donation",
        "request_token": token or form_token(client.get("/receive").get_data(as_text=True)),
        "save": "Save",
    }
    return client.post("/receive", data=data)


# --- the menu --------------------------------------------------------------------------------


@sqlite_only
@pytest.mark.parametrize("role", sorted(FIELD_ACTIONS))
def test_each_role_sees_its_field_actions_first_and_every_link_it_had_under_more(
    client_as, role
) -> None:
    html = client_as(role).get("/").get_data(as_text=True)
    assert _field_actions(html) == FIELD_ACTIONS[role]
    more = _links(_more(html))
    # Nothing shows twice, and every page the role reached before is still one tap away.
    assert not set(more) & set(FIELD_ACTIONS[role])
    assert LINKS_BEFORE[role] <= set(more) | set(FIELD_ACTIONS[role])
    # Log out (a POST, with its CSRF token) and the account stay, under More.
    assert re.search(
        r'<form method="post" action="/logout"[^>]*>\s*<input type="hidden" name="csrf_token"',
        _more(html),
    )
    assert "/account" in more
    assert f'<span class="badge">{ROLE_NAMES[role]}</span>' in _nav(html)


@sqlite_only
@pytest.mark.parametrize("role", sorted(FIELD_ACTIONS))
def test_every_link_of_a_menu_opens_for_its_role(client_as, role) -> None:
    client = client_as(role)
    links = _links(_nav(client.get("/").get_data(as_text=True)))
    refused = {link: client.get(link).status_code for link in links}
    assert {link: status for link, status in refused.items() if status >= 400} == {}
    staff_only = {"/receive", "/transfer", "/stocktake", "/loss", "/give-out", "/ledger", "/csv"}
    # A donor reads: no form that records anything is offered.
    assert bool(staff_only & set(links)) is (role != "donor")


@sqlite_only
def test_the_current_page_is_marked_in_the_menu(client_as) -> None:
    client = client_as("warehouse")
    loss = client.get("/loss").get_data(as_text=True)
    assert '<a href="/loss" aria-current="page">Write off</a>' in _nav(loss)
    assert loss.count('aria-current="page"') == 1
    ledger_page = client.get("/ledger").get_data(as_text=True)
    assert '<a href="/ledger" aria-current="page">Ledger</a>' in _more(ledger_page)


@sqlite_only
def test_the_critical_shortage_banner_stays_above_every_page(client_as, world) -> None:
    db.session.add(
        Alert(
            organisation_id=world.org_id,
            key=f"item:{world.items['blanket']}",
            item_id=world.items["blanket"],
            severity="critical",
            figures={},
        )
    )
    db.session.commit()
    for role in ("warehouse", "donor"):
        html = (
            client_as(role).get("/receive" if role == "warehouse" else "/").get_data(as_text=True)
        )
        assert '<div class="banner" role="alert">1 critical shortage.' in html


# --- where the forms start -------------------------------------------------------------------


def test_stock_forms_start_at_the_main_warehouse_never_a_point_by_alphabet(client_as, world):
    factories.site(world.org_id, "Aa car park", "distribution_point")
    client = client_as("warehouse")
    for address, name in STOCK_FORMS.items():
        html = client.get(address).get_data(as_text=True)
        assert _chosen(html, name) == str(world.sites["main"]), address
    assert _chosen(client.get("/transfer").get_data(as_text=True), "to_site_id") is None


def test_the_site_a_member_last_used_is_where_their_next_form_starts(app, client_as, world):
    warehouse = client_as("warehouse")
    assert _receive(warehouse, world, site="kitchen", item="Blanket").status_code == 302
    membership = db.session.scalar(
        select(Membership).where(Membership.user_id == world.users["warehouse"])
    )
    db.session.refresh(membership)
    assert membership.last_site_id == world.sites["kitchen"]
    # Kept on the membership, not the browser: another phone starts there too.
    phone = client_as("warehouse")
    for address, name in STOCK_FORMS.items():
        assert _chosen(phone.get(address).get_data(as_text=True), name) == str(
            world.sites["kitchen"]
        ), address
    # Someone else still starts at the main warehouse.
    other = client_as("coordinator").get("/receive").get_data(as_text=True)
    assert _chosen(other, "site_id") == str(world.sites["main"])

    # A move remembers where it left; a count and a write-off remember their site.
    moved = warehouse.post(
        "/transfer",
        data={
            "item": "Blanket",
            "quantity": 5,
            "from_site_id": world.sites["kitchen"],
            "to_site_id": world.sites["gs_store"],
            "request_token": "move-1",
        },
    )
    assert moved.status_code == 302
    counted = warehouse.post(
        "/stocktake",
        data={
            "item": "Blanket",
            "counted": 3,
            "site_id": world.sites["gs_store"],
            "reason": "Stocktake",
            "request_token": "count-1",
        },
    )
    assert counted.status_code == 302
    html = warehouse.get("/loss").get_data(as_text=True)
    assert _chosen(html, "site_id") == str(world.sites["gs_store"])


def test_a_transfer_link_wins_over_the_last_site(client_as, world):
    client = client_as("warehouse")
    _receive(client, world, site="kitchen", item="Blanket")
    html = client.get(
        "/transfer",
        query_string={"from_site_id": world.sites["gs_store"], "to_site_id": world.sites["main"]},
    ).get_data(as_text=True)
    assert _chosen(html, "from_site_id") == str(world.sites["gs_store"])
    assert _chosen(html, "to_site_id") == str(world.sites["main"])


def test_a_retired_last_site_gives_way_to_the_main_warehouse(client_as, world):
    client = client_as("warehouse")
    _receive(client, world, site="gs_store", item="Blanket")
    catalogue.set_site_active(world.org_id, world.sites["gs_store"], False)
    db.session.commit()
    assert _chosen(client.get("/receive").get_data(as_text=True), "site_id") == str(
        world.sites["main"]
    )


# --- the main warehouse ----------------------------------------------------------------------


def _mains(org_id: int) -> list[str]:
    return list(
        db.session.scalars(
            select(Site.name).where(Site.organisation_id == org_id, Site.main.is_(True))
        )
    )


def test_an_organisations_first_warehouse_is_its_main_one_and_there_is_only_one(app, world):
    assert _mains(world.org_id) == ["Main warehouse"]  # made first; the store came after it
    # Choosing another unsets the first, in the same step.
    catalogue.save_site(
        world.org_id,
        {"name": "Grande-Synthe store", "kind": "warehouse", "area": "Grande-Synthe", "main": True},
        site_id=world.sites["gs_store"],
    )
    db.session.commit()
    assert _mains(world.org_id) == ["Grande-Synthe store"]
    # A point cannot be where forms start; the refusal names the field.
    with pytest.raises(ValidationError) as refused:
        catalogue.save_site(
            world.org_id,
            {
                "name": "Verrotières point",
                "kind": "distribution_point",
                "area": "Calais",
                "main": True,
            },
            site_id=world.sites["point"],
        )
    assert "distribution point" in refused.value.message and "main" in refused.value.fields
    db.session.rollback()
    # Retiring the main warehouse clears it: forms fall back to a warehouse, not the point.
    catalogue.set_site_active(world.org_id, world.sites["gs_store"], False)
    db.session.commit()
    assert _mains(world.org_id) == [] and catalogue.main_site(world.org_id) is None
    start = catalogue.start_site(catalogue.list_sites(world.org_id), None)
    assert start is not None and start.id == world.sites["main"]


def test_a_new_organisation_gets_a_main_warehouse_with_its_first_warehouse(app):
    org = accounts.create_organisation("Dunkirk Aid", "dunkirk-aid")
    factories.site(org.id, "Puythouck point", "distribution_point")
    assert catalogue.main_site(org.id) is None
    first = factories.site(org.id, "Depot", "warehouse")
    factories.site(org.id, "Annex", "warehouse")
    assert _mains(org.id) == ["Depot"] and catalogue.main_site(org.id).id == first.id
    # With a main retired and none chosen, bringing a warehouse back makes it main.
    catalogue.set_site_active(org.id, first.id, False)
    catalogue.set_site_active(org.id, first.id, True)
    db.session.commit()
    assert _mains(org.id) == ["Depot"]


def test_admins_choose_the_main_warehouse_on_the_site_form(client_as, world):
    admin = client_as("admin")
    form = admin.get(f"/sites/{world.sites['gs_store']}/edit").get_data(as_text=True)
    assert "Main warehouse — forms start here" in form
    saved = admin.post(
        f"/sites/{world.sites['gs_store']}/edit",
        data={
            "name": "Grande-Synthe store",
            "kind": "warehouse",
            "area": "Grande-Synthe",
            "details": "Garage behind the gym",
            "main": "y",
            "request_token": form_token(form),
        },
    )
    assert saved.status_code == 302
    listing = admin.get("/sites").get_data(as_text=True)
    assert listing.count("main warehouse</span>") == 1
    assert re.search(r"Grande-Synthe store <span class=\"badge main\">main warehouse", listing)
    # A volunteer who has recorded nothing yet now starts there.
    html = client_as("warehouse").get("/receive").get_data(as_text=True)
    assert _chosen(html, "site_id") == str(world.sites["gs_store"])


# --- site buttons and select -----------------------------------------------------------------


@sqlite_only
def test_six_sites_or_fewer_are_buttons_more_are_a_select(client_as, world):
    client = client_as("warehouse")
    factories.site(world.org_id, "Calais East point", "distribution_point")
    factories.site(world.org_id, "Dunkirk depot", "warehouse")
    html = client.get("/receive").get_data(as_text=True)
    buttons = re.findall(r'<label class="choice"><input type="radio" name="site_id"', html)
    assert len(buttons) == 6 and '<select id="site_id"' not in html
    assert re.search(
        rf'value="{world.sites["main"]}" checked><span><strong>Main warehouse</strong> '
        r"<small>Warehouse</small>",
        html,
    )
    assert "<strong>Calais East point</strong> <small>Distribution point</small>" in html

    factories.site(world.org_id, "Loon-Plage point", "distribution_point")
    html = client.get("/transfer").get_data(as_text=True)
    assert 'type="radio" name="from_site_id"' not in html
    assert _chosen(html, "from_site_id") == str(world.sites["main"])
    # Where it goes starts unchosen: sending it so gets a plain request, not a wrong move.
    assert '<option value="" selected>Choose a site</option>' in html
    refused = client.post(
        "/transfer",
        data={
            "item": "Blanket",
            "quantity": 1,
            "from_site_id": world.sites["main"],
            "to_site_id": "",
            "request_token": form_token(html),
        },
    ).get_data(as_text=True)
    assert "Choose where it goes." in refused


# --- the quick forms -------------------------------------------------------------------------


@sqlite_only
def test_save_comes_right_after_the_essentials(client_as):
    client = client_as("warehouse")
    essentials = {
        "/receive": ["item", "quantity", "site_id"],
        "/transfer": ["item", "quantity", "from_site_id", "to_site_id"],
        "/stocktake": ["item", "counted", "site_id"],
        "/loss": ["item", "quantity", "reason", "site_id"],
    }
    folded = {
        "/receive": ["kind", "source", "note", "occurred_at"],
        "/transfer": ["note", "occurred_at"],
        "/stocktake": ["reason", "occurred_at"],
        "/loss": ["occurred_at"],
    }
    for address, names in essentials.items():
        html = client.get(address).get_data(as_text=True)
        save = html.index('name="save"')
        more = html.index('<details class="more">')
        for name in names:
            assert html.index(f'name="{name}"') < save, (address, name)
        for name in folded[address]:
            assert more < html.index(f'name="{name}"'), (address, name)
        assert save < html.index('name="save_and_add"') < more


def test_writing_off_takes_a_reason_in_one_tap(client_as, world):
    factories.receive(world, "main", "tent", 10)
    client = client_as("warehouse")
    html = client.get("/loss").get_data(as_text=True)
    offered = re.findall(r'<input id="reason-\d" name="reason" type="radio" value="(\w+)">', html)
    assert offered == ["damp", "spoiled", "stolen", "expired", "other"]

    def write_off(quantity: int, **reason: str):
        return client.post(
            "/loss",
            data={
                "item": "tent",
                "quantity": quantity,
                "site_id": world.sites["main"],
                "request_token": form_token(client.get("/loss").get_data(as_text=True)),
                "save": "Save",
                **reason,
            },
        )

    assert write_off(6, reason="damp").status_code == 302
    assert write_off(1, reason="stolen", reason_text="from the van").status_code == 302
    assert write_off(1, reason="other", reason_text="Burnt in the stove fire").status_code == 302
    refused = [
        ("Choose why it was lost.", write_off(1)),
        ("Say in a few words what happened.", write_off(1, reason="other")),
        ("Choose why it was lost.", write_off(1, reason="rain")),
    ]
    for message, response in refused:
        assert response.status_code == 200 and message in response.get_data(as_text=True)
    notes = db.session.scalars(
        select(StockMovement.note).where(StockMovement.kind == "loss").order_by(StockMovement.id)
    ).all()
    assert notes == ["Damp or mould", "Stolen: from the van", "Burnt in the stove fire"]
    assert ledger.held(world.sites["main"], world.items["tent"]) == 2


# --- replies ---------------------------------------------------------------------------------


def test_a_double_tap_answers_what_was_recorded_and_when(client_as, world):
    client = client_as("warehouse")
    token = form_token(client.get("/receive").get_data(as_text=True))
    first = _receive(client, world, token=token)
    again = _receive(client, world, token=token)
    assert first.status_code == again.status_code == 302
    recorded_at = db.session.scalar(
        select(Submission.created_at).where(Submission.request_token == token)
    )
    clock = recorded_at.astimezone(ZoneInfo("Europe/Paris")).strftime("%H:%M")
    flashes = _flashes(client.get("/").get_data(as_text=True))
    assert flashes == [
        ("flash", "Recorded 40 Sleeping bag received at Main warehouse."),
        ("flash", f"Already recorded at {clock}: 40 Sleeping bag received at Main warehouse."),
    ]
    assert ledger.held(world.sites["main"], world.items["sleeping_bag"]) == 40


def test_the_reply_reads_the_organisations_clock_and_says_the_day_when_not_today(client_as, world):
    organisation = db.session.get(Organisation, world.org_id)
    organisation.timezone = "America/Cayenne"  # UTC-3 all year
    db.session.commit()
    client = client_as("warehouse")
    token = form_token(client.get("/loss").get_data(as_text=True))
    factories.receive(world, "main", "blanket", 10)
    sent = {
        "item": "Blanket",
        "quantity": 2,
        "site_id": world.sites["main"],
        "reason": "spoiled",
        "request_token": token,
    }
    assert client.post("/loss", data=sent).status_code == 302
    client.get("/")  # the first answer is read
    earlier = datetime(2026, 3, 2, 10, 12, tzinfo=UTC)
    submission = db.session.scalar(select(Submission).where(Submission.request_token == token))
    submission.created_at = earlier
    db.session.commit()
    assert client.post("/loss", data=sent).status_code == 302
    assert _flashes(client.get("/").get_data(as_text=True)) == [
        (
            "flash",
            "Already recorded at 07:12 on 2 Mar 2026: 2 Blanket written off at Main warehouse.",
        )
    ]
    assert (
        db.session.scalar(select(func.count(StockMovement.id)).where(StockMovement.kind == "loss"))
        == 1
    )


def test_a_form_without_a_summary_repeats_its_message_on_a_replay(client_as, world):
    admin = client_as("admin")
    form = admin.get("/sites/new").get_data(as_text=True)
    sent = {
        "name": "Dunkirk depot",
        "kind": "warehouse",
        "area": "Dunkirk",
        "request_token": form_token(form),
    }
    admin.post("/sites/new", data=sent)
    admin.post("/sites/new", data=sent)
    (first, again) = _flashes(admin.get("/sites").get_data(as_text=True))
    assert first == ("flash", "Added Dunkirk depot.")
    assert re.fullmatch(r"Already recorded at \d\d:\d\d\. Added Dunkirk depot\.", again[1])
    assert _mains(world.org_id) == ["Main warehouse"]
    assert datetime.now(UTC) - timedelta(minutes=5) < db.session.scalar(
        select(Submission.created_at).where(Submission.request_token == sent["request_token"])
    )
