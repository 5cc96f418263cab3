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


def test_without_a_secret_key_the_instance_makes_its_own_and_keeps_it(monkeypatch, tmp_path):
    monkeypatch.delenv("LOGISTICS_SECRET_KEY", raising=False)
    first = create_app({"INSTANCE_DIR": str(tmp_path)})
    key_file = tmp_path / "secret_key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert first.config["SECRET_KEY"] == key_file.read_text().strip()
    assert len(first.config["SECRET_KEY"]) >= 64
    # A restart reuses it (sessions survive); another instance gets another key.
    assert (
        create_app({"INSTANCE_DIR": str(tmp_path)}).config["SECRET_KEY"]
        == (first.config["SECRET_KEY"])
    )
    other = create_app({"INSTANCE_DIR": str(tmp_path / "other")}).config["SECRET_KEY"]
    assert other != first.config["SECRET_KEY"]


def test_the_made_key_is_logged_in_one_line(monkeypatch, tmp_path, caplog):
    monkeypatch.delenv("LOGISTICS_SECRET_KEY", raising=False)
    with caplog.at_level("INFO", logger="logistics"):
        create_app({"INSTANCE_DIR": str(tmp_path)})
        create_app({"INSTANCE_DIR": str(tmp_path)})
    lines = [r.getMessage() for r in caplog.records if "LOGISTICS_SECRET_KEY" in r.getMessage()]
    assert lines == [
        f"LOGISTICS_SECRET_KEY is not set: made a random key and kept it in {tmp_path}/secret_key.",
        f"LOGISTICS_SECRET_KEY is not set: using the key kept in {tmp_path}/secret_key.",
    ]


def test_workers_starting_together_agree_on_one_key(tmp_path):
    from concurrent.futures import ProcessPoolExecutor

    from logistics.config import instance_secret_key

    path = tmp_path / "secret_key"
    with ProcessPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(instance_secret_key, [path] * 8))
    assert len({key for key, _created in results}) == 1
    assert sum(created for _key, created in results) <= 1
    assert list(tmp_path.iterdir()) == [path]  # no drafts left behind


def test_no_known_key_is_written_in_the_code():
    from logistics.config import PROJECT_ROOT

    for path in (PROJECT_ROOT / "logistics").rglob("*.py"):
        assert "development-only-secret-key" not in path.read_text(), path


def test_a_cookie_signed_with_the_old_development_key_is_refused(monkeypatch, tmp_path):
    from conftest import build_world
    from flask.sessions import SecureCookieSessionInterface

    monkeypatch.delenv("LOGISTICS_SECRET_KEY", raising=False)
    app = create_app(
        {
            "INSTANCE_DIR": str(tmp_path),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'forged.sqlite3'}",
            "TESTING": True,
        }
    )
    forger = create_app({"SECRET_KEY": "development-only-secret-key", "TESTING": True})
    serializer = SecureCookieSessionInterface().get_signing_serializer(forger)
    forged = serializer.dumps({"_user_id": "1", "_fresh": True, "organisation_id": 1})
    client = app.test_client()
    client.set_cookie("session", forged)
    with app.app_context():
        db.create_all()
        build_world("Calais Aid", "calais-aid")  # user 1 is its admin
        response = client.get("/members")
        db.session.remove()
        db.engine.dispose()
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_report_with_several_photos_fits_in_one_request(monkeypatch, tmp_path):
    monkeypatch.setenv("LOGISTICS_EVIDENCE_MAX_MB", "8")
    app = create_app({"INSTANCE_DIR": str(tmp_path)})
    # Ten phone photos of 3 MB, sent with the report itself, pass; one file still may not.
    assert app.config["MAX_CONTENT_LENGTH"] > 10 * 3 * 1024 * 1024
    assert app.config["EVIDENCE_MAX_BYTES"] == 8 * 1024 * 1024
    with app.test_request_context():
        from logistics.errors import _page_message

        assert "at most 8 MB per file and 33 MB in all" in _page_message(413)
