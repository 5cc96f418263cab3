"""Pledges: a donor's promise to bring goods on a day; never stock until the goods are received."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from .. import i18n, limits
from ..extensions import db
from ..models import Item, Organisation, Pledge, ShareLink, StockMovement
from ..models.donors import PLEDGE_SOURCES
from ..models.types import utcnow
from . import needs as needs_service
from .accounts import EMAIL_PATTERN, normalise_email
from .errors import Conflict, ServiceError, ValidationError
from .rows import owned

MAX_PLEDGE_QUANTITY = 10_000
# A pledge may offer up to five times what is short, and always up to 100: more than that is
# a typo or mischief, and a warehouse cannot plan around it.
SHORT_FACTOR = 5
ALWAYS_ALLOWED = 100
MAX_DAYS_AHEAD = 60
# Abuse limits of one share link, counted from the pledge table itself.
PLEDGES_PER_LINK_HOUR = 10
PLEDGES_PER_LINK_DAY = 30
# An open pledge lapses this many days after its day: the donor did not come.
LAPSE_DAYS = 3
# A donor's contact address is deleted this many days after the pledge closes.
CONTACT_DAYS = 30
# The expected-deliveries page reads at most this many days and pledges at once.
MAX_WINDOW_DAYS = 62
EXPECTED_LIMIT = 300
RECENT_CLOSED = 20
OPEN_FOR_ITEM_LIMIT = 50
MAX_REASON = 200


class TooMany(ServiceError):
    """Too many pledges through one share link in a short time."""

    status = 429
    code = "too_many"


def make_pledge(
    organisation_id: int,
    *,
    item_id: int,
    quantity: int,
    expected_on: date,
    contact_email: str | None,
    source: str,
    share_link_id: int | None = None,
    user_id: int | None = None,
    today: date,
) -> Pledge:
    """Record a donor's promise to bring goods on a day; the ledger and held stock stay as is."""
    if source not in PLEDGE_SOURCES:
        raise ValidationError(_l("Unknown pledge source."), {"source": "link or donor"})
    if share_link_id is not None:
        _check_link_rate(share_link_id)
    item = _donatable_item(organisation_id, item_id)
    _check_quantity(organisation_id, item, quantity)
    _check_day(expected_on, today)
    pledge = Pledge(
        organisation_id=organisation_id,
        item_id=item.id,
        quantity=quantity,
        expected_on=expected_on,
        contact_email=_clean_contact(contact_email),
        status="open",
        source=source,
        share_link_id=share_link_id,
        created_by_id=user_id,
        created_at=utcnow(),
    )
    db.session.add(pledge)
    db.session.flush()
    return pledge


def get_pledge(organisation_id: int, pledge_id: int, *, for_update: bool = False) -> Pledge:
    """Return the organisation's pledge or raise NotFound."""
    return owned(
        Pledge,
        organisation_id,
        pledge_id,
        _l("No such pledge."),
        {"pledge_id": "not found"},
        for_update=for_update,
    )


def expected(organisation_id: int, first: date, last: date) -> list[Pledge]:
    """Return the open pledges expected from first to last, by day, with their items loaded."""
    if last < first or (last - first).days > MAX_WINDOW_DAYS:
        raise ValidationError(
            _l("Choose at most %(days)s days.", days=MAX_WINDOW_DAYS), {"last": "out of range"}
        )
    return list(
        db.session.scalars(
            select(Pledge)
            .options(joinedload(Pledge.item))
            .where(
                Pledge.organisation_id == organisation_id,
                Pledge.status == "open",
                Pledge.expected_on >= first,
                Pledge.expected_on <= last,
            )
            .order_by(Pledge.expected_on, Pledge.id)
            .limit(EXPECTED_LIMIT)
        )
    )


def recently_closed(organisation_id: int, limit: int = RECENT_CLOSED) -> list[Pledge]:
    """Return the last pledges closed (received, lapsed or rejected), newest first."""
    return list(
        db.session.scalars(
            select(Pledge)
            .options(joinedload(Pledge.item))
            .where(Pledge.organisation_id == organisation_id, Pledge.status != "open")
            .order_by(Pledge.closed_at.desc(), Pledge.id.desc())
            .limit(limit)
        )
    )


