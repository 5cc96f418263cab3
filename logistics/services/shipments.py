"""Partner organisations and the shipments between them: each side keeps its own ledger.

Sending takes the lines out of the sender's site (`shipment_out`); receiving puts what was
counted into the receiver's site (`shipment_in`), as the receiver's own items. What did not
arrive stays on the line as lost in transit: it already left the sender's ledger, so no
movement is written for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from .. import i18n, limits
from ..extensions import db
from ..models import Item, Organisation, Partnership, Shipment, ShipmentLine, Site
from ..models.types import utcnow
from . import accounts, ledger
from .errors import Conflict, InsufficientStock, NotFound, ValidationError, sentences

MAX_QUANTITY = limits.MAX_QUANTITY
MAX_LINES = limits.MAX_LINES


@dataclass(frozen=True)
class Counted:
    """One line as the receiver counted it: their own item, and how many arrived."""

    line_id: int
    item_id: int | None
    received: int


@dataclass(frozen=True)
class LineView:
    """A line with the sender's item, the receiver's item once counted, and what was lost."""

    line: ShipmentLine
    item: Item
    received_item: Item | None
    lost: int


@dataclass(frozen=True)
class ShipmentView:
    """A shipment with the names both sides read: organisations, sites (names only), items."""

    shipment: Shipment
    sender: Organisation
    receiver: Organisation
    from_site: Site
    to_site: Site | None
    lines: list[LineView]

    @property
    def lost(self) -> int:
        """Return how many pieces did not arrive, all lines together."""
        return sum(line.lost for line in self.lines)


# --- partnerships ------------------------------------------------------------------------------


def ask_partnership(organisation_id: int, user_id: int | None, slug: str) -> Partnership:
    """Ask another organisation, named by its slug, to ship to and from this one."""
    slug = (slug or "").strip()
    if not slug:
        raise ValidationError(
            _l("Give the other organisation's short name (slug)."),
            {"organisation_slug": "required"},
        )
    partner = accounts.organisation_by_slug(slug)
    if partner.id == organisation_id:
        raise ValidationError(
            _l("That is your own organisation."), {"organisation_slug": "your own"}
        )
    earlier = _between(organisation_id, partner.id)
    if earlier is not None:
        if earlier.accepted_at is not None:
            raise Conflict(_l("You are already partners with %(name)s.", name=partner.name))
        if earlier.organisation_id == organisation_id:
            raise Conflict(
                _l("You already asked %(name)s; they have not accepted yet.", name=partner.name)
            )
        raise Conflict(
            _l(
                "%(name)s has already asked to be your partner: accept it instead.",
                name=partner.name,
            )
        )
    partnership = Partnership(
        organisation_id=organisation_id, partner_id=partner.id, requested_by_id=user_id
    )
    try:
        # Both admins asking at the same moment: the second is told, not shown a crash.
        with db.session.begin_nested():
            db.session.add(partnership)
    except IntegrityError as exc:
        raise Conflict(
            _l("You already asked %(name)s; they have not accepted yet.", name=partner.name)
        ) from exc
    return partnership


def accept_partnership(
    organisation_id: int, user_id: int | None, partnership_id: int
) -> Partnership:
    """Accept a partnership another organisation asked for; only the one asked may."""
    partnership = get_partnership(organisation_id, partnership_id, for_update=True)
    if partnership.partner_id != organisation_id:
        raise Conflict(_l("Only the organisation you asked can accept."))
    if partnership.accepted_at is not None:
        raise Conflict(_l("This partnership is already accepted."))
    partnership.accepted_at = utcnow()
    partnership.accepted_by_id = user_id
    db.session.flush()
    return partnership


def get_partnership(
    organisation_id: int, partnership_id: int, *, for_update: bool = False
) -> Partnership:
    """Return a partnership this organisation is part of, or raise NotFound."""
    row = db.session.get(
        Partnership, partnership_id, with_for_update=for_update, populate_existing=for_update
    )
    if row is None or organisation_id not in (row.organisation_id, row.partner_id):
        raise NotFound(_l("No such partnership."))
    return row


def list_partnerships(organisation_id: int) -> list[Partnership]:
    """Return the partnerships this organisation asked for or was asked, newest first."""
    return list(
        db.session.scalars(
            select(Partnership)
            .where(
                or_(
                    Partnership.organisation_id == organisation_id,
                    Partnership.partner_id == organisation_id,
                )
            )
            .order_by(Partnership.id.desc())
        )
    )


def other_side(partnership: Partnership, organisation_id: int) -> Organisation:
    """Return the organisation at the other end of a partnership."""
    other = (
        partnership.partner_id
        if partnership.organisation_id == organisation_id
        else partnership.organisation_id
    )
    return db.session.get_one(Organisation, other)


def partners(organisation_id: int) -> list[Organisation]:
    """Return the organisations this one may ship to: accepted partnerships, by name."""
    found = [
        other_side(p, organisation_id)
        for p in list_partnerships(organisation_id)
        if p.accepted_at is not None
    ]
    return sorted(found, key=lambda o: o.name.casefold())


def _between(first: int, second: int) -> Partnership | None:
    """Return the partnership of two organisations, whichever asked."""
    return db.session.scalar(
        select(Partnership).where(
            or_(
                (Partnership.organisation_id == first) & (Partnership.partner_id == second),
                (Partnership.organisation_id == second) & (Partnership.partner_id == first),
            )
        )
    )


# --- shipments ---------------------------------------------------------------------------------


def create_shipment(
    organisation_id: int,
    user_id: int | None,
    *,
    partner_organisation_id: int,
    from_site_id: int,
    lines: Sequence[tuple[int, int]],
) -> Shipment:
    """Prepare a shipment to a partner from one of our sites: (item_id, quantity) lines."""
    partnership = _between(organisation_id, partner_organisation_id)
    if partnership is None or partnership.accepted_at is None:
        raise NotFound(
            _l("No such partner: link your organisations first."),
            {"partner_organisation_id": "not a partner"},
        )
    site = ledger.get_site(organisation_id, from_site_id)
    if not lines:
        raise ValidationError(_l("Add at least one line."), {"lines": "required"})
    if len(lines) > MAX_LINES:
        raise ValidationError(
            _l("A shipment has at most %(n)s lines.", n=MAX_LINES), {"lines": "too many"}
        )
    # The same item twice is one line: the waybill lists each item once.
    merged: dict[int, int] = {}
    for item_id, quantity in lines:
        _check_quantity(quantity, 1)
        item = ledger.get_item(organisation_id, item_id)
        merged[item.id] = merged.get(item.id, 0) + quantity
        _check_quantity(merged[item.id], 1)
    shipment = Shipment(
        organisation_id=organisation_id,
        to_organisation_id=partner_organisation_id,
        from_site_id=site.id,
        status="draft",
        created_by_id=user_id,
    )
    db.session.add(shipment)
    db.session.flush()
    for item_id, quantity in merged.items():
        db.session.add(ShipmentLine(shipment_id=shipment.id, item_id=item_id, quantity=quantity))
    db.session.flush()
    return shipment


def get_shipment(organisation_id: int, shipment_id: int, *, for_update: bool = False) -> Shipment:
    """Return a shipment this organisation sent or is sent, or raise NotFound."""
    row = db.session.get(
        Shipment, shipment_id, with_for_update=for_update, populate_existing=for_update
    )
    if row is None or organisation_id not in (row.organisation_id, row.to_organisation_id):
        raise NotFound(_l("No such shipment."))
    return row


def list_shipments(organisation_id: int, limit: int = 200) -> list[ShipmentView]:
    """Return the shipments this organisation sent or is sent, newest first, described.

    Four queries whatever their number: the shipments with their lines, then every item, site
    and organisation they name, so describing each reads only the session's identity map.
    """
    rows = list(
        db.session.scalars(
            select(Shipment)
            .options(selectinload(Shipment.lines))
            .where(
                or_(
                    Shipment.organisation_id == organisation_id,
                    Shipment.to_organisation_id == organisation_id,
                )
            )
            .order_by(Shipment.id.desc())
            .limit(limit)
        )
    )
    lines = [line for shipment in rows for line in shipment.lines]
    # Held here: the session keeps rows by weak reference, so unheld ones would be read again.
    held = [
        *_load(Item, {x.item_id for x in lines} | {x.received_item_id for x in lines}),
        *_load(Site, {s.from_site_id for s in rows} | {s.to_site_id for s in rows}),
        *_load(
            Organisation, {s.organisation_id for s in rows} | {s.to_organisation_id for s in rows}
        ),
    ]
    views = [_view(shipment) for shipment in rows]
    del held
    return views


def _load(model: type[Item | Site | Organisation], ids: set[int | None]) -> list[Any]:
    """Read these rows at once, so gets by id while they are held run no query."""
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return []
    return list(db.session.scalars(select(model).where(model.id.in_(wanted))))


def send_shipment(organisation_id: int, user_id: int | None, shipment_id: int) -> Shipment:
    """Send a prepared shipment: every line leaves the sender's site, or none and say why."""
    shipment = get_shipment(organisation_id, shipment_id, for_update=True)
    if shipment.organisation_id != organisation_id:
        raise Conflict(_l("Only the organisation that prepared a shipment sends it."))
    if shipment.status != "draft":
        raise Conflict(_l("This shipment has already been sent."))
    shortages = []
    # Leaving the block with the error rolls back the lines already taken out.
    with db.session.begin_nested():
        for line in shipment.lines:
            try:
                ledger.record_shipment(
                    organisation_id,
                    user_id,
                    shipment_id=shipment.id,
                    site_id=shipment.from_site_id,
                    item_id=line.item_id,
                    quantity=line.quantity,
                    kind="shipment_out",
                )
            except InsufficientStock as short:
                shortages.append(short.reason)
        if shortages:
            raise InsufficientStock(
                sentences(_l("Nothing was sent."), *shortages), {"lines": "not enough stock"}
            )
    shipment.status = "sent"
    shipment.sent_at = utcnow()
    shipment.sent_by_id = user_id
    db.session.flush()
    return shipment


