"""Deliver alerts: compose the message, send it by e-mail (SMTP) or webhook (HMAC-signed JSON)."""

from __future__ import annotations

import errno
import hashlib
import hmac
import http.client
import json
import logging
import smtplib
import socket
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from .extensions import db
from .models import Alert, Channel, Delivery, Item, Organisation, Report
from .services import alerts, reports

SIGNATURE_HEADER = "X-Logistics-Signature"
TIMEOUT_SECONDS = 10
REFUSED_PRIVATE = "refused: the address is private"
UNREACHABLE = {errno.ENETUNREACH, errno.EHOSTUNREACH}

log = logging.getLogger(__name__)


class DeliveryFailed(Exception):
    """The channel did not take the message; the reason is kept in the delivery log."""


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    payload: dict[str, Any]
    attachment: tuple[str, bytes] | None = None


def compose(delivery: Delivery, config: dict[str, Any]) -> Message:
    """Build the message of a delivery: an alert change, a day's digest or a weekly report."""
    organisation = db.session.get(Organisation, delivery.organisation_id)
    zone = ZoneInfo(organisation.timezone)
    base_url = config["BASE_URL"].rstrip("/")
    needs_url = f"{base_url}/needs"
    if delivery.report_id is not None:
        return _report(organisation, delivery, Path(config["REPORTS_DIR"]), base_url)
    if delivery.alert_change_id is None:
        return _digest(organisation, delivery, needs_url, zone)
    change = delivery.alert_change
    alert = db.session.get(Alert, change.alert_id)
    item = db.session.get(Item, alert.item_id)
    figures = change.figures
    subject = f"[{organisation.name}] {change.severity.upper()}: {item.label} short" + (
        f" by {_when(figures.get('short_by'), zone)}" if figures.get("short_by") else ""
    )
    text = "\n".join(
        [
            f"{item.label} is {change.severity} at {organisation.name} ({change.change}).",
            *_figure_lines(figures, item.unit, zone),
            f"Needs page: {needs_url}",
        ]
    )
    payload = {
        "event": f"alert.{change.change}",
        "organisation": organisation.slug,
        "alert_id": alert.id,
        "change_id": change.id,
        "severity": change.severity,
        "item": {"id": item.id, "label": item.label, "unit": item.unit},
        "figures": figures,
        "url": needs_url,
        "text": text,
    }
    return Message(subject, text, payload)


def _report(
    organisation: Organisation, delivery: Delivery, reports_dir: Path, base_url: str
) -> Message:
    report = db.session.get(Report, delivery.report_id)
    path = reports.report_file(reports_dir, report)
    period = f"{report.period_start:%d %b} – {report.period_end:%d %b %Y}"
    subject = f"[{organisation.name}] {report.title}, {period}"
    text = "\n".join(
        [
            f"The weekly {report.title.lower()} of {organisation.name} for {period} is attached.",
            "It shows what is short now, what was given out, and what was destroyed.",
            f"SHA-256 of the PDF: {report.sha256}",
            f"Reports page: {base_url}/reports",
        ]
    )
    payload = {"event": "report", "organisation": organisation.slug, "report_id": report.id}
    return Message(subject, text, payload, (path.name, path.read_bytes()))


def _digest(
    organisation: Organisation, delivery: Delivery, needs_url: str, zone: ZoneInfo
) -> Message:
    lines = alerts.digest_lines(organisation.id)
    critical = sum(1 for line in lines if line.severity == "critical")
    subject = (
        f"[{organisation.name}] Shortages on {delivery.digest_date:%a %d %b}: "
        f"{critical} critical, {len(lines) - critical} warning"
    )
    body = [
        f"- {line.label} ({line.severity}): held {line.figures['held']}, "
        f"need {line.figures['need']}, short {line.figures['shortfall']}"
        + (
            f", runs out {_when(line.figures['short_by'], zone)}"
            if line.figures.get("short_by")
            else ""
        )
        for line in lines
    ] or ["Nothing is short. Well done."]
    text = "\n".join([subject, "", *body, "", f"Needs page: {needs_url}"])
    payload = {
        "event": "digest",
        "organisation": organisation.slug,
        "date": delivery.digest_date.isoformat(),
        "alerts": [
            {"label": line.label, "severity": line.severity, "figures": line.figures}
            for line in lines
        ],
        "url": needs_url,
        "text": text,
    }
    return Message(subject, text, payload)


