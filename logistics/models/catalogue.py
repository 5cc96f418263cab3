"""Sites and the item catalogue of an organisation."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..i18n import localised_name
from .types import UTCDateTime, utcnow

SITE_KINDS = ("warehouse", "kitchen", "distribution_point")
CATEGORIES = (
    "shelter",
    "bedding",
    "water",
    "food",
    "ingredient",
    "clothing",
    "hygiene",
    "other",
)


class Site(db.Model):
    __tablename__ = "site"
    __table_args__ = (
        UniqueConstraint("organisation_id", "name"),
        # One main warehouse per organisation: where forms start when a user has no last site.
        Index(
            "uq_site_one_main",
            "organisation_id",
            unique=True,
            sqlite_where=text("main"),
            postgresql_where=text("main"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(30))
    # Public: the town or district. Private: where exactly (never shown to donors).
    area: Mapped[str] = mapped_column(String(120))
    details: Mapped[str] = mapped_column(Text, default="")
    main: Mapped[bool] = mapped_column(default=False, server_default=false())
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def item_label(
    name: str, size: str, name_fr: str | None = None, language: str | None = None
) -> str:
    """Return an item's name in the reader's language with its size: "Shoes (42)"."""
    shown = localised_name(name, name_fr, language)
    return f"{shown} ({size})" if size else shown


class Item(db.Model):
    __tablename__ = "item"
    __table_args__ = (UniqueConstraint("organisation_id", "name", "size"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    # The French name, shown to French readers when given ("Duvet" for "Sleeping bag").
    name_fr: Mapped[str] = mapped_column(String(120), default="", server_default="")
    category: Mapped[str] = mapped_column(String(30))
    unit: Mapped[str] = mapped_column(String(30), default="piece")
    # A size or variant makes a separate item ("Shoes" 41, 42, 43); empty when none.
    size: Mapped[str] = mapped_column(String(40), default="")
    min_stock: Mapped[int] = mapped_column(Integer, default=0)
    cover_target_days: Mapped[int] = mapped_column(Integer, default=7)
    unit_value_eur: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    per_person_per_day: Mapped[Decimal | None] = mapped_column(Numeric(10, 3))
    # Other names people type for it, one per line ("duvet", "sleeping bags").
    aliases: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Whether donors can bring it: not what the organisation makes itself (hot meals).
    donatable: Mapped[bool] = mapped_column(default=True, server_default=true())
    # Food and medicine with a best-before date: held per date (a lot), given out earliest first.
    dated: Mapped[bool] = mapped_column(default=False, server_default=false())
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def label(self) -> str:
        """Name in the reader's language with its size, as people say it: "Shoes (42)"."""
        return item_label(self.name, self.size, self.name_fr)
