"""Monthly level snapshots: what each site held of each item at the start of each month."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime


class SnapshotTaken(db.Model):
    """One moment an organisation's levels were written down (every level, zeros left out)."""

    __tablename__ = "snapshot_taken"
    __table_args__ = (UniqueConstraint("organisation_id", "taken_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LevelSnapshot(db.Model):
    """What a site held of an item at a moment: the sum of its movements up to that moment.

    Derived from the ledger (check_ledger proves it): stock as of a past date starts from the
    nearest later snapshot instead of walking back from today through years of movements.
    A movement recorded later with an earlier time moves the snapshots after it too.
    """

    __tablename__ = "level_snapshot"
    __table_args__ = (
        UniqueConstraint("site_id", "item_id", "taken_at"),
        Index("ix_level_snapshot_org_taken", "organisation_id", "taken_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    quantity: Mapped[int] = mapped_column(Integer)