def _figure_lines(figures: dict[str, Any], unit: str, zone: ZoneInfo) -> list[str]:
    cover = figures.get("days_of_cover")
    lines = [
        f"Held: {figures['held']} {unit} in warehouses and kitchens.",
        f"Committed to distributions: {figures['committed_48h']} in the next 48 h, "
        f"{figures['committed']} in {figures['horizon_days']} days.",
        f"Need over {figures['horizon_days']} days: {figures['need']} "
        f"(min stock {figures['min_stock']} included); short by {figures['shortfall']}.",
        "Days of cover: "
        + (
            f"{cover} (target {figures['cover_target_days']})."
            if cover is not None
            else "no use yet."
        ),
    ]
    if figures.get("short_by"):
        lines.append(f"Runs out: {_when(figures['short_by'], zone)}.")
    return lines


def _when(value: str, zone: ZoneInfo) -> str:
    return datetime.fromisoformat(value).astimezone(zone).strftime("%a %d %b %H:%M")


def send(channel: Channel, message: Message, config: dict[str, Any]) -> None:
    """Send a message through its channel; raise DeliveryFailed with the reason."""
    if channel.kind == "email":
        send_email(channel.target, message, config)
    else:
        allow_private = bool(config.get("WEBHOOK_ALLOW_PRIVATE"))
        send_webhook(channel.target, channel.secret, message.payload, allow_private)


def send_email(to: str, message: Message, config: dict[str, Any]) -> None:
    """Send a plain-text e-mail through the configured SMTP server."""
    email = EmailMessage()
    email["From"] = config["SMTP_FROM"]
    email["To"] = to
    email["Subject"] = message.subject
    email.set_content(message.text)
    if message.attachment is not None:
        name, content = message.attachment
        email.add_attachment(content, maintype="application", subtype="pdf", filename=name)
    try:
        with smtplib.SMTP(
            config["SMTP_HOST"], config["SMTP_PORT"], timeout=TIMEOUT_SECONDS
        ) as smtp:
            if config.get("SMTP_STARTTLS"):
                smtp.starttls()
            if config.get("SMTP_USER"):
                smtp.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
            smtp.send_message(email)
    except (OSError, smtplib.SMTPException) as exc:
        raise DeliveryFailed(f"SMTP {config['SMTP_HOST']}:{config['SMTP_PORT']}: {exc}") from exc


def signature(secret: str, body: bytes) -> str:
    """Return the hex HMAC-SHA256 of a body, as sent in X-Logistics-Signature."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send_webhook(url: str, secret: str, payload: dict[str, Any], allow_private: bool) -> None:
    """POST the payload as JSON, signed with the channel's secret, to a public address only.

    The host is resolved once and the connection goes to the address that was checked, so a
    name that changes its answer between check and connect (DNS rebinding) cannot reach inside.
    """
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "aid-logistics-alerts",
        SIGNATURE_HEADER: signature(secret, body),
    }
    try:
        target = alerts.parse_webhook_url(url)
        addresses = alerts.resolve(target.host, target.port)
        if not allow_private and any(alerts.is_private_address(a) for a in addresses):
            raise DeliveryFailed(REFUSED_PRIVATE)
        status = _post(target, addresses, body, headers)
    except DeliveryFailed:
        raise
    except Exception as exc:
        log.info("webhook to %s failed: %r", url, exc)
        raise DeliveryFailed(_reason(exc)) from exc
    if not 200 <= status < 300:
        raise DeliveryFailed(f"HTTP {status}")


def _post(
    target: alerts.WebhookTarget, addresses: list[str], body: bytes, headers: dict[str, str]
) -> int:
    """POST to the first checked address that answers; return the HTTP status."""
    connection_class = (
        http.client.HTTPSConnection if target.scheme == "https" else http.client.HTTPConnection
    )
    # Host header and TLS server name come from target.host; only the socket is pinned.
    connection = connection_class(target.host, target.port, timeout=TIMEOUT_SECONDS)
    connection._create_connection = lambda _address, timeout, source: _connect(  # type: ignore[attr-defined]
        addresses, target.port, timeout, source
    )
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(1024)
        return response.status
    finally:
        connection.close()


def _connect(
    addresses: list[str], port: int, timeout: float | None, source: tuple[str, int] | None
) -> socket.socket:
    """Connect to the first of the checked addresses that accepts, like create_connection."""
    error: OSError | None = None
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout, source)
        except OSError as exc:
            error = exc
    raise error or OSError("no address")


def _reason(exc: BaseException) -> str:
    """Say in a few words why a webhook failed, for the delivery log."""
    if isinstance(exc, ssl.SSLCertVerificationError):  # a ValueError too: ask first
        return "TLS certificate not trusted"
    if isinstance(exc, ssl.SSLError):
        return "TLS failed"
    if isinstance(exc, ValueError):
        return "not a valid URL"
    if isinstance(exc, socket.gaierror):
        return "name not found"
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    if isinstance(exc, http.client.HTTPException):
        return "not an HTTP answer"
    if isinstance(exc, OSError):
        return "network unreachable" if exc.errno in UNREACHABLE else "network error"
    return "could not send"
