"""Template helpers: the current membership, role checks and local times."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from flask_babel import gettext as _
from flask_babel import ngettext

from . import i18n, wording
from .auth import current_membership
from .forms import distributions as distribution_forms
from .forms import incidents as incident_forms
from .forms import needs as needs_forms
from .forms import stock as stock_forms
from .forms.admin import ROLE_LABELS
from .forms.catalogue import CATEGORY_LABELS, SITE_KIND_LABELS
from .menu import menu_for
from .permissions import can
from .services import alerts


def local_time(value: datetime | None, style: str = "date_time") -> str:
    """Show a UTC time in the organisation's time zone, as the reader's language writes it.

    `style` names one of i18n.PATTERNS ("time", "day_time"...) or is a CLDR pattern.
    """
    return i18n.when(value, style)


def mask_url(url: str) -> str:
    """Show a webhook URL without its path: a Slack or bot URL is itself a secret."""
    parts = urlsplit(url)
    tail = parts.path[-4:] if len(parts.path) > 8 else ""
    return f"{parts.scheme}://{parts.netloc}/…{tail}"


BROWSERS = (("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari"))
SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Windows", "Windows"),
    ("Mac OS X", "Mac"),
    ("Linux", "Linux"),
)


def device_name(user_agent: str) -> str:
    """Name a signed-in device from its browser's User-Agent ("Firefox on Android")."""
    browser = next((name for mark, name in BROWSERS if mark in user_agent), None)
    system = next((name for mark, name in SYSTEMS if mark in user_agent), None)
    if browser and system:
        return _("%(browser)s on %(system)s", browser=browser, system=system)
    return browser or system or (user_agent[:60] if user_agent else _("Unknown device"))


def role_label(role: str) -> str:
    """Name a role in the reader's language: "Warehouse volunteer"."""
    return label("role", role)


# Every machine value shown to people, by what it is: label("category", "bedding") reads
# "Bedding" / "Literie". The maps live beside the forms that offer the same values.
LABELS: dict[str, dict[str, Any]] = {
    "role": ROLE_LABELS,
    "category": CATEGORY_LABELS,
    "site_kind": SITE_KIND_LABELS,
    "incident_kind": incident_forms.KIND_LABELS,
    "incident_action": incident_forms.ACTION_LABELS,
    "incident_origin": incident_forms.ORIGIN_LABELS,
    "tristate": incident_forms.TRISTATE_LABELS,
    "movement_kind": stock_forms.MOVEMENT_KIND_LABELS,
    "loss_reason": stock_forms.LOSS_REASON_LABELS,
    "distribution_status": distribution_forms.STATUS_LABELS,
    "need_status": needs_forms.NEED_STATUS_LABELS,
    "severity": needs_forms.SEVERITY_LABELS,
    "alert_change": needs_forms.CHANGE_LABELS,
    "delivery_status": needs_forms.DELIVERY_STATUS_LABELS,
    "channel_kind": needs_forms.CHANNEL_KIND_LABELS,
    "channel_mode": needs_forms.CHANNEL_MODE_LABELS,
}


def label(kind: str, value: str | None) -> str:
    """Name a machine value in the reader's language: label("movement_kind", "transfer_in")."""
    if value is None:
        return ""
    found = LABELS[kind].get(value)
    return str(found) if found is not None else value


def yes_no(value: object) -> str:
    """Say yes or no in the reader's language."""
    return _("yes") if value else _("no")


# The common units, singular, through ngettext as wording.unit_word says their plurals.
_UNIT_ONE = {
    "piece": lambda: ngettext("piece", "pieces", 1),
    "pair": lambda: ngettext("pair", "pairs", 1),
    "litre": lambda: ngettext("litre", "litres", 1),
    "liter": lambda: ngettext("litre", "litres", 1),
    "meal": lambda: ngettext("meal", "meals", 1),
    "box": lambda: ngettext("box", "boxes", 1),
    "bag": lambda: ngettext("bag", "bags", 1),
    "pack": lambda: ngettext("pack", "packs", 1),
    "bottle": lambda: ngettext("bottle", "bottles", 1),
    "roll": lambda: ngettext("roll", "rolls", 1),
}


def unit(value: str | None, quantity: float = 1) -> str:
    """Write an item's unit in the reader's language, for a quantity: piece / pieces / kg."""
    clean = (value or "").strip()
    if quantity != 1:
        return wording.unit_word(quantity, clean)
    one = _UNIT_ONE.get(clean.lower())
    return one() if one is not None else clean


def init_app(app: Flask) -> None:
    """Register filters and the context every page gets."""
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(mask_url, "mask_url")
    app.add_template_filter(device_name, "device_name")
    app.add_template_global(role_label, "role_label")
    app.add_template_global(label, "label")
    app.add_template_filter(yes_no, "yes_no")
    app.add_template_filter(unit, "unit")

    @app.context_processor
    def _context() -> dict[str, Any]:
        membership = current_membership()
        role = membership.role if membership else None
        criticals = (
            alerts.open_critical_count(membership.organisation_id) if can(role, "view_needs") else 0
        )
        return {
            "membership": membership,
            "may": lambda capability: can(role, capability),
            "open_criticals": criticals,
            "menu": menu_for(role),
        }
