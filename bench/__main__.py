"""Run every benchmark: `python -m bench` (SQLite), `python -m bench --postgres` (both).

PostgreSQL runs when --postgres is given or LOGISTICS_BENCH_POSTGRES_URL is set; the URL names
a server and a database to connect to, and the benchmark creates and drops databases of its own.
The HTTP benchmark (9: gunicorn and wrk, then 12: a slowed phone in Chromium), the history
checks (11) and the 16 writers (10) run after the in-process set; `--quick` shortens them,
`--skip-http`, `--skip-history` and `--skip-writers` leave them out.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from . import (
    Result,
    as_of,
    history,
    ledger,
    machine,
    pages,
    reports,
    shortages,
    slow_phone,
    table,
    writers,
    writes,
)
from . import http as http_bench
from .generate import DATA_DIR, ensure_sqlite, generate

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SMALL, LARGE = 10_000, 1_000_000


def main() -> int:
    """Run the SQLite set, then the PostgreSQL set when asked; print one table."""
    args = _arguments()
    started = time.perf_counter()
    info = machine()
    load_before = _load()
    results: list[Result] = []
    if not args.skip_sqlite:
        results += sqlite_set(args)
        results += reports_set(args)
        results += scale_set(args)
    postgres_url = args.postgres or os.environ.get("LOGISTICS_BENCH_POSTGRES_URL")
    if postgres_url:
        info["postgresql"] = _postgres_version(postgres_url)
        results += postgres_set(postgres_url, args)
    elapsed = time.perf_counter() - started
    info["load average (1 min) before, after"] = f"{load_before}, {_load()}"
    print()
    print("Machine: " + ", ".join(f"{key} {value}" for key, value in info.items()))
    print(table(results))
    print(f"Whole run: {elapsed:.0f} s. Figures are medians of {args.repeat} repetitions.")
    _save(results, info, elapsed, args)
    missed = [r for r in results if r.passed is False]
    return 1 if missed and args.strict else 0


def sqlite_set(args: argparse.Namespace) -> list[Result]:
    """Generate (or reuse) the two SQLite ledgers and measure everything on them."""
    _section("SQLite")
    small = f"sqlite:///{ensure_sqlite(SMALL, regenerate=args.regenerate)}"
    large = f"sqlite:///{ensure_sqlite(LARGE, regenerate=args.regenerate)}"
    return _measure(small, large, "SQLite", args)


def scale_set(args: argparse.Namespace) -> list[Result]:
    """Measure over HTTP, on a short history against the long one, and with 16 writers."""
    results: list[Result] = []
    if not args.skip_history:
        _section("History: 1M ledger against its last 60 days")
        results += _isolated(history.run_cached, 5 if args.quick else 11)
    if not args.skip_writers:
        _section("16 writers, SQLite")
        results += _isolated(writers.run_sqlite, 1.5 if args.quick else writers.SECONDS)
    if not args.skip_http:
        _section("HTTP: gunicorn (2 workers) and wrk")
        duration = 1.0 if args.quick else http_bench.DURATION
        results += _isolated(http_bench.run, duration)
        _section("A phone on a slow connection: Chromium, 250 kbit/s, 300 ms")
        results += _isolated(slow_phone.run, 3 if args.quick else slow_phone.VISITS)
    return results


def reports_set(args: argparse.Namespace) -> list[Result]:
    """Measure the PDF reports (SQLite scratch and cached files; the engine barely matters)."""
    _section("Reports")
    results = _isolated(reports.run_shortfall, args.repeat)
    if not args.skip_evidence:
        # Each render runs in a fresh interpreter of its own, for its peak memory.
        results += reports.run_evidence(regenerate=args.regenerate)
    return results


def postgres_set(server_url: str, args: argparse.Namespace) -> list[Result]:
    """Generate both ledgers in databases of our own on the server, measure, drop them."""
    _section("PostgreSQL")
    with (
        _postgres_database(server_url, "10k") as small,
        _postgres_database(server_url, "1m") as large,
    ):
        for url, movements in ((small, SMALL), (large, LARGE)):
            generate(url, movements)
        results = _measure(small, large, "PostgreSQL", args)
    if not args.skip_writers:
        _section("16 writers, PostgreSQL")
        seconds = 1.5 if args.quick else writers.SECONDS
        results += _isolated(writers.run_postgres, server_url, seconds)
    return results


def _measure(small: str, large: str, engine: str, args: argparse.Namespace) -> list[Result]:
    results = _isolated(pages.run, small, large, args.repeat, engine)
    results += _isolated(ledger.run, small, large, args.repeat, engine)
    results += _isolated(as_of.run, large, args.repeat, engine)
    # Before the writes, which add movements: "now" is the end of the generated ledger.
    shortage_results = _isolated(shortages.run, large, args.repeat, engine)
    results += _isolated(writes.run, large, args.writes, max(5, args.repeat // 2), engine)
    return results + shortage_results


def _isolated(benchmark: Callable[..., list[Result]], *args: Any) -> list[Result]:
    """Run one benchmark in a fresh interpreter, clear of the others' objects and caches."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(benchmark, *args).result()


@contextmanager
def _postgres_database(server_url: str, label: str) -> Iterator[str]:
    """Create a database of our own on the server; drop it afterwards."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"logistics_bench_{label}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _postgres_version(server_url: str) -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(server_url)
    with engine.connect() as connection:
        version = connection.execute(text("SHOW server_version")).scalar_one()
    engine.dispose()
    return str(version).split()[0]


def _save(results: list[Result], info: dict[str, str], elapsed: float, args: Any) -> None:
    """Keep the last run's figures as JSON beside the generated data (git-ignored)."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = DATA_DIR / "latest.json"
    path.write_text(
        json.dumps(
            {
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": info,
                "repeat": args.repeat,
                "seconds": round(elapsed),
                "results": [r.as_dict() for r in results],
                "table": table(results),
            },
            indent=2,
        )
    )
    print(f"Saved to {path}")


def _load() -> str:
    """Return the 1-minute load average: other work on the machine skews the figures."""
    return f"{os.getloadavg()[0]:.2f}"


def _section(title: str) -> None:
    print(f"\n== {title} ==", flush=True)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--postgres",
        nargs="?",
        const=DEFAULT_POSTGRES_URL,
        help=f"also run on PostgreSQL (default server: {DEFAULT_POSTGRES_URL})",
    )
    parser.add_argument("--skip-sqlite", action="store_true", help="run PostgreSQL only")
    parser.add_argument("--repeat", type=int, default=21, help="timed repetitions (median)")
    parser.add_argument("--writes", type=int, default=500, help="movements per write round")
    parser.add_argument("--regenerate", action="store_true", help="ignore the cached files")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--skip-http", action="store_true", help="leave out gunicorn and wrk")
    parser.add_argument("--skip-history", action="store_true", help="leave out 1M vs 60 days")
    parser.add_argument("--skip-writers", action="store_true", help="leave out the 16 writers")
    parser.add_argument(
        "--quick", action="store_true", help="shorter HTTP, history and writer runs"
    )
    parser.add_argument(
        "--skip-evidence",
        action="store_true",
        help="leave out the ten-year evidence report (minutes on a slow machine)",
    )
    return parser.parse_args()


if __name__ == "__main__":
    sys.exit(main())
