"""Template helpers: the current membership, role checks and local times."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask

from .auth import current_membership
from .permissions import can


def local_time(value: datetime | None, fmt: str = "%d %b %Y %H:%M") -> str:
    """Show a UTC time in the organisation's time zone."""
    if value is None:
        return ""
    membership = current_membership()
    zone = ZoneInfo(membership.organisation.timezone if membership else "Europe/Paris")
    return value.astimezone(zone).strftime(fmt)


def init_app(app: Flask) -> None:
    """Register filters and the context every page gets."""
    app.add_template_filter(local_time, "local_time")

    @app.context_processor
    def _context() -> dict[str, Any]:
        membership = current_membership()
        role = membership.role if membership else None
        return {
            "membership": membership,
            "may": lambda capability: can(role, capability),
        }
