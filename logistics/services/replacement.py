"""The replacement kit, and the demand evictions add: what replaces each shelter destroyed.

An organisation's kit says what one destroyed shelter, and one affected person, call for. An
incident with shelters or people affected asks for its counts times the kit, due 24 hours after
it was recorded (docs/needs.md: the need's replacement term).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from .. import limits
from ..extensions import db
from ..models import KIT_BASES, Incident, Item, Organisation, ReplacementKitLine, StockLevel
from .errors import ValidationError

# Replacement is due this long after the incident was recorded.
DUE_AFTER = timedelta(hours=24)
MAX_KIT_QUANTITY = limits.MAX_KIT_QUANTITY
# How each basis is named in messages and field notes.
BASIS_FIELDS = {"shelter": "per_shelter", "person": "per_person"}
BASIS_WORDS = {"shelter": _l("per shelter destroyed"), "person": _l("per person affected")}


class KitLine(NamedTuple):
    """One item of the kit and how many of it one shelter, or one person, calls for."""

    item: Item
    quantity: int


@dataclass(frozen=True)
class Kit:
    """An organisation's replacement kit, by basis, each in the order its lines were written."""

    per_shelter: list[KitLine]
    per_person: list[KitLine]

    @property
    def empty(self) -> bool:
        """Tell whether the kit has no line at all."""
        return not self.per_shelter and not self.per_person


@dataclass(frozen=True)
class ReplacementLine:
    """What an incident asks for of one item, what is held of it anywhere, and by when."""

    item_id: int
    label: str
    unit: str
    quantity: int
    held: int
    due: datetime


def kit(organisation_id: int) -> Kit:
    """Return the organisation's replacement kit, its items loaded with the rows."""
    rows = db.session.scalars(
        select(ReplacementKitLine)
        .where(ReplacementKitLine.organisation_id == organisation_id)
        .options(selectinload(ReplacementKitLine.item))
        .order_by(ReplacementKitLine.id)
    ).all()
    by_basis: dict[str, list[KitLine]] = {basis: [] for basis in KIT_BASES}
    for row in rows:
        by_basis[row.basis].append(KitLine(row.item, row.quantity))
    return Kit(per_shelter=by_basis["shelter"], per_person=by_basis["person"])


def save_kit(
    organisation_id: int,
    per_shelter: Sequence[tuple[int, int]],
    per_person: Sequence[tuple[int, int]],
) -> Kit:
    """Replace the organisation's kit whole with these (item id, quantity) lines."""
    wanted = {"shelter": list(per_shelter), "person": list(per_person)}
    _check(organisation_id, wanted)
    # Saves of one organisation's kit take turns, so two never insert the same line.
    # NO KEY UPDATE: rows that merely refer to the organisation are not held up.
    db.session.execute(
        select(Organisation.id)
        .where(Organisation.id == organisation_id)
        .with_for_update(key_share=True)
    )
    rows = db.session.scalars(
        select(ReplacementKitLine).where(ReplacementKitLine.organisation_id == organisation_id)
    ).all()
    existing = {(row.basis, row.item_id): row for row in rows}
    kept = set()
    for basis, lines in wanted.items():
        for item_id, quantity in lines:
            row = existing.get((basis, item_id))
            if row is None:
                db.session.add(
                    ReplacementKitLine(
                        organisation_id=organisation_id,
                        basis=basis,
                        item_id=item_id,
                        quantity=quantity,
                    )
                )
            elif row.quantity != quantity:  # an equal value would still be written
                row.quantity = quantity
            kept.add((basis, item_id))
    for key, row in existing.items():
        if key not in kept:
            db.session.delete(row)
    db.session.flush()
    return kit(organisation_id)


def _check(organisation_id: int, wanted: dict[str, list[tuple[int, int]]]) -> None:
    """Refuse lines that are too many, repeat an item, or name a quantity or item badly."""
    errors: dict[str, Any] = {}
    messages: list[Any] = []

    def refuse(name: str, note: Any, message: Any) -> None:
        errors.setdefault(name, note)
        messages.append(message)

    asked = {
        item_id for lines in wanted.values() for item_id, _q in lines if _whole(item_id) is not None
    }
    items = _items(organisation_id, asked)
    for basis, lines in wanted.items():
        field = BASIS_FIELDS[basis]
        if len(lines) > limits.MAX_LINES:
            refuse(
                field,
                _l("at most %(count)s lines", count=limits.MAX_LINES),
                _l("A kit has at most %(count)s lines per basis.", count=limits.MAX_LINES),
            )
            continue
        seen: set[int] = set()
        for index, (item_id, quantity) in enumerate(lines):
            place = f"{field}[{index}]"
            item = items.get(item_id) if _whole(item_id) is not None else None
            if item is None:
                refuse(
                    f"{place}.item_id",
                    _l("no such item"),
                    _l("Pick items of your own catalogue for the replacement kit."),
                )
            elif not item.active:
                refuse(
                    f"{place}.item_id",
                    _l("retired item"),
                    _l("%(item)s is retired: pick another item or remove it.", item=item.label),
                )
            elif item_id in seen:
                refuse(
                    f"{place}.item_id",
                    _l("listed twice"),
                    _l(
                        "%(item)s is listed twice %(basis)s: give it once, with the total.",
                        item=item.label,
                        basis=BASIS_WORDS[basis],
                    ),
                )
            else:
                seen.add(item_id)
            number = _whole(quantity)
            if number is None or not 1 <= number <= MAX_KIT_QUANTITY:
                refuse(
                    f"{place}.quantity",
                    _l("a whole number from 1 to %(most)s", most=MAX_KIT_QUANTITY),
                    _l(
                        "Kit quantities are whole numbers from 1 to %(most)s.",
                        most=MAX_KIT_QUANTITY,
                    ),
                )
    if errors:
        raise ValidationError(messages[0], errors)


