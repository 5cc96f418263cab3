"""The incident endpoints of the JSON API: record, evidence, lock and amend, roles, figures."""

from __future__ import annotations

import hashlib
import io
import os
from datetime import UTC, datetime, timedelta
from typing import Any

from conftest import World, api_token
from factories import Api, assert_error, held, movement_count, receive
from flask import Flask
from sqlalchemy import func, select

from logistics.extensions import db
from logistics.models import Evidence, Incident
from logistics.services import distributions, incidents
from logistics.services.incidents import IncidentInput

JPEG = b"\xff\xd8\xff\xe0" + b"slashed tents by the canal " * 100
SECRETS = ("gendarmerie", "woods behind the hospital", "Two volunteers", "Unit 4")


def eviction(world: World, *lines: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """Return a body for this morning's eviction in Calais."""
    return {
        "occurred_at": (datetime.now(UTC) - timedelta(hours=3)).isoformat(),
        "kind": "eviction",
        "area": "Calais",
        "forces_present": "4 gendarmerie vans, 1 PAF van",
        "bailiff_present": "yes",
        "people_affected": 180,
        "shelters_affected": 45,
        "witnesses": "Two volunteers from the kitchen",
        "description": "Tents slashed in the woods behind the hospital.",
        "lines": list(lines),
        **extra,
    }


def from_stock(world: World, item: str, quantity: int, site: str = "main") -> dict[str, Any]:
    return {
        "item_id": world.items[item],
        "quantity": quantity,
        "origin": "from_stock",
        "action": "slashed",
        "site_id": world.sites[site],
    }


def given_out(world: World, item: str, quantity: int, **extra: Any) -> dict[str, Any]:
    return {
        "item_id": world.items[item],
        "quantity": quantity,
        "origin": "after_distribution",
        "action": "destroyed",
        **extra,
    }


def incident_count(org_id: int) -> int:
    db.session.rollback()
    return db.session.scalar(
        select(func.count(Incident.id)).where(Incident.organisation_id == org_id)
    )


def evidence_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(Evidence.id)))


def upload(client: Api, incident_id: int, name: str, content: bytes, **form: str) -> Any:
    return client.client.post(
        f"/api/v1/incidents/{incident_id}/evidence",
        data={"file": (io.BytesIO(content), name), **form},
        headers=client.headers,
        content_type="multipart/form-data",
    )


def recorded(world: World) -> int:
    """Record an eviction through the service, as another volunteer would have; commit."""
    values = eviction(world)
    incident = incidents.record_incident(
        world.org_id,
        None,
        IncidentInput(
            **{k: v for k, v in values.items() if k not in ("lines", "occurred_at")},
            occurred_at=datetime.fromisoformat(values["occurred_at"]),
        ),
    )
    db.session.commit()
    return incident.id


def test_only_from_stock_lines_leave_stock_and_a_replay_records_once(api, world: World) -> None:
    receive(world, "main", "blanket", 30)
    coordinator = api("coordinator")
    body = eviction(
        world, from_stock(world, "blanket", 5), given_out(world, "tent", 14), request_token="ev-1"
    )
    response = coordinator.post("/incidents", body)
    assert response.status_code == 201, response.get_data(as_text=True)
    created = response.get_json()
    assert held(world, "main", "blanket") == 25
    assert held(world, "main", "tent") == 0
    assert movement_count(world.org_id) == 2  # the donation and one loss
    assert len(created["loss_movement_ids"]) == 1
    assert [(line["origin"], line["quantity"]) for line in created["lines"]] == [
        ("from_stock", 5),
        ("after_distribution", 14),
    ]
    assert created["bailiff_present"] == "yes" and created["interpreter_present"] == "unknown"

    again = coordinator.post("/incidents", body)
    assert again.status_code == 201 and again.get_json()["replayed"] is True
    assert again.get_json()["id"] == created["id"]
    assert incident_count(world.org_id) == 1 and held(world, "main", "blanket") == 25

    shown = coordinator.get(f"/incidents/{created['id']}").get_json()
    assert shown["loss_movement_ids"] == created["loss_movement_ids"]
    listed = coordinator.get("/incidents", kind="eviction", area="Calais").get_json()
    assert [i["id"] for i in listed["incidents"]] == [created["id"]]
    assert coordinator.get("/incidents", kind="fire").get_json()["incidents"] == []


