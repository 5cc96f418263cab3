"""Benchmark 5: check-shortages for one organisation on the 1,000,000-movement ledger.

Target: alerts.reconcile(org) + commit (the business part of the check-shortages job) in
≤ 200 ms for 500 items × 20 sites, with 28 days of planned distributions ahead. The plan is
made through services.distributions on a copy of the ledger (SQLite) or in the run's own
database (PostgreSQL): a daily evening series at each of the 13 distribution points and a
lunchtime one at the 6 Calais points, each from a warehouse or kitchen of its area with 5–15
planned lines; people estimates per area; per-person needs on a few items; two group channels.

Measured, round after round: the first run (no open alert: it opens them and queues their
deliveries; the alerts are deleted again, untimed, before each round), the steady state (a
rerun straight after: nothing changes), compute_needs alone, and the floor, a raw read of
`SELECT item_id, SUM(quantity) FROM stock_level GROUP BY item_id` through the driver.
"now" is the end of the generated ledger, so a cached file gives the same figures any day.

`python -m bench.shortages --cprofile [--first]` prints where a steady-state rerun (or a
first run) spends its time. `--postgres [URL]` does either on PostgreSQL instead: the 1M
ledger is generated in a database of its own on that server (1–2 min) and dropped afterwards.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import shutil
import statistics
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from . import Result, timed
from .generate import ORG_SLUG, ensure_sqlite, make_app, member_email
from .writes import _copy_sqlite

TARGET_SECONDS = 0.200
PLAN_SEED = 5
FLOOR_SQL = "SELECT item_id, SUM(quantity) FROM stock_level GROUP BY item_id"
EVENING, LUNCHTIME = time(18, 30), time(12, 30)
# The areas' people, as coordinators would estimate them (docs/field-facts.md).
PEOPLE = {"Calais": 1200, "Grande-Synthe": 600, "Paris": 450, "Brussels": 150}
# What groups are always short of (docs/field-facts.md): a cold snap plans all of it out.
COLD_SNAP_ITEMS = (
    "Tent",
    "Tarpaulin",
    "Blanket",
    "Sleeping bag",
    "Sleeping mat",
    "Foil blanket",
    "Socks",
    "Thermal socks",
    "Jacket",
    "Waterproof jacket",
    "Gloves",
    "Hat",
    "Water container",
)
COLD_SNAP_SIZES = {"Shoes": ("41", "42", "43"), "Trainers": ("41", "42", "43")}
# Days ahead of the cold-snap rounds: inside the 48 hours (critical when short), and after.
COLD_SNAP_DAYS = (1, 4)
# name, size, per person per day: Sphere's drinking water, and two everyday needs.
PER_PERSON = (
    ("Drinking water", "1.5 L bottle", Decimal("2.5")),
    ("Biscuits", "", Decimal("0.5")),
    ("Socks", "L", Decimal("0.05")),
)


@dataclass(frozen=True)
class Plan:
    """What the benchmark added to the ledger, to print beside the figures."""

    series: int
    cold_snap_items: int
    distributions: int
    lines: int
    moment: datetime


def run(url: str, repeat: int, engine: str, log: Any = print) -> list[Result]:
    """Add the plan, then time first run, steady state, compute_needs and the floor."""
    scratch = None
    if engine == "SQLite":
        scratch = Path(tempfile.mkdtemp(prefix="logistics-bench-shortages-"))
        copy = scratch / "ledger.sqlite3"
        _copy_sqlite(make_url(url).database or "", copy)
        url = f"sqlite:///{copy}"
    try:
        return _measure(url, repeat, engine, log)
    finally:
        if scratch:
            shutil.rmtree(scratch, ignore_errors=True)


def _measure(url: str, repeat: int, engine: str, log: Any) -> list[Result]:
    from logistics.database import write_intent
    from logistics.extensions import db
    from logistics.services import accounts, alerts, needs

    app = make_app(url)
    with app.app_context():
        org_id = accounts.organisation_by_slug(ORG_SLUG).id
        plan = add_plan(org_id)
        log(
            f"shortages: {plan.series} series and cold-snap rounds for {plan.cold_snap_items} "
            f"items: {plan.distributions:,} planned distributions, {plan.lines:,} planned "
            f"lines; now = {plan.moment:%Y-%m-%d %H:%M} UTC"
        )
        moment = plan.moment
        floor = _floor_action()
        changes: list[Any] = []

        def reconcile() -> None:
            with write_intent():
                changes[:] = alerts.reconcile(org_id, now=moment)
                db.session.commit()

        def compute() -> None:
            needs.compute_needs(org_id, now=moment)
            db.session.rollback()  # end the read transaction, as a page would

        samples: dict[str, list[float]] = {"first": [], "steady": [], "needs": [], "floor": []}
        order = ["steady", "needs", "floor"]
        shuffler = random.Random(0)
        warmup = 2
        for round_number in range(warmup + repeat):
            clear_alerts(org_id)
            first = timed(reconcile)
            opened = Counter(c.severity for c in changes if c.change == "opened")
            deliveries = _deliveries(org_id)
            shuffler.shuffle(order)
            spent = {"first": first}
            for name in order:
                spent[name] = timed({"steady": reconcile, "needs": compute, "floor": floor}[name])
                if name == "steady" and changes:
                    raise AssertionError(f"a rerun changed {len(changes)} alerts")
            if round_number >= warmup:
                for name, seconds in spent.items():
                    samples[name].append(seconds)
        log(
            f"shortages: the first run opens {sum(opened.values())} alerts "
            f"({opened['critical']} critical, {opened['warning']} warning) and queues "
            f"{deliveries} deliveries; a rerun changes nothing"
        )
        db.session.remove()
        db.engine.dispose()
    median = {name: statistics.median(xs) for name, xs in samples.items()}
    best = {name: min(xs) for name, xs in samples.items()}
    floor_info = {"floor": median["floor"], "floor_name": "SUM of stock_level by item, raw SQL"}
    size = f"500 items × 20 sites, 1M movements, {engine}"
    return [
        Result(
            "5",
            f"check-shortages first run (opens alerts), {size}",
            median["first"],
            "s",
            target="≤ 200 ms",
            passed=median["first"] <= TARGET_SECONDS,
            best=best["first"],
            **floor_info,
        ),
        Result(
            "5",
            f"check-shortages steady-state rerun, {size}",
            median["steady"],
            "s",
            target="≤ 200 ms",
            passed=median["steady"] <= TARGET_SECONDS,
            best=best["steady"],
            **floor_info,
        ),
        Result(
            "5",
            f"needs.compute_needs alone, {size}",
            median["needs"],
            "s",
            best=best["needs"],
            **floor_info,
        ),
    ]


def ledger_end() -> datetime:
    """Return the last movement's time: "now" for a generated ledger, whatever day it is."""
    from sqlalchemy import func, select

    from logistics.extensions import db
    from logistics.models import StockMovement

    end = db.session.scalar(select(func.max(StockMovement.occurred_at)))
    return end.astimezone(UTC)


