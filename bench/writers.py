"""Benchmark 10: 16 concurrent writers on SQLite and PostgreSQL: 0 errors, no collapse.

Sixteen processes, each with its own app and database connection, write through the services
as the views do (`write_intent()`, `retry_when_raced`, one commit per unit of work) for a few
seconds per phase, all starting together at a barrier:

- one way (the control): every writer moves one unit of an item from warehouse A to B;
- both ways: even writers move A → B, odd writers B → A, the same items between the same sites;
- mixed: a quarter each A → B, B → A, a give-out at a distribution point from A
  (`distributions.give_out_now`: a held distribution, its line and movement) and a loss at A.

Phases run one way, both ways, mixed, both ways, one way, so drift hits control and test
alike; a phase's rate is its units of work over the longest writer's time. Four items are
shared by all writers, so they really contend for the same levels. The ledger is the 10k one
(a write's cost does not depend on history: benchmark 4 measures it on 1M), with 1,000,000
units of each item donated to A and B first. Targets: 0 errors (after the views' retries) on
both engines, PostgreSQL both-ways rate ≥ 0.8 × its one-way control; check_ledger() finds no
mismatch afterwards.

`python -m bench.writers` (SQLite, then PostgreSQL at the default server), `--skip-postgres`,
`--postgres URL`, `--seconds S`, `--writers N`.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import Result, rate_target
from .generate import ORG_SLUG, ensure_sqlite, ledger_mismatches, make_app, member_email

WRITERS = 16
SECONDS = 2.5
ITEMS = 4
TOP_UP = 1_000_000
TARGET_SHARE = 0.8
PHASES = ("one way", "both ways", "mixed", "both ways", "one way")
MIXED_ROLES = ("A to B", "B to A", "give-out", "loss")


@dataclass(frozen=True)
class Setup:
    """The sites, items and member the writers use."""

    org_id: int
    user_id: int
    site_a: int
    site_b: int
    point: int
    items: tuple[int, ...]


@dataclass(frozen=True)
class Tally:
    """One writer's work in one phase."""

    phase: int
    writer: int
    done: int
    errors: int
    retries: int
    seconds: float
    first_error: str


def run(engine: str, url: str, seconds: float = SECONDS, writers: int = WRITERS,
        log: Any = print) -> list[Result]:  # fmt: skip
    """Prepare the database, run the phases with the writers, check the ledger, report."""
    setup = prepare(url)
    tallies = _phases(url, setup, seconds, writers)
    mismatches = ledger_mismatches(url)
    by_phase = _rates(tallies)
    for index, name in enumerate(PHASES):
        phase = [t for t in tallies if t.phase == index]
        log(
            f"writers ({engine}): {name}: {sum(t.done for t in phase):,} units in "
            f"{max(t.seconds for t in phase):.2f} s = {by_phase[index]:,.0f}/s, "
            f"{sum(t.errors for t in phase)} errors, {sum(t.retries for t in phase)} retries"
        )
    errors = [t for t in tallies if t.errors]
    if errors:
        log(f"writers ({engine}): first error: {errors[0].first_error}")
    log(f"writers ({engine}): check_ledger() afterwards: {mismatches} mismatches")
    return _results(engine, tallies, by_phase, mismatches, writers)


