"""E-mail subscribers of the weekly donor report: subscribe, confirm, unsubscribe, forget."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from itsdangerous import BadData, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from .. import limits
from ..extensions import db
from ..models import Channel, Delivery, DonorSubscriber
from ..models.alerts import REPORT_MODE
from ..models.types import utcnow
from . import alerts
from .accounts import EMAIL_PATTERN, normalise_email
from .errors import NotFound, ServiceError, ValidationError

CONFIRM_SALT = "donor-subscribe"
UNSUBSCRIBE_SALT = "donor-unsubscribe"
# A confirmation link works a week: as long as an unconfirmed address is kept.
CONFIRM_DAYS = 7
# New subscriptions one share link may bring, so a link posted somewhere cannot mail-bomb.
PER_HOUR = 10
PER_DAY = 30
# An unconfirmed address asked for again within this time gets no second mail.
RESEND_AFTER = timedelta(minutes=15)
# Longer is no token of ours: refused before any work.
MAX_TOKEN = 300


class TooManySubscriptions(ServiceError):
    """A share link brought more subscriptions than a person plausibly asks for."""

    status = 429
    code = "too_many"


@dataclass(frozen=True)
class Ticket:
    """What a signed link names: a subscriber of an organisation, at one address."""

    subscriber_id: int
    organisation_id: int
    address: str  # a short digest of the address, so a reused id never matches


def subscribe(
    organisation_id: int, email: str, locale: str, share_link_id: int | None, now: datetime
) -> DonorSubscriber | None:
    """Record an address that asks for the weekly report; return it if it needs a confirmation.

    An address already confirmed, or asked for moments ago, returns None: the caller answers
    the same either way, so nobody learns who subscribed.
    """
    address = normalise_email(email or "")
    if len(address) > limits.MAX_EMAIL or not EMAIL_PATTERN.match(address):
        raise ValidationError(_l("That is not an e-mail address."), {"email": _l("invalid")})
    existing = db.session.scalar(
        select(DonorSubscriber).where(
            DonorSubscriber.organisation_id == organisation_id, DonorSubscriber.email == address
        )
    )
    if existing is not None and existing.confirmed_at is not None:
        return None
    if existing is not None and existing.created_at > now - RESEND_AFTER:
        return None
    _check_rate(share_link_id, now)
    if existing is None:
        existing = DonorSubscriber(organisation_id=organisation_id, email=address)
        try:
            # A twin request for the same address may insert first: then it has the mail.
            with db.session.begin_nested():
                db.session.add(existing)
                _ask_again(existing, locale, share_link_id, now)
        except IntegrityError:
            return None
        return existing
    _ask_again(existing, locale, share_link_id, now)
    return existing


def _ask_again(
    subscriber: DonorSubscriber, locale: str, share_link_id: int | None, now: datetime
) -> None:
    # Asking again restarts the week and counts against the link like a new subscription.
    subscriber.created_at = now
    subscriber.locale = locale
    subscriber.share_link_id = share_link_id
    db.session.flush()


def _check_rate(share_link_id: int | None, now: datetime) -> None:
    """Refuse a subscription past the link's hourly or daily allowance."""
    if share_link_id is None:
        return
    for allowed, window in ((PER_HOUR, timedelta(hours=1)), (PER_DAY, timedelta(days=1))):
        recent = db.session.scalar(
            select(func.count(DonorSubscriber.id)).where(
                DonorSubscriber.share_link_id == share_link_id,
                DonorSubscriber.created_at > now - window,
            )
        )
        if recent >= allowed:
            raise TooManySubscriptions(
                _l("Too many subscriptions through this link just now. Please try again later.")
            )


def confirm(organisation_id: int, subscriber_id: int) -> DonorSubscriber:
    """Confirm an address: the weekly report goes to it from now on. Idempotent."""
    subscriber = _get(organisation_id, subscriber_id)
    if subscriber.confirmed_at is None:
        subscriber.confirmed_at = utcnow()
    if subscriber.channel_id is None or db.session.get(Channel, subscriber.channel_id) is None:
        channel = Channel(
            organisation_id=organisation_id,
            membership_id=None,
            kind="email",
            target=subscriber.email,
            mode=REPORT_MODE,
            active=True,
        )
        db.session.add(channel)
        db.session.flush()
        subscriber.channel_id = channel.id
    db.session.flush()
    return subscriber


