"""People estimates, shortage alerts, the channels that carry them, and each delivery."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .catalogue import Item
from .types import UTCDateTime, utcnow

SEVERITIES = ("warning", "critical")
CHANGES = ("opened", "escalated", "resolved")
CHANNEL_KINDS = ("email", "webhook")
CHANNEL_MODES = ("immediate", "digest")
# A member's subscription to the weekly donor report (e-mail with the PDF).
REPORT_MODE = "report"


class PeopleEstimate(db.Model):
    """How many people an area has, as a coordinator estimates it on a date (a count)."""

    __tablename__ = "people_estimate"
    __table_args__ = (Index("ix_people_estimate_org_area", "organisation_id", "area", "as_of"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    area: Mapped[str] = mapped_column(String(120))
    people: Mapped[int] = mapped_column(Integer)
    as_of: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class Alert(db.Model):
    """A shortage of one item, open until the item recovers. One open alert per item."""

    __tablename__ = "alert"
    __table_args__ = (
        Index(
            "uq_alert_one_open_per_item",
            "organisation_id",
            "item_id",
            unique=True,
            sqlite_where=text("resolved_at IS NULL"),
            postgresql_where=text("resolved_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    severity: Mapped[str] = mapped_column(String(10))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The figures of the latest change, so the page shows why without recomputing.
    figures: Mapped[dict] = mapped_column(JSON)

    item: Mapped[Item] = relationship()
    changes: Mapped[list[AlertChange]] = relationship(
        back_populates="alert", order_by="AlertChange.id"
    )

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class AlertChange(db.Model):
    """Opened, escalated or resolved, with the figures that caused it."""

    __tablename__ = "alert_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id"), index=True)
    change: Mapped[str] = mapped_column(String(10))
    severity: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    figures: Mapped[dict] = mapped_column(JSON)

    alert: Mapped[Alert] = relationship(back_populates="changes")


class Channel(db.Model):
    """Where alerts go: an e-mail address or a webhook; a member's own address or the group's."""

    __tablename__ = "channel"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    # Set when the channel is one member's own subscription.
    membership_id: Mapped[int | None] = mapped_column(ForeignKey("membership.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    target: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(200), default="")
    min_severity: Mapped[str] = mapped_column(String(10), default="warning")
    mode: Mapped[str] = mapped_column(String(10), default="immediate")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Delivery(db.Model):
    """One message to one channel: an alert change, a day's digest or a report. Sent once."""

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("channel_id", "alert_change_id"),
        UniqueConstraint("channel_id", "digest_date"),
        UniqueConstraint("channel_id", "report_id"),
        Index("ix_delivery_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id"))
    alert_change_id: Mapped[int | None] = mapped_column(ForeignKey("alert_change.id"))
    digest_date: Mapped[date | None] = mapped_column(Date)
    report_id: Mapped[int | None] = mapped_column(ForeignKey("report.id"))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A sender claims a delivery until this time, so two schedulers never send it twice.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    channel: Mapped[Channel] = relationship()
    alert_change: Mapped[AlertChange | None] = relationship()


class JobLock(db.Model):
    """A lock row per scheduled job, for SQLite (PostgreSQL uses advisory locks)."""

    __tablename__ = "job_lock"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120), default="")
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
