"""Report pages as members use them: make, read and download PDFs; share links; the command."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from html import unescape
from pathlib import Path

import pytest
from conftest import SITES, form_token
from pypdf import PdfReader
from sqlalchemy import func, select

from logistics.extensions import db
from logistics.models import Item, Report, ShareLink, User
from logistics.services import distributions, incidents, ledger, reports
from logistics.services.incidents import IncidentInput, LineInput
from logistics.services.reports import ReportRequest

SECRET_DESCRIPTION = "Tents slashed behind the Lidl car park at dawn."


def pdf_text(data: bytes) -> str:
    """Return every page's text, whitespace folded, after pypdf has read each page."""
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) >= 1
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def needs_cells(html: str, item_id: int) -> list[str]:
    """Return the text of each cell of an item's row on the needs page."""
    match = re.search(rf'<tr id="(?:need|item)-{item_id}"[^>]*>(.*?)</tr>', html, re.S)
    assert match, f"no row for item {item_id}"
    cells = re.findall(r"<td[^>]*>(.*?)</td>", match.group(1), re.S)
    return [" ".join(unescape(re.sub(r"<[^>]+>", " ", c)).split()) for c in cells]


@pytest.fixture
def short(world):
    """Blankets critical (60 held, 100 going out tomorrow), an eviction with a description."""
    ledger.receive(
        world.org_id, None, site_id=world.sites["main"], item_id=world.items["blanket"], quantity=60
    )
    tomorrow = distributions.local_today(world.org_id) + timedelta(days=1)
    zone = distributions.organisation_zone(world.org_id)
    distribution = distributions.create_one_off(
        world.org_id,
        site_id=world.sites["point"],
        source_site_id=world.sites["main"],
        starts_at=datetime.combine(tomorrow, time(18), zone),
        lines=[(world.items["blanket"], 100)],
    )
    incidents.record_incident(
        world.org_id,
        None,
        IncidentInput(
            occurred_at=datetime.now(UTC) - timedelta(hours=3),
            kind="eviction",
            area="Calais",
            site_id=world.sites["point"],
            description=SECRET_DESCRIPTION,
            lines=[LineInput(world.items["tent"], 4, "after_distribution", "slashed")],
        ),
    )
    db.session.commit()
    return distribution.id


def make(app, world, kind: str = "shortfall") -> Report:
    today = distributions.local_today(world.org_id)
    period = ReportRequest(kind, today - timedelta(days=6), today)
    report = reports.generate(world.org_id, None, period, Path(app.config["REPORTS_DIR"]))
    db.session.commit()
    return report


def report_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(Report.id)))


def test_coordinator_makes_the_donor_report_and_it_matches_the_needs_page(
    app, world, short, client_as
):
    coordinator = client_as("coordinator")
    page = coordinator.get("/reports").get_data(as_text=True)
    for kind in ("shortfall", "evidence", "stocktake", "run_sheet"):
        assert f'value="{kind}"' in page
    today = distributions.local_today(world.org_id)
    form = {
        "request_token": form_token(page),
        "kind": "shortfall",
        "first": (today - timedelta(days=6)).isoformat(),
        "last": today.isoformat(),
        "site_id": "0",
        "distribution_id": "0",
        "day": today.isoformat(),
    }
    made = coordinator.post("/reports", data=form)
    assert made.status_code == 302
    assert coordinator.post("/reports", data=form).status_code == 302  # a double click
    assert report_count() == 1
    report = db.session.scalar(select(Report))
    assert report.created_by_id == world.users["coordinator"]
    archive = coordinator.get(made.headers["Location"]).get_data(as_text=True)
    assert f'href="/reports/{report.id}.pdf"' in archive and report.sha256 in archive
    assert "Donor shortfall report made and archived." in archive
    refused = coordinator.post("/reports", data={**form, "request_token": "2", "kind": "stocktake"})
    assert refused.status_code == 200 and "Choose the site." in refused.text
    assert report_count() == 1

    download = coordinator.get(f"/reports/{report.id}.pdf")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert hashlib.sha256(download.data).hexdigest() == report.sha256
    text = pdf_text(download.data)
    assert "Calais Aid · Shortfall report" in text
    cells = needs_cells(coordinator.get("/needs").get_data(as_text=True), world.items["blanket"])
    # The held cell names the sites after its total.
    held, shortfall = cells[2].split()[0], cells[11]
    assert (held, shortfall) == ("60", "50")
    assert f"Urgent: {shortfall} Blanket" in text
    assert f"Blanket {shortfall} pieces – – Urgent" in text