def receive_shipment(
    organisation_id: int,
    user_id: int | None,
    shipment_id: int,
    *,
    site_id: int,
    counts: Sequence[Counted],
) -> Shipment:
    """Receive a sent shipment at one of our sites, counting each line as our own item."""
    shipment = get_shipment(organisation_id, shipment_id, for_update=True)
    if shipment.to_organisation_id != organisation_id:
        raise Conflict(_l("Only the organisation a shipment is sent to receives it."))
    if shipment.status == "draft":
        raise Conflict(_l("This shipment has not been sent yet."))
    if shipment.status == "received":
        raise Conflict(_l("This shipment has already been received."))
    site = ledger.get_site(organisation_id, site_id)
    by_line = {line.id: line for line in shipment.lines}
    counted: dict[int, Counted] = {}
    for count in counts:
        if count.line_id not in by_line:
            raise NotFound(_l("No such line in this shipment."), {"line_id": "unknown line"})
        if count.line_id in counted:
            raise ValidationError(_l("Count each line once."), {"line_id": "counted twice"})
        counted[count.line_id] = count
    missing = [line for line in shipment.lines if line.id not in counted]
    if missing:
        raise ValidationError(
            _l("Count every line: say 0 for a line that did not arrive."),
            {"lines": "every line"},
        )
    for line in shipment.lines:
        count = counted[line.id]
        _check_quantity(count.received, 0)
        if count.received > line.quantity:
            raise ValidationError(
                _l(
                    "%(received)s counted but only %(sent)s sent: check the count.",
                    received=i18n.number(count.received),
                    sent=i18n.number(line.quantity),
                ),
                {"received": "more than sent"},
            )
        if count.received and count.item_id is None:
            raise ValidationError(
                _l("Choose which of your items each line is."), {"item_id": "required"}
            )
        item = ledger.get_item(organisation_id, count.item_id) if count.item_id else None
        line.received_item_id = item.id if item else None
        line.received = count.received
        if count.received:
            ledger.record_shipment(
                organisation_id,
                user_id,
                shipment_id=shipment.id,
                site_id=site.id,
                item_id=count.item_id,
                quantity=count.received,
                kind="shipment_in",
            )
    shipment.status = "received"
    shipment.to_site_id = site.id
    shipment.received_at = utcnow()
    shipment.received_by_id = user_id
    db.session.flush()
    return shipment


