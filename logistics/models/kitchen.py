"""Kitchens: recipes per 100 meals, the recipe chosen for a day, and what was cooked."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .catalogue import Item, Site
from .types import UTCDateTime, utcnow

# Units that make an item a meal: cooked at a kitchen, planned per distribution.
MEAL_UNITS = ("meal", "meals")


class Recipe(db.Model):
    """A dish: ingredients per 100 meals, and what eaters should know about it."""

    __tablename__ = "recipe"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    dietary_notes: Mapped[str] = mapped_column(String(300), default="")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lines: Mapped[list[RecipeLine]] = relationship(
        back_populates="recipe", cascade="all, delete-orphan", order_by="RecipeLine.id"
    )


class RecipeLine(db.Model):
    """One ingredient of a recipe, in the item's base unit (kg, litre, piece) per 100 meals."""

    __tablename__ = "recipe_line"
    __table_args__ = (UniqueConstraint("recipe_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipe_id: Mapped[int] = mapped_column(ForeignKey("recipe.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    # Decimal: 13.6 kg of onions per 100 meals is a real figure; demand is rounded up.
    quantity_per_100: Mapped[Decimal] = mapped_column(Numeric(12, 3))

    recipe: Mapped[Recipe] = relationship(back_populates="lines")
    item: Mapped[Item] = relationship()


class MenuChoice(db.Model):
    """The recipe a kitchen cooks for the meals of one local date."""

    __tablename__ = "menu_choice"
    __table_args__ = (UniqueConstraint("site_id", "local_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    local_date: Mapped[date] = mapped_column(Date)
    recipe_id: Mapped[int] = mapped_column(ForeignKey("recipe.id"))
    chosen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    chosen_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    site: Mapped[Site] = relationship()
    recipe: Mapped[Recipe] = relationship()


class Cooking(db.Model):
    """One cooking session: meals made at a kitchen from one or more recipes."""

    __tablename__ = "cooking"
    __table_args__ = (Index("ix_cooking_org_occurred", "organisation_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("site.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"))
    meals: Mapped[int] = mapped_column(Integer)
    # [{"recipe_id", "name", "meals"}]: the split, as it was when cooked.
    recipes: Mapped[list[dict]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    site: Mapped[Site] = relationship()
    item: Mapped[Item] = relationship()