def unsubscribe(subscriber_id: int) -> bool:
    """Delete a subscriber, its channel and every delivery to it; False if already gone."""
    subscriber = db.session.get(DonorSubscriber, subscriber_id)
    if subscriber is None:
        return False
    channel_id = subscriber.channel_id
    db.session.delete(subscriber)
    db.session.flush()
    if channel_id is not None:
        # The address lives on in the channel and its log: both go with the subscriber.
        db.session.execute(delete(Delivery).where(Delivery.channel_id == channel_id))
        db.session.execute(delete(Channel).where(Channel.id == channel_id))
    db.session.flush()
    return True


def forget_unconfirmed(now: datetime) -> int:
    """Delete the addresses left unconfirmed for a week; return how many."""
    result = db.session.execute(
        delete(DonorSubscriber).where(
            DonorSubscriber.confirmed_at.is_(None),
            DonorSubscriber.created_at <= now - timedelta(days=CONFIRM_DAYS),
        )
    )
    db.session.flush()
    return result.rowcount or 0


def subscriber_of_channel(channel_id: int) -> DonorSubscriber | None:
    """Return the subscriber whose channel this is, if it is one."""
    return db.session.scalar(
        select(DonorSubscriber).where(DonorSubscriber.channel_id == channel_id)
    )


def channel_ids(organisation_id: int) -> set[int]:
    """Return the organisation's subscriber channels (kept out of the alert channels page)."""
    return set(db.session.scalars(alerts.donor_channels(organisation_id)))


def count(organisation_id: int) -> int:
    """Return how many confirmed addresses receive the weekly report."""
    return (
        db.session.scalar(
            select(func.count(DonorSubscriber.id)).where(
                DonorSubscriber.organisation_id == organisation_id,
                DonorSubscriber.confirmed_at.is_not(None),
            )
        )
        or 0
    )


def _get(organisation_id: int, subscriber_id: int) -> DonorSubscriber:
    # Locked: two taps on Confirm at once must not make two channels (PostgreSQL; SQLite
    # requests that write already run one at a time).
    subscriber = db.session.get(DonorSubscriber, subscriber_id, with_for_update=True)
    if subscriber is None or subscriber.organisation_id != organisation_id:
        raise NotFound(_l("This link has expired."))
    return subscriber


# --- signed links ------------------------------------------------------------------------------


def _digest(email: str) -> str:
    # SQLite may give a deleted subscriber's id to the next one: the address tells them apart.
    return hashlib.sha256(email.encode()).hexdigest()[:16]


def _payload(subscriber: DonorSubscriber) -> list[int | str]:
    return [subscriber.id, subscriber.organisation_id, _digest(subscriber.email)]


def confirm_token(secret_key: str, subscriber: DonorSubscriber) -> str:
    """Return the token of a confirmation link (it works for CONFIRM_DAYS)."""
    return URLSafeTimedSerializer(secret_key, salt=CONFIRM_SALT).dumps(_payload(subscriber))


def unsubscribe_token(secret_key: str, subscriber: DonorSubscriber) -> str:
    """Return the token of an unsubscribe link (it never expires)."""
    return URLSafeSerializer(secret_key, salt=UNSUBSCRIBE_SALT).dumps(_payload(subscriber))


def read_confirm_token(secret_key: str, token: str) -> Ticket | None:
    """Return what a confirmation token names; None when forged, garbled or too old."""
    if len(token) > MAX_TOKEN:
        return None
    serializer = URLSafeTimedSerializer(secret_key, salt=CONFIRM_SALT)
    try:
        payload = serializer.loads(token, max_age=CONFIRM_DAYS * 24 * 3600)
    except BadData:
        return None
    return _ticket(payload)


def read_unsubscribe_token(secret_key: str, token: str) -> Ticket | None:
    """Return what an unsubscribe token names; None when forged or garbled."""
    if len(token) > MAX_TOKEN:
        return None
    try:
        payload = URLSafeSerializer(secret_key, salt=UNSUBSCRIBE_SALT).loads(token)
    except BadData:
        return None
    return _ticket(payload)


def _ticket(payload: object) -> Ticket | None:
    if (
        isinstance(payload, list)
        and len(payload) == 3
        and isinstance(payload[0], int)
        and isinstance(payload[1], int)
        and isinstance(payload[2], str)
    ):
        return Ticket(payload[0], payload[1], payload[2])
    return None


def subscriber_of(ticket: Ticket) -> DonorSubscriber | None:
    """Return the subscriber a link names, if it is still there at the same address."""
    subscriber = db.session.get(DonorSubscriber, ticket.subscriber_id)
    if (
        subscriber is None
        or subscriber.organisation_id != ticket.organisation_id
        or _digest(subscriber.email) != ticket.address
    ):
        return None
    return subscriber
