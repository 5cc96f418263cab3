"""Pledges: a donor promises goods through a share link or the donor page; staff expect them.

A pledge is never stock: it changes no level and writes no movement until it is received.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from html import unescape

import factories
import pytest
from conftest import SITES, form_token
from sqlalchemy import func, select

from logistics import i18n
from logistics.extensions import db
from logistics.forms.pledges import DONOR_CHOICES
from logistics.models import Item, Pledge, StockLevel, StockMovement
from logistics.services import distributions, pledges, reports
from logistics.services.errors import Conflict, ValidationError

DETAILS = tuple(details for *_, details in SITES.values())


def link_of(world) -> tuple[int, str]:
    """Create a live share link of a world; commit; return its id and token."""
    link, token = reports.create_share_link(world.org_id, None, label="Parish")
    db.session.commit()
    return link.id, token


def today(world):
    return distributions.local_today(world.org_id)


def pledge_data(world, item: str = "blanket", quantity: int = 20, days: int = 1, **extra):
    """Return a filled pledge form, as a donor sends it."""
    return {
        "request_token": extra.pop("request_token", f"tok-{item}-{quantity}-{days}"),
        "item_id": world.items[item],
        "quantity": quantity,
        "expected_on": (today(world) + timedelta(days=days)).isoformat(),
        "contact_email": "",
        "website": "",
        **extra,
    }


def flashes(client) -> list[str]:
    """Return (and keep) the messages waiting in a client's session."""
    with client.session_transaction() as session:
        return [message for _category, message in session.get("_flashes", [])]


def pledge_count(world) -> int:
    db.session.rollback()  # read what the requests committed
    return db.session.scalar(
        select(func.count(Pledge.id)).where(Pledge.organisation_id == world.org_id)
    )


def stock_state(world) -> tuple[int, list[tuple[int, int, int]]]:
    """Return the movement count and every level: what a pledge must never change."""
    db.session.rollback()
    levels = db.session.execute(
        select(StockLevel.site_id, StockLevel.item_id, StockLevel.quantity)
        .join(Item, Item.id == StockLevel.item_id)
        .where(Item.organisation_id == world.org_id)
        .order_by(StockLevel.site_id, StockLevel.item_id)
    ).all()
    return factories.movement_count(world.org_id), [tuple(row) for row in levels]


def only_pledge(world) -> Pledge:
    db.session.rollback()
    return db.session.scalars(select(Pledge).where(Pledge.organisation_id == world.org_id)).one()