def open_for_item(organisation_id: int, item_id: int) -> list[Pledge]:
    """Return an item's open pledges, soonest first (what a receipt of it may fulfil)."""
    return list(
        db.session.scalars(
            select(Pledge)
            .options(joinedload(Pledge.item))
            .where(
                Pledge.organisation_id == organisation_id,
                Pledge.item_id == item_id,
                Pledge.status == "open",
            )
            .order_by(Pledge.expected_on, Pledge.id)
            .limit(OPEN_FOR_ITEM_LIMIT)
        )
    )


def close_pledge(
    organisation_id: int, pledge_id: int, movement_id: int, user_id: int | None
) -> Pledge:
    """Mark a pledge received by a donation of its item; call it in the receipt's transaction."""
    pledge = get_pledge(organisation_id, pledge_id, for_update=True)
    movement = db.session.get(StockMovement, movement_id)
    if movement is None or movement.organisation_id != organisation_id:
        raise ValidationError(_l("No such receipt."), {"movement_id": "not found"})
    if movement.kind != "donation":
        raise ValidationError(
            _l("A pledge is fulfilled by a donation, not a purchase."),
            {"pledge_id": _l("only for a donation")},
        )
    if movement.item_id != pledge.item_id:
        raise ValidationError(
            _l(
                "That pledge is for %(pledged)s, not %(received)s.",
                pledged=pledge.item.label,
                received=movement.item.label,
            ),
            {"pledge_id": _l("another item")},
        )
    _check_open(pledge)
    pledge.status = "received"
    pledge.movement_id = movement.id
    pledge.closed_at = utcnow()
    pledge.closed_by_id = user_id
    db.session.flush()
    return pledge


def reject_pledge(organisation_id: int, pledge_id: int, user_id: int | None, reason: str) -> Pledge:
    """Turn an open pledge down (not needed, cannot be stored), with the reason why."""
    words = " ".join((reason or "").split())
    if not words:
        raise ValidationError(_l("Say why the pledge is rejected."), {"reason": _l("required")})
    if len(words) > MAX_REASON:
        raise ValidationError(
            _l("The reason is at most %(most)s characters.", most=MAX_REASON),
            {"reason": _l("too long")},
        )
    pledge = get_pledge(organisation_id, pledge_id, for_update=True)
    _check_open(pledge)
    pledge.status = "rejected"
    pledge.reason = words
    pledge.closed_at = utcnow()
    pledge.closed_by_id = user_id
    db.session.flush()
    return pledge


def lapse_due(now: datetime) -> int:
    """Lapse every organisation's open pledges whose day passed LAPSE_DAYS ago; return how many."""
    zones = db.session.scalars(select(Organisation.timezone).distinct()).all()
    lapsed = 0
    # One update per time zone, not per organisation: a zone's organisations share "today".
    for zone in zones:
        cutoff = now.astimezone(ZoneInfo(zone)).date() - timedelta(days=LAPSE_DAYS)
        in_zone = select(Organisation.id).where(Organisation.timezone == zone)
        result = db.session.execute(
            update(Pledge)
            .where(
                Pledge.status == "open",
                Pledge.expected_on < cutoff,
                Pledge.organisation_id.in_(in_zone),
            )
            .values(status="lapsed", closed_at=now)
            .execution_options(synchronize_session=False)
        )
        lapsed += result.rowcount or 0
    return lapsed


