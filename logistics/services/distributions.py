"""Distributions: schedule them (one-off or recurring), plan lines, record what happened."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased, joinedload, selectinload

from .. import i18n, limits
from ..extensions import db
from ..models import (
    GIVING_STATUSES,
    Distribution,
    DistributionLine,
    DistributionSeries,
    Item,
    Membership,
    SeriesLine,
    Site,
    StockMovement,
)
from ..models.catalogue import item_label
from ..models.types import utcnow
from . import ledger
from .accounts import organisation_zone, remember_site
from .catalogue import cooked_on_the_day, main_site
from .coverage import draw_on_sources, levels, missing_in_turn
from .errors import ValidationError
from .lines import sync_lines
from .outgoing import Take, take_all
from .rows import owned

DAYS_AHEAD = 28
# The agenda's days come in windows of whole days holding at most this many distributions (or
# one day), shown a page of AGENDA_PAGE distributions at a time: a federation's busy day
# fills several pages, and a phone gets a page it can read.
AGENDA_MOST = 100
AGENDA_PAGE = 30
MAX_DAYS_BACK = limits.MAX_DAYS_BACK
OUTCOME_STATUSES = ("held", "disrupted", "cancelled")
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# Dates anyone may ask about; others are typing mistakes, and 9999-12-31 + 1 day overflows.
EARLIEST_DAY = limits.EARLIEST_DAY
LATEST_DAY = limits.LATEST_DAY
# Held or disrupted recorded sooner than this before the start is asked to be confirmed: the
# wrong distribution tapped, or tomorrow's mistaken for tonight's.
EARLY_OUTCOME = timedelta(hours=6)
# A hand-out's typed time may run this far past the server's clock (a watch a little fast).
CLOCK_SLACK = timedelta(minutes=5)


@dataclass(frozen=True)
class PlanLine:
    """An item, a quantity and where it comes from (None: the distribution's own source)."""

    item_id: int
    quantity: int
    source_site_id: int | None = None


# (item_id, quantity) pairs or (item_id, quantity, source_site_id) triples, as forms and the
# API give them; a PlanLine does as well.
LineInput = tuple[int, int] | tuple[int, int, int | None] | PlanLine


def local_today(organisation_id: int, now: datetime | None = None) -> date:
    """Return today's date where the organisation works."""
    return (now or utcnow()).astimezone(organisation_zone(organisation_id)).date()


def starts_at_utc(day: date, at: time, zone: ZoneInfo) -> datetime:
    """Return the UTC moment of a local date and wall-clock time (18:00 stays 18:00 across DST)."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def get_distribution(
    organisation_id: int, distribution_id: int, *, for_update: bool = False
) -> Distribution:
    """Return the organisation's distribution or raise NotFound; optionally locked for writing."""
    return owned(
        Distribution,
        organisation_id,
        distribution_id,
        _l("No such distribution."),
        for_update=for_update,
    )


def get_series(organisation_id: int, series_id: int) -> DistributionSeries:
    """Return the organisation's series or raise NotFound."""
    return owned(DistributionSeries, organisation_id, series_id, _l("No such series."))


# --- scheduling ------------------------------------------------------------------------------


def create_one_off(
    organisation_id: int,
    *,
    site_id: int,
    source_site_id: int,
    starts_at: datetime,
    lines: Sequence[LineInput],
) -> Distribution:
    """Schedule a single distribution with its planned lines."""
    _check_places(organisation_id, site_id, source_site_id)
    _check_starts_at(starts_at)
    clean = _clean_lines(organisation_id, lines)
    zone = organisation_zone(organisation_id)
    distribution = Distribution(
        organisation_id=organisation_id,
        site_id=site_id,
        source_site_id=source_site_id,
        starts_at=starts_at.astimezone(UTC),
        local_date=starts_at.astimezone(zone).date(),
        status="planned",
    )
    _set_planned_lines(distribution, clean)
    db.session.add(distribution)
    db.session.flush()
    return distribution


def create_series(
    organisation_id: int,
    *,
    site_id: int,
    source_site_id: int,
    weekdays: Iterable[int],
    local_time: time,
    starts_on: date,
    ends_on: date | None,
    lines: Sequence[LineInput],
    now: datetime | None = None,
) -> DistributionSeries:
    """Create a recurring series and its occurrences, past ones included, 28 days ahead."""
    series = DistributionSeries(organisation_id=organisation_id)
    _apply_series_fields(
        series, organisation_id, site_id, source_site_id, weekdays, local_time, starts_on, ends_on
    )
    _check_start(organisation_id, starts_on, now)
    _set_series_lines(series, _clean_lines(organisation_id, lines))
    db.session.add(series)
    db.session.flush()
    generate_occurrences(series, now=now)
    return series


def update_series(
    organisation_id: int,
    series_id: int,
    *,
    site_id: int,
    source_site_id: int,
    weekdays: Iterable[int],
    local_time: time,
    starts_on: date,
    ends_on: date | None,
    lines: Sequence[LineInput],
    now: datetime | None = None,
) -> DistributionSeries:
    """Change a series; future planned occurrences nobody edited by hand follow it."""
    series = get_series(organisation_id, series_id)
    if starts_on != series.starts_on:
        _check_start(organisation_id, starts_on, now)
    clean = _clean_lines(organisation_id, lines)
    _apply_series_fields(
        series, organisation_id, site_id, source_site_id, weekdays, local_time, starts_on, ends_on
    )
    # Lines that name no source follow the series' source, the new one if it changed.
    _set_series_lines(series, clean)
    plan = _series_plan(series)
    zone = organisation_zone(organisation_id)
    moment = now or utcnow()
    for occurrence in _untouched_future(series, moment):
        if not _series_runs_on(series, occurrence.local_date):
            db.session.delete(occurrence)
            continue
        occurrence.site_id = series.site_id
        occurrence.source_site_id = series.source_site_id
        occurrence.starts_at = starts_at_utc(occurrence.local_date, series.local_time, zone)
        _set_planned_lines(occurrence, plan, keep_hand_planned=True)
    db.session.flush()
    generate_occurrences(series, now=now)
    return series


def end_series(organisation_id: int, series_id: int, now: datetime | None = None) -> int:
    """Stop a series: drop its untouched future occurrences; return how many were dropped."""
    series = get_series(organisation_id, series_id)
    series.active = False
    dropped = 0
    for occurrence in _untouched_future(series, now or utcnow()):
        db.session.delete(occurrence)
        dropped += 1
    db.session.flush()
    return dropped


def generate_occurrences(series: DistributionSeries, now: datetime | None = None) -> int:
    """Create the series' missing occurrences up to 28 days ahead; return how many."""
    if not series.active:
        return 0
    zone = organisation_zone(series.organisation_id)
    last = local_today(series.organisation_id, now) + timedelta(days=DAYS_AHEAD)
    if series.ends_on is not None:
        last = min(last, series.ends_on)
    existing = set(
        db.session.scalars(
            select(Distribution.local_date).where(Distribution.series_id == series.id)
        )
    )
    plan = _series_plan(series)
    created = 0
    day = series.starts_on
    while day <= last:
        if day.weekday() in series.weekdays and day not in existing:
            occurrence = Distribution(
                organisation_id=series.organisation_id,
                series_id=series.id,
                site_id=series.site_id,
                source_site_id=series.source_site_id,
                starts_at=starts_at_utc(day, series.local_time, zone),
                local_date=day,
                status="planned",
            )
            _set_planned_lines(occurrence, plan)
            db.session.add(occurrence)
            created += 1
        day += timedelta(days=1)
    db.session.flush()
    return created


def extend_all_series(now: datetime | None = None) -> int:
    """Keep every active series 28 days ahead (the nightly job); return occurrences created."""
    series_list = db.session.scalars(
        select(DistributionSeries).where(DistributionSeries.active.is_(True))
    )
    return sum(generate_occurrences(series, now=now) for series in series_list)


def edit_occurrence(
    organisation_id: int,
    distribution_id: int,
    *,
    starts_at: datetime | None,
    lines: Sequence[LineInput],
) -> Distribution:
    """Change one planned occurrence's time or plan without touching its series."""
    distribution = get_distribution(organisation_id, distribution_id)
    if distribution.status != "planned":
        raise ValidationError(
            _l("Only a planned distribution can be changed; correct its outcome.")
        )
    clean = _clean_lines(organisation_id, lines)
    if starts_at is not None:
        _check_starts_at(starts_at)
        distribution.starts_at = starts_at.astimezone(UTC)
        distribution.local_date = starts_at.astimezone(organisation_zone(organisation_id)).date()
    _set_planned_lines(distribution, clean)
    distribution.edited_by_hand = True
    db.session.flush()
    return distribution


# --- outcomes --------------------------------------------------------------------------------


@dataclass
class OutcomeInput:
    status: str
    headcount: int | None = None
    headcount_minors: int | None = None
    headcount_women: int | None = None
    note: str = ""
    given: list[LineInput] = field(default_factory=list)


def record_outcome(
    organisation_id: int,
    user_id: int | None,
    distribution_id: int,
    outcome: OutcomeInput,
    now: datetime | None = None,
) -> Distribution:
    """Record held / disrupted / cancelled; goods given leave the source site, all or nothing.

    Recording again corrects the outcome: earlier movements are reversed first. The row is
    locked first, so two people saving at once record one after the other, never both.
    """
    distribution = get_distribution(organisation_id, distribution_id, for_update=True)
    moment = now or utcnow()
    given = _check_outcome(organisation_id, distribution, outcome, moment)
    sources = _given_sources(distribution, given)
    with db.session.begin_nested():
        for movement in live_movements(distribution):
            ledger.reverse(
                organisation_id, user_id, movement.id, "Outcome corrected", by_outcome=True
            )
        # Refused whole: leaving the block with the error rolls the savepoint back.
        take_all(
            organisation_id,
            user_id,
            (
                Take(
                    site_id=sources[line.item_id],
                    item_id=line.item_id,
                    quantity=line.quantity,
                    kind="distribution",
                    occurred_at=min(distribution.starts_at, moment),
                    note=f"Distribution at {distribution.site.name}",
                    distribution_id=distribution.id,
                )
                for line in given
            ),
            _l("Not recorded, the source does not hold enough:"),
            {"lines": "not enough stock"},
        )
    _write_outcome(distribution, outcome, given, sources, user_id, moment)
    db.session.flush()
    return distribution


def _given_sources(distribution: Distribution, given: list[PlanLine]) -> dict[int, int]:
    """Return per item given the site it leaves: as named, else its planned line's source."""
    planned = {line.item_id: line.source_site_id for line in distribution.lines}
    return {
        line.item_id: line.source_site_id
        or planned.get(line.item_id)
        or distribution.source_site_id
        for line in given
    }


def _check_outcome(
    organisation_id: int, distribution: Distribution, outcome: OutcomeInput, moment: datetime
) -> list[PlanLine]:
    if outcome.status not in OUTCOME_STATUSES:
        raise ValidationError(_l("Choose held, disrupted or cancelled."), {"status": "unknown"})
    lines = [line for line in map(_plan_line, outcome.given) if line.quantity != 0]
    given = _clean_lines(organisation_id, lines)
    if outcome.status == "cancelled":
        if given:
            raise ValidationError(
                _l(
                    "A cancelled distribution gives nothing; remove the quantities "
                    "or choose disrupted."
                ),
                {"lines": "cancelled"},
            )
        if outcome.headcount:
            raise ValidationError(
                _l("A cancelled distribution has no headcount."), {"headcount": "cancelled"}
            )
        return []
    zone = organisation_zone(organisation_id)
    if distribution.local_date > moment.astimezone(zone).date():
        raise ValidationError(
            _l("This distribution has not happened yet; it can only be cancelled in advance."),
            {"status": "in the future"},
        )
    _check_headcounts(outcome)
    return given


def _check_headcounts(outcome: OutcomeInput) -> None:
    if outcome.headcount is None:
        raise ValidationError(
            _l("Say how many people came (an estimate is fine)."), {"headcount": "required"}
        )
    for name in ("headcount", "headcount_minors", "headcount_women"):
        value = getattr(outcome, name)
        if value is not None and not 0 <= value <= limits.MAX_HEADCOUNT:
            raise ValidationError(_l("Counts cannot be negative."), {name: "0 or more"})
    for name in ("headcount_minors", "headcount_women"):
        value = getattr(outcome, name)
        if value is not None and value > outcome.headcount:
            raise ValidationError(
                _l("Part of the headcount cannot be more than the headcount."), {name: "too many"}
            )


def _write_outcome(
    distribution: Distribution,
    outcome: OutcomeInput,
    given: list[PlanLine],
    sources: dict[int, int],
    user_id: int | None,
    moment: datetime,
) -> None:
    giving = outcome.status in GIVING_STATUSES
    by_item = {line.item_id: line.quantity for line in given}
    for line in distribution.lines:
        line.given_quantity = by_item.pop(line.item_id, 0) if giving else None
        if line.item_id in sources:
            line.source_site_id = sources[line.item_id]
    for item_id, quantity in by_item.items():
        distribution.lines.append(
            DistributionLine(
                item_id=item_id,
                planned_quantity=0,
                given_quantity=quantity,
                source_site_id=sources[item_id],
            )
        )
    distribution.status = outcome.status
    distribution.headcount = outcome.headcount if giving else None
    distribution.headcount_minors = outcome.headcount_minors if giving else None
    distribution.headcount_women = outcome.headcount_women if giving else None
    distribution.outcome_note = (outcome.note or "").strip()
    distribution.outcome_recorded_at = moment
    distribution.outcome_recorded_by_id = user_id


def live_movements(distribution: Distribution) -> list[StockMovement]:
    """Return the distribution's give-out movements that have not been reversed."""
    return ledger.live_movements(
        distribution.organisation_id, kind="distribution", distribution_id=distribution.id
    )


def check_not_early(
    distribution: Distribution, status: str, confirmed: bool, now: datetime | None = None
) -> None:
    """Refuse held or disrupted more than 6 hours before the start, unless confirmed.

    Cancelling ahead is what cancelling is for; a later day is refused by record_outcome.
    """
    moment = now or utcnow()
    zone = organisation_zone(distribution.organisation_id)
    if (
        confirmed
        or status not in GIVING_STATUSES
        or distribution.starts_at - moment <= EARLY_OUTCOME
        or distribution.local_date > moment.astimezone(zone).date()
    ):
        return
    raise ValidationError(
        _l(
            "This distribution starts at %(time)s, more than 6 hours from now. "
            "Confirm to record what happened already.",
            time=distribution.starts_at.astimezone(zone).strftime("%H:%M"),
        ),
        {"confirm_early": _l("confirm to record it before it starts")},
    )


# --- hand-outs nobody planned ----------------------------------------------------------------


@dataclass
class HandOut:
    """A hand-out recorded as it happened: where, when, how many people, what from where.

    A line that names no source comes from default_source (the member's last site, the main
    warehouse), else from the point itself.
    """

    site_id: int
    headcount: int | None
    given: list[LineInput]
    note: str = ""
    headcount_minors: int | None = None
    headcount_women: int | None = None
    at: datetime | None = None  # aware; None: now


def default_source(organisation_id: int, user_id: int | None) -> int | None:
    """Return where a member's hand-outs come from: their last site, else the main warehouse."""
    last = db.session.scalar(
        select(Membership.last_site_id)
        .join(Site, Site.id == Membership.last_site_id)
        .where(
            Membership.organisation_id == organisation_id,
            Membership.user_id == user_id,
            Site.active.is_(True),
        )
    )
    if last is not None:
        return last
    main = main_site(organisation_id)
    return main.id if main else None


def give_out_now(
    organisation_id: int, user_id: int | None, hand_out: HandOut, now: datetime | None = None
) -> Distribution:
    """Record an unplanned hand-out: one held distribution with its lines and movements.

    All or nothing: when a line's source does not hold enough, nothing is written. The store
    it came from becomes the member's last site.
    """
    moment = now or utcnow()
    starts_at = _hand_out_time(hand_out.at, moment)
    fallback = default_source(organisation_id, user_id) or hand_out.site_id
    lines = [
        PlanLine(line.item_id, line.quantity, line.source_site_id or fallback)
        for line in map(_plan_line, hand_out.given)
    ]
    _check_hand_out_lines(organisation_id, lines)
    with db.session.begin_nested():
        distribution = create_one_off(
            organisation_id,
            site_id=hand_out.site_id,
            source_site_id=lines[0].source_site_id or fallback,
            starts_at=starts_at,
            lines=lines,
        )
        distribution.unplanned = True
        record_outcome(
            organisation_id,
            user_id,
            distribution.id,
            OutcomeInput(
                status="held",
                headcount=hand_out.headcount,
                headcount_minors=hand_out.headcount_minors,
                headcount_women=hand_out.headcount_women,
                note=hand_out.note,
                given=list(lines),
            ),
            now=moment,
        )
    # The next hand-out starts from the same store; a point is no store to start from.
    if user_id is not None and distribution.source_site.kind != "distribution_point":
        remember_site(organisation_id, user_id, distribution.source_site_id)
    return distribution


def _hand_out_time(at: datetime | None, moment: datetime) -> datetime:
    """Return when a hand-out happened: now, or a time within the past year."""
    if at is None:
        return moment
    _check_starts_at(at)
    if at > moment + CLOCK_SLACK:
        raise ValidationError(
            _l("That time has not come yet: a hand-out is recorded once it happened."),
            {"occurred_at": _l("in the future")},
        )
    if at < moment - timedelta(days=MAX_DAYS_BACK):
        raise ValidationError(
            _l("A hand-out can be recorded up to a year back."),
            {"occurred_at": _l("too far back")},
        )
    return at


def _check_hand_out_lines(organisation_id: int, lines: list[PlanLine]) -> None:
    """Refuse a hand-out that gives nothing, or a line without its quantity."""
    if not lines:
        raise ValidationError(
            _l("Say what was given: an item and its quantity."), {"lines": _l("required")}
        )
    for line in lines:
        if line.quantity <= 0:
            item = ledger.get_item(organisation_id, line.item_id)
            raise ValidationError(
                _l("Say how many %(item)s were given.", item=item.label),
                {"lines": _l("quantity missing")},
            )


def hand_out_summary(distribution: Distribution) -> str:
    """Return "60 Hot meal, 20 Blanket" for what a hand-out gave."""
    return ", ".join(
        _("%(quantity)s %(item)s", quantity=i18n.number(line.given_quantity), item=line.item.label)
        for line in distribution.lines
        if line.given_quantity
    )


# --- reading ---------------------------------------------------------------------------------


@dataclass
class AgendaLine:
    line: DistributionLine
    enough: bool
    # How much of the planned quantity the line's source cannot cover.
    missing: int = 0


@dataclass
class AgendaEntry:
    distribution: Distribution
    lines: list[AgendaLine]

    @property
    def short(self) -> bool:
        return any(not line.enough for line in self.lines)


def list_series(organisation_id: int, include_ended: bool = False) -> list[DistributionSeries]:
    """Return the organisation's series, newest first."""
    query = select(DistributionSeries).where(DistributionSeries.organisation_id == organisation_id)
    if not include_ended:
        query = query.where(DistributionSeries.active.is_(True))
    # The list shows each series' places and lines with their sources: load them with it.
    query = query.options(
        selectinload(DistributionSeries.site),
        selectinload(DistributionSeries.source_site),
        selectinload(DistributionSeries.lines).selectinload(SeriesLine.item),
        selectinload(DistributionSeries.lines).selectinload(SeriesLine.source_site),
    )
    return list(db.session.scalars(query.order_by(DistributionSeries.id.desc())))


def distributions_between(
    organisation_id: int, first: date, last: date, site_id: int | None = None
) -> list[Distribution]:
    """Return distributions on local dates first..last, in time order."""
    check_period(first, last)
    query = select(Distribution).where(
        Distribution.organisation_id == organisation_id,
        Distribution.local_date >= first,
        Distribution.local_date <= last,
    )
    if site_id is not None:
        query = query.where(Distribution.site_id == site_id)
    # Pages and the agenda show each distribution's places and lines: load them with the list.
    query = query.options(
        selectinload(Distribution.site),
        selectinload(Distribution.source_site),
        selectinload(Distribution.lines).selectinload(DistributionLine.item),
        selectinload(Distribution.lines).selectinload(DistributionLine.source_site),
    )
    return list(db.session.scalars(query.order_by(Distribution.starts_at, Distribution.id)))


def planned_between(
    organisation_id: int,
    first: date,
    last: date,
    *,
    starting_before: datetime | None = None,
    limit: int | None = None,
) -> list[Distribution]:
    """Return the first `limit` planned distributions on local dates first..last, in time order.

    Only their places are loaded with them: lists that offer or name a distribution need no
    lines, and a federation plans a thousand distributions a fortnight.
    """
    check_period(first, last)
    query = select(Distribution).where(
        Distribution.organisation_id == organisation_id,
        Distribution.status == "planned",
        Distribution.local_date >= first,
        Distribution.local_date <= last,
    )
    if starting_before is not None:
        query = query.where(Distribution.starts_at < starting_before)
    query = query.options(joinedload(Distribution.site))
    query = query.order_by(Distribution.starts_at, Distribution.id).limit(limit)
    return list(db.session.scalars(query))


def agenda_last_day(organisation_id: int, first: date, last: date, most: int = AGENDA_MOST) -> date:
    """Return the last day of first..last that one agenda page shows.

    Whole days holding at most `most` distributions in all, but always the first day with any.
    """
    check_period(first, last)
    rows = db.session.execute(
        select(Distribution.local_date, func.count(Distribution.id))
        .where(
            Distribution.organisation_id == organisation_id,
            Distribution.local_date >= first,
            Distribution.local_date <= last,
        )
        .group_by(Distribution.local_date)
        .order_by(Distribution.local_date)
    )
    shown = 0
    for day, count in rows:
        if shown and shown + count > most:
            return day - timedelta(days=1)
        shown += count
    return last


def agenda(organisation_id: int, first: date, last: date) -> list[AgendaEntry]:
    """Return the agenda with, per planned line, whether its source still holds enough.

    Planned lines draw on their own source in time order, so the third evening that the
    stock cannot cover is the one marked.
    """
    listed = distributions_between(organisation_id, first, last)
    covers = draw_on_sources(listed)
    entries = []
    for distribution in listed:
        lines = []
        for line in distribution.lines:
            cover = covers.get(line.id)
            missing = cover.missing if cover is not None else 0
            lines.append(AgendaLine(line, missing == 0, missing))
        entries.append(AgendaEntry(distribution, lines))
    return entries


@dataclass(frozen=True, slots=True)
class PageLine:
    """A planned line as the agenda shows it, with what its source cannot cover."""

    label: str
    planned: int
    given: int | None
    source_site_id: int
    source_site: str
    missing: int


@dataclass(frozen=True, slots=True)
class PageEntry:
    """A distribution as the agenda shows it: its places by name, and its lines."""

    id: int
    starts_at: datetime
    local_date: date
    status: str
    unplanned: bool
    headcount: int | None
    site: str
    area: str
    details: str
    source_site_id: int
    source_site: str
    lines: list[PageLine]
    short: bool


@dataclass(frozen=True)
class AgendaPage:
    """One page of an agenda window: its distributions, and where it lies in the window."""

    entries: list[PageEntry]
    page: int
    pages: int
    # Positions of the first and last distribution shown, from 1, and the window's count.
    start: int
    end: int
    total: int


def agenda_page(
    organisation_id: int, first: date, last: date, page: int = 1, size: int = AGENDA_PAGE
) -> AgendaPage:
    """Return page `page` (from 1; past the last, the last) of the agenda of first..last.

    The marks are those of the whole window: the planned lines of every distribution up to
    the page's last draw on their sources in time order, earlier pages' included, so a page
    marks what agenda() marks. Only the page's own lines are read with their names, and all
    is read as columns, in four queries whatever the window holds.
    """
    check_period(first, last)
    window = (
        Distribution.organisation_id == organisation_id,
        Distribution.local_date >= first,
        Distribution.local_date <= last,
    )
    point, source = aliased(Site), aliased(Site)
    rows = db.session.execute(
        select(
            Distribution.id,
            Distribution.starts_at,
            Distribution.local_date,
            Distribution.status,
            Distribution.unplanned,
            Distribution.headcount,
            point.name,
            point.area,
            point.details,
            Distribution.source_site_id,
            source.name,
        )
        .join(point, point.id == Distribution.site_id)
        .join(source, source.id == Distribution.source_site_id)
        .where(*window)
        .order_by(Distribution.starts_at, Distribution.id)
    ).all()
    total = len(rows)
    pages = max(1, -(-total // size))
    page = min(max(page, 1), pages)
    shown = rows[(page - 1) * size : page * size]
    if not shown:
        return AgendaPage([], 1, 1, 0, 0, 0)
    missing = _missing_through(window, shown[-1].starts_at, shown[-1].id)
    lines = _page_lines([row.id for row in shown], missing)
    entries = []
    for row in shown:
        own = lines.get(row.id, [])
        entries.append(PageEntry(*row, lines=own, short=any(line.missing for line in own)))
    start = (page - 1) * size + 1
    return AgendaPage(entries, page, pages, start, start + len(shown) - 1, total)


def _missing_through(window: tuple, starts_at: datetime, last_id: int) -> dict[int, int]:
    """Draw the window's planned lines up to the distribution (starts_at, last_id) included."""
    rows = db.session.execute(
        select(
            DistributionLine.id,
            DistributionLine.source_site_id,
            DistributionLine.item_id,
            DistributionLine.planned_quantity,
            Site.kind,
            Item.unit,
        )
        .join(Distribution, Distribution.id == DistributionLine.distribution_id)
        .join(Site, Site.id == DistributionLine.source_site_id)
        .join(Item, Item.id == DistributionLine.item_id)
        .where(
            *window,
            Distribution.status == "planned",
            DistributionLine.planned_quantity > 0,
            or_(
                Distribution.starts_at < starts_at,
                and_(Distribution.starts_at == starts_at, Distribution.id <= last_id),
            ),
        )
        .order_by(Distribution.starts_at, Distribution.id, DistributionLine.id)
    )
    # Meals a kitchen cooks on the day are not drawn from stock.
    return missing_in_turn(
        (line_id, site_id, item_id, planned)
        for line_id, site_id, item_id, planned, kind, unit in rows
        if not cooked_on_the_day(kind, unit)
    )


def _page_lines(ids: list[int], missing: dict[int, int]) -> dict[int, list[PageLine]]:
    """Return the lines of the given distributions, with names, per distribution id."""
    language = i18n.current_language()
    rows = db.session.execute(
        select(
            DistributionLine.distribution_id,
            DistributionLine.id,
            Item.name,
            Item.size,
            Item.name_fr,
            DistributionLine.planned_quantity,
            DistributionLine.given_quantity,
            DistributionLine.source_site_id,
            Site.name,
        )
        .join(Item, Item.id == DistributionLine.item_id)
        .join(Site, Site.id == DistributionLine.source_site_id)
        .where(DistributionLine.distribution_id.in_(ids))
        .order_by(DistributionLine.id)
    )
    lines: dict[int, list[PageLine]] = defaultdict(list)
    for distribution_id, line_id, name, size, name_fr, planned, given, site_id, site in rows:
        lines[distribution_id].append(
            PageLine(
                item_label(name, size, name_fr, language),
                planned,
                given,
                site_id,
                site,
                missing.get(line_id, 0),
            )
        )
    return lines


def held_at_sources(distribution: Distribution) -> dict[int, int]:
    """Return per item what its line's source holds now, in one query."""
    found = levels({(line.source_site_id, line.item_id) for line in distribution.lines})
    return {line.item_id: found[(line.source_site_id, line.item_id)] for line in distribution.lines}


def several_sources(distribution: Distribution) -> bool:
    """Tell whether some line comes from elsewhere than the distribution's own source."""
    return any(line.source_site_id != distribution.source_site_id for line in distribution.lines)


@dataclass
class ItemGiven:
    item_id: int
    label: str
    category: str
    unit: str
    quantity: int


@dataclass
class Figures:
    first: date
    last: date
    by_status: dict[str, int]
    people_served: int
    minors: int
    women: int
    items: list[ItemGiven]
    by_category: dict[str, int]


def figures(organisation_id: int, first: date, last: date, site_id: int | None = None) -> Figures:
    """Count distributions by outcome, people served and items given in a period."""
    scope = _period_scope(organisation_id, first, last, site_id)
    by_status = {status: 0 for status in ("planned", *OUTCOME_STATUSES)}
    people = minors = women = 0
    rows = db.session.execute(
        select(
            Distribution.status,
            func.count(Distribution.id),
            func.coalesce(func.sum(Distribution.headcount), 0),
            func.coalesce(func.sum(Distribution.headcount_minors), 0),
            func.coalesce(func.sum(Distribution.headcount_women), 0),
        )
        .where(*scope)
        .group_by(Distribution.status)
    )
    for status, count, headcount, minors_count, women_count in rows:
        by_status[status] = count
        if status in GIVING_STATUSES:
            people += int(headcount)
            minors += int(minors_count)
            women += int(women_count)
    items = []
    by_category: dict[str, int] = defaultdict(int)
    given = given_by_item(organisation_id, first, last, site_id)
    labels = {item.id: item for item in _items(given)}
    for item_id, quantity in given.items():
        item = labels[item_id]
        items.append(ItemGiven(item_id, item.label, item.category, item.unit, quantity))
        by_category[item.category] += quantity
    items.sort(key=lambda row: (row.category, row.label))
    return Figures(first, last, by_status, people, minors, women, items, dict(by_category))


def given_by_item(
    organisation_id: int, first: date, last: date, site_id: int | None = None
) -> dict[int, int]:
    """Return what was given out per item at held or disrupted distributions in a period."""
    rows = db.session.execute(
        select(DistributionLine.item_id, func.sum(DistributionLine.given_quantity))
        .join(Distribution, Distribution.id == DistributionLine.distribution_id)
        .where(
            *_period_scope(organisation_id, first, last, site_id),
            Distribution.status.in_(GIVING_STATUSES),
        )
        .group_by(DistributionLine.item_id)
    )
    return {item_id: int(total) for item_id, total in rows if total}


def _period_scope(organisation_id: int, first: date, last: date, site_id: int | None) -> list:
    check_period(first, last)
    scope = [
        Distribution.organisation_id == organisation_id,
        Distribution.local_date >= first,
        Distribution.local_date <= last,
    ]
    if site_id is not None:
        scope.append(Distribution.site_id == site_id)
    return scope


def _items(ids: Iterable[int]) -> list[Item]:
    return list(db.session.scalars(select(Item).where(Item.id.in_(list(ids)))))


# --- helpers ---------------------------------------------------------------------------------


def check_day(day: date, name: str = "date") -> date:
    """Refuse a date before 2000-01-01 or after 2100-12-31 (ValidationError, never an overflow)."""
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise ValidationError(
            _l(
                "Dates lie between %(first)s and %(last)s.",
                first=EARLIEST_DAY.isoformat(),
                last=LATEST_DAY.isoformat(),
            ),
            {name: f"{EARLIEST_DAY} to {LATEST_DAY}"},
        )
    return day


def check_period(first: date, last: date) -> None:
    """Refuse a period that starts or ends outside 2000-01-01..2100-12-31."""
    check_day(first, "from")
    check_day(last, "to")


def _check_starts_at(starts_at: datetime) -> None:
    if starts_at.tzinfo is None:
        raise ValidationError(_l("Give the time with its time zone."), {"starts_at": "no offset"})
    # The local date, read before any time zone change, which would overflow near year 1.
    check_day(starts_at.date(), "starts_at")


def _apply_series_fields(
    series: DistributionSeries,
    organisation_id: int,
    site_id: int,
    source_site_id: int,
    weekdays: Iterable[int],
    local_time: time,
    starts_on: date,
    ends_on: date | None,
) -> None:
    _check_places(organisation_id, site_id, source_site_id)
    days = sorted(set(weekdays))
    if not days or any(not 0 <= d <= 6 for d in days):
        raise ValidationError(
            _l("Choose at least one weekday (0 = Monday … 6 = Sunday)."), {"weekdays": "required"}
        )
    check_day(starts_on, "starts_on")
    if ends_on is not None:
        check_day(ends_on, "ends_on")
    if ends_on is not None and ends_on < starts_on:
        raise ValidationError(
            _l("The end date is before the start date."), {"ends_on": "too early"}
        )
    series.site_id = site_id
    series.source_site_id = source_site_id
    series.weekdays = days
    series.local_time = local_time.replace(second=0, microsecond=0)
    series.starts_on = starts_on
    series.ends_on = ends_on


def _check_start(organisation_id: int, starts_on: date, now: datetime | None) -> None:
    if starts_on < local_today(organisation_id, now) - timedelta(days=MAX_DAYS_BACK):
        raise ValidationError(
            _l("A series can start at most a year back."), {"starts_on": "too far back"}
        )


def _check_places(organisation_id: int, site_id: int, source_site_id: int) -> None:
    """Refuse a distribution anywhere but a point, or a source outside the organisation."""
    site = ledger.get_site(organisation_id, site_id)
    if site.kind != "distribution_point":
        raise ValidationError(
            _l("%(site)s is not a distribution point.", site=site.name),
            {"site_id": "not a distribution point"},
        )
    # Any site holds stock, so any may be the source: the point itself gives out goods
    # moved there ahead.
    ledger.get_site(organisation_id, source_site_id)


def _plan_line(line: LineInput) -> PlanLine:
    if isinstance(line, PlanLine):
        return line
    return PlanLine(*line)


def _clean_lines(organisation_id: int, lines: Sequence[LineInput]) -> list[PlanLine]:
    """Check each line's item, quantity and the source it names (any site of the organisation)."""
    clean: list[PlanLine] = []
    seen: set[int] = set()
    for line in map(_plan_line, lines):
        item_id, quantity = line.item_id, line.quantity
        item = ledger.get_item(organisation_id, item_id)
        if quantity < 0:
            raise ValidationError(
                _l("Quantity of %(item)s must be a whole number, 0 or more.", item=item.label),
                {"lines": "bad quantity"},
            )
        if quantity > ledger.MAX_QUANTITY:
            raise ValidationError(
                _l("Quantity of %(item)s is too large.", item=item.label), {"lines": "too large"}
            )
        if item_id in seen:
            raise ValidationError(
                _l("%(item)s appears twice.", item=item.label), {"lines": "duplicate item"}
            )
        seen.add(item_id)
        if line.source_site_id is not None:
            ledger.get_site(organisation_id, line.source_site_id)
        clean.append(line)
    return clean


def _set_planned_lines(
    distribution: Distribution, plan: Sequence[PlanLine], keep_hand_planned: bool = False
) -> None:
    """Make the distribution's planned lines match the plan, keeping lines with given goods.

    A line that names no source takes the distribution's. With keep_hand_planned, a count
    the kitchen lead chose stays as it is.
    """
    wanted = {line.item_id: line.quantity for line in plan}
    if keep_hand_planned:
        wanted.update(
            {
                line.item_id: line.planned_quantity
                for line in distribution.lines
                if line.planned_by_hand
            }
        )
    sync_lines(
        distribution.lines,
        wanted,
        "planned_quantity",
        lambda item_id, quantity: DistributionLine(item_id=item_id, planned_quantity=quantity),
        keep=lambda line: bool(line.given_quantity),
    )
    _set_sources(distribution.lines, plan, distribution.source_site_id)


def _set_series_lines(series: DistributionSeries, plan: Sequence[PlanLine]) -> None:
    """Make the series' lines match the plan, updating rows in place (item is unique)."""
    sync_lines(
        series.lines,
        {line.item_id: line.quantity for line in plan},
        "planned_quantity",
        lambda item_id, quantity: SeriesLine(item_id=item_id, planned_quantity=quantity),
    )
    _set_sources(series.lines, plan, series.source_site_id)


def _set_sources(
    lines: Sequence[DistributionLine | SeriesLine], plan: Sequence[PlanLine], default: int
) -> None:
    """Give each planned line its named source, or the default when it names none."""
    sources = {line.item_id: line.source_site_id or default for line in plan}
    for line in lines:
        if line.item_id in sources:
            line.source_site_id = sources[line.item_id]


def _series_plan(series: DistributionSeries) -> list[PlanLine]:
    """Return what each occurrence plans: the series' lines with their sources."""
    return [
        PlanLine(line.item_id, line.planned_quantity, line.source_site_id or series.source_site_id)
        for line in series.lines
    ]


def _series_runs_on(series: DistributionSeries, day: date) -> bool:
    return (
        day.weekday() in series.weekdays
        and day >= series.starts_on
        and (series.ends_on is None or day <= series.ends_on)
    )


def _untouched_future(series: DistributionSeries, moment: datetime) -> list[Distribution]:
    return list(
        db.session.scalars(
            select(Distribution).where(
                Distribution.series_id == series.id,
                Distribution.status == "planned",
                Distribution.edited_by_hand.is_(False),
                Distribution.starts_at >= moment,
            )
        )
    )


def weekday_names(days: Iterable[int]) -> str:
    """Return "Mon, Wed, Fri" for [0, 2, 4]."""
    return ", ".join(WEEKDAY_NAMES[d] for d in sorted(days))
