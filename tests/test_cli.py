"""The flask commands as an admin runs them."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import tarfile
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from logistics.extensions import db
from logistics.models import LevelSnapshot, StockLevel
from logistics.services import accounts, ledger


def _run(app, *args: str, input: str | None = None):
    return app.test_cli_runner().invoke(args=list(args), input=input)


def test_create_org_then_user_then_token(app):
    result = _run(app, "create-org", "Brussels Refugee Kitchen", "--slug", "brk")
    assert result.exit_code == 0, result.output
    result = _run(
        app,
        "create-user",
        "ana@brk.example.org",
        "--org",
        "brk",
        "--role",
        "kitchen",
        input="long enough pass\n",
    )
    assert result.exit_code == 0, result.output
    assert "ana@brk.example.org is kitchen in Brussels Refugee Kitchen." in result.output
    result = _run(app, "create-token", "ana@brk.example.org", "--org", "brk")
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    membership = accounts.membership_for_token(token)
    assert membership is not None and membership.role == "kitchen"


def test_create_user_adds_an_existing_user_to_another_organisation(app, world, other_world):
    email = world.email("warehouse")
    result = _run(app, "create-user", email, "--org", other_world.slug, "--role", "donor")
    assert result.exit_code == 0, result.output
    roles = {m.organisation_id: m.role for m in accounts.user_by_email(email).memberships}
    assert roles == {world.org_id: "warehouse", other_world.org_id: "donor"}


def test_command_errors_are_plain_and_exit_1(app, world):
    result = _run(app, "create-org", "Calais Aid again", "--slug", "calais-aid")
    assert result.exit_code == 1
    assert "already exists" in result.output
    result = _run(app, "create-token", "nobody@example.org", "--org", "calais-aid")
    assert result.exit_code == 1
    assert "not a member" in result.output


def test_check_ledger_passes_then_catches_a_tampered_level(app, world):
    ledger.receive(
        world.org_id, None, site_id=world.sites["main"], item_id=world.items["tent"], quantity=9
    )
    db.session.commit()
    result = _run(app, "check-ledger")
    assert result.exit_code == 0
    assert "Ledger OK" in result.output
    db.session.execute(update(StockLevel).values(quantity=StockLevel.quantity + 1))
    db.session.commit()
    result = _run(app, "check-ledger")
    assert result.exit_code == 1
    assert "Tent (2-person) at Main warehouse: level 10, movements sum to 9" in result.output


def test_backup_writes_one_archive_with_the_live_database(app, world, tmp_path):
    ledger.receive(
        world.org_id, None, site_id=world.sites["main"], item_id=world.items["water"], quantity=600
    )
    db.session.commit()
    target = tmp_path / "backups" / "nightly.tar"
    result = _run(app, "backup", str(target))
    assert result.exit_code == 0, result.output
    assert f"to {target}." in result.output
    with tarfile.open(target) as archive:
        manifest = json.loads(archive.extractfile("manifest.json").read())
        database = archive.extractfile(manifest["database"]["path"]).read()
    assert hashlib.sha256(database).hexdigest() == manifest["database"]["sha256"]
    if db.engine.dialect.name == "sqlite":
        copy = tmp_path / "copy.sqlite3"
        copy.write_bytes(database)
        with sqlite3.connect(copy) as connection:
            (quantity,) = connection.execute(
                "select quantity from stock_level where item_id = ?", (world.items["water"],)
            ).fetchone()
        assert quantity == 600
    else:
        assert database.startswith(b"PGDMP")  # pg_dump's custom format
    assert list(target.parent.glob("*.partial")) == []


def test_restore_of_something_that_is_not_a_backup_says_so(app, tmp_path):
    bogus = tmp_path / "notes.tar"
    bogus.write_text("not an archive")
    result = _run(app, "restore", str(bogus))
    assert result.exit_code == 1
    assert result.output.startswith("Error: Cannot read") and "Traceback" not in result.output


def test_take_snapshots_writes_the_months_not_yet_taken_once(app, world):
    ledger.receive(
        world.org_id,
        None,
        site_id=world.sites["main"],
        item_id=world.items["tent"],
        quantity=9,
        occurred_at=datetime.now(UTC) - timedelta(days=40),  # a month start since, or two
    )
    db.session.commit()
    result = _run(app, "take-snapshots", "--org", world.slug)
    assert result.exit_code == 0, result.output
    taken = db.session.scalars(select(LevelSnapshot.quantity)).all()
    assert result.output == f"{len(taken)} monthly level snapshot(s) taken.\n"
    assert taken and set(taken) == {9}
    assert _run(app, "take-snapshots").output == "0 monthly level snapshot(s) taken.\n"
    result = _run(app, "take-snapshots", "--org", "nowhere")
    assert result.exit_code == 1 and "nowhere" in result.output
