"""An eviction's replacement: coordinators hear of it within the request that saved it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header

import factories
from servers import free_port, smtp_server, webhook_server
from sqlalchemy import select

from logistics.extensions import db
from logistics.jobs import run_job
from logistics.models import Alert, AlertChange, Delivery, Incident
from logistics.services import alerts, incidents, replacement
from logistics.services.incidents import IncidentInput

SECRET = "a-webhook-secret-of-some-length"


def _kit(world) -> None:
    """Per shelter 1 Tent and 2 Sleeping bag; 12 Tent and 54 Sleeping bag held."""
    replacement.save_kit(
        world.org_id, [(world.items["tent"], 1), (world.items["sleeping_bag"], 2)], []
    )
    factories.receive(world, "main", "tent", 12)
    factories.receive(world, "main", "sleeping_bag", 54)
    db.session.commit()


def _body(mail) -> str:
    return mail.get_payload(decode=True).decode()


def _subject(mail) -> str:
    return str(make_header(decode_header(mail["Subject"])))


def _form(world, shelters: str, token: str) -> dict[str, str]:
    occurred = datetime.now(incidents.organisation_zone(world.org_id)) - timedelta(hours=1)
    return {
        "occurred_at": occurred.strftime("%Y-%m-%dT%H:%M"),
        "kind": "eviction",
        "area": "Calais",
        "site_id": "0",
        "bailiff_present": "yes",
        "interpreter_present": "no",
        "legal_basis_shown": "no",
        "shelter_offered": "unknown",
        "shelters_affected": shelters,
        "description": "Eviction at dawn.",
        "request_token": token,
    }


def test_an_eviction_saved_on_the_page_is_messaged_before_the_answer(app, world, client_as):
    _kit(world)
    with smtp_server() as (inbox, port):
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
        alerts.save_channel(
            world.org_id, kind="email", target="lead@example.org", min_severity="critical"
        )
        db.session.commit()
        response = client_as("warehouse").post("/incidents/new", data=_form(world, "40", "evict-1"))
        assert response.status_code == 302, response.get_data(as_text=True)
        (mail,) = inbox.messages  # no scheduler ran: the request sent it
    body = _body(mail)
    assert "Eviction in Calais: 40 shelters destroyed → 40 Tent (2-person) (12 held), " in body
    assert "80 Sleeping bag (54 held) needed by " in body
    assert _subject(mail).startswith("[Calais Aid] 1 critical: Eviction in Calais")
    delivery = db.session.scalar(select(Delivery))
    assert (delivery.status, delivery.attempts) == ("sent", 1)


def test_an_eviction_through_the_api_is_messaged_and_corrections_update_it(app, world, api):
    _kit(world)
    with webhook_server() as (hooks, url):
        alerts.save_channel(world.org_id, kind="webhook", target=url, secret=SECRET)
        db.session.commit()
        coordinator = api("coordinator")
        body = {
            "occurred_at": (datetime.now(UTC) - timedelta(hours=2)).isoformat(),
            "kind": "eviction",
            "area": "Calais",
            "shelters_affected": 40,
            "lines": [],
            "request_token": "api-evict-1",
        }
        created = coordinator.post("/incidents", body)
        assert created.status_code == 201, created.get_json()
        incident_id = created.get_json()["id"]
        (hook,) = hooks
        (change,) = hook.json["changes"]
        assert (change["kind"], change["change"], change["severity"]) == (
            "eviction",
            "opened",
            "critical",
        )
        assert change["incident"]["id"] == incident_id
        quantities = {line["item_id"]: line["quantity"] for line in change["figures"]["lines"]}
        assert quantities == {world.items["tent"]: 40, world.items["sleeping_bag"]: 80}

        # A replay records nothing and sends nothing.
        assert coordinator.post("/incidents", body).get_json()["replayed"] is True
        assert len(hooks) == 1

        corrected = {**body, "shelters_affected": 25, "request_token": "api-evict-2"}
        answer = coordinator.client.put(
            f"/api/v1/incidents/{incident_id}", json=corrected, headers=coordinator.headers
        )
        assert answer.status_code == 200, answer.get_json()
        assert len(hooks) == 2
        (updated,) = hooks[1].json["changes"]
        assert updated["change"] == "updated"
        assert "25 shelters destroyed → 25 Tent (2-person)" in hooks[1].json["text"]

        cleared = {**body, "shelters_affected": None, "request_token": "api-evict-3"}
        coordinator.client.put(
            f"/api/v1/incidents/{incident_id}", json=cleared, headers=coordinator.headers
        )
        assert len(hooks) == 3
        assert hooks[2].json["changes"][0]["change"] == "resolved"
    assert alerts.open_alerts_of(world.org_id) == []


def test_a_failing_channel_keeps_the_message_queued_and_the_save_stands(app, world, client_as):
    _kit(world)
    dead = alerts.save_channel(
        world.org_id, kind="webhook", target=f"http://127.0.0.1:{free_port()}/", secret=SECRET
    )
    db.session.commit()
    response = client_as("coordinator").post(
        "/incidents/new", data=_form(world, "40", "evict-dead")
    )
    assert response.status_code == 302
    delivery = db.session.scalar(select(Delivery).where(Delivery.channel_id == dead.id))
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert delivery.next_attempt_at > datetime.now(UTC)  # the scheduler retries later


def test_no_kit_no_alert_and_past_due_expires_quietly(app, world):
    values = IncidentInput(
        occurred_at=datetime.now(UTC) - timedelta(hours=1),
        kind="eviction",
        area="Calais",
        shelters_affected=40,
    )
    incidents.record_incident(world.org_id, None, values)  # no kit yet
    db.session.commit()
    assert db.session.scalar(select(Alert.id)) is None

    _kit(world)
    incident = incidents.record_incident(world.org_id, None, values)
    db.session.commit()
    (alert,) = alerts.open_alerts_of(world.org_id)
    assert (alert.kind, alert.key) == ("eviction", f"incident:{incident.id}")
    alerts.save_channel(world.org_id, kind="webhook", target="http://x/", secret=SECRET)
    db.session.commit()
    due = datetime.fromisoformat(alert.figures["due"])
    changes = alerts.reconcile(world.org_id, due + timedelta(minutes=1))
    expired = [c for c in changes if c.alert.kind == "eviction"]
    assert [c.change for c in expired] == ["expired"]
    db.session.commit()
    # Expired changes are recorded, never sent.
    batch_deliveries = db.session.scalars(
        select(Delivery).where(Delivery.batch_id == expired[0].batch_id)
    ).all()
    for delivery in batch_deliveries:
        assert all(c.change != "expired" for c in alerts.batch_changes(delivery))
    assert (
        db.session.scalar(select(AlertChange.id).where(AlertChange.change == "expired"))
        == expired[0].id
    )


def test_the_scheduler_leaves_a_fresh_eviction_alone(app, world):
    _kit(world)
    values = IncidentInput(
        occurred_at=datetime.now(UTC) - timedelta(hours=1),
        kind="eviction",
        area="Calais",
        shelters_affected=40,
    )
    incidents.record_incident(world.org_id, None, values)
    db.session.commit()
    run_job(app, "check-shortages")
    (eviction,) = [a for a in alerts.open_alerts_of(world.org_id) if a.kind == "eviction"]
    assert [c.change for c in eviction.changes] == ["opened"]


def test_an_amendment_correcting_a_locked_incidents_counts_updates_its_replacement(
    app, world, api, client_as
):
    _kit(world)
    with webhook_server() as (hooks, url):
        alerts.save_channel(world.org_id, kind="webhook", target=url, secret=SECRET)
        db.session.commit()
        coordinator = api("coordinator")
        created = coordinator.post(
            "/incidents",
            {
                "occurred_at": (datetime.now(UTC) - timedelta(hours=3)).isoformat(),
                "kind": "eviction",
                "area": "Calais",
                "shelters_affected": 40,
                "lines": [],
                "request_token": "amend-evict-1",
            },
        )
        incident_id = created.get_json()["id"]
        locked = coordinator.post(
            f"/incidents/{incident_id}/lock", {"request_token": "amend-lock-1"}
        )
        assert locked.status_code == 200, locked.get_json()

        amended = coordinator.post(
            f"/incidents/{incident_id}/amendments",
            {"text": "Recounted: 50 shelters.", "shelters_affected": 50, "request_token": "a-1"},
        )
        assert amended.status_code == 201, amended.get_json()
        assert amended.get_json()["shelters_affected"] == 50
        # The same request told the coordinators; the locked record kept its 40.
        assert len(hooks) == 2
        assert hooks[1].json["changes"][0]["change"] == "updated"
        assert "50 shelters destroyed → 50 Tent (2-person)" in hooks[1].json["text"]
        db.session.rollback()
        assert db.session.get(Incident, incident_id).shelters_affected == 40
        due = replacement.demand(world.org_id, datetime.now(UTC))
        assert sum(q for _due, q in due[world.items["tent"]]) == 50

        # On the page too; a note alone changes no count and sends nothing.
        page = client_as("coordinator")
        for text, shelters, token in (("Photos added.", "", "a-2"), ("Recount: 30.", "30", "a-3")):
            answer = page.post(
                f"/incidents/{incident_id}/amend",
                data={"text": text, "shelters_affected": shelters, "request_token": token},
            )
            assert answer.status_code == 302
        assert len(hooks) == 3
        assert "30 shelters destroyed" in hooks[2].json["text"]
        shown = page.get(f"/incidents/{incident_id}").get_data(as_text=True)
        assert "shelters affected corrected to 30" in shown

        refused = coordinator.post(
            f"/incidents/{incident_id}/amendments",
            {"text": "Oops.", "shelters_affected": -1, "request_token": "a-4"},
        )
        assert refused.status_code in (400, 422)
        assert len(hooks) == 3
