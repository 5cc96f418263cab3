"""The needs, people-estimate, alert, channel and subscription pages as members use them."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

from conftest import form_token
from werkzeug.datastructures import MultiDict

from logistics import i18n
from logistics.extensions import db
from logistics.models import Channel
from logistics.services import accounts, alerts, catalogue, distributions, ledger
from logistics.services import needs as needs_service

SVG = "{http://www.w3.org/2000/svg}"
SECRET = "relay-secret-of-good-length-WXYZ"


def _cells(html: str, item_id: int) -> list[str]:
    """Return the text of each cell of an item's row on the needs page."""
    match = re.search(rf'<tr id="item-{item_id}"([^>]*)>(.*?)</tr>', html, re.S)
    assert match, f"no row for item {item_id}"
    cells = re.findall(r"<td[^>]*>(.*?)</td>", match.group(2), re.S)
    texts = [" ".join(unescape(re.sub(r"<[^>]+>", " ", c)).split()) for c in cells]
    return [match.group(1), *texts]


def _water_per_person(world, litres: int = 15) -> None:
    catalogue.save_item(
        world.org_id,
        {
            "name": "Drinking water",
            "category": "water",
            "unit": "litre",
            "per_person_per_day": litres,
            "min_stock": 500,
        },
        item_id=world.items["water"],
    )


def _scenario(world) -> datetime:
    """Blankets critical, water short by people, tarps labelled with & and <; commit."""
    now = datetime.now(UTC)
    month_ago = now - timedelta(days=30)
    main = world.sites["main"]
    for key, quantity in (("blanket", 100), ("tarp", 20), ("water", 3000)):
        ledger.receive(
            world.org_id,
            None,
            site_id=main,
            item_id=world.items[key],
            quantity=quantity,
            occurred_at=month_ago,
        )
    # Used in 28 days: 56 blankets (2 a day) and 7 tarps (0.25 a day), slashed by police.
    for key, quantity in (("blanket", 56), ("tarp", 7)):
        ledger.record_loss(
            world.org_id,
            None,
            site_id=main,
            item_id=world.items[key],
            quantity=quantity,
            reason="slashed at the eviction",
            occurred_at=now - timedelta(days=5),
        )
    distributions.create_one_off(
        world.org_id,
        site_id=world.sites["point"],
        source_site_id=main,
        starts_at=now + timedelta(hours=6),
        lines=[(world.items["blanket"], 50)],
    )
    catalogue.save_item(
        world.org_id,
        {"name": "Tarps & ropes", "size": "<4x6 m>", "category": "shelter", "min_stock": 10},
        item_id=world.items["tarp"],
    )
    _water_per_person(world)
    db.session.commit()
    return now + timedelta(hours=6)


def test_needs_page_shows_each_term_marks_the_critical_and_draws_the_chart(client_as, world):
    tonight = _scenario(world)
    client = client_as("warehouse")
    response = client.get("/needs?show=all")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    record = client.post(
        "/needs/people",
        data={"area": "Calais", "people": 100, "as_of": "2020-01-01", "request_token": "p-1"},
    )
    assert record.status_code == 403  # volunteers read estimates but do not record them

    # Blankets: held 100 - 56 = 44, use 56 / 28 = 2 a day, 50 committed tonight (48 h: 50).
    # need = max(50, 2 x 7, 0) + 10 = 60, short 16, cover 44 / 2 = 22 days.
    local = tonight.astimezone(ZoneInfo("Europe/Paris"))
    runs_out = f"{local:%a} {local.day} {local:%b %H:%M}"  # Babel: "Sat 5 Dec 00:38"
    row = _cells(html, world.items["blanket"])
    assert "need-critical" in row[0]
    assert row[1:] == [
        "Blanket piece",
        "critical",
        "44 Main warehouse 44",
        "2",
        "50",
        "50",
        "50",
        "14",
        "0",
        "10",
        "60",
        "16",
        "22 7",
        runs_out,
    ]
    assert html.index('id="item-{}"'.format(world.items["blanket"])) < html.index(
        'id="item-{}"'.format(world.items["water"])
    )  # most urgent first
    # Water: no use yet, 0 people: need = 500 (min stock), nothing short.
    water = _cells(html, world.items["water"])
    assert water[2] == "ok" and water[11] == "500" and water[13].startswith("no use")
    assert "How these figures are computed" in html

    svg_text = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    assert "Tarps &amp; ropes (&lt;4x6 m&gt;)" in svg_text
    svg = ET.fromstring(svg_text)
    bars = {g.find(f"{SVG}text").text: g for g in svg.iter(f"{SVG}g")}
    assert set(bars) == {"Blanket", "Tarps & ropes (<4x6 m>)"}  # water has no use, no bar
    assert bars["Blanket"].find(f"{SVG}rect").get("fill") == "#a40000"
    assert bars["Blanket"].find(f"{SVG}title").text.startswith("Blanket: 22 days of cover")
    assert "52 days of cover" in bars["Tarps & ropes (<4x6 m>)"].find(f"{SVG}title").text

    alerts.reconcile(world.org_id)
    db.session.commit()
    page = client.get("/alerts").get_data(as_text=True)
    cards = [
        " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())
        for body in re.findall(
            r'<div class="card[^"]*" id="alert-\d+"[^>]*>(.*?)</div>', page, re.S
        )
    ]
    # Tonight's distribution comes first: its source holds 44 of the 50 planned.
    assert "Main warehouse holds 44 of 50 Blanket (6 missing)" in cards[0]
    (text,) = [card for card in cards if card.startswith("Blanket critical")]
    assert text.startswith(f"Blanket critical runs out {runs_out}")
    assert "50 committed in 48 h, 44 held" in text and "Held at: Main warehouse 44" in text
    assert "held 44 · committed 50 in 48 h, 50 in 7 days · need 60 · short 16" in text
    ledger.receive(
        world.org_id,
        None,
        site_id=world.sites["main"],
        item_id=world.items["blanket"],
        quantity=500,
    )
    alerts.reconcile(world.org_id)
    db.session.commit()
    page = unescape(client.get("/alerts").get_data(as_text=True))
    resolved = page[page.index("Resolved in the last 14 days") :]
    assert (
        "Blanket" in resolved
        and "opened (critical)" in resolved
        and "resolved (critical)" in (resolved)
    )


