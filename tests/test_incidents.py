"""Incidents: losses from stock and after distribution, evidence, locking, privacy."""

from __future__ import annotations

import hashlib
import io
import os
import re
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from factories import receive
from sqlalchemy import func, select

from logistics.extensions import db
from logistics.models import Distribution, Evidence, Incident, StockMovement
from logistics.services import distributions, incidents, ledger, stock
from logistics.services.errors import Conflict, InsufficientStock, ValidationError
from logistics.services.incidents import IncidentInput, LineInput

JPEG = b"\xff\xd8\xff\xe0" + b"photo of slashed tents " * 200


def _eviction(world, *lines: LineInput, **fields) -> IncidentInput:
    values = {
        "occurred_at": datetime.now(UTC) - timedelta(hours=3),
        "kind": "eviction",
        "area": "Calais",
        "forces_present": "4 gendarmerie vans, 1 PAF van, 2 cleaning-company vehicles",
        "bailiff_present": "yes",
        "people_affected": 180,
        "shelters_affected": 45,
        "description": "Tents slashed at the woods near the hospital.",
        **fields,
    }
    return IncidentInput(lines=list(lines), **values)


def _line(world, item: str, quantity: int, origin: str, action: str = "slashed", **extra):
    return LineInput(world.items[item], quantity, origin, action, **extra)


def _movement_count() -> int:
    return db.session.scalar(select(func.count(StockMovement.id)))


def test_from_stock_line_writes_a_loss_and_after_distribution_does_not(world):
    receive(world, "gs_store", "blanket", 30)
    incident = incidents.record_incident(
        world.org_id,
        world.users["coordinator"],
        _eviction(
            world,
            _line(
                world, "blanket", 5, "from_stock", "contaminated", site_id=world.sites["gs_store"]
            ),
            _line(world, "tent", 14, "after_distribution"),
        ),
    )
    db.session.commit()
    assert ledger.held(world.sites["gs_store"], world.items["blanket"]) == 25
    (loss,) = incidents.loss_movements(incident)
    assert (loss.kind, loss.quantity, loss.incident_id) == ("loss", -5, incident.id)
    assert ledger.held(world.sites["main"], world.items["tent"]) == 0
    assert _movement_count() == 2  # the donation and the one loss


def test_a_refused_from_stock_line_writes_nothing(world):
    receive(world, "main", "blanket", 3)
    before = _movement_count()
    with pytest.raises(InsufficientStock, match="Only 3 Blanket at Main warehouse"):
        incidents.record_incident(
            world.org_id,
            None,
            _eviction(
                world,
                _line(world, "sleeping_bag", 20, "after_distribution"),
                _line(
                    world, "blanket", 5, "from_stock", "contaminated", site_id=world.sites["main"]
                ),
            ),
        )
    db.session.rollback()
    assert _movement_count() == before
    assert db.session.scalar(select(func.count(Incident.id))) == 0
    assert ledger.held(world.sites["main"], world.items["blanket"]) == 3


def test_editing_lines_reverses_the_old_loss(world):
    receive(world, "main", "tarp", 20)
    incident = incidents.record_incident(
        world.org_id,
        None,
        _eviction(
            world, _line(world, "tarp", 8, "from_stock", "seized", site_id=world.sites["main"])
        ),
    )
    db.session.commit()
    incidents.update_incident(
        world.org_id,
        None,
        incident.id,
        _eviction(
            world, _line(world, "tarp", 6, "from_stock", "seized", site_id=world.sites["main"])
        ),
    )
    db.session.commit()
    assert ledger.held(world.sites["main"], world.items["tarp"]) == 14
    assert [m.quantity for m in incidents.loss_movements(incident)] == [-6]
    assert stock.check_ledger() == []


