"""What donors read: the needs they can meet, in euros, and how to help (the donor page)."""

from __future__ import annotations

import hashlib
import io
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from PIL import Image, UnidentifiedImageError
from sqlalchemy import func, select

from .. import limits
from ..extensions import db
from ..models import CATEGORIES, DonorPage, Item, Pledge
from ..models.types import utcnow
from . import needs as needs_service
from .accounts import EMAIL_PATTERN, normalise_email
from .errors import ValidationError

# The needs a donor sees first on a phone.
TOP_NEEDS = 3
MAX_LOGO_BYTES = 1024 * 1024
# A logo is drawn at most this many pixels on a side; larger is scaled down once, when saved.
LOGO_EDGE = 600
LOGO_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}
MAX_DROP_OFF = 300
MAX_OPENING_HOURS = 200
MAX_DONATION_URL = 500
PAGE_FIELDS = ("drop_off", "opening_hours", "donation_url", "contact_email")
URL_PATTERN = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)


@dataclass(frozen=True)
class DonorNeed:
    """One item a donor can bring: how many are short, pledged, and what they are worth."""

    item_id: int
    label: str
    category: str
    unit: str
    short: int
    pledged: int
    unit_value_eur: Decimal | None
    # unit_value_eur × short; None when the item has no value set.
    value_eur: Decimal | None
    # Critical: what we hold cannot cover the next 48 hours of distributions.
    urgent: bool
    short_by: datetime | None

    @property
    def still_needed(self) -> int:
        """Return what is short once the open pledges arrive (never below zero)."""
        return max(self.short - self.pledged, 0)


@dataclass(frozen=True)
class CategoryNeeds:
    """The needs of one category, urgent first, with their total value."""

    category: str
    needs: list[DonorNeed]
    value_eur: Decimal


@dataclass(frozen=True)
class DonorNeeds:
    """Everything a donor can bring now, by category, and its total value in euros."""

    groups: list[CategoryNeeds]
    total_eur: Decimal
    # True when some short items have no unit value, so the total leaves them out.
    total_is_partial: bool

    @property
    def all(self) -> list[DonorNeed]:
        """Return every need, most urgent first."""
        return sorted((n for g in self.groups for n in g.needs), key=_urgency)

    @property
    def top(self) -> list[DonorNeed]:
        """Return the few most urgent needs, for the head of a phone screen."""
        return self.all[:TOP_NEEDS]


@dataclass(frozen=True)
class HowToHelp:
    """The admin-edited block: where to bring goods, when, how to give money, whom to ask."""

    drop_off: str = ""
    opening_hours: str = ""
    donation_url: str = ""
    contact_email: str = ""
    logo: bytes | None = None
    logo_type: str = ""
    logo_sha256: str = ""

    @property
    def empty(self) -> bool:
        """Tell whether an admin has filled in nothing yet."""
        return not any(getattr(self, name) for name in PAGE_FIELDS) and self.logo is None


def donor_needs(organisation_id: int, now: datetime | None = None) -> DonorNeeds:
    """Return the shortfalls of donatable items, grouped by category, urgent first."""
    values = dict(
        db.session.execute(
            select(Item.id, Item.unit_value_eur).where(
                Item.organisation_id == organisation_id,
                Item.active.is_(True),
                Item.donatable.is_(True),
            )
        ).all()
    )
    pledged = open_pledged(organisation_id)
    by_category: dict[str, list[DonorNeed]] = defaultdict(list)
    partial = False
    for need in needs_service.compute_needs(organisation_id, now=now, sites=False):
        if need.item_id not in values or need.shortfall <= 0:
            continue
        unit_value = values[need.item_id]
        partial = partial or unit_value is None
        by_category[need.category].append(
            DonorNeed(
                item_id=need.item_id,
                label=need.label,
                category=need.category,
                unit=need.unit,
                short=need.shortfall,
                pledged=pledged.get(need.item_id, 0),
                unit_value_eur=unit_value,
                value_eur=None if unit_value is None else (unit_value * need.shortfall),
                urgent=need.status == "critical",
                short_by=need.short_by,
            )
        )
    groups = [
        CategoryNeeds(category, sorted(rows, key=_urgency), _total(rows))
        for category, rows in by_category.items()
    ]
    # Categories with something urgent first, then the catalogue's order.
    groups.sort(key=lambda g: (not g.needs[0].urgent, _category_order(g.category)))
    return DonorNeeds(groups, sum((g.value_eur for g in groups), Decimal(0)), partial)


def open_pledged(organisation_id: int) -> dict[int, int]:
    """Return the quantity of open pledges per item."""
    return dict(
        db.session.execute(
            select(Pledge.item_id, func.sum(Pledge.quantity))
            .where(Pledge.organisation_id == organisation_id, Pledge.status == "open")
            .group_by(Pledge.item_id)
        ).all()
    )


