"""Distributions (API.md): the agenda, scheduling, outcomes and figures."""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError
from sqlalchemy import func, select

from ... import limits
from ...extensions import db
from ...models import Distribution as DistributionRow
from ...models import DistributionSeries
from ...models.types import utcnow
from ...services import distributions, ledger
from ...services.distributions import OUTCOME_STATUSES, OutcomeInput
from .common import (
    Body,
    Day,
    Id,
    LocalTime,
    Once,
    Out,
    Query,
    QueryDay,
    Time,
    bp,
    check_period,
    current_org_id,
    current_user_id,
    lines_of,
    once,
    operation,
    text,
    whole,
)

CLOCK = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
Headcount = whole(0, limits.MAX_HEADCOUNT)
LineQuantity = whole(0, limits.MAX_QUANTITY)


def _clock(value: Any) -> Any:
    if not isinstance(value, str):
        raise PydanticCustomError("string_type", "a string (HH:MM)")
    match = CLOCK.fullmatch(value.strip())
    if match is None:
        raise ValueError("a local time written HH:MM, like 18:30")
    return time(int(match.group(1)), int(match.group(2)))


def _weekdays(value: Any) -> Any:
    # Named as a whole ("weekdays"), as before, rather than day by day.
    if not isinstance(value, list) or any(type(day) is not int for day in value):
        raise PydanticCustomError("list_type", "a list of whole numbers")
    if not value or any(not 0 <= day <= 6 for day in value):
        raise ValueError("one or more of 0 = Monday … 6 = Sunday")
    return sorted(set(value))


def _within_reach(when: datetime) -> datetime:
    # Like a series, at most a year back; far-off years would overflow in the local zone.
    now = utcnow()
    earliest = now - timedelta(days=limits.MAX_DAYS_BACK)
    if not earliest <= when.astimezone(UTC) <= now + timedelta(days=limits.MAX_DAYS_AHEAD):
        raise ValueError("within a year back and ten years ahead")
    return when


Clock = Annotated[
    time,
    BeforeValidator(_clock),
    WithJsonSchema({"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"}),
]
Weekdays = Annotated[
    list[int],
    BeforeValidator(_weekdays),
    WithJsonSchema(
        {
            "type": "array",
            "items": {"type": "integer", "minimum": 0, "maximum": 6},
            "minItems": 1,
            "description": "0 = Monday … 6 = Sunday",
        }
    ),
]
StartsAt = Annotated[Time, AfterValidator(_within_reach)]


# --- what goes in -----------------------------------------------------------------------------


class PlannedLineInput(Body):
    """How much of an item a distribution plans to give, and from where (null: its source)."""

    item_id: Id
    planned: LineQuantity
    source_site_id: Id | None = None


class GivenLineInput(Body):
    """How much of an item was given, and from where (null: its planned line's source)."""

    item_id: Id
    given: LineQuantity
    source_site_id: Id | None = None


class DistributionInput(Once):
    """A one-off distribution, from a source site, with its planned lines."""

    site_id: Id
    source_site_id: Id
    starts_at: StartsAt
    lines: lines_of(PlannedLineInput) = []


class SeriesInput(Once):
    """A weekly series: weekdays, a local time, from a day, perhaps until one."""

    site_id: Id
    source_site_id: Id
    weekdays: Weekdays
    time: Clock
    starts_on: Day
    ends_on: Day | None = None
    lines: lines_of(PlannedLineInput) = []


class OutcomeBody(Once):
    """What happened: held, disrupted or cancelled, headcounts, and what was given."""

    status: Literal[OUTCOME_STATUSES]
    headcount: Headcount | None = None
    headcount_minors: Headcount | None = None
    headcount_women: Headcount | None = None
    note: text(limits.MAX_NOTE) = ""
    lines: lines_of(GivenLineInput) = []
    confirm_early: bool = Field(
        False,
        description=(
            "Held or disrupted more than 6 hours before the start is refused (422, field "
            "confirm_early) unless this is true: the wrong distribution, or tomorrow's taken "
            "for tonight's. Cancelling ahead needs no confirmation."
        ),
    )


