"""The report endpoints of the JSON API: make, read and download PDFs; donor share links."""

from __future__ import annotations

import hashlib
import io

from factories import assert_error
from pypdf import PdfReader
from sqlalchemy import func, select

from logistics.extensions import db
from logistics.models import Report, ShareLink
from logistics.services import distributions


def count(model) -> int:
    db.session.rollback()  # read what the requests committed
    return db.session.scalar(select(func.count(model.id)))


def test_make_a_report_read_it_and_download_its_pdf(api, world, other_world):
    coordinator = api("coordinator")
    body = {"kind": "shortfall", "from": "2024-11-01", "to": "2024-11-07", "request_token": "r1"}
    made = coordinator.post("/reports", body)
    assert made.status_code == 201, made.get_json()
    report = made.get_json()
    assert report["kind"] == "shortfall" and report["title"] == "Shortfall report"
    assert (report["period_start"], report["period_end"]) == ("2024-11-01", "2024-11-07")
    assert report["pdf_url"] == f"/api/v1/reports/{report['id']}.pdf"
    replay = coordinator.post("/reports", body).get_json()
    assert replay["replayed"] is True and replay["id"] == report["id"]
    assert count(Report) == 1

    assert coordinator.get(f"/reports/{report['id']}").get_json()["sha256"] == report["sha256"]
    pdf = api("donor").client.get(report["pdf_url"], headers=api("donor").headers)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert hashlib.sha256(pdf.data).hexdigest() == report["sha256"] and report["size_bytes"] == len(
        pdf.data
    )
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Calais Aid" in text and "1 Nov 2024" in text

    evidence = coordinator.post("/reports", {"kind": "evidence"}).get_json()
    donor = api("donor")
    assert [r["id"] for r in donor.get("/reports").get_json()["reports"]] == [report["id"]]
    assert_error(donor.get(f"/reports/{evidence['id']}"), 404, "not_found")
    assert_error(donor.get(f"/reports/{evidence['id']}.pdf"), 404, "not_found")
    assert_error(donor.post("/reports", {"kind": "shortfall"}), 403, "forbidden")
    assert_error(api("warehouse").post("/reports", {"kind": "evidence"}), 403, "forbidden")
    assert_error(coordinator.post("/reports", {"kind": "weekly"}), 422, "invalid", "kind")
    assert_error(coordinator.post("/reports", {"kind": "shortfall", "site_id": 1}), 422, "invalid")
    assert_error(coordinator.post("/reports", {"kind": "stocktake"}), 422, "invalid", "site_id")
    assert_error(coordinator.post("/reports", {"kind": "shortfall", "from": 3}), 400, "bad_request")
    assert_error(
        coordinator.post("/reports", {"kind": "evidence", "from": "0001-01-01"}),
        422,
        "invalid",
        "from",
    )
    theirs = {"kind": "stocktake", "site_id": other_world.sites["main"]}
    assert_error(coordinator.post("/reports", theirs), 404, "not_found")
    assert_error(api("admin", other_world).get(f"/reports/{report['id']}"), 404, "not_found")
    assert_error(
        api("admin", other_world).get(report["pdf_url"].removeprefix("/api/v1")), 404, "not_found"
    )
    assert count(Report) == 2

    sheet = coordinator.post("/reports", {"kind": "stocktake", "site_id": world.sites["main"]})
    assert sheet.status_code == 201 and sheet.get_json()["period_start"] is None


def test_share_links_answer_their_url_once_and_stop_when_revoked(app, api, world, other_world):
    admin = api("admin")
    today = distributions.local_today(world.org_id).isoformat()
    assert (
        api("coordinator").post("/reports", {"kind": "shortfall", "to": today}).status_code == 201
    )
    body = {"label": "Newsletter", "days": 10, "request_token": "link-1"}
    created = admin.post("/share-links", body)
    assert created.status_code == 201
    link = created.get_json()
    token = link["url"].rsplit("/share/", 1)[1]
    assert link["url"] == f"{app.config['BASE_URL']}/share/{token}"
    replay = admin.post("/share-links", body).get_json()
    assert replay["replayed"] is True and "url" not in replay and replay["id"] == link["id"]
    assert count(ShareLink) == 1

    visitor = app.test_client()
    assert visitor.get(f"/share/{token}").status_code == 200
    assert visitor.get(f"/share/{token}/report.pdf").mimetype == "application/pdf"
    assert_error(api("coordinator").post("/share-links", {}), 403, "forbidden")
    assert_error(admin.post("/share-links", {"days": 0}), 422, "invalid", "days")
    theirs = api("admin", other_world).post("/share-links", {}).get_json()
    revoke = admin.client.delete(f"/api/v1/share-links/{theirs['id']}", headers=admin.headers)
    assert_error(revoke, 404, "not_found")
    revoke = admin.client.delete(f"/api/v1/share-links/{link['id']}", headers=admin.headers)
    assert revoke.status_code == 204 and revoke.data == b""
    assert visitor.get(f"/share/{token}").status_code == 404
    assert visitor.get(theirs["url"].removeprefix(app.config["BASE_URL"])).status_code == 200