def test_short_stock_and_bad_input_write_nothing(api, world: World) -> None:
    receive(world, "main", "blanket", 3)
    coordinator = api("coordinator")
    before = movement_count(world.org_id)
    body = eviction(world, from_stock(world, "blanket", 5), from_stock(world, "tarp", 2))
    error = assert_error(coordinator.post("/incidents", body), 409, "insufficient_stock")
    assert "Blanket" in error["message"] and "Tarpaulin" in error["message"]

    wrong_type = eviction(world, {**from_stock(world, "blanket", 1), "quantity": "1"})
    assert_error(
        coordinator.post("/incidents", wrong_type), 400, "bad_request", "lines[0].quantity"
    )
    unknown = eviction(world, {**from_stock(world, "blanket", 1), "origin": "donated"})
    assert_error(coordinator.post("/incidents", unknown), 422, "invalid", "lines[0].origin")
    later = eviction(world, occurred_at=(datetime.now(UTC) + timedelta(days=2)).isoformat())
    assert_error(coordinator.post("/incidents", later), 422, "invalid", "occurred_at")
    assert_error(coordinator.post("/incidents", raw="{"), 400, "bad_request")

    assert incident_count(world.org_id) == 0
    assert movement_count(world.org_id) == before
    assert held(world, "main", "blanket") == 3


