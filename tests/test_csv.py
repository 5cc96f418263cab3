"""CSV exports and imports as a coordinator and a warehouse volunteer use them."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from conftest import form_token
from factories import held
from sqlalchemy import func, select

from logistics.extensions import db
from logistics.models import StockMovement
from logistics.services import csv_io, ledger

PARIS = ZoneInfo("Europe/Paris")


def _count() -> int:
    db.session.rollback()  # see what the requests committed, not an older snapshot
    return db.session.scalar(select(func.count()).select_from(StockMovement))


def _rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def _receive(world, site: str, item: str, quantity: int, when: datetime | None = None) -> None:
    ledger.receive(
        world.org_id,
        world.users["warehouse"],
        site_id=world.sites[site],
        item_id=world.items[item],
        quantity=quantity,
        source="Secours populaire",
        occurred_at=when,
    )
    db.session.commit()


def _preview(client, world, content: bytes, mode: str = "delivery", site: str = "main", token=None):
    token = token or form_token(client.get("/csv").get_data(as_text=True))
    return client.post(
        "/csv/import",
        data={
            "file": (io.BytesIO(content), "import.csv"),
            "site_id": world.sites[site],
            "mode": mode,
            "kind": "donation",
            "source": "Église Saint-Pierre",
            "reason": "Monthly count",
            "request_token": token,
        },
    )


def _hidden_fields(page: str) -> dict[str, str]:
    fields = {}
    for tag in re.findall(r"<input[^>]*>", page):
        if 'type="hidden"' in tag:
            name = re.search(r'name="([^"]*)"', tag).group(1)
            value = re.search(r'value="([^"]*)"', tag)
            fields[name] = html.unescape(value.group(1)) if value else ""
    return fields


def _import(client, world, content: bytes, mode: str = "delivery", site: str = "main"):
    """Preview then confirm, as a volunteer clicking through; return the confirm response."""
    page = _preview(client, world, content, mode, site).get_data(as_text=True)
    assert "Confirm and save" in page, page
    return client.post("/csv/import/confirm", data=_hidden_fields(page))


def test_stock_export_lists_what_each_site_holds(client_as, world):
    _receive(world, "main", "blanket", 120)
    _receive(world, "gs_store", "shoes42", 15)
    ledger.transfer(
        world.org_id,
        world.users["warehouse"],
        from_site_id=world.sites["main"],
        to_site_id=world.sites["kitchen"],
        item_id=world.items["blanket"],
        quantity=20,
    )
    db.session.commit()
    client = client_as("coordinator")

    response = client.get("/csv/stock.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert re.fullmatch(
        r'attachment; filename="calais-aid-stock-\d{4}-\d{2}-\d{2}\.csv"', disposition
    )
    assert _rows(response) == [
        ["site", "area", "item", "size", "unit", "category", "quantity"],
        ["Community kitchen", "Calais", "Blanket", "", "piece", "bedding", "20"],
        ["Grande-Synthe store", "Grande-Synthe", "Shoes", "42", "pair", "clothing", "15"],
        ["Main warehouse", "Calais", "Blanket", "", "piece", "bedding", "100"],
    ]
    only_main = client.get(f"/csv/stock.csv?site_id={world.sites['main']}")
    assert [row[0] for row in _rows(only_main)[1:]] == ["Main warehouse"]
    assert "main-warehouse" in only_main.headers["Content-Disposition"]


def test_ledger_export_filters_by_local_date_and_site_and_streams(client_as, world):
    _receive(world, "main", "blanket", 50, datetime(2024, 3, 1, 12, 0, tzinfo=PARIS))
    _receive(world, "main", "tent", 8, datetime(2024, 3, 2, 23, 30, tzinfo=PARIS))
    _receive(world, "gs_store", "tarp", 30, datetime(2024, 3, 2, 10, 0, tzinfo=PARIS))
    # 00:30 on 3 March in Paris is still 2 March in UTC: the filter must use local days.
    _receive(world, "main", "water", 600, datetime(2024, 3, 3, 0, 30, tzinfo=PARIS))
    client = client_as("warehouse")

    response = client.get(
        f"/csv/ledger.csv?from=2024-03-02&to=2024-03-02&site_id={world.sites['main']}"
    )
    assert response.status_code == 200
    assert response.is_streamed
    filename = "calais-aid-ledger-main-warehouse-2024-03-02-to-2024-03-02.csv"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{filename}"'
    header, *rows = _rows(response)
    assert header == [
        "id", "occurred_at", "recorded_at", "kind", "site", "item", "size", "quantity",
        "source", "note", "transfer_group", "reverses_id",
    ]  # fmt: skip
    assert len(rows) == 1
    assert rows[0][1] == "2024-03-02T23:30:00+01:00"
    assert rows[0][2].endswith(("+01:00", "+02:00"))  # recorded now, shown in Paris time
    assert rows[0][3:10] == [
        "donation", "Main warehouse", "Tent", "2-person", "8", "Secours populaire", ""
    ]  # fmt: skip

    # Pages of two movements: every movement comes out once, in order, across pages.
    chunks = list(csv_io.ledger_csv(world.org_id, batch=2))
    assert len(chunks) == 1 + 2  # header, then two pages of two
    lines = list(csv.reader(io.StringIO("".join(chunks).lstrip("\ufeff"))))[1:]
    ids = [int(line[0]) for line in lines]
    assert ids == sorted(ids) and len(ids) == 4

    bad = client.get("/csv/ledger.csv?from=2024-03-05&to=2024-03-01")
    assert bad.status_code == 422
    assert "The end date is before the start date." in bad.get_data(as_text=True)


def test_delivery_import_receives_every_row(client_as, world):
    client = client_as("warehouse")
    content = b"Item,Size,Quantity,Comment\nBlanket,,120,from the church\nshoes,42,15,\n"

    preview = _preview(client, world, content)
    page = preview.get_data(as_text=True)
    assert "Shoes (42)" in page and "135 items in all" in page
    assert _count() == 0  # a preview writes nothing

    response = client.post("/csv/import/confirm", data=_hidden_fields(page))
    assert response.status_code == 302
    assert held(world, "main", "blanket") == 120
    assert held(world, "main", "shoes42") == 15
    sources = db.session.scalars(select(StockMovement.source)).all()
    assert sources == ["Église Saint-Pierre", "Église Saint-Pierre"]
    assert "Imported 2 rows: 135 items received at Main warehouse." in client.get("/").get_data(
        as_text=True
    )


def test_stocktake_import_sets_levels_to_the_counts(client_as, world):
    _receive(world, "main", "blanket", 120)
    _receive(world, "main", "sleeping_bag", 40)
    client = client_as("warehouse")
    content = b"item,size,quantity\nBlanket,,95\nSleeping bag,,40\nTent,2-person,6\n"

    page = _preview(client, world, content, mode="stocktake").get_data(as_text=True)
    blanket_row = re.search(r"<tr[^>]*>\s*<td class=\"num\">2</td>.*?</tr>", page, re.S).group(0)
    assert ">120<" in blanket_row and ">-25<" in blanket_row  # expected and difference
    assert "2 levels will change" in page

    response = client.post("/csv/import/confirm", data=_hidden_fields(page))
    assert response.status_code == 302
    assert held(world, "main", "blanket") == 95
    assert held(world, "main", "sleeping_bag") == 40
    assert held(world, "main", "tent") == 6
    kinds = db.session.scalars(select(StockMovement.kind).order_by(StockMovement.id)).all()
    assert kinds == ["donation", "donation", "adjustment", "adjustment"]


def test_one_bad_row_among_good_ones_writes_nothing(client_as, world):
    client = client_as("warehouse")
    good = _preview(client, world, b"item,size,quantity\nBlanket,,10\nTent,2-person,3\n")
    fields = _hidden_fields(good.get_data(as_text=True))
    # The confirm form is re-read, not trusted: swap in a file with a bad row.
    fields["content"] = csv_io.pack(
        b"item,size,quantity\nBlanket,,10\nShoes,45,4\nTent,2-person,3\n"
    )

    response = client.post("/csv/import/confirm", data=fields)
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert 'Row 3: No "Shoes" with size "45" in the catalogue (it has: 42).' in page
    assert "Confirm and save" not in page
    assert _count() == 0


def test_every_kind_of_bad_row_gets_its_own_message(app, world):
    content = (
        b"item,size,quantity\n"
        b"Blanket,,-3\n"
        b"Tent,2-person,2.5\n"
        b"Tarpaulin,4x6 m,\n"
        b"Blanket,,4\n"
        b"Sleeping bag,,1,200\n"
        b"Hat,,2\n"
        b"Drinking water,,1 500\n"
    )
    plan = csv_io.plan_import(world.org_id, content, mode="delivery", site_id=world.sites["main"])
    errors = {row.number: row.error for row in plan.bad_rows}
    assert errors == {
        2: "The quantity cannot be negative.",
        3: 'The quantity "2.5" is not a whole number.',
        4: "The quantity is missing.",
        5: "Blanket is already on row 2.",
        6: "This row has 4 values but the header has 3 columns "
        "(a comma inside a number? Write 1200, not 1,200).",
        7: 'No item called "Hat" in the catalogue.',
    }
    assert plan.rows[-1].quantity == 1500 and not plan.ok

    def file_error(data: bytes) -> list[str]:
        return csv_io.plan_import(
            world.org_id, data, mode="delivery", site_id=world.sites["main"]
        ).errors

    assert file_error(b"") == ["The file is empty."]
    assert file_error(b"item,size,quantity\n") == ["The file has a header but no rows."]
    assert "not a CSV file" in file_error(b"PK\x03\x04\x14\x00\x00\x00xlsx")[0]
    assert "first row must name the columns" in file_error(b"Blanket,,4\n")[0]
    assert "more than 5,000 rows" in file_error(b"item,quantity\n" + b"Blanket,1\n" * 5001)[0]


def test_semicolon_file_with_bom_from_french_excel(client_as, world):
    client = client_as("warehouse")
    content = "\ufeffArticle;Taille;Quantité\r\nCouverture;;3\r\nShoes;42;1 200\r\n;;\r\n"
    page = html.unescape(_preview(client, world, content.encode("utf-8")).get_data(as_text=True))
    assert 'Row 2: No item called "Couverture" in the catalogue.' in page

    content = "\ufeffItem;Size;Quantity\r\nBlanket;;3\r\nShoes;42;1 200\r\n;;\r\n"
    response = _import(client, world, content.encode("utf-8"))
    assert response.status_code == 302
    assert held(world, "main", "blanket") == 3
    assert held(world, "main", "shoes42") == 1200


def test_confirming_twice_with_one_token_records_once(client_as, world):
    client = client_as("warehouse")
    page = _preview(client, world, b"item,size,quantity\nBlanket,,10\n").get_data(as_text=True)
    fields = _hidden_fields(page)
    assert client.post("/csv/import/confirm", data=fields).status_code == 302
    assert client.post("/csv/import/confirm", data=fields).status_code == 302
    assert "Already recorded at " in client.get("/").get_data(as_text=True)
    assert _count() == 1
    assert held(world, "main", "blanket") == 10

    # The same upload page sent again after that import gets a fresh token, so it saves.
    again = _preview(client, world, b"item,quantity\nBlanket,5\n", token=fields["request_token"])
    assert _hidden_fields(again.get_data(as_text=True))["request_token"] != fields["request_token"]


def test_donor_may_neither_import_nor_export(client_as, world):
    client = client_as("donor")
    assert client.get("/csv").status_code == 403
    assert client.get("/csv/stock.csv").status_code == 403
    assert client.get("/csv/ledger.csv").status_code == 403
    assert _preview(client, world, b"item,quantity\nBlanket,5\n", token="t-1").status_code == 403
    confirm = client.post(
        "/csv/import/confirm",
        data={
            "content": csv_io.pack(b"item,quantity\nBlanket,5\n"),
            "mode": "delivery",
            "site_id": world.sites["main"],
            "request_token": "t-2",
        },
    )
    assert confirm.status_code == 403
    assert _count() == 0


def _import_site_selected(client) -> str:
    """Return the name of the site the import form starts on."""
    page = client.get("/csv").get_data(as_text=True)
    form = page[page.index('action="/csv/import"') :]
    return re.search(r"<option selected value=\"\d+\">([^<]+)</option>", form).group(1)


def test_import_starts_at_the_members_last_site_else_the_main_warehouse(client_as, world):
    client = client_as("warehouse")
    # Alphabet would start on "Community kitchen"; the main warehouse comes first.
    assert _import_site_selected(client) == "Main warehouse"
    _receive(world, "main", "blanket", 10)
    move = client.post(
        "/transfer",
        data={
            "item": "Blanket",
            "quantity": 4,
            "from_site_id": world.sites["main"],
            "to_site_id": world.sites["gs_store"],
            "request_token": "csv-start-1",
            "save": "Save",
        },
    )
    assert move.status_code == 302
    client.post(
        "/stocktake",
        data={
            "item": "Blanket",
            "counted": 4,
            "site_id": world.sites["gs_store"],
            "reason": "Stocktake",
            "request_token": "csv-start-2",
            "save": "Save",
        },
    )
    assert _import_site_selected(client) == "Grande-Synthe store"
