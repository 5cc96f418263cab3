"""The append-only stock ledger, the levels kept in step with it, and submission tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .catalogue import Item, Site
from .types import UTCDateTime, utcnow

MOVEMENT_KINDS = (
    "donation",
    "purchase",
    "transfer_in",
    "transfer_out",
    "distribution",
    "loss",
    "adjustment",
    "production",
    "consumption",
    "reversal",
    # Stock sent to or received from a partner organisation (models/shipping.py).
    "shipment_out",
    "shipment_in",
)


class StockMovement(db.Model):
    """One change of stock. Never updated or deleted; corrected by a reversal."""

    __tablename__ = "stock_movement"
    __table_args__ = (
        Index("ix_stock_movement_org_occurred", "organisation_id", "occurred_at"),
        Index("ix_stock_movement_item_occurred", "item_id", "occurred_at"),
        # Covers check-ledger's sums: no table read for a million movements.
        Index("ix_stock_movement_site_item", "site_id", "item_id", "quantity"),
        # The ledger page and GET /movements: newest first, of one kind or one site. Read
        # backwards from the end, so a page costs 100 rows, not a sort of the whole ledger.
        Index("ix_stock_movement_org_id", "organisation_id", "id"),
        Index("ix_stock_movement_org_kind_id", "organisation_id", "kind", "id"),
        Index("ix_stock_movement_org_site_id", "organisation_id", "site_id", "id"),
        # The needs' use of the last 28 days: the given-out, lost and cooked rows of those days
        # alone, read from the index (a federation's month holds 15,000 movements, 6,000 used).
        Index(
            "ix_stock_movement_org_kind_occurred",
            "organisation_id",
            "kind",
            "occurred_at",
            "item_id",
            "site_id",
            "quantity",
        ),
        CheckConstraint("quantity <> 0", name="quantity_not_zero"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    quantity: Mapped[int] = mapped_column(Integer)  # signed: + in, - out
    kind: Mapped[str] = mapped_column(String(20))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    source: Mapped[str] = mapped_column(String(200), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    transfer_group: Mapped[str | None] = mapped_column(String(36), index=True)
    distribution_id: Mapped[int | None] = mapped_column(ForeignKey("distribution.id"), index=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incident.id"), index=True)
    cooking_id: Mapped[int | None] = mapped_column(ForeignKey("cooking.id"), index=True)
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipment.id"), index=True)
    # Unique: a movement is reversed at most once.
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("stock_movement.id"), unique=True)

    site: Mapped[Site] = relationship()
    item: Mapped[Item] = relationship()


class StockLevel(db.Model):
    """Current quantity of one item at one site; always the sum of its movements."""

    __tablename__ = "stock_level"
    __table_args__ = (
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        # With the quantity, the needs' held per item is read from the index alone (a
        # federation's 10,000 levels: 3.6 to 1.0 ms).
        Index("ix_stock_level_org_item_quantity", "organisation_id", "item_id", "quantity"),
    )

    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    quantity: Mapped[int] = mapped_column(Integer, default=0)

    site: Mapped[Site] = relationship()
    item: Mapped[Item] = relationship()


class Submission(db.Model):
    """A request token seen once per organisation, with its sender and answer (idempotency)."""

    __tablename__ = "submission"
    __table_args__ = (UniqueConstraint("organisation_id", "request_token"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    request_token: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(40))
    # Who sent the token: only they get its answer back. NULL on rows older than 0009.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    result: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
