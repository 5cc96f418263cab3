"""Long reports off the request path: queued, running with pages so far, then ready or failed."""

from __future__ import annotations

import hashlib
import io
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from conftest import form_token
from pypdf import PdfReader
from sqlalchemy import event, select

from logistics import jobs
from logistics.extensions import db
from logistics.jobs import run_job
from logistics.models import Report
from logistics.services import distributions, incidents, reports
from logistics.services.incidents import IncidentInput
from logistics.services.reports import ReportRequest

DESCRIPTION = "Tents slashed at dawn; the police kept the volunteers back."


def record_incident(world, description: str = DESCRIPTION) -> None:
    incidents.record_incident(
        world.org_id,
        None,
        IncidentInput(
            occurred_at=datetime.now(UTC) - timedelta(hours=2),
            kind="eviction",
            area="Calais",
            description=description,
        ),
    )
    db.session.commit()


def queue_evidence(world) -> int:
    report_id = reports.queue(world.org_id, None, ReportRequest("evidence")).id
    db.session.commit()  # and no read after it: the job's writes come next
    return report_id


def state(report_id: int) -> Report:
    db.session.rollback()  # read what the job committed
    return db.session.get(Report, report_id, populate_existing=True)


def test_an_evidence_report_is_queued_then_made_by_the_job(app, world, api):
    record_incident(world, "Pêche à Étaples: " + DESCRIPTION)
    coordinator = api("coordinator")
    asked = coordinator.post("/reports", {"kind": "evidence", "request_token": "e1"})
    assert asked.status_code == 202, asked.get_json()
    queued = asked.get_json()
    assert (queued["status"], queued["pdf_url"], queued["sha256"]) == ("queued", None, None)
    assert coordinator.get(f"/reports/{queued['id']}").get_json()["status"] == "queued"
    assert coordinator.get(f"/reports/{queued['id']}.pdf").status_code == 409
    replay = coordinator.post("/reports", {"kind": "evidence", "request_token": "e1"})
    assert replay.status_code == 202 and replay.get_json()["replayed"] is True

    assert run_job(app, "make-reports") == "1 report(s) made, 0 failed."
    made = coordinator.get(f"/reports/{queued['id']}").get_json()
    assert made["status"] == "ready" and made["failure"] is None and made["pages"] == 1
    assert made["pdf_url"] == f"/api/v1/reports/{queued['id']}.pdf"
    pdf = coordinator.get(made["pdf_url"].removeprefix("/api/v1"))
    assert pdf.status_code == 200 and hashlib.sha256(pdf.data).hexdigest() == made["sha256"]
    pages = PdfReader(io.BytesIO(pdf.data)).pages
    text = " ".join(" ".join(page.extract_text().split()) for page in pages)
    assert "Pêche à Étaples" in text and "Page 1 of 1" in text
    assert run_job(app, "make-reports") == "0 report(s) made, 0 failed."


def test_the_reports_page_shows_each_state(app, world, client_as):
    record_incident(world)
    coordinator = client_as("coordinator")
    page = coordinator.get("/reports").get_data(as_text=True)
    today = distributions.local_today(world.org_id).isoformat()
    form = {
        "request_token": form_token(page),
        "kind": "evidence",
        "first": today,
        "last": today,
        "site_id": "0",
        "distribution_id": "0",
        "day": today,
    }
    asked = coordinator.post("/reports", data=form)
    assert asked.status_code == 302
    report_id = db.session.scalar(select(Report.id))
    waiting = coordinator.get(asked.headers["Location"])
    assert waiting.headers["Refresh"] == "5"
    assert "Waiting its turn" in waiting.text and "made in the background" in waiting.text
    assert f'href="/reports/{report_id}.pdf"' not in waiting.text
    assert coordinator.get(f"/reports/{report_id}.pdf").status_code == 409

    assert reports.claim(report_id) is not None  # a run under way
    db.session.commit()
    running = coordinator.get("/reports")
    assert "Being made (0 pages so far)" in running.text and "Refresh" in running.headers

    # The run above never finished (as if its scheduler stopped): the job makes it again.
    assert "1 report(s) made" in run_job(app, "make-reports")
    assert state(report_id).attempts == 2
    ready = coordinator.get(asked.headers["Location"])
    assert "Refresh" not in ready.headers and "Your PDF is ready" in ready.text
    download = coordinator.get(f"/reports/{report_id}.pdf")
    assert hashlib.sha256(download.data).hexdigest() == state(report_id).sha256


