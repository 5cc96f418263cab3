"""The JSON API's needs endpoints (API.md): needs, people estimates, alerts and alert channels.

A channel's secret is write-only: no answer ever carries it, only its last characters as a hint.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Response, jsonify, request

from ...models import (
    CHANNEL_KINDS,
    CHANNEL_MODES,
    SEVERITIES,
    Alert,
    Channel,
    Delivery,
    PeopleEstimate,
)
from ...models.types import utcnow
from ...services import alerts, needs
from ...services.distributions import local_today
from ...services.errors import NotFound, ValidationError
from ...services.needs import MAX_HORIZON_DAYS, Need
from .common import bp, current_membership, current_org_id, current_user_id, local_time
from .legacy import (
    ApiResponse,
    ApiResult,
    Fields,
    allowed,
    json_body,
    once_response,
    optional_json_body,
    parse_time,
    possible_id,
    query_whole,
)

ALERT_STATUSES = ("open", "recent")
RECENT_DAYS = 14
MAX_PEOPLE = 1_000_000
MAX_AREA = 120
MAX_TARGET = 500
# The secret column's width; the service asks for at least 16 characters.
MAX_SECRET = 200
HINT_LENGTH = 4
HISTORY_LIMIT = 50
DELIVERY_LIMIT = 100


# --- how things look in JSON -------------------------------------------------------------------


def _when(value: datetime | None) -> str | None:
    return None if value is None else local_time(value)


def need_json(need: Need) -> dict[str, Any]:
    """Return one item's need with every term, short_by in the organisation's time zone."""
    return need.figures() | {"short_by": _when(need.short_by)}


def estimate_json(estimate: PeopleEstimate) -> dict[str, Any]:
    """Return a people estimate (a count for an area, never anyone's details)."""
    return {
        "id": estimate.id,
        "area": estimate.area,
        "people": estimate.people,
        "as_of": estimate.as_of.isoformat(),
        "created_at": local_time(estimate.created_at),
    }


def alert_json(alert: Alert) -> dict[str, Any]:
    """Return an alert with the figures of its latest change and its history."""
    return {
        "id": alert.id,
        "item_id": alert.item_id,
        "label": alert.item.label,
        "severity": alert.severity,
        "opened_at": local_time(alert.opened_at),
        "resolved_at": _when(alert.resolved_at),
        "figures": _local_figures(alert.figures),
        "changes": [
            {"change": c.change, "severity": c.severity, "at": local_time(c.at)}
            for c in alert.changes
        ],
    }


def _local_figures(figures: dict[str, Any]) -> dict[str, Any]:
    """Show the stored figures' short_by (kept in UTC) in the organisation's time zone."""
    short_by = figures.get("short_by")
    when, problem = parse_time(short_by) if isinstance(short_by, str) else (None, "none")
    if when is None or problem:
        return dict(figures)
    return figures | {"short_by": local_time(when)}


def channel_json(channel: Channel) -> dict[str, Any]:
    """Return a channel; of its secret only the last characters, so it can be recognised."""
    return {
        "id": channel.id,
        "kind": channel.kind,
        "target": channel.target,
        "secret_hint": channel.secret[-HINT_LENGTH:] if channel.secret else None,
        "min_severity": channel.min_severity,
        "mode": channel.mode,
        "active": channel.active,
        "created_at": local_time(channel.created_at),
    }


def delivery_json(delivery: Delivery) -> dict[str, Any]:
    """Return one message's delivery: what it carried and how sending went."""
    change = delivery.alert_change
    return {
        "id": delivery.id,
        "alert_id": None if change is None else change.alert_id,
        "change": None if change is None else change.change,
        "digest_date": None if delivery.digest_date is None else delivery.digest_date.isoformat(),
        "status": delivery.status,
        "attempts": delivery.attempts,
        "last_error": delivery.last_error,
        "next_attempt_at": local_time(delivery.next_attempt_at),
        "sent_at": _when(delivery.sent_at),
        "created_at": local_time(delivery.created_at),
    }


# --- needs -------------------------------------------------------------------------------------


@bp.get("/needs")
@allowed("view_needs")
def list_needs() -> Response:
    org_id = current_org_id()
    horizon = query_whole("horizon_days")
    if horizon is not None and not 1 <= horizon <= MAX_HORIZON_DAYS:
        raise ValidationError(
            f"Please check horizon_days: from 1 to {MAX_HORIZON_DAYS}.",
            {"horizon_days": f"from 1 to {MAX_HORIZON_DAYS}"},
        )
    if horizon is None:
        horizon = current_membership().organisation.forecast_horizon_days
    moment = utcnow()
    rows = needs.compute_needs(org_id, horizon, now=moment)
    return jsonify(
        {
            "at": local_time(moment),
            "horizon_days": horizon,
            "needs": [need_json(need) for need in rows],
        }
    )


# --- people estimates --------------------------------------------------------------------------


@bp.get("/people-estimates")
@allowed("view_needs")
def list_people_estimates() -> Response:
    org_id = current_org_id()
    latest = needs.latest_estimates(org_id, local_today(org_id))
    return jsonify(
        {
            "people": sum(estimate.people for estimate in latest),
            "latest": [estimate_json(estimate) for estimate in latest],
            "history": [
                estimate_json(e) for e in needs.estimates_history(org_id, limit=HISTORY_LIMIT)
            ],
        }
    )


@bp.post("/people-estimates")
@allowed("record_estimates")
def create_people_estimate() -> ApiResponse:
    data = json_body()
    fields = Fields(data)
    area = " ".join(fields.text("area", required=True, limit=MAX_AREA).split())
    people = fields.whole("people", required=True, low=0, high=MAX_PEOPLE)
    today = local_today(current_org_id())
    as_of = fields.day("as_of") or today
    # An estimate dated ahead would sit unseen until then; that is a typing mistake.
    if as_of > today:
        fields.invalid["as_of"] = "today or earlier"
    fields.check()

    def produce() -> ApiResult:
        estimate = needs.record_estimate(
            current_org_id(), current_user_id(), area=area, people=people or 0, as_of=as_of
        )
        return estimate_json(estimate), 201

    return once_response("api_people_estimate", data, produce)


# --- alerts ------------------------------------------------------------------------------------


@bp.get("/alerts")
@allowed("view_alerts")
def list_alerts() -> Response:
    org_id = current_org_id()
    status = (request.args.get("status") or "").strip() or "open"
    if status not in ALERT_STATUSES:
        raise ValidationError("Please check status: open or recent.", {"status": "open or recent"})
    if status == "open":
        rows = alerts.open_alerts_of(org_id)
    else:
        rows = alerts.recent_alerts(org_id, days=RECENT_DAYS)
    return jsonify({"status": status, "alerts": [alert_json(alert) for alert in rows]})


# --- channels ----------------------------------------------------------------------------------


@bp.get("/channels")
@allowed("manage_channels")
def list_channels() -> Response:
    rows = alerts.channels_of(current_org_id())
    return jsonify({"channels": [channel_json(channel) for channel in rows]})


@bp.post("/channels")
@allowed("manage_channels")
def create_channel() -> ApiResponse:
    data = json_body()
    fields = Fields(data)
    values = {
        "kind": fields.text("kind", required=True, limit=20),
        "target": fields.text("target", required=True, limit=MAX_TARGET),
        "secret": fields.text("secret", limit=MAX_SECRET),
        "min_severity": fields.text("min_severity", limit=20) or "warning",
        "mode": fields.text("mode", limit=20) or "immediate",
    }
    _check_choice(fields, "kind", CHANNEL_KINDS)
    _check_choice(fields, "min_severity", SEVERITIES)
    _check_choice(fields, "mode", CHANNEL_MODES)
    if values["kind"] == "email" and values["secret"]:
        fields.invalid["secret"] = "only for a webhook"
    fields.check()

    def produce() -> ApiResult:
        # Only the channel as shown is kept for replays: never the secret.
        return channel_json(alerts.save_channel(current_org_id(), **values)), 201

    return once_response("api_channel_create", data, produce)


def _check_choice(fields: Fields, name: str, choices: tuple[str, ...]) -> None:
    value = fields.data.get(name)
    if isinstance(value, str) and value.strip() and value.strip() not in choices:
        fields.invalid[name] = " or ".join(choices)


@bp.post("/channels/<int:channel_id>/deactivate")
@allowed("manage_channels")
def deactivate_channel(channel_id: int) -> ApiResponse:
    return _switch(channel_id, active=False)


@bp.post("/channels/<int:channel_id>/activate")
@allowed("manage_channels")
def activate_channel(channel_id: int) -> ApiResponse:
    return _switch(channel_id, active=True)


def _switch(channel_id: int, *, active: bool) -> ApiResponse:
    channel = _group_channel(channel_id)
    data = optional_json_body()

    def produce() -> ApiResult:
        return channel_json(alerts.set_channel_active(current_org_id(), channel.id, active)), 200

    return once_response(
        "api_channel_activate" if active else "api_channel_deactivate", data, produce
    )


@bp.get("/channels/<int:channel_id>/deliveries")
@allowed("manage_channels")
def list_channel_deliveries(channel_id: int) -> Response:
    channel = _group_channel(channel_id)
    rows = alerts.deliveries_of(current_org_id(), channel_id=channel.id, limit=DELIVERY_LIMIT)
    return jsonify({"channel_id": channel.id, "deliveries": [delivery_json(d) for d in rows]})


def _group_channel(channel_id: int) -> Channel:
    """Return one of the group's channels; a member's own subscription is theirs to change."""
    channel = alerts.get_channel(current_org_id(), possible_id(channel_id))
    if channel.membership_id is not None:
        raise NotFound("No such channel.")
    return channel
