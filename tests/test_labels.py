"""Labels with QR codes (issue 18): the code a phone's camera reads opens the shelf or the box.

Each QR code is read back by zxing-cpp (a decoder nobody here wrote) from the PDF page as
pypdfium2 draws it, then the link it holds is followed as a volunteer's phone would.
"""

from __future__ import annotations

import io
import re
from html import unescape
from urllib.parse import urlsplit

import pypdfium2
import pytest
import zxingcpp
from conftest import SITES, form_token
from factories import assert_error, receive
from pypdf import PdfReader
from reportlab.lib.units import mm
from sqlalchemy import func, select

from logistics.extensions import db
from logistics.models import Box, StockMovement
from logistics.services import labels, ledger

BASE = "https://aid.example.org"
DETAILS = [details for _name, _kind, _area, details in SITES.values()]


@pytest.fixture(autouse=True)
def _base_url(app):
    app.config["BASE_URL"] = BASE


def qr_links(data: bytes) -> list[list[str]]:
    """Return, page by page, the text of every QR code zxing-cpp finds on the drawn page."""
    document = pypdfium2.PdfDocument(data)
    found = []
    for index in range(len(document)):
        image = document[index].render(scale=4).to_pil()
        found.append(sorted(code.text for code in zxingcpp.read_barcodes(image)))
    document.close()
    return found


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def page_widths(data: bytes) -> list[float]:
    return [float(page.mediabox.width) for page in PdfReader(io.BytesIO(data)).pages]


def shelf_link(world, site: str, item: str) -> str:
    return f"{BASE}/shelf/{world.sites[site]}/{world.items[item]}"


def links_of(html: str) -> dict[str, str]:
    """Return the big buttons of a shelf or box page (not the menu's): words and where they go."""
    block = re.search(r'<ul class="field-actions shelf-actions">(.*?)</ul>', html, re.S)
    buttons = re.findall(r'<li><a href="([^"]+)">([^<]+)</a></li>', block.group(1) if block else "")
    return {unescape(words): unescape(href) for href, words in buttons}


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_a_shelf_label_opens_its_shelf_and_the_page_records_a_count(app, world, api, client_as):
    receive(world, "main", "blanket", 40)
    receive(world, "main", "sleeping_bag", 12)
    receive(world, "gs_store", "tent", 5)  # another site's stock: not on this sheet

    response = api("warehouse").get("/labels.pdf", site_id=world.sites["main"])

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    pdf = response.get_data()
    assert qr_links(pdf) == [
        sorted([shelf_link(world, "main", "blanket"), shelf_link(world, "main", "sleeping_bag")])
    ]
    text = pdf_text(pdf)
    assert "Blanket" in text and "Sleeping bag" in text and "Main warehouse" in text
    assert "Tent" not in text
    assert not any(details in text for details in DETAILS)

    # The phone's camera opens the link; the volunteer is signed in on it.
    phone = client_as("warehouse")
    shelf = phone.get(urlsplit(shelf_link(world, "main", "blanket")).path)
    assert shelf.status_code == 200
    page = shelf.get_data(as_text=True)
    assert "Held here now: 40 pieces" in text_of(page)
    buttons = links_of(page)
    assert list(buttons)[:4] == ["Count", "Give out", "Move", "Receive"]

    count_page = phone.get(buttons["Count"]).get_data(as_text=True)
    assert 'value="Blanket"' in count_page
    assert f'value="{world.sites["main"]}" checked' in count_page
    counted = phone.post(
        buttons["Count"],
        data={
            "item": "Blanket",
            "counted": 37,
            "site_id": world.sites["main"],
            "reason": "Stocktake",
            "request_token": form_token(count_page),
            "save": "Save",
        },
    )
    assert counted.status_code == 302
    db.session.rollback()
    assert ledger.held(world.sites["main"], world.items["blanket"]) == 37
    kinds = db.session.scalars(
        select(StockMovement.kind).where(StockMovement.item_id == world.items["blanket"])
    ).all()
    assert sorted(kinds) == ["adjustment", "donation"]


