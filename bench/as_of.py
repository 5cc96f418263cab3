"""Benchmark 3: stock as of 30 days ago on the 1,000,000-movement ledger (target ≤ 100 ms).

levels_as_of starts from today's levels and subtracts what moved since, so its floor is
reading today's levels (services.stock.levels). "Now" is the end of the generated ledger,
so a cached file gives the same figure whatever day it is run.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from . import Result, interleaved
from .generate import ORG_SLUG, make_app

TARGET_SECONDS = 0.100


def run(url: str, repeat: int, engine: str, log: Any = print) -> list[Result]:
    """Time levels_as_of 30 days and one year back, beside today's levels."""
    from logistics.extensions import db
    from logistics.models import StockMovement
    from logistics.services import accounts, stock

    app = make_app(url)
    with app.app_context():
        org_id = accounts.organisation_by_slug(ORG_SLUG).id
        end = db.session.scalar(select(func.max(StockMovement.occurred_at)))
        total = db.session.scalar(select(func.count()).select_from(StockMovement))
        month, year = end - timedelta(days=30), end - timedelta(days=365)
        for label, at in (("30 days", month), ("1 year", year)):
            since = db.session.scalar(
                select(func.count())
                .select_from(StockMovement)
                .where(StockMovement.occurred_at > at)
            )
            log(f"as of {label} back: {since:,} of {total:,} movements to walk back")
        db.session.rollback()

        def as_of(at: Any) -> Any:
            def action() -> None:
                stock.levels_as_of(org_id, at)
                db.session.rollback()  # end the read transaction, as a request would

            return action

        def today() -> None:
            stock.levels(org_id, include_zero=True)
            db.session.rollback()

        timings = interleaved({"floor": today, "month": as_of(month), "year": as_of(year)}, repeat)
        db.session.remove()
        db.engine.dispose()
    floor = {"floor": timings["floor"].median, "floor_name": "levels() today"}
    return [
        Result(
            "3",
            f"levels_as_of(30 days ago), {total:,} movements, {engine}",
            timings["month"].median,
            "s",
            target="≤ 100 ms",
            passed=timings["month"].median <= TARGET_SECONDS,
            best=timings["month"].best,
            **floor,
        ),
        Result(
            "3",
            f"levels_as_of(1 year ago), {total:,} movements, {engine} (for scale)",
            timings["year"].median,
            "s",
            best=timings["year"].best,
            **floor,
        ),
    ]
