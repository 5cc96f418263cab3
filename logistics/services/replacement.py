"""The replacement kit, and the demand evictions add: what replaces each shelter destroyed."""

from __future__ import annotations

from datetime import datetime


def demand(organisation_id: int, now: datetime) -> dict[int, list[tuple[datetime, int]]]:
    """Return per item the (due, quantity) of replacement still due after recent evictions."""
    return {}
