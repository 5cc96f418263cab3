"""The flask commands as an admin runs them."""

from __future__ import annotations

import sqlite3

from sqlalchemy import update

from logistics.extensions import db
from logistics.models import StockLevel
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


def test_backup_copies_a_live_sqlite_database(app, world, tmp_path):
    if db.engine.dialect.name != "sqlite":
        result = _run(app, "backup", str(tmp_path / "copy.sqlite3"))
        assert result.exit_code == 1 and "pg_dump" in result.output
        return
    ledger.receive(
        world.org_id, None, site_id=world.sites["main"], item_id=world.items["water"], quantity=600
    )
    db.session.commit()
    target = tmp_path / "backups" / "copy.sqlite3"
    result = _run(app, "backup", str(target))
    assert result.exit_code == 0, result.output
    with sqlite3.connect(target) as copy:
        (quantity,) = copy.execute(
            "select quantity from stock_level where item_id = ?", (world.items["water"],)
        ).fetchone()
    assert quantity == 600
