"""Needs, people estimates, alerts, alert channels and a member's own subscription: pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from .. import i18n, wording
from ..auth import current_membership, current_org_id, requires
from ..forms.needs import (
    SUBSCRIPTION_CHOICES,
    ChannelForm,
    ChannelSwitchForm,
    PeopleEstimateForm,
    SubscriptionForm,
)
from ..labels import CATEGORY_LABELS
from ..models import CATEGORIES, Alert, Channel
from ..models.types import utcnow
from ..services import alerts as alerting
from ..services import catalogue, donors, lots, needs, subscribers
from ..services.distributions import local_today
from ..svg import cover_chart
from ..templating import local_time
from ._submit import or_404, query_whole, submit_once

bp = Blueprint("needs", __name__)
CHART_CAP_DAYS = 60
RESOLVED_DAYS = 14
DELIVERY_LOG = 100
# Lots near their best-before date listed on the needs page; the rest are counted.
GIVE_FIRST_SHOWN = 10
# Needs shown a page at a time, most urgent first; the list opens on these statuses. Each
# row is fifteen figures wide: 25 rows are a phone's few screens (40 were 59 KB of HTML).
NEEDS_PAGE = 25
SHORT_STATUSES = ("critical", "warning")
# Sites named per item, on the needs and alerts pages; more are summed up as "…".
HELD_SITES = 3
# Alerts are listed by what to do first: tonight's distributions, evictions, then items.
KIND_ORDER = ("distribution", "eviction", "expiry", "item")
# Alerts a page, open and resolved apart.
OPEN_ALERTS_PAGE = 30
RESOLVED_ALERTS_PAGE = 20
# Times this close (either way) are written without their year: the messages' rule.
SOON = wording.NEAR


@bp.app_template_filter("alert_time")
def alert_time(value: datetime | None, now: datetime | None = None) -> str:
    """Show a time briefly when it is within the next 7 days, else with its year."""
    if value is None:
        return ""
    moment = now or utcnow()
    if moment - SOON <= value <= moment + SOON:
        return local_time(value, "day_time")
    return local_time(value, "EEE d MMM y HH:mm")


# --- needs -----------------------------------------------------------------------------------


@bp.route("/needs")
@requires("view_needs")
def index() -> tuple[str, int]:
    org_id = current_org_id()
    horizon, problems = _horizon_arg()
    category = request.args.get("category") or None
    if category is not None and category not in CATEGORIES:
        problems.append(_("There is no such category; showing every category."))
        category = None
    rows = needs.compute_needs(org_id, horizon, sites=False)
    in_category = [n for n in rows if category is None or n.category == category]
    show_all = request.args.get("show") == "all"
    # What is short opens the page; the rest is one tap away, and either list comes a page at
    # a time: a federation's catalogue never lands on a phone at once.
    short = [n for n in in_category if n.status in SHORT_STATUSES]
    listed = in_category if show_all else short
    page = query_whole("page") or 1
    shown = needs.with_sites(org_id, listed[(page - 1) * NEEDS_PAGE : page * NEEDS_PAGE])
    today = local_today(org_id)
    give_first = lots.expiring(org_id, today, limit=GIVE_FIRST_SHOWN)
    return render_template(
        "needs/index.html",
        give_first=give_first,
        give_first_more=(
            lots.count_expiring(org_id, today) - len(give_first)
            if len(give_first) == GIVE_FIRST_SHOWN
            else 0
        ),
        today=today,
        needs=shown,
        show_all=show_all,
        short_count=len(short),
        all_count=len(in_category),
        page=page,
        has_next=len(listed) > page * NEEDS_PAGE,
        pledged=donors.open_pledged(org_id),
        chart=cover_chart(shown, CHART_CAP_DAYS),
        charted=sum(1 for n in shown if n.days_of_cover is not None),
        horizon=horizon or current_membership().organisation.forecast_horizon_days,
        max_horizon=needs.MAX_HORIZON_DAYS,
        cap_days=CHART_CAP_DAYS,
        category=category,
        categories=[(c, CATEGORY_LABELS[c]) for c in CATEGORIES],
        problems=problems,
        people_total=rows[0].people if rows else 0,
        held_sites=HELD_SITES,
    ), (422 if problems else 200)


def _horizon_arg() -> tuple[int | None, list[str]]:
    """Read ?horizon_days=; a bad value falls back to the organisation's default, with a note."""
    raw = (request.args.get("horizon_days") or "").strip()
    if not raw:
        return None, []
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if 1 <= value <= needs.MAX_HORIZON_DAYS:
        return value, []
    default = current_membership().organisation.forecast_horizon_days
    return None, [
        _(
            "The horizon is a whole number of days from 1 to %(max)s; showing %(days)s days.",
            max=needs.MAX_HORIZON_DAYS,
            days=default,
        )
    ]


