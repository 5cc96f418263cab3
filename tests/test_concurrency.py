"""Concurrent writers with real threads on both databases: no oversell, no double record."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from logistics.database import write_intent
from logistics.extensions import db
from logistics.models import StockMovement
from logistics.services import ledger, stock, submissions
from logistics.services.errors import InsufficientStock

THREADS = 8


def _run_threads(app, work, threads: int = THREADS) -> list[BaseException]:
    """Run work(thread_index) in threads started together; return unexpected errors."""
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def target(index: int) -> None:
        try:
            with app.app_context(), write_intent():
                barrier.wait()
                work(index)
                db.session.remove()
        except BaseException as exc:  # collected and asserted on in the main thread
            errors.append(exc)

    started = [threading.Thread(target=target, args=(i,)) for i in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join(timeout=120)
    return errors


def test_eight_issuers_never_oversell(app, world):
    site, item = world.sites["main"], world.items["blanket"]
    stocked = 1_000
    issues_per_thread = 200  # 1,600 asked for in all, against 1,000 held
    ledger.receive(world.org_id, None, site_id=site, item_id=item, quantity=stocked)
    db.session.commit()
    outcomes: list[tuple[int, int]] = []
    lock = threading.Lock()

    def issue(_index: int) -> None:
        given = refused = 0
        for _ in range(issues_per_thread):
            try:
                ledger.record(
                    world.org_id, None, site_id=site, item_id=item, quantity=-1, kind="distribution"
                )
                db.session.commit()
                given += 1
            except InsufficientStock as refusal:
                db.session.rollback()
                assert refusal.message == "Only 0 Blanket at Main warehouse; cannot give out 1."
                refused += 1
        with lock:
            outcomes.append((given, refused))

    assert _run_threads(app, issue) == []
    given = sum(g for g, _ in outcomes)
    refused = sum(r for _, r in outcomes)
    assert (given, refused) == (stocked, THREADS * issues_per_thread - stocked)
    db.session.expire_all()
    assert ledger.held(site, item) == 0
    assert stock.check_ledger() == []


def test_the_same_token_sent_at_once_records_once(app, world):
    site, item = world.sites["main"], world.items["water"]
    replays: list[bool] = []

    def submit(_index: int) -> None:
        def produce() -> dict:
            movement = ledger.receive(world.org_id, None, site_id=site, item_id=item, quantity=250)
            return {"movement_ids": [movement.id]}

        _result, replayed = submissions.run_once(world.org_id, "double-tap", "receive", produce)
        db.session.commit()
        replays.append(replayed)

    assert _run_threads(app, submit) == []
    assert sorted(replays) == [False] + [True] * (THREADS - 1)
    db.session.expire_all()
    assert db.session.scalar(select(func.count(StockMovement.id))) == 1
    assert ledger.held(site, item) == 250


def test_two_people_saving_one_outcome_at_once_give_the_goods_out_once(app, world):
    from datetime import UTC, datetime, timedelta

    from logistics.services import distributions

    site, item = world.sites["main"], world.items["blanket"]
    ledger.receive(world.org_id, None, site_id=site, item_id=item, quantity=100)
    tonight = distributions.create_one_off(
        world.org_id,
        site_id=world.sites["point"],
        source_site_id=site,
        starts_at=datetime.now(UTC) - timedelta(hours=1),
        lines=[(item, 30)],
    )
    db.session.commit()
    tonight_id = tonight.id  # threads must not touch this thread's session
    db.session.rollback()  # and this thread must not keep reading an old snapshot

    def save(_index: int) -> None:
        distributions.record_outcome(
            world.org_id,
            None,
            tonight_id,
            distributions.OutcomeInput("held", 300, given=[(item, 30)]),
        )
        db.session.commit()

    assert _run_threads(app, save) == []
    db.session.expire_all()
    assert ledger.held(site, item) == 70
    assert [m.quantity for m in distributions.live_movements(tonight)] == [-30]
    assert stock.check_ledger() == []


def _stock_both(world, item: int, quantity: int) -> tuple[int, int]:
    """Put the same stock of an item at two warehouses; commit; return the two site ids."""
    a, b = world.sites["main"], world.sites["gs_store"]
    for site in (a, b):
        ledger.receive(world.org_id, None, site_id=site, item_id=item, quantity=quantity)
    db.session.commit()
    return a, b


def _assert_ledger_holds(world, item: int, expected: dict[int, int]) -> None:
    """Check the levels, the sum of their movements and check-ledger all agree."""
    db.session.rollback()  # read what the threads committed, not an old snapshot
    for site, quantity in expected.items():
        assert ledger.held(site, item) == quantity
        summed = db.session.scalar(
            select(func.sum(StockMovement.quantity)).where(
                StockMovement.site_id == site, StockMovement.item_id == item
            )
        )
        assert summed == quantity
    assert stock.check_ledger() == []


def test_sixteen_opposite_transfers_at_once_never_deadlock(app, world):
    # Half the threads move A→B, half B→A: each transfer touches both levels.
    item = world.items["blanket"]
    a, b = _stock_both(world, item, 1_000)
    rounds = 12

    def move(index: int) -> None:
        source, target = (a, b) if index % 2 == 0 else (b, a)
        for _ in range(rounds):
            ledger.transfer(
                world.org_id, None, from_site_id=source, to_site_id=target, item_id=item, quantity=3
            )
            db.session.commit()

    assert _run_threads(app, move, threads=16) == []
    _assert_ledger_holds(world, item, {a: 1_000, b: 1_000})
    transfers = db.session.scalar(
        select(func.count(StockMovement.id)).where(StockMovement.kind == "transfer_out")
    )
    assert transfers == 16 * rounds
