"""Start-up configuration: secret key, SQLite settings, PostgreSQL by URL."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from logistics import create_app
from logistics.config import ConfigError
from logistics.extensions import db


def test_production_without_secret_key_refuses_to_start(monkeypatch, tmp_path):
    monkeypatch.delenv("LOGISTICS_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="LOGISTICS_SECRET_KEY"):
        create_app({"ENV": "production", "INSTANCE_DIR": str(tmp_path)})


def test_production_takes_the_secret_key_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("LOGISTICS_SECRET_KEY", "s3cret-from-env")
    app = create_app({"ENV": "production", "INSTANCE_DIR": str(tmp_path)})
    assert app.config["SECRET_KEY"] == "s3cret-from-env"


def test_default_database_is_a_sqlite_file_in_wal_mode_with_foreign_keys(monkeypatch, tmp_path):
    monkeypatch.delenv("LOGISTICS_DATABASE_URL", raising=False)
    monkeypatch.setenv("LOGISTICS_INSTANCE_DIR", str(tmp_path / "inst"))
    app = create_app({"TESTING": True})
    with app.app_context():
        assert db.engine.url.database == str(tmp_path / "inst" / "logistics.sqlite3")
        with db.engine.connect() as connection:
            pragmas = [
                connection.execute(text(f"PRAGMA {name}")).scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout")
            ]
        db.engine.dispose()
    assert pragmas == ["wal", 1, 30_000]


def test_database_url_comes_from_the_environment(monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path / 'elsewhere.sqlite3'}"
    monkeypatch.setenv("LOGISTICS_DATABASE_URL", url)
    app = create_app({"TESTING": True, "INSTANCE_DIR": str(tmp_path)})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == url
