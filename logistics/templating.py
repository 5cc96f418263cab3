"""Template helpers: the current membership, role checks and local times."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask import Flask

from .auth import current_membership
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


def init_app(app: Flask) -> None:
    """Register filters and the context every page gets."""
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(mask_url, "mask_url")

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
        }
