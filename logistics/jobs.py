"""Scheduled jobs: each takes its database lock, calls services, and commits or rolls back.

Every job reconciles state, so running it twice, or in two schedulers at once, changes
nothing more than running it once.
"""

from __future__ import annotations

import logging
import os
import socket
import time as clock
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import time, timedelta
from pathlib import Path

from flask import Flask, current_app
from flask_babel import force_locale
from sqlalchemy import select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from .database import reset_write_intent, set_write_intent, write_intent
from .extensions import db
from .models import Delivery, JobLock, Organisation, Report
from .models.types import utcnow
from .notify import DeliveryFailed, compose, send
from .services import alerts, changes, distributions, pledges, reports, snapshots, subscribers
from .services.accounts import organisation_zone

log = logging.getLogger(__name__)
LOCK_LEASE = timedelta(minutes=30)
DIGEST_LOCAL_TIME = time(7, 0)
PROGRESS_SECONDS = 1.0  # a running report's page count is written at most this often


class JobBusy(RuntimeError):
    """Another scheduler is running this job right now."""


def extend_series() -> str:
    """Keep every recurring distribution generated 28 days ahead."""
    created = distributions.extend_all_series()
    db.session.commit()
    return f"{created} distribution(s) generated."


def check_shortages() -> str:
    """Reconcile every organisation's alerts, then make the first attempt of due deliveries."""
    return _check(dict.fromkeys(_organisation_ids()), "check-shortages")


def check_changed() -> str:
    """Reconcile only the organisations a write marked, once the writes settle; then send.

    The marks read are deleted in the same transaction as the check, so a change is checked
    once; a write after the read leaves a newer mark for the next turn.
    """
    due = changes.due()
    db.session.commit()
    if not due:
        return "nothing changed."
    return _check(due, "check-changed")


def _check(organisations: dict[int, list[int] | None], job: str) -> str:
    """Reconcile each organisation (forgetting the marks read for it), commit, then send."""
    changed = failed_orgs = 0
    for organisation_id, mark_ids in organisations.items():
        try:
            made = alerts.reconcile(organisation_id)
            if mark_ids:
                changes.forget(organisation_id, mark_ids)
            db.session.commit()
            changed += sum(1 for c in made if c.change != "expired")
        except Exception:  # one organisation's trouble must not stop the others
            db.session.rollback()
            failed_orgs += 1
            log.exception("%s failed for organisation %s", job, organisation_id)
    sent, failed = send_due_deliveries()
    summary = f"{changed} alert change(s); {sent} delivered, {failed} failed."
    return summary + (f" {failed_orgs} organisation(s) failed." if failed_orgs else "")


def daily_digest() -> str:
    """Queue each organisation's digest once its local day has passed 07:00, then send."""
    queued = 0
    now = utcnow()
    for organisation_id in _organisation_ids():
        local = now.astimezone(organisation_zone(organisation_id))
        if local.time() >= DIGEST_LOCAL_TIME:
            queued += alerts.queue_digests(organisation_id, local.date(), now)
            db.session.commit()
    sent, failed = send_due_deliveries()
    return f"{queued} digest(s) queued; {sent} delivered, {failed} failed."


def weekly_reports() -> str:
    """Make each organisation's weekly donor report once, when due, and mail subscribers.

    It is written in the organisation's language; each subscriber's e-mail in theirs.
    """
    made = 0
    now = utcnow()
    reports_dir = Path(current_app.config["REPORTS_DIR"])
    for organisation_id in _organisation_ids():
        organisation = db.session.get(Organisation, organisation_id)
        due = reports.weekly_due(organisation, now)
        if due is None or reports.scheduled_exists(organisation_id, due[0]):
            db.session.rollback()
            continue
        key, first, last = due
        try:
            report = reports.generate(
                organisation_id,
                None,
                reports.ReportRequest("shortfall", first, last),
                reports_dir,
                schedule_key=key,
                now=now,
            )
            reports.queue_report_deliveries(report, now)
            db.session.commit()
            made += 1
        except Exception:  # one organisation's trouble must not stop the others
            db.session.rollback()
            log.exception("weekly report failed for organisation %s", organisation_id)
    sent, failed = send_due_deliveries()
    return f"{made} weekly report(s) made; {sent} delivered, {failed} failed."


