"""Labels and boxes: what each shelf label names, and boxes a volunteer packs, moves and empties.

A box is a label on stock the ledger already holds: making or emptying one writes no movement;
moving one is a ledger transfer of its quantity, so the levels stay the truth.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from .. import i18n, limits
from ..extensions import db
from ..models import Box, Item, Site, StockLevel
from ..models.types import utcnow
from . import ledger
from .errors import Conflict, ValidationError
from .rows import owned

CODE_PREFIX = "B-"
MAX_CODE = 20  # the column's width
# Letters, digits and dashes: what a volunteer reads out and writes on cardboard.
CODE_PATTERN = re.compile(r"[A-Z0-9][A-Z0-9-]*")
# Shelf labels one request may print: a warehouse's whole catalogue, not a denial of service.
MAX_LABELS = 500
# Two boxes made at the same moment may draw the same next code: try the ones after it.
CODE_ATTEMPTS = 5


@dataclass(frozen=True)
class ShelfLabel:
    """One shelf: a site and an item, and what the site holds of it now."""

    site: Site
    item: Item
    held: int


def get_box(organisation_id: int, box_id: int, *, for_update: bool = False) -> Box:
    """Return the organisation's box or raise NotFound."""
    return owned(
        Box,
        organisation_id,
        box_id,
        _l("No such box."),
        {"box_id": "unknown box"},
        for_update=for_update,
    )


def boxes_at(organisation_id: int, site_id: int, item_id: int | None = None) -> list[Box]:
    """Return the boxes not yet emptied at a site (of one item), by code."""
    query = select(Box).where(
        Box.organisation_id == organisation_id,
        Box.site_id == site_id,
        Box.emptied_at.is_(None),
    )
    if item_id is not None:
        query = query.where(Box.item_id == item_id)
    return list(db.session.scalars(query.order_by(Box.code)))


def create_box(
    organisation_id: int,
    user_id: int | None,
    *,
    site_id: int,
    item_id: int,
    quantity: int,
    code: str = "",
) -> Box:
    """Label a box of an item the site holds; without a code, take the next free B-0001."""
    site = ledger.get_site(organisation_id, site_id)
    item = ledger.get_item(organisation_id, item_id)
    _check_quantity(quantity)
    held = ledger.held(site.id, item.id)
    # The box holds stock the ledger has: receive it first, so the levels stay the truth.
    if quantity > held:
        raise ValidationError(
            _l(
                "Only %(held)s %(item)s at %(site)s: record them coming in before boxing "
                "%(wanted)s.",
                held=i18n.number(held),
                item=item.label,
                site=site.name,
                wanted=i18n.number(quantity),
            ),
            {"quantity": f"{held} held"},
        )
    chosen = _clean_code(code)
    values = {
        "organisation_id": organisation_id,
        "site_id": site.id,
        "item_id": item.id,
        "quantity": quantity,
        "created_by_id": user_id,
    }
    if chosen:
        if _code_taken(organisation_id, chosen):
            raise Conflict(
                _l("There is already a box %(code)s.", code=chosen), {"code": "already used"}
            )
        return _insert_box(values | {"code": chosen}, chosen)
    number = _next_number(organisation_id)
    for attempt in range(CODE_ATTEMPTS):
        candidate = f"{CODE_PREFIX}{number + attempt:04d}"
        if _code_taken(organisation_id, candidate):
            continue
        try:
            with db.session.begin_nested():
                return _insert_box(values | {"code": candidate}, candidate)
        except Conflict:
            continue
    raise Conflict(_l("Another box was labelled at the same moment: try again."))


def move_box(organisation_id: int, user_id: int | None, box_id: int, to_site_id: int) -> Box:
    """Move a box to another site: a ledger transfer of its quantity, then the box follows."""
    # Locked, so two moves of one box take turns: the second starts from where it now is.
    box = get_box(organisation_id, box_id, for_update=True)
    _check_not_emptied(box)
    ledger.transfer(
        organisation_id,
        user_id,
        from_site_id=box.site_id,
        to_site_id=to_site_id,
        item_id=box.item_id,
        quantity=box.quantity,
        note=box.code,  # the ledger says which box went, in any language
    )
    box.site_id = to_site_id
    db.session.flush()
    db.session.refresh(box)  # the site relationship follows the new id
    return box