def test_single_labels_are_62_mm_wide_one_per_item_named(app, world, api):
    receive(world, "main", "blanket", 40)
    client = api("coordinator")
    # item_id repeated, as a form sends it; water is held nowhere, but named it is printed.
    response = client.client.get(
        "/api/v1/labels.pdf",
        query_string=[
            ("site_id", world.sites["main"]),
            ("item_id", world.items["water"]),
            ("item_id", world.items["blanket"]),
            ("format", "62mm"),
        ],
        headers=client.headers,
    )

    assert response.status_code == 200, response.get_data(as_text=True)
    pdf = response.get_data()
    assert page_widths(pdf) == pytest.approx([62 * mm, 62 * mm])
    # In the order named.
    assert qr_links(pdf) == [
        [shelf_link(world, "main", "water")],
        [shelf_link(world, "main", "blanket")],
    ]
    # Commas name several items too.
    joined = client.get(
        "/labels.pdf",
        site_id=world.sites["main"],
        item_id=f"{world.items['water']},{world.items['tent']}",
    )
    assert joined.status_code == 200
    assert "Drinking water" in pdf_text(joined.get_data())
    assert "Tent" in pdf_text(joined.get_data())


def test_the_labels_page_prints_the_ticked_items_and_refuses_clearly(app, world, client_as):
    receive(world, "main", "blanket", 40)
    client = client_as("warehouse")
    form = client.get(f"/labels?site_id={world.sites['gs_store']}").get_data(as_text=True)
    assert f'value="{world.sites["gs_store"]}" checked' in form
    assert f'name="item_id" value="{world.items["tent"]}"' in form

    sheet = client.get(
        f"/labels.pdf?site_id={world.sites['main']}&item_id={world.items['tent']}&format=a4"
    )
    assert sheet.status_code == 200 and sheet.mimetype == "application/pdf"
    assert sheet.headers["Cache-Control"] == "private, no-store"
    assert qr_links(sheet.get_data()) == [[shelf_link(world, "main", "tent")]]

    # A site that holds nothing, with nothing ticked: said on the form, not a 500 or an empty PDF.
    empty = client.get(f"/labels.pdf?site_id={world.sites['kitchen']}")
    assert empty.status_code == 200 and empty.mimetype == "text/html"
    assert "Community kitchen holds nothing now: choose the items to print labels for." in text_of(
        empty.get_data(as_text=True)
    )
    for query in ("", "site_id=abc", "site_id=999999", f"site_id={world.sites['main']}&format=x"):
        refused = client.get(f"/labels.pdf?{query}")
        assert refused.status_code == 200 and refused.mimetype == "text/html", query
        assert 'class="errors"' in refused.get_data(as_text=True) or "error" in refused.get_data(
            as_text=True
        )


def test_api_refuses_what_it_cannot_print(app, world, other_world, api):
    receive(world, "main", "blanket", 4)
    client = api("warehouse")
    assert_error(client.get("/labels.pdf"), 422, "invalid", "site_id")
    assert_error(client.get("/labels.pdf", site_id="x"), 400, "bad_request", "site_id")
    assert_error(
        client.get("/labels.pdf", site_id=world.sites["main"], format="letter"), 422, "invalid"
    )
    # Another organisation's site or item is not found, never printed.
    assert_error(client.get("/labels.pdf", site_id=other_world.sites["main"]), 404, "not_found")
    assert_error(
        client.get(
            "/labels.pdf", site_id=world.sites["main"], item_id=other_world.items["blanket"]
        ),
        404,
        "not_found",
    )
    assert_error(client.get("/labels.pdf", site_id=world.sites["point"]), 422, "invalid")
    # Donors read stock but print no labels.
    assert_error(api("donor").get("/labels.pdf", site_id=world.sites["main"]), 403, "forbidden")


