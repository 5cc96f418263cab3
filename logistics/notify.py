"""Deliver alerts: compose one message per batch, send it by e-mail (SMTP) or signed webhook."""

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
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from . import i18n, wording
from .extensions import db
from .labels import label
from .models import AlertChange, Channel, Delivery, Item, Membership, Organisation, Report
from .models.alerts import REPORT_MODE
from .models.types import utcnow
from .services import alerts, lots, reports, subscribers

SIGNATURE_HEADER = "X-Logistics-Signature"
TIMEOUT_SECONDS = 10
REFUSED_PRIVATE = "refused: the address is private"
# A subject names this many subjects of its changes, then says how many more.
SUBJECT_TITLES = 3
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
    # Extra mail headers (List-Unsubscribe); webhooks ignore them.
    headers: dict[str, str] = field(default_factory=dict)


def compose(delivery: Delivery, config: dict[str, Any], now: datetime | None = None) -> Message:
    """Build the message of a delivery in its reader's language (needs an app context)."""
    organisation = db.session.get(Organisation, delivery.organisation_id)
    with force_locale(reader_language(delivery.channel, organisation)):
        return _compose(organisation, delivery, config, now or utcnow())


def reader_language(channel: Channel, organisation: Organisation) -> str:
    """Return a channel's language: its member's for their own address, else the organisation's."""
    if channel.kind == "email" and channel.membership_id is not None:
        membership = db.session.get(Membership, channel.membership_id)
        if membership is not None:
            return i18n.language_of(membership.user.locale, organisation.locale)
    if channel.mode == REPORT_MODE and channel.membership_id is None:
        subscriber = subscribers.subscriber_of_channel(channel.id)
        if subscriber is not None:  # a donor's address: the language of the page they came from
            return i18n.language_of(subscriber.locale, organisation.locale)
    return i18n.language_of(None, organisation.locale)


def _compose(
    organisation: Organisation, delivery: Delivery, config: dict[str, Any], moment: datetime
) -> Message:
    """Build a batch of alert changes, a digest or a weekly report, in the current language."""
    zone = ZoneInfo(organisation.timezone)
    base_url = config["BASE_URL"].rstrip("/")
    if delivery.report_id is not None:
        return _report(organisation, delivery, config, base_url)
    if delivery.batch_id is None and delivery.alert_change_id is None:
        return _digest(organisation, delivery, base_url, zone, moment)
    changes = alerts.batch_changes(delivery)
    lines = sorted(
        (_line(change, base_url, moment, zone) for change in changes),
        key=lambda line: (line.urgency, line.order),
    )
    return _alerts_message(organisation, delivery, lines, base_url)


# --- a batch of alert changes ------------------------------------------------------------------

# Most urgent first: critical openings and escalations, warnings, eased, resolved.
CRITICAL, WARNING, EASED, RESOLVED = range(4)
PREFIX = {
    "escalated": _l("Worse: "),
    "eased": _l("Eased: "),
    "resolved": _l("Resolved: "),
    "updated": _l("Updated: "),
}


def _severity(severity: str) -> str:
    """Return a severity in the reader's language ("critical", "warning")."""
    return label("severity", severity)


@dataclass(frozen=True)
class ChangeLine:
    """One change as a message line: how urgent, its short title, its text, its link."""

    urgency: int
    # Within an urgency: distributions by time, then evictions, then items by name.
    order: tuple[Any, ...]
    title: str
    text: str
    url: str
    payload: dict[str, Any]


def _urgency(change: AlertChange) -> int:
    if change.change in ("resolved", "expired"):
        return RESOLVED
    if change.change == "eased":
        return EASED
    return CRITICAL if change.severity == "critical" else WARNING


def _line(change: AlertChange, base_url: str, now: datetime, zone: ZoneInfo) -> ChangeLine:
    alert = change.alert
    if alert.kind == "distribution":
        return _distribution_line(change, base_url, now, zone)
    if alert.kind == "eviction":
        return _eviction_line(change, base_url, now, zone)
    if alert.kind == "expiry":
        return _expiry_line(change, base_url, now, zone)
    return _item_line(change, base_url, now, zone)