def test_locked_incidents_refuse_edits_and_take_amendments(world):
    incident = incidents.record_incident(
        world.org_id, None, _eviction(world, _line(world, "tent", 3, "after_distribution"))
    )
    with pytest.raises(ValidationError, match="not locked"):
        incidents.amend(world.org_id, None, incident.id, "Too early")
    incidents.lock(world.org_id, world.users["coordinator"], incident.id)
    db.session.commit()
    with pytest.raises(Conflict, match="locked"):
        incidents.update_incident(world.org_id, None, incident.id, _eviction(world))
    with pytest.raises(Conflict, match="locked"):
        incidents.lock(world.org_id, None, incident.id)
    incidents.amend(world.org_id, world.users["coordinator"], incident.id, "Bailiff left at 07:40.")
    db.session.commit()
    db.session.expire_all()
    assert [a.text for a in incident.amendments] == ["Bailiff left at 07:40."]
    assert [line.quantity for line in incident.lines] == [3]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "riot"}, "kind"),
        ({"area": " "}, "area"),
        ({"area": "Verrotières woods"}, "area"),  # free text could publish a precise place
        ({"people_affected": -1}, "people_affected"),
        ({"bailiff_present": "maybe"}, "bailiff_present"),
        ({"occurred_at": datetime(2026, 1, 1, 7)}, "occurred_at"),
        ({"occurred_at": datetime(1, 1, 1, tzinfo=UTC)}, "occurred_at"),
        ({"ended_at": datetime.now(UTC) - timedelta(days=2)}, "ended_at"),
    ],
)
def test_bad_incident_fields_are_named(world, fields, field):
    with pytest.raises(ValidationError) as refusal:
        incidents.record_incident(world.org_id, None, _eviction(world, **fields))
    assert field in refusal.value.fields


def test_destroyed_after_distribution_as_a_share_of_given(world):
    receive(world, "main", "tent", 100)
    today = distributions.local_today(world.org_id)
    series = distributions.create_series(
        world.org_id,
        site_id=world.sites["point"],
        source_site_id=world.sites["main"],
        weekdays=range(7),
        local_time=time(18),
        starts_on=today - timedelta(days=1),
        ends_on=None,
        lines=[(world.items["tent"], 25)],
    )
    yesterday = next(d for d in _occurrences(series) if d.local_date == today - timedelta(days=1))
    distributions.record_outcome(
        world.org_id,
        None,
        yesterday.id,
        distributions.OutcomeInput("held", 300, given=[(world.items["tent"], 50)]),
    )
    incidents.record_incident(
        world.org_id, None, _eviction(world, _line(world, "tent", 19, "after_distribution"))
    )
    db.session.commit()
    result = incidents.loss_figures(world.org_id, today - timedelta(days=7), today)
    (tents,) = result.items
    assert (tents.after_distribution, tents.given, tents.from_stock) == (19, 50, 0)
    assert tents.share_of_given == pytest.approx(0.38)
    assert result.by_area_kind == {("Calais", "eviction"): 1}
    assert (result.people_affected, result.shelters_affected) == (180, 45)


def _occurrences(series) -> list[Distribution]:
    return list(db.session.scalars(select(Distribution).where(Distribution.series_id == series.id)))


# --- evidence --------------------------------------------------------------------------------


def _incident(world) -> Incident:
    incident = incidents.record_incident(world.org_id, None, _eviction(world))
    db.session.commit()
    return incident


def _upload(client, incident_id: int, name: str, content: bytes, token: str):
    return client.post(
        f"/incidents/{incident_id}/evidence",
        data={"file": (io.BytesIO(content), name), "request_token": token},
        content_type="multipart/form-data",
    )


def test_uploaded_file_is_stored_once_by_its_hash_and_downloads_intact(app, world, client_as):
    incident = _incident(world)
    client = client_as("coordinator")
    assert _upload(client, incident.id, "slashed-tents.jpg", JPEG, "e1").status_code == 302
    assert _upload(client, incident.id, "same-photo-again.jpg", JPEG, "e2").status_code == 302
    rows = list(db.session.scalars(select(Evidence).order_by(Evidence.id)))
    digest = hashlib.sha256(JPEG).hexdigest()
    assert [(e.file_name, e.sha256, e.size_bytes, e.media_type) for e in rows] == [
        ("slashed-tents.jpg", digest, len(JPEG), "image/jpeg"),
        ("same-photo-again.jpg", digest, len(JPEG), "image/jpeg"),
    ]
    stored = os.path.join(app.config["EVIDENCE_DIR"], digest[:2], digest)
    assert Path(stored).read_bytes() == JPEG
    assert len(os.listdir(os.path.dirname(stored))) == 1
    page = client.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert digest in page
    response = client.get(f"/evidence/{rows[0].id}")
    assert response.status_code == 200 and response.data == JPEG


def test_a_tampered_stored_file_is_detected(app, world, client_as):
    incident = _incident(world)
    client = client_as("admin")
    _upload(client, incident.id, "leaflet.pdf", b"%PDF-1.4 eviction notice", "e1")
    record = db.session.scalar(select(Evidence))
    stored = os.path.join(app.config["EVIDENCE_DIR"], record.sha256[:2], record.sha256)
    os.chmod(stored, 0o640)
    with open(stored, "ab") as handle:
        handle.write(b" edited")
    response = client.get(f"/evidence/{record.id}")
    assert response.status_code == 409
    assert "no longer matches its SHA-256" in response.get_data(as_text=True)


