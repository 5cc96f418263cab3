"""Incidents: record an eviction or loss, what was destroyed, lock, amend, and count."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from .. import limits
from ..extensions import db
from ..models import (
    INCIDENT_KINDS,
    LINE_ACTIONS,
    LINE_ORIGINS,
    TRISTATE,
    Distribution,
    Incident,
    IncidentAmendment,
    IncidentLine,
    Item,
    Site,
    StockMovement,
)
from ..models.types import utcnow
from . import alerts, ledger
from .distributions import EARLIEST_DAY, LATEST_DAY, check_period, given_by_item, organisation_zone
from .errors import Conflict, NotFound, ValidationError
from .outgoing import Take, take_all
from .rows import owned

TEXT_FIELDS = ("forces_present", "witnesses", "description")
TRISTATE_FIELDS = ("bailiff_present", "interpreter_present", "legal_basis_shown", "shelter_offered")
COUNT_FIELDS = ("people_affected", "shelters_affected")
MAX_TEXT = limits.MAX_INCIDENT_TEXT
MAX_COUNT = limits.MAX_INCIDENT_COUNT
# A reporter's own list: the latest reports, enough for a week of evictions.
MY_REPORTS = 20
# The coordinators' list shows this many incidents a page, newest first, then "Older".
INCIDENTS_PAGE = 50


@dataclass
class LineInput:
    item_id: int
    quantity: int
    origin: str
    action: str
    marked_property: bool = False
    site_id: int | None = None
    distribution_id: int | None = None


@dataclass
class IncidentInput:
    occurred_at: datetime
    kind: str
    area: str
    ended_at: datetime | None = None
    site_id: int | None = None
    forces_present: str = ""
    bailiff_present: str = "unknown"
    interpreter_present: str = "unknown"
    legal_basis_shown: str = "unknown"
    shelter_offered: str = "unknown"
    people_affected: int | None = None
    shelters_affected: int | None = None
    witnesses: str = ""
    description: str = ""
    lines: list[LineInput] = field(default_factory=list)


def get_incident(organisation_id: int, incident_id: int, *, for_update: bool = False) -> Incident:
    """Return the organisation's incident or raise NotFound; optionally locked for writing."""
    return owned(
        Incident, organisation_id, incident_id, _l("No such incident."), for_update=for_update
    )


def readable_incident(
    organisation_id: int, incident_id: int, reader_id: int, *, reads_all: bool
) -> Incident:
    """Return an incident this reader may read, or raise NotFound.

    Those who read every incident (view_incidents) read any of the organisation's; anyone else
    reads back only what they reported. Another's report is "not found", as if it did not
    exist: its id tells nothing.
    """
    incident = get_incident(organisation_id, incident_id)
    if not reads_all and incident.created_by_id != reader_id:
        raise NotFound(_l("No such incident."))
    return incident


@dataclass
class IncidentPage:
    """One page of a list of incidents, newest first."""

    incidents: list[Incident]
    # The incident the next, older page starts after; None on the last page.
    older: int | None


def my_reports_page(
    organisation_id: int, user_id: int, before: int | None = None, size: int = MY_REPORTS
) -> IncidentPage:
    """Return a page of the incidents this person reported, newest first, after `before`."""
    query = select(Incident).where(
        Incident.organisation_id == organisation_id, Incident.created_by_id == user_id
    )
    return _page(query, Incident.created_at, organisation_id, before, size)


def _page(
    query: Any, moment: Any, organisation_id: int, before: int | None, size: int
) -> IncidentPage:
    """Return size rows of a query, newest first by moment then id, after the row `before`.

    Pages continue from a row (keyset), not an offset: the tenth page of ten years costs what
    the first does, and a row recorded meanwhile does not shift the pages.
    """
    if before is not None:
        then = (
            select(moment)
            .where(Incident.id == before, Incident.organisation_id == organisation_id)
            .scalar_subquery()
        )
        query = query.where(or_(moment < then, and_(moment == then, Incident.id < before)))
    rows = list(
        db.session.scalars(query.order_by(moment.desc(), Incident.id.desc()).limit(size + 1))
    )
    return IncidentPage(rows[:size], rows[size - 1].id if len(rows) > size else None)


def record_incident(organisation_id: int, user_id: int | None, values: IncidentInput) -> Incident:
    """Record an incident and its lines; from-stock lines write loss movements, all or nothing."""
    incident = Incident(organisation_id=organisation_id, created_by_id=user_id)
    _apply_fields(incident, organisation_id, values)
    db.session.add(incident)
    db.session.flush()
    _write_lines(incident, user_id, values.lines)
    alerts.respond_to_eviction(organisation_id, incident)
    return incident


