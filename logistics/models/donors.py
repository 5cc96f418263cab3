"""What donors read and give: the how-to-help block, pledges, and e-mail subscribers."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .catalogue import Item
from .types import UTCDateTime, utcnow

# A pledge is open until the goods are received, it is rejected, or it lapses days after its day.
PLEDGE_STATUSES = ("open", "received", "lapsed", "rejected")
PLEDGE_SOURCES = ("link", "donor")
LOGO_TYPES = ("image/png", "image/jpeg")


class DonorPage(db.Model):
    """How to help an organisation: public by its admins' choice, shown to every donor."""

    __tablename__ = "donor_page"

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), primary_key=True)
    # A public drop-off place, never a distribution point's private details.
    drop_off: Mapped[str] = mapped_column(String(300), default="", server_default="")
    opening_hours: Mapped[str] = mapped_column(String(200), default="", server_default="")
    donation_url: Mapped[str] = mapped_column(String(500), default="", server_default="")
    contact_email: Mapped[str] = mapped_column(String(254), default="", server_default="")
    logo: Mapped[bytes | None] = mapped_column(LargeBinary)
    logo_type: Mapped[str] = mapped_column(String(20), default="", server_default="")
    # Names the logo's address, so a new logo is never read from a cache as the old one.
    logo_sha256: Mapped[str] = mapped_column(String(64), default="", server_default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class Pledge(db.Model):
    """A donor's promise to bring goods on a day; never stock until it is received."""

    __tablename__ = "pledge"
    __table_args__ = (Index("ix_pledge_open", "organisation_id", "status", "expected_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    expected_on: Mapped[date] = mapped_column(Date)
    # Optional, to thank or reach the donor; deleted 30 days after the pledge closes.
    contact_email: Mapped[str | None] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(10), default="open", server_default="open")
    source: Mapped[str] = mapped_column(String(10))
    share_link_id: Mapped[int | None] = mapped_column(
        ForeignKey("share_link.id", ondelete="SET NULL"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The receipt that fulfilled it.
    movement_id: Mapped[int | None] = mapped_column(ForeignKey("stock_movement.id"))
    # Why a coordinator rejected it.
    reason: Mapped[str] = mapped_column(String(200), default="", server_default="")

    item: Mapped[Item] = relationship()


class DonorSubscriber(db.Model):
    """An address that asked for the weekly donor report; kept for that and nothing else."""

    __tablename__ = "donor_subscriber"
    __table_args__ = (UniqueConstraint("organisation_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(10), default="en", server_default="en")
    share_link_id: Mapped[int | None] = mapped_column(
        ForeignKey("share_link.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Unconfirmed addresses receive nothing but the confirmation, and are deleted after a week.
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The weekly report goes out through this channel once the address is confirmed.
    channel_id: Mapped[int | None] = mapped_column(
        ForeignKey("channel.id", ondelete="SET NULL"), index=True
    )
