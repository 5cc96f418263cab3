"""Benchmark 8: the ledger page and GET /api/v1/movements, newest first, on the 1M ledger.

A page shows the newest 100 movements of the organisation (optionally of one kind or one
site). With an (organisation_id, id) index the database reads those 100 rows from the end of
the index; without one it sorts the organisation's whole ledger first. The 1M time is held
to ≤ 1.5 × the same page on the 10k ledger (whose movements are all opening adjustments), and
the plans are printed with the figures. Kind and site together read one index and filter on
the other: shown, not held to the ratio.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import text

from . import Result, bare_flask_client, bare_flask_request, interleaved
from .pages import Scale, close_scale, open_scale

SCALE_TARGET = 1.5
# The page's filters, as the ledger page and the API send them ({site} is the busiest site):
# name, path, through the API, held to the ratio.
PAGES = (
    ("GET /ledger", "/ledger", False, True),
    ("GET /ledger?kind=adjustment", "/ledger?kind=adjustment", False, True),
    ("GET /ledger?site_id=…", "/ledger?site_id={site}", False, True),
    ("GET /api/v1/movements", "/api/v1/movements", True, True),
    (
        "GET /api/v1/movements?kind=adjustment&site_id=…",
        "/api/v1/movements?kind=adjustment&site_id={site}",
        True,
        False,
    ),
)
PLAN_SQL = (
    "SELECT id FROM stock_movement WHERE organisation_id = :org {extra} ORDER BY id DESC LIMIT 101"
)


def fetch(scale: Scale, path: str, api: bool) -> Callable[[], int]:
    """Return an action fetching one page; it answers the size of the answer."""
    headers = scale.headers if api else {}

    def action() -> int:
        response = scale.client.get(path, headers=headers)
        if response.status_code != 200:
            raise AssertionError(f"GET {path} answered {response.status_code}")
        return len(response.data)

    return action


def busiest_site(scale: Scale) -> int:
    """Return the site with the most movements (the one a site filter pays most for)."""
    from logistics.extensions import db

    with scale.app.app_context():
        site = db.session.execute(
            text(
                "SELECT site_id FROM stock_movement GROUP BY site_id ORDER BY count(*) DESC LIMIT 1"
            )
        ).scalar_one()
        db.session.remove()
    return int(site)


def plans(scale: Scale, site: int) -> list[str]:
    """Return the database's plan of the unfiltered, kind and site queries."""
    from logistics.extensions import db

    lines = []
    with scale.app.app_context():
        org = db.session.execute(text("SELECT min(id) FROM organisation")).scalar_one()
        sqlite = db.engine.dialect.name == "sqlite"
        for extra in ("", "AND kind = 'loss'", f"AND site_id = {site}"):
            prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
            rows = db.session.execute(text(prefix + PLAN_SQL.format(extra=extra)), {"org": org})
            steps = [str(row[-1]) for row in rows]
            lines.append(f"  {extra or 'no filter'}: " + " / ".join(s.strip() for s in steps))
        db.session.remove()
    return lines


def run(small_url: str, large_url: str, repeat: int, engine: str, log: Any = print) -> list[Result]:
    """Measure each ledger page at 10k and 1M movements, interleaved, beside a bare request."""
    small = open_scale("10k", small_url)
    large = open_scale("1M", large_url)
    try:
        sites = {s.label: busiest_site(s) for s in (small, large)}
        for line in plans(large, sites["1M"]):
            log(line)
        floor = bare_flask_request(bare_flask_client())
        results: list[Result] = []
        for name, path, api, held in PAGES:
            actions = {
                s.label: fetch(s, path.format(site=sites[s.label]), api) for s in (small, large)
            }
            timings = interleaved({"floor": floor, **actions}, repeat)
            results.append(
                Result(
                    "8",
                    f"{name}, {large.movements:,} movements, {engine}",
                    timings["1M"].median,
                    "s",
                    floor=timings["floor"].median,
                    floor_name="bare Flask request",
                    best=timings["1M"].best,
                )
            )
            ratio = timings["1M"].median / timings["10k"].median
            results.append(
                Result(
                    "8",
                    f"{name}: 1M time / 10k time, {engine}",
                    ratio,
                    "x",
                    target=f"≤ {SCALE_TARGET}" if held else "",
                    passed=ratio <= SCALE_TARGET if held else None,
                    best=timings["1M"].best / timings["10k"].best,
                )
            )
        return results
    finally:
        close_scale(small)
        close_scale(large)


if __name__ == "__main__":
    import argparse

    from . import table
    from .generate import ensure_sqlite

    parser = argparse.ArgumentParser(prog="python -m bench.ledger", description=__doc__)
    parser.add_argument("--repeat", type=int, default=21)
    args = parser.parse_args()
    small_file = ensure_sqlite(10_000)
    large_file = ensure_sqlite(1_000_000)
    print(table(run(f"sqlite:///{small_file}", f"sqlite:///{large_file}", args.repeat, "SQLite")))
