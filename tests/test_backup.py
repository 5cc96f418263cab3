"""Backups that restore everything; an organisation's export and purge leave the others whole."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import tarfile
import zipfile
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import api_token, login, make_app, scratch_postgres
from PIL import Image
from sqlalchemy import func, select, text

from logistics.extensions import db
from logistics.models import DonorPage, Evidence, Membership, Report, StockLevel, User
from logistics.services import (
    accounts,
    alerts,
    backup,
    catalogue,
    distributions,
    donors,
    evidence,
    incidents,
    kitchen,
    labels,
    ledger,
    needs,
    pledges,
    replacement,
    reports,
    shipments,
    snapshots,
    submissions,
    subscribers,
)
from logistics.services.distributions import OutcomeInput
from logistics.services.incidents import IncidentInput, LineInput

SHARED_PHOTO = b"\x89PNG\r\n\x1a\n" + b"the same photo, sent by two groups" * 50


def _run(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def _store(app) -> evidence.EvidenceStore:
    return evidence.EvidenceStore.from_config(app.config)


def fill_every_table(app, world, own_photo: bytes) -> dict[str, int]:
    """Give an organisation rows in every table it owns, through the services; commit."""
    org, admin, now = world.org_id, world.users["admin"], datetime.now(UTC)
    ids: dict[str, int] = {}
    # The ledger: a donation, a transfer and a reversal.
    first = ledger.receive(
        org, admin, site_id=world.sites["main"], item_id=world.items["blanket"], quantity=120,
        occurred_at=now - timedelta(days=3),
    )  # fmt: skip
    ledger.transfer(
        org, admin, from_site_id=world.sites["main"], to_site_id=world.sites["gs_store"],
        item_id=world.items["blanket"], quantity=20,
    )  # fmt: skip
    mistake = ledger.receive(
        org, admin, site_id=world.sites["main"], item_id=world.items["water"], quantity=7
    )
    ledger.reverse(org, admin, mistake.id, "typed twice")
    ids["movement"] = first.id
    # Dated food in its lot, received weeks ago: the months since are written down.
    packs = catalogue.save_item(
        org, {"name": "Meal pack", "category": "food", "unit": "pack", "dated": True}
    )
    ledger.receive(
        org, admin, site_id=world.sites["main"], item_id=packs.id, quantity=50,
        best_before=date.today() + timedelta(days=90), occurred_at=now - timedelta(days=40),
    )  # fmt: skip
    snapshots.take_snapshots(org, now)
    # Distributions: a series with its lines and occurrences, and a one-off that was held.
    distributions.create_series(
        org, site_id=world.sites["point"], source_site_id=world.sites["main"],
        weekdays=range(7), local_time=datetime(2026, 1, 1, 18).time(),
        starts_on=date.today(), ends_on=None, lines=[(world.items["blanket"], 5)],
    )  # fmt: skip
    held = distributions.create_one_off(
        org, site_id=world.sites["point"], source_site_id=world.sites["main"],
        starts_at=now - timedelta(days=1), lines=[(world.items["blanket"], 10)],
    )  # fmt: skip
    distributions.record_outcome(
        org, admin, held.id,
        OutcomeInput("held", headcount=60, given=[(world.items["blanket"], 8)]),
    )  # fmt: skip
    # Tents are short tonight: an alert, its change and a delivery to the group's channel.
    distributions.create_one_off(
        org, site_id=world.sites["point"], source_site_id=world.sites["main"],
        starts_at=now + timedelta(hours=6), lines=[(world.items["tent"], 40)],
    )  # fmt: skip
    alerts.save_channel(org, kind="email", target=f"alerts@{world.slug}.example.org")
    alerts.reconcile(org)
    # The kitchen: a recipe, the day's menu and a cooking.
    meal = catalogue.save_item(org, {"name": "Hot meal", "category": "food", "unit": "meal"})
    onions = catalogue.save_item(org, {"name": "Onions", "category": "ingredient", "unit": "kg"})
    ledger.receive(
        org, admin, site_id=world.sites["kitchen"], item_id=onions.id, quantity=50,
        occurred_at=now - timedelta(days=1),
    )  # fmt: skip
    recipe = kitchen.save_recipe(
        org, name="Onion soup", dietary_notes="vegan", lines=[(onions.id, Decimal("10"))]
    )
    kitchen.choose_menu(org, admin, world.sites["kitchen"], date.today(), recipe.id)
    kitchen.cook(
        org, admin, site_id=world.sites["kitchen"], meal_item_id=meal.id,
        split=[(recipe.id, 100)],
    )  # fmt: skip
    needs.record_estimate(org, admin, area="Calais", people=900, as_of=date.today())
    replacement.save_kit(org, [(world.items["tent"], 1)], [(world.items["blanket"], 1)])
    # An incident: a loss from stock, locked, amended, with two evidence files.
    incident = incidents.record_incident(
        org, admin,
        IncidentInput(
            occurred_at=now - timedelta(hours=2), kind="police_destruction", area="Calais",
            description="Tents slashed at dawn.",
            lines=[LineInput(world.items["blanket"], 4, "from_stock", "slashed",
                             site_id=world.sites["main"])],
        ),
    )  # fmt: skip
    incidents.lock(org, admin, incident.id)
    incidents.amend(org, admin, incident.id, "Three more witnesses came forward.")
    for name, content in (("shared.png", SHARED_PHOTO), ("own.png", own_photo)):
        evidence.add_evidence(
            _store(app), org, admin, incident.id, file_name=name, stream=io.BytesIO(content)
        )
    ids["incident"] = incident.id
    # Reports, a share link, an API token, an invitation, a remembered submission.
    reports_dir = Path(app.config["REPORTS_DIR"])
    reports.generate(org, admin, reports.ReportRequest("shortfall"), reports_dir)
    reports.generate(org, admin, reports.ReportRequest("evidence"), reports_dir)
    link, _token = reports.create_share_link(org, admin, label="donors")
    # What donors read and give: how to help, a pledge, a confirmed subscriber.
    donors.save_how_to_help(org, admin, {"drop_off": f"Hall of {world.slug}"})
    logo = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 90, 160)).save(logo, format="PNG")
    donors.set_logo(org, admin, logo.getvalue())
    pledges.make_pledge(
        org,
        item_id=world.items["blanket"],
        quantity=5,
        expected_on=now.date(),
        contact_email=f"giver@{world.slug}.example.net",
        source="link",
        share_link_id=link.id,
        today=now.date(),
    )
    subscriber = subscribers.subscribe(org, f"reader@{world.slug}.example.net", "en", link.id, now)
    subscribers.confirm(org, subscriber.id)
    # A partner group and a shipment to it, 6 sent and 5 counted (partnership, shipment, lines).
    partner = accounts.create_organisation(f"Partner of {world.slug}", f"partner-{world.slug}")
    depot = catalogue.save_site(partner.id, {"name": "Depot", "kind": "warehouse", "area": "Lille"})
    theirs = catalogue.save_item(partner.id, {"name": "Blanket", "category": "bedding"})
    asked = shipments.ask_partnership(org, admin, partner.slug)
    shipments.accept_partnership(partner.id, None, asked.id)
    shipment = shipments.create_shipment(
        org,
        admin,
        partner_organisation_id=partner.id,
        from_site_id=world.sites["main"],
        lines=[(world.items["blanket"], 6)],
    )
    shipments.send_shipment(org, admin, shipment.id)
    shipments.receive_shipment(
        partner.id,
        None,
        shipment.id,
        site_id=depot.id,
        counts=[shipments.Counted(shipment.lines[0].id, theirs.id, 5)],
    )
    ids["shipment"] = shipment.id
    # A box of blankets on a shelf of the main warehouse (a label only: no movement).
    ids["box"] = labels.create_box(
        org, admin, site_id=world.sites["main"], item_id=world.items["blanket"], quantity=10
    ).id
    accounts.invite(org, f"new@{world.slug}.example.org", "warehouse", admin, timedelta(days=7))
    submissions.run_once(org, "token-1", "test", lambda: {"message": "done"}, user_id=admin)
    db.session.commit()
    api_token(world, "admin")
    return ids


def _rows_of(organisation_id: int) -> dict[str, list[tuple]]:
    """Every row an organisation owns, table by table."""
    tables = backup.owned_tables()
    owned = {table.name for table in tables}
    return {
        table.name: [
            tuple(row)
            for row in db.session.execute(
                select(table)
                .where(backup._belongs(table, organisation_id, owned))
                .order_by(*table.primary_key.columns)
            )
        ]
        for table in tables
    }


def _org_tables() -> set[str]:
    return {name for name, table in db.metadata.tables.items() if "organisation_id" in table.c}


def test_every_table_with_an_organisation_id_is_owned():
    owned = {table.name for table in backup.owned_tables()}
    assert _org_tables() <= owned
    # Rows that hang off them belong too; users and sign-ins do not.
    assert {"alert_change", "evidence", "incident_line", "api_token"} <= owned
    assert not {"user_account", "login_throttle", "job_lock"} & owned


# --- purge and export ---------------------------------------------------------------------------


def test_purge_removes_one_organisation_and_leaves_the_other_whole(
    app, world, other_world, client_as
):
    fill_every_table(app, world, b"only Calais has this photo")
    fill_every_table(app, other_world, b"only Paris has this photo")
    purged = world.org_id
    # Someone who left Paris but whose name stays on its ledger, and someone in both groups.
    leaver = accounts.user_by_email(world.email("warehouse")).id
    accounts.add_member(other_world.org_id, world.email("warehouse"), "warehouse")
    ledger.receive(
        other_world.org_id, leaver, site_id=other_world.sites["main"],
        item_id=other_world.items["tarp"], quantity=3,
    )  # fmt: skip
    db.session.execute(
        Membership.__table__.delete().where(
            Membership.user_id == leaver, Membership.organisation_id == other_world.org_id
        )
    )
    both = accounts.add_member(other_world.org_id, world.email("kitchen"), "kitchen").user_id
    db.session.commit()
    client_as("admin")  # a live sign-in of a member who goes
    accounts.request_password_reset(world.email("donor"), timedelta(hours=1))
    db.session.commit()
    before = _rows_of(purged)
    empty = [name for name, rows in before.items() if not rows]
    assert empty == [], f"fill_every_table leaves these tables empty: {empty}"
    theirs = _rows_of(other_world.org_id)
    store = _store(app)
    files = backup.stored_files(store.root, Path(app.config["REPORTS_DIR"]))
    ours_only = store.path_of(hashlib.sha256(b"only Calais has this photo").hexdigest())
    shared = store.path_of(hashlib.sha256(SHARED_PHOTO).hexdigest())

    refused = _run(app, "purge-org", world.slug, "--confirm", other_world.slug)
    assert refused.exit_code == 1 and "--confirm calais-aid" in refused.output
    result = _run(app, "purge-org", world.slug, "--confirm", world.slug)
    assert result.exit_code == 0, result.output
    assert "3 account(s) removed, 1 emptied" in result.output

    db.session.expire_all()
    assert all(rows == [] for rows in _rows_of(purged).values())
    for name in _org_tables():
        table = db.metadata.tables[name]
        count = select(func.count()).select_from(table).where(table.c.organisation_id == purged)
        assert db.session.scalar(count) == 0, name
    assert _rows_of(other_world.org_id) == theirs
    assert _run(app, "check-ledger").exit_code == 0
    # Files: the purged group's own evidence and reports are gone, shared and others' stay.
    assert not ours_only.exists() and shared.exists()
    for stored in files:
        owner_slug = stored.member.split("/")[1] if stored.member.startswith("reports/") else None
        if owner_slug == other_world.slug:
            assert hashlib.sha256(stored.path.read_bytes()).hexdigest() == stored.sha256
        elif owner_slug == world.slug:
            assert not stored.path.exists()
    # Accounts: only-Calais members are gone, the leaver is emptied, the shared member stays.
    users = {u.id: u for u in db.session.scalars(select(User))}
    assert world.users["admin"] not in users and world.users["donor"] not in users
    assert (users[leaver].email, users[leaver].active) == (
        f"removed-{leaver}@removed.invalid",
        False,
    )
    assert users[leaver].display_name == "Removed account"
    assert both in users and users[both].email == world.email("kitchen")
    assert db.session.scalar(select(func.count()).select_from(text("user_session"))) == 0
    assert db.session.scalar(select(func.count()).select_from(text("password_reset"))) == 0
    # Paris still works: its evidence and reports download with their hashes checked.
    paris = client_as("admin", other_world)
    for record in db.session.scalars(select(Evidence)):
        assert paris.get(f"/evidence/{record.id}").status_code == 200
    for report in db.session.scalars(select(Report)):
        assert paris.get(f"/reports/{report.id}.pdf").status_code == 200


def test_purge_of_an_unknown_organisation_says_so(app, world):
    result = _run(app, "purge-org", "nobody", "--confirm", "nobody")
    assert result.exit_code == 1
    assert "Error:" in result.output and "Traceback" not in result.output


def test_export_has_a_csv_per_table_the_files_and_a_manifest(app, world, other_world, tmp_path):
    fill_every_table(app, world, b"only Calais has this photo")
    fill_every_table(app, other_world, b"only Paris has this photo")
    rows = _rows_of(world.org_id)
    target = tmp_path / "exports" / "calais.zip"
    result = _run(app, "export-org", world.slug, str(target))
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(target) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        names = set(archive.namelist())
        listed = {entry["path"]: entry for entry in manifest["files"]}
        assert names == set(listed) | {"manifest.json"}
        for path, entry in listed.items():
            assert hashlib.sha256(archive.read(path)).hexdigest() == entry["sha256"], path
        for name in _org_tables() | set(rows):
            with archive.open(f"tables/{name}.csv") as handle:
                table_rows = list(csv.reader(io.TextIOWrapper(handle, "utf-8")))
            columns = [c.name for c in db.metadata.tables[name].columns]
            assert table_rows[0] == [
                c for c in columns if c not in manifest["tables"][name]["omitted"]
            ]
            assert len(table_rows) - 1 == len(rows[name]), name
        items = list(csv.DictReader(io.TextIOWrapper(archive.open("tables/item.csv"), "utf-8")))
        users = archive.read("tables/user_account.csv").decode()
        tokens = archive.read("tables/api_token.csv").decode()
        channels = archive.read("tables/channel.csv").decode()
        with archive.open("tables/donor_page.csv") as handle:
            (page,) = csv.DictReader(io.TextIOWrapper(handle, "utf-8"))
    # The logo's bytes as base64 text, whole: a spreadsheet keeps them, a script reads them back.
    assert base64.b64decode(page["logo"]) == db.session.get(DonorPage, world.org_id).logo
    assert {row["organisation_id"] for row in items} == {str(world.org_id)}
    assert "Blanket" in {row["name"] for row in items}
    assert "admin@calais-aid.example.org" in users and "paris" not in users
    assert "password_hash" not in users and "token_hash" not in tokens
    assert "secret" not in channels.splitlines()[0]
    photos = {p for p in names if p.startswith("evidence/")}
    assert len(photos) == 2
    assert {p.split("/")[1] for p in names if p.startswith("reports/")} == {world.slug}
    assert manifest["organisation"]["slug"] == world.slug


# --- backup and restore -------------------------------------------------------------------------


@pytest.fixture
def fresh_database_url(database_url, tmp_path):
    """Return the URL of a second, empty database of the same engine."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored' / 'instance' / 'logistics.sqlite3'}"
        return
    with scratch_postgres("restored", database_url) as url:
        yield url


