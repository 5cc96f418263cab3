"""Benchmarks 6 and 7: the donor shortfall report and the ten-year evidence report (PDF).

6. The shortfall report of the demo organisation (logistics.demo.seed on a scratch SQLite file),
   services.reports.render_pdf(organisation, ReportRequest("shortfall"), now): target ≤ 0.5 s.
   Floor: ReportLab rendering one plain platypus Table, in a SimpleDocTemplate, with as many
   rows as the report's tables have, interleaved with the report, round after round.
7. The evidence report over 15,000 incidents (ten years of a busy coast, bench/incidents.py),
   drawn with ReportLab's public API only: target ≤ 0.75 × the floor measured in the same run
   and peak memory ≤ 300 MB. The render runs alone in a fresh interpreter started with
   subprocess (`python -m bench.reports child evidence URL`), which reports its own peak RSS:
   VmHWM of /proc/self/status, the high-water mark of the address space exec gave it. Not
   getrusage(RUSAGE_SELF).ru_maxrss, even read inside the child: Linux carries the parent's
   peak over exec (subprocess starts children with vfork, so the mark of the parent's address
   space is the child's starting figure); the child prints both. The make-reports job runs
   the same render for a queued report. Floor: ReportLab rendering the same number of plain
   table rows in a fresh interpreter of its own, as tables of the report's shapes
   (per incident an 8-row, 4-column fields table and a lines table). One Table of them all is not
   a floor: splitting a Table across pages copies the rest of it each page, so its time grows
   with the square of its rows (8,000 rows take 7 s, 32,000 rows as a LongTable 83 s).
   The floor takes about fifteen seconds on this machine and is measured once per run; the
   report (about 6 s) three times, each render in a fresh interpreter: the median render's
   time, and the highest peak memory of the three.

`python -m bench.reports evidence --years 1 --cprofile` profiles the evidence report on one
year of the incidents; `--tracemalloc` reports Python's own peak allocation instead.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from . import Result, interleaved
from .generate import ORG_SLUG, make_app
from .incidents import ensure_incidents

PROJECT = Path(__file__).resolve().parent.parent
SHORTFALL_TARGET = 0.5
EVIDENCE_FLOOR_SHARE = 0.75  # the report's median time, at most this share of the floor's
EVIDENCE_RENDERS = 3  # each in a fresh interpreter: one render is a noisy figure
MEMORY_TARGET_MB = 300
# Every incident prints its heading and 7 rows of fields (4 of them with two fields side by
# side: label, value, label, value), then a lines table of 5 columns under its header row.
FIELD_ROWS = 8
FIELD_COLUMNS = 4
LINE_COLUMNS = 5


# --- 6: the donor shortfall report ----------------------------------------------------------


def run_shortfall(repeat: int, log: Any = print) -> list[Result]:
    """Seed the demo on a scratch file; time the shortfall PDF beside a plain-table floor."""
    from logistics.database import write_intent
    from logistics.extensions import db
    from logistics.models import Organisation
    from logistics.models.types import utcnow
    from logistics.services import accounts
    from logistics.services.reports import ReportRequest, render_pdf

    scratch = Path(tempfile.mkdtemp(prefix="logistics-bench-demo-"))
    app = make_app(f"sqlite:///{scratch / 'demo.sqlite3'}")
    try:
        with app.app_context():
            from logistics import demo

            db.create_all()
            started = time.perf_counter()
            with write_intent():
                demo.seed(if_empty=False)
                db.session.commit()
            seeded = time.perf_counter() - started
            org_id = accounts.organisation_by_slug(demo.DEMO_SLUG).id
            moment = utcnow()
            rows = shortfall_rows(org_id, moment)
            db.session.rollback()

            def report() -> int:
                organisation = db.session.get(Organisation, org_id)
                pdf = render_pdf(organisation, ReportRequest("shortfall"), moment)
                db.session.rollback()  # end the read transaction, as a request would
                return len(pdf)

            def floor() -> int:
                return len(plain_table_pdf(rows))

            size = report()
            log(
                f"shortfall report: demo seeded in {seeded:.1f} s; the PDF is {size:,} bytes "
                f"with {rows} table rows; the floor's is {floor():,} bytes"
            )
            timings = interleaved({"floor": floor, "report": report}, repeat)
            db.session.remove()
            db.engine.dispose()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return [
        Result(
            "6",
            f"shortfall report PDF, demo organisation ({rows} table rows)",
            timings["report"].median,
            "s",
            floor=timings["floor"].median,
            floor_name=f"ReportLab, one plain Table of {rows} rows",
            target="≤ 500 ms",
            passed=timings["report"].median <= SHORTFALL_TARGET,
            best=timings["report"].best,
        )
    ]


def shortfall_rows(org_id: int, moment: datetime) -> int:
    """Return how many rows the shortfall report's tables have, headers included."""
    from logistics.pdf import shortfall as shortfall_pdf
    from logistics.services.accounts import organisation_zone
    from logistics.services.reports import donor_figures

    last = moment.astimezone(organisation_zone(org_id)).date()
    data = donor_figures(org_id, last - timedelta(days=6), last, moment)
    story = (
        shortfall_pdf._what_we_need(data.donor_needs)
        + shortfall_pdf._what_happened(data.distributions, data.meals_served)
        + shortfall_pdf._losses(data.losses)
    )
    return sum(len(table._cellvalues) for table in _tables(story))


