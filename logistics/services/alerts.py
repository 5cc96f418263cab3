"""Alerts: reconcile them with the needs, the distributions and evictions; deliver batches."""

from __future__ import annotations

import ipaddress
import math
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, case, func, insert, or_, select, update
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import (
    CHANNEL_KINDS,
    CHANNEL_MODES,
    SEVERITIES,
    Alert,
    AlertBatch,
    AlertChange,
    Channel,
    Delivery,
    Distribution,
    DonorSubscriber,
    Incident,
    Membership,
    Organisation,
)
from ..models.types import utcnow
from . import coverage, lots, replacement
from .distributions import local_today
from .errors import ValidationError
from .needs import Need, compute_needs, with_sites
from .rows import owned

SEVERITY_RANK = {"warning": 1, "critical": 2}
MAX_ATTEMPTS = 5
# Wait after attempt n (1-based) before the next one.
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1))
CLAIM_LEASE = timedelta(minutes=5)


# --- reconciling -----------------------------------------------------------------------------


def reconcile(organisation_id: int, now: datetime | None = None) -> list[AlertChange]:
    """Bring item and distribution alerts in line with the needs; queue one batch of changes.

    Every change of the check goes in one AlertBatch, and each channel gets one delivery
    listing the changes it wants. Safe to rerun: a subject has one open alert at most (its
    key), and a rerun with nothing new changes nothing.
    """
    moment = now or utcnow()
    margin = db.session.get(Organisation, organisation_id).resolve_margin_percent
    open_by_key = {alert.key: alert for alert in _open_alerts(organisation_id)}
    changes = [
        *_reconcile_items(organisation_id, open_by_key, margin, moment),
        *_reconcile_distributions(organisation_id, open_by_key, moment),
        *_expire_evictions(open_by_key, moment),
        *_reconcile_expiry(organisation_id, open_by_key, moment),
    ]
    _batch(organisation_id, changes, moment)
    return changes


def resolve_threshold(need: int, margin_percent: int) -> int:
    """Return what must be held for an item alert to resolve: the need plus the margin."""
    return math.ceil(need * (100 + margin_percent) / 100)


def _open_alerts(organisation_id: int, key: str | None = None) -> list[Alert]:
    query = select(Alert).where(
        Alert.organisation_id == organisation_id, Alert.resolved_at.is_(None)
    )
    if key is not None:
        query = query.where(Alert.key == key)
    return list(db.session.scalars(query))


def _reconcile_items(
    organisation_id: int, open_by_key: dict[str, Alert], margin: int, moment: datetime
) -> list[AlertChange]:
    changes = []
    rows = compute_needs(organisation_id, now=moment, sites=False)
    watched = {f"item:{need.item_id}" for need in rows}
    # Most items have nothing to open or resolve: only the others' sites are read and named.
    acted_on = [n for n in rows if n.status != "ok" or f"item:{n.item_id}" in open_by_key]
    for need in with_sites(organisation_id, acted_on):
        alert = open_by_key.get(f"item:{need.item_id}")
        change = _reconcile_item(organisation_id, alert, need, margin, moment)
        if change is not None:
            changes.append(change)
    for key, alert in open_by_key.items():
        if alert.kind == "item" and key not in watched:  # retired since: nothing to watch
            changes.append(_resolve(alert, "resolved", alert.figures, moment))
    return changes


def _reconcile_item(
    organisation_id: int, alert: Alert | None, need: Need, margin: int, moment: datetime
) -> AlertChange | None:
    """Open, escalate, ease or resolve one item's alert; it resolves only past the margin."""
    figures = need.figures()
    if alert is None:
        alert = _open(organisation_id, "item", f"item:{need.item_id}", need.status, figures, moment)
        alert.item_id = need.item_id
        return _change(alert, "opened", need.status, figures, moment)
    if need.status == "ok" and need.held >= resolve_threshold(need.need, margin):
        return _resolve(alert, "resolved", figures, moment)
    # Short, or met but within the margin: it stays open, and a met critical is a warning.
    status = "warning" if need.status == "ok" else need.status
    _set_figures(alert, figures)
    if status == alert.severity:
        return None
    change = "escalated" if SEVERITY_RANK[status] > SEVERITY_RANK[alert.severity] else "eased"
    alert.severity = status
    return _change(alert, change, status, figures, moment)


