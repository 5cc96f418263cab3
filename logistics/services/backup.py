"""Back up and restore a whole instance; export or purge the data of one organisation.

A backup is one uncompressed tar archive: the database (SQLite's online backup, or `pg_dump -Fc`),
every evidence file and archived report, and `manifest.json` with each file's SHA-256. Tar, not
zip: it is what server backups are made of (tar, restic, borg read it), it is written as a
stream, and evidence is photos and video that compression does not shrink.

An export is a zip (spreadsheets and file managers open it anywhere): one CSV per table the
organisation owns, its evidence files, its reports and a manifest.

Which tables belong to an organisation is read from the models' foreign keys, so a new table is
exported and purged without being listed here: a table is the organisation's when a NOT NULL
foreign key leads from it to `organisation`, directly or through other such tables.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    ColumnElement,
    ForeignKey,
    Table,
    delete,
    inspect,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.engine import URL
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import (
    Evidence,
    Incident,
    LoginThrottle,
    Membership,
    Partnership,
    Report,
    Shipment,
    ShipmentLine,
    StockMovement,
    User,
)
from ..models.types import utcnow
from . import accounts
from .errors import Conflict, ServiceError, ValidationError

FORMAT = 1
MANIFEST = "manifest.json"
DATABASE_MEMBERS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
CHUNK = 1024 * 1024
EVIDENCE_MEMBER = re.compile(r"evidence/([0-9a-f]{2})/([0-9a-f]{64})")
# Users as an export shows them: who the members are, never how they sign in.
USER_COLUMNS = ("id", "email", "display_name", "locale", "active", "created_at")
REMOVED_NAME = "Removed account"


class BackupError(ServiceError):
    """A backup, restore, export or purge cannot go ahead; nothing was changed."""

    status = 409
    code = "backup"


@dataclass(frozen=True)
class Entry:
    """A file in an archive: its path there, SHA-256 and size."""

    path: str
    sha256: str
    size: int

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "size": self.size}


@dataclass(frozen=True)
class StoredFile:
    """An evidence file or archived report: where it lies, its place in an archive, its hash."""

    member: str
    path: Path
    sha256: str


@dataclass
class Summary:
    """What a backup, restore or export did."""

    path: Path
    files: int = 0
    bytes: int = 0
    missing: list[str] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)
    revision: str | None = None


# --- the files of an instance -----------------------------------------------------------------


def stored_files(
    evidence_dir: Path, reports_dir: Path, organisation_id: int | None = None
) -> list[StoredFile]:
    """Return every evidence file and archived report on record, or one organisation's."""
    kept = select(Evidence.sha256, Evidence.thumbnail_sha256)
    # A queued, running or failed report has no file yet.
    archived = (
        select(Report.file_path, Report.sha256)
        .where(Report.file_path.is_not(None))
        .order_by(Report.id)
    )
    if organisation_id is not None:
        kept = kept.join(Incident, Incident.id == Evidence.incident_id).where(
            Incident.organisation_id == organisation_id
        )
        archived = archived.where(Report.organisation_id == organisation_id)
    # Thumbnails are stored like the originals: a restore without them would show none.
    shas = sorted({sha for pair in db.session.execute(kept) for sha in pair if sha is not None})
    files = [
        StoredFile(f"evidence/{sha[:2]}/{sha}", evidence_dir / sha[:2] / sha, sha) for sha in shas
    ]
    for file_path, sha in db.session.execute(archived):
        relative = _safe_relative(file_path)
        files.append(StoredFile(f"reports/{relative}", reports_dir.joinpath(*relative.parts), sha))
    return files


def _safe_relative(text: str) -> PurePosixPath:
    """Return a relative path that stays inside its folder, or refuse it."""
    path = PurePosixPath(text)
    if path.is_absolute() or not path.parts or any(p in ("", ".", "..") for p in path.parts):
        raise BackupError(_l("Refusing the path %(path)s: it leaves its folder.", path=repr(text)))
    return path