def _whole(value: Any) -> int | None:
    """Return value if it is a whole number a column holds (not a bool), else None."""
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if -limits.MAX_INT <= value <= limits.MAX_INT else None


def _items(organisation_id: int, item_ids: set[int]) -> dict[int, Item]:
    """Return the organisation's items among these ids (another organisation's are absent)."""
    if not item_ids:
        return {}
    rows = db.session.scalars(
        select(Item).where(Item.organisation_id == organisation_id, Item.id.in_(sorted(item_ids)))
    )
    return {item.id: item for item in rows}


# --- demand ------------------------------------------------------------------------------------


def demand(organisation_id: int, now: datetime) -> dict[int, list[tuple[datetime, int]]]:
    """Return per item the (due, quantity) of replacement still due after recent evictions."""
    incidents = db.session.scalars(
        select(Incident)
        .where(
            Incident.organisation_id == organisation_id,
            # Only the last 24 hours' incidents can still be due.
            Incident.created_at > now - DUE_AFTER,
            Incident.created_at <= now,
        )
        # Amendments may correct the counts (Incident.affected), loaded with the list.
        .options(selectinload(Incident.amendments))
    ).all()
    counted = [incident for incident in incidents if any(incident.affected)]
    if not counted:
        return {}
    per_unit = _per_unit(organisation_id)
    due: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for incident in counted:
        people, shelters = incident.affected
        for item_id, quantity in _asked(per_unit, shelters, people).items():
            due[item_id].append((incident.created_at + DUE_AFTER, quantity))
    for lines in due.values():
        lines.sort()
    return dict(due)


def eviction_needs(
    organisation_id: int, incident: Incident, now: datetime
) -> list[ReplacementLine]:
    """Return what the incident's counts call for, item by item, with what is held anywhere.

    The lines come whatever now is; the caller tells a past due time from a coming one.
    """
    people, shelters = incident.affected
    if not shelters and not people:
        return []
    per_unit = _per_unit(organisation_id)
    asked = _asked(per_unit, shelters, people)
    if not asked:
        return []
    items = _items(organisation_id, set(asked))
    held = _held(organisation_id, set(asked))
    due = incident.created_at + DUE_AFTER
    # In the kit's order, shelter lines first: "40 Tent (12 held), 80 Sleeping bag (54 held)".
    return [
        ReplacementLine(
            item_id=item_id,
            label=items[item_id].label,
            unit=items[item_id].unit,
            quantity=quantity,
            held=held.get(item_id, 0),
            due=due,
        )
        for item_id, quantity in asked.items()
        if item_id in items
    ]


def _per_unit(organisation_id: int) -> dict[str, dict[int, int]]:
    """Return per basis the kit's quantity per item, active items only, in kit order (one query)."""
    rows = db.session.execute(
        select(ReplacementKitLine.basis, ReplacementKitLine.item_id, ReplacementKitLine.quantity)
        .join(Item, Item.id == ReplacementKitLine.item_id)
        .where(ReplacementKitLine.organisation_id == organisation_id, Item.active.is_(True))
        .order_by(ReplacementKitLine.id)
    ).all()
    per_unit: dict[str, dict[int, int]] = {basis: {} for basis in KIT_BASES}
    for basis, item_id, quantity in rows:
        per_unit[basis][item_id] = quantity
    return per_unit


def _asked(per_unit: dict[str, dict[int, int]], shelters: int, people: int) -> dict[int, int]:
    """Return per item the counts times the kit, shelter lines first; both bases add up."""
    asked: dict[int, int] = defaultdict(int)
    for item_id, quantity in per_unit["shelter"].items():
        asked[item_id] += shelters * quantity
    for item_id, quantity in per_unit["person"].items():
        asked[item_id] += people * quantity
    return {item_id: quantity for item_id, quantity in asked.items() if quantity > 0}


def _held(organisation_id: int, item_ids: set[int]) -> dict[int, int]:
    """Return per item what every site of the organisation holds (one query)."""
    rows = db.session.execute(
        select(StockLevel.item_id, func.sum(StockLevel.quantity))
        .where(
            StockLevel.organisation_id == organisation_id,
            StockLevel.item_id.in_(sorted(item_ids)),
        )
        .group_by(StockLevel.item_id)
    )
    return {item_id: int(total or 0) for item_id, total in rows}