def test_oversize_and_disallowed_files_get_clear_errors(app, world, client_as):
    incident = _incident(world)
    client = client_as("coordinator")
    app.config["EVIDENCE_MAX_BYTES"] = 1024 * 1024
    big = _upload(client, incident.id, "video.mp4", b"0" * (1024 * 1024 + 1), "big")
    assert "video.mp4 is larger than the 1 MB limit." in client.get(
        big.headers["Location"]
    ).get_data(as_text=True)
    bad = _upload(client, incident.id, "run-me.exe", b"MZ\x90\x00", "exe")
    page = client.get(bad.headers["Location"]).get_data(as_text=True)
    assert "run-me.exe is a" in page and "file, which is not accepted" in page
    assert db.session.scalar(select(func.count(Evidence.id))) == 0
    leftovers = [n for n in os.listdir(app.config["EVIDENCE_DIR"]) if n.startswith(".upload-")]
    assert leftovers == []


# --- pages and privacy -------------------------------------------------------------------------


def test_done_when_eviction_with_photos_lock_and_amendment(app, world, client_as):
    receive(world, "gs_store", "blanket", 40)
    client = client_as("coordinator")
    local_morning = datetime.now(distributions.organisation_zone(world.org_id)) - timedelta(hours=2)
    response = client.post(
        "/incidents/new",
        data={
            "occurred_at": local_morning.strftime("%Y-%m-%dT%H:%M"),
            "kind": "eviction",
            "area": "Calais",
            "site_id": "0",
            "forces_present": "1 police car, 4 gendarmerie vans",
            "bailiff_present": "yes",
            "interpreter_present": "no",
            "legal_basis_shown": "no",
            "shelter_offered": "unknown",
            "people_affected": "200",
            "shelters_affected": "60",
            "description": "Eviction at dawn.",
            "lines-0-item": "Tent (2-person)",
            "lines-0-quantity": "14",
            "lines-0-action": "slashed",
            "lines-0-origin": "after_distribution",
            "lines-0-site_id": "0",
            "lines-1-item": "Sleeping bag",
            "lines-1-quantity": "20",
            "lines-1-action": "slashed",
            "lines-1-origin": "after_distribution",
            "lines-1-site_id": "0",
            "lines-2-item": "Blanket",
            "lines-2-quantity": "5",
            "lines-2-action": "contaminated",
            "lines-2-origin": "from_stock",
            "lines-2-site_id": str(world.sites["gs_store"]),
            "request_token": "incident-1",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    incident_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert ledger.held(world.sites["gs_store"], world.items["blanket"]) == 35
    for n in (1, 2):
        assert (
            _upload(client, incident_id, f"photo{n}.jpg", JPEG + bytes([n]), f"p{n}").status_code
            == 302
        )
    client.post(f"/incidents/{incident_id}/lock", data={"request_token": "lock"})
    client.post(
        f"/incidents/{incident_id}/amend",
        data={"text": "Interpreter arrived at 08:10.", "request_token": "am"},
    )
    page = client.get(f"/incidents/{incident_id}").get_data(as_text=True)
    assert "Interpreter arrived at 08:10." in page and "photo2.jpg" in page and "locked" in page
    figures = client.get("/incidents/figures").get_data(as_text=True)
    assert "Tent (2-person)" in figures and '<td class="num">14</td>' in figures


def test_donors_see_incident_figures_without_forces_or_places(app, world, client_as):
    incidents.record_incident(
        world.org_id,
        None,
        _eviction(world, _line(world, "tent", 7, "after_distribution")),
    )
    db.session.commit()
    # Which role may open which page is the matrix of test_permissions; here, what they see.
    figures = client_as("donor").get("/incidents/figures").get_data(as_text=True)
    assert "Calais" in figures and "Tent (2-person)" in figures
    for secret in ("gendarmerie", "woods near the hospital", "Unit 4"):
        assert secret not in figures


def test_another_organisations_incident_and_evidence_are_404(app, world, other_world, client_as):
    theirs = _incident(other_world)
    _upload(client_as("coordinator", other_world), theirs.id, "theirs.jpg", JPEG, "t1")
    record = db.session.scalar(select(Evidence))
    client = client_as("admin")
    for url in (
        f"/incidents/{theirs.id}",
        f"/incidents/{theirs.id}/edit",
        f"/evidence/{record.id}",
    ):
        assert client.get(url).status_code == 404, url
    for url in (f"/incidents/{theirs.id}/lock", f"/incidents/{theirs.id}/amend"):
        assert client.post(url, data={"request_token": "x", "text": "y"}).status_code == 404, url
    assert _upload(client, theirs.id, "mine.jpg", JPEG, "m1").status_code == 404


def test_blank_line_rows_sent_by_a_browser_are_left_out(app, world, client_as):
    client = client_as("coordinator")
    local_morning = datetime.now(distributions.organisation_zone(world.org_id)) - timedelta(hours=1)
    blank_row = {"item": "", "quantity": "", "action": "slashed", "origin": "after_distribution"}
    response = client.post(
        "/incidents/new",
        data={
            "occurred_at": local_morning.strftime("%Y-%m-%dT%H:%M"),
            "kind": "eviction",
            "area": "Calais",
            "site_id": "0",
            "bailiff_present": "unknown",
            "interpreter_present": "unknown",
            "legal_basis_shown": "unknown",
            "shelter_offered": "unknown",
            "people_affected": "",
            "shelters_affected": "12",
            "lines-0-item": "Tent (2-person)",
            "lines-0-quantity": "3",
            "lines-0-action": "slashed",
            "lines-0-origin": "after_distribution",
            "lines-0-site_id": "0",
            **{f"lines-{n}-{name}": value for n in (1, 2) for name, value in blank_row.items()},
            "lines-1-site_id": "0",
            "lines-2-site_id": "0",
            "request_token": "incident-blank-rows",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    incident_id = int(response.headers["Location"].rsplit("/", 1)[1])
    incident = db.session.get(Incident, incident_id)
    assert (incident.shelters_affected, incident.people_affected) == (12, None)
    assert [(line.item_id, line.quantity) for line in incident.lines] == [(world.items["tent"], 3)]


def _incident_links(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'href="/incidents/(\d+)"', html)]


def test_the_incidents_list_pages_fifty_at_a_time_newest_first(app, world, client_as):
    # Two incidents at the same moment on a page boundary: the id decides, none is lost.
    start = datetime.now(UTC) - timedelta(days=20)
    made = []
    for n in range(120):
        at = start + timedelta(hours=n - n % 2)  # pairs share their moment
        area = "Calais" if n % 3 else "Grande-Synthe"
        made.append(
            incidents.record_incident(
                world.org_id,
                world.users["coordinator"],
                _eviction(world, occurred_at=at, area=area),
            ).id
        )
    db.session.commit()
    newest_first = sorted(made, key=lambda i: (db.session.get(Incident, i).occurred_at, i))[::-1]
    client = client_as("coordinator")
    seen, path, pages = [], "/incidents", 0
    while path:
        html = client.get(path).get_data(as_text=True)
        pages += 1
        links = _incident_links(html)
        assert len(links) == (50 if pages < 3 else 20)
        seen += links
        older = re.search(r'href="([^"]+)" rel="next"', html)
        path = older.group(1).replace("&amp;", "&") if older else None
        if pages > 1:
            assert 'href="/incidents"' in html and "Newest incidents" in html
    assert pages == 3 and seen == newest_first
    # The filters go with the pages: Calais only, 80 incidents, 50 then 30.
    first = client.get("/incidents?area=Calais").get_data(as_text=True)
    older = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    assert "area=Calais" in older
    second = client.get(older).get_data(as_text=True)
    assert len(_incident_links(second)) == 30 and 'rel="next"' not in second
    # A page continuing after another organisation's incident shows nothing of either.
    assert _incident_links(client.get("/incidents?before=999999").get_data(as_text=True)) == []


def test_my_reports_page_twenty_at_a_time(app, world, client_as):
    for n in range(25):
        incidents.record_incident(
            world.org_id,
            world.users["warehouse"],
            _eviction(world, occurred_at=datetime.now(UTC) - timedelta(hours=n)),
        )
    incidents.record_incident(world.org_id, world.users["coordinator"], _eviction(world))
    db.session.commit()
    client = client_as("warehouse")
    first = client.get("/incidents/mine").get_data(as_text=True)
    older = re.search(r'href="([^"]+)" rel="next"', first).group(1)
    second = client.get(older.replace("&amp;", "&")).get_data(as_text=True)
    mine = _incident_links(first) + _incident_links(second)
    assert len(_incident_links(first)) == 20 and len(mine) == len(set(mine)) == 25
    assert 'rel="next"' not in second
