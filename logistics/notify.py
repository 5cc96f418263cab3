"""Deliver alerts: compose the message, send it by e-mail (SMTP) or webhook (HMAC-signed JSON)."""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

from .extensions import db
from .models import Alert, Channel, Delivery, Item, Organisation
from .services import alerts

SIGNATURE_HEADER = "X-Logistics-Signature"
TIMEOUT_SECONDS = 10


class DeliveryFailed(Exception):
    """The channel did not take the message; the reason is kept in the delivery log."""


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    payload: dict[str, Any]


def compose(delivery: Delivery, base_url: str) -> Message:
    """Build the message of a delivery: an alert change or a day's digest."""
    organisation = db.session.get(Organisation, delivery.organisation_id)
    zone = ZoneInfo(organisation.timezone)
    needs_url = f"{base_url.rstrip('/')}/needs"
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
        send_webhook(channel.target, channel.secret, message.payload)


def send_email(to: str, message: Message, config: dict[str, Any]) -> None:
    """Send a plain-text e-mail through the configured SMTP server."""
    email = EmailMessage()
    email["From"] = config["SMTP_FROM"]
    email["To"] = to
    email["Subject"] = message.subject
    email.set_content(message.text)
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


def send_webhook(url: str, secret: str, payload: dict[str, Any]) -> None:
    """POST the payload as JSON, signed with the channel's secret."""
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "aid-logistics-alerts",
            SIGNATURE_HEADER: signature(secret, body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            response.read(1024)
    except urllib.error.HTTPError as exc:
        raise DeliveryFailed(f"webhook answered {exc.code} {exc.reason}") from exc
    except (OSError, ValueError) as exc:
        raise DeliveryFailed(f"webhook: {exc}") from exc