def add_plan(org_id: int, moment: datetime | None = None) -> Plan:
    """Schedule 28 days of distributions, estimates, per-person needs and channels; commit.

    The plan starts at moment: the end of the generated ledger unless given (the HTTP
    benchmark gives the real time, as its server reads the agenda and needs of today).
    """
    from sqlalchemy import func, select

    from logistics.database import write_intent
    from logistics.extensions import db
    from logistics.models import Distribution, DistributionLine, Item, Site
    from logistics.services import accounts, alerts, catalogue, distributions, needs

    moment = moment or ledger_end()
    rng = random.Random(PLAN_SEED)
    coordinator = accounts.user_by_email(member_email("coordinator"))
    assert coordinator is not None
    with write_intent():
        sites = list(db.session.scalars(select(Site).where(Site.organisation_id == org_id)))
        items = list(
            db.session.scalars(select(Item).where(Item.organisation_id == org_id).order_by(Item.id))
        )
        plannable = [item for item in items if not catalogue.is_meal(item)]
        sources = {
            area: [s for s in sites if s.area == area and s.kind in ("warehouse", "kitchen")]
            for area in PEOPLE
        }
        today = distributions.local_today(org_id, moment)
        series = 0
        for point in (s for s in sites if s.kind == "distribution_point"):
            times = (LUNCHTIME, EVENING) if point.area == "Calais" else (EVENING,)
            for local_time in times:
                chosen = rng.sample(plannable, rng.randint(5, 15))
                distributions.create_series(
                    org_id,
                    site_id=point.id,
                    source_site_id=rng.choice(sources[point.area]).id,
                    weekdays=range(7),
                    local_time=local_time,
                    starts_on=today,
                    ends_on=None,
                    lines=[(item.id, _planned_quantity(rng, item)) for item in chosen],
                    now=moment,
                )
                series += 1
        cold_snap = _cold_snap(org_id, sites, sources, items, today, rng)
        for area, people in PEOPLE.items():
            needs.record_estimate(
                org_id, coordinator.id, area=area, people=people, as_of=today - timedelta(days=3)
            )
        by_label = {(item.name, item.size): item for item in items}
        for name, size, per_person in PER_PERSON:
            _set_per_person(org_id, by_label[(name, size)], per_person)
        alerts.save_channel(org_id, kind="email", target=f"alerts@{ORG_SLUG}.example.org")
        alerts.save_channel(
            org_id,
            kind="webhook",
            target="https://hooks.example.org/coast-aid",
            secret="benchmark webhook secret",
            min_severity="critical",
        )
        db.session.commit()
    planned = select(Distribution.id).where(
        Distribution.organisation_id == org_id,
        Distribution.status == "planned",
        Distribution.starts_at >= moment,
    )
    count = db.session.scalar(select(func.count()).select_from(planned.subquery()))
    lines = db.session.scalar(
        select(func.count(DistributionLine.id)).where(DistributionLine.distribution_id.in_(planned))
    )
    db.session.rollback()
    return Plan(series, cold_snap, int(count or 0), int(lines or 0), moment)