def make(world, item: str = "blanket", quantity: int = 20, days: int = 1, **extra) -> Pledge:
    """Record a pledge through the service; commit."""
    values = {
        "item_id": world.items[item],
        "quantity": quantity,
        "expected_on": today(world) + timedelta(days=days),
        "contact_email": None,
        "source": "link",
        "today": today(world),
        **extra,
    }
    made = pledges.make_pledge(world.org_id, **values)
    db.session.commit()
    return made


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_a_link_pledge_is_expected_then_received_and_never_touches_stock(app, world, client_as):
    factories.receive(world, "main", "blanket", 5)
    link_id, token = link_of(world)
    before = stock_state(world)
    visitor = app.test_client()  # no account, like a donor in a private window
    data = pledge_data(world, contact_email=" Donor@Example.ORG ")
    sent = visitor.post(f"/share/{token}/pledge", data=data)
    assert sent.status_code == 302 and sent.location.endswith(f"/share/{token}")
    assert sent.headers["Referrer-Policy"] == "no-referrer"
    day = i18n.when(today(world) + timedelta(days=1), "day")
    assert flashes(visitor) == [f"Thank you: 20 Blanket on {day} are expected."]
    # A second tap records nothing new.
    assert visitor.post(f"/share/{token}/pledge", data=data).status_code == 302
    assert pledge_count(world) == 1
    pledge = only_pledge(world)
    assert (pledge.status, pledge.source, pledge.share_link_id) == ("open", "link", link_id)
    assert pledge.contact_email == "donor@example.org" and pledge.created_by_id is None
    assert stock_state(world) == before

    for role in ("warehouse", "coordinator"):
        page = client_as(role).get("/pledges")
        assert page.status_code == 200
        card = re.search(
            rf'<div class="card[^"]*" id="pledge-{pledge.id}">.*?(?=<div class="card|<h2|</main>)',
            page.text,
            re.S,
        )
        assert card and "20 Blanket" in text_of(card.group(0))
        assert f"/receive?pledge_id={pledge.id}" in card.group(0)
        assert ("donor@example.org" in page.text) is (role == "coordinator")
        assert ("/reject" in page.text) is (role == "coordinator")
    assert client_as("donor").get("/pledges").status_code == 403
    # The needs say what is pledged under the shortfall; held stays what is on the shelves.
    needs_page = client_as("coordinator").get("/needs").text
    row = re.search(rf'<tr id="item-{world.items["blanket"]}".*?</tr>', needs_page, re.S).group(0)
    assert '<span class="muted pledged">20 pledged</span>' in row
    assert re.search(r'<td class="num">5(<br>|</td>)', row)

    warehouse = client_as("warehouse")
    form = warehouse.get(f"/receive?pledge_id={pledge.id}").text
    assert re.search(r'name="item"[^>]*value="Blanket"', form)
    assert re.search(r'name="quantity"[^>]*value="20"', form)
    assert re.search(
        rf'<option selected value="{pledge.id}">|<option value="{pledge.id}" selected', form
    )
    receipt = {
        "item": "Blanket",
        "quantity": 18,  # two fewer than promised: still the pledge's delivery
        "site_id": world.sites["main"],
        "kind": "donation",
        "pledge_id": pledge.id,
        "request_token": form_token(form),
        "save": "Save",
    }
    assert warehouse.post("/receive", data=receipt).status_code == 302
    received = only_pledge(world)
    movement = db.session.get(StockMovement, received.movement_id)
    assert received.status == "received" and received.closed_at is not None
    assert received.closed_by_id == world.users["warehouse"]
    assert (movement.kind, movement.quantity, movement.item_id) == (
        "donation",
        18,
        world.items["blanket"],
    )
    assert factories.held(world, "main", "blanket") == 23
    # The same pledge cannot close twice: the second receipt is refused whole.
    count = factories.movement_count(world.org_id)
    again = dict(receipt, request_token="another")
    refused = warehouse.post("/receive", data=again)
    assert refused.status_code == 200 and "This pledge is already closed." in refused.text
    assert factories.movement_count(world.org_id) == count
    # Gone from what is expected; among those closed lately.
    page = client_as("coordinator").get("/pledges").text
    assert f'id="pledge-{pledge.id}"' not in page and f'id="closed-{pledge.id}"' in page


def test_a_pledge_closes_only_with_a_donation_of_its_item(app, world, client_as):
    pledge = make(world, "blanket")
    warehouse = client_as("warehouse")
    base = {
        "site_id": world.sites["main"],
        "pledge_id": pledge.id,
        "save": "Save",
        "quantity": 5,
    }
    count = factories.movement_count(world.org_id)
    wrong_item = warehouse.post(
        "/receive",
        data={**base, "item": "Tent (2-person)", "kind": "donation", "request_token": "a"},
    )
    assert "That pledge is for Blanket, not Tent (2-person)." in wrong_item.text
    bought = warehouse.post(
        "/receive", data={**base, "item": "Blanket", "kind": "purchase", "request_token": "b"}
    )
    assert "A pledge is fulfilled by a donation, not a purchase." in bought.text
    assert factories.movement_count(world.org_id) == count
    assert only_pledge(world).status == "open"
    # Without a pledge, the receive form works as before and offers the open pledges.
    page = warehouse.get("/receive").text
    assert "Pledge this fulfils" in page and f'value="{pledge.id}"' in page