def _expiry_line(change: AlertChange, base_url: str, now: datetime, zone: ZoneInfo) -> ChangeLine:
    """Say a lot nears its best-before date: give it first (or it was, and is gone)."""
    f = change.figures
    today = now.astimezone(zone).date()
    url = f"{base_url}/needs#give-first"
    if change.change == "resolved":
        text = PREFIX["resolved"] + _(
            "%(item)s at %(site)s best before %(day)s: none left",
            item=f["label"],
            site=f["site"],
            day=i18n.when(date.fromisoformat(f["best_before"]), "day_month"),
        )
    else:
        text = PREFIX.get(change.change, "") + lots.expiry_text(f, today)
    payload = _payload(
        change,
        url,
        item={"id": f["item_id"], "label": f["label"], "unit": f["unit"]},
        site={"id": f["site_id"], "name": f["site"]},
        best_before=f["best_before"],
    )
    return ChangeLine(
        _urgency(change), (3, f["best_before"], f["label"]), f["label"], text, url, payload
    )


def _payload(change: AlertChange, url: str, **extra: Any) -> dict[str, Any]:
    return {
        "change": change.change,
        "severity": change.severity,
        "kind": change.alert.kind,
        **extra,
        "figures": change.figures,
        "url": url,
    }


def _item_line(change: AlertChange, base_url: str, now: datetime, zone: ZoneInfo) -> ChangeLine:
    figures = change.figures
    alert = change.alert
    item = alert.item
    label = item.label if item is not None else str(figures.get("label", ""))
    unit = str(figures.get("unit") or (item.unit if item is not None else ""))
    url = f"{base_url}/needs#item-{alert.item_id}"
    text = f"{PREFIX.get(change.change, '')}{label}: {_item_why(change, unit, now, zone)}"
    where = _held_at(figures, unit) if change.change in ("opened", "escalated") else ""
    payload = _payload(
        change,
        url,
        item={"id": alert.item_id, "label": label, "unit": unit},
        sites=figures.get("held_at", []),
    )
    return ChangeLine(
        _urgency(change), (2, label), label, "\n".join(filter(None, [text, where])), url, payload
    )


def _item_why(change: AlertChange, unit: str, now: datetime, zone: ZoneInfo) -> str:
    """Say why an item is short: held against what is committed, the minimum or the cover."""
    f = change.figures
    held = _("%(held)s held", held=wording.quantity(f["held"], unit))
    if change.change == "resolved":
        return _("%(held)s, %(need)s needed in %(days)s days", held=held, **_need_of(f))
    if change.severity == "critical":
        if f.get("committed_48h", 0) > f["held"]:
            why = _("%(committed)s committed in 48 h", committed=i18n.number(f["committed_48h"]))
        else:
            why = _(
                "%(committed)s committed in %(days)s days",
                committed=i18n.number(f.get("committed", 0)),
                days=i18n.number(f.get("horizon_days")),
            )
    elif f["held"] < f.get("min_stock", 0):
        why = _("below its minimum stock of %(minimum)s", minimum=i18n.number(f["min_stock"]))
    elif f.get("shortfall", 0) > 0:
        why = _("%(need)s needed in %(days)s days", **_need_of(f))
    elif f.get("days_of_cover") is not None:
        why = _(
            "%(cover)s days of cover, target %(target)s",
            cover=i18n.number(f["days_of_cover"]),
            target=i18n.number(f.get("cover_target_days")),
        )
    else:
        why = _("within the margin of its need")
    text = f"{held}, {why}"
    if f.get("short_by"):
        runs_out = datetime.fromisoformat(f["short_by"])
        text += ", " + _("runs out %(when)s", when=wording.half_day(runs_out, now, zone))
    return f"{text} — {_severity(change.severity)}"


def _need_of(figures: dict[str, Any]) -> dict[str, str]:
    """Return the need and its horizon as the reader writes figures."""
    return {
        "need": i18n.number(figures.get("need", 0)),
        "days": i18n.number(figures.get("horizon_days", 0)),
    }


def _held_at(figures: dict[str, Any], unit: str) -> str:
    sites = figures.get("held_at") or []
    if not sites:
        return ""
    held = ", ".join(f"{site['site']} {wording.quantity(site['quantity'], unit)}" for site in sites)
    return "  " + _("Held at: %(sites)s.", sites=held)