def _cold_snap(
    org_id: int,
    sites: list[Any],
    sources: dict[str, list[Any]],
    items: list[Any],
    today: Any,
    rng: random.Random,
) -> int:
    """Plan one-off rounds that give out 105–130 % of what is held of the always-short items.

    Half the items go out tomorrow evening (held cannot cover 48 hours: critical), half in
    four days (a shortfall within the horizon: warning). Returns how many items are planned.
    """
    from logistics.services import distributions
    from logistics.services.accounts import organisation_zone

    zone = organisation_zone(org_id)
    held = _held(org_id)
    chosen = [
        item
        for item in items
        if item.name in COLD_SNAP_ITEMS or item.size in COLD_SNAP_SIZES.get(item.name, ())
    ]
    points = [s for s in sites if s.kind == "distribution_point"]
    per_day: dict[int, dict[int, list[tuple[int, int]]]] = {d: {} for d in COLD_SNAP_DAYS}
    for index, item in enumerate(chosen):
        days_ahead = COLD_SNAP_DAYS[index % len(COLD_SNAP_DAYS)]
        total = round(held.get(item.id, 0) * rng.uniform(1.05, 1.3))
        share, rest = divmod(total, len(points))
        for number, point in enumerate(points):
            quantity = share + (1 if number < rest else 0)
            per_day[days_ahead].setdefault(point.id, []).append((item.id, quantity))
    for days_ahead, by_point in per_day.items():
        starts = distributions.starts_at_utc(today + timedelta(days=days_ahead), EVENING, zone)
        for point in points:
            distributions.create_one_off(
                org_id,
                site_id=point.id,
                source_site_id=sources[point.area][0].id,
                starts_at=starts + timedelta(minutes=30),
                lines=by_point[point.id],
            )
    return len(chosen)


def _held(org_id: int) -> dict[int, int]:
    """Return the stock held at every site, by item (as the needs count it)."""
    from sqlalchemy import func, select

    from logistics.extensions import db
    from logistics.models import StockLevel

    rows = db.session.execute(
        select(StockLevel.item_id, func.sum(StockLevel.quantity))
        .where(StockLevel.organisation_id == org_id)
        .group_by(StockLevel.item_id)
    )
    return {item_id: int(total) for item_id, total in rows}


def _planned_quantity(rng: random.Random, item: Any) -> int:
    """Return a believable planned quantity for one distribution: bulk goods by weight."""
    if item.unit in ("kg", "litre"):
        return rng.randint(10, 80)
    return rng.randint(5, 40)


def _set_per_person(org_id: int, item: Any, per_person: Decimal) -> None:
    """Give an item a per-person daily need through the catalogue service."""
    from logistics.services import catalogue

    values = {
        "name": item.name,
        "category": item.category,
        "unit": item.unit,
        "size": item.size,
        "min_stock": item.min_stock,
        "cover_target_days": item.cover_target_days,
        "unit_value_eur": item.unit_value_eur,
        "per_person_per_day": per_person,
    }
    catalogue.save_item(org_id, values, item.id)