def _reconcile_distributions(
    organisation_id: int, open_by_key: dict[str, Alert], moment: datetime
) -> list[AlertChange]:
    """Open an alert per distribution its sources cannot cover; resolve or expire the rest."""
    changes = []
    found = set()
    for shortage in coverage.distribution_shortages(organisation_id, moment):
        key = f"distribution:{shortage.distribution_id}"
        found.add(key)
        figures = shortage.figures()
        alert = open_by_key.get(key)
        if alert is None:
            alert = _open(organisation_id, "distribution", key, "critical", figures, moment)
            alert.distribution_id = shortage.distribution_id
            changes.append(_change(alert, "opened", "critical", figures, moment))
        elif shortage.missing > int(alert.figures.get("missing", 0)):
            _set_figures(alert, figures)
            changes.append(_change(alert, "escalated", "critical", figures, moment))
        else:  # less missing, or other transfers: the page shows it, nobody is messaged
            _set_figures(alert, figures)
    gone = [a for k, a in open_by_key.items() if a.kind == "distribution" and k not in found]
    if gone:
        ahead = _still_ahead({a.distribution_id for a in gone if a.distribution_id}, moment)
        for alert in gone:
            covered = alert.distribution_id in ahead
            changes.append(
                _resolve(alert, "resolved" if covered else "expired", alert.figures, moment)
            )
    return changes


def _still_ahead(distribution_ids: set[int], moment: datetime) -> set[int]:
    """Return which distributions are still planned and yet to start."""
    if not distribution_ids:
        return set()
    return set(
        db.session.scalars(
            select(Distribution.id).where(
                Distribution.id.in_(sorted(distribution_ids)),
                Distribution.status == "planned",
                Distribution.starts_at >= moment,
            )
        )
    )


def _expire_evictions(open_by_key: dict[str, Alert], moment: datetime) -> list[AlertChange]:
    """Close, without a message, the eviction alerts whose replacement is past due."""
    return [
        _resolve(alert, "expired", alert.figures, moment)
        for alert in open_by_key.values()
        if alert.kind == "eviction" and _past_due(alert.figures, moment)
    ]


def _past_due(figures: dict[str, Any], moment: datetime) -> bool:
    due = figures.get("due")
    return due is not None and datetime.fromisoformat(due) <= moment


# --- best-before dates ----------------------------------------------------------------------

# A lot this close to its date (or past it) is critical; within EXPIRING_WITHIN_DAYS, a warning.
EXPIRY_CRITICAL_DAYS = 3


def _reconcile_expiry(
    organisation_id: int, open_by_key: dict[str, Alert], moment: datetime
) -> list[AlertChange]:
    """Open an alert per shelf whose earliest lot nears its date; resolve those given out.

    One alert per (site, item), about its earliest lot: the one to give first. A shelf with
    years of lots thus raises one alert, not one per date.
    """
    today = local_today(organisation_id, moment)
    critical_from = today + timedelta(days=EXPIRY_CRITICAL_DAYS)
    changes = []
    found = set()
    for lot in lots.expiring(organisation_id, today):  # earliest first
        key = f"expiry:{lot.site_id}:{lot.item_id}"
        if key in found:
            continue
        found.add(key)
        severity = "critical" if lot.best_before <= critical_from else "warning"
        figures = lot.figures(today)
        alert = open_by_key.get(key)
        if alert is None:
            alert = _open(organisation_id, "expiry", key, severity, figures, moment)
            alert.item_id = lot.item_id
            changes.append(_change(alert, "opened", severity, figures, moment))
            continue
        _set_figures(alert, figures)
        if severity != alert.severity:
            change = (
                "escalated" if SEVERITY_RANK[severity] > SEVERITY_RANK[alert.severity] else "eased"
            )
            alert.severity = severity
            changes.append(_change(alert, change, severity, figures, moment))
    for key, alert in open_by_key.items():
        if alert.kind == "expiry" and key not in found:  # given out, moved or written off
            changes.append(_resolve(alert, "resolved", alert.figures, moment))
    return changes


# --- evictions -------------------------------------------------------------------------------


