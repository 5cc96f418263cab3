"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import upgrade
from sqlalchemy import inspect, text

from logistics import create_app
from logistics.config import PROJECT_ROOT
from logistics.extensions import db


@pytest.fixture
def blank_url(database_url, tmp_path) -> str:
    """Return a database with no tables at all: a new SQLite file, or PostgreSQL emptied below."""
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'blank.sqlite3'}"
    return database_url


def _empty_app(database_url, tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "INSTANCE_DIR": str(tmp_path / "instance"),
        }
    )
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    return app


def test_upgrade_from_empty_matches_the_models(blank_url, tmp_path):
    app = _empty_app(blank_url, tmp_path)
    with app.app_context():
        upgrade(directory=str(PROJECT_ROOT / "migrations"))
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
        tables = set(inspect(db.engine).get_table_names())
        db.engine.dispose()
    assert differences == []
    assert {"stock_movement", "stock_level", "submission", "membership"} <= tables


def test_there_is_one_head():
    script = ScriptDirectory(str(PROJECT_ROOT / "migrations"))
    assert len(script.get_heads()) == 1


def test_upgrade_keeps_the_ledger_of_an_older_database(blank_url, tmp_path):
    app = _empty_app(blank_url, tmp_path)
    directory = str(PROJECT_ROOT / "migrations")
    with app.app_context():
        upgrade(directory=directory, revision="0001_foundation")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "insert into organisation (id, name, slug, timezone, locale,"
                    " forecast_horizon_days, meal_buffer_percent, created_at)"
                    " values (1, 'Calais Aid', 'calais-aid', 'Europe/Paris', 'en', 7, 10, :t);"
                ),
                {"t": "2026-01-01 00:00:00"},
            )
            connection.execute(
                text(
                    "insert into site (id, organisation_id, name, kind, area, details, active,"
                    " created_at) values (1, 1, 'Main', 'warehouse', 'Calais', '', true, :t)"
                ),
                {"t": "2026-01-01 00:00:00"},
            )
            connection.execute(
                text(
                    "insert into item (id, organisation_id, name, category, unit, size, min_stock,"
                    " cover_target_days, active, created_at)"
                    " values (1, 1, 'Blanket', 'bedding', 'piece', '', 0, 7, true, :t)"
                ),
                {"t": "2026-01-01 00:00:00"},
            )
            for movement_id, quantity, kind, reverses in (
                (1, 5, "donation", None),
                (2, -5, "reversal", 1),
            ):
                connection.execute(
                    text(
                        "insert into stock_movement (id, organisation_id, site_id, item_id,"
                        " quantity, kind, occurred_at, recorded_at, source, note, reverses_id)"
                        " values (:id, 1, 1, 1, :q, :k, :t, :t, '', '', :r)"
                    ),
                    {"id": movement_id, "q": quantity, "k": kind, "t": "2026-01-01", "r": reverses},
                )
        upgrade(directory=directory)
        with db.engine.connect() as connection:
            rows = connection.execute(
                text("select id, quantity, reverses_id from stock_movement order by id")
            ).all()
        db.engine.dispose()
    assert [tuple(row) for row in rows] == [(1, 5, None), (2, -5, 1)]