class _HashingReader:
    """A file read through SHA-256, for an archive that takes a file object."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        self.size += len(data)
        return data


def _copy_hashed(source: IO[bytes], target: IO[bytes]) -> tuple[str, int]:
    """Copy a file object to another in chunks; return the SHA-256 and size of what passed."""
    digest = hashlib.sha256()
    size = 0
    while chunk := source.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
        target.write(chunk)
    return digest.hexdigest(), size


def _add_to_tar(tar: tarfile.TarFile, member: str, path: Path) -> Entry:
    info = tar.gettarinfo(str(path), arcname=member)
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    with path.open("rb") as handle:
        reader = _HashingReader(handle)
        tar.addfile(info, reader)  # type: ignore[arg-type]
    return Entry(member, reader.digest.hexdigest(), reader.size)


def _bytes_to_tar(tar: tarfile.TarFile, member: str, data: bytes) -> None:
    info = tarfile.TarInfo(member)
    info.size = len(data)
    info.mtime = int(utcnow().timestamp())
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


@contextmanager
def _written_atomically(target: Path) -> Iterator[Path]:
    """Yield a partial path beside target; rename it into place only when all went well."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    try:
        yield partial
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


# --- backup -------------------------------------------------------------------------------------


def default_name(moment: datetime | None = None) -> str:
    """Return a backup's file name for a moment, e.g. logistics-2026-11-26T0300Z.tar."""
    return f"logistics-{(moment or utcnow()):%Y-%m-%dT%H%MZ}.tar"


def backup(target: Path, evidence_dir: Path, reports_dir: Path) -> Summary:
    """Write the database, every evidence file and report, and a manifest to one tar archive.

    The database is copied first and the files listed afterwards, so every file the copy refers
    to is in the archive (files are only ever added while the app runs).
    """
    if target.is_dir() or target.suffix != ".tar":
        target = target / default_name()  # a folder: one dated archive per run
    engine = db.engine.dialect.name
    if engine not in DATABASE_MEMBERS:
        raise BackupError(_l("Backups cover SQLite and PostgreSQL, not %(engine)s.", engine=engine))
    summary = Summary(target)
    with (
        _written_atomically(target) as partial,
        tempfile.TemporaryDirectory(dir=target.parent, prefix=".backup-") as work,
    ):
        copy = Path(work) / "database"
        summary.revision = _copy_database(copy)
        files = stored_files(evidence_dir, reports_dir)
        db.session.rollback()  # only read; end the transaction before the long copy
        with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as tar:
            database = _add_to_tar(tar, DATABASE_MEMBERS[engine], copy)
            copy.unlink()
            entries = _add_files(files, summary, lambda m, p: _add_to_tar(tar, m, p))
            manifest = {
                "format": FORMAT,
                "kind": "backup",
                "created_at": utcnow().isoformat(),
                "engine": engine,
                "alembic_revision": summary.revision,
                "database": database.as_dict(),
                "files": [entry.as_dict() for entry in entries],
                "missing": summary.missing,
                "damaged": summary.damaged,
            }
            _bytes_to_tar(tar, MANIFEST, _json(manifest))
    return summary


def _add_files(
    files: list[StoredFile], summary: Summary, add: Callable[[str, Path], Entry]
) -> list[Entry]:
    """Add each file that is there with `add`; note the missing and the damaged in the summary."""
    entries = []
    for stored in files:
        if not stored.path.is_file():
            summary.missing.append(stored.member)
            continue
        entry = add(stored.member, stored.path)
        if entry.sha256 != stored.sha256:
            summary.damaged.append(stored.member)  # kept as it is; the app will refuse it
        entries.append(entry)
        summary.files += 1
        summary.bytes += entry.size
    return entries


def _json(value: Any) -> bytes:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False).encode() + b"\n"


def _copy_database(copy: Path) -> str | None:
    """Copy the live database to a file; return its Alembic revision, if it has one."""
    url = db.engine.url
    revision = _alembic_revision()
    if url.get_backend_name() == "sqlite":
        source = _sqlite_path(url)
        if not source.is_file():
            raise BackupError(_l("No database file at %(path)s.", path=source))
        # The online backup API copies a consistent database while the app goes on writing.
        with closing(sqlite3.connect(source)) as live, closing(sqlite3.connect(copy)) as target:
            live.backup(target)
    else:
        _pg_tool("pg_dump", ["--format=custom", f"--file={copy}"], url)
    return revision


def _alembic_revision() -> str | None:
    if "alembic_version" not in inspect(db.engine).get_table_names():
        return None
    return db.session.scalar(text("SELECT version_num FROM alembic_version"))


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError(_l("The SQLite database lives in memory; there is nothing to back up."))
    return Path(url.database)