def forget_contacts(now: datetime) -> int:
    """Delete the contact addresses of pledges closed over CONTACT_DAYS ago; return how many."""
    result = db.session.execute(
        update(Pledge)
        .where(
            Pledge.contact_email.is_not(None),
            Pledge.closed_at.is_not(None),
            Pledge.closed_at < now - timedelta(days=CONTACT_DAYS),
        )
        .values(contact_email=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def donatable_items(organisation_id: int, first_ids: Sequence[int], most: int) -> list[Item]:
    """Return at most `most` items donors can bring, active and donatable: these first, then
    by name; never fewer than the items given first. Only the items offered are read."""
    donatable = select(Item).where(
        Item.organisation_id == organisation_id,
        Item.active.is_(True),
        Item.donatable.is_(True),
    )
    rank = {item_id: place for place, item_id in enumerate(first_ids)}
    first = sorted(
        db.session.scalars(donatable.where(Item.id.in_(rank))) if rank else [],
        key=lambda item: rank[item.id],
    )
    if len(first) >= most:
        return first
    rest = donatable.where(Item.id.not_in(rank)) if rank else donatable
    name = Item.name_fr if i18n.current_language() == "fr" else Item.name
    rest = rest.order_by(func.lower(func.coalesce(name, Item.name)), Item.size)
    rest = rest.limit(most - len(first))
    return first + sorted(db.session.scalars(rest), key=lambda item: item.label.casefold())


# --- checks --------------------------------------------------------------------------------------


def _check_link_rate(share_link_id: int) -> None:
    """Refuse a pledge when its link made too many lately (counted from the pledges)."""
    # Lock the link: two pledges through it at the same moment take turns, so the count is exact.
    db.session.execute(select(ShareLink.id).where(ShareLink.id == share_link_id).with_for_update())
    now = utcnow()
    hour_ago = now - timedelta(hours=1)
    last_hour, last_day = db.session.execute(
        select(
            func.count().filter(Pledge.created_at >= hour_ago),
            func.count(),
        ).where(
            Pledge.share_link_id == share_link_id,
            Pledge.created_at >= now - timedelta(days=1),
        )
    ).one()
    if last_hour >= PLEDGES_PER_LINK_HOUR or last_day >= PLEDGES_PER_LINK_DAY:
        raise TooMany(
            _l(
                "Many pledges came through this link lately. Please try again later, "
                "or write to the organisation."
            ),
        )


def _donatable_item(organisation_id: int, item_id: int) -> Item:
    item = db.session.get(Item, item_id)
    if item is None or item.organisation_id != organisation_id or not item.active:
        raise ValidationError(_l("Choose an item from the list."), {"item_id": _l("unknown item")})
    if not item.donatable:
        raise ValidationError(
            _l("Donors cannot bring %(item)s: please choose another item.", item=item.label),
            {"item_id": _l("not for donors")},
        )
    return item


def _check_quantity(organisation_id: int, item: Item, quantity: Any) -> None:
    if not isinstance(quantity, int) or not 1 <= quantity <= MAX_PLEDGE_QUANTITY:
        raise ValidationError(
            _l("A pledge is 1 to %(most)s.", most=i18n.number(MAX_PLEDGE_QUANTITY)),
            {"quantity": _l("1 to %(most)s", most=i18n.number(MAX_PLEDGE_QUANTITY))},
        )
    if quantity <= ALWAYS_ALLOWED:
        return  # within what anyone may pledge: no need to work out the needs
    short = _shortfall(organisation_id, item.id)
    most = min(max(SHORT_FACTOR * short, ALWAYS_ALLOWED), MAX_PLEDGE_QUANTITY)
    if quantity > most:
        raise ValidationError(
            _l(
                "We can take at most %(most)s %(item)s: five times what is short now "
                "(%(short)s), or %(always)s.",
                most=i18n.number(most),
                item=item.label,
                short=i18n.number(short),
                always=ALWAYS_ALLOWED,
            ),
            {"quantity": _l("at most %(most)s", most=i18n.number(most))},
        )


def _shortfall(organisation_id: int, item_id: int) -> int:
    return next(
        (
            n.shortfall
            for n in needs_service.compute_needs(organisation_id, sites=False)
            if n.item_id == item_id
        ),
        0,
    )


def _check_day(expected_on: Any, today: date) -> None:
    last = today + timedelta(days=MAX_DAYS_AHEAD)
    if not isinstance(expected_on, date) or not today <= expected_on <= last:
        raise ValidationError(
            _l("Choose a day from today to %(days)s days ahead.", days=MAX_DAYS_AHEAD),
            {"expected_on": _l("today to %(days)s days ahead", days=MAX_DAYS_AHEAD)},
        )


def _clean_contact(contact_email: str | None) -> str | None:
    address = normalise_email(contact_email or "")
    if not address:
        return None
    if len(address) > limits.MAX_EMAIL or not EMAIL_PATTERN.match(address):
        raise ValidationError(
            _l("That e-mail address does not look right; you may leave it empty."),
            {"contact_email": _l("not an e-mail address")},
        )
    return address


def _check_open(pledge: Pledge) -> None:
    if pledge.status != "open":
        raise Conflict(
            _l("This pledge is already closed."),
            {"pledge_id": _l("already closed")},
        )