# --- people estimates ------------------------------------------------------------------------


@bp.route("/needs/people")
@requires("view_needs")
def people() -> str:
    form = PeopleEstimateForm()
    form.as_of.data = local_today(current_org_id())
    return _people_page(form)


@bp.route("/needs/people", methods=["POST"])
@requires("record_estimates")
def record_people() -> str | Response:
    form = PeopleEstimateForm()
    if form.validate_on_submit():

        def action() -> dict[str, Any]:
            estimate = needs.record_estimate(
                current_org_id(),
                current_membership().user_id,
                area=form.area.data,
                people=form.people.data,
                as_of=form.as_of.data,
            )
            return {
                "estimate_id": estimate.id,
                "message": _(
                    "Recorded %(people)s people in %(area)s on %(day)s.",
                    people=i18n.number(estimate.people),
                    area=estimate.area,
                    day=i18n.when(estimate.as_of, "date"),
                ),
            }

        if submit_once(form, "people_estimate", action) is not None:
            return redirect(url_for(".people"))
    return _people_page(form)


def _people_page(form: PeopleEstimateForm) -> str:
    org_id = current_org_id()
    latest = needs.latest_estimates(org_id, local_today(org_id))
    return render_template(
        "needs/people.html",
        form=form,
        latest=latest,
        total=sum(e.people for e in latest),
        history=needs.estimates_history(org_id),
        areas=sorted({s.area for s in catalogue.list_sites(org_id) if s.area}),
    )


# --- alerts ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertRow:
    """An alert with its stored figures ready to show."""

    alert: Alert
    figures: dict[str, Any]
    short_by: datetime | None
    escalated_at: datetime | None
    # When the distribution starts (distribution alerts) or the replacement is due (evictions).
    when: datetime | None = None
    # Why an item is short, one plain sentence each (item alerts).
    reasons: tuple[str, ...] = ()
    # The sites that hold the item, most first, at most HELD_SITES of them (item alerts).
    held_at: tuple[dict[str, Any], ...] = ()
    more_sites: bool = False
    # What to do about a lot near its best-before date (expiry alerts).
    text: str = ""


def _row(alert: Alert) -> AlertRow:
    figures = alert.figures or {}
    escalations = [c.at for c in alert.changes if c.change == "escalated"]
    held_at = [h for h in figures.get("held_at") or [] if isinstance(h, dict)]
    return AlertRow(
        alert=alert,
        figures=figures,
        short_by=_moment(figures.get("short_by")),
        escalated_at=escalations[-1] if escalations else None,
        when=_moment(figures.get("starts_at") or figures.get("due")),
        reasons=tuple(_reasons(figures)) if alert.kind == "item" else (),
        held_at=tuple(held_at[:HELD_SITES]),
        more_sites=len(held_at) > HELD_SITES,
        text=_expiry_text(figures) if alert.kind == "expiry" else "",
    )


def _expiry_text(figures: dict[str, Any]) -> str:
    """Say what to do about a lot; a damaged figure shows nothing rather than failing."""
    try:
        return lots.expiry_text(figures, local_today(current_org_id()))
    except (KeyError, TypeError, ValueError):
        return ""