def prepare(url: str) -> Setup:
    """Pick two warehouses, a point and four items; donate plenty of each to both (commits)."""
    from sqlalchemy import select

    from logistics.database import write_intent
    from logistics.extensions import db
    from logistics.models import Item, Site
    from logistics.services import accounts, ledger

    app = make_app(url)
    with app.app_context():
        org_id = accounts.organisation_by_slug(ORG_SLUG).id
        user = accounts.user_by_email(member_email("warehouse"))
        assert user is not None
        user_id = user.id
        sites = db.session.execute(
            select(Site.id, Site.kind).where(Site.organisation_id == org_id).order_by(Site.id)
        ).all()
        warehouses = [s.id for s in sites if s.kind == "warehouse"]
        point = next(s.id for s in sites if s.kind == "distribution_point")
        items = tuple(
            db.session.scalars(
                select(Item.id)
                .where(Item.organisation_id == org_id, Item.unit == "piece", ~Item.dated)
                .order_by(Item.id)
                .limit(ITEMS)
            )
        )
        with write_intent():
            for site in warehouses[:2]:
                for item in items:
                    ledger.receive(
                        org_id, user_id, site_id=site, item_id=item, quantity=TOP_UP,
                        kind="donation", source="Benchmark",
                    )  # fmt: skip
            db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return Setup(org_id, user_id, warehouses[0], warehouses[1], point, items)


def _phases(url: str, setup: Setup, seconds: float, writers: int) -> list[Tally]:
    """Start the writers (fresh interpreters), let them run every phase, gather their tallies."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(writers + 1)
    queue = context.Queue()
    processes = [
        context.Process(target=writer, args=(url, setup, number, seconds, barrier, queue))
        for number in range(writers)
    ]
    for process in processes:
        process.start()
    tallies: list[Tally] = []
    try:
        for _ in PHASES:
            barrier.wait(timeout=300)  # every writer is ready: the phase starts
        for _ in range(writers * len(PHASES)):
            tallies.append(queue.get(timeout=300))
    finally:
        for process in processes:
            process.join(timeout=60)
            if process.is_alive():
                process.kill()
    return tallies


def writer(url: str, setup: Setup, number: int, seconds: float, barrier: Any, queue: Any) -> None:
    """Run this writer's share of every phase, each started at the barrier; report tallies."""
    os.environ["LOGISTICS_SCHEDULER"] = "off"
    app = make_app(url)
    with app.app_context():
        for index, phase in enumerate(PHASES):
            work = _work(setup, phase, number)
            barrier.wait(timeout=300)
            queue.put(_run_phase(index, number, work, setup.items, seconds))
        from logistics.extensions import db

        db.session.remove()
        db.engine.dispose()


def _work(setup: Setup, phase: str, number: int) -> Any:
    """Return this writer's unit of work in a phase (it takes the item to use)."""
    from logistics.services import distributions, ledger

    a, b = setup.site_a, setup.site_b
    role = "A to B"
    if phase == "both ways":
        role = ("A to B", "B to A")[number % 2]
    elif phase == "mixed":
        role = MIXED_ROLES[number % len(MIXED_ROLES)]

    def move(item: int) -> None:
        origin, target = (a, b) if role == "A to B" else (b, a)
        ledger.transfer(setup.org_id, setup.user_id, from_site_id=origin, to_site_id=target,
                        item_id=item, quantity=1, note="Benchmark")  # fmt: skip

    def give_out(item: int) -> None:
        hand_out = distributions.HandOut(site_id=setup.point, headcount=1, given=[(item, 1, a)])
        distributions.give_out_now(setup.org_id, setup.user_id, hand_out)

    def loss(item: int) -> None:
        ledger.record_loss(setup.org_id, setup.user_id, site_id=a, item_id=item, quantity=1,
                           reason="Benchmark")  # fmt: skip

    return {"give-out": give_out, "loss": loss}.get(role, move)


def _run_phase(index: int, number: int, work: Any, items: tuple[int, ...], seconds: float) -> Tally:
    """Repeat the unit of work until the phase's time is up, as a view would run it."""
    from logistics.database import retry_when_raced, write_intent
    from logistics.extensions import db

    done = errors = attempts = 0
    first_error = ""
    started = time.perf_counter()
    deadline = started + seconds
    count = 0
    while time.perf_counter() < deadline:
        # Every writer walks all the shared items, each starting at its own.
        item = items[(number + count) % len(items)]
        count += 1

        def unit(item: int = item) -> None:
            nonlocal attempts
            attempts += 1
            with write_intent():
                work(item)
                db.session.commit()

        try:
            retry_when_raced(unit)
            done += 1
        except Exception as error:  # noqa: BLE001 (every failure is a figure here)
            db.session.rollback()
            errors += 1
            first_error = first_error or f"{type(error).__name__}: {error}"[:300]
    elapsed = time.perf_counter() - started
    return Tally(index, number, done, errors, attempts - done - errors, elapsed, first_error)