def _urgency(need: DonorNeed) -> tuple[Any, ...]:
    """Order urgent first, then by when it runs short, then by value."""
    runs_short = need.short_by.timestamp() if need.short_by else float("inf")
    return (not need.urgent, runs_short, -(need.value_eur or 0), need.label)


def _total(rows: list[DonorNeed]) -> Decimal:
    return sum((n.value_eur for n in rows if n.value_eur is not None), Decimal(0))


def _category_order(category: str) -> int:
    return CATEGORIES.index(category) if category in CATEGORIES else len(CATEGORIES)


# --- the how-to-help block -----------------------------------------------------------------------


def how_to_help(organisation_id: int) -> HowToHelp:
    """Return the organisation's how-to-help block (empty until an admin fills it in)."""
    page = db.session.get(DonorPage, organisation_id)
    if page is None:
        return HowToHelp()
    return HowToHelp(
        drop_off=page.drop_off,
        opening_hours=page.opening_hours,
        donation_url=page.donation_url,
        contact_email=page.contact_email,
        logo=page.logo,
        logo_type=page.logo_type,
        logo_sha256=page.logo_sha256,
    )


def logo_by_hash(sha256: str) -> DonorPage | None:
    """Return the donor page whose logo has this SHA-256."""
    return db.session.scalar(select(DonorPage).where(DonorPage.logo_sha256 == sha256).limit(1))


def save_how_to_help(
    organisation_id: int, user_id: int | None, values: dict[str, Any]
) -> DonorPage:
    """Change the fields given of the how-to-help block; those left out stay as they are."""
    clean = _clean_page(values)
    page = db.session.get(DonorPage, organisation_id)
    if page is None:
        page = DonorPage(organisation_id=organisation_id)
        db.session.add(page)
    for name, value in clean.items():
        setattr(page, name, value)
    page.updated_at = utcnow()
    page.updated_by_id = user_id
    db.session.flush()
    return page


def set_logo(organisation_id: int, user_id: int | None, data: bytes | None) -> DonorPage:
    """Keep a PNG or JPEG logo of at most 1 MB, redrawn without its metadata; None removes it."""
    fields: dict[str, Any] = {"logo": None, "logo_type": "", "logo_sha256": ""}
    if data is not None:
        clean, media_type = clean_logo(data)
        fields = {
            "logo": clean,
            "logo_type": media_type,
            "logo_sha256": hashlib.sha256(clean).hexdigest(),
        }
    page = save_how_to_help(organisation_id, user_id, {})
    for name, value in fields.items():
        setattr(page, name, value)
    db.session.flush()
    return page


def clean_logo(data: bytes) -> tuple[bytes, str]:
    """Return a logo redrawn as a fresh PNG or JPEG (no EXIF or GPS) and its media type."""
    if len(data) > MAX_LOGO_BYTES:
        raise ValidationError(_l("The logo is larger than 1 MB."), {"logo": "too large"})
    try:
        with Image.open(io.BytesIO(data), formats=tuple(LOGO_FORMATS)) as image:
            kind = image.format or "PNG"
            image.thumbnail((LOGO_EDGE, LOGO_EDGE))
            fresh = image.convert("RGBA" if kind == "PNG" else "RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ValidationError(
            _l("The logo must be a PNG or JPEG image."), {"logo": "not PNG or JPEG"}
        ) from exc
    out = io.BytesIO()
    fresh.save(out, format=kind)
    return out.getvalue(), LOGO_FORMATS[kind]


def _clean_page(values: dict[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    clean: dict[str, str] = {}
    lengths = {
        "drop_off": MAX_DROP_OFF,
        "opening_hours": MAX_OPENING_HOURS,
        "donation_url": MAX_DONATION_URL,
        "contact_email": limits.MAX_EMAIL,
    }
    for name, limit in lengths.items():
        if name not in values:
            continue
        raw = str(values[name] or "")
        # The drop-off place keeps its lines (street, then how to find the door).
        lines = [" ".join(line.split()) for line in raw.splitlines() if line.strip()]
        value = "\n".join(lines) if name == "drop_off" else " ".join(raw.split())
        if len(value) > limit:
            errors[name] = f"at most {limit} characters"
        clean[name] = value
    url = clean.get("donation_url")
    if url and not URL_PATTERN.match(url):
        errors["donation_url"] = "not a web address"
    if clean.get("contact_email"):
        clean["contact_email"] = normalise_email(clean["contact_email"])
        if not EMAIL_PATTERN.match(clean["contact_email"]):
            errors["contact_email"] = "not an e-mail address"
    if errors:
        raise ValidationError(_l("Please check the donor page's fields."), errors)
    return clean