def test_a_backup_restores_everything_into_a_fresh_instance(
    app, world, tmp_path, fresh_database_url
):
    photo = io.BytesIO()
    Image.new("RGB", (640, 480), "olive").save(photo, "JPEG")
    ids = fill_every_table(app, world, photo.getvalue())
    counts = {name: len(rows) for name, rows in _rows_of(world.org_id).items()}
    result = _run(app, "backup", str(tmp_path / "backups"))
    assert result.exit_code == 0, result.output
    (archive,) = (tmp_path / "backups").glob("logistics-*.tar")
    with tarfile.open(archive) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
        names = set(tar.getnames())
    assert manifest["engine"] == db.engine.dialect.name
    assert {entry["path"] for entry in manifest["files"]} | {
        manifest["database"]["path"],
        "manifest.json",
    } == names
    # Two originals and the real photo's thumbnail.
    assert sum(name.startswith("evidence/") for name in names) == 3
    assert sum(name.startswith("reports/") for name in names) == 2

    restored = make_app(fresh_database_url, tmp_path / "restored")
    with restored.app_context():
        result = _run(restored, "restore", str(archive))
        assert result.exit_code == 0, result.output
        assert _run(restored, "check-ledger").exit_code == 0
        assert {n: len(r) for n, r in _rows_of(world.org_id).items()} == counts
        client = restored.test_client()
        assert login(client, world.email("coordinator")).status_code == 302
        for record in db.session.scalars(select(Evidence)):
            download = client.get(f"/evidence/{record.id}")
            assert download.status_code == 200
            assert hashlib.sha256(download.data).hexdigest() == record.sha256
            if record.thumbnail_sha256 is not None:
                small = client.get(f"/evidence/{record.id}/thumbnail")
                assert hashlib.sha256(small.data).hexdigest() == record.thumbnail_sha256
        assert db.session.scalar(select(func.count(Evidence.thumbnail_sha256))) == 1
        for report in db.session.scalars(select(Report)):
            download = client.get(f"/reports/{report.id}.pdf")
            assert download.status_code == 200
            assert hashlib.sha256(download.data).hexdigest() == report.sha256
        level = db.session.scalar(
            select(StockLevel.quantity).where(
                StockLevel.site_id == world.sites["main"],
                StockLevel.item_id == world.items["blanket"],
            )
        )
        assert level == 120 - 20 - 8 - 4 - 6  # 6 shipped to the partner group
        assert client.get(f"/incidents/{ids['incident']}").status_code == 200
        # A second restore finds data there and refuses, changing nothing.
        again = _run(restored, "restore", str(archive))
        assert again.exit_code == 1 and "already holds data" in again.output
        db.session.remove()
        db.engine.dispose()


