"""Flask commands: organisations, users, tokens, demo data, ledger check, reports, backups."""

from __future__ import annotations

import getpass
import re
import shutil
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from .database import write_intent
from .extensions import db
from .i18n import LANGUAGES
from .jobs import JOBS, run_job
from .models import REPORT_KINDS
from .services import accounts, backup, lots, reports, snapshots, stock
from .services.distributions import local_today
from .services.errors import ServiceError


def register_commands(app: Flask) -> None:
    """Attach the commands to `flask --app logistics`."""
    for command in (
        create_org,
        create_user,
        create_token,
        set_password,
        check_ledger,
        take_snapshots_command,
        backup_command,
        restore_command,
        export_org,
        purge_org,
        seed_demo,
        run_job_command,
        scheduler_command,
        report_command,
    ):
        app.cli.add_command(command)


F = TypeVar("F", bound=Callable[..., Any])


def locale_option(help_text: str) -> Callable[[F], F]:
    """Declare --locale: one of the languages the app speaks, English by default."""
    return click.option(
        "--locale", default="en", show_default=True, type=click.Choice(LANGUAGES), help=help_text
    )


def _fail(message: str) -> None:
    db.session.rollback()
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


@click.command("create-org")
@click.argument("name")
@click.option("--slug", required=True, help="Short name used in URLs, e.g. calais-aid.")
@click.option("--timezone", default="Europe/Paris", show_default=True)
@locale_option("The language members read unless they choose their own.")
@with_appcontext
def create_org(name: str, slug: str, timezone: str, locale: str) -> None:
    """Create an organisation."""
    with write_intent():
        try:
            organisation = accounts.create_organisation(name, slug, timezone, locale)
            db.session.commit()
        except ServiceError as error:
            _fail(error.message)
    click.echo(f"Created {organisation.name} ({organisation.slug}).")


@click.command("create-user")
@click.argument("email")
@click.option("--org", "slug", required=True, help="Organisation slug.")
@click.option("--role", required=True, type=click.Choice(accounts.ROLES))
@click.option("--password", default=None, help="Prompted for when not given.")
@click.option("--name", "display_name", default=None, help="Display name.")
@with_appcontext
def create_user(
    email: str, slug: str, role: str, password: str | None, display_name: str | None
) -> None:
    """Create a user (or add an existing one) with a role in an organisation."""
    with write_intent():
        try:
            organisation = accounts.organisation_by_slug(slug)
            if password is None and accounts.user_by_email(email) is None:
                password = _prompt_password()
            accounts.add_member(
                organisation.id, email, role, password=password, display_name=display_name
            )
            db.session.commit()
        except ServiceError as error:
            _fail(error.message)
    click.echo(f"{email} is {role} in {organisation.name}.")


def _prompt_password() -> str:
    if not sys.stdin.isatty():
        return click.prompt("Password", hide_input=True)
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Again: "):
        _fail("The passwords differ.")
    return first


@click.command("create-token")
@click.argument("email")
@click.option("--org", "slug", required=True, help="Organisation slug.")
@click.option("--label", default="command line")
@with_appcontext
def create_token(email: str, slug: str, label: str) -> None:
    """Create an API token; it is printed alone on the last line."""
    with write_intent():
        organisation = _or_fail(lambda: accounts.organisation_by_slug(slug))
        user = accounts.user_by_email(email)
        membership = next(
            (m for m in (user.memberships if user else []) if m.organisation_id == organisation.id),
            None,
        )
        if membership is None:
            _fail(f"{email} is not a member of {slug}.")
        token = accounts.create_token(membership.id, label)
        db.session.commit()
    click.echo(f"API token for {email} as {membership.role} in {slug} (shown once):")
    click.echo(token)


@click.command("set-password")
@click.argument("email")
@click.option("--password", default=None, help="Prompted for when not given.")
@with_appcontext
def set_password(email: str, password: str | None) -> None:
    """Set someone's password; every device they signed in on and their API tokens end."""
    with write_intent():
        if accounts.user_by_email(email) is None:
            _fail(f"No account with the address {email}.")
        try:
            accounts.set_password(email, password if password is not None else _prompt_password())
            db.session.commit()
        except ServiceError as error:
            _fail(error.message)
    click.echo(f"Password set for {email}; their sign-ins and API tokens ended.")


