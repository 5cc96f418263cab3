"""Webhooks cannot be aimed inside: refused when saved and when delivered, with a short reason."""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import api_token
from servers import free_port, webhook_server
from sqlalchemy import func, select

from logistics import notify
from logistics.extensions import db
from logistics.jobs import send_due_deliveries
from logistics.models import Channel, Delivery
from logistics.services import alerts, catalogue, distributions, ledger
from logistics.services.errors import ValidationError

SECRET = "a-webhook-secret-of-some-length"
INSIDE = (
    "http://127.0.0.1:{port}/hook",
    "http://10.20.30.40/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]:{port}/hook",
    "http://[::ffff:127.0.0.1]:{port}/hook",
    "http://localhost:{port}/hook",
)


def test_the_address_rule_knows_inside_from_outside():
    inside = [
        "127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254", "0.0.0.0",
        "100.64.0.1", "224.0.0.251", "240.0.0.1", "255.255.255.255", "::1", "::", "fe80::1%eth0",
        "fc00::1", "ff02::1", "::ffff:10.0.0.1", "::ffff:127.0.0.1", "2002:7f00:1::1",
        "64:ff9b::a9fe:a9fe",
    ]  # fmt: skip
    outside = ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"]
    assert [a for a in inside if not alerts.is_private_address(a)] == []
    assert [a for a in outside if alerts.is_private_address(a)] == []


def test_a_channel_aimed_inside_is_refused_when_saved(app, world):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    for target in INSIDE:
        url = target.format(port=free_port())
        with pytest.raises(ValidationError) as refusal:
            alerts.save_channel(world.org_id, kind="webhook", target=url, secret=SECRET)
        assert "public addresses only" in str(refusal.value.message), url
        assert "a private or local address" in str(refusal.value.message), url
    db.session.rollback()
    assert db.session.scalar(select(func.count(Channel.id))) == 0


def test_the_form_and_the_api_say_why_and_save_nothing(app, world, client_as):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    page = client_as("admin").post(
        "/alerts/channels",
        data={
            "kind": "webhook",
            "target": "http://169.254.169.254/latest/meta-data/",
            "secret": SECRET,
            "min_severity": "warning",
            "mode": "immediate",
            "request_token": "form-1",
        },
    )
    assert page.status_code == 200
    assert "Webhooks go to public addresses only: 169.254.169.254 is 169.254.169.254" in (
        page.get_data(as_text=True)
    )
    token = api_token(world, "admin")
    answer = app.test_client().post(
        "/api/v1/channels",
        json={"kind": "webhook", "target": "http://[::1]:8080/x", "secret": SECRET},
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "api-1"},
    )
    assert answer.status_code == 422, answer.get_data(as_text=True)
    error = answer.get_json()["error"]
    assert "public addresses only: ::1 is ::1" in error["message"]
    assert error["fields"] == {"target": "a public address"}
    assert db.session.scalar(select(func.count(Channel.id))) == 0


def test_a_public_address_and_an_unknown_name_can_be_saved(app, world):
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    for url in ("https://93.184.216.34/hook", "https://hooks.invalid/hook"):
        alerts.save_channel(world.org_id, kind="webhook", target=url, secret=SECRET)
    db.session.commit()
    assert db.session.scalar(select(func.count(Channel.id))) == 2


def _queue_one_alert(world) -> None:
    """Open one critical alert (10 blankets held, 40 planned tonight) and queue its deliveries."""
    for key in ("sleeping_bag", "tent", "tarp", "water", "shoes42"):
        catalogue.set_item_active(world.org_id, world.items[key], False)
    ledger.receive(
        world.org_id, None, site_id=world.sites["main"], item_id=world.items["blanket"], quantity=10
    )
    distributions.create_one_off(
        world.org_id,
        site_id=world.sites["point"],
        source_site_id=world.sites["main"],
        starts_at=datetime.now(UTC) + timedelta(hours=6),
        lines=[(world.items["blanket"], 40)],
    )
    alerts.reconcile(world.org_id)
    db.session.commit()


def _errors_by_target() -> dict[str, str]:
    rows = db.session.execute(select(Channel.target, Delivery.last_error).join(Delivery.channel))
    return {target: error for target, error in rows}