class Agenda(Query):
    """A period (from, to: YYYY-MM-DD) and perhaps one site."""

    from_: QueryDay | None = Field(None, alias="from")
    to: QueryDay | None = None
    site_id: Id | None = None


# --- what comes out ---------------------------------------------------------------------------


class Line(Out):
    """A planned line, the site it comes from and, once recorded, what was given."""

    item_id: int
    planned: int = Field(validation_alias="planned_quantity")
    given: int | None = Field(validation_alias="given_quantity")
    source_site_id: int


class Distribution(Out):
    """A distribution: its plan, then what happened."""

    id: int
    series_id: int | None
    site_id: int
    source_site_id: int
    starts_at: LocalTime
    local_date: date
    status: str
    headcount: int | None
    headcount_minors: int | None
    headcount_women: int | None
    note: str = Field(validation_alias="outcome_note")
    lines: list[Line]


class Distributions(Out):
    """Distributions in a period, by start."""

    from_: date = Field(alias="from")
    to: date
    distributions: list[Distribution]


class SeriesLine(Out):
    """What each occurrence of a series plans to give, and from where."""

    item_id: int
    planned: int = Field(validation_alias="planned_quantity")
    source_site_id: int


class Series(Out):
    """A series, with how many occurrences it has."""

    id: int
    site_id: int
    source_site_id: int
    weekdays: list[int]
    time: str
    starts_on: date
    ends_on: date | None
    lines: list[SeriesLine]
    generated: int


class ItemGiven(Out):
    """How much of an item was given."""

    item_id: int
    label: str
    category: str
    unit: str
    quantity: int


class Figures(Out):
    """Distributions by outcome, people served and items given in a period."""

    from_: date = Field(alias="from")
    to: date
    by_status: dict[str, int]
    people_served: int
    minors: int
    women: int
    items: list[ItemGiven]
    by_category: dict[str, int]


FIELDS = (
    "id",
    "series_id",
    "site_id",
    "source_site_id",
    "starts_at",
    "local_date",
    "status",
    "headcount",
    "headcount_minors",
    "headcount_women",
    "outcome_note",
)


def _shown(row: DistributionRow) -> Distribution:
    """Return a distribution with its lines."""
    values: dict[str, Any] = {name: getattr(row, name) for name in FIELDS}
    return Distribution.model_validate(values | {"lines": row.lines})


def _series(series: DistributionSeries) -> Series:
    generated = db.session.scalar(
        select(func.count(DistributionRow.id)).where(DistributionRow.series_id == series.id)
    )
    return Series(
        id=series.id,
        site_id=series.site_id,
        source_site_id=series.source_site_id,
        weekdays=sorted(series.weekdays),
        time=series.local_time.strftime("%H:%M"),
        starts_on=series.starts_on,
        ends_on=series.ends_on,
        lines=[SeriesLine.model_validate(line) for line in series.lines],
        generated=generated or 0,
    )


def _site(query: Agenda) -> int | None:
    return None if query.site_id is None else ledger.get_site(current_org_id(), query.site_id).id


def _pairs(lines: list[PlannedLineInput]) -> list[tuple[int, int, int | None]]:
    return [(line.item_id, line.planned, line.source_site_id) for line in lines]


# --- reading ----------------------------------------------------------------------------------


@bp.get("/distributions")
@operation("view_distributions", {200: Distributions}, query=Agenda)
def list_distributions(query: Agenda) -> Distributions:
    """Distributions in a period (default: the next 7 days), by start."""
    org_id = current_org_id()
    site_id = _site(query)
    first = query.from_ or distributions.local_today(org_id)
    last = query.to or min(
        first + timedelta(days=limits.DISTRIBUTION_LIST_DAYS - 1), limits.LATEST_DAY
    )
    check_period(first, last, limits.MAX_DISTRIBUTION_LIST_DAYS)
    # The list comes with its lines loaded (one query for all of them, not one per row).
    rows = distributions.distributions_between(org_id, first, last, site_id)
    return Distributions(from_=first, to=last, distributions=[_shown(d) for d in rows])