def test_evidence_is_stored_by_hash_served_intact_and_refused_when_altered(
    app: Flask, api, world: World
) -> None:
    coordinator = api("coordinator")
    incident_id = coordinator.post("/incidents", eviction(world)).get_json()["id"]
    response = upload(
        coordinator,
        incident_id,
        "slashed-tents.jpg",
        JPEG,
        captured_at="2024-11-02T07:15:00+01:00",
        request_token="photo-1",
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    stored = response.get_json()
    assert stored["sha256"] == hashlib.sha256(JPEG).hexdigest()
    assert (stored["size_bytes"], stored["media_type"]) == (len(JPEG), "image/jpeg")
    assert stored["captured_at"] == "2024-11-02T07:15:00+01:00"
    replay = upload(coordinator, incident_id, "slashed-tents.jpg", JPEG, request_token="photo-1")
    assert replay.get_json()["replayed"] is True and evidence_count() == 1

    download = coordinator.get(f"/evidence/{stored['id']}")
    assert download.status_code == 200 and download.data == JPEG
    assert download.mimetype == "image/jpeg"
    shown = coordinator.get(f"/incidents/{incident_id}").get_json()
    assert [e["sha256"] for e in shown["evidence"]] == [stored["sha256"]]

    app.config["EVIDENCE_MAX_BYTES"] = 1024
    big = upload(coordinator, incident_id, "video.mp4", b"0" * 2048)
    assert "larger than" in assert_error(big, 422, "invalid", "file")["message"]
    exe = upload(coordinator, incident_id, "run-me.exe", b"MZ\x90\x00")
    assert "not accepted" in assert_error(exe, 422, "invalid", "file")["message"]
    app.config["MAX_CONTENT_LENGTH"] = 4096
    assert_error(upload(coordinator, incident_id, "huge.jpg", b"1" * 8192), 413, "too_large")
    assert evidence_count() == 1

    path = os.path.join(app.config["EVIDENCE_DIR"], stored["sha256"][:2], stored["sha256"])
    os.chmod(path, 0o640)
    with open(path, "ab") as handle:
        handle.write(b" edited")
    altered = assert_error(coordinator.get(f"/evidence/{stored['id']}"), 409, "conflict")
    assert "no longer matches its SHA-256" in altered["message"]


def test_a_locked_incident_takes_amendments_not_edits(api, world: World) -> None:
    admin = api("admin")
    incident_id = admin.post("/incidents", eviction(world)).get_json()["id"]
    note = {"text": "An interpreter arrived at 08:10."}
    assert_error(admin.post(f"/incidents/{incident_id}/amendments", note), 422, "invalid")
    edit = admin.client.put(
        f"/api/v1/incidents/{incident_id}",
        json=eviction(world, area="Grande-Synthe"),
        headers=admin.headers,
    )
    assert edit.status_code == 200 and edit.get_json()["area"] == "Grande-Synthe"

    locked = admin.post(f"/incidents/{incident_id}/lock")
    assert locked.status_code == 200 and locked.get_json()["locked_at"]
    assert_error(admin.post(f"/incidents/{incident_id}/lock"), 409, "conflict")
    again = admin.client.put(
        f"/api/v1/incidents/{incident_id}", json=eviction(world), headers=admin.headers
    )
    assert_error(again, 409, "conflict")

    amended = admin.post(f"/incidents/{incident_id}/amendments", note)
    assert amended.status_code == 201
    assert amended.get_json()["created_by_id"] == world.users["admin"]
    shown = admin.get(f"/incidents/{incident_id}").get_json()
    assert [a["text"] for a in shown["amendments"]] == [note["text"]]
    assert shown["area"] == "Grande-Synthe"


def test_roles_see_only_what_they_may(api, world: World) -> None:
    today = distributions.local_today(world.org_id)
    response = api("warehouse").post("/incidents", eviction(world, given_out(world, "tent", 7)))
    assert response.status_code == 201
    assert set(response.get_json()) == {"id", "message"}
    incident_id = response.get_json()["id"]
    for path in (f"/incidents/{incident_id}", "/incidents"):
        assert_error(api("warehouse").get(path), 403, "forbidden")
        assert_error(api("donor").get(path), 403, "forbidden")

    figures = api("donor").get("/incidents/figures", to=today.isoformat())
    assert figures.status_code == 200
    body = figures.get_json()
    assert body["incidents"] == 1 and body["people_affected"] == 180
    assert body["by_area_kind"] == [{"area": "Calais", "kind": "eviction", "count": 1}]
    (tents,) = body["items"]
    assert (tents["label"], tents["after_distribution"], tents["from_stock"]) == (
        "Tent (2-person)",
        7,
        0,
    )
    text = figures.get_data(as_text=True)
    for secret in SECRETS:
        assert secret not in text
    # Kitchen crews report too (and, like the warehouse, get only the id back).
    kitchen = api("kitchen").post("/incidents", eviction(world))
    assert kitchen.status_code == 201 and set(kitchen.get_json()) == {"id", "message"}


def test_another_organisations_ids_are_not_found(
    app: Flask, api, world: World, other_world: World
) -> None:
    theirs = recorded(other_world)
    their_photo = upload(Api(app, api_token(other_world, "coordinator")), theirs, "t.jpg", JPEG)
    assert their_photo.status_code == 201
    their_point = distributions.create_one_off(
        other_world.org_id,
        site_id=other_world.sites["point"],
        source_site_id=other_world.sites["main"],
        starts_at=datetime.now(UTC) - timedelta(days=1),
        lines=[],
    )
    db.session.commit()

    admin = api("admin")
    assert_error(admin.get(f"/incidents/{theirs}"), 404, "not_found")
    assert_error(admin.get(f"/evidence/{their_photo.get_json()['id']}"), 404, "not_found")
    assert_error(admin.post(f"/incidents/{theirs}/lock"), 404, "not_found")
    assert_error(admin.post(f"/incidents/{theirs}/amendments", {"text": "x"}), 404, "not_found")
    assert_error(upload(admin, theirs, "mine.jpg", JPEG), 404, "not_found")
    for body in (
        eviction(world, site_id=other_world.sites["main"]),
        eviction(world, given_out(other_world, "tent", 1)),
        eviction(world, from_stock(other_world, "tent", 1)),
        eviction(world, given_out(world, "tent", 1, distribution_id=their_point.id)),
    ):
        assert_error(admin.post("/incidents", body), 404, "not_found")
    assert incident_count(world.org_id) == 0
    assert evidence_count() == 1