def _rates(tallies: list[Tally]) -> dict[int, float]:
    rates = {}
    for index in range(len(PHASES)):
        phase = [t for t in tallies if t.phase == index]
        rates[index] = sum(t.done for t in phase) / max(t.seconds for t in phase)
    return rates


def _results(engine: str, tallies: list[Tally], rates: dict[int, float], mismatches: int,
             writers: int) -> list[Result]:  # fmt: skip
    def rate(name: str) -> float:
        return statistics.mean(r for i, r in rates.items() if PHASES[i] == name)

    one_way, both_ways, mixed = rate("one way"), rate("both ways"), rate("mixed")
    errors = sum(t.errors for t in tallies)
    retries = sum(t.retries for t in tallies)
    share_target = engine == "PostgreSQL"
    return [
        Result(
            "10",
            f"{writers} writers, {engine}: errors in all phases ({retries} retries, "
            f"{mismatches} ledger mismatches after)",
            float(errors + mismatches),
            "n",
            target="0",
            passed=errors == 0 and mismatches == 0,
        ),
        Result(
            "10",
            f"{writers} writers, {engine}: mixed (transfers both ways, give-outs, losses)",
            mixed,
            "/s",
        ),  # fmt: skip
        Result(
            "10",
            f"{writers} writers, {engine}: transfers both ways",
            both_ways,
            "/s",
            floor=one_way,
            floor_name="the same writers all one way",
            target=rate_target(TARGET_SHARE) if share_target else "",
            passed=both_ways >= TARGET_SHARE * one_way if share_target else None,
        ),
    ]


def sqlite_url(scratch: Path) -> str:
    """Copy the cached 10k SQLite ledger into scratch and return its URL."""
    from .writes import _copy_sqlite

    copy = scratch / "ledger.sqlite3"
    _copy_sqlite(str(ensure_sqlite(10_000)), copy)
    return f"sqlite:///{copy}"


def run_sqlite(seconds: float = SECONDS, writers: int = WRITERS) -> list[Result]:
    """Run on a scratch copy of the 10k SQLite ledger."""
    scratch = Path(tempfile.mkdtemp(prefix="logistics-bench-writers-"))
    try:
        return run("SQLite", sqlite_url(scratch), seconds, writers)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def run_postgres(server_url: str, seconds: float = SECONDS, writers: int = WRITERS) -> list[Result]:
    """Run in a database of our own on the server, with the 10k ledger; drop it afterwards."""
    from .__main__ import _postgres_database
    from .generate import generate

    with _postgres_database(server_url, "writers") as url:
        generate(url, 10_000, log=lambda *_: None)
        return run("PostgreSQL", url, seconds, writers)


def main() -> None:
    """Run the writers alone: SQLite, then PostgreSQL unless skipped."""
    from . import table
    from .__main__ import DEFAULT_POSTGRES_URL

    parser = argparse.ArgumentParser(prog="python -m bench.writers", description=__doc__)
    parser.add_argument("--seconds", type=float, default=SECONDS, help="per phase")
    parser.add_argument("--writers", type=int, default=WRITERS)
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES_URL, help="server URL")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    results: list[Result] = []
    if not args.skip_sqlite:
        results += run_sqlite(args.seconds, args.writers)
    if not args.skip_postgres:
        results += run_postgres(args.postgres, args.seconds, args.writers)
    print(table(results))


if __name__ == "__main__":
    os.environ.setdefault("LOGISTICS_SCHEDULER", "off")
    main()