def test_a_donor_reads_only_shortfall_reports(app, world, client_as):
    shortfall = make(app, world)
    evidence = make(app, world, "evidence")
    donor = client_as("donor")
    page = donor.get("/reports").get_data(as_text=True)
    assert f'id="report-{shortfall.id}"' in page
    assert f'id="report-{evidence.id}"' not in page
    assert 'name="kind"' not in page  # no form to make reports
    assert donor.get(f"/reports/{shortfall.id}.pdf").status_code == 200
    assert donor.get(f"/reports/{evidence.id}.pdf").status_code == 404
    assert donor.post("/reports", data={"kind": "shortfall"}).status_code == 403
    warehouse = client_as("warehouse")
    assert 'value="evidence"' not in warehouse.get("/reports").get_data(as_text=True)
    assert warehouse.get(f"/reports/{evidence.id}.pdf").status_code == 404
    # Any member may ask for the weekly donor report by e-mail.
    toggle = donor.post("/reports/subscription", data={"request_token": "sub-1", "wanted": "1"})
    assert toggle.status_code == 302
    membership = next(
        m
        for m in db.session.get(User, world.users["donor"]).memberships
        if m.organisation_id == world.org_id
    )
    assert reports.report_subscribed(world.org_id, membership.id)
    assert "Stop the weekly e-mail" in donor.get("/reports").get_data(as_text=True)


def test_an_altered_archived_file_is_refused(app, world, client_as):
    report = make(app, world)
    path = Path(app.config["REPORTS_DIR"]) / report.file_path
    path.write_bytes(path.read_bytes() + b"%one byte more\n")
    response = client_as("coordinator").get(f"/reports/{report.id}.pdf")
    assert response.status_code == 409
    assert "altered" in response.get_data(as_text=True)


def test_run_sheet_and_count_sheet_buttons_make_and_hand_over_the_pdf(
    app, world, other_world, short, client_as
):
    warehouse = client_as("warehouse")
    page = warehouse.get(f"/distributions/{short}").get_data(as_text=True)
    assert f'action="/reports/run-sheet/{short}"' in page
    token = re.search(r'name="request_token" value="([0-9a-f]+)"', page).group(1)
    made = warehouse.post(f"/reports/run-sheet/{short}", data={"request_token": token})
    assert made.status_code == 302 and made.headers["Location"].endswith(".pdf")
    assert "Distribution run sheet" in pdf_text(warehouse.get(made.headers["Location"]).data)

    main = world.sites["main"]
    assert f'action="/reports/count-sheet/{main}"' in warehouse.get(f"/?site_id={main}").get_data(
        as_text=True
    )
    made = warehouse.post(f"/reports/count-sheet/{main}", data={"request_token": "count-1"})
    text = pdf_text(warehouse.get(made.headers["Location"]).data)
    assert "Stocktake count sheet" in text and "Blanket pieces 60" in text
    assert report_count() == 2
    other = other_world.sites["main"]
    assert warehouse.post(f"/reports/count-sheet/{other}", data={}).status_code == 404
    assert client_as("donor").post(f"/reports/count-sheet/{main}", data={}).status_code == 403