@bp.get("/distributions/<int:distribution_id>")
@operation("view_distributions", {200: Distribution})
def show_distribution(distribution_id: int) -> Distribution:
    """One distribution with its lines."""
    return _shown(distributions.get_distribution(current_org_id(), distribution_id))


# A fixed segment: werkzeug prefers it to <int:distribution_id>, and "figures" is no int anyway.
@bp.get("/distributions/figures")
@operation("view_distributions", {200: Figures}, query=Agenda)
def distribution_figures(query: Agenda) -> Figures:
    """Outcomes, people served and items given in a period (default: this month so far)."""
    org_id = current_org_id()
    site_id = _site(query)
    last = query.to or distributions.local_today(org_id)
    first = query.from_ or last.replace(day=1)
    check_period(first, last, limits.MAX_FIGURES_DAYS)
    result = distributions.figures(org_id, first, last, site_id)
    return Figures.model_validate(
        asdict(result) | {"from": first, "to": last, "items": [asdict(i) for i in result.items]}
    )


# --- scheduling -------------------------------------------------------------------------------


@bp.post("/distributions")
@operation("plan_distributions", {201: Distribution}, body=DistributionInput)
def create_distribution(body: DistributionInput) -> tuple[dict[str, Any], int]:
    """Schedule a one-off distribution."""

    def produce() -> tuple[Out, int]:
        made = distributions.create_one_off(
            current_org_id(),
            site_id=body.site_id,
            source_site_id=body.source_site_id,
            starts_at=body.starts_at,
            lines=_pairs(body.lines),
        )
        return _shown(made), 201

    return once("api_distribution_create", body.request_token, produce)


@bp.post("/distribution-series")
@operation("plan_distributions", {201: Series}, body=SeriesInput)
def create_distribution_series(body: SeriesInput) -> tuple[dict[str, Any], int]:
    """Create a weekly series; its occurrences are generated ahead."""

    def produce() -> tuple[Out, int]:
        made = distributions.create_series(
            current_org_id(),
            site_id=body.site_id,
            source_site_id=body.source_site_id,
            weekdays=body.weekdays,
            local_time=body.time,
            starts_on=body.starts_on,
            ends_on=body.ends_on,
            lines=_pairs(body.lines),
        )
        return _series(made), 201

    return once("api_series_create", body.request_token, produce)


# --- outcomes ---------------------------------------------------------------------------------


def distribution_of(distribution_id: int) -> DistributionRow:
    """Return the distribution a path names (another organisation's is a 404, whatever the body)."""
    return distributions.get_distribution(current_org_id(), distribution_id)


@bp.post("/distributions/<int:distribution_id>/outcome")
@operation(
    "record_outcomes", {200: Distribution}, body=OutcomeBody, errors=(409,), first=distribution_of
)
def record_distribution_outcome(
    distribution_id: int, found: DistributionRow, body: OutcomeBody
) -> tuple[dict[str, Any], int]:
    """Record held / disrupted / cancelled; what was given leaves the source, all or nothing."""
    outcome = OutcomeInput(
        status=body.status,
        headcount=body.headcount,
        headcount_minors=body.headcount_minors,
        headcount_women=body.headcount_women,
        note=body.note,
        given=[(line.item_id, line.given, line.source_site_id) for line in body.lines],
    )

    def produce() -> tuple[Out, int]:
        distributions.check_not_early(found, body.status, body.confirm_early)
        recorded = distributions.record_outcome(
            current_org_id(), current_user_id(), found.id, outcome
        )
        return _shown(recorded), 200

    return once("api_distribution_outcome", body.request_token, produce)
