"""Benchmarks 1 and 2: the stock overview page and GET /api/v1/stock at 10k and 1M movements.

Both read today's levels, never the ledger, so their time must not grow with the ledger:
the 1M/10k ratio is held to ≤ 1.5. Both ledgers have the same 10,000 non-zero levels, so
the pages are the same size and only the ledger behind them differs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from . import Result, bare_flask_client, bare_flask_request, interleaved
from .generate import PASSWORD, make_app, member_email

SCALE_TARGET = 1.5
ROLE = "warehouse"  # staff: the overview links every row to its history


@dataclass
class Scale:
    """One generated database, with a logged-in page client and an API token."""

    label: str
    app: Flask
    client: Any
    headers: dict[str, str]
    movements: int


def open_scale(label: str, url: str, role: str = ROLE) -> Scale:
    """Create the app on a generated database, log in through /login as the role, make a token."""
    from logistics.database import write_intent
    from logistics.extensions import db
    from logistics.models import StockMovement
    from logistics.services import accounts

    app = make_app(url)
    with app.app_context():
        user = accounts.user_by_email(member_email(role))
        if user is None:
            raise SystemExit(f"{url} has no generated organisation; regenerate it")
        membership = user.memberships[0]
        with write_intent():
            token = accounts.create_token(membership.id, "benchmark")
            db.session.commit()
        movements = db.session.scalar(select(func.count()).select_from(StockMovement))
        db.session.remove()
    # No app context is held from here on: each request pushes its own, as in production.
    client = app.test_client()
    response = client.post("/login", data={"email": member_email(role), "password": PASSWORD})
    if response.status_code != 302:
        raise SystemExit(f"login failed with {response.status_code} on {url}")
    return Scale(label, app, client, {"Authorization": f"Bearer {token}"}, int(movements or 0))


def close_scale(scale: Scale) -> None:
    """Release the database connections of a scale."""
    from logistics.extensions import db

    with scale.app.app_context():
        db.engine.dispose()


def overview(scale: Scale) -> Callable[[], int]:
    """Return an action fetching the stock overview page; it answers the page size."""

    def action() -> int:
        response = scale.client.get("/")
        if response.status_code != 200:
            raise AssertionError(f"GET / answered {response.status_code}")
        return len(response.data)

    return action


def api_stock(scale: Scale) -> Callable[[], int]:
    """Return an action fetching GET /api/v1/stock; it answers the number of levels."""

    def action() -> int:
        response = scale.client.get("/api/v1/stock", headers=scale.headers)
        if response.status_code != 200:
            raise AssertionError(f"GET /api/v1/stock answered {response.status_code}")
        return len(response.get_json()["levels"])

    return action


def run(small_url: str, large_url: str, repeat: int, engine: str, log: Any = print) -> list[Result]:
    """Measure both reads at both sizes, interleaved, beside a bare Flask request."""
    small = open_scale("10k", small_url)
    large = open_scale("1M", large_url)
    try:
        floor = bare_flask_request(bare_flask_client())
        results: list[Result] = []
        for number, name, make in (
            ("1", "GET / (stock overview)", overview),
            ("2", "GET /api/v1/stock", api_stock),
        ):
            sizes = {s.label: make(s)() for s in (small, large)}
            log(f"{name}: answer size 10k={sizes['10k']:,}, 1M={sizes['1M']:,}")
            timings = interleaved({"floor": floor, "10k": make(small), "1M": make(large)}, repeat)
            for scale in (small, large):
                results.append(
                    Result(
                        number,
                        f"{name}, {scale.movements:,} movements, {engine}",
                        timings[scale.label].median,
                        "s",
                        floor=timings["floor"].median,
                        floor_name="bare Flask request",
                        best=timings[scale.label].best,
                    )
                )
            ratio = timings["1M"].median / timings["10k"].median
            results.append(
                Result(
                    number,
                    f"{name}: 1M time / 10k time, {engine}",
                    ratio,
                    "x",
                    target=f"≤ {SCALE_TARGET}",
                    passed=ratio <= SCALE_TARGET,
                    best=timings["1M"].best / timings["10k"].best,
                )
            )
        return results
    finally:
        close_scale(small)
        close_scale(large)
