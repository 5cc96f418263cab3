"""Monthly level snapshots: stock as of any date from the next snapshot, on both engines."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from logistics.cli import check_ledger
from logistics.extensions import db
from logistics.jobs import run_job
from logistics.models import LevelSnapshot, SnapshotTaken, StockMovement
from logistics.models.types import utcnow
from logistics.services import catalogue, ledger, snapshots, stock


def _history(world) -> None:
    """Write four months of receipts, transfers and give-outs at believable times; commit."""
    rng = random.Random(7)
    now = utcnow()
    sites = [world.sites["main"], world.sites["gs_store"], world.sites["point"]]
    items = [world.items["blanket"], world.items["tent"], world.items["water"]]
    for days_ago in range(130, 0, -3):
        at = now - timedelta(days=days_ago, hours=rng.randint(0, 20))
        item = rng.choice(items)
        ledger.receive(
            world.org_id,
            None,
            site_id=sites[0],
            item_id=item,
            quantity=rng.randint(20, 90),
            occurred_at=at,
        )
        target = rng.choice(sites[1:])
        ledger.transfer(
            world.org_id,
            None,
            from_site_id=sites[0],
            to_site_id=target,
            item_id=item,
            quantity=rng.randint(1, 15),
            occurred_at=at + timedelta(minutes=30),
        )
        ledger.record(
            world.org_id,
            None,
            site_id=target,
            item_id=item,
            quantity=-1,
            kind="distribution",
            occurred_at=at + timedelta(hours=2),
        )
    db.session.commit()


def _truth(world, at: datetime) -> list[tuple[int, int, int]]:
    """Return what the ledger says was held at a moment: the sums of movements up to it."""
    rows = db.session.execute(
        select(StockMovement.site_id, StockMovement.item_id, func.sum(StockMovement.quantity))
        .where(StockMovement.organisation_id == world.org_id, StockMovement.occurred_at <= at)
        .group_by(StockMovement.site_id, StockMovement.item_id)
    )
    return sorted(((site, item, int(q)) for site, item, q in rows if q), key=lambda r: r[1::-1])


def _as_of(world, at: datetime, **place) -> list[tuple[int, int, int]]:
    rows = stock.levels_as_of(world.org_id, at, **place)
    return [(r.site_id, r.item_id, r.quantity) for r in rows]


def _moments(count: int = 25) -> list[datetime]:
    rng = random.Random(11)
    now = utcnow()
    return [now - timedelta(days=rng.uniform(0, 140)) for _ in range(count)]


def test_stock_as_of_any_date_equals_the_ledger_with_and_without_snapshots(world):
    _history(world)
    moments = _moments()
    before = [_as_of(world, at) for at in moments]
    taken = snapshots.take_snapshots(world.org_id)
    db.session.commit()
    assert taken >= 4  # a month start in each of the last four months or more
    assert snapshots.take_snapshots(world.org_id) == 0  # a rerun writes nothing
    for at, walked_back in zip(moments, before, strict=True):
        assert _as_of(world, at) == walked_back == _truth(world, at), at
    site = world.sites["main"]
    at = moments[0]
    assert _as_of(world, at, site_id=site) == [r for r in _truth(world, at) if r[0] == site]
    assert snapshots.check_snapshots() == []


def test_a_back_dated_movement_moves_the_snapshots_after_it(world):
    _history(world)
    snapshots.take_snapshots(world.org_id)
    db.session.commit()
    first_month = min(snapshots.taken_moments(world.org_id))
    late = first_month - timedelta(days=3)  # typed in today, happened before every snapshot
    ledger.receive(
        world.org_id,
        None,
        site_id=world.sites["kitchen"],
        item_id=world.items["water"],
        quantity=500,
        occurred_at=late,
    )
    db.session.commit()
    assert snapshots.check_snapshots() == []
    for at in [late - timedelta(hours=1), late, *_moments(10)]:
        assert _as_of(world, at) == _truth(world, at), at


def test_check_ledger_finds_a_snapshot_that_disagrees(world, app):
    _history(world)
    snapshots.take_snapshots(world.org_id)
    db.session.commit()
    assert app.test_cli_runner().invoke(check_ledger).exit_code == 0
    db.session.execute(update(LevelSnapshot).values(quantity=LevelSnapshot.quantity + 1))
    db.session.commit()
    found = snapshots.check_snapshots(world.org_id)
    assert found and all(m.snapshot == m.movements + 1 for m in found)
    result = app.test_cli_runner().invoke(check_ledger)
    assert result.exit_code == 1
    assert "snapshot of" in result.output and "movements sum to" in result.output


def test_the_nightly_job_takes_the_months_not_yet_taken(app, world):
    _history(world)
    assert "snapshot(s) taken" in run_job(app, "take-snapshots")
    months = db.session.scalar(select(func.count()).select_from(SnapshotTaken))
    assert months >= 4
    assert run_job(app, "take-snapshots") == "0 monthly level snapshot(s) taken."
    starts = snapshots.taken_moments(world.org_id)
    assert all(t.day == 1 and (t.hour, t.minute) == (0, 0) and t.tzinfo == UTC for t in starts)


def test_stock_as_of_before_a_snapshot_filters_and_leaves_retired_items_out(world, api):
    _history(world)
    snapshots.take_snapshots(world.org_id)
    db.session.commit()
    at = min(snapshots.taken_moments(world.org_id)) + timedelta(days=10)  # a snapshot after it
    truth = _truth(world, at)
    store, water = truth[-1][:2]  # an item held somewhere then, whichever it is
    assert _as_of(world, at, item_id=water) == [r for r in truth if r[1] == water]
    assert _as_of(world, at, site_id=store, item_id=water) == [
        r for r in truth if r[:2] == (store, water)
    ]
    answer = api("donor").get("/stock/as-of", at=at.isoformat(), item_id=water)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    got = [(lv["site_id"], lv["item_id"], lv["quantity"]) for lv in answer.get_json()["levels"]]
    assert sorted(got) == sorted(r for r in truth if r[1] == water) != []
    catalogue.set_item_active(world.org_id, water, False)
    db.session.commit()
    assert _as_of(world, at) == [r for r in truth if r[1] != water]
