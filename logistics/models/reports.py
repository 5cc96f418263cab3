"""Generated PDF reports, archived with their SHA-256, and donors' share links."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime, utcnow

REPORT_KINDS = ("shortfall", "evidence", "stocktake", "run_sheet", "kitchen")
# A queued report waits for the scheduler, runs (pages counted as they are laid out), then is
# ready with its file, or failed with a short reason. Reports made at once are ready at once.
REPORT_STATUSES = ("queued", "running", "ready", "failed")


class Report(db.Model):
    """One generated PDF in the archive."""

    __tablename__ = "report"
    __table_args__ = (
        # A scheduled report is made once per organisation and period, however often the job runs.
        UniqueConstraint("organisation_id", "schedule_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    # The language it is written in, chosen when asked for (default: the organisation's).
    locale: Mapped[str] = mapped_column(String(10), default="en", server_default="en")
    # Relative to the reports folder: <organisation slug>/<kind>-<date>.pdf; set once ready.
    file_path: Mapped[str | None] = mapped_column(String(500))
    sha256: Mapped[str | None] = mapped_column(String(64))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    schedule_key: Mapped[str | None] = mapped_column(String(40))
    # When it was asked for (or made, when made at once).
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    status: Mapped[str] = mapped_column(
        String(10), default="ready", server_default="ready", index=True
    )
    pages: Mapped[int | None] = mapped_column(Integer)  # so far while running; all when ready
    failure: Mapped[str | None] = mapped_column(String(200))
    # Runs started: a run cut short (the scheduler stopped) is tried again once, not forever.
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def ready(self) -> bool:
        """Tell whether the PDF is archived and can be read."""
        return self.status == "ready"


class ShareLink(db.Model):
    """A link for donors without an account; only the token's hash is kept."""

    __tablename__ = "share_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