def empty_box(organisation_id: int, box_id: int) -> Box:
    """Mark a box emptied: its stock stays where it is, now loose on the shelf."""
    box = get_box(organisation_id, box_id, for_update=True)
    _check_not_emptied(box)
    box.emptied_at = utcnow()
    db.session.flush()
    return box


def shelf_labels(
    organisation_id: int, site_id: int, item_ids: list[int] | None = None
) -> list[ShelfLabel]:
    """Return a site's shelves: one per item named, or per active item the site holds now."""
    site = ledger.get_site(organisation_id, site_id)
    if item_ids:
        wanted = list(dict.fromkeys(item_ids))
        if len(wanted) > MAX_LABELS:
            raise ValidationError(
                _l("At most %(n)s labels at once.", n=MAX_LABELS), {"item_id": "too many"}
            )
        items = [ledger.get_item(organisation_id, item_id) for item_id in wanted]
    else:
        items = list(
            db.session.scalars(
                select(Item)
                .join(StockLevel, StockLevel.item_id == Item.id)
                .where(
                    StockLevel.site_id == site.id,
                    StockLevel.quantity > 0,
                    Item.organisation_id == organisation_id,
                    Item.active.is_(True),
                )
                .limit(MAX_LABELS)
            )
        )
        items.sort(key=lambda item: item.label.casefold())
        if not items:
            raise ValidationError(
                _l(
                    "%(site)s holds nothing now: choose the items to print labels for.",
                    site=site.name,
                ),
                {"item_id": "required"},
            )
    return [ShelfLabel(site, item, ledger.held(site.id, item.id)) for item in items]


def _insert_box(values: dict[str, object], code: str) -> Box:
    box = Box(**values)
    db.session.add(box)
    try:
        db.session.flush()
    except IntegrityError as exc:  # the same code, made by another request a moment ago
        raise Conflict(
            _l("There is already a box %(code)s.", code=code), {"code": "already used"}
        ) from exc
    return box


def _next_number(organisation_id: int) -> int:
    """Return one more than the organisation's boxes: B-0001, B-0002... in the order made."""
    count = db.session.scalar(
        select(func.count()).select_from(Box).where(Box.organisation_id == organisation_id)
    )
    return int(count or 0) + 1


def _code_taken(organisation_id: int, code: str) -> bool:
    return (
        db.session.scalar(
            select(Box.id).where(Box.organisation_id == organisation_id, Box.code == code)
        )
        is not None
    )


def _clean_code(code: str) -> str:
    """Return a typed code as printed: trimmed, upper case; refuse what a label cannot show."""
    cleaned = "".join((code or "").split()).upper()
    if not cleaned:
        return ""
    if len(cleaned) > MAX_CODE or not CODE_PATTERN.fullmatch(cleaned):
        raise ValidationError(
            _l("A box code is up to %(n)s letters, digits and dashes.", n=MAX_CODE),
            {"code": "letters, digits, dashes"},
        )
    return cleaned


def _check_quantity(quantity: int) -> None:
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
        raise ValidationError(_l("Quantity must be more than zero."), {"quantity": "more than 0"})
    if quantity > limits.MAX_QUANTITY:
        raise ValidationError(_l("That quantity is too large."), {"quantity": "too large"})


def _check_not_emptied(box: Box) -> None:
    if box.emptied_at is not None:
        raise Conflict(_l("Box %(code)s has been emptied.", code=box.code), {"box_id": "emptied"})


__all__ = [
    "ShelfLabel",
    "boxes_at",
    "create_box",
    "empty_box",
    "get_box",
    "move_box",
    "shelf_labels",
]