def make_reports() -> str:
    """Make every queued report, oldest first: claim it, render it, archive it or fail it."""
    reports_dir = Path(current_app.config["REPORTS_DIR"])
    recovered = reports.recover_interrupted()
    db.session.commit()
    made = failed = 0
    while (report_id := reports.next_queued()) is not None:
        report = reports.claim(report_id)
        db.session.commit()  # the claim stands: a twin run skips this report
        if report is None:
            continue
        progress = _Progress(report_id)
        try:
            # A plain read transaction while it renders (seconds to minutes): on SQLite a
            # writer's one would hold every other writer back, progress included.
            reading = set_write_intent(False)
            try:
                pdf = reports.render_queued(report, progress)
                db.session.rollback()
            finally:
                reset_write_intent(reading)
            reports.finish(report_id, pdf, progress.pages, reports_dir)
            db.session.commit()
            made += 1
        except Exception as exc:  # one report's trouble must not stop the others
            db.session.rollback()
            log.exception("report %s could not be made", report_id)
            with force_locale(report.locale):  # why it failed, in the report's language
                reports.fail(report_id, reports.failure_reason(exc))
            db.session.commit()
            failed += 1
    summary = f"{made} report(s) made, {failed} failed."
    return summary + (f" {recovered} interrupted run(s) recovered." if recovered else "")


class _Progress:
    """Count a running report's pages; write the count now and then, in its own transaction."""

    def __init__(self, report_id: int) -> None:
        self.report_id = report_id
        self.pages = 0
        self._written = clock.monotonic()

    def __call__(self, page: int) -> None:
        self.pages = page
        now = clock.monotonic()
        if now - self._written < PROGRESS_SECONDS:
            return
        self._written = now
        # Not the session's transaction: that one is reading the report's rows.
        with write_intent(), db.engine.begin() as connection:
            connection.execute(
                update(Report)
                .where(Report.id == self.report_id, Report.status == "running")
                .values(pages=page)
            )


def send_due_deliveries() -> tuple[int, int]:
    """Try every due delivery once; a failing delivery is logged and never stops the rest."""
    return _deliver(alerts.due_delivery_ids())


def deliver_batch_now(batch_id: int) -> tuple[int, int]:
    """Send a batch's due deliveries now (an eviction saved by a request); never raise.

    The same claim, attempt and record as the scheduler, so nothing goes twice; what fails
    stays queued for the scheduler's retries.
    """
    try:
        with write_intent():
            return _deliver(alerts.due_delivery_ids(batch_id=batch_id))
    except Exception:  # the request that saved the incident must not fail for a message
        db.session.rollback()
        log.exception("batch %s could not be delivered now; the scheduler retries", batch_id)
        return 0, 0


def deliver_eviction_now(organisation_id: int, incident_id: int) -> tuple[int, int]:
    """Send at once what an incident's save queued about its replacement; never raise."""
    try:
        batch_ids = alerts.pending_batches_of(organisation_id, f"incident:{incident_id}")
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("incident %s: its alert could not be looked up", incident_id)
        return 0, 0
    sent = failed = 0
    for batch_id in batch_ids:
        ok, bad = deliver_batch_now(batch_id)
        sent, failed = sent + ok, failed + bad
    return sent, failed


def _deliver(delivery_ids: list[int]) -> tuple[int, int]:
    """Claim, attempt and record each delivery; return how many were sent and failed."""
    config = current_app.config
    sent = failed = 0
    for delivery_id in delivery_ids:
        delivery = alerts.claim(delivery_id)
        db.session.commit()  # the claim (and its attempt) stands whatever happens next
        if delivery is None:
            continue
        channel_kind = delivery.channel.kind
        error = _attempt(delivery, config)
        if error is None:
            sent += 1
        else:
            failed += 1
            log.warning("delivery %s by %s failed: %s", delivery_id, channel_kind, error)
        alerts.record_attempt(delivery_id, error)
        db.session.commit()
    return sent, failed