def describe(shipment: Shipment) -> ShipmentView:
    """Return a shipment with its organisations, sites and items, for pages and the waybill."""
    lines = shipment.lines
    held = _load(Item, {x.item_id for x in lines} | {x.received_item_id for x in lines})
    view = _view(shipment)
    del held
    return view


def _view(shipment: Shipment) -> ShipmentView:
    """Return a shipment's view from rows the caller holds in the session (one get each)."""
    to_site = db.session.get(Site, shipment.to_site_id) if shipment.to_site_id else None
    lines = [
        LineView(
            line=line,
            item=db.session.get_one(Item, line.item_id),
            received_item=(
                db.session.get(Item, line.received_item_id) if line.received_item_id else None
            ),
            lost=lost_in_transit(line),
        )
        for line in shipment.lines
    ]
    return ShipmentView(
        shipment=shipment,
        sender=db.session.get_one(Organisation, shipment.organisation_id),
        receiver=db.session.get_one(Organisation, shipment.to_organisation_id),
        from_site=db.session.get_one(Site, shipment.from_site_id),
        to_site=to_site,
        lines=lines,
    )


def lost_in_transit(line: ShipmentLine) -> int:
    """Return how many of a received line did not arrive (0 before it is received)."""
    return 0 if line.received is None else line.quantity - line.received


