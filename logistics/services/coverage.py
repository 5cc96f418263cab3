"""Can each planned distribution be covered from its sources, and what to move where if not.

Planned lines draw on their own source site's stock in time order (docs/needs.md, "The
agenda"), so the first distribution a source cannot cover, and every later one, is short. A
short line gets suggested transfers from the sites that hold spare stock of the item.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select, tuple_
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Distribution, DistributionLine, Item, Site, StockLevel
from ..models.types import utcnow
from .accounts import organisation_zone
from .catalogue import cooked_to_plan

# Distributions this close ahead get a shortage alert of their own (docs/needs.md).
ALERT_WINDOW = timedelta(hours=48)


@dataclass(frozen=True)
class LineCover:
    """One planned line against its source: what the source still has for it, and the gap."""

    line: DistributionLine
    source_site_id: int
    # Stock left at the source for this line once earlier lines took theirs (may be < 0).
    available: int
    missing: int


def draw_on_sources(distributions: Iterable[Distribution]) -> dict[int, LineCover]:
    """Return, per planned line id, whether its source covers it after the earlier lines.

    Distributions are taken in the order given (time order); lines not planned, or meals a
    kitchen cooks on the day, are covered by definition and left out.
    """
    lines = [
        line
        for distribution in distributions
        if distribution.status == "planned"
        for line in distribution.lines
        if line.planned_quantity > 0 and not cooked_to_plan(line.source_site, line.item)
    ]
    drawn = _drawn_in_turn(
        (line.id, line.source_site_id, line.item_id, line.planned_quantity) for line in lines
    )
    return {line.id: LineCover(line, line.source_site_id, *drawn[line.id]) for line in lines}


def missing_in_turn(lines: Iterable[tuple[int, int, int, int]]) -> dict[int, int]:
    """Return, per planned line id, what its source cannot cover once earlier lines took theirs.

    The same drawing as draw_on_sources, on plain columns: `lines` are (line id, source site
    id, item id, planned quantity) of planned distributions in time order, with no meal a
    kitchen cooks on the day among them.
    """
    return {line_id: missing for line_id, (_, missing) in _drawn_in_turn(lines).items()}


def _drawn_in_turn(lines: Iterable[tuple[int, int, int, int]]) -> dict[int, tuple[int, int]]:
    """Draw (line id, source, item, planned) in turn: per line, what was left and what is missing.

    Stock is read in one query; what is left may be below zero once earlier lines overdrew.
    """
    listed = list(lines)
    remaining = levels({(site_id, item_id) for _, site_id, item_id, _ in listed})
    drawn = {}
    for line_id, site_id, item_id, planned in listed:
        key = (site_id, item_id)
        available = remaining[key]
        remaining[key] = available - planned
        drawn[line_id] = (available, max(planned - max(available, 0), 0))
    return drawn


def levels(keys: set[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """Return the stock now of each (site, item) asked for, 0 where there is none."""
    found: dict[tuple[int, int], int] = defaultdict(int)
    if not keys:
        return found
    rows = db.session.execute(
        select(StockLevel.site_id, StockLevel.item_id, StockLevel.quantity).where(
            tuple_(StockLevel.site_id, StockLevel.item_id).in_(sorted(keys))
        )
    )
    for site_id, item_id, quantity in rows:
        found[(site_id, item_id)] = quantity
    return found


# --- shortages at distributions in the next 48 hours ----------------------------------------


@dataclass(frozen=True)
class Transfer:
    """A move that would cover (part of) a short line: from a site with spare stock."""

    item_id: int
    item: str
    unit: str
    quantity: int
    from_site_id: int
    from_site: str
    to_site_id: int
    to_site: str
    before: datetime

    def figures(self) -> dict:
        """Return the transfer as plain JSON values."""
        values = dict(self.__dict__)
        values["before"] = self.before.isoformat()
        return values


@dataclass(frozen=True)
class ShortLine:
    """A planned line its source cannot cover, where the rest is held, and what to move."""

    item_id: int
    item: str
    unit: str
    source_site_id: int
    source_site: str
    planned: int
    available: int
    missing: int
    # Other sites' spare stock of the item: (site id, site name, quantity), most first.
    held_elsewhere: list[tuple[int, str, int]]
    transfers: list[Transfer]

    def figures(self) -> dict:
        """Return the line as plain JSON values."""
        values = dict(self.__dict__)
        values["held_elsewhere"] = [
            {"site_id": site_id, "site": name, "quantity": quantity}
            for site_id, name, quantity in self.held_elsewhere
        ]
        values["transfers"] = [transfer.figures() for transfer in self.transfers]
        return values


@dataclass(frozen=True)
class DistributionShortage:
    """A planned distribution in the next 48 hours whose sources do not hold its lines."""

    distribution_id: int
    starts_at: datetime
    site_id: int
    site: str
    area: str
    lines: list[ShortLine]

    @property
    def missing(self) -> int:
        return sum(line.missing for line in self.lines)

    def figures(self) -> dict:
        """Return the shortage as plain JSON values (kept with its alert)."""
        return {
            "distribution_id": self.distribution_id,
            "starts_at": self.starts_at.isoformat(),
            "site_id": self.site_id,
            "site": self.site,
            "area": self.area,
            "missing": self.missing,
            "lines": [line.figures() for line in self.lines],
        }


def distribution_shortages(
    organisation_id: int, now: datetime | None = None
) -> list[DistributionShortage]:
    """Return the planned distributions of the next 48 hours their sources cannot cover.

    Earlier planned distributions of today draw first, as on the agenda. Suggested transfers
    come from the sites with the most spare stock (held, less what their own planned lines in
    the window take), earlier distributions first, never suggesting the same unit twice.
    """
    moment = now or utcnow()
    zone = organisation_zone(organisation_id)
    today = moment.astimezone(zone).date()
    start = datetime.combine(today, time(0), tzinfo=zone).astimezone(UTC)
    planned = _planned_between(organisation_id, start, moment + ALERT_WINDOW)
    covers = draw_on_sources(planned)
    short = [cover for cover in covers.values() if cover.missing]
    if not short:
        return []
    spare = _spare(organisation_id, {cover.line.item_id for cover in short}, covers.values())
    sites = {
        site.id: site
        for site in db.session.scalars(select(Site).where(Site.organisation_id == organisation_id))
    }
    shortages = []
    for distribution in planned:
        lines = [
            _short_line(covers[line.id], distribution, spare, sites)
            for line in distribution.lines
            if line.id in covers and covers[line.id].missing
        ]
        if lines and distribution.starts_at >= moment:
            site = distribution.site
            shortages.append(
                DistributionShortage(
                    distribution.id, distribution.starts_at, site.id, site.name, site.area, lines
                )
            )
    return shortages


def _planned_between(organisation_id: int, start: datetime, end: datetime) -> list[Distribution]:
    return list(
        db.session.scalars(
            select(Distribution)
            .where(
                Distribution.organisation_id == organisation_id,
                Distribution.status == "planned",
                Distribution.starts_at >= start,
                Distribution.starts_at < end,
            )
            .options(
                selectinload(Distribution.site),
                selectinload(Distribution.lines).selectinload(DistributionLine.item),
                selectinload(Distribution.lines).selectinload(DistributionLine.source_site),
            )
            .order_by(Distribution.starts_at, Distribution.id)
        )
    )


def _spare(
    organisation_id: int, item_ids: set[int], covers: Iterable[LineCover]
) -> dict[int, dict[int, int]]:
    """Return per item, per site, what is held beyond the site's own planned lines in the window.

    Keyed by item first: a short line reads its item's few sites, not every (site, item).
    """
    rows = db.session.execute(
        select(StockLevel.site_id, StockLevel.item_id, StockLevel.quantity).where(
            StockLevel.organisation_id == organisation_id,
            StockLevel.item_id.in_(sorted(item_ids)),
            StockLevel.quantity > 0,
        )
    )
    spare = {(site_id, item_id): quantity for site_id, item_id, quantity in rows}
    for cover in covers:
        key = (cover.source_site_id, cover.line.item_id)
        if key in spare:
            spare[key] -= cover.line.planned_quantity
    by_item: dict[int, dict[int, int]] = defaultdict(dict)
    for (site_id, item_id), quantity in spare.items():
        if quantity > 0:
            by_item[item_id][site_id] = quantity
    return by_item


def _short_line(
    cover: LineCover,
    distribution: Distribution,
    spare: dict[int, dict[int, int]],
    sites: dict[int, Site],
) -> ShortLine:
    item: Item = cover.line.item
    to_site = sites[cover.source_site_id]
    spare_of_item = spare.get(item.id, {})
    elsewhere = sorted(
        (
            (site_id, sites[site_id].name, quantity)
            for site_id, quantity in spare_of_item.items()
            if quantity > 0 and site_id != to_site.id and site_id in sites
        ),
        key=lambda held: (-held[2], held[1]),
    )
    transfers = []
    still_missing = cover.missing
    for site_id, name, quantity in elsewhere:
        if still_missing <= 0:
            break
        moved = min(quantity, still_missing)
        spare_of_item[site_id] -= moved
        still_missing -= moved
        transfers.append(
            Transfer(
                item.id,
                item.label,
                item.unit,
                moved,
                site_id,
                name,
                to_site.id,
                to_site.name,
                distribution.starts_at,
            )
        )
    return ShortLine(
        item.id,
        item.label,
        item.unit,
        to_site.id,
        to_site.name,
        cover.line.planned_quantity,
        max(cover.available, 0),
        cover.missing,
        elsewhere,
        transfers,
    )