def _distribution_line(
    change: AlertChange, base_url: str, now: datetime, zone: ZoneInfo
) -> ChangeLine:
    f = change.figures
    starts = datetime.fromisoformat(f["starts_at"])
    head = f"{f['site']}, {wording.day_time(starts, now, zone)}"
    if change.change in ("resolved", "expired"):
        text = PREFIX["resolved"] + _("%(head)s: its sources hold every planned line", head=head)
        links: list[str] = []
        transfers: list[dict[str, Any]] = []
    else:
        parts, links, transfers = [], [], []
        for line in f.get("lines", []):
            parts.append(_short_line_text(line, now, zone))
            for transfer in line.get("transfers", []):
                link = _transfer_url(base_url, transfer)
                transfers.append({**transfer, "url": link})
                links.append("  " + _("Transfer form: %(url)s", url=link))
        text = f"{PREFIX.get(change.change, '')}{head}: " + "; ".join(parts)
    url = f"{base_url}/distributions/{f['distribution_id']}"
    same_day = starts.astimezone(zone).date() == now.astimezone(zone).date()
    title = f"{f['site']} {i18n.when(starts, 'time' if same_day else 'EEE HH:mm', zone)}"
    payload = _payload(
        change,
        url,
        site={"id": f.get("site_id"), "name": f["site"], "area": f.get("area")},
        distribution={"id": f["distribution_id"], "starts_at": f["starts_at"]},
        transfers=transfers,
    )
    body = "\n".join([text, *links]) if links else text
    return ChangeLine(_urgency(change), (0, f["starts_at"]), title, body, url, payload)


def _short_line_text(line: dict[str, Any], now: datetime, zone: ZoneInfo) -> str:
    """Say what a source lacks and what to move: "Main warehouse holds 20 of 40 Blanket — …"."""
    text = _(
        "%(source)s holds %(available)s of %(planned)s",
        source=line["source_site"],
        available=i18n.number(line["available"]),
        planned=wording.amount_of(line["planned"], line["unit"], _item_name(line, "item")),
    )
    moves = [
        _(
            "Move %(amount)s from %(from)s to %(to)s before %(when)s",
            amount=wording.amount_of(t["quantity"], t["unit"], _item_name(t, "item")),
            **{"from": t["from_site"]},
            to=t["to_site"],
            when=wording.deadline(datetime.fromisoformat(t["before"]), now, zone),
        )
        for t in line.get("transfers", [])
    ]
    unmet = line["missing"] - sum(t["quantity"] for t in line.get("transfers", []))
    if unmet > 0:
        moves.append(_("%(amount)s spare nowhere", amount=wording.quantity(unmet, line["unit"])))
    return " — ".join([text, "; ".join(moves)]) if moves else text


def _item_name(values: dict[str, Any], key: str) -> str:
    """Return an alert line's item in the reader's language; its stored name if it is gone."""
    item = db.session.get(Item, values["item_id"]) if values.get("item_id") else None
    return item.label if item is not None else str(values.get(key, ""))


def _transfer_url(base_url: str, transfer: dict[str, Any]) -> str:
    query = urlencode(
        {
            "item_id": transfer["item_id"],
            "from_site_id": transfer["from_site_id"],
            "to_site_id": transfer["to_site_id"],
            "quantity": transfer["quantity"],
        }
    )
    return f"{base_url}/stock/transfer?{query}"


def _eviction_line(change: AlertChange, base_url: str, now: datetime, zone: ZoneInfo) -> ChangeLine:
    f = change.figures
    head = _("Eviction in %(area)s", area=f.get("area", ""))
    counts = []
    if f.get("shelters"):
        counts.append(
            ngettext("%(num)d shelter destroyed", "%(num)d shelters destroyed", f["shelters"])
        )
    if f.get("people"):
        counts.append(ngettext("%(num)d person affected", "%(num)d people affected", f["people"]))
    if change.change == "resolved":
        text = PREFIX["resolved"] + _("%(head)s: nothing left to replace", head=head)
    else:
        wanted = ", ".join(
            _(
                "%(amount)s (%(held)s held)",
                amount=wording.amount_of(line["quantity"], line["unit"], _item_name(line, "label")),
                held=i18n.number(line.get("held", 0)),
            )
            for line in f.get("lines", [])
        )
        due = wording.deadline(datetime.fromisoformat(f["due"]), now, zone)
        text = f"{PREFIX.get(change.change, '')}{head}: {', '.join(counts)} → " + _(
            "%(wanted)s needed by %(due)s", wanted=wanted, due=due
        )
    url = f"{base_url}/incidents/{f.get('incident_id')}"
    payload = _payload(
        change,
        url,
        incident={"id": f.get("incident_id"), "area": f.get("area"), "due": f.get("due")},
    )
    return ChangeLine(_urgency(change), (1, f.get("due", "")), head, text, url, payload)