def _tables(flowables: list[Any]) -> Iterator[Any]:
    from reportlab.platypus import Table

    for flowable in flowables:
        if isinstance(flowable, Table):
            yield flowable
        yield from _tables(getattr(flowable, "_content", []))


def plain_table_pdf(rows: int) -> bytes:
    """Return a PDF of one platypus Table of plain-text rows, the way ReportLab's guide does."""
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import SimpleDocTemplate, Table

    buffer = io.BytesIO()
    data = [["Item", "Quantity", "Status"]] + [
        [f"Item {n}", str(n * 37 % 1000), "warning"] for n in range(1, rows)
    ]
    SimpleDocTemplate(buffer, pagesize=A4).build([Table(data, repeatRows=1)])
    return buffer.getvalue()


# --- 7: the evidence report over ten years ----------------------------------------------------


@dataclass(frozen=True)
class Render:
    """One render in a fresh interpreter: time, peak RSS, what it made."""

    seconds: float
    cpu_seconds: float
    peak_rss_mb: float  # VmHWM: this interpreter's own peak since exec
    start_rss_mb: float
    maxrss_mb: float  # getrusage ru_maxrss: includes the parent's peak (Linux, after exec)
    pdf_bytes: int
    pages: int
    tracemalloc_peak_mb: float | None = None


