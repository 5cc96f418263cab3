"""The APScheduler 3 scheduler: fixed job ids, coalescing, one instance of each job at a time."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask

from .jobs import run_job

log = logging.getLogger(__name__)
JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 600}
DIGEST_CHECK_MINUTES = 15
WEEKLY_CHECK_MINUTES = 60
# Queued reports are looked for this often (one indexed query when there are none).
REPORT_QUEUE_SECONDS = 10
# Writes that change what is held or committed are looked for this often (one small query);
# with changes.QUIET and LONGEST, a change is checked within a minute.
CHANGED_CHECK_SECONDS = 15
HOUSEKEEPING_MINUTES = 60


def build_scheduler(app: Flask, *, blocking: bool) -> BaseScheduler:
    """Return a scheduler with every job registered under its fixed id."""
    kind = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = kind(job_defaults=JOB_DEFAULTS, timezone="UTC")
    triggers = {
        "check-shortages": IntervalTrigger(minutes=app.config["CHECK_SHORTAGES_MINUTES"]),
        # Only the organisations written to since: the full check's lock, so never alongside.
        "check-changed": IntervalTrigger(seconds=CHANGED_CHECK_SECONDS),
        # Nightly, when nobody is recording outcomes.
        "extend-series": CronTrigger(hour=2, minute=30, timezone="Europe/Paris"),
        # Each organisation's digest goes at 07:00 its own time; the job checks often.
        "daily-digest": IntervalTrigger(minutes=DIGEST_CHECK_MINUTES),
        # Each organisation's weekly report is due at its own day and hour; checked hourly.
        "weekly-reports": IntervalTrigger(minutes=WEEKLY_CHECK_MINUTES),
        # Reports asked for on the page or through the API, made off the request path.
        "make-reports": IntervalTrigger(seconds=REPORT_QUEUE_SECONDS),
        # Pledges lapse by the day and addresses are kept by the day: hourly is on time.
        "donor-housekeeping": IntervalTrigger(minutes=HOUSEKEEPING_MINUTES),
        # The month's level snapshot, nightly: a missed night is made up the next.
        "take-snapshots": CronTrigger(hour=3, minute=15, timezone="Europe/Paris"),
    }
    # The full check runs at start-up too: no blind half-hour after a restart.
    first_runs = {"check-shortages": datetime.now(UTC)}
    for name, trigger in triggers.items():
        extra = {"next_run_time": first_runs[name]} if name in first_runs else {}
        scheduler.add_job(
            _runner(app, name), trigger=trigger, id=name, name=name, replace_existing=True, **extra
        )
    return scheduler


def _runner(app: Flask, name: str):  # type: ignore[no-untyped-def]
    def run() -> None:
        try:
            log.info("%s: %s", name, run_job(app, name))
        except Exception:  # a failed run is logged; the scheduler keeps going
            log.exception("job %s failed", name)

    return run


def wake(app: Flask, name: str) -> None:
    """Run a job of the in-process scheduler now rather than at its next turn (make run)."""
    scheduler = app.extensions.get("scheduler")
    if scheduler is None:  # the scheduler is a process of its own: it comes in seconds
        return
    job = scheduler.get_job(name)
    if job is not None:
        job.modify(next_run_time=datetime.now(UTC))


def start_in_process(app: Flask) -> BaseScheduler:
    """Start the scheduler in a background thread of the web process (make run)."""
    scheduler = build_scheduler(app, blocking=False)
    scheduler.start()
    app.extensions["scheduler"] = scheduler
    return scheduler