def _alerts_message(
    organisation: Organisation, delivery: Delivery, lines: list[ChangeLine], base_url: str
) -> Message:
    counts = Counter(line.urgency for line in lines)
    named = [
        ngettext("%(num)d critical", "%(num)d critical", counts[CRITICAL]),
        ngettext("%(num)d warning", "%(num)d warnings", counts[WARNING]),
        ngettext("%(num)d eased", "%(num)d eased", counts[EASED]),
        ngettext("%(num)d resolved", "%(num)d resolved", counts[RESOLVED]),
    ]
    tally = ", ".join(text for urgency, text in enumerate(named) if counts[urgency])
    titles = list(dict.fromkeys(line.title for line in lines))
    shown = ", ".join(titles[:SUBJECT_TITLES])
    if len(titles) > SUBJECT_TITLES:
        shown += " " + _("and %(num)d more", num=len(titles) - SUBJECT_TITLES)
    subject = f"[{organisation.name}] {tally}: {shown}"
    body = [f"{line.text}\n  {line.url}" for line in lines]
    text = "\n\n".join([*body, _("Needs page: %(url)s", url=f"{base_url}/needs")])
    payload = {
        "event": "alerts",
        "organisation": organisation.slug,
        "batch_id": delivery.batch_id,
        "changes": [line.payload for line in lines],
        "text": text,
    }
    return Message(subject, text, payload)


# --- reports and digests ---------------------------------------------------------------------


def _report(
    organisation: Organisation, delivery: Delivery, config: dict[str, Any], base_url: str
) -> Message:
    report = db.session.get(Report, delivery.report_id)
    path = reports.report_file(Path(config["REPORTS_DIR"]), report)
    period = _(
        "%(first)s – %(last)s",
        first=i18n.when(report.period_start, "day_month"),
        last=i18n.when(report.period_end, "date"),
    )
    subject = f"[{organisation.name}] {reports.title_of(report.kind)}, {period}"
    text = "\n".join(
        [
            _(
                "The weekly shortfall report of %(org)s for %(period)s is attached.",
                org=organisation.name,
                period=period,
            ),
            _("It shows what is short now, what was given out, and what was destroyed."),
            _("SHA-256 of the PDF: %(sha256)s", sha256=report.sha256),
        ]
    )
    payload = {"event": "report", "organisation": organisation.slug, "report_id": report.id}
    attachment = (report_file_name(report, path), path.read_bytes())
    subscriber = subscribers.subscriber_of_channel(delivery.channel_id)
    if subscriber is None:
        text += "\n" + _("Reports page: %(url)s", url=f"{base_url}/reports")
        return Message(subject, text, payload, attachment)
    # A donor without an account: no staff page to point at, and a way out on every mail.
    token = subscribers.unsubscribe_token(config["SECRET_KEY"], subscriber)
    stop_url = f"{base_url}/unsubscribe/{token}"
    text += "\n\n" + "\n".join(
        [
            _("To reach %(org)s, use the contact printed on the PDF.", org=organisation.name),
            _(
                "You receive this because you subscribed on %(org)s's donor page. "
                "To stop it: %(url)s",
                org=organisation.name,
                url=stop_url,
            ),
        ]
    )
    headers = {
        "List-Unsubscribe": f"<{stop_url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    return Message(subject, text, payload, attachment, headers)


def report_file_name(report: Report, path: Path) -> str:
    """Name a mailed report for its period, in the reader's language, in plain ASCII."""
    if report.kind != "shortfall" or report.period_start is None or report.period_end is None:
        return path.name
    name = _(
        "donor-report-%(first)s-to-%(last)s.pdf",
        first=report.period_start.isoformat(),
        last=report.period_end.isoformat(),
    )
    # A translation must not put spaces, accents or slashes in a file name.
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "-" for c in name)
    return safe if safe.endswith(".pdf") else path.name