def _pg_tool(tool: str, arguments: list[str], url: URL) -> None:
    """Run pg_dump or pg_restore against the configured database, or say why it failed."""
    program = shutil.which(tool)
    if program is None:
        raise BackupError(
            _l(
                "%(tool)s was not found. Install the PostgreSQL client tools (postgresql-client) "
                "of the server's major version or newer.",
                tool=tool,
            )
        )
    environment = dict(os.environ)
    if url.password:
        environment["PGPASSWORD"] = str(url.password)  # kept off the command line (ps shows it)
    dsn = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    result = subprocess.run(
        [program, *arguments, f"--dbname={dsn}"],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        raise BackupError(
            _l(
                "%(tool)s failed: %(error)s",
                tool=tool,
                error=lines[-1] if lines else result.returncode,
            )
        )


# --- restore ------------------------------------------------------------------------------------


def restore(archive: Path, evidence_dir: Path, reports_dir: Path, work_dir: Path) -> Summary:
    """Fill an empty instance from a backup archive, each file checked against the manifest.

    Files are written beside their places first and renamed in only once the database is in,
    so a damaged archive leaves the instance as empty as it was.
    """
    engine = db.engine.dialect.name
    _require_empty_database()
    summary = Summary(archive)
    staged: list[tuple[Path, Path]] = []
    try:
        with _open_backup(archive) as (tar, manifest, members):
            if manifest.get("engine") != engine:
                raise BackupError(
                    _l(
                        "This backup holds a %(held)s database; the configured database is "
                        "%(engine)s. Restore it into the same kind of database.",
                        held=manifest.get("engine"),
                        engine=engine,
                    )
                )
            summary.revision = manifest.get("alembic_revision")
            work_dir.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=work_dir, prefix=".restore-") as work:
                copy = Path(work) / "database"
                _extract_verified(tar, members, manifest["database"], copy)
                for entry in manifest["files"]:
                    final = _destination(entry["path"], evidence_dir, reports_dir)
                    final.parent.mkdir(parents=True, exist_ok=True)
                    partial = final.with_name(f".{final.name}.restoring")
                    staged.append((partial, final))
                    _extract_verified(tar, members, entry, partial)
                    summary.files += 1
                    summary.bytes += int(entry["size"])
                _load_database(copy)
        for partial, final in staged:
            os.replace(partial, final)
    finally:
        for partial, _ in staged:
            partial.unlink(missing_ok=True)
    summary.missing = list(manifest.get("missing", []))
    summary.damaged = list(manifest.get("damaged", []))
    return summary


def _require_empty_database() -> None:
    """Refuse to restore over data: restore fills an empty database only."""
    if db.engine.url.get_backend_name() == "sqlite":
        _sqlite_path(db.engine.url).parent.mkdir(parents=True, exist_ok=True)
    present = set(inspect(db.engine).get_table_names())
    holding = [
        table.name
        for table in db.metadata.sorted_tables
        if table.name in present
        and db.session.scalar(select(literal(1)).select_from(table).limit(1)) is not None
    ]
    db.session.rollback()
    if holding:
        raise BackupError(
            _l(
                "The database already holds data (%(tables)s). Restore fills an empty database "
                "only: point LOGISTICS_DATABASE_URL at a new database (and LOGISTICS_INSTANCE_DIR "
                "at a new folder) and run it again.",
                tables=", ".join(holding[:4]) + (", …" if len(holding) > 4 else ""),
            )
        )


@contextmanager
def _open_backup(
    archive: Path,
) -> Iterator[tuple[tarfile.TarFile, dict[str, Any], dict[str, tarfile.TarInfo]]]:
    """Open a backup archive; yield it, its manifest and its members by name."""
    try:
        tar = tarfile.open(archive, "r:*")  # noqa: SIM115 (closed by the with below)
    except (OSError, tarfile.TarError) as error:
        raise BackupError(
            _l("Cannot read %(path)s as a backup archive: %(error)s.", path=archive, error=error)
        ) from error
    with tar:
        members = {member.name: member for member in tar.getmembers()}
        manifest_member = members.get(MANIFEST)
        if manifest_member is None or not manifest_member.isfile():
            raise BackupError(
                _l(
                    "%(path)s has no %(manifest)s; it is not a backup made by this app.",
                    path=archive,
                    manifest=MANIFEST,
                )
            )
        manifest = json.loads(tar.extractfile(manifest_member).read())  # type: ignore[union-attr]
        if manifest.get("kind") != "backup" or manifest.get("format") != FORMAT:
            raise BackupError(
                _l("%(path)s is not a backup of format %(format)s.", path=archive, format=FORMAT)
            )
        yield tar, manifest, members