def respond_to_eviction(
    organisation_id: int, incident: Incident, now: datetime | None = None
) -> AlertBatch | None:
    """Open, update or resolve the alert of an incident's replacement; return its batch.

    Called when an incident is saved. Its counts times the replacement kit make the lines;
    an empty kit, or no counts, means no alert. The batch's deliveries are queued here; the
    view sends them once it has committed.
    """
    moment = now or utcnow()
    key = f"incident:{incident.id}"
    alert = next(iter(_open_alerts(organisation_id, key)), None)
    counted = any(incident.affected)
    if alert is None and not counted:
        return None  # most incidents: nothing to replace, nothing to close
    lines = replacement.eviction_needs(organisation_id, incident, moment) if counted else []
    figures = _eviction_figures(incident, lines) if lines else None
    late = figures is not None and _past_due(figures, moment)
    if late:
        figures = None  # recorded after the fact: nothing left to bring in time
    change = None
    if alert is None and figures is not None:
        alert = _open(organisation_id, "eviction", key, "critical", figures, moment)
        alert.incident_id = incident.id
        change = _change(alert, "opened", "critical", figures, moment)
    elif alert is not None and figures is None:  # counts removed (a message), or past due
        change = _resolve(alert, "expired" if late else "resolved", alert.figures, moment)
    elif alert is not None and figures is not None:
        asked = _asked(figures) != _asked(alert.figures)
        _set_figures(alert, figures)
        if asked:
            change = _change(alert, "updated", "critical", figures, moment)
    return _batch(organisation_id, [change] if change else [], moment)


def _eviction_figures(
    incident: Incident, lines: list[replacement.ReplacementLine]
) -> dict[str, Any]:
    plain = [_plain(line) for line in lines]
    due = min(line["due"] for line in plain)
    return {
        "incident_id": incident.id,
        "area": incident.area,
        "shelters": incident.affected[1],
        "people": incident.affected[0],
        "due": due,
        "lines": plain,
    }


def _plain(line: replacement.ReplacementLine) -> dict[str, Any]:
    """Return a replacement line as plain JSON values (its due time in ISO 8601)."""
    values = {
        name: getattr(line, name) for name in ("item_id", "label", "unit", "quantity", "held")
    }
    values["due"] = line.due.isoformat()
    return values


def _asked(figures: dict[str, Any]) -> tuple[Any, ...]:
    """Return what an eviction asks for (counts and quantities), not what is held today."""
    return (
        figures.get("shelters"),
        figures.get("people"),
        tuple((line["item_id"], line["quantity"]) for line in figures.get("lines", [])),
    )


# --- alerts, changes and batches -------------------------------------------------------------


def _open(
    organisation_id: int,
    kind: str,
    key: str,
    severity: str,
    figures: dict[str, Any],
    moment: datetime,
) -> Alert:
    alert = Alert(
        organisation_id=organisation_id,
        kind=kind,
        key=key,
        severity=severity,
        opened_at=moment,
        figures=figures,
    )
    db.session.add(alert)
    return alert


def _set_figures(alert: Alert, figures: dict[str, Any]) -> None:
    if alert.figures != figures:  # an equal value would still be written
        alert.figures = figures


def _resolve(alert: Alert, change: str, figures: dict[str, Any], moment: datetime) -> AlertChange:
    """Close an alert: "resolved" is sent, "expired" is only recorded."""
    alert.resolved_at = moment
    _set_figures(alert, figures)
    # The change keeps the severity it had, so a critical-only channel hears it is over.
    return _change(alert, change, alert.severity, figures, moment)


def _change(
    alert: Alert, change: str, severity: str, figures: dict[str, Any], moment: datetime
) -> AlertChange:
    record = AlertChange(alert=alert, change=change, severity=severity, at=moment, figures=figures)
    db.session.add(record)
    return record


def _batch(organisation_id: int, changes: list[AlertChange], moment: datetime) -> AlertBatch | None:
    """Put one check's changes in one batch; queue one delivery per channel that wants any."""
    if not changes:
        db.session.flush()  # figures brought up to date are written all the same
        return None
    batch = AlertBatch(organisation_id=organisation_id, created_at=moment)
    db.session.add(batch)
    for change in changes:
        change.batch = batch
    db.session.flush()  # one flush writes every alert, change and the batch
    queue_batch_deliveries(organisation_id, batch, changes, moment)
    return batch