def test_a_box_label_opens_the_box_which_moves_through_the_ledger(app, world, client_as):
    receive(world, "main", "sleeping_bag", 50)
    client = client_as("warehouse")
    new = client.get(
        f"/boxes/new?site_id={world.sites['main']}&item_id={world.items['sleeping_bag']}"
    ).get_data(as_text=True)
    assert 'value="Sleeping bag"' in new
    made = client.post(
        "/boxes/new",
        data={
            "item": "Sleeping bag",
            "quantity": 20,
            "site_id": world.sites["main"],
            "request_token": form_token(new),
        },
    )
    assert made.status_code == 302
    box_path = urlsplit(made.headers["Location"]).path
    db.session.rollback()
    box = db.session.scalars(select(Box)).one()
    assert (box.code, box.quantity, box.site_id) == ("B-0001", 20, world.sites["main"])
    assert box_path == f"/box/{box.id}"
    # Making a box writes no movement: the stock was recorded when it came in.
    assert ledger.held(world.sites["main"], world.items["sleeping_bag"]) == 50

    label = client.get(f"/box/{box.id}/label.pdf")
    assert label.status_code == 200
    assert page_widths(label.get_data()) == pytest.approx([62 * mm])
    assert qr_links(label.get_data()) == [[f"{BASE}/box/{box.id}"]]
    assert "B-0001" in pdf_text(label.get_data()) and "20 pieces" in pdf_text(label.get_data())

    page = client.get(box_path).get_data(as_text=True)
    assert "20 pieces · Sleeping bag" in text_of(page)
    move = {
        "to_site_id": world.sites["gs_store"],
        "request_token": form_token(page),
        "move": "Move the box",
    }
    first_move = client.post(f"/box/{box.id}/move", data=move)
    assert first_move.status_code == 302, text_of(first_move.get_data(as_text=True))
    # Sent twice (a double tap, a weak signal): moved once.
    assert client.post(f"/box/{box.id}/move", data=move).status_code == 302
    db.session.rollback()
    assert ledger.held(world.sites["main"], world.items["sleeping_bag"]) == 30
    assert ledger.held(world.sites["gs_store"], world.items["sleeping_bag"]) == 20
    assert db.session.get(Box, box.id).site_id == world.sites["gs_store"]
    moved = db.session.scalars(
        select(StockMovement).where(StockMovement.kind.in_(("transfer_out", "transfer_in")))
    ).all()
    assert sorted((m.kind, m.quantity, m.note) for m in moved) == [
        ("transfer_in", 20, "B-0001"),
        ("transfer_out", -20, "B-0001"),
    ]

    page = client.get(box_path).get_data(as_text=True)
    assert "At Grande-Synthe store" in text_of(page)
    emptied = client.post(
        f"/box/{box.id}/empty", data={"request_token": form_token(page), "empty": "1"}
    )
    assert emptied.status_code == 302
    db.session.rollback()
    assert db.session.get(Box, box.id).emptied_at is not None
    assert ledger.held(world.sites["gs_store"], world.items["sleeping_bag"]) == 20
    page = client.get(box_path).get_data(as_text=True)
    assert "Emptied " in page and "Move the box" not in page

    # An emptied box moves no more, even from a form opened before.
    again = client.post(
        f"/box/{box.id}/move",
        data={"to_site_id": world.sites["main"], "request_token": "late-move"},
    )
    assert again.status_code == 200
    assert "Box B-0001 has been emptied." in text_of(again.get_data(as_text=True))
    assert ledger.held(world.sites["main"], world.items["sleeping_bag"]) == 30


def test_a_box_holds_only_recorded_stock_and_codes_are_unique(app, world, client_as):
    receive(world, "main", "blanket", 10)
    client = client_as("warehouse")

    def make(**values):
        data = {
            "item": "Blanket",
            "quantity": 5,
            "site_id": world.sites["main"],
            "request_token": form_token(client.get("/boxes/new").get_data(as_text=True)),
        } | values
        return client.post("/boxes/new", data=data)

    too_many = make(quantity=11)
    assert too_many.status_code == 200
    assert "Only 10 Blanket at Main warehouse: record them coming in before boxing 11." in text_of(
        too_many.get_data(as_text=True)
    )
    assert make(code=" b-7 ").status_code == 302
    taken = make(code="B-7")
    assert "There is already a box B-7." in text_of(taken.get_data(as_text=True))
    bad = make(code="box #1")
    assert "A box code is up to 20 letters, digits and dashes." in text_of(
        bad.get_data(as_text=True)
    )
    assert make().status_code == 302
    db.session.rollback()
    assert sorted(db.session.scalars(select(Box.code))) == ["B-0002", "B-7"]