def update_incident(
    organisation_id: int, user_id: int | None, incident_id: int, values: IncidentInput
) -> Incident:
    """Change an unlocked incident: fields, and lines (earlier loss movements are reversed)."""
    incident = _unlocked(organisation_id, incident_id)
    _apply_fields(incident, organisation_id, values)
    _write_lines(incident, user_id, values.lines)
    alerts.respond_to_eviction(organisation_id, incident)  # corrected counts update it
    return incident


def lock(organisation_id: int, user_id: int | None, incident_id: int) -> Incident:
    """Lock a reviewed incident: from now on only amendments can be added."""
    incident = _unlocked(organisation_id, incident_id)
    incident.locked_at = utcnow()
    incident.locked_by_id = user_id
    db.session.flush()
    return incident


def amend(
    organisation_id: int,
    user_id: int | None,
    incident_id: int,
    text: str,
    *,
    people_affected: int | None = None,
    shelters_affected: int | None = None,
) -> IncidentAmendment:
    """Append an amendment (who, when, what, and any corrected counts) to a locked incident.

    The record stays as it was locked; corrected counts live on the amendment and are what
    the replacement of an eviction reads from then on (Incident.affected).
    """
    incident = get_incident(organisation_id, incident_id)
    if not incident.locked:
        raise ValidationError(
            _l("This incident is not locked yet; edit it directly."), {"text": "not locked"}
        )
    clean = (text or "").strip()
    if not clean:
        raise ValidationError(_l("Write what the amendment says."), {"text": "required"})
    if len(clean) > MAX_TEXT:
        raise ValidationError(_l("That amendment is too long."), {"text": "too long"})
    for name, value in (
        ("people_affected", people_affected),
        ("shelters_affected", shelters_affected),
    ):
        if value is not None and not 0 <= value <= MAX_COUNT:
            raise ValidationError(_l("Counts are whole numbers, 0 or more."), {name: "0 or more"})
    amendment = IncidentAmendment(
        incident_id=incident.id,
        created_by_id=user_id,
        text=clean,
        people_affected=people_affected,
        shelters_affected=shelters_affected,
    )
    db.session.add(amendment)
    db.session.flush()
    if people_affected is not None or shelters_affected is not None:
        db.session.refresh(incident, ["amendments"])  # the corrected counts, read back
        alerts.respond_to_eviction(organisation_id, incident)
    return amendment


def loss_movements(incident: Incident) -> list[StockMovement]:
    """Return the incident's loss movements that stand (not reversed)."""
    return ledger.live_movements(incident.organisation_id, kind="loss", incident_id=incident.id)


def list_incidents(
    organisation_id: int,
    first: date,
    last: date,
    *,
    area: str | None = None,
    kind: str | None = None,
) -> list[Incident]:
    """Return incidents on local dates first..last, newest first, filtered by area and kind."""
    query = _period_query(organisation_id, first, last, area, kind)
    return list(db.session.scalars(query.order_by(Incident.occurred_at.desc(), Incident.id.desc())))


def incidents_page(
    organisation_id: int,
    first: date,
    last: date,
    *,
    area: str | None = None,
    kind: str | None = None,
    before: int | None = None,
    size: int = INCIDENTS_PAGE,
) -> IncidentPage:
    """Return a page of list_incidents: size incidents after the one `before`, newest first."""
    query = _period_query(organisation_id, first, last, area, kind)
    return _page(query, Incident.occurred_at, organisation_id, before, size)


def _period_query(
    organisation_id: int, first: date, last: date, area: str | None, kind: str | None
) -> Any:
    start, end = period_bounds(organisation_id, first, last)
    query = select(Incident).where(
        Incident.organisation_id == organisation_id,
        Incident.occurred_at >= start,
        Incident.occurred_at < end,
    )
    if area:
        query = query.where(Incident.area == area)
    if kind:
        query = query.where(Incident.kind == kind)
    # Lists show what each incident lost: its lines come with it.
    return query.options(selectinload(Incident.lines))


def areas(organisation_id: int) -> list[str]:
    """Return the areas incidents were recorded in."""
    return list(
        db.session.scalars(
            select(Incident.area)
            .where(Incident.organisation_id == organisation_id)
            .distinct()
            .order_by(Incident.area)
        )
    )


