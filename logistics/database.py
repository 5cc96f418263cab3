"""Engine set-up: SQLite pragmas, write transactions, and the dialect helpers services use."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

# On SQLite a transaction that reads first and writes later can fail at once with
# "database is locked" when another writer got in between. Requests and jobs that
# intend to write therefore start their transaction with BEGIN IMMEDIATE.
_write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "logistics_write_intent", default=False
)


def configure_engine(engine: Engine, busy_timeout_ms: int) -> None:
    """Set WAL, busy timeout and foreign keys on every new SQLite connection."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite so BEGIN is ours to emit.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")


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
