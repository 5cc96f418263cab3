"""The demo organisation: six weeks of believable history for `flask seed-demo`.

data.py holds the organisation's people, sites, items, rounds and recipes; story.py tells what
happened to them, through the same services as real use.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from ..extensions import db
from ..models import MEAL_UNITS, ROLES, Item, Organisation, User
from ..models.types import utcnow
from ..services import accounts, catalogue, distributions, donors, pledges
from .data import (
    ALIASES,
    CATALOGUE,
    DEMO_NAME,
    DEMO_PASSWORD,
    DEMO_SLUG,
    DEMO_TIMEZONE,
    DISPLAY_NAMES,
    DONOR_PAGE,
    NAMES_FR,
    PLEDGES,
    SHELF_DAYS,
    SITES,
)
from .story import SEED, Story

__all__ = ["DEMO_NAME", "DEMO_PASSWORD", "DEMO_SLUG", "demo_logins", "seed"]


def demo_logins() -> list[tuple[str, str]]:
    """Return the demo logins as (e-mail, role), one per role."""
    return [(f"{role}@{DEMO_SLUG}.example.org", role) for role in ROLES]


def seed(if_empty: bool, locale: str = "en") -> bool:
    """Build the demo organisation; False (and nothing done) when it cannot or need not.

    locale is the language its members read ("fr" for a look at the French pages); the
    story, its figures and what volunteers wrote in it are the same in either.
    """
    if if_empty and db.session.scalar(select(Organisation.id).limit(1)) is not None:
        return False
    # Running it twice must not fail half-way: the demo is already there.
    if db.session.scalar(select(Organisation.id).where(Organisation.slug == DEMO_SLUG)):
        return False
    organisation = accounts.create_organisation(DEMO_NAME, DEMO_SLUG, DEMO_TIMEZONE, locale)
    users = _members(organisation.id)
    # Holding the objects keeps them in the session's identity map, so the ledger's
    # look-ups by id do not go back to the database for every movement.
    sites = {
        key: catalogue.save_site(
            organisation.id, {"name": name, "kind": kind, "area": area, "details": details}
        )
        for key, (name, kind, area, details) in SITES.items()
    }
    items = {
        key: _save_item(organisation.id, *row, name_fr=NAMES_FR[key], dated=key in SHELF_DAYS)
        for key, row in CATALOGUE.items()
    }
    for key, names in ALIASES.items():
        items[key].aliases = "\n".join(names)
    Story(organisation.id, users, sites, items, random.Random(SEED), utcnow()).tell()
    _donors(organisation.id, users["admin"], users["donor"], items)
    return True


def _donors(organisation_id: int, admin_id: int, donor_id: int, items: dict[str, Item]) -> None:
    """Fill in how to help, and the pledges donors made for the coming days."""
    donors.save_how_to_help(organisation_id, admin_id, DONOR_PAGE)
    today = distributions.local_today(organisation_id)
    for key, quantity, days in PLEDGES:
        pledges.make_pledge(
            organisation_id,
            item_id=items[key].id,
            quantity=quantity,
            expected_on=today + timedelta(days=days),
            contact_email=None,
            source="donor",
            user_id=donor_id,
            today=today,
        )


def _members(organisation_id: int) -> dict[str, int]:
    """Add one member per role; return their user ids by role."""
    users: dict[str, int] = {}
    shared_hash = None
    for email, role in demo_logins():
        name = DISPLAY_NAMES[role]
        if shared_hash is None:
            membership = accounts.add_member(
                organisation_id, email, role, password=DEMO_PASSWORD, display_name=name
            )
            shared_hash = db.session.get(User, membership.user_id).password_hash
        else:
            # Every demo login has the same published password: hash it once, not five times
            # (a strong hash costs a good part of a second each, on every `make run`).
            db.session.add(User(email=email, password_hash=shared_hash, display_name=name))
            membership = accounts.add_member(organisation_id, email, role)
        users[role] = membership.user_id
    return users


def _save_item(
    organisation_id: int,
    name: str,
    category: str,
    unit: str,
    size: str,
    min_stock: int,
    cover_days: int,
    value: str,
    per_person_per_day: str | None,
    *,
    name_fr: str,
    dated: bool = False,
) -> Item:
    values = {
        "name": name,
        "name_fr": name_fr,
        "category": category,
        "unit": unit,
        "size": size,
        "min_stock": min_stock,
        "cover_target_days": cover_days,
        "unit_value_eur": Decimal(value),
        "per_person_per_day": per_person_per_day and Decimal(per_person_per_day),
        # The kitchens make the meals: donors bring what goes into them, not the meals.
        "donatable": unit not in MEAL_UNITS,
        "dated": dated,
    }
    return catalogue.save_item(organisation_id, values)