def _or_fail(produce):  # type: ignore[no-untyped-def]
    try:
        return produce()
    except ServiceError as error:
        _fail(error.message)


@click.command("check-ledger")
@with_appcontext
def check_ledger() -> None:
    """Prove levels, lots and snapshots equal the sums of their movements; exit 1 when not."""
    mismatches = stock.check_ledger()
    lot_mismatches = lots.check_lots()
    snapshot_mismatches = snapshots.check_snapshots()
    if not (mismatches or lot_mismatches or snapshot_mismatches):
        click.echo(
            "Ledger OK: every stock level, best-before lot and monthly snapshot equals the sum"
            " of its movements."
        )
        return
    for m in mismatches:
        click.echo(
            f"organisation {m.organisation_id}: {m.item} at {m.site}: "
            f"level {m.level}, movements sum to {m.movements}"
        )
    for lot in lot_mismatches:
        if lot.best_before is None:
            click.echo(
                f"organisation {lot.organisation_id}: {lot.item} at {lot.site}: "
                f"lots hold {lot.held}, more than the level {lot.expected}"
            )
        else:
            click.echo(
                f"organisation {lot.organisation_id}: {lot.item} at {lot.site}, best before "
                f"{lot.best_before.isoformat()}: lot {lot.held}, its draws sum to {lot.expected}"
            )
    for snap in snapshot_mismatches:
        click.echo(
            f"organisation {snap.organisation_id}: {snap.item} at {snap.site}, snapshot of "
            f"{snap.taken_at.isoformat()}: {snap.snapshot}, movements sum to {snap.movements}"
        )
    total = len(mismatches) + len(lot_mismatches) + len(snapshot_mismatches)
    click.echo(f"{total} figure(s) differ from the ledger.", err=True)
    sys.exit(1)


@click.command("take-snapshots")
@click.option(
    "--org", "slug", default=None, help="Organisation slug; every organisation when left out."
)
@with_appcontext
def take_snapshots_command(slug: str | None) -> None:
    """Write the monthly level snapshots not yet taken (the nightly job does it too)."""
    with write_intent():
        organisation_id = _or_fail(lambda: accounts.organisation_by_slug(slug)).id if slug else None
        taken = snapshots.take_snapshots(organisation_id)
        db.session.commit()
    click.echo(f"{taken} monthly level snapshot(s) taken.")


@click.command("backup")
@click.argument("target", type=click.Path(path_type=Path))
@with_appcontext
def backup_command(target: Path) -> None:
    """Write the database, evidence files and reports to one archive (a folder: dated name)."""
    summary = _with_files(lambda: backup.backup(target, *_file_dirs()))
    click.echo(
        f"Backed up the database and {summary.files} file(s) "
        f"({summary.bytes / 1e6:.1f} MB) to {summary.path}."
    )
    _warn_files(summary)


@click.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def restore_command(archive: Path) -> None:
    """Fill this empty instance from a backup ARCHIVE, checking every file's SHA-256."""
    work_dir = Path(current_app.config["INSTANCE_DIR"])
    summary = _with_files(lambda: backup.restore(archive, *_file_dirs(), work_dir))
    click.echo(f"Restored the database and {summary.files} file(s) from {archive}.")
    _warn_files(summary)
    click.echo("Next: flask --app logistics db upgrade, then check-ledger.")


@click.command("export-org")
@click.argument("slug")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def export_org(slug: str, target: Path) -> None:
    """Write one organisation's data to a zip: a CSV per table, its files, a manifest."""
    summary = _with_files(lambda: backup.export_organisation(slug, target, *_file_dirs()))
    db.session.rollback()
    click.echo(f"Exported {slug} with {summary.files} file(s) to {target}.")
    _warn_files(summary)


@click.command("purge-org")
@click.argument("slug")
@click.option("--confirm", required=True, help="The slug again, to show you mean it.")
@with_appcontext
def purge_org(slug: str, confirm: str) -> None:
    """Remove an organisation, its data, its files and members who belong nowhere else."""
    with write_intent():
        purge = _or_fail(lambda: backup.purge_organisation(slug, confirm, *_file_dirs()))
        db.session.commit()
    files = backup.remove_files(purge.files)
    db.session.rollback()
    click.echo(
        f"Purged {slug}: {sum(purge.rows.values())} row(s), {files} file(s), "
        f"{purge.users_removed} account(s) removed, {purge.users_anonymised} emptied "
        "(still named on another organisation's records)."
    )