def _extract_verified(
    tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo], entry: dict[str, Any], to: Path
) -> None:
    """Copy one archived file out, refusing it unless its bytes hash to the manifest's SHA-256."""
    name = entry["path"]
    member = members.get(name)
    if member is None or not member.isfile():
        raise BackupError(
            _l("%(name)s is in the manifest but not in the archive; nothing restored.", name=name)
        )
    source = tar.extractfile(member)
    assert source is not None  # a regular file always has content
    with source, to.open("wb") as target:
        sha256, _size = _copy_hashed(source, target)
    if sha256 != entry["sha256"]:
        raise BackupError(
            _l(
                "%(name)s does not match its SHA-256 in the manifest; the archive is damaged. "
                "Nothing was restored.",
                name=name,
            )
        )


def _destination(member: str, evidence_dir: Path, reports_dir: Path) -> Path:
    """Return where an archived file goes; refuse a path outside the two folders."""
    match = EVIDENCE_MEMBER.fullmatch(member)
    if match and match.group(2).startswith(match.group(1)):
        return evidence_dir / match.group(1) / match.group(2)
    if member.startswith("reports/"):
        relative = _safe_relative(member.removeprefix("reports/"))
        return reports_dir.joinpath(*relative.parts)
    raise BackupError(_l("Refusing %(name)s: not an evidence file or a report.", name=repr(member)))


def _load_database(copy: Path) -> None:
    """Put the verified database copy into the configured, empty database."""
    url = db.engine.url
    db.session.remove()
    db.engine.dispose()  # no pooled connection may hold the database while it is replaced
    if url.get_backend_name() == "sqlite":
        path = _sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Backing up into the target (not copying over it) leaves no stale WAL behind.
        with closing(sqlite3.connect(copy)) as source, closing(sqlite3.connect(path)) as target:
            source.backup(target)
        return
    _pg_tool(
        "pg_restore",
        [
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            str(copy),
        ],
        url,
    )


# --- what an organisation owns ------------------------------------------------------------------


def owned_tables() -> list[Table]:
    """Return the tables whose rows belong to an organisation, parents before children."""
    owned = {"organisation"}
    grew = True
    while grew:
        grew = False
        for table in db.metadata.tables.values():
            if table.name not in owned and _owner_key(table, owned) is not None:
                owned.add(table.name)
                grew = True
    return [table for table in db.metadata.sorted_tables if table.name in owned]


def _owner_key(table: Table, owned: set[str]) -> ForeignKey | None:
    """Return the NOT NULL foreign key that ties a table to an owned one (organisation first)."""
    keys = sorted(
        (
            key
            for key in table.foreign_keys
            if not key.parent.nullable and key.column.table.name in owned
        ),
        key=lambda key: (key.column.table.name != "organisation", key.parent.name),
    )
    return keys[0] if keys else None


def _belongs(table: Table, organisation_id: int, owned: set[str]) -> ColumnElement[bool]:
    """Return the condition that picks the organisation's rows of an owned table."""
    if table.name == "organisation":
        return table.c.id == organisation_id
    key = _owner_key(table, owned)
    assert key is not None, f"{table.name} is not owned"
    parent = key.column.table
    if parent.name == "organisation":
        return key.parent == organisation_id
    return key.parent.in_(select(key.column).where(_belongs(parent, organisation_id, owned)))


def _secret(column_name: str) -> bool:
    """Tell whether a column holds a credential, left out of every export."""
    return column_name == "secret" or column_name.endswith("_hash")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):  # a logo: text a spreadsheet keeps whole
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


def _csv(columns: list[str], rows: Iterable[Iterable[Any]]) -> tuple[bytes, int]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow([_cell(value) for value in row])
        count += 1
    return buffer.getvalue().encode(), count


# --- export -------------------------------------------------------------------------------------


