"""Benchmark 11: pages that read the ledger cost the same on five years of history as on 60 days.

Two SQLite files with the same recent activity: the full 1M ledger (five years), and its last
60 days alone after an opening stocktake that gives every level its balance of that moment
(`generate.ensure_sqlite(1_000_000, recent_days=60)`: the same movements, times, quantities
and final levels since then). Every page and API read that reads the ledger is timed on both,
interleaved round after round (Flask test client, logged in as the coordinator through
/login; the API with a Bearer token): the ledger page, GET /api/v1/movements, an item's
history (the busiest item at the busiest site's), the needs page and API, and stock as of
30 days and 5 years back (GET /api/v1/stock/as-of). Target: 1M time ÷ 60-days time ≤ 1.2,
and for stock as of a past date ≤ 100 ms on the 1M ledger (issue 19). Five years back the
60-day file held nothing yet: its answer is empty (53 bytes against 427 KB), so that ratio is
shown without a target: it compares answers, not histories. What bounds that read is the
100 ms, and 30 days back, where both files answer the same 10,000 levels, the ratio.
"Now" for as-of is the end of the generated ledger, so a cached file gives the same figures.

`python -m bench.history` runs it alone (`--repeat N`, `--only needs`).
"""

from __future__ import annotations

import argparse
import os
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import text

from . import Result, bare_flask_client, bare_flask_request, interleaved
from .generate import ensure_sqlite
from .ledger import fetch
from .pages import Scale, close_scale, open_scale

TARGET = 1.2
AS_OF_TARGET = 0.100  # seconds: stock as of any date up to five years back
RECENT_DAYS = 60
ROLE = "coordinator"  # reads the ledger, needs and every item's history


def _paths(ledger: Scale) -> list[tuple[str, str, bool]]:
    """Return (name, path, through the API) for every ledger-reading read, from this file."""
    from logistics.extensions import db

    with ledger.app.app_context():
        busiest = db.session.execute(
            text(
                "SELECT site_id, item_id FROM stock_movement GROUP BY site_id, item_id "
                "ORDER BY count(*) DESC LIMIT 1"
            )
        ).one()
        end = db.session.execute(text("SELECT max(occurred_at) FROM stock_movement")).scalar_one()
        db.session.remove()
    end_at = datetime.fromisoformat(str(end)).replace(tzinfo=None)

    def as_of(days: int) -> str:
        at = (end_at - timedelta(days=days)).isoformat() + "+00:00"
        return "/api/v1/stock/as-of?" + urlencode({"at": at})

    return [
        ("GET /ledger", "/ledger", False),
        ("GET /api/v1/movements", "/api/v1/movements", True),
        ("GET /items/…/history (busiest item)", f"/items/{busiest.item_id}/history", False),
        ("GET /needs", "/needs", False),
        ("GET /api/v1/needs", "/api/v1/needs", True),
        ("stock as of 30 days back (API)", as_of(30), True),
        ("stock as of 5 years back (API)", as_of(5 * 365 - 1), True),
    ]


def run(full_url: str, recent_url: str, repeat: int, only: str = "",
        log: Any = print) -> list[Result]:  # fmt: skip
    """Time every ledger-reading read on five years and on 60 days of the same ledger."""
    full = open_scale("1M", full_url, ROLE)
    recent = open_scale(f"{RECENT_DAYS} days", recent_url, ROLE)
    log(
        f"history: {full.movements:,} movements over five years against "
        f"{recent.movements:,} (the last {RECENT_DAYS} days after an opening stocktake)"
    )
    try:
        floor = bare_flask_request(bare_flask_client())
        results: list[Result] = []
        for (name, path, api), (_, recent_path, _) in zip(
            _paths(full), _paths(recent), strict=True
        ):
            if only and only not in path:
                continue
            actions = {"1M": fetch(full, path, api), "recent": fetch(recent, recent_path, api)}
            sizes = {label: action() for label, action in actions.items()}
            timings = interleaved({"floor": floor, **actions}, repeat)
            ratio = timings["1M"].median / timings["recent"].median
            # The same answer on both files, or the ratio compares answers, not histories.
            comparable = sizes["1M"] == sizes["recent"] or "as of" not in name
            log(
                f"  {name}: 1M {timings['1M'].median * 1000:.1f} ms, {RECENT_DAYS} days "
                f"{timings['recent'].median * 1000:.1f} ms ({ratio:.2f}x); answers "
                f"{sizes['1M']:,} and {sizes['recent']:,} bytes"
            )
            results.append(
                Result(
                    "11",
                    f"{name}: 1M ledger ÷ {RECENT_DAYS} days of history "
                    f"({timings['1M'].median * 1000:,.1f} vs "
                    f"{timings['recent'].median * 1000:,.1f} ms)",
                    ratio,
                    "x",
                    target=f"≤ {TARGET}" if comparable else "(answers differ)",
                    passed=ratio <= TARGET if comparable else None,
                    best=timings["1M"].best / timings["recent"].best,
                )
            )
            if "as of" in name:
                # The issue's own bound for a past date, whatever the history behind it.
                results.append(
                    Result(
                        "11",
                        f"{name}, 1M ledger",
                        timings["1M"].median,
                        "s",
                        floor=timings["floor"].median,
                        floor_name="bare Flask request",
                        target="≤ 100 ms",
                        passed=timings["1M"].median <= AS_OF_TARGET,
                        best=timings["1M"].best,
                    )
                )
        return results
    finally:
        close_scale(full)
        close_scale(recent)


def run_cached(repeat: int, only: str = "") -> list[Result]:
    """Run on the cached files (generating the 60-day one the first time: about 30 s)."""
    full = ensure_sqlite(1_000_000)
    recent = ensure_sqlite(1_000_000, recent_days=RECENT_DAYS)
    return run(f"sqlite:///{full}", f"sqlite:///{recent}", repeat, only)


def main() -> None:
    """Run the history checks alone."""
    from . import table

    parser = argparse.ArgumentParser(prog="python -m bench.history", description=__doc__)
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--only", default="", help="only the paths containing this")
    args = parser.parse_args()
    print(table(run_cached(args.repeat, args.only)))


if __name__ == "__main__":
    os.environ.setdefault("LOGISTICS_SCHEDULER", "off")
    main()
