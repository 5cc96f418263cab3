"""Best-before lots: dated stock held per date, given earliest first, checked with the ledger."""

from __future__ import annotations

import re
from datetime import date, timedelta

import factories
import pytest
from conftest import form_token
from sqlalchemy import select, update

from logistics.extensions import db
from logistics.models import Alert, Delivery, Item, StockLot
from logistics.notify import compose
from logistics.services import alerts, csv_io, distributions, ledger, lots, stock
from logistics.services.distributions import HandOut
from logistics.services.errors import InsufficientStock, ValidationError

TODAY = date.today()
SOON = TODAY + timedelta(days=10)
LATER = TODAY + timedelta(days=90)


@pytest.fixture
def meal_packs(world) -> int:
    """A dated item of the world: meal packs."""
    item = factories.item(world.org_id, "Meal pack", "food", unit="pack", dated=True)
    world.items["meal_pack"] = item.id
    return item.id


def _lots(world, site: str = "main") -> list[tuple[date, int]]:
    db.session.rollback()
    return lots.held_lots(world.sites[site], world.items["meal_pack"])


def _receive(world, quantity: int, best_before: date | None, site: str = "main") -> int:
    return factories.receive(world, site, "meal_pack", quantity, best_before=best_before)


def _write_off(world, quantity: int, reason: str, best_before: date | None = None) -> None:
    ledger.record_loss(
        world.org_id,
        None,
        site_id=world.sites["main"],
        item_id=world.items["meal_pack"],
        quantity=quantity,
        reason=reason,
        best_before=best_before,
    )
    db.session.commit()


def _clean_ledger() -> None:
    db.session.rollback()
    assert stock.check_ledger() == []
    assert lots.check_lots() == []


def test_a_dated_receipt_needs_its_date_and_an_undated_item_refuses_one(world, meal_packs):
    with pytest.raises(ValidationError) as refused:
        _receive(world, 200, None)
    assert refused.value.fields == {"best_before": "required for a dated item"}
    assert "Meal pack" in str(refused.value.message)
    db.session.rollback()
    with pytest.raises(ValidationError) as undated:
        factories.receive(world, "main", "blanket", 10, best_before=SOON)
    assert undated.value.fields == {"best_before": "item is not dated"}
    db.session.rollback()
    with pytest.raises(ValidationError):
        _receive(world, 10, date(1999, 12, 31))
    db.session.rollback()
    assert factories.held(world, "main", "meal_pack") == 0


def test_a_distribution_takes_the_earliest_lot_first(world, meal_packs):
    _receive(world, 300, LATER)
    _receive(world, 200, SOON)
    assert _lots(world) == [(SOON, 200), (LATER, 300)]
    distributions.give_out_now(
        world.org_id,
        world.users["warehouse"],
        HandOut(
            site_id=world.sites["point"],
            headcount=120,
            given=[(world.items["meal_pack"], 250, world.sites["main"])],
        ),
    )
    db.session.commit()
    assert _lots(world) == [(LATER, 250)]
    assert factories.held(world, "main", "meal_pack") == 250
    _clean_ledger()


def test_undated_stock_goes_last_and_a_chosen_lot_is_taken_alone(world, meal_packs):
    db.session.get(Item, meal_packs).dated = False
    db.session.commit()
    factories.receive(world, "main", "meal_pack", 40)  # held before it was marked dated
    db.session.get(Item, meal_packs).dated = True
    db.session.commit()
    _receive(world, 100, SOON)
    _receive(world, 100, LATER)
    _write_off(world, 30, "Expired", LATER)
    assert _lots(world) == [(SOON, 100), (LATER, 70)]
    with pytest.raises(InsufficientStock) as short:
        _write_off(world, 71, "Expired", LATER)
    assert "70" in str(short.value.message)
    db.session.rollback()
    # 210 held: 170 dated, then 40 undated: taking 200 empties the lots and 30 of the rest.
    _write_off(world, 200, "Spoiled")
    assert _lots(world) == []
    assert factories.held(world, "main", "meal_pack") == 10
    _clean_ledger()


def test_lots_travel_with_a_transfer_and_a_reversal_returns_them(world, meal_packs):
    _receive(world, 50, SOON)
    _receive(world, 50, LATER)
    out, into = ledger.transfer(
        world.org_id,
        None,
        from_site_id=world.sites["main"],
        to_site_id=world.sites["point"],
        item_id=meal_packs,
        quantity=70,
    )
    db.session.commit()
    assert _lots(world, "main") == [(LATER, 30)]
    assert _lots(world, "point") == [(SOON, 50), (LATER, 20)]
    ledger.reverse(world.org_id, None, out.id, "Wrong van")
    db.session.commit()
    assert _lots(world, "main") == [(SOON, 50), (LATER, 50)]
    assert _lots(world, "point") == []
    _clean_ledger()


def test_reversing_a_dated_receipt_takes_back_its_own_lot(world, meal_packs):
    _receive(world, 50, SOON)
    wrong = _receive(world, 20, LATER)
    ledger.reverse(world.org_id, None, wrong, "Typed twice")
    db.session.commit()
    assert _lots(world) == [(SOON, 50)]
    _clean_ledger()


