"""Distributions: recurring series, their occurrences, and what each plans and gives."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .catalogue import Item, Site
from .types import UTCDateTime, utcnow

STATUSES = ("planned", "held", "disrupted", "cancelled")
# Outcomes after which goods went out and headcounts were taken.
GIVING_STATUSES = ("held", "disrupted")


class DistributionSeries(db.Model):
    """A recurring distribution: a point, a source, weekdays and a local time."""

    __tablename__ = "distribution_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    source_site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    # ISO weekdays as Python numbers: 0 = Monday … 6 = Sunday.
    weekdays: Mapped[list[int]] = mapped_column(JSON)
    local_time: Mapped[time] = mapped_column(Time)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    site: Mapped[Site] = relationship(foreign_keys=[site_id])
    source_site: Mapped[Site] = relationship(foreign_keys=[source_site_id])
    lines: Mapped[list[SeriesLine]] = relationship(
        back_populates="series", cascade="all, delete-orphan", order_by="SeriesLine.id"
    )


class SeriesLine(db.Model):
    __tablename__ = "series_line"
    __table_args__ = (UniqueConstraint("series_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("distribution_series.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    planned_quantity: Mapped[int] = mapped_column(Integer)
    # Where this line's goods come from (services.distributions gives a line that names none
    # the series' source).
    source_site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))

    series: Mapped[DistributionSeries] = relationship(back_populates="lines")
    item: Mapped[Item] = relationship()
    source_site: Mapped[Site] = relationship()


class Distribution(db.Model):
    """One distribution at a point: its plan, then what happened (counts, never people)."""

    __tablename__ = "distribution"
    __table_args__ = (
        UniqueConstraint("series_id", "local_date"),
        Index("ix_distribution_org_starts", "organisation_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    series_id: Mapped[int | None] = mapped_column(ForeignKey("distribution_series.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    source_site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The organisation-local date, so a series makes one occurrence a day.
    local_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="planned")
    # Set when someone changed this occurrence's plan; series edits then leave it alone.
    edited_by_hand: Mapped[bool] = mapped_column(default=False)
    # Recorded after the fact by a crew ("Give out now"), never planned.
    unplanned: Mapped[bool] = mapped_column(default=False, server_default=false())
    headcount: Mapped[int | None] = mapped_column(Integer)
    headcount_minors: Mapped[int | None] = mapped_column(Integer)
    headcount_women: Mapped[int | None] = mapped_column(Integer)
    outcome_note: Mapped[str] = mapped_column(Text, default="")
    outcome_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome_recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    site: Mapped[Site] = relationship(foreign_keys=[site_id])
    source_site: Mapped[Site] = relationship(foreign_keys=[source_site_id])
    series: Mapped[DistributionSeries | None] = relationship()
    lines: Mapped[list[DistributionLine]] = relationship(
        back_populates="distribution", cascade="all, delete-orphan", order_by="DistributionLine.id"
    )


class DistributionLine(db.Model):
    __tablename__ = "distribution_line"
    __table_args__ = (UniqueConstraint("distribution_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    distribution_id: Mapped[int] = mapped_column(ForeignKey("distribution.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    planned_quantity: Mapped[int] = mapped_column(Integer, default=0)
    given_quantity: Mapped[int | None] = mapped_column(Integer)
    # Set when the kitchen lead chose this count: series edits leave it alone.
    planned_by_hand: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Where this line's goods come from (meals from the kitchen, blankets from the warehouse);
    # services.distributions gives a line that names none the distribution's source.
    source_site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))

    distribution: Mapped[Distribution] = relationship(back_populates="lines")
    item: Mapped[Item] = relationship()
    source_site: Mapped[Site] = relationship()