def export_organisation(slug: str, target: Path, evidence_dir: Path, reports_dir: Path) -> Summary:
    """Write one organisation's data to a zip: a CSV per table, its files, and a manifest."""
    organisation = accounts.organisation_by_slug(slug)
    tables = owned_tables()
    owned = {table.name for table in tables}
    summary = Summary(target)
    entries: list[Entry] = []
    described: dict[str, Any] = {}
    with _written_atomically(target) as partial, zipfile.ZipFile(partial, "w") as archive:
        for table in tables:
            columns = [c for c in table.columns if not _secret(c.name)]
            rows = db.session.execute(
                select(*columns)
                .where(_belongs(table, organisation.id, owned))
                .order_by(*table.primary_key.columns)
            )
            described[table.name] = _write_csv(archive, table.name, columns, rows, entries)
            described[table.name]["omitted"] = [c.name for c in table.columns if _secret(c.name)]
        members = (
            select(*(User.__table__.c[name] for name in USER_COLUMNS))
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.organisation_id == organisation.id)
            .order_by(User.id)
        )
        user_columns = [User.__table__.c[name] for name in USER_COLUMNS]
        described["user_account"] = _write_csv(
            archive, "user_account", user_columns, db.session.execute(members), entries
        )
        files = stored_files(evidence_dir, reports_dir, organisation.id)
        entries += _add_files(files, summary, lambda m, p: _file_to_zip(archive, m, p))
        manifest = {
            "format": FORMAT,
            "kind": "organisation-export",
            "created_at": utcnow().isoformat(),
            "organisation": {"id": organisation.id, "slug": organisation.slug},
            "tables": described,
            "files": [entry.as_dict() for entry in entries],
            "missing": summary.missing,
            "damaged": summary.damaged,
        }
        archive.writestr(MANIFEST, _json(manifest), zipfile.ZIP_DEFLATED)
    return summary


def _write_csv(
    archive: zipfile.ZipFile,
    name: str,
    columns: list[Any],
    rows: Iterable[Iterable[Any]],
    entries: list[Entry],
) -> dict[str, Any]:
    data, count = _csv([c.name for c in columns], rows)
    path = f"tables/{name}.csv"
    archive.writestr(path, data, zipfile.ZIP_DEFLATED)
    entries.append(Entry(path, hashlib.sha256(data).hexdigest(), len(data)))
    return {"file": path, "rows": count, "columns": [c.name for c in columns]}


def _file_to_zip(archive: zipfile.ZipFile, member: str, path: Path) -> Entry:
    info = zipfile.ZipInfo.from_file(path, member)
    info.compress_type = zipfile.ZIP_STORED  # photos, video and PDFs are compressed already
    with path.open("rb") as source, archive.open(info, "w") as target:
        sha256, size = _copy_hashed(source, target)
    return Entry(member, sha256, size)


# --- purge --------------------------------------------------------------------------------------


@dataclass
class Purge:
    """What a purge removed, and the files to delete once it is committed."""

    rows: dict[str, int]
    users_removed: int
    users_anonymised: int
    files: list[StoredFile]


def purge_organisation(slug: str, confirm: str, evidence_dir: Path, reports_dir: Path) -> Purge:
    """Remove an organisation and everything it owns; flush, the caller commits.

    Its members' accounts go too when they belong nowhere else; an account whose name is still
    on another organisation's records (the ledger is append-only) is emptied of personal data
    instead. Files are removed by remove_files once the transaction is committed.
    """
    if confirm != slug:
        raise ValidationError(
            _l(
                "To purge %(slug)s, repeat its slug: --confirm %(slug)s. Nothing was removed.",
                slug=slug,
            )
        )
    organisation = accounts.organisation_by_slug(slug)
    db.session.flush()
    tables = owned_tables()
    owned = {table.name for table in tables}
    member_ids = set(
        db.session.scalars(
            select(Membership.user_id).where(Membership.organisation_id == organisation.id)
        )
    )
    files = stored_files(evidence_dir, reports_dir, organisation.id)
    rows: dict[str, int] = {}
    try:
        _forget_partner(organisation.id)
        _forget_references(organisation.id, owned)
        for table in reversed(tables):  # children first
            chosen = _belongs(table, organisation.id, owned)
            rows[table.name] = db.session.execute(delete(table).where(chosen)).rowcount
        removed, anonymised = _remove_lone_users(member_ids, owned)
    except IntegrityError as error:
        raise Conflict(
            _l(
                "Other records still refer to %(slug)s's data, so nothing was removed (%(error)s).",
                slug=slug,
                error=error.orig,
            )
        ) from error
    db.session.expunge_all()  # the ORM's copies of deleted rows must not be written back
    return Purge(rows, removed, anonymised, [f for f in files if _unshared(f)])