def matching_items(organisation_id: int, items: Sequence[Item]) -> dict[int, Item]:
    """Return the receiver's active item of the same name and size as each sender's item, by
    the sender's item id (those with none left out), in one query whatever the lines."""
    sent = {item.id: (item.name.lower(), (item.size or "").lower()) for item in items}
    if not sent:
        return {}
    # SQLite's lower() folds ASCII letters only: the same name as sent finds "Écharpe" too.
    named = or_(
        func.lower(Item.name).in_({name for name, _size in sent.values()}),
        Item.name.in_({item.name for item in items}),
    )
    ours = db.session.scalars(
        select(Item)
        .where(Item.organisation_id == organisation_id, Item.active.is_(True), named)
        .order_by(Item.id)
    )
    by_key: dict[tuple[str, str], Item] = {}
    for item in ours:
        by_key.setdefault((item.name.lower(), (item.size or "").lower()), item)
    return {sent_id: by_key[key] for sent_id, key in sent.items() if key in by_key}


def _check_quantity(quantity: object, least: int) -> None:
    """Refuse a quantity that is no whole number from least to MAX_QUANTITY."""
    if not isinstance(quantity, int) or isinstance(quantity, bool):
        raise ValidationError(_l("Quantity must be a whole number."), {"quantity": "whole number"})
    if quantity < least:
        if least == 0:
            raise ValidationError(_l("A count cannot be negative."), {"received": "0 or more"})
        raise ValidationError(_l("Quantity must be more than zero."), {"quantity": "more than 0"})
    if quantity > MAX_QUANTITY:
        raise ValidationError(_l("That quantity is too large."), {"quantity": "too large"})
