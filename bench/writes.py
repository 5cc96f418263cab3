"""Benchmark 4: write throughput through the ledger service (≥ 800/s and ≥ 0.1 × the floor).

One donation per transaction through services.ledger.receive, committed each time inside
write_intent() (BEGIN IMMEDIATE on SQLite), as a busy warehouse phone would. The floor is
the same work in raw SQL: one INSERT and one COMMIT per row into a table of the same shape
(columns, constraints and indexes copied from stock_movement) in the same database file,
with the same pragmas. SQLite runs on a copy of the 1M ledger, so the cached file is kept.
`python -m bench.writes` runs this benchmark alone on SQLite.
"""

from __future__ import annotations

import random
import sqlite3
import tempfile
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from . import Result, interleaved, rate_target
from .generate import ORG_SLUG, make_app, member_email

TARGET_RATE = 800
# The service may cost at most ten raw INSERTs: the unit of work is paid for, not unbounded.
TARGET_SHARE_OF_FLOOR = 0.1
TARGET = f"≥ {TARGET_RATE:,}/s, {rate_target(TARGET_SHARE_OF_FLOOR)}"
FLOOR_TABLE = "floor_movement"
FLOOR_COLUMNS = (
    "organisation_id",
    "site_id",
    "item_id",
    "quantity",
    "kind",
    "occurred_at",
    "recorded_at",
    "recorded_by_id",
    "source",
    "note",
)


def _floor_insert(mark: str) -> str:
    marks = ", ".join(mark for _ in FLOOR_COLUMNS)
    return f"INSERT INTO {FLOOR_TABLE} ({', '.join(FLOOR_COLUMNS)}) VALUES ({marks})"


def run(url: str, per_round: int, repeat: int, engine: str, log: Any = print) -> list[Result]:
    """Measure service writes and the raw-SQL floor, round after round."""
    scratch = None
    if engine == "SQLite":
        scratch = Path(tempfile.mkdtemp(prefix="logistics-bench-writes-")) / "ledger.sqlite3"
        _copy_sqlite(make_url(url).database or "", scratch)
        url = f"sqlite:///{scratch}"
    app = make_app(url)
    with app.app_context():
        service_round, written = _service_round(per_round)
        floor_round, close_floor = (
            _sqlite_floor(scratch, per_round) if scratch else _postgres_floor(url, per_round)
        )
        try:
            timings = interleaved(
                {"floor": floor_round, "service": service_round}, repeat, warmup=1
            )
        finally:
            close_floor()
        log(f"writes: {written():,} movements recorded through the service")
        from logistics.extensions import db

        db.session.remove()
        db.engine.dispose()
    if scratch:
        for path in scratch.parent.iterdir():
            path.unlink()
        scratch.parent.rmdir()
    rate = per_round / timings["service"].median
    floor = per_round / timings["floor"].median
    met = rate >= TARGET_RATE and rate >= TARGET_SHARE_OF_FLOOR * floor
    return [
        Result(
            "4",
            f"ledger.receive + commit, one per transaction, {engine}",
            rate,
            "/s",
            floor=floor,
            floor_name="raw INSERT + COMMIT",
            target=TARGET if engine == "SQLite" else "",
            passed=met if engine == "SQLite" else None,
            best=per_round / timings["service"].best,
        )
    ]


def _copy_sqlite(source: str, target: Path) -> None:
    """Copy a live SQLite database page by page (safe with WAL)."""
    with sqlite3.connect(source) as origin, sqlite3.connect(target) as copy:
        origin.backup(copy)
    origin.close()
    copy.close()


def _service_round(per_round: int) -> tuple[Callable[[], None], Callable[[], int]]:
    """Return an action recording per_round donations, each committed, and a counter."""
    from sqlalchemy import select

    from logistics.database import write_intent
    from logistics.extensions import db
    from logistics.models import Item, Site
    from logistics.services import accounts, ledger

    org_id = accounts.organisation_by_slug(ORG_SLUG).id
    user = accounts.user_by_email(member_email("warehouse"))
    assert user is not None
    user_id = user.id
    sites = list(
        db.session.scalars(
            # Donations arrive at the stores, not at the distribution points.
            select(Site.id).where(
                Site.organisation_id == org_id, Site.kind.in_(("warehouse", "kitchen"))
            )
        )
    )
    items = list(db.session.scalars(select(Item.id).where(Item.organisation_id == org_id)))
    # Dated food (one item in eighteen) comes with its best-before date, into its lot.
    dated = set(db.session.scalars(select(Item.id).where(Item.dated.is_(True))))
    db.session.rollback()
    rng = random.Random(4)
    count = [0]
    today = date.today()

    def action() -> None:
        with write_intent():
            for _ in range(per_round):
                item = rng.choice(items)
                ledger.receive(
                    org_id,
                    user_id,
                    site_id=rng.choice(sites),
                    item_id=item,
                    quantity=rng.randint(1, 50),
                    source="Benchmark donation",
                    best_before=today + timedelta(days=rng.randint(30, 700))
                    if item in dated
                    else None,
                )
                db.session.commit()
        count[0] += per_round

    return action, lambda: count[0]