def test_check_ledger_finds_a_lot_that_disagrees_with_its_draws(world, meal_packs):
    _receive(world, 50, SOON)
    db.session.execute(update(StockLot).values(quantity=60))
    db.session.commit()
    found = lots.check_lots(world.org_id)
    assert [(m.item, m.best_before, m.held, m.expected) for m in found] == [
        ("Meal pack", SOON, 60, 50),
        ("Meal pack", None, 60, 50),
    ]


def test_stock_api_lists_lots_and_takes_a_best_before(world, meal_packs, api):
    client = api("warehouse")
    response = client.post(
        "/movements",
        {
            "kind": "donation",
            "site_id": world.sites["main"],
            "item_id": meal_packs,
            "quantity": 200,
            "best_before": SOON.isoformat(),
        },
    )
    assert response.status_code == 201, response.json
    refused = client.post(
        "/movements",
        {"kind": "donation", "site_id": world.sites["main"], "item_id": meal_packs, "quantity": 5},
    )
    assert refused.status_code == 422
    assert refused.json["error"]["fields"] == {"best_before": "required for a dated item"}
    levels = client.get("/stock", item_id=meal_packs).json["levels"]
    assert levels == [
        {
            "site_id": world.sites["main"],
            "item_id": meal_packs,
            "quantity": 200,
            "lots": [{"best_before": SOON.isoformat(), "quantity": 200}],
        }
    ]
    items = {i["id"]: i for i in client.get("/items").json["items"]}
    assert items[meal_packs]["dated"] is True
    assert items[world.items["blanket"]]["dated"] is False


def _expiry_alerts(world) -> list[Alert]:
    db.session.rollback()
    return list(
        db.session.scalars(
            select(Alert).where(Alert.organisation_id == world.org_id, Alert.kind == "expiry")
        )
    )


def test_an_expiring_lot_raises_its_alert_until_it_is_given_out(app, world, meal_packs):
    _receive(world, 320, SOON)
    _receive(world, 500, LATER)
    changes = alerts.reconcile(world.org_id)
    db.session.commit()
    (alert,) = _expiry_alerts(world)
    assert (alert.severity, alert.figures["quantity"], alert.figures["best_before"]) == (
        "warning",
        320,
        SOON.isoformat(),
    )
    channel = alerts.save_channel(world.org_id, kind="email", target="stock@example.org")
    delivery = Delivery(
        organisation_id=world.org_id, channel_id=channel.id, batch_id=changes[0].batch_id
    )
    db.session.add(delivery)
    db.session.commit()
    day = SOON.strftime("%-d %b")
    text = compose(delivery, app.config).text
    assert f"320 Meal pack at Main warehouse expire on {day} — give them first" in text
    assert alerts.reconcile(world.org_id) == []  # a rerun changes nothing
    distributions.give_out_now(
        world.org_id,
        None,
        HandOut(
            site_id=world.sites["point"],
            headcount=300,
            given=[(meal_packs, 320, world.sites["main"])],
        ),
    )
    db.session.commit()
    (change,) = alerts.reconcile(world.org_id)
    assert (change.alert.kind, change.change) == ("expiry", "resolved")


def test_the_needs_page_says_give_first_and_an_expired_lot_is_written_off(
    world, meal_packs, client_as
):
    _receive(world, 320, SOON)
    _receive(world, 40, TODAY - timedelta(days=2))
    alerts.reconcile(world.org_id)
    db.session.commit()
    (alert,) = _expiry_alerts(world)  # one per shelf, about its earliest lot
    assert (alert.severity, alert.figures["quantity"], alert.figures["expired"]) == (
        "critical",
        40,
        True,
    )
    client = client_as("coordinator")
    page = client.get("/needs").get_data(as_text=True)
    assert 'id="give-first"' in page
    assert f"320 Meal pack at Main warehouse expire on {SOON.strftime('%-d %b')}" in page
    assert "40 Meal pack at Main warehouse expired on" in page
    assert "40 Meal pack at Main warehouse expired on" in client.get("/alerts").get_data(
        as_text=True
    )
    warehouse = client_as("warehouse")
    link = (
        f"/loss?item_id={meal_packs}&site_id={world.sites['main']}"
        f"&best_before={(TODAY - timedelta(days=2)).isoformat()}&reason=expired"
    )
    form = warehouse.get(link).get_data(as_text=True)
    assert 'value="Meal pack"' in form
    assert re.search(r'value="expired"[^>]*checked|checked[^>]*value="expired"', form)
    posted = warehouse.post(
        "/loss",
        data={
            "request_token": form_token(form),
            "item": "Meal pack",
            "quantity": "40",
            "site_id": str(world.sites["main"]),
            "reason": "expired",
            "best_before": (TODAY - timedelta(days=2)).isoformat(),
        },
    )
    assert posted.status_code == 302, posted.get_data(as_text=True)
    assert _lots(world) == [(SOON, 320)]
    (change,) = alerts.reconcile(world.org_id)  # the shelf's next lot is only a warning
    assert (change.change, change.severity) == ("eased", "warning")
    assert (change.figures["quantity"], change.figures["expired"]) == (320, False)
    _clean_ledger()