@pytest.mark.parametrize("role", ["donor", "kitchen"])
def test_who_sees_what_on_the_shelf_page(app, world, client_as, role):
    receive(world, "main", "blanket", 3)
    labels.create_box(
        world.org_id, None, site_id=world.sites["main"], item_id=world.items["blanket"], quantity=3
    )
    db.session.commit()
    client = client_as(role)
    page = client.get(urlsplit(shelf_link(world, "main", "blanket")).path).get_data(as_text=True)
    assert "Blanket" in page and "Main warehouse" in page and "B-0001" in page
    assert not any(details in page for details in DETAILS)
    box_id = db.session.scalar(select(Box.id))
    box_page = client.get(f"/box/{box_id}").get_data(as_text=True)
    assert not any(details in box_page for details in DETAILS)
    if role == "donor":
        # A donor reads what is held and acts on nothing.
        assert links_of(page) == {}
        assert "Move the box" not in box_page
        assert client.get("/labels").status_code == 403
        assert client.get(f"/box/{box_id}/label.pdf").status_code == 403
    else:
        assert list(links_of(page))[:4] == ["Count", "Give out", "Move", "Receive"]


def test_another_organisations_shelves_and_boxes_are_not_found(app, world, other_world, client_as):
    receive(other_world, "main", "blanket", 3)
    theirs = labels.create_box(
        other_world.org_id,
        None,
        site_id=other_world.sites["main"],
        item_id=other_world.items["blanket"],
        quantity=3,
    )
    db.session.commit()
    client = client_as("admin")
    assert (
        client.get(f"/shelf/{other_world.sites['main']}/{world.items['blanket']}").status_code
        == 404
    )
    assert (
        client.get(f"/shelf/{world.sites['main']}/{other_world.items['blanket']}").status_code
        == 404
    )
    assert client.get(f"/box/{theirs.id}").status_code == 404
    assert client.get(f"/box/{theirs.id}/label.pdf").status_code == 404
    moved = client.post(
        f"/box/{theirs.id}/move", data={"to_site_id": world.sites["main"], "request_token": "x1"}
    )
    assert moved.status_code == 404
    assert client.post(f"/box/{theirs.id}/empty", data={"request_token": "x2"}).status_code == 404
    db.session.rollback()
    assert db.session.get(Box, theirs.id).emptied_at is None
    count = db.session.scalar(select(func.count()).select_from(StockMovement))
    assert count == 1


def test_the_shelf_buttons_fill_in_each_form(app, world, client_as):
    client = client_as("warehouse")
    main, blanket = world.sites["main"], world.items["blanket"]
    receive_page = client.get(f"/receive?item_id={blanket}&site_id={main}").get_data(as_text=True)
    assert 'value="Blanket"' in receive_page and f'value="{main}" checked' in receive_page
    give = client.get(f"/give-out?item_id={blanket}&source_site_id={main}").get_data(as_text=True)
    assert re.search(r'name="lines-0-item"[^>]*value="Blanket"', give) or re.search(
        r'value="Blanket"[^>]*name="lines-0-item"', give
    )
    assert re.search(
        rf'<select[^>]*name="lines-0-source"[^>]*>.*?<option selected value="{main}">', give, re.S
    ) or re.search(rf'<option value="{main}" selected>', give)
    # Ids of nothing, or of another organisation, fill nothing in.
    odd = client.get("/receive?item_id=999999&site_id=abc")
    assert odd.status_code == 200
    assert not re.search(r'name="item"[^>]*value="Blanket"', odd.get_data(as_text=True))


def test_a_french_volunteer_reads_the_shelf_and_the_label_in_french(app, world, client_as):
    receive(world, "main", "blanket", 1750)
    client = client_as("warehouse")
    assert client.post("/account/language", data={"locale": "fr"}).status_code == 303
    html = client.get(urlsplit(shelf_link(world, "main", "blanket")).path).get_data(as_text=True)
    assert "En stock ici\u00a0:" in html  # a no-break space before the colon
    assert "En stock ici : 1 750 pièces" in text_of(html)
    assert list(links_of(html)) == ["Inventaire", "Distribuer", "Déplacer", "Réceptionner"]
    sheet = client.get(f"/labels.pdf?site_id={world.sites['main']}&format=62mm")
    text = pdf_text(sheet.get_data())
    assert "Scanner" in text and "inventaire, distribuer, déplacer, réceptionner" in text
    assert qr_links(sheet.get_data()) == [[shelf_link(world, "main", "blanket")]]
