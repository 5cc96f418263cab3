"""The JSON API's distribution endpoints (API.md): agenda, scheduling, outcomes, figures."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import Response, jsonify
from sqlalchemy import func, select

from ...extensions import db
from ...models import Distribution, DistributionLine, DistributionSeries
from ...models.types import utcnow
from ...services import distributions
from ...services.distributions import OUTCOME_STATUSES, OutcomeInput
from ...services.errors import ValidationError
from .common import bp, current_org_id, current_user_id, local_time
from .legacy import (
    MAX_DAYS,
    MAX_NOTE,
    ApiResponse,
    ApiResult,
    Fields,
    allowed,
    json_body,
    once_response,
    possible_id,
    query_date,
    site_filter,
)

LIST_DAYS = 7
MAX_LIST_DAYS = 92
# A whole (leap) year of figures, for annual reports.
MAX_FIGURES_DAYS = 366
MAX_HEADCOUNT = 100_000
CLOCK = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


# --- how distributions look in JSON -----------------------------------------------------------


def distribution_json(
    distribution: Distribution, lines: Iterable[DistributionLine] | None = None
) -> dict[str, Any]:
    """Return a distribution as the API shows it: its plan, then what happened."""
    return {
        "id": distribution.id,
        "series_id": distribution.series_id,
        "site_id": distribution.site_id,
        "source_site_id": distribution.source_site_id,
        "starts_at": local_time(distribution.starts_at),
        "local_date": distribution.local_date.isoformat(),
        "status": distribution.status,
        "headcount": distribution.headcount,
        "headcount_minors": distribution.headcount_minors,
        "headcount_women": distribution.headcount_women,
        "note": distribution.outcome_note,
        "lines": [
            {
                "item_id": line.item_id,
                "planned": line.planned_quantity,
                "given": line.given_quantity,
            }
            for line in (distribution.lines if lines is None else lines)
        ],
    }


def series_json(series: DistributionSeries) -> dict[str, Any]:
    """Return a series as the API shows it, with how many occurrences it has."""
    generated = db.session.scalar(
        select(func.count(Distribution.id)).where(Distribution.series_id == series.id)
    )
    return {
        "id": series.id,
        "site_id": series.site_id,
        "source_site_id": series.source_site_id,
        "weekdays": sorted(series.weekdays),
        "time": series.local_time.strftime("%H:%M"),
        "starts_on": series.starts_on.isoformat(),
        "ends_on": None if series.ends_on is None else series.ends_on.isoformat(),
        "lines": [
            {"item_id": line.item_id, "planned": line.planned_quantity} for line in series.lines
        ],
        "generated": generated or 0,
    }


def _lines_by_distribution(ids: list[int]) -> dict[int, list[DistributionLine]]:
    """Load the lines of many distributions in one query rather than one per distribution."""
    grouped: dict[int, list[DistributionLine]] = defaultdict(list)
    if ids:
        rows = db.session.scalars(
            select(DistributionLine)
            .where(DistributionLine.distribution_id.in_(ids))
            .order_by(DistributionLine.id)
        )
        for line in rows:
            grouped[line.distribution_id].append(line)
    return grouped


# --- reading ----------------------------------------------------------------------------------


@bp.get("/distributions")
@allowed("view_distributions")
def list_distributions() -> Response:
    org_id = current_org_id()
    site_id = site_filter()
    first = query_date("from") or distributions.local_today(org_id)
    last = query_date("to") or _days_after(first, LIST_DAYS - 1)
    _check_period(first, last, MAX_LIST_DAYS)
    rows = distributions.distributions_between(org_id, first, last, site_id)
    lines = _lines_by_distribution([d.id for d in rows])
    return jsonify(
        {
            "from": first.isoformat(),
            "to": last.isoformat(),
            "distributions": [distribution_json(d, lines[d.id]) for d in rows],
        }
    )


@bp.get("/distributions/<int:distribution_id>")
@allowed("view_distributions")
def show_distribution(distribution_id: int) -> Response:
    distribution = distributions.get_distribution(current_org_id(), possible_id(distribution_id))
    return jsonify(distribution_json(distribution))


# A fixed segment: werkzeug prefers it to <int:distribution_id>, and "figures" is no int anyway.
@bp.get("/distributions/figures")
@allowed("view_distributions")
def distribution_figures() -> Response:
    org_id = current_org_id()
    site_id = site_filter()
    last = query_date("to") or distributions.local_today(org_id)
    first = query_date("from") or last.replace(day=1)
    _check_period(first, last, MAX_FIGURES_DAYS)
    result = distributions.figures(org_id, first, last, site_id)
    return jsonify(
        {
            "from": first.isoformat(),
            "to": last.isoformat(),
            "by_status": result.by_status,
            "people_served": result.people_served,
            "minors": result.minors,
            "women": result.women,
            "items": [asdict(row) for row in result.items],
            "by_category": result.by_category,
        }
    )


def _days_after(first: date, days: int) -> date:
    return min(first + timedelta(days=days), distributions.LATEST_DAY)


def _check_period(first: date, last: date, max_days: int) -> None:
    if last < first:
        raise ValidationError("Please check to: it is before from.", {"to": "before from"})
    if (last - first).days + 1 > max_days:
        raise ValidationError(
            f"Please check to: the period can be at most {max_days} days.",
            {"to": f"at most {max_days} days"},
        )


# --- scheduling -------------------------------------------------------------------------------


@bp.post("/distributions")
@allowed("plan_distributions")
def create_distribution() -> ApiResponse:
    data = json_body()
    fields = Fields(data)
    values = {
        "site_id": fields.ident("site_id"),
        "source_site_id": fields.ident("source_site_id"),
        "starts_at": _starts_at(fields),
        "lines": fields.lines("lines", "planned"),
    }
    fields.check()

    def produce() -> ApiResult:
        return distribution_json(distributions.create_one_off(current_org_id(), **values)), 201

    return once_response("api_distribution_create", data, produce)


@bp.post("/distribution-series")
@allowed("plan_distributions")
def create_distribution_series() -> ApiResponse:
    data = json_body()
    fields = Fields(data)
    values = {
        "site_id": fields.ident("site_id"),
        "source_site_id": fields.ident("source_site_id"),
        "weekdays": _weekdays(fields),
        "local_time": _clock(fields),
        "starts_on": fields.day("starts_on", required=True),
        "ends_on": fields.day("ends_on"),
        "lines": fields.lines("lines", "planned"),
    }
    fields.check()

    def produce() -> ApiResult:
        return series_json(distributions.create_series(current_org_id(), **values)), 201

    return once_response("api_series_create", data, produce)


def _starts_at(fields: Fields) -> datetime | None:
    """Read the start time; like a series, at most a year back, and at most ten years ahead."""
    when = fields.time("starts_at", required=True)
    if when is None:
        return None
    now = utcnow()
    earliest = now - timedelta(days=distributions.MAX_DAYS_BACK)
    # Far-off years would overflow when shown in the organisation's time zone.
    if not earliest <= when.astimezone(UTC) <= now + timedelta(days=MAX_DAYS):
        fields.invalid["starts_at"] = "within a year back and ten years ahead"
    return when


def _weekdays(fields: Fields) -> list[int]:
    """Read weekdays as a list of 0 (Monday) … 6 (Sunday)."""
    value = fields.data.get("weekdays")
    if value is None:
        fields.invalid["weekdays"] = "required"
        return []
    if not isinstance(value, list) or any(type(day) is not int for day in value):
        fields.wrong_type["weekdays"] = "a list of whole numbers"
        return []
    if not value or any(not 0 <= day <= 6 for day in value):
        fields.invalid["weekdays"] = "one or more of 0 = Monday … 6 = Sunday"
        return []
    return sorted(set(value))


def _clock(fields: Fields) -> time | None:
    """Read a local wall-clock time written HH:MM."""
    value = fields.data.get("time")
    if value is None:
        fields.invalid["time"] = "required"
        return None
    if not isinstance(value, str):
        fields.wrong_type["time"] = "a string (HH:MM)"
        return None
    match = CLOCK.fullmatch(value.strip())
    if match is None:
        fields.invalid["time"] = "a local time written HH:MM, like 18:30"
        return None
    return time(int(match.group(1)), int(match.group(2)))


# --- outcomes ---------------------------------------------------------------------------------


@bp.post("/distributions/<int:distribution_id>/outcome")
@allowed("record_outcomes")
def record_distribution_outcome(distribution_id: int) -> ApiResponse:
    # Another organisation's distribution is not found, whatever the body says.
    distribution = distributions.get_distribution(current_org_id(), possible_id(distribution_id))
    data = json_body()
    fields = Fields(data)
    status = fields.text("status", required=True, limit=20)
    if status and status not in OUTCOME_STATUSES:
        fields.invalid["status"] = f"one of {', '.join(OUTCOME_STATUSES)}"
    outcome = OutcomeInput(
        status=status,
        headcount=fields.whole("headcount", low=0, high=MAX_HEADCOUNT),
        headcount_minors=fields.whole("headcount_minors", low=0, high=MAX_HEADCOUNT),
        headcount_women=fields.whole("headcount_women", low=0, high=MAX_HEADCOUNT),
        note=fields.text("note", limit=MAX_NOTE),
        given=fields.lines("lines", "given"),
    )
    fields.check()

    def produce() -> ApiResult:
        recorded = distributions.record_outcome(
            current_org_id(), current_user_id(), distribution.id, outcome
        )
        return distribution_json(recorded), 200

    return once_response("api_distribution_outcome", data, produce)