def test_the_command_writes_the_archived_pdf(app, world, tmp_path):
    out = tmp_path / "out" / "donors.pdf"
    result = app.test_cli_runner().invoke(
        args=["report", "shortfall", "--org", world.slug, "--out", str(out), "--from", "2024-11-01"]
    )
    assert result.exit_code == 0, result.output
    report = db.session.scalar(select(Report))
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    assert digest == report.sha256 and report.created_by_id is None
    assert str(out) in result.output and f"SHA-256 {digest}" in result.output
    assert report.period_start.isoformat() == "2024-11-01"
    for args, message in (
        (["report", "shortfall", "--org", "nobody"], "organisation"),
        (["report", "shortfall", "--org", world.slug, "--to", "01/11/2024"], "YYYY-MM-DD"),
        (["report", "stocktake", "--org", world.slug], "site"),
        (["report", "weekly", "--org", world.slug], "KIND is one of"),
    ):
        failed = app.test_cli_runner().invoke(args=[*args, "--out", str(tmp_path / "x.pdf")])
        assert failed.exit_code == 1 and message in failed.output, failed.output
    assert report_count() == 1 and not (tmp_path / "x.pdf").exists()


def test_a_share_link_shows_the_summary_until_revoked(app, world, other_world, short, client_as):
    admin = client_as("admin")
    page = admin.get("/reports/share-links").get_data(as_text=True)
    form = {"request_token": form_token(page), "label": "Parish newsletter", "days": "30"}
    created = admin.post("/reports/share-links", data=form)
    assert created.status_code == 200
    url = re.search(r'<code class="token">([^<]+)</code>', created.get_data(as_text=True)).group(1)
    assert url.startswith(f"{app.config['BASE_URL']}/share/")
    token = url.rsplit("/", 1)[1]
    # A double click records once and never shows the address again.
    replay = admin.post("/reports/share-links", data=form, follow_redirects=True)
    assert token not in replay.get_data(as_text=True)
    assert db.session.scalar(select(func.count(ShareLink.id))) == 1
    assert client_as("coordinator").get("/reports/share-links").status_code == 403

    visitor = app.test_client()  # no login, like a donor in a private window
    db.session.get(Item, world.items["blanket"]).unit_value_eur = Decimal("8.50")
    db.session.commit()
    # Current figures at once: no report has been made, none is needed.
    shared = visitor.get(f"/share/{token}")
    html = shared.get_data(as_text=True)
    assert shared.status_code == 200 and shared.headers["Referrer-Policy"] == "no-referrer"
    assert '<meta name="robots" content="noindex' in html
    assert "Calais Aid" in html
    top = re.search(r'<ol class="top-needs".*?</ol>', html, re.S).group(0)
    assert "50 Blanket" in top and "about €425" in top and "urgent" in top
    assert re.search(r"Items destroyed or seized</th><td[^>]*>4<", html)
    for secret in (SECRET_DESCRIPTION, *(details for *_, details in SITES.values())):
        assert secret not in html
    # The PDF is made on the day's first request, then served from the archive all day.
    pdf = visitor.get(f"/share/{token}/report.pdf")
    assert pdf.mimetype == "application/pdf" and pdf.headers["Referrer-Policy"] == "no-referrer"
    made = db.session.scalars(select(Report).where(Report.schedule_key.like("donor:%"))).one()
    assert hashlib.sha256(pdf.data).hexdigest() == made.sha256
    again = visitor.get(f"/share/{token}/report.pdf")
    assert again.data == pdf.data
    assert db.session.scalar(select(func.count(Report.id))) == 1
    report = make(app, world)

    link = db.session.scalar(select(ShareLink))
    assert link.token_hash != token
    assert admin.post(f"/reports/share-links/{link.id}/revoke", data={}).status_code == 302
    assert "revoked" in admin.get("/reports/share-links").get_data(as_text=True)
    not_found = visitor.get("/no-such-page").get_data(as_text=True)
    for path in (f"/share/{token}", f"/share/{token}/report.pdf", "/share/made-up-token"):
        gone = visitor.get(path)
        # The same page as any 404; only the language switch's way back names the address.
        page = gone.get_data(as_text=True).replace(f"next={path}", "next=/no-such-page")
        assert gone.status_code == 404 and page == not_found

    old, old_token = reports.create_share_link(world.org_id, None, days=1)
    old.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    theirs, _ = reports.create_share_link(other_world.org_id, None)
    db.session.commit()
    assert visitor.get(f"/share/{old_token}").status_code == 404
    assert admin.post(f"/reports/share-links/{theirs.id}/revoke", data={}).status_code == 404
    assert client_as("admin", other_world).get(f"/reports/{report.id}.pdf").status_code == 404