def _moment(value: Any) -> datetime | None:
    """Read a stored ISO time; anything else (none, a damaged value) shows no time."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _reasons(figures: dict[str, Any]) -> list[str]:
    """Say why an item is short, from its stored figures, the most pressing first."""
    held = figures.get("held") or 0
    reasons = []
    committed_48h = figures.get("committed_48h") or 0
    if held < committed_48h:
        reasons.append(
            _(
                "%(committed)s committed in 48 h, %(held)s held",
                committed=i18n.number(committed_48h),
                held=i18n.number(held),
            )
        )
    min_stock = figures.get("min_stock") or 0
    if held < min_stock:
        reasons.append(_("below its minimum stock of %(min)s", min=i18n.number(min_stock)))
    if figures.get("shortfall"):
        reasons.append(
            _(
                "%(need)s needed over %(days)s days, %(short)s short",
                need=i18n.number(figures.get("need")),
                days=figures.get("horizon_days"),
                short=i18n.number(figures["shortfall"]),
            )
        )
    cover, target = figures.get("days_of_cover"), figures.get("cover_target_days")
    if cover is not None and target is not None and cover < target:
        reasons.append(
            _(
                "%(cover)s days of cover, target %(target)s",
                cover=i18n.number(cover),
                target=target,
            )
        )
    return reasons


@bp.route("/alerts")
@requires("view_alerts")
def alerts() -> str:
    org_id = current_org_id()
    # Open and resolved alerts page apart: a bad week's many alerts never land at once.
    open_page = query_whole("open_page") or 1
    resolved_page = query_whole("resolved_page") or 1
    open_alerts, open_count = alerting.open_alerts_page(
        org_id, KIND_ORDER, open_page, OPEN_ALERTS_PAGE
    )
    resolved, more_resolved = alerting.resolved_alerts_page(
        org_id, RESOLVED_DAYS, resolved_page, RESOLVED_ALERTS_PAGE
    )
    return render_template(
        "needs/alerts.html",
        open_rows=[_row(a) for a in open_alerts],
        open_count=open_count,
        open_page=open_page,
        more_open=open_count > open_page * OPEN_ALERTS_PAGE,
        resolved_rows=[_row(a) for a in resolved],
        resolved_page=resolved_page,
        more_resolved=more_resolved,
        resolved_days=RESOLVED_DAYS,
    )


# --- channels --------------------------------------------------------------------------------


@bp.route("/alerts/channels")
@requires("manage_channels")
def channels() -> str:
    return _channels_page(ChannelForm())


@bp.route("/alerts/channels", methods=["POST"])
@requires("manage_channels")
def add_channel() -> str | Response:
    form = ChannelForm()
    if form.validate_on_submit():

        def action() -> dict[str, Any]:
            webhook = form.kind.data == "webhook"
            channel = alerting.save_channel(
                current_org_id(),
                kind=form.kind.data,
                target=form.target.data,
                secret=(form.secret.data or "") if webhook else "",
                min_severity=form.min_severity.data,
                mode=form.mode.data,
            )
            return {
                "channel_id": channel.id,
                "message": _("Channel added: %(target)s.", target=channel.target),
            }

        if submit_once(form, "channel_add", action) is not None:
            return redirect(url_for(".channels"))
    return _channels_page(form)


@bp.route("/alerts/channels/<int:channel_id>/active", methods=["POST"])
@requires("manage_channels")
def switch_channel(channel_id: int) -> Response:
    org_id = current_org_id()
    channel = or_404(alerting.get_channel, org_id, channel_id)
    if channel.membership_id is not None or alerting.is_donor_channel(channel):
        abort(404)  # a member's own subscription, or a donor's address: only its owner stops it
    form = ChannelSwitchForm()
    if not form.validate_on_submit():
        flash(_("That switch was not understood; nothing changed."))
        return redirect(url_for(".channels"))
    active = form.active.data == "1"

    def action() -> dict[str, Any]:
        alerting.set_channel_active(org_id, channel.id, active)
        message = _("Channel switched on: %(target)s.", target=channel.target)
        if not active:
            message = _("Channel switched off: %(target)s.", target=channel.target)
        return {"message": message}

    submit_once(form, "channel_switch", action)
    return redirect(url_for(".channels"))


def secret_hint(channel: Channel) -> str:
    """Show a saved secret only by its last 4 characters."""
    return f"…{channel.secret[-4:]}" if channel.secret else ""


def _switch_form(channel: Channel) -> ChannelSwitchForm:
    """Return a fresh one-button form that flips the channel."""
    return ChannelSwitchForm(formdata=None, active="0" if channel.active else "1")


def _channels_page(form: ChannelForm) -> str:
    org_id = current_org_id()
    # Donors' addresses are theirs alone: admins see neither their channels nor their addresses.
    donors = subscribers.channel_ids(org_id)
    group = alerting.channels_of(org_id)
    return render_template(
        "needs/channels.html",
        form=form,
        channels=[(c, secret_hint(c), _switch_form(c)) for c in group],
        deliveries=alerting.deliveries_of(org_id, limit=DELIVERY_LOG),
        delivery_log=DELIVERY_LOG,
        donor_channels=donors,
    )


# --- a member's own subscription -------------------------------------------------------------


@bp.route("/alerts/subscription", methods=["GET", "POST"])
@requires("view_alerts")
def subscription() -> str | Response:
    org_id = current_org_id()
    membership = current_membership()
    current = alerting.subscription_of(org_id, membership.id)
    form = SubscriptionForm()
    if request.method == "GET":
        form.choice.data = current
    elif form.validate_on_submit():

        def action() -> dict[str, Any]:
            alerting.set_subscription(org_id, membership, form.choice.data)
            return {"message": _("Your alert e-mails are set.")}

        if submit_once(form, "subscription", action) is not None:
            return redirect(url_for(".subscription"))
    return render_template(
        "needs/subscription.html",
        form=form,
        current_label={c.value: c.label for c in SUBSCRIPTION_CHOICES}[current],
        email=membership.user.email,
    )
