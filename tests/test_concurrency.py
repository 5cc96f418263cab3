"""Concurrent writers with real threads on both databases: no oversell, no double record."""

from __future__ import annotations

import threading

import pytest
from conftest import api_token
from factories import THREADS, run_threads
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from logistics.database import retry_when_raced, write_intent
from logistics.extensions import db
from logistics.models import StockMovement, Submission
from logistics.services import ledger, stock, submissions
from logistics.services.errors import InsufficientStock


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

    assert run_threads(app, issue) == []
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

    assert run_threads(app, submit) == []
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

    assert run_threads(app, save) == []
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

    assert run_threads(app, move, threads=16) == []
    _assert_ledger_holds(world, item, {a: 1_000, b: 1_000})
    transfers = db.session.scalar(
        select(func.count(StockMovement.id)).where(StockMovement.kind == "transfer_out")
    )
    assert transfers == 16 * rounds


def test_sixteen_opposite_transfers_through_the_api_all_record(app, world):
    item = world.items["tent"]
    a, b = _stock_both(world, item, 500)
    headers = {"Authorization": f"Bearer {api_token(world, 'warehouse')}"}
    rounds = 6
    statuses: list[int] = []

    def move(index: int) -> None:
        source, target = (a, b) if index % 2 == 0 else (b, a)
        client = app.test_client()
        for round_ in range(rounds):
            body = {"from_site_id": source, "to_site_id": target, "item_id": item, "quantity": 2}
            body["request_token"] = f"t{index}-{round_}"
            statuses.append(
                client.post("/api/v1/transfers", json=body, headers=headers).status_code
            )
        # A retry of the last one is answered from its token and moves nothing.
        replay = client.post("/api/v1/transfers", json=body, headers=headers)
        assert (replay.status_code, replay.get_json()["replayed"]) == (201, True)

    assert run_threads(app, move, threads=16) == []
    assert statuses == [201] * 16 * rounds
    _assert_ledger_holds(world, item, {a: 500, b: 500})
    assert db.session.scalar(select(func.count(Submission.id))) == 16 * rounds


def test_a_unit_of_work_aborted_as_a_deadlock_runs_again_and_records_once(app, world):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite lets one writer in at a time: there is no deadlock to provoke")
    a, b = world.sites["main"], world.sites["gs_store"]
    item = world.items["water"]
    both_hold_one = threading.Barrier(2, timeout=20)
    attempts: list[int] = []

    def submit(index: int) -> None:
        first, second = (a, b) if index == 0 else (b, a)

        def unit() -> bool:
            attempts.append(index)

            def produce() -> dict:
                for number, site in enumerate((first, second)):
                    ledger.record(
                        world.org_id, None, site_id=site, item_id=item, quantity=5, kind="donation"
                    )
                    db.session.flush()
                    if number == 0 and attempts.count(index) == 1:
                        # Each holds the level the other wants next: a deadlock, first time.
                        both_hold_one.wait()
                return {}

            _result, replayed = submissions.run_once(
                world.org_id, f"van-{index}", "receive", produce
            )
            db.session.commit()
            return replayed

        assert retry_when_raced(unit) is False

    assert run_threads(app, submit, threads=2) == []
    assert len(attempts) == 3  # PostgreSQL aborted one of the two, which ran again
    _assert_ledger_holds(world, item, {a: 10, b: 10})
    assert db.session.scalar(select(func.count(Submission.id))) == 2


def test_other_database_errors_are_not_run_again(app, world):
    calls: list[int] = []

    def unit() -> None:
        calls.append(1)
        db.session.add(Submission(organisation_id=world.org_id, request_token="x", kind="k"))
        db.session.add(Submission(organisation_id=world.org_id, request_token="x", kind="k"))
        db.session.commit()

    with write_intent(), pytest.raises(IntegrityError):
        retry_when_raced(unit)
    db.session.rollback()
    assert calls == [1]
