"""Boxes on shelves, partner organisations, and shipments between them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .catalogue import Item, Site
from .types import UTCDateTime, utcnow

SHIPMENT_STATUSES = ("draft", "sent", "received")


class Box(db.Model):
    """A labelled box of one item on a shelf; the ledger, not the box, holds the stock."""

    __tablename__ = "box"
    __table_args__ = (UniqueConstraint("organisation_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    # Printed on the label: short, for a person to read out ("B-0042").
    code: Mapped[str] = mapped_column(String(20))
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    emptied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    site: Mapped[Site] = relationship()
    item: Mapped[Item] = relationship()


class Partnership(db.Model):
    """Two organisations that ship to each other: asked by one admin, accepted by the other."""

    __tablename__ = "partnership"
    __table_args__ = (UniqueConstraint("organisation_id", "partner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The organisation whose admin asked.
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class Shipment(db.Model):
    """Goods sent from one organisation's site to a partner: a record both of them read."""

    __tablename__ = "shipment"
    __table_args__ = (Index("ix_shipment_to", "to_organisation_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    to_organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    from_site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    # The partner's site that received it.
    to_site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"))
    status: Mapped[str] = mapped_column(String(10), default="draft", server_default="draft")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    lines: Mapped[list[ShipmentLine]] = relationship(
        back_populates="shipment", order_by="ShipmentLine.id"
    )


class ShipmentLine(db.Model):
    """One item of a shipment: what was sent, and what the partner counted on arrival."""

    __tablename__ = "shipment_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipment.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    # The partner's own item for this line, and how many arrived.
    received_item_id: Mapped[int | None] = mapped_column(ForeignKey("item.id"))
    received: Mapped[int | None] = mapped_column(Integer)

    shipment: Mapped[Shipment] = relationship(back_populates="lines")
