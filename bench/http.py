"""Benchmark 9: every page of the menu and the main API over HTTP (gunicorn, 2 workers, wrk).

A copy of the cached 1M SQLite ledger is served by gunicorn with two workers
(`logistics.wsgi:app`, configured by LOGISTICS_* variables as in production), with the 28-day
plan of bench/shortages.py added from today (so the agenda, needs and alerts have content) and
the 15,000 incidents of ten years of bench/incidents.py (without their loss movements: the
ledger stays the 1M one). wrk drives it at concurrency 1, 8 and 32 (bench/wrk.lua: headers,
bodies with a fresh request token each, p50/p99). Pages are read as the admin (every link of
the menu) through a session cookie from the real login form; the API with a Bearer token.
Writes: donations and transfers through POST /api/v1/movements and /api/v1/transfers.

Floor: `GET /login` (anonymous), the app's cheapest page, at concurrency 1 in the same run,
before and after the pages (the mean of the two p50s). Targets for the menu's pages: p50 at
concurrency 1 ≤ 25 × the floor's, and ≤ 30 KB compressed (the body as served, gzip level 6).

`python -m bench.http` runs it alone; `--quick` (1-second runs), `--duration S`,
`--concurrency 1,8`, `--only needs` (paths containing it).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import http.client
import json
import math
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from . import Result
from .generate import DATA_DIR, PASSWORD, ensure_sqlite, ledger_mismatches, make_app, member_email

TARGET_RATIO = 25
TARGET_GZIP_KB = 30
CONCURRENCY = (1, 8, 32)
DURATION = 2.0
MAX_SECONDS = 20.0  # one wrk run at most (a slow page at c=32)
WORKERS = 2
ROLE = "admin"  # sees every link of the menu
PROJECT = Path(__file__).resolve().parent.parent
WRK_SCRIPT = Path(__file__).resolve().parent / "wrk.lua"
# What a phone's browser sends: the server compresses as it would for one.
BROWSER = {"Accept": "text/html", "Accept-Encoding": "gzip, deflate, br, zstd"}


@dataclass(frozen=True)
class Target:
    """One request wrk repeats: a page, an API read or an API write."""

    label: str
    path: str
    kind: str  # "floor", "page", "api read", "api write"
    method: str = "GET"
    body: str | None = None  # JSON; @@TOKEN@@ becomes a fresh request token per request
    expect: int = 200

    @property
    def held_to_targets(self) -> bool:
        """Return whether the page targets (ratio, weight) apply: HTML pages only."""
        return self.kind == "page"


@dataclass
class Run:
    """What wrk measured for one target at one concurrency."""

    concurrency: int
    requests: int
    seconds: float
    p50: float  # seconds
    p99: float
    fastest: float
    unexpected: int
    unexpected_status: int
    socket_errors: int

    @property
    def rate(self) -> float:
        """Return requests per second."""
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass
class Measured:
    """A target's answer size and its runs."""

    target: Target
    html_bytes: int = 0
    gzip_bytes: int = 0
    runs: dict[int, Run] = field(default_factory=dict)
    cost: float = 0.0  # seconds one request took when sized: sets how long wrk runs


@dataclass(frozen=True)
class Prepared:
    """What the server's database holds for the benchmark to use."""

    token: str
    pages: list[tuple[str, str]]
    item_id: int
    busy_site_id: int
    other_site_id: int
    movements: int
    distributions: int
    incidents: int