def _floor_row(rng: random.Random, ids: tuple[int, int, int], as_text: bool) -> tuple[Any, ...]:
    """Return one donation row like the service writes: ids, quantity, kind, times, source."""
    org_id, site_id, user_id = ids
    now: Any = datetime.now(UTC).replace(tzinfo=None)
    if as_text:  # SQLite stores times as text; the app's driver formats them the same way
        now = now.isoformat(" ", "microseconds")
    item_id = rng.randint(1, 500)
    quantity = rng.randint(1, 50)
    return (org_id, site_id, item_id, quantity, "donation", now, now, user_id, "Benchmark", "")


FLOOR_IDS = (
    "SELECT o.id, s.id, u.id FROM organisation o JOIN site s ON s.organisation_id = o.id, "
    "user_account u WHERE u.email = %s AND s.kind = 'warehouse' ORDER BY s.id LIMIT 1"
)


def _floor_ids(cursor: Any) -> tuple[int, int, int]:
    org_id, site_id, user_id = cursor.fetchone()
    return int(org_id), int(site_id), int(user_id)


def _warehouse() -> str:
    return member_email("warehouse")


def _sqlite_floor(
    path: Path | None, per_round: int
) -> tuple[Callable[[], None], Callable[[], None]]:
    """Return the raw sqlite3 floor action on a same-shaped table, and its closer."""
    assert path is not None
    connection = sqlite3.connect(path, isolation_level=None)
    # The app's own pragmas (logistics.database.configure_engine).
    for pragma in (
        "busy_timeout = 30000",
        "foreign_keys = ON",
        "journal_mode = WAL",
        "synchronous = NORMAL",
    ):
        connection.execute(f"PRAGMA {pragma}")
    ddl = connection.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name = 'stock_movement' AND sql IS NOT NULL "
        "ORDER BY type DESC"
    ).fetchall()
    for (statement,) in ddl:
        connection.execute(statement.replace("stock_movement", FLOOR_TABLE))
    insert = _floor_insert("?")
    ids = _floor_ids(connection.execute(FLOOR_IDS.replace("%s", "?"), (_warehouse(),)))
    rng = random.Random(4)

    def action() -> None:
        for _ in range(per_round):
            connection.execute("BEGIN IMMEDIATE")
            connection.execute(insert, _floor_row(rng, ids, as_text=True))
            connection.execute("COMMIT")

    return action, connection.close


def _postgres_floor(url: str, per_round: int) -> tuple[Callable[[], None], Callable[[], None]]:
    """Return the raw psycopg floor action on a same-shaped table, and its closer."""
    import psycopg

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = psycopg.connect(dsn)
    connection.execute(
        f"CREATE TABLE {FLOOR_TABLE} (LIKE stock_movement INCLUDING ALL)"  # keeps the indexes
    )
    ids = _floor_ids(connection.execute(FLOOR_IDS, (_warehouse(),)))
    connection.commit()
    insert = _floor_insert("%s")
    rng = random.Random(4)

    def action() -> None:
        for _ in range(per_round):
            connection.execute(insert, _floor_row(rng, ids, as_text=False))
            connection.commit()

    def close() -> None:
        connection.execute(f"DROP TABLE {FLOOR_TABLE}")
        connection.commit()
        connection.close()

    return action, close


def main() -> None:
    """Run the write benchmark alone on the cached 1M SQLite ledger and print its row."""
    import argparse

    from . import table
    from .generate import ensure_sqlite

    parser = argparse.ArgumentParser(prog="python -m bench.writes", description=__doc__)
    parser.add_argument("--writes", type=int, default=500, help="movements per write round")
    parser.add_argument("--repeat", type=int, default=10, help="timed rounds (median)")
    args = parser.parse_args()
    url = f"sqlite:///{ensure_sqlite(1_000_000)}"
    print(table(run(url, args.writes, args.repeat, "SQLite")))


if __name__ == "__main__":
    main()