def _forget_partner(organisation_id: int) -> None:
    """Remove other organisations' links and shipments to this one; their ledgers stay whole.

    A partnership and a shipment belong to the organisation that asked or sent, yet name the
    other one too (never empty): they go, while both sides' movements stay, without the
    shipment they named.
    """
    received = select(Shipment.id).where(Shipment.to_organisation_id == organisation_id)
    either = select(Shipment.id).where(
        (Shipment.organisation_id == organisation_id)
        | (Shipment.to_organisation_id == organisation_id)
    )
    db.session.execute(
        update(StockMovement).where(StockMovement.shipment_id.in_(either)).values(shipment_id=None)
    )
    db.session.execute(delete(ShipmentLine).where(ShipmentLine.shipment_id.in_(received)))
    db.session.execute(delete(Shipment).where(Shipment.to_organisation_id == organisation_id))
    db.session.execute(delete(Partnership).where(Partnership.partner_id == organisation_id))


def _forget_references(organisation_id: int, owned: set[str]) -> None:
    """Empty the optional references other tables hold to the organisation's rows."""
    for table in db.metadata.sorted_tables:
        if table.name in owned:
            continue
        for key in table.foreign_keys:
            parent = key.column.table
            if parent.name in owned and key.parent.nullable:
                chosen = select(key.column).where(_belongs(parent, organisation_id, owned))
                db.session.execute(
                    update(table).where(key.parent.in_(chosen)).values({key.parent.name: None})
                )


def _remove_lone_users(member_ids: set[int], owned: set[str]) -> tuple[int, int]:
    """Remove the members left with no membership; return (removed, anonymised)."""
    still_members = set(
        db.session.scalars(select(Membership.user_id).where(Membership.user_id.in_(member_ids)))
    )
    removed = anonymised = 0
    users = User.__table__
    for user_id in sorted(member_ids - still_members):
        email = db.session.scalar(select(users.c.email).where(users.c.id == user_id))
        _delete_own_rows(user_id, owned)
        db.session.execute(delete(LoginThrottle).where(LoginThrottle.email == email))
        if _named_elsewhere(user_id):
            db.session.execute(
                update(users)
                .where(users.c.id == user_id)
                .values(
                    email=f"removed-{user_id}@removed.invalid",
                    display_name=REMOVED_NAME,
                    password_hash="!",  # matches no password
                    active=False,
                )
            )
            anonymised += 1
        else:
            db.session.execute(delete(users).where(users.c.id == user_id))
            removed += 1
    return removed, anonymised


def _user_keys() -> Iterator[ForeignKey]:
    for table in db.metadata.sorted_tables:
        for key in table.foreign_keys:
            if key.column.table.name == "user_account" and table.name != "user_account":
                yield key


def _delete_own_rows(user_id: int, owned: set[str]) -> None:
    """Delete rows that are the user's own (sign-ins, reset links); clear optional mentions."""
    for key in _user_keys():
        table = key.parent.table
        if table.name not in owned and not key.parent.nullable:
            db.session.execute(delete(table).where(key.parent == user_id))
        elif key.ondelete == "SET NULL":
            db.session.execute(
                update(table).where(key.parent == user_id).values({key.parent.name: None})
            )


def _named_elsewhere(user_id: int) -> bool:
    """Tell whether records that must not change (e.g. the ledger) still name the user."""
    return any(
        db.session.scalar(select(literal(1)).where(key.parent == user_id).limit(1)) is not None
        for key in _user_keys()
    )


def _unshared(stored: StoredFile) -> bool:
    """Tell whether no remaining record uses a file (evidence is shared by content hash)."""
    if not stored.member.startswith("evidence/"):
        return True
    used = select(literal(1)).where(Evidence.sha256 == stored.sha256).limit(1)
    return db.session.scalar(used) is None


def remove_files(files: list[StoredFile]) -> int:
    """Delete a committed purge's files (evidence still in use is kept); return how many."""
    removed = 0
    for stored in files:
        if not _unshared(stored):
            continue  # uploaded again by another organisation since the purge
        if stored.path.is_file():
            stored.path.unlink()
            removed += 1
        _remove_empty(stored.path.parent)
    return removed


def _remove_empty(folder: Path) -> None:
    with suppress(OSError):  # not empty, or already gone
        folder.rmdir()