def run_evidence(*, regenerate: bool = False, log: Any = print) -> list[Result]:
    """Render the ten-year evidence report and its floor, each alone in a fresh interpreter."""
    path, summary = ensure_incidents(regenerate=regenerate, log=log)
    url = f"sqlite:///{path}"
    rows = summary["incidents"] * (FIELD_ROWS + 1) + summary["lines"]  # + a lines header each
    log(
        f"evidence report: {summary['incidents']:,} incidents, {summary['lines']:,} lines, "
        f"{summary['amendments']:,} amendments, {summary['evidence']:,} evidence rows; "
        f"{rows:,} table rows"
    )
    floor = _in_child(render_evidence_floor, url)
    log(f"  floor: {_describe(floor)}")
    renders = []
    for _ in range(EVIDENCE_RENDERS):
        renders.append(_in_child(render_evidence, url))
        log(f"  report: {_describe(renders[-1])}")
    # The median render's time; the highest peak any render reached.
    report = sorted(renders, key=lambda render: render.seconds)[len(renders) // 2]
    best = min(render.seconds for render in renders)
    peak_rss_mb = max(render.peak_rss_mb for render in renders)
    name = (
        f"evidence report PDF, {summary['incidents']:,} incidents over 10 years "
        f"(median of {EVIDENCE_RENDERS} renders)"
    )
    floor_name = f"ReportLab, {rows:,} plain table rows"
    return [
        Result(
            "7",
            f"{name}: time",
            report.seconds,
            "s",
            floor=floor.seconds,
            floor_name=floor_name,
            target=f"≤ {EVIDENCE_FLOOR_SHARE} × floor",
            passed=report.seconds <= EVIDENCE_FLOOR_SHARE * floor.seconds,
            best=best,
        ),
        Result(
            "7",
            f"{name}: peak RSS of the rendering process",
            peak_rss_mb,
            "MB",
            floor=floor.peak_rss_mb,
            floor_name=floor_name,
            target=f"≤ {MEMORY_TARGET_MB} MB",
            passed=peak_rss_mb <= MEMORY_TARGET_MB,
        ),
    ]


def _describe(render: Render) -> str:
    text = (
        f"{render.seconds:.1f} s ({render.cpu_seconds:.1f} s CPU), {render.pages:,} pages, "
        f"{render.pdf_bytes / 1e6:.1f} MB of PDF; RSS {render.start_rss_mb:.0f} MB before the "
        f"render, {render.peak_rss_mb:.0f} MB at its peak (VmHWM; ru_maxrss says "
        f"{render.maxrss_mb:.0f} MB, the launcher's peak included)"
    )
    if render.tracemalloc_peak_mb is not None:
        text += f"; tracemalloc peak {render.tracemalloc_peak_mb:.0f} MB"
    return text


CHILDREN: dict[str, Callable[[str], Render]] = {}  # filled below the render functions


def _in_child(function: Callable[[str], Render], url: str) -> Render:
    """Run one render in a fresh interpreter started with subprocess; return what it measured.

    Nothing of this process is inherited but the environment: the child imports the app
    itself, renders, and prints its figures as one JSON line.
    """
    name = next(key for key, child in CHILDREN.items() if child is function)
    command = [sys.executable, "-m", "bench.reports", "child", name, url]
    output = subprocess.run(
        command, cwd=PROJECT, capture_output=True, text=True, check=False, env=_child_env()
    )
    line = next((x for x in output.stdout.splitlines() if x.startswith(CHILD_MARK)), None)
    if output.returncode != 0 or line is None:
        raise RuntimeError(f"{name} child failed: {output.stderr[-3000:]}")
    return Render(**json.loads(line[len(CHILD_MARK) :]))


def _child_env() -> dict[str, str]:
    return os.environ | {"LOGISTICS_SCHEDULER": "off"}


def evidence_period(org_id: int) -> tuple[date, date, datetime]:
    """Return the local first and last days of the incidents, and the last one's time."""
    from sqlalchemy import func, select

    from logistics.extensions import db
    from logistics.models import Incident
    from logistics.services.accounts import organisation_zone

    first, last = db.session.execute(
        select(func.min(Incident.occurred_at), func.max(Incident.occurred_at)).where(
            Incident.organisation_id == org_id
        )
    ).one()
    zone = organisation_zone(org_id)
    return first.astimezone(zone).date(), last.astimezone(zone).date(), last


def render_evidence(url: str, years: int | None = None, profile: bool = False) -> Render:
    """Render the evidence report (the last `years` only, when given) and measure it."""
    from logistics.extensions import db
    from logistics.models import Organisation
    from logistics.services import accounts
    from logistics.services.reports import ReportRequest, render_pdf

    app = make_app(url)
    with app.app_context():
        org_id = accounts.organisation_by_slug(ORG_SLUG).id
        first, last, moment = evidence_period(org_id)
        if years is not None:
            first = max(first, last - timedelta(days=365 * years - 1))
        organisation = db.session.get(Organisation, org_id)
        request = ReportRequest("evidence", first, last)
        profiler = cProfile.Profile() if profile else None
        with _measured() as measure:
            if profiler:
                profiler.enable()
            pdf = render_pdf(organisation, request, moment + timedelta(hours=1))
            if profiler:
                profiler.disable()
        db.session.remove()
        db.engine.dispose()
    if profiler:
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(40)
        stats.sort_stats("tottime").print_stats(25)
    return measure.result(pdf)


def render_evidence_floor(url: str) -> Render:
    """Render plain tables of the report's shapes: a fields table and a lines table each."""
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import SimpleDocTemplate, Table
    from sqlalchemy import func, select

    from logistics.extensions import db
    from logistics.models import Incident, IncidentLine

    app = make_app(url)
    with app.app_context():
        line_counts = list(
            db.session.scalars(
                select(func.count(IncidentLine.id))
                .select_from(Incident)
                .outerjoin(IncidentLine, IncidentLine.incident_id == Incident.id)
                .group_by(Incident.id)
                .order_by(Incident.occurred_at, Incident.id)
            )
        )
        db.session.remove()
        db.engine.dispose()
    with _measured() as measure:
        story = []
        for number, lines in enumerate(line_counts):
            fields = [[f"Incident {number}"] + [""] * (FIELD_COLUMNS - 1)] + [
                [f"{number}.{n}.{c}" for c in range(FIELD_COLUMNS)] for n in range(1, FIELD_ROWS)
            ]
            story.append(Table(fields, repeatRows=1))
            if lines:
                header = [f"Column {c}" for c in range(LINE_COLUMNS)]
                body = [[f"{number}.{n}.{c}" for c in range(LINE_COLUMNS)] for n in range(lines)]
                story.append(Table([header, *body], repeatRows=1))
        buffer = io.BytesIO()
        SimpleDocTemplate(buffer, pagesize=A4).build(story)
        pdf = buffer.getvalue()
    return measure.result(pdf)


CHILDREN.update(evidence=render_evidence, floor=render_evidence_floor)
CHILD_MARK = "RENDER "


class _Measure:
    """Wall and CPU time of a block, RSS before it and the process's peak RSS after it."""

    def __init__(self) -> None:
        self.start_rss_mb = _rss_mb()
        self.started = time.perf_counter()
        self.cpu_started = time.process_time()
        self.seconds = self.cpu_seconds = 0.0

    def stop(self) -> None:
        self.seconds = time.perf_counter() - self.started
        self.cpu_seconds = time.process_time() - self.cpu_started

    def result(self, pdf: bytes) -> Render:
        from pypdf import PdfReader

        traced = None
        if tracemalloc.is_tracing():
            traced = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        return Render(
            seconds=self.seconds,
            cpu_seconds=self.cpu_seconds,
            peak_rss_mb=_own_peak_mb(),
            start_rss_mb=self.start_rss_mb,
            maxrss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            pdf_bytes=len(pdf),
            pages=len(PdfReader(io.BytesIO(pdf)).pages),
            tracemalloc_peak_mb=traced,
        )


class _measured:  # noqa: N801 (used as a context manager, like a function)
    def __enter__(self) -> _Measure:
        self.measure = _Measure()
        return self.measure

    def __exit__(self, *exc: Any) -> None:
        self.measure.stop()


def _own_peak_mb() -> float:
    """Return this process's peak resident set since exec (VmHWM, Linux), in MB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def _rss_mb() -> float:
    """Return the current resident set size (Linux), in MB."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def main() -> None:
    """Run one of the report benchmarks alone, or profile the evidence report."""
    parser = argparse.ArgumentParser(prog="python -m bench.reports", description=__doc__)
    parser.add_argument("what", choices=("shortfall", "evidence", "evidence-floor", "child"))
    parser.add_argument("child", nargs="*", help="child: which render and the database URL")
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument("--years", type=int, help="evidence: the last N years only")
    parser.add_argument("--cprofile", action="store_true", help="evidence: profile the render")
    parser.add_argument("--tracemalloc", action="store_true", help="evidence: trace allocations")
    args = parser.parse_args()
    from . import table

    if args.what == "child":
        name, url = args.child
        print(CHILD_MARK + json.dumps(asdict(CHILDREN[name](url))), flush=True)
        return
    if args.what == "shortfall":
        print(table(run_shortfall(args.repeat)))
        return
    path, _summary = ensure_incidents()
    url = f"sqlite:///{path}"
    if args.what == "evidence-floor":
        print(_describe(render_evidence_floor(url)))
        return
    if args.tracemalloc:
        tracemalloc.start()
    print(_describe(render_evidence(url, args.years, profile=args.cprofile)))


if __name__ == "__main__":
    os.environ.setdefault("LOGISTICS_SCHEDULER", "off")
    main()