def wants(min_severity: str, change: AlertChange) -> bool:
    """Return whether a channel of this minimum severity is sent this change.

    Expired changes are never sent. An eased or resolved change is judged by the severity
    the alert had, so a critical-only channel is told its critical is over.
    """
    if change.change == "expired":
        return False
    severity = "critical" if change.change == "eased" else change.severity
    return SEVERITY_RANK[severity] >= SEVERITY_RANK[min_severity]


# Alert lists show each alert's item and its history: loaded with the list, not per row.
WITH_ITEM_AND_CHANGES = (selectinload(Alert.item), selectinload(Alert.changes))


def open_alerts_of(organisation_id: int) -> list[Alert]:
    """Return the organisation's open alerts, criticals first."""
    alerts = db.session.scalars(
        select(Alert)
        .where(Alert.organisation_id == organisation_id, Alert.resolved_at.is_(None))
        .options(*WITH_ITEM_AND_CHANGES)
    )
    return sorted(alerts, key=lambda a: (-SEVERITY_RANK[a.severity], a.opened_at))


def recent_alerts(organisation_id: int, days: int = 14, now: datetime | None = None) -> list[Alert]:
    """Return alerts resolved in the last days, newest first."""
    since = (now or utcnow()) - timedelta(days=days)
    return list(
        db.session.scalars(
            select(Alert)
            .where(Alert.organisation_id == organisation_id, Alert.resolved_at >= since)
            .options(*WITH_ITEM_AND_CHANGES)
            .order_by(Alert.resolved_at.desc())
        )
    )


def open_alerts_page(
    organisation_id: int, kinds_first: Sequence[str], page: int = 1, size: int = 30
) -> tuple[list[Alert], int]:
    """Return a page of open alerts, by kind as listed, criticals first, oldest first; and how
    many are open in all.

    The order is the database's, so a page is a slice of it and never reads the rest.
    """
    where = (Alert.organisation_id == organisation_id, Alert.resolved_at.is_(None))
    kind_rank = case(
        {kind: rank for rank, kind in enumerate(kinds_first)},
        value=Alert.kind,
        else_=len(kinds_first),
    )
    severity_rank = case(SEVERITY_RANK, value=Alert.severity, else_=0)
    query = (
        select(Alert)
        .where(*where)
        .options(*WITH_ITEM_AND_CHANGES)
        .order_by(kind_rank, severity_rank.desc(), Alert.opened_at, Alert.id)
        .offset((max(page, 1) - 1) * size)
        .limit(size)
    )
    total = db.session.scalar(select(func.count(Alert.id)).where(*where)) or 0
    return list(db.session.scalars(query)), total


def resolved_alerts_page(
    organisation_id: int,
    days: int = 14,
    page: int = 1,
    size: int = 20,
    now: datetime | None = None,
) -> tuple[list[Alert], bool]:
    """Return a page of the alerts resolved in the last days, newest first, and whether more
    follow."""
    since = (now or utcnow()) - timedelta(days=days)
    rows = list(
        db.session.scalars(
            select(Alert)
            .where(Alert.organisation_id == organisation_id, Alert.resolved_at >= since)
            .options(*WITH_ITEM_AND_CHANGES)
            .order_by(Alert.resolved_at.desc(), Alert.id.desc())
            .offset((max(page, 1) - 1) * size)
            .limit(size + 1)
        )
    )
    return rows[:size], len(rows) > size


def open_critical_count(organisation_id: int) -> int:
    """Return how many critical alerts are open (for the banner on every page)."""
    return db.session.scalar(
        select(func.count(Alert.id)).where(
            Alert.organisation_id == organisation_id,
            Alert.resolved_at.is_(None),
            Alert.severity == "critical",
        )
    )


# --- channels ----------------------------------------------------------------------------------