def test_a_delivery_aimed_inside_is_refused_and_reaches_nothing(app, world):
    with webhook_server() as (hooks, url), webhook_server(host="::1") as (hooks6, url6):
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        targets = [t.format(port=port) for t in INSIDE[:3]]
        targets += [url6, f"http://localhost:{port}/hook"]
        # Saved while allowed (as on a test bench), then the setting is switched off.
        for target in targets:
            alerts.save_channel(world.org_id, kind="webhook", target=target, secret=SECRET)
        db.session.commit()
        _queue_one_alert(world)
        app.config["WEBHOOK_ALLOW_PRIVATE"] = False
        assert send_due_deliveries() == (0, len(targets))
        assert hooks == [] and hooks6 == []
    assert _errors_by_target() == {t: "refused: the address is private" for t in targets}


def test_the_setting_lets_a_test_bench_deliver_to_itself(app, world):
    with webhook_server() as (hooks, url):
        alerts.save_channel(world.org_id, kind="webhook", target=url, secret=SECRET)
        db.session.commit()
        _queue_one_alert(world)
        assert send_due_deliveries() == (1, 0)
    (hook,) = hooks
    assert hook.json["event"] == "alerts"


def test_a_name_is_resolved_once_and_the_checked_address_is_the_one_used(app, world, monkeypatch):
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])
    monkeypatch.setattr(alerts, "resolve", lambda host, port: next(answers))
    app.config["WEBHOOK_ALLOW_PRIVATE"] = False
    with webhook_server() as (hooks, url):
        port = url.rsplit(":", 1)[1].split("/")[0]
        target = f"http://hooks.example.org:{port}/hook"
        # The name looks public when saved, then answers 127.0.0.1 (DNS rebinding).
        alerts.save_channel(world.org_id, kind="webhook", target=target, secret=SECRET)
        db.session.commit()
        _queue_one_alert(world)
        assert send_due_deliveries() == (0, 1)
        assert hooks == []
    assert _errors_by_target() == {target: "refused: the address is private"}


def test_the_connection_goes_to_the_resolved_address_with_the_name_as_host(app, world, monkeypatch):
    looked_up: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        looked_up.append(host)
        return ["127.0.0.1"]

    monkeypatch.setattr(alerts, "resolve", resolve)
    with webhook_server() as (hooks, url):
        port = url.rsplit(":", 1)[1].split("/")[0]
        notify.send_webhook(
            f"http://hooks.example.invalid:{port}/in?x=1", SECRET, {"a": 1}, allow_private=True
        )
    (hook,) = hooks
    assert hook.headers["Host"] == f"hooks.example.invalid:{port}"
    assert looked_up == ["hooks.example.invalid"]


def test_tls_checks_the_certificate_against_the_name_not_the_address(app, tmp_path, monkeypatch):
    name = "hooks.example.test"
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1",
         "-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name}"],
        check=True, capture_output=True,
    )  # fmt: skip
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client trusts this one certificate
    monkeypatch.setattr(alerts, "resolve", lambda host, port: ["127.0.0.1"])
    with https_webhook_server(cert, key) as (hosts, server_names, port):
        notify.send_webhook(f"https://{name}:{port}/hook", SECRET, {}, allow_private=True)
        with pytest.raises(notify.DeliveryFailed, match="^TLS certificate not trusted$"):
            notify.send_webhook(
                f"https://other.example.test:{port}/hook", SECRET, {}, allow_private=True
            )
    assert server_names == [name, "other.example.test"]
    assert hosts == [f"{name}:{port}"]


@contextmanager
def https_webhook_server(cert, key) -> Iterator[tuple[list[str], list[str | None], int]]:
    """Run an HTTPS server on 127.0.0.1; yield the Host headers, the TLS server names, the port."""
    hosts: list[str] = []
    server_names: list[str | None] = []
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, server_name, ctx: server_names.append(server_name)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            hosts.append(self.headers["Host"])
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args) -> None:
            return None

    class Server(ThreadingHTTPServer):
        def handle_error(self, request, client_address) -> None:
            return None  # the refused handshake is expected

    server = Server(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hosts, server_names, server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_the_delivery_log_gives_a_short_reason(monkeypatch):
    monkeypatch.setattr(notify, "TIMEOUT_SECONDS", 0.5)

    def reason(url: str) -> str:
        with pytest.raises(notify.DeliveryFailed) as failure:
            notify.send_webhook(url, SECRET, {"event": "test"}, allow_private=True)
        return str(failure.value)

    assert reason(f"http://127.0.0.1:{free_port()}/hook") == "connection refused"
    with webhook_server(status=500) as (hooks, url):
        assert reason(url) == "HTTP 500"
        assert len(hooks) == 1
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never answers
        assert reason(f"http://127.0.0.1:{silent.getsockname()[1]}/hook") == "timed out"
    assert reason("http://name.invalid/hook") == "name not found"