def clear_alerts(org_id: int) -> None:
    """Delete the organisation's alerts, their changes and deliveries (untimed, between rounds)."""
    from sqlalchemy import delete, select

    from logistics.database import write_intent
    from logistics.extensions import db
    from logistics.models import Alert, AlertChange, Delivery

    with write_intent():
        changes = select(AlertChange.id).join(Alert).where(Alert.organisation_id == org_id)
        db.session.execute(delete(Delivery).where(Delivery.alert_change_id.in_(changes)))
        alert_ids = select(Alert.id).where(Alert.organisation_id == org_id)
        db.session.execute(delete(AlertChange).where(AlertChange.alert_id.in_(alert_ids)))
        db.session.execute(delete(Alert).where(Alert.organisation_id == org_id))
        db.session.commit()
    db.session.expunge_all()


def _deliveries(org_id: int) -> int:
    from sqlalchemy import func, select

    from logistics.extensions import db
    from logistics.models import Delivery

    count = db.session.scalar(
        select(func.count(Delivery.id)).where(Delivery.organisation_id == org_id)
    )
    db.session.rollback()
    return int(count or 0)


def _floor_action() -> Callable[[], None]:
    """Return the raw read the needs start from: today's stock summed by item, by the driver."""
    from logistics.extensions import db

    def action() -> None:
        raw = db.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute(FLOOR_SQL)
            rows = cursor.fetchall()
            cursor.close()
            raw.rollback()
        finally:
            raw.close()
        if len(rows) != 500:
            raise AssertionError(f"the floor read {len(rows)} items, not 500")

    return action


def profile(repeat: int, first: bool, url: str | None = None) -> None:
    """Print cProfile's top functions of reconcile + commit: first runs, or steady reruns.

    On a copy of the cached SQLite ledger, or on the PostgreSQL database url when given.
    """
    from logistics.database import write_intent
    from logistics.extensions import db
    from logistics.services import accounts, alerts

    scratch = Path(tempfile.mkdtemp(prefix="logistics-bench-shortages-"))
    if url is None:
        copy = scratch / "ledger.sqlite3"
        _copy_sqlite(str(ensure_sqlite(1_000_000)), copy)
        url = f"sqlite:///{copy}"
    app = make_app(url)
    try:
        with app.app_context():
            org_id = accounts.organisation_by_slug(ORG_SLUG).id
            moment = add_plan(org_id).moment

            def reconcile() -> None:
                with write_intent():
                    alerts.reconcile(org_id, now=moment)
                    db.session.commit()

            reconcile()
            reconcile()
            profiler = cProfile.Profile()
            for _ in range(repeat):
                if first:
                    clear_alerts(org_id)
                profiler.enable()
                reconcile()
                profiler.disable()
            stats = pstats.Stats(profiler)
            stats.sort_stats("cumulative").print_stats(45)
            stats.sort_stats("tottime").print_stats(20)
            db.session.remove()
            db.engine.dispose()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def main() -> None:
    """Run the benchmark alone, or profile it, on SQLite or PostgreSQL."""
    from .__main__ import DEFAULT_POSTGRES_URL

    parser = argparse.ArgumentParser(prog="python -m bench.shortages", description=__doc__)
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument("--cprofile", action="store_true", help="profile reconcile + commit")
    parser.add_argument("--first", action="store_true", help="profile first runs, not reruns")
    parser.add_argument(
        "--postgres",
        nargs="?",
        const=DEFAULT_POSTGRES_URL,
        help=f"run on PostgreSQL instead of SQLite (default server: {DEFAULT_POSTGRES_URL})",
    )
    args = parser.parse_args()
    if args.postgres:
        _on_postgres(args.postgres, args)
        return
    if args.cprofile:
        profile(args.repeat, args.first)
        return
    from . import table

    url = f"sqlite:///{ensure_sqlite(1_000_000)}"
    print(table(run(url, args.repeat, "SQLite")))


def _on_postgres(server_url: str, args: argparse.Namespace) -> None:
    """Generate the 1M ledger in a database of our own, benchmark or profile, drop it."""
    from . import table
    from .__main__ import _postgres_database
    from .generate import generate

    with _postgres_database(server_url, "shortages") as url:
        generate(url, 1_000_000)
        if args.cprofile:
            profile(args.repeat, args.first, url)
        else:
            print(table(run(url, args.repeat, "PostgreSQL")))


if __name__ == "__main__":
    os.environ.setdefault("LOGISTICS_SCHEDULER", "off")
    main()