def save_channel(
    organisation_id: int,
    *,
    kind: str,
    target: str,
    secret: str = "",
    min_severity: str = "warning",
    mode: str = "immediate",
    membership_id: int | None = None,
    channel_id: int | None = None,
) -> Channel:
    """Create or change an alert channel, checking its address."""
    errors: dict[str, str] = {}
    clean_target = (target or "").strip()
    if kind not in CHANNEL_KINDS:
        errors["kind"] = "email or webhook"
    elif kind == "email" and ("@" not in clean_target or " " in clean_target):
        errors["target"] = "an e-mail address"
    elif kind == "webhook" and not _is_webhook_url(clean_target):
        errors["target"] = "an http(s) URL"
    if len(clean_target) > 500:
        errors["target"] = "at most 500 characters"
    if kind == "webhook" and len((secret or "").strip()) < 16:
        errors["secret"] = "at least 16 characters, to sign the messages"
    if min_severity not in SEVERITIES:
        errors["min_severity"] = "warning or critical"
    if mode not in CHANNEL_MODES:
        errors["mode"] = "immediate or digest"
    if errors:
        names = ", ".join(errors)
        raise ValidationError(_l("Please check: %(fields)s.", fields=names), errors)
    if kind == "webhook" and not current_app.config.get("WEBHOOK_ALLOW_PRIVATE"):
        _refuse_private_target(clean_target)
    channel = (
        get_channel(organisation_id, channel_id)
        if channel_id
        else Channel(organisation_id=organisation_id, membership_id=membership_id)
    )
    channel.kind = kind
    channel.target = clean_target
    channel.secret = (secret or "").strip()
    channel.min_severity = min_severity
    channel.mode = mode
    channel.active = True
    db.session.add(channel)
    db.session.flush()
    return channel


# --- webhook targets ---------------------------------------------------------------------------

# Prefixes whose IPv6 addresses carry an IPv4 one the packets end up at.
NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True)
class WebhookTarget:
    scheme: str
    host: str
    port: int
    path: str  # with its query


def parse_webhook_url(url: str) -> WebhookTarget:
    """Split a webhook URL; raise ValueError unless it is http(s) with a host and a valid port."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("not an http(s) URL")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return WebhookTarget(parts.scheme, parts.hostname, port, path)


def _is_webhook_url(url: str) -> bool:
    try:
        parse_webhook_url(url)
    except ValueError:
        return False
    return True


def resolve(host: str, port: int) -> list[str]:
    """Return the addresses a host resolves to, in the resolver's order; gaierror if none."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_private_address(text: str) -> bool:
    """Return whether a webhook must not reach this address: anything but a public unicast one."""
    address = ipaddress.ip_address(text.split("%", 1)[0])  # drop a zone, as in fe80::1%eth0
    if isinstance(address, ipaddress.IPv6Address):
        # An IPv6 address that carries an IPv4 one is judged by the IPv4 one.
        if address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        elif address.sixtofour is not None:
            address = address.sixtofour
        elif address in NAT64:
            address = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_unspecified
        or address.is_multicast
        or address.is_reserved
        or not address.is_global
    )


def _refuse_private_target(url: str) -> None:
    target = parse_webhook_url(url)
    try:
        addresses = resolve(target.host, target.port)
    except (OSError, UnicodeError):
        return  # unknown today; delivery checks the address it actually connects to
    private = next((a for a in addresses if is_private_address(a)), None)
    if private is not None:
        raise ValidationError(
            _l(
                "Webhooks go to public addresses only: %(host)s is %(address)s, "
                "a private or local address.",
                host=target.host,
                address=private,
            ),
            {"target": _l("a public address")},
        )


def get_channel(organisation_id: int, channel_id: int) -> Channel:
    """Return the organisation's channel or raise NotFound."""
    return owned(Channel, organisation_id, channel_id, _l("No such channel."))


def set_channel_active(organisation_id: int, channel_id: int, active: bool) -> Channel:
    """Switch a channel on or off (its delivery log is kept)."""
    channel = get_channel(organisation_id, channel_id)
    channel.active = active
    db.session.flush()
    return channel


def channels_of(organisation_id: int, *, membership_id: int | None = None) -> list[Channel]:
    """Return the group's channels, or one member's own subscriptions.

    A donor's subscription to the weekly report is neither: its address is kept for that alone.
    """
    query = select(Channel).where(Channel.organisation_id == organisation_id)
    if membership_id is None:
        query = query.where(
            Channel.membership_id.is_(None), Channel.id.not_in(donor_channels(organisation_id))
        )
    else:
        query = query.where(Channel.membership_id == membership_id)
    return list(db.session.scalars(query.order_by(Channel.id)))