def test_horizon_and_category_filters_and_a_bad_horizon_gets_a_message(client_as, world):
    _water_per_person(world)
    db.session.commit()
    client = client_as("donor")
    for bad in ("abc", "91", "0"):
        response = client.get(f"/needs?horizon_days={bad}")
        assert response.status_code == 422
        page = unescape(response.get_data(as_text=True))
        assert "The horizon is a whole number of days from 1 to 90; showing 7 days." in page
    page = client.get("/needs?horizon_days=14&category=water").get_data(as_text=True)
    assert "next 14 days" in page
    assert f'id="item-{world.items["water"]}"' in page
    assert f'id="item-{world.items["blanket"]}"' not in page


def test_a_coordinator_records_an_estimate_and_the_water_need_follows(client_as, world):
    _water_per_person(world)
    db.session.commit()
    client = client_as("coordinator")
    assert _cells(client.get("/needs").get_data(as_text=True), world.items["water"])[11] == "500"
    form = client.get("/needs/people").get_data(as_text=True)
    assert '<option value="Grande-Synthe">' in form  # areas of the sites, offered
    today = re.search(r'name="as_of"[^>]*value="([\d-]+)"', form).group(1)
    response = client.post(
        "/needs/people",
        data={"area": "Calais", "people": 200, "as_of": today, "request_token": form_token(form)},
    )
    assert response.status_code == 302
    people = client.get("/needs/people").get_data(as_text=True)
    assert "Recorded 200 people in Calais" in people
    assert re.search(r'id="people-total">200<', people)
    # 200 people x 15 litres x 7 days = 21,000, plus 500 minimum stock.
    water = _cells(client.get("/needs").get_data(as_text=True), world.items["water"])
    assert (water[9], water[11], water[12]) == ("21,000 200 × 15", "21,500", "21,500")
    refused = client.post(
        "/needs/people", data={"area": "", "people": -3, "as_of": today, "request_token": "p-2"}
    )
    assert refused.status_code == 200 and "Number must be between 0 and 1000000" in unescape(
        refused.get_data(as_text=True)
    )


def test_donors_read_needs_without_site_details_or_estimate_form(client_as, world):
    client = client_as("donor")
    page = client.get("/needs").get_data(as_text=True)
    assert "Blanket" in page and "Unit 4" not in page  # no site details
    assert 'name="people"' not in client.get("/needs/people").get_data(as_text=True)
    # The alert pages and recording estimates are refused them: see test_permissions.


def test_a_coordinator_adds_a_webhook_and_switches_it_off(client_as, world, other_world):
    client = client_as("coordinator")
    hook = {
        "kind": "webhook",
        "target": "https://relay.example.org/hook",
        "min_severity": "critical",
        "mode": "immediate",
    }
    short = client.post("/alerts/channels", data={**hook, "secret": "abc", "request_token": "c-0"})
    assert "at least 16 characters" in short.get_data(as_text=True)
    response = client.post(
        "/alerts/channels", data={**hook, "secret": SECRET, "request_token": "c-1"}
    )
    assert response.status_code == 302
    (channel,) = alerts.channels_of(world.org_id)
    assert (channel.kind, channel.secret, channel.min_severity) == ("webhook", SECRET, "critical")
    page = client.get("/alerts/channels").get_data(as_text=True)
    assert "…WXYZ" in page and SECRET not in page
    assert "X-Logistics-Signature" in page

    switch = re.search(
        rf'<form[^>]*action="/alerts/channels/{channel.id}/active">(.*?)</form>', page, re.S
    )
    fields = re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', switch.group(1))
    response = client.post(f"/alerts/channels/{channel.id}/active", data=MultiDict(fields))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Channel, channel.id).active is False
    assert "Channel switched off: https://relay.example.org/hook." in unescape(
        client.get("/alerts/channels").get_data(as_text=True)
    )

    theirs = alerts.save_channel(other_world.org_id, kind="email", target="x@paris.example.org")
    db.session.commit()
    stolen = client.post(
        f"/alerts/channels/{theirs.id}/active", data={"active": "0", "request_token": "s-2"}
    )
    assert stolen.status_code == 404
    db.session.expire_all()
    assert db.session.get(Channel, theirs.id).active is True


