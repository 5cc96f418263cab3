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
# Opened, worse, better, gone; "updated" when an eviction's counts are corrected; "expired"
# when an eviction's replacement is past due (recorded, never sent).
CHANGES = ("opened", "escalated", "eased", "resolved", "updated", "expired")
# What an alert is about: an item short across the organisation, a planned distribution whose
# sources do not hold its lines, the replacement an eviction calls for, or a lot of a dated
# item near its best-before date.
ALERT_KINDS = ("item", "distribution", "eviction", "expiry")
CHANNEL_KINDS = ("email", "webhook")
CHANNEL_MODES = ("immediate", "digest")
# A member's subscription to the weekly donor report (e-mail with the PDF).
REPORT_MODE = "report"
KIT_BASES = ("shelter", "person")


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
    """A shortage, open until it is met. One open alert per subject (its key)."""

    __tablename__ = "alert"
    __table_args__ = (
        Index(
            "uq_alert_one_open_per_key",
            "organisation_id",
            "key",
            unique=True,
            sqlite_where=text("resolved_at IS NULL"),
            postgresql_where=text("resolved_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="item", server_default="item")
    # "item:12", "distribution:345", "incident:7": what the alert is about, one open per key.
    key: Mapped[str] = mapped_column(String(60))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("item.id"))
    distribution_id: Mapped[int | None] = mapped_column(ForeignKey("distribution.id"))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incident.id"))
    severity: Mapped[str] = mapped_column(String(10))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The figures of the latest change, so the page shows why without recomputing.
    figures: Mapped[dict] = mapped_column(JSON)

    item: Mapped[Item | None] = relationship()
    changes: Mapped[list[AlertChange]] = relationship(
        back_populates="alert", order_by="AlertChange.id"
    )

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class AlertBatch(db.Model):
    """The alert changes of one check: each channel gets one message listing those it wants."""

    __tablename__ = "alert_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    changes: Mapped[list[AlertChange]] = relationship(
        back_populates="batch", order_by="AlertChange.id"
    )


class AlertChange(db.Model):
    """Opened, escalated, eased, resolved (or an eviction updated), with its figures."""

    __tablename__ = "alert_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id"), index=True)
    # The check that made the change; none for changes made before batches existed.
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("alert_batch.id"), index=True)
    change: Mapped[str] = mapped_column(String(10))
    severity: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    figures: Mapped[dict] = mapped_column(JSON)

    alert: Mapped[Alert] = relationship(back_populates="changes")
    batch: Mapped[AlertBatch | None] = relationship(back_populates="changes")


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
    """One message to one channel: a batch of alert changes, a digest or a report. Sent once."""

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("channel_id", "alert_change_id"),
        UniqueConstraint("channel_id", "batch_id"),
        UniqueConstraint("channel_id", "digest_date"),
        UniqueConstraint("channel_id", "report_id"),
        Index("ix_delivery_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id"))
    # A single change: deliveries queued before batches existed.
    alert_change_id: Mapped[int | None] = mapped_column(ForeignKey("alert_change.id"))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("alert_batch.id"))
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
    batch: Mapped[AlertBatch | None] = relationship()


class NeedsChange(db.Model):
    """A mark that a write changed what an organisation holds or has committed.

    Written with the change (one per organisation per transaction, insert-only so writers never
    wait on each other); the shortage check reads the marks, checks, and deletes them.
    """

    __tablename__ = "needs_change"
    __table_args__ = (Index("ix_needs_change_org", "organisation_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReplacementKitLine(db.Model):
    """What replaces one destroyed shelter, or what one affected person needs, of one item."""

    __tablename__ = "replacement_kit_line"
    __table_args__ = (UniqueConstraint("organisation_id", "basis", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    # "shelter": per shelter destroyed; "person": per person affected.
    basis: Mapped[str] = mapped_column(String(10))
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    quantity: Mapped[int] = mapped_column(Integer)

    item: Mapped[Item] = relationship()


class JobLock(db.Model):
    """A lock row per scheduled job, for SQLite (PostgreSQL uses advisory locks)."""

    __tablename__ = "job_lock"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120), default="")
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