def test_the_receive_form_asks_a_dated_item_for_its_date(world, meal_packs, client_as):
    client = client_as("warehouse")
    shelf = client.get(f"/receive?item_id={meal_packs}&site_id={world.sites['main']}")
    page = shelf.get_data(as_text=True)
    assert 'name="best_before"' in page.split("More details")[0]  # asked up front
    plain = client.get("/receive").get_data(as_text=True)
    assert 'name="best_before"' in plain.split("More details")[1]  # folded for others
    fields = {
        "item": "Meal pack",
        "quantity": "200",
        "site_id": str(world.sites["main"]),
        "kind": "donation",
    }
    refused = client.post("/receive", data={**fields, "request_token": form_token(page)})
    text = refused.get_data(as_text=True)
    assert "Give the best-before date of Meal pack." in text
    assert _lots(world) == [] and factories.held(world, "main", "meal_pack") == 0
    assert 'name="best_before"' in text.split("More details")[0]
    saved = client.post(
        "/receive",
        data={**fields, "request_token": form_token(text), "best_before": SOON.isoformat()},
    )
    assert saved.status_code == 302
    assert _lots(world) == [(SOON, 200)]


def test_the_shelf_page_lists_the_lots_earliest_first(world, meal_packs, client_as):
    _receive(world, 300, LATER)
    _receive(world, 200, SOON)
    page = client_as("warehouse").get(f"/shelf/{world.sites['main']}/{meal_packs}")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", page.get_data(as_text=True)))
    soon, later = SOON.strftime("%-d %b %Y"), LATER.strftime("%-d %b %Y")
    assert f"{soon} · 200 (given first)" in text
    assert text.index(soon) < text.index(later)


def test_concurrent_give_outs_and_opposite_transfers_keep_every_lot_whole(app, world, meal_packs):
    # Real threads on both databases: lots move under the level's lock, never below zero.
    main, point = world.sites["main"], world.sites["point"]
    for day in (SOON, LATER, LATER + timedelta(days=30)):
        _receive(world, 200, day, "main")
        _receive(world, 100, day, "point")
    given: list[int] = []

    def work(index: int) -> None:
        for _ in range(10):
            if index % 3 == 0:  # give out one at a time, earliest first
                try:
                    ledger.record(
                        world.org_id,
                        None,
                        site_id=main,
                        item_id=meal_packs,
                        quantity=-7,
                        kind="distribution",
                    )
                    db.session.commit()
                    given.append(7)
                except InsufficientStock:
                    db.session.rollback()
            else:  # move both ways at once
                source, target = (main, point) if index % 3 == 1 else (point, main)
                ledger.transfer(
                    world.org_id,
                    None,
                    from_site_id=source,
                    to_site_id=target,
                    item_id=meal_packs,
                    quantity=5,
                )
                db.session.commit()

    assert factories.run_threads(app, work, threads=9) == []
    _clean_ledger()
    held = factories.held(world, "main", "meal_pack") + factories.held(world, "point", "meal_pack")
    assert held == 900 - sum(given)
    dated = sum(q for _, q in _lots(world, "main")) + sum(q for _, q in _lots(world, "point"))
    assert dated == held  # everything received was dated: no undated stock appeared


def test_a_csv_delivery_names_each_lot_in_a_best_before_column(world, meal_packs):
    def plan(text: str) -> csv_io.ImportPlan:
        content = text.encode()
        return csv_io.plan_import(
            world.org_id, content, mode="delivery", site_id=world.sites["main"]
        )

    later = LATER.strftime("%d/%m/%Y")
    checked = plan(
        f"item;quantity;best before\nMeal pack;120;{SOON.isoformat()}\nMeal pack;80;{later}\n"
        "Blanket;10;\n"
    )
    assert checked.ok, [row.error for row in checked.rows]
    csv_io.write_import(world.org_id, None, checked, source="Carrefour")
    db.session.commit()
    assert _lots(world) == [(SOON, 120), (LATER, 80)]
    refused = plan(
        f"item;quantity;best before\nMeal pack;5;\nBlanket;3;{later}\nMeal pack;1;31/02/2027\n"
    )
    assert [row.error for row in refused.rows] == [
        'Meal pack has a best-before date: add a column "best before" with it.',
        "Blanket takes no best-before date here: leave the cell empty.",
        'The best-before date "31/02/2027" is not a date (write 12/12/2026).',
    ]
    _clean_ledger()


def test_lots_still_go_first_after_the_item_is_marked_undated(world, meal_packs):
    _receive(world, 50, SOON)
    db.session.get(Item, meal_packs).dated = False
    db.session.commit()
    factories.receive(world, "main", "meal_pack", 30)  # no date asked any more
    _write_off(world, 60, "Spoiled")
    assert _lots(world) == []
    assert factories.held(world, "main", "meal_pack") == 20
    _clean_ledger()