def test_a_member_chooses_a_daily_digest(client_as, world):
    client = client_as("kitchen")
    page = client.get("/alerts/subscription").get_data(as_text=True)
    assert "Now: Nothing" in page
    response = client.post(
        "/alerts/subscription",
        data={"choice": "digest", "request_token": form_token(page)},
    )
    assert response.status_code == 302
    membership = accounts.user_by_email(world.email("kitchen")).memberships[0]
    assert alerts.subscription_of(world.org_id, membership.id) == "digest"
    page = client.get("/alerts/subscription").get_data(as_text=True)
    assert "Now: One e-mail a day listing the open shortages" in page
    assert re.search(r'<input checked[^>]*value="digest"', page)


def test_needs_rows_name_where_the_stock_is_and_round_the_figures(
    client_as, world, monkeypatch
) -> None:
    now = datetime.now(UTC)
    for site, quantity in (("main", 100), ("gs_store", 9), ("kitchen", 2), ("point", 1)):
        ledger.receive(
            world.org_id,
            None,
            site_id=world.sites[site],
            item_id=world.items["blanket"],
            quantity=quantity,
            occurred_at=now - timedelta(days=30),
        )
    ledger.record_loss(
        world.org_id,
        None,
        site_id=world.sites["main"],
        item_id=world.items["blanket"],
        quantity=3,
        reason="damp",
        occurred_at=now - timedelta(days=5),
    )
    db.session.commit()
    client = client_as("warehouse")
    html = client.get("/needs?show=all").get_data(as_text=True)
    # 3 used in 28 days: 0.107… a day, 0.75 over 7 days; 109 held last 1,017.33… days.
    row = _cells(html, world.items["blanket"])
    assert row[3] == "109 Main warehouse 97, Grande-Synthe store 9, Community kitchen 2, …"
    assert (row[4], row[8], row[13]) == ("0.11", "0.8", "1,017.3 7")
    assert "after evictions" not in html  # no eviction: no such column

    # Replacement after an eviction is its own term, in its own column.
    due = now + timedelta(hours=20)
    monkeypatch.setattr(
        needs_service.replacement, "demand", lambda org, moment: {world.items["tent"]: [(due, 40)]}
    )
    html = client.get("/needs").get_data(as_text=True)
    assert "+ after evictions" in html
    tent = _cells(html, world.items["tent"])
    assert (tent[10], tent[11], tent[12]) == ("40", "10", "50")  # replacement, min stock, need


def test_the_shortfall_pdf_writes_days_of_cover_to_one_decimal(app) -> None:
    # The needs service no longer rounds: f"{x:g}" would print 1017.33333333.
    assert [i18n.number(d) for d in (1017 + 1 / 3, 22.0, 0.05, 38.66)] == [
        "1,017.3",
        "22",
        "0.1",
        "38.7",
    ]


def test_needs_open_on_what_is_short_with_the_rest_one_tap_away(client_as, world):
    for key in ("blanket", "water"):  # held over their minimum of 10 for a week of no use
        ledger.receive(
            world.org_id, None, site_id=world.sites["main"], item_id=world.items[key], quantity=50
        )
    db.session.commit()
    client = client_as("coordinator")
    html = client.get("/needs").get_data(as_text=True)
    assert _cells(html, world.items["tent"])[2] == "warning"  # none held, under its minimum
    assert f'id="item-{world.items["blanket"]}"' not in html
    assert "Short only (4)" in html and "Every item (6)" in html
    assert 'href="/needs?show=all"' in html
    every = client.get("/needs?show=all").get_data(as_text=True)
    assert _cells(every, world.items["blanket"])[2] == "ok"
    bedding = client.get("/needs?category=bedding").get_data(as_text=True)
    assert f'id="item-{world.items["sleeping_bag"]}"' in bedding
    assert 'href="/needs?category=bedding&amp;show=all"' in bedding


def test_needs_come_a_page_at_a_time(client_as, world, monkeypatch):
    from logistics.views import needs as needs_views

    monkeypatch.setattr(needs_views, "NEEDS_PAGE", 3)
    client = client_as("coordinator")
    first = client.get("/needs?show=all").get_data(as_text=True)
    assert len(re.findall(r'<tr id="item-', first)) == 3
    assert "/needs?show=all&amp;page=2" in first
    second = client.get("/needs?show=all&page=2").get_data(as_text=True)
    assert len(re.findall(r'<tr id="item-', second)) == 3 and "page=3" not in second
    assert len(re.findall(r"<g\b", second)) <= 3  # the chart draws the page's items alone
