"""Take several lines out of stock at once: all of them, or none and name every short one.

Distribution outcomes, cooking and incident losses share this rule (docs/principles.md,
"Stock never silently goes negative").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from . import ledger
from .errors import InsufficientStock, sentences


@dataclass(frozen=True)
class Take:
    """One line leaving a site: a positive quantity and the movement it writes."""

    site_id: int
    item_id: int
    quantity: int
    kind: str
    occurred_at: datetime | None
    note: str
    distribution_id: int | None = None
    incident_id: int | None = None
    cooking_id: int | None = None


def take_all(
    organisation_id: int,
    user_id: int | None,
    takes: Iterable[Take],
    refusal: Any,
    fields: dict[str, Any],
) -> None:
    """Write every take, or raise one InsufficientStock naming each line that is short.

    Call it inside a savepoint (`db.session.begin_nested()`): leaving the block with the
    error rolls back the lines that were written, so nothing is half-recorded.
    """
    shortages = []
    for take in takes:
        try:
            ledger.record(
                organisation_id,
                user_id,
                site_id=take.site_id,
                item_id=take.item_id,
                quantity=-take.quantity,
                kind=take.kind,
                occurred_at=take.occurred_at,
                note=take.note,
                distribution_id=take.distribution_id,
                incident_id=take.incident_id,
                cooking_id=take.cooking_id,
            )
        except InsufficientStock as short:
            shortages.append(short.reason)
    if shortages:
        raise InsufficientStock(sentences(refusal, *shortages), fields)