def confirmation_message(organisation: Organisation, confirm_url: str) -> Message:
    """Ask an address to confirm it wants the weekly donor report (in the current language)."""
    subject = f"[{organisation.name}] " + _("Confirm your subscription to the weekly report")
    text = "\n\n".join(
        [
            _(
                "Someone, probably you, asked to receive the weekly donor report of %(org)s "
                "at this address.",
                org=organisation.name,
            ),
            _(
                "Each week you would receive one e-mail with the donor report attached as a PDF: "
                "what is short, what was given out and what was destroyed."
            ),
            _("To confirm, open this link and press the button: %(url)s", url=confirm_url),
            _(
                "If you did not ask for it, ignore this e-mail: nothing will be sent and the "
                "address will be deleted within a week."
            ),
        ]
    )
    return Message(subject, text, {"event": "subscriber_confirmation"})


def _digest(
    organisation: Organisation, delivery: Delivery, base_url: str, zone: ZoneInfo, now: datetime
) -> Message:
    lines = alerts.digest_lines(organisation.id)  # criticals first
    critical = sum(1 for line in lines if line.severity == "critical")
    subject = f"[{organisation.name}] " + _(
        "Shortages on %(day)s: %(critical)d critical, %(warning)d warning",
        day=i18n.when(delivery.digest_date, "day"),
        critical=critical,
        warning=len(lines) - critical,
    )
    body = [_digest_line(line, now, zone) for line in lines] or [_("Nothing is short. Well done.")]
    needs_url = f"{base_url}/needs"
    text = "\n".join([subject, "", *body, "", _("Needs page: %(url)s", url=needs_url)])
    payload = {
        "event": "digest",
        "organisation": organisation.slug,
        "date": delivery.digest_date.isoformat(),
        "alerts": [
            {
                "kind": line.kind,
                "label": line.label,
                "unit": line.unit,
                "severity": line.severity,
                "figures": line.figures,
            }
            for line in lines
        ],
        "url": needs_url,
        "text": text,
    }
    return Message(subject, text, payload)


def _digest_line(line: alerts.DigestLine, now: datetime, zone: ZoneInfo) -> str:
    """Say one open alert in a line, with units: "- Blanket (critical): 10 pieces held, …"."""
    f = line.figures
    head = f"- {line.label} ({_severity(line.severity)}): "
    if line.kind == "distribution":
        starts = wording.day_time(datetime.fromisoformat(f["starts_at"]), now, zone)
        return head + _(
            "%(when)s, %(missing)s missing at its sources",
            when=starts,
            missing=i18n.number(f["missing"]),
        )
    if line.kind == "eviction":
        due = wording.deadline(datetime.fromisoformat(f["due"]), now, zone)
        return head + _("eviction replacement needed by %(due)s", due=due)
    if line.kind == "expiry":
        return head + lots.expiry_text(f, now.astimezone(zone).date())
    text = head + _(
        "%(held)s held, need %(need)s, short by %(short)s",
        held=wording.quantity(f["held"], line.unit),
        need=i18n.number(f["need"]),
        short=i18n.number(f["shortfall"]),
    )
    if f.get("short_by"):
        runs_out = datetime.fromisoformat(f["short_by"])
        text += ", " + _("runs out %(when)s", when=wording.half_day(runs_out, now, zone))
    return text


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
    # RFC 5322 wants both; some servers add them, others mark the mail as spam without.
    email["Date"] = formatdate(localtime=False, usegmt=True)
    email["Message-ID"] = make_msgid(domain=_mail_domain(config))
    for name, value in message.headers.items():
        email[name] = value
    email.set_content(message.text)
    if message.attachment is not None:
        name, content = message.attachment
        email.add_attachment(content, maintype="application", subtype="pdf", filename=name)
    if message.headers:
        # An address in List-Unsubscribe is one long word: folded at 78 characters it would be
        # encoded, and no mail client reads that. The body is encoded already; only headers
        # are written with RFC 5322's hard limit.
        email.policy = email.policy.clone(max_line_length=998)
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


def _mail_domain(config: dict[str, Any]) -> str:
    """Return the host of BASE_URL, for Message-IDs (the sender's own name, not localhost's)."""
    host = urlsplit(str(config.get("BASE_URL") or "")).hostname
    return host or "localhost"


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