@dataclass
class DestroyedItem:
    item_id: int
    label: str
    category: str
    from_stock: int
    after_distribution: int
    given: int

    @property
    def share_of_given(self) -> float | None:
        """Destroyed after distribution as a share of what was given out (None if none given)."""
        return self.after_distribution / self.given if self.given else None


@dataclass
class LossFigures:
    first: date
    last: date
    incidents: int
    by_area_kind: dict[tuple[str, str], int]
    people_affected: int
    shelters_affected: int
    items: list[DestroyedItem]
    by_category: dict[str, int]


def loss_figures(
    organisation_id: int, first: date, last: date, *, area: str | None = None
) -> LossFigures:
    """Count incidents and destroyed items in a period; compare with what was given out."""
    start, end = period_bounds(organisation_id, first, last)
    scope = [
        Incident.organisation_id == organisation_id,
        Incident.occurred_at >= start,
        Incident.occurred_at < end,
    ]
    if area:
        scope.append(Incident.area == area)
    by_area_kind: dict[tuple[str, str], int] = {}
    count = people = shelters = 0
    for place, kind, n, affected, sheltered in db.session.execute(
        select(
            Incident.area,
            Incident.kind,
            func.count(Incident.id),
            func.coalesce(func.sum(Incident.people_affected), 0),
            func.coalesce(func.sum(Incident.shelters_affected), 0),
        )
        .where(*scope)
        .group_by(Incident.area, Incident.kind)
    ):
        by_area_kind[(place, kind)] = n
        count += n
        people += int(affected)
        shelters += int(sheltered)
    destroyed: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for item_id, origin, quantity in db.session.execute(
        select(IncidentLine.item_id, IncidentLine.origin, func.sum(IncidentLine.quantity))
        .join(Incident, Incident.id == IncidentLine.incident_id)
        .where(*scope)
        .group_by(IncidentLine.item_id, IncidentLine.origin)
    ):
        destroyed[item_id][LINE_ORIGINS.index(origin)] += int(quantity)
    given = given_by_item(organisation_id, first, last)
    known = {
        item.id: item
        for item in db.session.scalars(select(Item).where(Item.id.in_(list(destroyed))))
    }
    items = []
    by_category: dict[str, int] = defaultdict(int)
    for item_id, (from_stock, after) in destroyed.items():
        item = known[item_id]
        items.append(
            DestroyedItem(
                item_id, item.label, item.category, from_stock, after, given.get(item_id, 0)
            )
        )
        by_category[item.category] += from_stock + after
    items.sort(key=lambda row: (row.category, row.label))
    return LossFigures(first, last, count, by_area_kind, people, shelters, items, dict(by_category))


# --- helpers ---------------------------------------------------------------------------------


def _unlocked(organisation_id: int, incident_id: int) -> Incident:
    incident = get_incident(organisation_id, incident_id, for_update=True)
    if incident.locked:
        raise Conflict(
            _l(
                "This incident is locked; add an amendment instead. A wrong stock effect is put "
                "right by reversing its movement."
            )
        )
    return incident


def _apply_fields(incident: Incident, organisation_id: int, values: IncidentInput) -> None:
    errors: dict[str, str] = {}
    if values.kind not in INCIDENT_KINDS:
        errors["kind"] = "unknown kind"
    area = _known_area(organisation_id, values.area, errors)
    occurred = _aware(values.occurred_at, "occurred_at", errors)
    ended = _aware(values.ended_at, "ended_at", errors) if values.ended_at else None
    if occurred and occurred > utcnow() + ledger.CLOCK_SKEW:
        errors["occurred_at"] = "in the future"
    if occurred and ended and ended < occurred:
        errors["ended_at"] = "before the start"
    for name in TRISTATE_FIELDS:
        if getattr(values, name) not in TRISTATE:
            errors[name] = "yes, no or unknown"
    for name in COUNT_FIELDS:
        value = getattr(values, name)
        if value is not None and not 0 <= value <= MAX_COUNT:
            errors[name] = "a whole number, 0 or more"
    for name in TEXT_FIELDS:
        if len(getattr(values, name) or "") > MAX_TEXT:
            errors[name] = "too long"
    if values.site_id is not None:
        ledger.get_site(organisation_id, values.site_id)
    if errors:
        names = ", ".join(name.replace("_", " ") for name in errors)
        raise ValidationError(_l("Please check: %(fields)s.", fields=names), errors)
    incident.occurred_at = occurred
    incident.ended_at = ended
    incident.kind = values.kind
    incident.area = area
    incident.site_id = values.site_id
    for name in (*TRISTATE_FIELDS, *COUNT_FIELDS):
        setattr(incident, name, getattr(values, name))
    for name in TEXT_FIELDS:
        setattr(incident, name, (getattr(values, name) or "").strip())