def donor_channels(organisation_id: int) -> Select[tuple[int | None]]:
    """Return the query of the channels that carry the weekly report to donors who subscribed."""
    return select(DonorSubscriber.channel_id).where(
        DonorSubscriber.organisation_id == organisation_id,
        DonorSubscriber.channel_id.is_not(None),
    )


def is_donor_channel(channel: Channel) -> bool:
    """Tell whether a channel is a donor's subscription rather than the group's or a member's."""
    return (
        db.session.scalar(
            donor_channels(channel.organisation_id).where(DonorSubscriber.channel_id == channel.id)
        )
        is not None
    )


def set_subscription(organisation_id: int, membership: Membership, choice: str) -> Channel | None:
    """Set what a member receives by e-mail: none, critical, all, or digest."""
    if choice not in ("none", "critical", "all", "digest"):
        raise ValidationError(_l("Choose none, critical, all or digest."), {"choice": "unknown"})
    own = _alert_channels_of(organisation_id, membership.id)
    if choice == "none":
        for channel in own:
            channel.active = False
        db.session.flush()
        return None
    return save_channel(
        organisation_id,
        kind="email",
        target=membership.user.email,
        min_severity="critical" if choice == "critical" else "warning",
        mode="digest" if choice == "digest" else "immediate",
        membership_id=membership.id,
        channel_id=own[0].id if own else None,
    )


def subscription_of(organisation_id: int, membership_id: int) -> str:
    """Return what a member receives: none, critical, all or digest."""
    own = [c for c in _alert_channels_of(organisation_id, membership_id) if c.active]
    if not own:
        return "none"
    channel = own[0]
    if channel.mode == "digest":
        return "digest"
    return "critical" if channel.min_severity == "critical" else "all"


def _alert_channels_of(organisation_id: int, membership_id: int) -> list[Channel]:
    return [
        c
        for c in channels_of(organisation_id, membership_id=membership_id)
        if c.mode in CHANNEL_MODES
    ]


# --- deliveries --------------------------------------------------------------------------------


def queue_batch_deliveries(
    organisation_id: int, batch: AlertBatch, changes: list[AlertChange], moment: datetime
) -> int:
    """Queue one delivery of a batch per active immediate channel that wants any change of it."""
    rows = [
        {
            "organisation_id": organisation_id,
            "channel_id": channel.id,
            "batch_id": batch.id,
            "next_attempt_at": moment,
        }
        for channel in _active_channels(organisation_id, mode="immediate")
        if any(wants(channel.min_severity, change) for change in changes)
    ]
    if rows:
        # One bulk INSERT, no objects and no RETURNING: nothing here reads a delivery back.
        db.session.execute(insert(Delivery), rows)
    return len(rows)


def batch_changes(delivery: Delivery) -> list[AlertChange]:
    """Return the changes a delivery carries that its channel wants (one for an old delivery)."""
    if delivery.batch_id is None:
        return [delivery.alert_change] if delivery.alert_change is not None else []
    changes = db.session.scalars(
        select(AlertChange)
        .where(AlertChange.batch_id == delivery.batch_id)
        .options(selectinload(AlertChange.alert).selectinload(Alert.item))
        .order_by(AlertChange.id)
    )
    sent = [change for change in changes if change.change != "expired"]
    wanted = [change for change in sent if wants(delivery.channel.min_severity, change)]
    # A channel set to criticals after the batch was queued still gets a message, not nothing.
    return wanted or sent


def pending_batches_of(organisation_id: int, key: str) -> list[int]:
    """Return the batches with a change of an alert (by key) that still have a delivery to make."""
    return list(
        db.session.scalars(
            select(Delivery.batch_id)
            .join(AlertChange, AlertChange.batch_id == Delivery.batch_id)
            .join(Alert, Alert.id == AlertChange.alert_id)
            .where(
                Alert.organisation_id == organisation_id,
                Alert.key == key,
                Delivery.status == "pending",
            )
            .distinct()
            .order_by(Delivery.batch_id)
        )
    )


