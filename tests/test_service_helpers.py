"""The services' shared helpers: one organisation's row or a 404; several lines out, or none."""

from __future__ import annotations

import pytest
from factories import held, receive

from logistics.extensions import db
from logistics.guards import MAX_ID
from logistics.models import Item
from logistics.services import ledger
from logistics.services.errors import InsufficientStock, NotFound
from logistics.services.outgoing import Take, take_all
from logistics.services.rows import owned


def test_a_row_of_another_organisation_is_as_unknown_as_a_missing_one(world, other_world):
    blanket = world.items["blanket"]

    assert owned(Item, world.org_id, blanket, "No such item.").id == blanket
    assert owned(Item, world.org_id, blanket, "No such item.", for_update=True).id == blanket
    refusals = []
    for organisation_id, item_id in ((other_world.org_id, blanket), (world.org_id, MAX_ID)):
        with pytest.raises(NotFound) as refusal:
            owned(Item, organisation_id, item_id, "No such item.", {"item_id": "unknown item"})
        refusals.append((refusal.value.status, refusal.value.message, refusal.value.fields))

    assert refusals == [(404, "No such item.", {"item_id": "unknown item"})] * 2


def _take(world, item: str, quantity: int) -> Take:
    return Take(
        site_id=world.sites["main"],
        item_id=world.items[item],
        quantity=quantity,
        kind="distribution",
        occurred_at=None,
        note="test",
    )


def test_take_all_writes_every_line_or_none_and_names_each_short_one(world):
    receive(world, "main", "blanket", 5)
    receive(world, "main", "tent", 1)
    lines = [_take(world, "blanket", 3), _take(world, "tent", 2), _take(world, "water", 4)]

    with pytest.raises(InsufficientStock) as refusal, db.session.begin_nested():
        take_all(world.org_id, None, lines, "Not recorded:", {"lines": "not enough stock"})

    assert refusal.value.message == (
        "Not recorded: Only 1 Tent (2-person) at Main warehouse; cannot give out 2. "
        "Only 0 Drinking water at Main warehouse; cannot give out 4."
    )
    assert refusal.value.fields == {"lines": "not enough stock"}
    # The line that fitted was written, then rolled back with the savepoint.
    assert ledger.held(world.sites["main"], world.items["blanket"]) == 5

    with db.session.begin_nested():
        take_all(world.org_id, None, lines[:1], "Not recorded:", {})
    db.session.commit()
    assert held(world, "main", "blanket") == 2
