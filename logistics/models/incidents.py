"""Incidents: evictions and destruction, what was lost, amendments and evidence."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .catalogue import Item, Site
from .types import UTCDateTime, utcnow

INCIDENT_KINDS = (
    "eviction",
    "police_destruction",
    "seizure",
    "gas_contamination",
    "weather",
    "fire",
    "theft",
    "spoilage",
    "other",
)
LINE_ORIGINS = ("from_stock", "after_distribution")
LINE_ACTIONS = ("destroyed", "seized", "slashed", "contaminated")
TRISTATE = ("yes", "no", "unknown")


class Incident(db.Model):
    """One eviction or loss event, as observers record it. Counts of people, never people."""

    __tablename__ = "incident"
    __table_args__ = (
        Index("ix_incident_org_occurred", "organisation_id", "occurred_at"),
        # The needs read the last day's recorded incidents (replacement due): without this
        # they read every incident of ten years.
        Index("ix_incident_org_created", "organisation_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(30))
    area: Mapped[str] = mapped_column(String(120))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"))
    forces_present: Mapped[str] = mapped_column(Text, default="")
    bailiff_present: Mapped[str] = mapped_column(String(10), default="unknown")
    interpreter_present: Mapped[str] = mapped_column(String(10), default="unknown")
    legal_basis_shown: Mapped[str] = mapped_column(String(10), default="unknown")
    shelter_offered: Mapped[str] = mapped_column(String(10), default="unknown")
    people_affected: Mapped[int | None] = mapped_column(Integer)
    shelters_affected: Mapped[int | None] = mapped_column(Integer)
    witnesses: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    site: Mapped[Site | None] = relationship()
    lines: Mapped[list[IncidentLine]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", order_by="IncidentLine.id"
    )
    amendments: Mapped[list[IncidentAmendment]] = relationship(
        order_by="IncidentAmendment.id", viewonly=True
    )
    evidence: Mapped[list[Evidence]] = relationship(order_by="Evidence.id", viewonly=True)

    @property
    def locked(self) -> bool:
        return self.locked_at is not None

    @property
    def affected(self) -> tuple[int, int]:
        """Return (people, shelters) affected, as the latest amendment that counted corrected."""
        people, shelters = self.people_affected or 0, self.shelters_affected or 0
        for amendment in self.amendments:
            if amendment.people_affected is not None:
                people = amendment.people_affected
            if amendment.shelters_affected is not None:
                shelters = amendment.shelters_affected
        return people, shelters


class IncidentLine(db.Model):
    """Items lost: from our stock (a loss movement) or given out earlier (no movement)."""

    __tablename__ = "incident_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    origin: Mapped[str] = mapped_column(String(30))
    action: Mapped[str] = mapped_column(String(20))
    marked_property: Mapped[bool] = mapped_column(default=False)
    # from_stock: the site the stock was taken from.
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"))
    # after_distribution: where it had been given, when known.
    distribution_id: Mapped[int | None] = mapped_column(ForeignKey("distribution.id"))

    incident: Mapped[Incident] = relationship(back_populates="lines")
    item: Mapped[Item] = relationship()
    site: Mapped[Site | None] = relationship()


class IncidentAmendment(db.Model):
    """An append-only note added to a locked incident: who, when, what."""

    __tablename__ = "incident_amendment"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    text: Mapped[str] = mapped_column(Text)
    # Counts a locked record corrects: the record stays as it was, the amendment says better.
    people_affected: Mapped[int | None] = mapped_column(Integer)
    shelters_affected: Mapped[int | None] = mapped_column(Integer)


class Evidence(db.Model):
    """A photo, video or document of an incident, stored once by its SHA-256."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), index=True)
    file_name: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    # A small JPEG made from a photo, without its metadata (no GPS), stored by its own hash;
    # None for what is not a photo. The original stays untouched as evidence.
    thumbnail_sha256: Mapped[str | None] = mapped_column(String(64))
    captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