def test_refusals_say_why_and_record_nothing(app, world, client_as):
    _link_id, token = link_of(world)
    visitor = app.test_client()
    meal = db.session.get(Item, world.items["water"])
    meal.donatable = False
    db.session.commit()
    cases = [
        # Not offered to donors, so not among the choices.
        (pledge_data(world, "water"), 422, "Choose an item from the list."),
        (pledge_data(world, quantity=101), 422, "We can take at most 100 Blanket"),
        (pledge_data(world, quantity=10_001), 422, "Number must be between 1 and 10000"),
        (pledge_data(world, days=61), 422, "Choose a day from today to 60 days ahead."),
        (pledge_data(world, days=-1), 422, "Choose a day from today to 60 days ahead."),
        (pledge_data(world, contact_email="not-an-address"), 422, "does not look right"),
        (pledge_data(world, item_id="99999999"), 422, "Choose an item from the list."),
        (pledge_data(world, quantity="lots"), 422, "Not a valid integer value."),
    ]
    for data, status, message in cases:
        answer = visitor.post(f"/share/{token}/pledge", data=data)
        html = answer.text
        assert answer.status_code == status, (data, html)
        assert message in unescape(html), (message, text_of(html))
        # The form comes back filled in, on a public page showing nothing private.
        assert 'name="quantity"' in html and "Calais Aid" in html
        assert 'class="menu"' in html and "Log out" not in html
        for secret in DETAILS:
            assert secret not in html
    assert pledge_count(world) == 0
    with pytest.raises(ValidationError, match="Donors cannot bring Drinking water"):
        make(world, "water")
    db.session.rollback()
    # Dead links: unknown, revoked and expired are the plain 404.
    link_id, live = link_of(world)
    reports.revoke_share_link(world.org_id, link_id)
    db.session.commit()
    for dead in (live, "no-such-token", "x" * 200):
        assert visitor.post(f"/share/{dead}/pledge", data=pledge_data(world)).status_code == 404
    assert pledge_count(world) == 0


def test_the_cap_follows_what_is_short(app, world):
    # 1,000 Blanket go out tomorrow and none is held: 1,000 or more are short.
    tomorrow = today(world) + timedelta(days=1)
    distributions.create_one_off(
        world.org_id,
        site_id=world.sites["point"],
        source_site_id=world.sites["main"],
        starts_at=datetime.combine(
            tomorrow, time(18), distributions.organisation_zone(world.org_id)
        ),
        lines=[(world.items["blanket"], 1000)],
    )
    db.session.commit()
    short = pledges._shortfall(world.org_id, world.items["blanket"])
    assert short >= 1000
    assert make(world, quantity=min(5 * short, pledges.MAX_PLEDGE_QUANTITY)).status == "open"
    with pytest.raises(ValidationError, match="at most"):
        make(world, quantity=5 * short + 1)
    db.session.rollback()
    # Short of nothing, anyone may still pledge up to 100.
    assert make(world, "tent", quantity=100).quantity == 100
    with pytest.raises(ValidationError, match="at most 100 Tent"):
        make(world, "tent", quantity=101)


def test_a_filled_honeypot_is_thanked_and_records_nothing(app, world):
    _link_id, token = link_of(world)
    visitor = app.test_client()
    data = pledge_data(world, website="http://cheap-pills.example")
    answer = visitor.post(f"/share/{token}/pledge", data=data)
    assert answer.status_code == 302 and answer.location.endswith(f"/share/{token}")
    assert flashes(visitor)[0].startswith("Thank you: 20 Blanket on ")
    assert pledge_count(world) == 0
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Pledge)) == 0


def test_one_link_makes_a_limited_number_of_pledges(app, world):
    link_id, token = link_of(world)
    visitor = app.test_client()
    for n in range(pledges.PLEDGES_PER_LINK_HOUR):
        make(world, quantity=n + 1, share_link_id=link_id)
    refused = visitor.post(f"/share/{token}/pledge", data=pledge_data(world))
    assert refused.status_code == 429 and "Many pledges came through this link" in refused.text
    assert pledge_count(world) == pledges.PLEDGES_PER_LINK_HOUR
    # Another link, or a donor account, is not held back by this one.
    assert make(world, source="donor").status == "open"
    # An hour later the hourly limit frees, up to the day's.
    db.session.execute(
        Pledge.__table__.update()
        .where(Pledge.share_link_id == link_id)
        .values(created_at=datetime.now(UTC) - timedelta(hours=2))
    )
    db.session.commit()
    assert visitor.post(f"/share/{token}/pledge", data=pledge_data(world)).status_code == 302
    for n in range(pledges.PLEDGES_PER_LINK_DAY - pledges.PLEDGES_PER_LINK_HOUR - 1):
        made = make(world, quantity=n + 1, share_link_id=link_id)
        made.created_at = datetime.now(UTC) - timedelta(hours=3)
        db.session.commit()
    day_full = visitor.post(f"/share/{token}/pledge", data=pledge_data(world, quantity=7))
    assert day_full.status_code == 429
    assert pledge_count(world) == pledges.PLEDGES_PER_LINK_DAY + 1