def queue_digests(organisation_id: int, day: date, moment: datetime | None = None) -> int:
    """Queue the day's digest for each digest channel that has none yet; return how many."""
    existing = set(
        db.session.scalars(
            select(Delivery.channel_id).where(
                Delivery.organisation_id == organisation_id, Delivery.digest_date == day
            )
        )
    )
    queued = 0
    for channel in _active_channels(organisation_id, mode="digest"):
        if channel.id in existing:
            continue
        db.session.add(
            Delivery(
                organisation_id=organisation_id,
                channel_id=channel.id,
                digest_date=day,
                next_attempt_at=moment or utcnow(),
            )
        )
        queued += 1
    db.session.flush()
    return queued


def _active_channels(organisation_id: int, mode: str) -> list[Channel]:
    return list(
        db.session.scalars(
            select(Channel).where(
                Channel.organisation_id == organisation_id,
                Channel.active.is_(True),
                Channel.mode == mode,
            )
        )
    )


def due_delivery_ids(
    now: datetime | None = None, limit: int = 200, *, batch_id: int | None = None
) -> list[int]:
    """Return pending deliveries whose time has come, oldest first (every organisation).

    With batch_id, only that batch's (an eviction's message, sent by the request).
    """
    moment = now or utcnow()
    query = select(Delivery.id).where(
        Delivery.status == "pending", Delivery.next_attempt_at <= moment
    )
    if batch_id is not None:
        query = query.where(Delivery.batch_id == batch_id)
    return list(
        db.session.scalars(query.order_by(Delivery.next_attempt_at, Delivery.id).limit(limit))
    )


def claim(delivery_id: int, now: datetime | None = None) -> Delivery | None:
    """Take a due delivery for sending, unless another sender holds it; None if not ours."""
    moment = now or utcnow()
    result = db.session.execute(
        update(Delivery)
        .where(
            Delivery.id == delivery_id,
            Delivery.status == "pending",
            Delivery.next_attempt_at <= moment,
            or_(Delivery.claimed_until.is_(None), Delivery.claimed_until < moment),
        )
        .values(claimed_until=moment + CLAIM_LEASE, attempts=Delivery.attempts + 1),
        execution_options={"synchronize_session": False},
    )
    if result.rowcount == 0:
        return None
    delivery = db.session.get(Delivery, delivery_id)
    db.session.refresh(delivery)
    return delivery


def record_attempt(delivery_id: int, error: str | None, now: datetime | None = None) -> Delivery:
    """Record a send's result: sent, or retry later with backoff, or give up after the limit."""
    moment = now or utcnow()
    delivery = db.session.get(Delivery, delivery_id)
    delivery.claimed_until = None
    if error is None:
        delivery.status = "sent"
        delivery.sent_at = moment
        delivery.last_error = ""
    else:
        delivery.last_error = error[:2000]
        if delivery.attempts >= MAX_ATTEMPTS:
            delivery.status = "failed"
        else:
            delivery.next_attempt_at = moment + BACKOFF[min(delivery.attempts, len(BACKOFF)) - 1]
    db.session.flush()
    return delivery


def deliveries_of(
    organisation_id: int, *, channel_id: int | None = None, limit: int = 100
) -> list[Delivery]:
    """Return the delivery log, newest first, for the organisation or one channel."""
    query = select(Delivery).where(Delivery.organisation_id == organisation_id)
    if channel_id is not None:
        query = query.where(Delivery.channel_id == channel_id)
    query = query.options(selectinload(Delivery.alert_change), selectinload(Delivery.batch))
    return list(db.session.scalars(query.order_by(Delivery.id.desc()).limit(limit)))


@dataclass(frozen=True)
class DigestLine:
    kind: str
    label: str
    unit: str
    severity: str
    figures: dict[str, Any]


def digest_lines(organisation_id: int) -> list[DigestLine]:
    """Return one line per open alert for a digest, most urgent first."""
    lines = []
    for alert in open_alerts_of(organisation_id):
        item = alert.item
        label = item.label if item is not None else _subject_label(alert)
        lines.append(
            DigestLine(alert.kind, label, item.unit if item else "", alert.severity, alert.figures)
        )
    return lines


def _subject_label(alert: Alert) -> str:
    """Name what a distribution or eviction alert is about, from its figures."""
    figures = alert.figures
    if alert.kind == "distribution":
        return str(figures.get("site", ""))
    return str(figures.get("area", ""))