def run(
    duration: float = DURATION,
    concurrency: tuple[int, ...] = CONCURRENCY,
    only: str = "",
    log: Any = print,
) -> list[Result]:
    """Serve a copy of the 1M ledger with gunicorn, drive every target with wrk, stop it."""
    _require_wrk()
    scratch = Path(tempfile.mkdtemp(prefix="logistics-bench-http-"))
    try:
        database = scratch / "ledger.sqlite3"
        from .writes import _copy_sqlite

        _copy_sqlite(str(ensure_sqlite(1_000_000, log=log)), database)
        prepared = prepare(f"sqlite:///{database}")
        log(
            f"http: {prepared.movements:,} movements, {prepared.distributions:,} planned "
            f"distributions from today, {prepared.incidents:,} incidents over ten years; "
            f"{len(prepared.pages) - 1} menu pages for the {ROLE} and an item's history"
        )
        targets = [t for t in _targets(prepared) if only in t.path or t.kind == "floor"]
        with serve(f"sqlite:///{database}", scratch) as base:
            cookie = login(base)
            measured = [_sized(base, target, cookie, prepared.token) for target in targets]
            _drive(base, measured, cookie, prepared.token, duration, concurrency, log)
        mismatches = ledger_mismatches(f"sqlite:///{database}")
        log(f"http: check_ledger() after the writes: {mismatches} mismatches")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    floor = _floor(measured)
    log(wide_table(measured, floor, concurrency))
    _keep(measured, floor, concurrency)
    if mismatches:
        raise AssertionError(f"the HTTP writes left {mismatches} ledger mismatches")
    return results(measured, floor)


def prepare(url: str) -> Prepared:
    """Add today's plan, make the admin's API token, and list the menu's pages (commits)."""
    from flask import url_for
    from sqlalchemy import func, select

    from logistics.database import write_intent
    from logistics.extensions import db
    from logistics.menu import menu_for
    from logistics.models import Item, StockLevel, StockMovement
    from logistics.services import accounts

    from .shortages import add_plan

    app = make_app(url)
    with app.app_context():
        organisation = accounts.organisation_by_slug("bench")
        plan = add_plan(organisation.id, moment=datetime.now(UTC))
        incidents = add_incidents(organisation.id)
        user = accounts.user_by_email(member_email(ROLE))
        assert user is not None
        with write_intent():
            token = accounts.create_token(user.memberships[0].id, "HTTP benchmark")
            db.session.commit()
        # The biggest level: transfers of one unit from it never run out during the runs.
        # An undated item: its donations need no best-before date.
        busy = db.session.execute(
            select(StockLevel.site_id, StockLevel.item_id)
            .join(Item, Item.id == StockLevel.item_id)
            .where(StockLevel.organisation_id == organisation.id, ~Item.dated)
            .order_by(StockLevel.quantity.desc())
            .limit(1)
        ).one()
        other = db.session.scalar(
            select(StockLevel.site_id)
            .where(StockLevel.item_id == busy.item_id, StockLevel.site_id != busy.site_id)
            .order_by(StockLevel.site_id)
            .limit(1)
        )
        movements = db.session.scalar(select(func.count()).select_from(StockMovement))
        db.session.rollback()
        with app.test_request_context():
            firsts, rest = menu_for(ROLE)
            pages = [(str(link.label), url_for(link.endpoint)) for link in firsts + rest]
            pages.append(("Item history", url_for("stock.item_history", item_id=busy.item_id)))
        db.session.remove()
        db.engine.dispose()
    return Prepared(
        token,
        pages,
        busy.item_id,
        busy.site_id,
        int(other),
        int(movements or 0),
        plan.distributions,
        incidents,
    )


def add_incidents(org_id: int) -> int:
    """Add bench/incidents.py's ten years of incidents (15,000), lines, amendments, evidence.

    Their loss movements and the stocktake covering them are left out: the ledger stays the
    1M one, and the incidents pages read incidents and lines only.
    """
    from types import SimpleNamespace

    from sqlalchemy import insert

    from logistics.database import write_intent
    from logistics.extensions import db
    from logistics.models import Evidence, Incident, IncidentAmendment, IncidentLine

    from . import incidents

    end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    rows = incidents._simulate(SimpleNamespace(org_id=org_id), incidents.COUNT, end)
    with write_intent():
        for model, values in (
            (Incident, rows.incidents),
            (IncidentLine, rows.lines),
            (IncidentAmendment, rows.amendments),
            (Evidence, rows.evidence),
        ):
            for start in range(0, len(values), incidents.CHUNK):
                db.session.execute(insert(model), values[start : start + incidents.CHUNK])
        db.session.commit()
    return len(rows.incidents)