def _attempt(delivery: Delivery, config: dict) -> str | None:
    """Compose and send one claimed delivery; return why it failed, or None when sent."""
    try:
        message = compose(delivery, config)
        channel = delivery.channel
        db.session.commit()  # hold no database lock while the network is slow
        send(channel, message, config)
    except DeliveryFailed as exc:
        return str(exc)
    except Exception as exc:  # e.g. an archived report gone missing: log it, keep going
        db.session.rollback()
        log.exception("delivery %s could not be composed or sent", delivery.id)
        return f"{exc.__class__.__name__}: {exc}"
    return None


def _organisation_ids() -> list[int]:
    ids = list(db.session.scalars(select(Organisation.id).order_by(Organisation.id)))
    db.session.commit()
    return ids


def donor_housekeeping() -> str:
    """Lapse pledges nobody brought, and forget donors' addresses once they have served."""
    now = utcnow()
    lapsed = pledges.lapse_due(now)
    contacts = pledges.forget_contacts(now)
    unconfirmed = subscribers.forget_unconfirmed(now)
    db.session.commit()
    return (
        f"{lapsed} pledge(s) lapsed; {contacts} pledge contact(s) and "
        f"{unconfirmed} unconfirmed subscriber(s) deleted."
    )


def take_snapshots() -> str:
    """Write down each organisation's levels at the start of every month not yet written."""
    with write_intent():
        taken = snapshots.take_snapshots()
        db.session.commit()
    return f"{taken} monthly level snapshot(s) taken."


JOBS: dict[str, Callable[[], str]] = {
    "check-shortages": check_shortages,
    "check-changed": check_changed,
    "extend-series": extend_series,
    "daily-digest": daily_digest,
    "weekly-reports": weekly_reports,
    "make-reports": make_reports,
    "donor-housekeeping": donor_housekeeping,
    "take-snapshots": take_snapshots,
}


# Jobs that share another's lock: the quick check never reconciles alongside the full one.
LOCKS = {"check-changed": "check-shortages"}


def run_job(app: Flask, name: str) -> str:
    """Run one job once under its lock, in an app context; return what it did."""
    job = JOBS[name]
    with app.app_context(), write_intent():
        try:
            with job_lock(LOCKS.get(name, name)):
                return job()
        except JobBusy:
            return f"{name} is already running elsewhere; skipped."
        except BaseException:
            db.session.rollback()
            raise
        finally:
            db.session.remove()


@contextmanager
def job_lock(name: str) -> Iterator[None]:
    """Hold the job's database lock: an advisory lock on PostgreSQL, a lock row on SQLite."""
    if db.engine.dialect.name == "postgresql":
        with _advisory_lock(name):
            yield
        return
    holder = f"{socket.gethostname()}:{os.getpid()}"
    if not _take_lock_row(name, holder):
        raise JobBusy(name)
    try:
        yield
    finally:
        db.session.rollback()
        db.session.execute(
            JobLock.__table__.update()
            .where(JobLock.name == name, JobLock.holder == holder)
            .values(expires_at=None, holder="")
        )
        db.session.commit()


@contextmanager
def _advisory_lock(name: str) -> Iterator[None]:
    key = zlib.crc32(f"logistics-job:{name}".encode())
    with db.engine.connect() as connection:
        taken = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key})
        if not taken.scalar():
            connection.rollback()
            raise JobBusy(name)
        connection.commit()
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            connection.commit()


def _take_lock_row(name: str, holder: str) -> bool:
    """Insert or take over an expired lock row; True when this process now holds it."""
    now = utcnow()
    expires = now + LOCK_LEASE
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(JobLock).values(name=name, holder=holder, expires_at=expires)
    statement = statement.on_conflict_do_update(
        index_elements=["name"],
        set_={"holder": holder, "expires_at": expires},
        where=(JobLock.expires_at.is_(None)) | (JobLock.expires_at < now),
    )
    result = db.session.execute(statement)
    db.session.commit()
    return result.rowcount == 1