def _with_files(produce):  # type: ignore[no-untyped-def]
    try:
        return _or_fail(produce)
    except OSError as error:
        _fail(f"Could not use {error.filename or 'a file'}: {error.strerror or error}.")


def _file_dirs() -> tuple[Path, Path]:
    config = current_app.config
    return Path(config["EVIDENCE_DIR"]), Path(config["REPORTS_DIR"])


def _warn_files(summary: backup.Summary) -> None:
    for member in summary.missing:
        click.echo(f"Warning: {member} was missing when the backup was made.", err=True)
    for member in summary.damaged:
        click.echo(f"Warning: {member} no longer matches its recorded SHA-256.", err=True)


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when any organisation exists.")
@locale_option("The language the demo's members read.")
@with_appcontext
def seed_demo(if_empty: bool, locale: str) -> None:
    """Build the demo organisation (slug demo) and print its logins."""
    from .demo import DEMO_PASSWORD, demo_logins, seed

    with write_intent():
        created = seed(if_empty=if_empty, locale=locale)
        db.session.commit()
    if not created:
        click.echo("Data already present; demo not seeded.")
    click.echo(f"Demo logins (password: {DEMO_PASSWORD}) at http://127.0.0.1:5000 :")
    for email, role in demo_logins():
        click.echo(f"  {role:<12} {email}")


@click.command("run-job")
@click.argument("name", type=click.Choice(sorted(JOBS)))
def run_job_command(name: str) -> None:
    """Run one scheduled job once, now."""
    click.echo(run_job(current_app._get_current_object(), name))


@click.command("scheduler")
def scheduler_command() -> None:
    """Run the scheduler in the foreground (production: its own process)."""
    from .scheduler import build_scheduler

    app = current_app._get_current_object()
    scheduler = build_scheduler(app, blocking=True)
    click.echo("Scheduler running: " + ", ".join(job.id for job in scheduler.get_jobs()))
    scheduler.start()


@click.command("report")
@click.argument("kind")
@click.option("--org", "slug", required=True, help="Organisation slug.")
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="PDF to write."
)
@click.option("--from", "first", default=None, help="First day, YYYY-MM-DD.")
@click.option("--to", "last", default=None, help="Last day, YYYY-MM-DD.")
@click.option("--site-id", type=int, default=None, help="stocktake: the site to count.")
@click.option("--distribution-id", type=int, default=None, help="run_sheet: the distribution.")
@with_appcontext
def report_command(
    kind: str,
    slug: str,
    out: Path,
    first: str | None,
    last: str | None,
    site_id: int | None,
    distribution_id: int | None,
) -> None:
    """Make a report KIND, archive it like any other, and copy its PDF to FILE."""

    if kind not in REPORT_KINDS:
        _fail(f"KIND is one of: {', '.join(REPORT_KINDS)}.")
    reports_dir = Path(current_app.config["REPORTS_DIR"])
    archived: Path | None = None
    with write_intent():
        try:
            organisation = accounts.organisation_by_slug(slug)
            report_request = reports.build_request(
                kind,
                local_today(organisation.id),
                _day("--from", first),
                _day("--to", last),
                site_id,
                distribution_id,
            )
            report = reports.generate(organisation.id, None, report_request, reports_dir)
            archived = reports_dir / report.file_path
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(archived, out)
            db.session.commit()
        except ServiceError as error:
            _fail(error.message)
        except OSError as error:
            # Nothing half-written: no Report row without its file, no file without its row.
            if archived is not None:
                archived.unlink(missing_ok=True)
            _fail(f"Could not write {error.filename or out}: {error.strerror or error}.")
    click.echo(f"Wrote {out} ({report.title}, archived as {report.file_path}).")
    click.echo(f"SHA-256 {report.sha256}")


def _day(option: str, value: str | None) -> date | None:
    if value is None:
        return None
    if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    _fail(f"{option} takes a date written YYYY-MM-DD, not {value!r}.")
    return None
