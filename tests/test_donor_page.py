"""What donors read: the needs they can meet in euros, the how-to-help block, their home page."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import factories
from conftest import SITES, form_token
from factories import assert_error
from PIL import Image
from sqlalchemy import func, select

from logistics.extensions import db
from logistics.jobs import run_job
from logistics.models import CATEGORIES, DonorPage, DonorSubscriber, Item, Pledge
from logistics.services import accounts, catalogue, distributions, donors, ledger
from logistics.views.reports import DONOR_PER_CATEGORY

PNG_EXIF_GPS = 0x8825


def png(size: tuple[int, int] = (40, 20), exif: bool = False) -> bytes:
    """Return a small real PNG, with an EXIF block holding GPS data when asked."""
    image = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    extra = {}
    if exif:
        data = Image.Exif()
        data[PNG_EXIF_GPS] = {1: "N", 2: (50.0, 57.0, 0.0)}
        extra["exif"] = data.tobytes()
    image.save(out, format="PNG", **extra)
    return out.getvalue()


def short_of(world, item: str, value: str | None, *, donatable: bool = True, needed: int = 30):
    """Make an item short by `needed` (its minimum stock) with a unit value; commit."""
    row = db.session.get(Item, world.items[item])
    row.min_stock = needed
    row.unit_value_eur = None if value is None else Decimal(value)
    row.donatable = donatable
    db.session.commit()


def test_donor_needs_leave_out_what_donors_cannot_bring_and_add_up_in_euros(app, world):
    short_of(world, "blanket", "8.50", needed=40)
    short_of(world, "tent", "45.00", needed=4)
    meal = catalogue.save_item(
        world.org_id, {"name": "Hot meal", "category": "food", "unit": "meal", "min_stock": 300}
    )
    meal.donatable = False
    db.session.commit()
    ledger.receive(
        world.org_id, None, site_id=world.sites["main"], item_id=world.items["blanket"], quantity=10
    )
    db.session.commit()
    wanted = donors.donor_needs(world.org_id)
    shorts = {n.label: (n.short, n.value_eur) for n in wanted.all}
    assert shorts["Blanket"] == (30, Decimal("255.00")) and shorts["Tent (2-person)"] == (
        4,
        Decimal("180"),
    )
    assert "Hot meal" not in shorts  # short by 300, but the kitchen makes it
    # Items without a unit value are listed, and the total says it leaves them out.
    assert wanted.total_eur == Decimal("435.00") and wanted.total_is_partial
    for item in db.session.scalars(select(Item).where(Item.unit_value_eur.is_(None))):
        item.unit_value_eur = Decimal("1")
    db.session.commit()
    complete = donors.donor_needs(world.org_id)
    assert not complete.total_is_partial
    assert complete.total_eur == 435 + sum(n.short for n in complete.all if n.unit_value_eur == 1)
    # Urgent first: nothing goes out in the next 48 hours here, so by category then value.
    assert [g.category for g in complete.groups] == sorted(
        {g.category for g in complete.groups}, key=catalogue_order
    )


def catalogue_order(category: str) -> int:
    return CATEGORIES.index(category)


def test_admin_fills_in_how_to_help_with_a_logo_and_donors_read_it(app, world, client_as):
    admin = client_as("admin")
    page = admin.get("/reports/donor-page")
    assert page.status_code == 200
    form = {
        "request_token": form_token(page.text),
        "drop_off": "Entrepôt, 12 rue des Dunes, Calais\nSide door, ring twice",
        "opening_hours": "Mon–Sat 10:00–17:00",
        "donation_url": "https://example.org/give",
        "contact_email": "Dons@Example.org",
        "logo": (io.BytesIO(png(exif=True)), "logo.png"),
    }
    saved = admin.post("/reports/donor-page", data=form, content_type="multipart/form-data")
    assert saved.status_code == 302
    stored = db.session.get(DonorPage, world.org_id)
    assert stored.contact_email == "dons@example.org" and stored.logo_type == "image/png"
    # Redrawn: the donor page never hands out where a phone photo was taken.
    assert Image.open(io.BytesIO(stored.logo)).getexif().get(PNG_EXIF_GPS) is None
    logo = app.test_client().get(f"/logo/{stored.logo_sha256}")
    assert logo.status_code == 200 and logo.mimetype == "image/png"
    assert "immutable" in logo.headers["Cache-Control"]
    assert app.test_client().get("/logo/" + "0" * 64).status_code == 404

    home = client_as("donor").get("/donor").text
    block = re.search(r'<section class="how-to-help".*?</section>', home, re.S).group(0)
    assert "12 rue des Dunes, Calais<br>Side door, ring twice" in block
    assert "Mon–Sat 10:00–17:00" in block and 'href="https://example.org/give"' in block
    assert "mailto:dons@example.org" in block and f"/logo/{stored.logo_sha256}" in block
    for details in (details for *_, details in SITES.values()):
        assert details not in home

    bad = {
        "request_token": "second",
        "donation_url": "javascript:alert(1)",
        "logo": (io.BytesIO(b"GIF89a not a png"), "logo.gif"),
    }
    refused = admin.post("/reports/donor-page", data=bad, content_type="multipart/form-data")
    assert refused.status_code == 200
    db.session.rollback()
    assert db.session.get(DonorPage, world.org_id).donation_url == "https://example.org/give"
    big = {"request_token": "third", "logo": (io.BytesIO(b"\x89PNG" + b"0" * 1_100_000), "a.png")}
    too_big = admin.post("/reports/donor-page", data=big, content_type="multipart/form-data")
    assert too_big.status_code == 200 and "larger than 1 MB" in too_big.text
    assert client_as("coordinator").get("/reports/donor-page").status_code == 403


def test_the_donor_page_through_the_api(app, world, api):
    admin = api("admin")
    put = admin.client.put(
        "/api/v1/donor-page",
        json={"drop_off": "Hall, 3 quai de la Loire", "opening_hours": "Sat 14–18"},
        headers=admin.headers,
    )
    assert put.status_code == 200, put.get_json()
    assert put.get_json()["drop_off"] == "Hall, 3 quai de la Loire"
    # Left out stays; an empty string clears.
    again = admin.client.put(
        "/api/v1/donor-page", json={"opening_hours": ""}, headers=admin.headers
    ).get_json()
    assert again["drop_off"] == "Hall, 3 quai de la Loire" and again["opening_hours"] == ""
    shown = api("donor").get("/donor-page").get_json()
    assert shown == {**again, "logo_url": None}
    donor = api("donor")
    forbidden = donor.client.put("/api/v1/donor-page", json={}, headers=donor.headers)
    assert_error(forbidden, 403, "forbidden")
    bad = admin.client.put(
        "/api/v1/donor-page", json={"donation_url": "ftp://x"}, headers=admin.headers
    )
    assert_error(bad, 422, "invalid", "donation_url")
    bad_mail = admin.client.put(
        "/api/v1/donor-page", json={"contact_email": "nobody"}, headers=admin.headers
    )
    assert_error(bad_mail, 422, "invalid", "contact_email")


def test_items_say_whether_donors_can_bring_them(app, world, api, client_as):
    coordinator = api("coordinator")
    made = coordinator.post(
        "/items", {"name": "Hot meal", "category": "food", "unit": "meal", "donatable": False}
    )
    assert made.status_code == 201 and made.get_json()["donatable"] is False
    blanket = coordinator.get("/items").get_json()["items"]
    assert {i["name"]: i["donatable"] for i in blanket}["Blanket"] is True
    changed = coordinator.client.patch(
        f"/api/v1/items/{world.items['blanket']}",
        json={"donatable": False},
        headers=coordinator.headers,
    )
    assert changed.status_code == 200 and changed.get_json()["donatable"] is False
    short_of(world, "blanket", "8.50", donatable=False)
    short_of(world, "tent", "45.00", needed=2)
    home = client_as("donor").get("/donor").text
    assert "Tent" in home and "Blanket" not in home
    form = client_as("admin").get(f"/items/{world.items['tent']}/edit").text
    assert 'name="donatable"' in form and "checked" in re.search(
        r'<input[^>]*name="donatable"[^>]*>', form
    ).group(0)


def test_a_donor_lands_on_what_to_give(app, world, client_as):
    short_of(world, "tent", "45.00", needed=3)
    donor = client_as("donor")
    landing = donor.get("/login", follow_redirects=False)
    assert landing.headers["Location"].endswith("/donor")
    page = donor.get("/donor").text
    assert "What Calais Aid needs" in page and "about €135" in page
    assert donor.get("/donor/report.pdf").mimetype == "application/pdf"
    assert client_as("warehouse").get("/login").headers["Location"].endswith("/")


def test_a_category_lists_its_most_urgent_needs_and_sends_to_the_pdf_for_the_rest(
    app, world, client_as
):
    for number in range(DONOR_PER_CATEGORY + 3):
        factories.item(
            world.org_id, f"Sock pack {number:02d}", "clothing", min_stock=5 + number, commit=False
        )
    db.session.commit()
    page = client_as("donor").get("/donor").text
    clothing = page[page.index('id="category-clothing"') :]
    clothing = clothing[: clothing.index("</section>")]
    listed = [int(i) for i in re.findall(r'id="need-(\d+)"', clothing)]
    group = next(g for g in donors.donor_needs(world.org_id).groups if g.category == "clothing")
    # The most urgent first, as the report orders them; the rest are counted, and the PDF has them.
    assert listed == [n.item_id for n in group.needs[:DONOR_PER_CATEGORY]]
    more = len(group.needs) - DONOR_PER_CATEGORY
    assert more >= 3
    assert f'<a href="/donor/report.pdf">{more} more in the report (PDF)</a>' in clothing


def test_the_donor_page_reads_in_french(app, world, client_as):
    short_of(world, "tent", "1500.00", needed=3)
    accounts.set_user_language(world.users["donor"], "fr")
    db.session.commit()
    page = client_as("donor").get("/donor").text
    assert "environ 4\u202f500\u00a0€" in page and "Ce dont" in page


def test_the_housekeeping_job_lapses_pledges_and_forgets_addresses(app, world):
    now = datetime.now(UTC)
    today = distributions.local_today(world.org_id)
    late = Pledge(
        organisation_id=world.org_id,
        item_id=world.items["tent"],
        quantity=5,
        expected_on=today - timedelta(days=4),
        contact_email="late@example.net",
        source="link",
    )
    due_today = Pledge(
        organisation_id=world.org_id,
        item_id=world.items["tent"],
        quantity=5,
        expected_on=today - timedelta(days=3),
        source="link",
    )
    closed = Pledge(
        organisation_id=world.org_id,
        item_id=world.items["blanket"],
        quantity=5,
        expected_on=today - timedelta(days=40),
        contact_email="thanked@example.net",
        source="donor",
        status="received",
        closed_at=now - timedelta(days=31),
    )
    stale = DonorSubscriber(
        organisation_id=world.org_id, email="never@example.net", created_at=now - timedelta(days=8)
    )
    db.session.add_all([late, due_today, closed, stale])
    db.session.commit()
    summary = run_job(app, "donor-housekeeping")
    assert summary == (
        "1 pledge(s) lapsed; 1 pledge contact(s) and 1 unconfirmed subscriber(s) deleted."
    )
    db.session.rollback()
    assert (late.status, due_today.status) == ("lapsed", "open")
    assert late.contact_email == "late@example.net"  # kept 30 days after it lapsed
    assert closed.contact_email is None
    assert db.session.scalar(select(func.count(DonorSubscriber.id))) == 0