def test_a_coordinator_rejects_with_a_reason(app, world, client_as):
    pledge = make(world, contact_email="someone@example.org")
    assert (
        client_as("warehouse")
        .post(f"/pledges/{pledge.id}/reject", data={"reason": "x"})
        .status_code
        == 403
    )
    coordinator = client_as("coordinator")
    empty = coordinator.post(
        f"/pledges/{pledge.id}/reject", data={"reason": " ", "request_token": "r0"}
    )
    assert empty.status_code == 302 and only_pledge(world).status == "open"
    done = coordinator.post(
        f"/pledges/{pledge.id}/reject",
        data={"reason": "We have  no room for more", "request_token": "r1"},
    )
    assert done.status_code == 302
    rejected = only_pledge(world)
    assert (rejected.status, rejected.reason) == ("rejected", "We have no room for more")
    assert rejected.closed_by_id == world.users["coordinator"]
    page = coordinator.get("/pledges").text
    assert "We have no room for more" in page and "rejected" in page
    again = coordinator.post(
        f"/pledges/{pledge.id}/reject", data={"reason": "twice", "request_token": "r2"}
    )
    assert again.status_code == 302 and "This pledge is already closed." in flashes(coordinator)
    with pytest.raises(Conflict):
        pledges.close_pledge(
            world.org_id, pledge.id, factories.receive(world, "main", "blanket", 1), None
        )


def test_organisations_are_isolated(app, world, other_world, client_as, api):
    theirs = make(other_world, contact_email="their-donor@example.org")
    ours = make(world, "tent", quantity=3)
    coordinator = client_as("coordinator")
    page = coordinator.get("/pledges").text
    assert f'id="pledge-{ours.id}"' in page
    assert f'id="pledge-{theirs.id}"' not in page and "their-donor" not in page
    assert (
        coordinator.post(
            f"/pledges/{theirs.id}/reject", data={"reason": "no", "request_token": "x"}
        ).status_code
        == 404
    )
    assert coordinator.get(f"/receive?pledge_id={theirs.id}").status_code == 404
    count = factories.movement_count(world.org_id)
    warehouse = client_as("warehouse")
    receipt = {
        "item": "Blanket",
        "quantity": 5,
        "site_id": world.sites["main"],
        "kind": "donation",
        "pledge_id": theirs.id,
        "request_token": "iso",
        "save": "Save",
    }
    assert "No such pledge." in warehouse.post("/receive", data=receipt).text
    body = {
        "kind": "donation",
        "site_id": world.sites["main"],
        "item_id": world.items["blanket"],
        "quantity": 5,
        "pledge_id": theirs.id,
    }
    factories.assert_error(api("warehouse").post("/movements", body), 404, "not_found")
    assert factories.movement_count(world.org_id) == count
    db.session.rollback()
    assert db.session.get(Pledge, theirs.id).status == "open"


def test_the_api_closes_a_pledge_with_its_donation(app, world, api):
    pledge = make(world, "tent", quantity=3)
    client = api("warehouse")
    body = {
        "kind": "purchase",
        "site_id": world.sites["main"],
        "item_id": world.items["tent"],
        "quantity": 3,
        "pledge_id": pledge.id,
        "request_token": "api-1",
    }
    factories.assert_error(client.post("/movements", body), 422, "invalid", "pledge_id")
    made = client.post("/movements", {**body, "kind": "donation"})
    assert made.status_code == 201, made.text
    db.session.rollback()
    closed = db.session.get(Pledge, pledge.id)
    assert (closed.status, closed.movement_id) == ("received", made.get_json()["id"])
    replay = client.post("/movements", {**body, "kind": "donation"})
    assert replay.get_json()["replayed"] is True
    assert factories.movement_count(world.org_id) == 1
    document = client.get("/openapi.json").get_json()
    schema = document["components"]["schemas"]["MovementInput"]
    assert "pledge_id" in schema["properties"]


