"""Engine set-up: SQLite pragmas, write transactions, and the dialect helpers services use."""

from __future__ import annotations

import contextvars
import logging
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from .extensions import db

log = logging.getLogger(__name__)
T = TypeVar("T")
# PostgreSQL aborts a transaction with these when it only lost a race with another one
# (deadlock detected; could not serialise access): the same work, run again, can succeed.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
RETRY_ATTEMPTS = 5
RETRY_PAUSE_SECONDS = 0.02
# SQLite's advice for long-lived connections (3.40): run PRAGMA optimize now and then. It
# analyses only the tables this connection queried whose statistics are missing or stale
# (grown 25-fold); ANALYSIS_LIMIT keeps each such ANALYZE to milliseconds on a 1M ledger.
OPTIMIZE_EVERY_SECONDS = 3600.0
ANALYSIS_LIMIT = 400
# Each connection's page cache (SQLite's default is 2 MB). A federation's ledger is hundreds of
# megabytes and its needs read a month of it at each request: with 2 MB every read went back
# to the file (5.4 ms for a month's use at 1M movements, 3.4 ms with 32 MB). Filled as pages
# are read, so a small database never takes it.
CACHE_KIB = 32768

# On SQLite a transaction that reads first and writes later can fail at once with
# "database is locked" when another writer got in between. Requests and jobs that
# intend to write therefore start their transaction with BEGIN IMMEDIATE.
_write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "logistics_write_intent", default=False
)


def configure_engine(engine: Engine, busy_timeout_ms: int) -> None:
    """Set WAL, busy timeout and foreign keys on every new SQLite connection; keep statistics."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        # Take transaction control away from pysqlite so BEGIN is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute(f"PRAGMA analysis_limit = {ANALYSIS_LIMIT}")
        cursor.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        cursor.close()
        record.info["optimized_at"] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_connection: Any, record: Any) -> None:
        # Between two units of work, so it never lengthens a transaction.
        if dbapi_connection is None:  # invalidated: nothing to optimise
            return
        now = time.monotonic()
        if now - record.info.get("optimized_at", now) >= OPTIMIZE_EVERY_SECONDS:
            record.info["optimized_at"] = now
            optimize_sqlite(dbapi_connection)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")


def optimize_sqlite(dbapi_connection: Any) -> None:
    """Let SQLite refresh the statistics its planner lacks; never fail the caller over it."""
    try:
        dbapi_connection.execute("PRAGMA optimize").close()
    except sqlite3.Error as error:  # e.g. still locked after the busy timeout: next time
        log.warning("PRAGMA optimize failed: %s", error)


def set_write_intent(value: bool) -> contextvars.Token[bool]:
    """Mark whether transactions started from here on will write."""
    return _write_intent.set(value)


def reset_write_intent(token: contextvars.Token[bool]) -> None:
    """Undo set_write_intent."""
    _write_intent.reset(token)


@contextmanager
def write_intent() -> Iterator[None]:
    """Start transactions inside the block as writers (jobs, commands, threads)."""
    token = _write_intent.set(True)
    try:
        yield
    finally:
        _write_intent.reset(token)


def aborted_by_race(error: BaseException) -> bool:
    """Tell whether the database aborted a transaction only because another one raced it."""
    sqlstate = getattr(getattr(error, "orig", None), "sqlstate", None)
    return isinstance(error, DBAPIError) and sqlstate in RETRYABLE_SQLSTATES


def retry_when_raced(work: Callable[[], T], attempts: int = RETRY_ATTEMPTS) -> T:
    """Run a unit of work that commits; run it again whole when a concurrent one aborted it."""
    # The unit re-reads everything and claims its request token again: nothing of the
    # aborted attempt survived its rollback, so a retry records exactly once.
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except DBAPIError as error:
            if attempt == attempts or not aborted_by_race(error):
                raise
            db.session.rollback()
            log.info("transaction aborted by a concurrent one (%s); retry %d", error.orig, attempt)
            # Growing, jittered pauses: the twins that collided must not collide again.
            time.sleep(RETRY_PAUSE_SECONDS * 2 ** (attempt - 1) * random.uniform(0.5, 1.5))
    raise AssertionError("unreachable: the last attempt returns or raises")
