"""Template helpers: the current membership, role checks and local times."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from flask_babel import gettext as _

from . import i18n, wording
from .auth import current_membership
from .labels import label, role_label, yes_no
from .menu import menu_for
from .models.types import utcnow
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


def unit(value: str | None, quantity: float = 1) -> str:
    """Write an item's unit in the reader's language, for a quantity: piece / pieces / kg."""
    return wording.unit_word(quantity, value or "")


def init_app(app: Flask) -> None:
    """Register filters and the context every page gets."""
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(mask_url, "mask_url")
    app.add_template_filter(device_name, "device_name")
    app.add_template_global(role_label, "role_label")
    app.add_template_global(label, "label")
    app.add_template_filter(yes_no, "yes_no")
    app.add_template_filter(unit, "unit")
    app.add_template_global(utcnow, "now")

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
