"""The ledger rules (docs/principles.md §2–4) on both databases."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select, text

from logistics import database
from logistics.extensions import db
from logistics.models import StockLevel, StockMovement
from logistics.services import ledger, stock, submissions
from logistics.services.errors import (
    Conflict,
    InsufficientStock,
    NotFound,
    ValidationError,
)


def _held(world, site: str, item: str) -> int:
    return ledger.held(world.sites[site], world.items[item])


def _movement_count() -> int:
    return db.session.scalar(select(func.count(StockMovement.id)))


def _receive(world, quantity: int, site: str = "main", item: str = "sleeping_bag"):
    movement = ledger.receive(
        world.org_id,
        world.users["warehouse"],
        site_id=world.sites[site],
        item_id=world.items[item],
        quantity=quantity,
        source="St Joseph parish",
    )
    db.session.commit()
    return movement


def test_donation_raises_level_and_keeps_its_source(world):
    movement = _receive(world, 40)
    assert _held(world, "main", "sleeping_bag") == 40
    assert (movement.kind, movement.quantity, movement.source) == (
        "donation",
        40,
        "St Joseph parish",
    )
    assert movement.recorded_by_id == world.users["warehouse"]


def test_transfer_writes_two_movements_in_one_group(world):
    _receive(world, 40)
    out, into = ledger.transfer(
        world.org_id,
        None,
        from_site_id=world.sites["main"],
        to_site_id=world.sites["gs_store"],
        item_id=world.items["sleeping_bag"],
        quantity=20,
    )
    db.session.commit()
    assert (_held(world, "main", "sleeping_bag"), _held(world, "gs_store", "sleeping_bag")) == (
        20,
        20,
    )
    assert out.transfer_group == into.transfer_group
    assert (out.kind, out.quantity, into.kind, into.quantity) == (
        "transfer_out",
        -20,
        "transfer_in",
        20,
    )


def test_outgoing_refused_when_short_names_item_site_and_what_is_held(world):
    _receive(world, 12, item="blanket")
    before = _movement_count()
    with pytest.raises(InsufficientStock) as refusal:
        ledger.transfer(
            world.org_id,
            None,
            from_site_id=world.sites["main"],
            to_site_id=world.sites["gs_store"],
            item_id=world.items["blanket"],
            quantity=20,
        )
    db.session.rollback()
    assert refusal.value.message == "Only 12 Blanket at Main warehouse; cannot move 20."
    assert _held(world, "main", "blanket") == 12
    assert _held(world, "gs_store", "blanket") == 0
    assert _movement_count() == before


def test_stocktake_records_the_difference_with_its_reason(world):
    _receive(world, 40)
    movement = ledger.adjust(
        world.org_id,
        None,
        site_id=world.sites["main"],
        item_id=world.items["sleeping_bag"],
        counted=37,
        reason="Monthly count",
    )
    db.session.commit()
    assert (movement.kind, movement.quantity, movement.note) == ("adjustment", -3, "Monthly count")
    assert _held(world, "main", "sleeping_bag") == 37


def test_stocktake_that_matches_records_nothing(world):
    _receive(world, 40)
    before = _movement_count()
    result = ledger.adjust(
        world.org_id,
        None,
        site_id=world.sites["main"],
        item_id=world.items["sleeping_bag"],
        counted=40,
        reason="Count",
    )
    assert result is None
    assert _movement_count() == before


def test_loss_needs_a_reason_and_is_guarded(world):
    _receive(world, 5, item="blanket")
    with pytest.raises(ValidationError):
        ledger.record_loss(
            world.org_id,
            None,
            site_id=world.sites["main"],
            item_id=world.items["blanket"],
            quantity=2,
            reason="  ",
        )
    with pytest.raises(InsufficientStock, match="Only 5 Blanket at Main warehouse"):
        ledger.record_loss(
            world.org_id,
            None,
            site_id=world.sites["main"],
            item_id=world.items["blanket"],
            quantity=6,
            reason="CS gas",
        )
    db.session.rollback()
    ledger.record_loss(
        world.org_id,
        None,
        site_id=world.sites["main"],
        item_id=world.items["blanket"],
        quantity=5,
        reason="Sprayed with CS gas, cannot be washed",
    )
    db.session.commit()
    assert _held(world, "main", "blanket") == 0


@pytest.mark.parametrize("quantity", [0, -3, 10_000_001, "12", 2.5, True])
def test_bad_quantities_are_refused(world, quantity):
    with pytest.raises(ValidationError):
        ledger.receive(
            world.org_id,
            None,
            site_id=world.sites["main"],
            item_id=world.items["blanket"],
            quantity=quantity,
        )


def test_future_and_naive_times_are_refused(world):
    for when in (datetime.now(UTC) + timedelta(days=1), datetime(2026, 1, 1)):
        with pytest.raises(ValidationError):
            ledger.receive(
                world.org_id,
                None,
                site_id=world.sites["main"],
                item_id=world.items["blanket"],
                quantity=1,
                occurred_at=when,
            )


def test_reversal_undoes_once_and_points_at_the_original(world):
    movement = _receive(world, 40)
    (reversal,) = ledger.reverse(world.org_id, None, movement.id, "Entered twice")
    db.session.commit()
    assert (reversal.kind, reversal.quantity, reversal.reverses_id) == (
        "reversal",
        -40,
        movement.id,
    )
    assert _held(world, "main", "sleeping_bag") == 0
    with pytest.raises(Conflict, match="already been reversed"):
        ledger.reverse(world.org_id, None, movement.id, "Again")
    db.session.rollback()
    with pytest.raises(Conflict, match="cannot be reversed"):
        ledger.reverse(world.org_id, None, reversal.id, "Undo the undo")


def test_reversing_a_transfer_leg_reverses_both(world):
    _receive(world, 40)
    out, _into = ledger.transfer(
        world.org_id,
        None,
        from_site_id=world.sites["main"],
        to_site_id=world.sites["gs_store"],
        item_id=world.items["sleeping_bag"],
        quantity=15,
    )
    db.session.commit()
    reversals = ledger.reverse(world.org_id, None, out.id, "Wrong van")
    db.session.commit()
    assert len(reversals) == 2
    assert _held(world, "main", "sleeping_bag") == 40
    assert _held(world, "gs_store", "sleeping_bag") == 0


def test_reversal_refused_when_the_stock_is_already_gone(world):
    movement = _receive(world, 10, item="tent")
    ledger.record_loss(
        world.org_id,
        None,
        site_id=world.sites["main"],
        item_id=world.items["tent"],
        quantity=8,
        reason="Slashed at eviction",
    )
    db.session.commit()
    with pytest.raises(InsufficientStock, match="Only 2 Tent \\(2-person\\) at Main warehouse"):
        ledger.reverse(world.org_id, None, movement.id, "Donation was a duplicate")
    db.session.rollback()
    assert _held(world, "main", "tent") == 2
    assert stock.reversed_ids([movement.id]) == set()


def test_movements_are_never_updated_or_deleted_by_the_rules(world):
    movement = _receive(world, 40)
    ledger.reverse(world.org_id, None, movement.id, "Mistake")
    db.session.commit()
    db.session.expire_all()
    original = db.session.get(StockMovement, movement.id)
    assert (original.kind, original.quantity) == ("donation", 40)
    assert _movement_count() == 2


def test_another_organisations_ids_are_not_found(world, other_world):
    with pytest.raises(NotFound):
        ledger.receive(
            world.org_id,
            None,
            site_id=other_world.sites["main"],
            item_id=world.items["blanket"],
            quantity=1,
        )
    with pytest.raises(NotFound):
        ledger.receive(
            world.org_id,
            None,
            site_id=world.sites["main"],
            item_id=other_world.items["blanket"],
            quantity=1,
        )
    theirs = _receive(other_world, 3)
    with pytest.raises(NotFound):
        ledger.reverse(world.org_id, None, theirs.id, "Not ours")


def test_unknown_ids_name_the_field_that_is_wrong(world):
    for site_id, item_id, field in (
        (999_999, world.items["blanket"], "site_id"),
        (world.sites["main"], 999_999, "item_id"),
    ):
        with pytest.raises(NotFound) as refusal:
            ledger.receive(world.org_id, None, site_id=site_id, item_id=item_id, quantity=1)
        assert field in refusal.value.fields
    assert _movement_count() == 0


def test_the_movement_returned_is_the_row_written(world):
    movement = ledger.receive(
        world.org_id,
        world.users["warehouse"],
        site_id=world.sites["main"],
        item_id=world.items["blanket"],
        quantity=7,
        source="  Secours populaire  ",
    )
    # Used before the commit, as the pages do: its site and item load through the session.
    assert (movement.site.name, movement.item.id) == ("Main warehouse", world.items["blanket"])
    # It belongs to the session (the ORM wrote it): the session hands back this very object.
    assert movement in db.session
    assert db.session.get(StockMovement, movement.id) is movement
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(StockMovement, movement.id)
    assert stored is movement
    assert (stored.quantity, stored.source, stored.kind) == (7, "Secours populaire", "donation")
    assert stored.recorded_by_id == world.users["warehouse"]


def test_a_movement_rolled_back_with_its_savepoint_leaves_nothing_behind(world):
    held = {"site_id": world.sites["main"], "item_id": world.items["blanket"]}
    ledger.receive(world.org_id, None, quantity=10, **held)
    db.session.commit()
    with pytest.raises(InsufficientStock), db.session.begin_nested():
        undone = ledger.receive(world.org_id, None, quantity=5, **held)
        ledger.record_loss(world.org_id, None, quantity=99, reason="Seized", **held)
    assert undone not in db.session
    # The next movement may take the same id on SQLite: nothing stale stands in its way.
    again = ledger.receive(world.org_id, None, quantity=3, **held)
    db.session.commit()
    assert db.session.get(StockMovement, again.id).quantity == 3
    assert _held(world, "main", "blanket") == 13


def test_a_movement_rolled_back_with_its_transaction_leaves_nothing_behind(world):
    held = {"site_id": world.sites["main"], "item_id": world.items["blanket"]}
    undone = ledger.receive(world.org_id, None, quantity=5, **held)
    db.session.rollback()
    again = ledger.receive(world.org_id, None, quantity=3, **held)
    db.session.commit()
    assert again is not undone and _movement_count() == 1
    assert _held(world, "main", "blanket") == 3


def test_same_request_token_records_once(world):
    def produce():
        movement = ledger.receive(
            world.org_id,
            None,
            site_id=world.sites["main"],
            item_id=world.items["water"],
            quantity=500,
        )
        return {"movement_ids": [movement.id]}

    first, replayed_first = submissions.run_once(world.org_id, "tok-1", "receive", produce)
    db.session.commit()
    second, replayed_second = submissions.run_once(world.org_id, "tok-1", "receive", produce)
    db.session.commit()
    assert (replayed_first, replayed_second) == (False, True)
    assert first == second
    assert _held(world, "main", "water") == 500


def test_a_token_is_per_organisation(world, other_world):
    first, _ = submissions.run_once(world.org_id, "tok-1", "receive", lambda: {"n": 1})
    second, replayed = submissions.run_once(
        other_world.org_id, "tok-1", "receive", lambda: {"n": 2}
    )
    db.session.commit()
    assert (first, second, replayed) == ({"n": 1}, {"n": 2}, False)


def test_check_ledger_is_clean_after_every_kind_and_finds_tampering(world):
    _receive(world, 40)
    ledger.transfer(
        world.org_id,
        None,
        from_site_id=world.sites["main"],
        to_site_id=world.sites["gs_store"],
        item_id=world.items["sleeping_bag"],
        quantity=10,
    )
    torn = ledger.adjust(
        world.org_id,
        None,
        site_id=world.sites["gs_store"],
        item_id=world.items["sleeping_bag"],
        delta=-1,
        reason="Torn",
    )
    ledger.reverse(world.org_id, None, torn.id, "Was only dirty")
    db.session.commit()
    assert stock.check_ledger() == []
    level = db.session.get(StockLevel, (world.sites["main"], world.items["sleeping_bag"]))
    level.quantity += 7
    db.session.commit()
    (mismatch,) = stock.check_ledger()
    assert (mismatch.site, mismatch.item, mismatch.level, mismatch.movements) == (
        "Main warehouse",
        "Sleeping bag",
        37,
        30,
    )


def test_stock_as_of_a_past_moment(world):
    now = datetime.now(UTC)
    ledger.receive(
        world.org_id,
        None,
        site_id=world.sites["main"],
        item_id=world.items["tarp"],
        quantity=30,
        occurred_at=now - timedelta(days=10),
    )
    ledger.record_loss(
        world.org_id,
        None,
        site_id=world.sites["main"],
        item_id=world.items["tarp"],
        quantity=12,
        reason="Seized at eviction",
        occurred_at=now - timedelta(days=2),
    )
    db.session.commit()

    def as_of(days: float) -> int:
        rows = stock.levels_as_of(
            world.org_id, now - timedelta(days=days), item_id=world.items["tarp"]
        )
        return sum(row.quantity for row in rows)

    assert (as_of(20), as_of(5), as_of(1), as_of(0)) == (0, 30, 18, 18)


def test_item_history_shows_running_balance_across_pages(world):
    for quantity in (10, 20, 30, 40):
        _receive(world, quantity, item="blanket")
    rows, cursor = stock.item_history(world.org_id, world.items["blanket"], limit=3)
    assert [(r.movement.quantity, r.balance) for r in rows] == [(40, 100), (30, 60), (20, 30)]
    older, end = stock.item_history(world.org_id, world.items["blanket"], limit=3, before_id=cursor)
    assert [(r.movement.quantity, r.balance) for r in older] == [(10, 10)]
    assert end is None


def test_stock_as_of_leaves_retired_items_out_like_current_levels(world):
    from logistics.services import catalogue

    now = datetime.now(UTC)
    for quantity, days in ((30, 2), (10, 0.04)):
        ledger.receive(
            world.org_id,
            None,
            site_id=world.sites["main"],
            item_id=world.items["tarp"],
            quantity=quantity,
            occurred_at=now - timedelta(days=days),
        )
    db.session.commit()
    assert [r.quantity for r in stock.levels_as_of(world.org_id, now - timedelta(days=1))] == [30]
    catalogue.set_item_active(world.org_id, world.items["tarp"], False)
    db.session.commit()
    assert stock.levels_as_of(world.org_id, now - timedelta(days=1)) == []


def _page_query(world, **filters) -> tuple[str, object]:
    """Return the SQL and parameters stock.movements sends for a ledger page."""
    sent: list[tuple[str, object]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many) -> None:
        sent.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        stock.movements(world.org_id, **filters)
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    return next((s, p) for s, p in sent if "FROM stock_movement" in s)


@pytest.mark.parametrize(
    ("filters", "index"),
    [
        ({}, "ix_stock_movement_org_id"),
        ({"kind": "loss"}, "ix_stock_movement_org_kind_id"),
        ({"site_id": "gs_store"}, "ix_stock_movement_org_site_id"),
    ],
)
def test_a_ledger_page_reads_its_index_backwards_and_sorts_nothing(world, filters, index):
    for quantity in (5, 7, 9):
        _receive(world, quantity)
    if "site_id" in filters:
        filters = {"site_id": world.sites[filters["site_id"]]}
    statement, parameters = _page_query(world, **filters)
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
        plan = " / ".join(row[-1] for row in rows)
        assert "TEMP B-TREE" not in plan
        assert f"INDEX {index} (" in plan
    else:
        # A table this small would be read whole, or its few rows fetched by bitmap and
        # sorted; price both out to see an index plan. Its statistics say a few rows (tests
        # empty it with DELETE, so earlier tests' counts linger), so any organisation index
        # will do: without one, the order would come from a sort or a walk of the primary key.
        connection.execute(text("SET LOCAL enable_seqscan = off"))
        connection.execute(text("SET LOCAL enable_bitmapscan = off"))
        rows = connection.exec_driver_sql("EXPLAIN " + statement, parameters).all()
        plan = " / ".join(row[0] for row in rows)
        assert "Sort" not in plan
        assert re.search(r"Index Scan Backward using ix_stock_movement_org_(kind_|site_)?id ", plan)
    db.session.rollback()


def test_sqlite_statistics_are_refreshed_between_units_of_work(world, monkeypatch):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's autovacuum keeps its own statistics")
    monkeypatch.setattr(database, "OPTIMIZE_EVERY_SECONDS", 0)
    _receive(world, 5)
    stock.movements(world.org_id, kind="donation")
    db.session.commit()  # the connection goes back to the pool: PRAGMA optimize runs there
    analysed = db.session.scalars(
        text("SELECT idx FROM sqlite_stat1 WHERE tbl = 'stock_movement'")
    ).all()
    assert "ix_stock_movement_org_kind_id" in analysed