def test_a_report_that_cannot_be_archived_fails_with_its_reason(app, world, client_as, api):
    blocked = Path(app.config["REPORTS_DIR"]) / "calais-aid"
    blocked.parent.mkdir(parents=True, exist_ok=True)
    blocked.write_text("a file where the organisation's folder goes")
    report_id = queue_evidence(world)
    assert run_job(app, "make-reports") == "0 report(s) made, 1 failed."
    failed = state(report_id)
    assert failed.status == "failed" and failed.file_path is None
    assert failed.failure.startswith("The PDF could not be archived: ")
    shown = api("coordinator").get(f"/reports/{report_id}").get_json()
    assert (shown["status"], shown["failure"]) == ("failed", failed.failure)
    assert f"Failed: {failed.failure}" in client_as("coordinator").get("/reports").text


def test_a_run_interrupted_twice_is_not_tried_a_third_time(app, world):
    report_id = queue_evidence(world)
    for _ in range(2):
        db.session.execute(
            Report.__table__.update().where(Report.id == report_id).values(status="queued")
        )
        assert reports.claim(report_id) is not None
        db.session.commit()
    assert reports.claim(report_id) is None  # running: not claimed twice
    db.session.rollback()
    assert "1 interrupted run(s) recovered" in run_job(app, "make-reports")
    assert state(report_id).status == "failed" and "Interrupted twice" in state(report_id).failure


def test_two_job_runs_at_once_make_each_report_once(app, world):
    record_incident(world)
    asked = [queue_evidence(world) for _ in range(3)]
    summaries: list[str] = []
    start = threading.Barrier(2)

    def run() -> None:
        start.wait()
        summaries.append(run_job(app, "make-reports"))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    made = sum(int(summary.split()[0]) for summary in summaries if "made" in summary)
    assert made == 3, summaries
    rows = [state(report_id) for report_id in asked]
    assert [row.status for row in rows] == ["ready"] * 3 and [r.attempts for r in rows] == [1] * 3
    files = sorted(Path(app.config["REPORTS_DIR"]).glob("calais-aid/*.pdf"))
    assert len(files) == 3 and {row.file_path.split("/")[-1] for row in rows} == {
        file.name for file in files
    }


def test_a_running_report_records_its_pages_as_they_are_laid_out(app, world, monkeypatch):
    # A description of many short lines: a block split over several pages.
    record_incident(world, "\n".join(f"line {n}" for n in range(400)))
    report_id = queue_evidence(world)
    monkeypatch.setattr(jobs, "PROGRESS_SECONDS", 0.0)
    written: list[int] = []

    def seen(connection, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("UPDATE REPORT SET PAGES"):
            written.append(1)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", seen)
    try:
        assert "1 report(s) made" in run_job(app, "make-reports")
    finally:
        with app.app_context():
            event.remove(db.engine, "before_cursor_execute", seen)
    pages = state(report_id).pages
    assert pages >= 3 and len(written) == pages


def test_a_backup_lists_only_reports_that_have_their_file(app, world):
    from logistics.services import backup

    queue_evidence(world)
    assert run_job(app, "make-reports") == "1 report(s) made, 0 failed."
    queue_evidence(world)  # still queued: no file yet
    listed = backup.stored_files(Path(app.config["EVIDENCE_DIR"]), Path(app.config["REPORTS_DIR"]))
    assert [file.path.is_file() for file in listed] == [True]


def test_the_in_process_scheduler_makes_a_report_as_soon_as_it_is_asked_for(app, world, api):
    from logistics.scheduler import start_in_process

    record_incident(world)
    # The token first: the scheduler checks shortages at once when it starts, and this test's
    # own session (no write intent, unlike a request) must not write after its commit.
    coordinator = api("coordinator")
    db.session.commit()
    scheduler = start_in_process(app)  # as `make run` does; make-reports every 10 s
    try:
        report_id = coordinator.post("/reports", {"kind": "evidence"}).get_json()["id"]
        deadline = time.monotonic() + 5  # well before the job's next turn
        while state(report_id).status != "ready" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert state(report_id).status == "ready"
    finally:
        scheduler.shutdown()
        app.extensions.pop("scheduler", None)
