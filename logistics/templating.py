"""Template helpers: the current membership, role checks and local times."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import Flask
from flask_babel import gettext as _

from .auth import current_membership
from .menu import menu_for
from .permissions import can
from .services import alerts


def local_time(value: datetime | None, fmt: str = "%d %b %Y %H:%M") -> str:
    """Show a UTC time in the organisation's time zone."""
    if value is None:
        return ""
    membership = current_membership()
    zone = ZoneInfo(membership.organisation.timezone if membership else "Europe/Paris")
    return value.astimezone(zone).strftime(fmt)


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


def init_app(app: Flask) -> None:
    """Register filters and the context every page gets."""
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(mask_url, "mask_url")
    app.add_template_filter(device_name, "device_name")

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