def site_areas(organisation_id: int) -> list[str]:
    """Return the public areas of the organisation's sites: the only areas an incident takes."""
    return sorted(
        set(db.session.scalars(select(Site.area).where(Site.organisation_id == organisation_id)))
    )


def _known_area(organisation_id: int, value: str, errors: dict[str, str]) -> str:
    """Return the site area typed, as the sites spell it; donors see it, so never free text."""
    typed = " ".join((value or "").split()).casefold()
    for area in site_areas(organisation_id):
        if area.casefold() == typed:
            return area
    known = ", ".join(site_areas(organisation_id)) or "none yet"
    errors["area"] = f"one of your sites' areas ({known})"
    return ""


def _aware(value: Any, name: str, errors: dict[str, str]) -> datetime | None:
    if not isinstance(value, datetime) or value.tzinfo is None:
        errors[name] = "a date and time with its time zone"
        return None
    if not EARLIEST_DAY <= value.date() <= LATEST_DAY:  # read before converting: no overflow
        errors[name] = f"between {EARLIEST_DAY} and {LATEST_DAY}"
        return None
    return value.astimezone(UTC)


def _write_lines(incident: Incident, user_id: int | None, lines: Sequence[LineInput]) -> None:
    """Replace the incident's lines; loss movements follow, refused whole when short."""
    organisation_id = incident.organisation_id
    checked = [_check_line(organisation_id, incident, line) for line in lines]
    with db.session.begin_nested():
        for movement in loss_movements(incident):
            ledger.reverse(organisation_id, user_id, movement.id, "Incident lines corrected")
        # Refused whole: leaving the block with the error rolls the savepoint back.
        take_all(
            organisation_id,
            user_id,
            (
                Take(
                    site_id=line.site_id,
                    item_id=line.item_id,
                    quantity=line.quantity,
                    kind="loss",
                    occurred_at=incident.occurred_at,
                    note=f"{line.action.capitalize()} ({incident.kind.replace('_', ' ')}, "
                    f"{incident.area})",
                    incident_id=incident.id,
                )
                for line in checked
                if line.origin == "from_stock"
            ),
            _l("Not recorded, the stock is not there:"),
            {"lines": "not enough stock"},
        )
    incident.lines = [
        IncidentLine(
            item_id=line.item_id,
            quantity=line.quantity,
            origin=line.origin,
            action=line.action,
            marked_property=bool(line.marked_property),
            site_id=line.site_id if line.origin == "from_stock" else None,
            distribution_id=line.distribution_id if line.origin == "after_distribution" else None,
        )
        for line in checked
    ]
    db.session.flush()


def _check_line(organisation_id: int, incident: Incident, line: LineInput) -> LineInput:
    item = ledger.get_item(organisation_id, line.item_id)
    if line.quantity <= 0:
        raise ValidationError(
            _l("Quantity of %(item)s must be a whole number above 0.", item=item.label),
            {"lines": "quantity"},
        )
    if line.quantity > ledger.MAX_QUANTITY:
        raise ValidationError(
            _l("Quantity of %(item)s is too large.", item=item.label), {"lines": "quantity"}
        )
    if line.origin not in LINE_ORIGINS:
        raise ValidationError(
            _l("Say whether it was from our stock or given out."), {"lines": "origin"}
        )
    if line.action not in LINE_ACTIONS:
        raise ValidationError(
            _l("Choose destroyed, seized, slashed or contaminated."), {"lines": "action"}
        )
    if line.origin == "from_stock":
        site_id = line.site_id or incident.site_id
        if site_id is None:
            raise ValidationError(
                _l("Say which site the %(item)s were taken from.", item=item.label),
                {"lines": "site"},
            )
        line.site_id = ledger.get_site(organisation_id, site_id).id
    if line.distribution_id is not None:
        owned(
            Distribution,
            organisation_id,
            line.distribution_id,
            _l("No such distribution."),
            {"lines": "distribution"},
        )
    return line


def period_bounds(organisation_id: int, first: date, last: date) -> tuple[datetime, datetime]:
    """Return the UTC moments a period of local dates starts and ends; far dates are refused."""
    check_period(first, last)
    zone = organisation_zone(organisation_id)
    start = datetime.combine(first, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    return start, end
