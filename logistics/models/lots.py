"""Best-before lots: what a site holds of a dated item per date, and what each movement drew."""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class StockLot(db.Model):
    """What a site holds of a dated item with one best-before date.

    Beside stock_level, never instead of it: the lots of a (site, item) add up to at most its
    level, and what they leave is undated (held before the item was marked dated, counted up,
    or come from a partner). Moved only by the ledger, with the lot draws that explain it.
    """

    __tablename__ = "stock_lot"
    __table_args__ = (
        UniqueConstraint("site_id", "item_id", "best_before"),
        CheckConstraint("quantity >= 0", name="ck_stock_lot_not_negative"),
        Index("ix_stock_lot_org_best_before", "organisation_id", "best_before"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), index=True)
    best_before: Mapped[date] = mapped_column(Date)
    quantity: Mapped[int] = mapped_column(Integer, default=0)


class LotDraw(db.Model):
    """How much one movement put into (+) or took from (−) one lot. Never updated or deleted."""

    __tablename__ = "lot_draw"
    __table_args__ = (Index("ix_lot_draw_lot", "site_id", "item_id", "best_before"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    movement_id: Mapped[int] = mapped_column(ForeignKey("stock_movement.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    best_before: Mapped[date] = mapped_column(Date)
    quantity: Mapped[int] = mapped_column(Integer)