def _targets(prepared: Prepared) -> list[Target]:
    """Return the floor, every menu page, the API reads and the API writes."""
    donation = {
        "kind": "donation",
        "site_id": prepared.busy_site_id,
        "item_id": prepared.item_id,
        "quantity": 1,
        "source": "HTTP benchmark",
        "request_token": "@@TOKEN@@",
    }
    transfer = {
        "from_site_id": prepared.busy_site_id,
        "to_site_id": prepared.other_site_id,
        "item_id": prepared.item_id,
        "quantity": 1,
        "request_token": "@@TOKEN@@",
    }
    return [
        Target("Login (floor)", "/login", "floor"),
        *(Target(label, path, "page") for label, path in prepared.pages),
        Target("API stock", "/api/v1/stock", "api read"),
        Target("API movements", "/api/v1/movements", "api read"),
        Target("API needs", "/api/v1/needs", "api read"),
        Target("API donation", "/api/v1/movements", "api write", "POST", json.dumps(donation), 201),
        Target("API transfer", "/api/v1/transfers", "api write", "POST", json.dumps(transfer), 201),
    ]


# --- the server -------------------------------------------------------------------------------


@contextlib.contextmanager
def serve(url: str, scratch: Path) -> Iterator[str]:
    """Run gunicorn (2 workers) on the database; yield its base URL; stop it, whatever happens."""
    port = _free_port()
    environment = os.environ | {
        "LOGISTICS_ENV": "production",
        "LOGISTICS_DATABASE_URL": url,
        "LOGISTICS_SECRET_KEY": secrets.token_hex(32),
        "LOGISTICS_INSTANCE_DIR": str(scratch / "instance"),
        "LOGISTICS_REPORTS_DIR": str(scratch / "reports"),
        "LOGISTICS_EVIDENCE_DIR": str(scratch / "evidence"),
        "LOGISTICS_SCHEDULER": "off",
        "LOGISTICS_BASE_URL": f"http://127.0.0.1:{port}",
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--workers",
        str(WORKERS),
        "--bind",
        f"127.0.0.1:{port}",
        "--timeout",
        "120",
        "logistics.wsgi:app",
    ]
    log_path = scratch / "gunicorn.log"
    with open(log_path, "wb") as output:
        # A session of its own: stopping it reaches the master and its workers, nothing else.
        server = subprocess.Popen(
            command,
            cwd=PROJECT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"127.0.0.1:{port}"
    try:
        _wait_until_up(server, base, log_path)
        yield base
    finally:
        _stop(server)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_up(server: subprocess.Popen[bytes], base: str, log_path: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn stopped: {log_path.read_text()[-2000:]}")
        with contextlib.suppress(OSError):
            if request(base, "GET", "/login")[0] == 200:
                return
        time.sleep(0.3)
    raise RuntimeError(f"gunicorn did not answer in 90 s: {log_path.read_text()[-2000:]}")


def _stop(server: subprocess.Popen[bytes]) -> None:
    """Stop gunicorn gracefully (SIGTERM to the master), then kill its group if it lingers."""
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    # Workers left behind by a master that died first belong to the same process group.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGKILL)


# --- HTTP from Python: logging in, answer sizes --------------------------------------------------


def request(
    base: str,
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Send one request without following redirects; return status, headers and body."""
    host, port = base.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=300)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        answer = connection.getresponse()
        return answer.status, answer.getheaders(), answer.read()
    finally:
        connection.close()


def login(base: str) -> str:
    """Log in as the admin through the real form (CSRF token and all); return the Cookie header."""
    cookies: dict[str, str] = {}
    status, headers, body = request(base, "GET", "/login")
    _keep_cookies(cookies, headers)
    field_ = re.search(rb'<input[^>]*name="csrf_token"[^>]*>', body)
    found = field_ and re.search(rb'value="([^"]+)"', field_[0])
    if status != 200 or not found:
        raise RuntimeError(f"GET /login answered {status} without a CSRF token")
    form = {"email": member_email(ROLE), "password": PASSWORD, "csrf_token": found[1].decode()}
    status, headers, _ = request(
        base,
        "POST",
        "/login",
        {"Content-Type": "application/x-www-form-urlencoded", "Cookie": _cookie(cookies)},
        urlencode(form).encode(),
    )
    if status != 302:
        raise RuntimeError(f"POST /login answered {status}")
    _keep_cookies(cookies, headers)
    return _cookie(cookies)


def _keep_cookies(cookies: dict[str, str], headers: list[tuple[str, str]]) -> None:
    # Secure cookies (production) are kept by hand: a cookie jar would not send them over HTTP.
    for name, value in headers:
        if name.lower() == "set-cookie":
            pair = value.split(";", 1)[0]
            key, _, content = pair.partition("=")
            cookies[key.strip()] = content.strip()


def _cookie(cookies: dict[str, str]) -> str:
    return "; ".join(f"{key}={value}" for key, value in cookies.items())


def _headers(target: Target, cookie: str, token: str) -> dict[str, str]:
    """Return the headers wrk and the size check send for a target."""
    if target.kind == "floor":
        return dict(BROWSER)
    if target.kind.startswith("api"):
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept-Encoding": BROWSER["Accept-Encoding"],
        }
        if target.body is not None:
            headers["Content-Type"] = "application/json"
        return headers
    return BROWSER | {"Cookie": cookie}


def _sized(base: str, target: Target, cookie: str, token: str) -> Measured:
    """Fetch the answer once uncompressed: its status, bytes and gzip (level 6) bytes."""
    headers = _headers(target, cookie, token) | {"Accept-Encoding": "identity"}
    body = None
    if target.body is not None:
        body = target.body.replace("@@TOKEN@@", f"size-{secrets.token_hex(8)}").encode()
    request(base, target.method, target.path, headers, body)  # warm the worker's caches
    if target.body is not None:
        body = target.body.replace("@@TOKEN@@", f"size-{secrets.token_hex(8)}").encode()
    started = time.perf_counter()
    status, _, answer = request(base, target.method, target.path, headers, body)
    cost = time.perf_counter() - started
    if status != target.expect:
        raise RuntimeError(f"{target.method} {target.path} answered {status}: {answer[:300]!r}")
    return Measured(target, len(answer), len(gzip.compress(answer, compresslevel=6)), cost=cost)


# --- wrk ----------------------------------------------------------------------------------------


def _require_wrk() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: `apt-get install wrk` (make bench installs it as root)")


def _drive(
    base: str,
    measured: list[Measured],
    cookie: str,
    token: str,
    duration: float,
    concurrency: tuple[int, ...],
    log: Any,
) -> None:
    """Run wrk for every target at every concurrency; the floor first (and last at c=1).

    A run lasts long enough for every connection to get answers (see _seconds), and the
    server is drained after it: requests wrk leaves queued when it stops are still served,
    and would otherwise slow the next target down.
    """
    floor = measured[0]
    for clients in concurrency:
        for entry in measured:
            seconds = _seconds(entry.cost, clients, duration)
            entry.runs[clients] = wrk(base, entry.target, cookie, token, clients, seconds)
            _say(entry, clients, log)
            _drain(base, floor.cost)
        if clients == 1:
            again = wrk(base, floor.target, cookie, token, 1, duration)
            first = floor.runs[1]
            log(f"  floor again after the pages: p50 {again.p50 * 1000:.2f} ms")
            floor.runs[1] = Run(
                1,
                first.requests + again.requests,
                first.seconds + again.seconds,
                (first.p50 + again.p50) / 2,
                max(first.p99, again.p99),
                min(first.fastest, again.fastest),
                first.unexpected + again.unexpected,
                first.unexpected_status or again.unexpected_status,
                first.socket_errors + again.socket_errors,
            )


def _seconds(cost: float, clients: int, duration: float) -> float:
    """Return how long to run: at least `duration`, and enough for answers at this load.

    Alone, ten answers (a p99 of fewer means nothing); with c clients on two workers, each
    answer waits for about c / 2 others, so two rounds of that; never more than MAX_SECONDS.
    """
    rounds = 10 * cost if clients == 1 else 2 * -(-clients // WORKERS) * cost
    return min(MAX_SECONDS, max(duration, rounds))


def _drain(base: str, floor_cost: float) -> None:
    """Wait until the server answers /login about as fast as when idle (twice in a row)."""
    quick = max(0.05, 5 * floor_cost)
    deadline = time.monotonic() + 180
    fast = 0
    while fast < 2 and time.monotonic() < deadline:
        started = time.perf_counter()
        request(base, "GET", "/login")
        fast = fast + 1 if time.perf_counter() - started < quick else 0


def wrk(base: str, target: Target, cookie: str, token: str, clients: int, duration: float) -> Run:
    """Run wrk on one target at one concurrency; check every answer had the expected status."""
    headers = "\n".join(f"{k}: {v}" for k, v in _headers(target, cookie, token).items())
    environment = os.environ | {
        "BENCH_METHOD": target.method,
        "BENCH_PATH": target.path,
        "BENCH_HEADERS": headers,
        "BENCH_TOKEN": f"wrk-{secrets.token_hex(6)}",
        "BENCH_EXPECT": str(target.expect),
    }
    if target.body is not None:
        environment["BENCH_BODY"] = target.body
    command = [
        "wrk",
        "--threads",
        str(min(2, clients)),
        "--connections",
        str(clients),
        "--duration",
        f"{max(1, math.ceil(duration))}s",
        "--timeout",
        "60s",
        "--script",
        str(WRK_SCRIPT),
        f"http://{base}",
    ]
    output = subprocess.run(command, env=environment, capture_output=True, text=True, check=True)
    line = next((x for x in output.stdout.splitlines() if x.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no figures: {output.stdout}{output.stderr}")
    figures = json.loads(line[len("BENCH ") :])
    return Run(
        clients,
        figures["requests"],
        figures["seconds"],
        figures["p50_us"] / 1e6,
        figures["p99_us"] / 1e6,
        figures.get("min_us", figures["p50_us"]) / 1e6,
        figures["unexpected"],
        figures["unexpected_status"],
        figures["connect_errors"]
        + figures["read_errors"]
        + figures["write_errors"]
        + figures["timeouts"],
    )


def _say(entry: Measured, clients: int, log: Any) -> None:
    run_ = entry.runs[clients]
    wrong = ""
    if run_.unexpected or run_.socket_errors:
        wrong = (
            f"; {run_.unexpected} answered {run_.unexpected_status}, {run_.socket_errors} errors"
        )
    where = f"{entry.target.method} {entry.target.path}"
    log(
        f"  c={clients:<2} {where}: p50 {run_.p50 * 1000:.1f} ms, "
        f"p99 {run_.p99 * 1000:.1f} ms, {run_.rate:,.1f}/s ({run_.requests} requests){wrong}"
    )


# --- figures --------------------------------------------------------------------------------


def _floor(measured: list[Measured]) -> float:
    return (
        measured[0].runs[1].p50
        if 1 in measured[0].runs
        else measured[0].runs[min(measured[0].runs)].p50
    )


def _ratio(entry: Measured, floor: float) -> float | None:
    first = entry.runs.get(1)
    return first.p50 / floor if first and floor else None


def _passed(entry: Measured, floor: float) -> bool | None:
    if not entry.target.held_to_targets:
        return None
    ratio = _ratio(entry, floor)
    fast = ratio is not None and ratio <= TARGET_RATIO
    return fast and entry.gzip_bytes <= TARGET_GZIP_KB * 1024 and _clean(entry)


def _clean(entry: Measured) -> bool:
    """Return whether every run got answers, all of the expected status, without errors."""
    return all(r.requests and not r.unexpected and not r.socket_errors for r in entry.runs.values())


def wide_table(measured: list[Measured], floor: float, concurrency: tuple[int, ...]) -> str:
    """Return one Markdown row per target: size, then p50/p99/rate at each concurrency."""
    header = ["request", "KB", "gzip KB"]
    for clients in concurrency:
        header += [f"c={clients} p50", "p99", "req/s"]
    header += ["p50 c=1 ÷ login", "result"]
    rows = [header]
    for entry in measured:
        t = entry.target
        row = [f"{t.method} {t.path} ({t.label})", f"{entry.html_bytes / 1024:,.1f}",
               f"{entry.gzip_bytes / 1024:,.1f}"]  # fmt: skip
        for clients in concurrency:
            r = entry.runs.get(clients)
            row += [_ms(r.p50), _ms(r.p99), f"{r.rate:,.0f}"] if r else ["-", "-", "-"]
        ratio = _ratio(entry, floor)
        row.append(f"{ratio:,.1f}" if ratio is not None else "-")
        passed = _passed(entry, floor)
        verdict = "" if passed is None else ("PASS" if passed else "MISS")
        if not _clean(entry):
            verdict += " (errors)"
        row.append(verdict)
        rows.append(row)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def _ms(seconds: float) -> str:
    if seconds >= 10:
        return f"{seconds:,.1f} s"
    return f"{seconds * 1000:,.1f} ms" if seconds < 1 else f"{seconds:,.2f} s"


def results(measured: list[Measured], floor: float) -> list[Result]:
    """Return the rows of the main table: p50 at c=1 beside the floor, and page weights."""
    out: list[Result] = []
    for entry in measured:
        t = entry.target
        first = entry.runs.get(1)
        if first is None:
            continue
        busiest = entry.runs[max(entry.runs)]
        name = (
            f"HTTP {t.method} {t.path} ({t.label}) p50 at c=1; c={busiest.concurrency}: "
            f"p50 {_ms(busiest.p50)}, p99 {_ms(busiest.p99)}, {busiest.rate:,.0f}/s"
        )
        if t.kind == "floor":
            out.append(Result("9", name, first.p50, "s", best=first.fastest))
            continue
        held = t.held_to_targets
        out.append(
            Result(
                "9",
                name,
                first.p50,
                "s",
                floor=floor,
                floor_name="GET /login, c=1",
                target=f"≤ {TARGET_RATIO} × floor" if held else "",
                passed=(first.p50 <= TARGET_RATIO * floor and _clean(entry)) if held else None,
                best=first.fastest,
            )
        )
        if held:
            out.append(
                Result(
                    "9",
                    f"HTTP {t.path} ({t.label}) gzip-compressed "
                    f"({entry.html_bytes / 1024:,.0f} KB as HTML)",
                    entry.gzip_bytes / 1024,
                    "KB",
                    target=f"≤ {TARGET_GZIP_KB} KB",
                    passed=entry.gzip_bytes <= TARGET_GZIP_KB * 1024,
                )
            )
    return out


def _keep(measured: list[Measured], floor: float, concurrency: tuple[int, ...]) -> None:
    """Keep the last run's wide table beside the data (git-ignored)."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    (DATA_DIR / "http-latest.md").write_text(
        f"{stamp}, load {os.getloadavg()[0]:.2f}\n\n{wide_table(measured, floor, concurrency)}\n"
    )


def main() -> None:
    """Run the HTTP benchmark alone."""
    from . import table

    parser = argparse.ArgumentParser(prog="python -m bench.http", description=__doc__)
    parser.add_argument("--duration", type=float, default=DURATION, help="seconds per wrk run")
    parser.add_argument("--quick", action="store_true", help="1-second runs")
    parser.add_argument(
        "--concurrency", default=",".join(map(str, CONCURRENCY)), help="e.g. 1,8,32"
    )
    parser.add_argument("--only", default="", help="only the paths containing this")
    args = parser.parse_args()
    levels = tuple(int(c) for c in args.concurrency.split(","))
    duration = 1.0 if args.quick else args.duration
    print(table(run(duration, levels, args.only)))


if __name__ == "__main__":
    os.environ.setdefault("LOGISTICS_SCHEDULER", "off")
    main()
