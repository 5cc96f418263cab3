"""Needs (API.md): needs, people estimates, alerts and alert channels.

A channel's secret is write-only: no answer ever carries it, only its last characters as a hint.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import model_validator
from typing_extensions import TypedDict

from ... import limits
from ...models import ALERT_KINDS, CHANNEL_KINDS, CHANNEL_MODES, SEVERITIES
from ...models import Alert as AlertRow
from ...models import Channel as ChannelRow
from ...models import Delivery as DeliveryRow
from ...models.types import utcnow
from ...services import alerts, needs
from ...services.distributions import local_today
from ...services.errors import NotFound, ValidationError
from .common import (
    Day,
    LocalTime,
    Once,
    Out,
    Query,
    bp,
    current_membership,
    current_org_id,
    current_user_id,
    local_time,
    once,
    operation,
    text,
    whole,
)

HINT_LENGTH = 4
# The figures that are times, stored in UTC, shown in the organisation's time zone.
TIME_FIGURES = frozenset({"short_by", "starts_at", "before", "due"})

# --- what goes in -----------------------------------------------------------------------------


class Horizon(Query):
    """How many days ahead (default: the organisation's forecast horizon)."""

    horizon_days: whole(1, limits.MAX_HORIZON_DAYS) | None = None


class AlertQuery(Query):
    """open: alerts still open; recent: resolved in the last 14 days as well."""

    status: Literal["open", "recent"] = "open"


class PeopleEstimateInput(Once):
    """How many people an area has, as of a day (default: today)."""

    area: text(limits.MAX_AREA, required=True)
    people: whole(0, limits.MAX_PEOPLE)
    as_of: Day | None = None


class ChannelInput(Once):
    """Where alerts go: an e-mail address, or a webhook URL with its signing secret."""

    kind: Literal[CHANNEL_KINDS]
    target: text(limits.MAX_CHANNEL_TARGET, required=True)
    secret: text(limits.MAX_CHANNEL_SECRET) = ""
    min_severity: Literal[SEVERITIES] = "warning"
    mode: Literal[CHANNEL_MODES] = "immediate"

    @model_validator(mode="after")
    def _secret_for_webhooks(self) -> ChannelInput:
        if self.kind == "email" and self.secret:
            raise ValidationError(
                "Please check secret: only for a webhook.", {"secret": "only for a webhook"}
            )
        return self


# --- what comes out ---------------------------------------------------------------------------


class HeldAt(TypedDict):
    """What one site holds of an item."""

    site_id: int
    site: str
    quantity: int


class Need(Out):
    """One item's need with every term (docs/needs.md), unrounded; short_by in local time."""

    item_id: int
    label: str
    category: str
    unit: str
    held: int
    consumption_rate: float
    committed: int
    committed_48h: int
    people: int
    per_person_per_day: float
    need_from_committed: int
    need_from_rate: float
    need_from_people: float
    need_from_replacement: int
    min_stock: int
    need: int
    shortfall: int
    days_of_cover: float | None
    cover_target_days: int
    short_by: LocalTime | None
    status: str
    horizon_days: int
    held_at: list[HeldAt]


class Needs(Out):
    """Every active item's need, most urgent first."""

    at: LocalTime
    horizon_days: int
    needs: list[Need]


class PeopleEstimate(Out):
    """A count of people for an area (never anyone's details)."""

    id: int
    area: str
    people: int
    as_of: date
    created_at: LocalTime


class PeopleEstimates(Out):
    """The latest estimate of each area, their sum, and the history."""

    people: int
    latest: list[PeopleEstimate]
    history: list[PeopleEstimate]


class AlertChange(Out):
    """An alert opening, changing severity or resolving."""

    change: str
    severity: str
    at: LocalTime


class Alert(Out):
    """An alert with the figures of its latest change and its history.

    kind "item": item_id and label name the item; "distribution" and "eviction" alerts name
    their distribution or incident instead, and their figures say what is missing where;
    "expiry": a lot of a dated item near (or past) its best-before date, its figures naming
    site, best_before, quantity and whether it has expired.
    """

    id: int
    kind: Literal[ALERT_KINDS]
    key: str
    item_id: int | None
    label: str | None
    distribution_id: int | None
    incident_id: int | None
    severity: str
    opened_at: LocalTime
    resolved_at: LocalTime | None
    figures: dict[str, Any]
    changes: list[AlertChange]


class Alerts(Out):
    """Alerts, open or recent."""

    status: str
    alerts: list[Alert]


class Channel(Out):
    """A channel; of its secret only the last characters, so it can be recognised."""

    id: int
    kind: str
    target: str
    secret_hint: str | None
    min_severity: str
    mode: str
    active: bool
    created_at: LocalTime


class Channels(Out):
    """The group's channels."""

    channels: list[Channel]


class Delivery(Out):
    """One message's delivery: what it carried and how sending went."""

    id: int
    alert_id: int | None
    change: str | None
    # The check whose changes one message listed (alert_id and change are then none).
    batch_id: int | None
    digest_date: date | None
    status: str
    attempts: int
    last_error: str
    next_attempt_at: LocalTime
    sent_at: LocalTime | None
    created_at: LocalTime


class Deliveries(Out):
    """A channel's deliveries, newest first."""

    channel_id: int
    deliveries: list[Delivery]


def _need(need: needs.Need) -> Need:
    # Plain dicts, not a model per site: a federation's needs name 10,000 of them, and dicts
    # of plain values are nothing for the garbage collector to walk.
    held_at = [{"site_id": s, "site": name, "quantity": q} for s, name, q in need.held_at]
    return Need.model_validate({**vars(need), "held_at": held_at})


def _alert(alert: AlertRow) -> Alert:
    return Alert(
        id=alert.id,
        kind=alert.kind,
        key=alert.key,
        item_id=alert.item_id,
        label=alert.item.label if alert.item is not None else None,
        distribution_id=alert.distribution_id,
        incident_id=alert.incident_id,
        severity=alert.severity,
        opened_at=alert.opened_at,
        resolved_at=alert.resolved_at,
        figures=_local_figures(alert.figures),
        changes=[AlertChange.model_validate(change) for change in alert.changes],
    )


def _local_figures(figures: Any) -> Any:
    """Show the stored figures' times (kept in UTC) in the organisation's time zone.

    Item figures carry short_by; a distribution's its starts_at and each transfer's before;
    an eviction's its due time. Lists and nested figures are walked; other values kept.
    """
    if isinstance(figures, list):
        return [_local_figures(value) for value in figures]
    if not isinstance(figures, dict):
        return figures
    return {
        name: _local_moment(value) if name in TIME_FIGURES else _local_figures(value)
        for name, value in figures.items()
    }


def _local_moment(value: Any) -> Any:
    """Return a stored UTC time in local time; leave anything that is not one as it is."""
    try:
        when = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        return value
    return local_time(when)


def _channel(channel: ChannelRow) -> Channel:
    return Channel(
        id=channel.id,
        kind=channel.kind,
        target=channel.target,
        secret_hint=channel.secret[-HINT_LENGTH:] if channel.secret else None,
        min_severity=channel.min_severity,
        mode=channel.mode,
        active=channel.active,
        created_at=channel.created_at,
    )


def _delivery(delivery: DeliveryRow) -> Delivery:
    change = delivery.alert_change
    return Delivery(
        id=delivery.id,
        alert_id=None if change is None else change.alert_id,
        change=None if change is None else change.change,
        batch_id=delivery.batch_id,
        digest_date=delivery.digest_date,
        status=delivery.status,
        attempts=delivery.attempts,
        last_error=delivery.last_error,
        next_attempt_at=delivery.next_attempt_at,
        sent_at=delivery.sent_at,
        created_at=delivery.created_at,
    )


# --- needs ------------------------------------------------------------------------------------


@bp.get("/needs")
@operation("view_needs", {200: Needs}, query=Horizon)
def list_needs(query: Horizon) -> Needs:
    """Every active item's need over the horizon, most urgent first."""
    horizon = query.horizon_days or current_membership().organisation.forecast_horizon_days
    moment = utcnow()
    rows = needs.compute_needs(current_org_id(), horizon, now=moment)
    return Needs(at=moment, horizon_days=horizon, needs=[_need(n) for n in rows])


# --- people estimates -------------------------------------------------------------------------


@bp.get("/people-estimates")
@operation("view_needs", {200: PeopleEstimates})
def list_people_estimates() -> PeopleEstimates:
    """The latest people estimate of each area, and the history."""
    org_id = current_org_id()
    latest = needs.latest_estimates(org_id, local_today(org_id))
    history = needs.estimates_history(org_id, limit=limits.PEOPLE_HISTORY)
    return PeopleEstimates(
        people=sum(estimate.people for estimate in latest),
        latest=[PeopleEstimate.model_validate(e) for e in latest],
        history=[PeopleEstimate.model_validate(e) for e in history],
    )


@bp.post("/people-estimates")
@operation("record_estimates", {201: PeopleEstimate}, body=PeopleEstimateInput)
def create_people_estimate(body: PeopleEstimateInput) -> tuple[dict[str, Any], int]:
    """Record how many people an area has."""
    today = local_today(current_org_id())
    as_of = body.as_of or today
    # An estimate dated ahead would sit unseen until then; that is a typing mistake.
    if as_of > today:
        raise ValidationError(
            "Please check as_of: today or earlier.", {"as_of": "today or earlier"}
        )

    def produce() -> tuple[Out, int]:
        # The service collapses the area's spaces, as for the page.
        estimate = needs.record_estimate(
            current_org_id(), current_user_id(), area=body.area, people=body.people, as_of=as_of
        )
        return PeopleEstimate.model_validate(estimate), 201

    return once("api_people_estimate", body.request_token, produce)


# --- alerts -----------------------------------------------------------------------------------


@bp.get("/alerts")
@operation("view_alerts", {200: Alerts}, query=AlertQuery)
def list_alerts(query: AlertQuery) -> Alerts:
    """Open alerts, or also those resolved in the last 14 days."""
    org_id = current_org_id()
    if query.status == "open":
        rows = alerts.open_alerts_of(org_id)
    else:
        rows = alerts.recent_alerts(org_id, days=limits.ALERT_RECENT_DAYS)
    return Alerts(status=query.status, alerts=[_alert(alert) for alert in rows])


# --- channels ---------------------------------------------------------------------------------


@bp.get("/channels")
@operation("manage_channels", {200: Channels})
def list_channels() -> Channels:
    """The group's alert channels."""
    return Channels(
        channels=[_channel(channel) for channel in alerts.channels_of(current_org_id())]
    )


@bp.post("/channels")
@operation("manage_channels", {201: Channel}, body=ChannelInput)
def create_channel(body: ChannelInput) -> tuple[dict[str, Any], int]:
    """Add an alert channel (e-mail or signed webhook)."""
    values = body.model_dump(exclude={"request_token"})

    def produce() -> tuple[Out, int]:
        # Only the channel as shown is kept for replays: never the secret.
        return _channel(alerts.save_channel(current_org_id(), **values)), 201

    return once("api_channel_create", body.request_token, produce)


def _group_channel(channel_id: int) -> ChannelRow:
    """Return one of the group's channels; a member's own subscription is theirs to change."""
    channel = alerts.get_channel(current_org_id(), channel_id)
    if channel.membership_id is not None or alerts.is_donor_channel(channel):
        raise NotFound("No such channel.")
    return channel


def _switch(kind: str, channel: ChannelRow, body: Once, *, active: bool) -> Any:
    def produce() -> tuple[Out, int]:
        switched = alerts.set_channel_active(current_org_id(), channel.id, active)
        return _channel(switched), 200

    return once(kind, body.request_token, produce)


@bp.post("/channels/<int:channel_id>/deactivate")
@operation("manage_channels", {200: Channel}, body=Once, body_optional=True, first=_group_channel)
def deactivate_channel(channel_id: int, found: ChannelRow, body: Once) -> Any:
    """Stop sending to a channel (its delivery log is kept)."""
    return _switch("api_channel_deactivate", found, body, active=False)


@bp.post("/channels/<int:channel_id>/activate")
@operation("manage_channels", {200: Channel}, body=Once, body_optional=True, first=_group_channel)
def activate_channel(channel_id: int, found: ChannelRow, body: Once) -> Any:
    """Send to a channel again."""
    return _switch("api_channel_activate", found, body, active=True)


@bp.get("/channels/<int:channel_id>/deliveries")
@operation("manage_channels", {200: Deliveries}, first=_group_channel)
def list_channel_deliveries(channel_id: int, found: ChannelRow) -> Deliveries:
    """A channel's deliveries, newest first."""
    rows = alerts.deliveries_of(current_org_id(), channel_id=found.id, limit=limits.DELIVERY_PAGE)
    return Deliveries(channel_id=found.id, deliveries=[_delivery(d) for d in rows])