def test_lapse_and_forget_with_an_explicit_now(app, world, other_world):
    now = datetime.now(UTC)
    day = distributions.local_today(world.org_id, now)
    late = make(world, contact_email="late@example.org")
    waiting = make(world, "tent")
    theirs = make(other_world)
    late.expected_on = day - timedelta(days=pledges.LAPSE_DAYS + 1)
    waiting.expected_on = day - timedelta(days=pledges.LAPSE_DAYS)
    theirs.expected_on = day - timedelta(days=10)
    db.session.commit()
    assert pledges.lapse_due(now) == 2
    db.session.commit()
    states = {p.id: p.status for p in db.session.scalars(select(Pledge))}
    assert states == {late.id: "lapsed", waiting.id: "open", theirs.id: "lapsed"}
    assert pledges.lapse_due(now) == 0
    # A contact address goes 30 days after the pledge closed, not before.
    assert pledges.forget_contacts(now + timedelta(days=pledges.CONTACT_DAYS - 1)) == 0
    assert pledges.forget_contacts(now + timedelta(days=pledges.CONTACT_DAYS, minutes=1)) == 1
    db.session.commit()
    assert db.session.get(Pledge, late.id).contact_email is None


def test_a_signed_in_donor_pledges_from_the_donor_page(app, world, client_as):
    donor = client_as("donor")
    before = stock_state(world)
    answer = donor.post("/pledge", data=pledge_data(world, "sleeping_bag", 4, days=3))
    assert answer.status_code == 302 and answer.location.endswith("/donor")
    day = i18n.when(today(world) + timedelta(days=3), "day")
    assert f"Thank you: 4 Sleeping bag on {day} are expected." in flashes(donor)
    pledge = only_pledge(world)
    assert (pledge.source, pledge.created_by_id, pledge.share_link_id) == (
        "donor",
        world.users["donor"],
        None,
    )
    assert stock_state(world) == before
    refused = donor.post("/pledge", data=pledge_data(world, quantity=0, request_token="zero"))
    assert refused.status_code == 422 and 'name="quantity"' in refused.text
    for secret in DETAILS:
        assert secret not in refused.text
    assert pledge_count(world) == 1


def test_the_donor_page_offers_what_is_needed_not_the_whole_catalogue(app, world, client_as):
    for number in range(60):
        factories.item(world.org_id, f"Sock pack {number:02d}", "clothing", commit=False)
    db.session.commit()
    page = client_as("donor").get("/donor").get_data(as_text=True)
    form = page[page.index('name="item_id"') :]
    offered = re.findall(r"<option [^>]*value=\"(\d+)\"", form[: form.index("</select>")])
    assert len(offered) == DONOR_CHOICES
    # What is short comes first: every item of the world is below its minimum of 10.
    assert str(world.items["blanket"]) in offered[:6]


def test_a_pledge_form_sent_back_stays_bounded_and_keeps_its_item(app, world, client_as):
    for number in range(60):
        factories.item(world.org_id, f"Sock pack {number:02d}", "clothing", commit=False)
    last = factories.item(world.org_id, "Zip bag", "hygiene", commit=False)
    db.session.commit()
    donor = client_as("donor")
    # Past the first 40 by name, never offered on the donor page, yet donatable: taken.
    answer = donor.post("/pledge", data=pledge_data(world, "blanket", 5, item_id=last.id))
    assert answer.status_code == 302 and only_pledge(world).item_id == last.id
    refused = donor.post(
        "/pledge", data=pledge_data(world, quantity=0, item_id=last.id, request_token="zero")
    ).text
    form = refused[refused.index('name="item_id"') :]
    options = re.findall(r"<option [^>]*value=\"\d+\"[^>]*>", form[: form.index("</select>")])
    assert len(options) == DONOR_CHOICES
    assert f'value="{last.id}"' in options[0] and "selected" in options[0]
    assert pledge_count(world) == 1