def test_a_damaged_archive_restores_nothing(app, world, tmp_path, fresh_database_url):
    fill_every_table(app, world, b"a photo of the slashed tents")
    archive = tmp_path / "backup.tar"
    assert _run(app, "backup", str(archive)).exit_code == 0
    damaged = tmp_path / "damaged.tar"
    with tarfile.open(archive) as source, tarfile.open(damaged, "w") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if member.name.startswith("reports/"):
                data = data[:200] + bytes([data[200] ^ 1]) + data[201:]  # one bit flipped
            target.addfile(member, io.BytesIO(data))
    restored = make_app(fresh_database_url, tmp_path / "restored")
    with restored.app_context():
        result = _run(restored, "restore", str(damaged))
        assert result.exit_code == 1
        assert "does not match its SHA-256" in result.output
        assert list((tmp_path / "restored").rglob("*.pdf")) == []
        assert list((tmp_path / "restored").rglob("*.restoring")) == []
        backup._require_empty_database()  # the database is as empty as before
        db.session.remove()
        db.engine.dispose()


def test_a_restore_refuses_a_database_that_holds_data(app, world, tmp_path):
    archive = tmp_path / "backup.tar"
    assert _run(app, "backup", str(archive)).exit_code == 0
    result = _run(app, "restore", str(archive))
    assert result.exit_code == 1
    assert "already holds data (organisation, " in result.output
    assert "restore fills an empty database only" in result.output.lower()
