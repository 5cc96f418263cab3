"""The demo organisation built by `flask seed-demo`: consistent, believable, logins that work."""

from __future__ import annotations

from datetime import timedelta

from conftest import login
from flask import Flask
from sqlalchemy import func, select

from logistics.demo import DEMO_PASSWORD, demo_logins, seed
from logistics.extensions import db
from logistics.models import HOLDING_SITE_KINDS, Organisation, StockMovement
from logistics.models.types import utcnow
from logistics.services import accounts, catalogue, stock


def _held(org_id: int) -> dict[str, int]:
    """Return each item's held total (warehouses and kitchens) by label."""
    holding = {s.id for s in catalogue.list_sites(org_id) if s.kind in HOLDING_SITE_KINDS}
    labels = {i.id: i.label for i in catalogue.list_items(org_id)}
    held = dict.fromkeys(labels.values(), 0)
    for row in stock.levels(org_id):
        if row.site_id in holding:
            held[labels[row.item_id]] += row.quantity
    return held


def _movement_count() -> int:
    return db.session.scalar(select(func.count()).select_from(StockMovement))


def test_seed_builds_a_consistent_demo_with_shortages_once(app: Flask) -> None:
    assert seed(if_empty=True) is True
    db.session.commit()

    organisation = accounts.organisation_by_slug("demo")
    assert (organisation.name, organisation.timezone) == ("Demo Solidarity Calais", "Europe/Paris")
    sites = catalogue.list_sites(organisation.id)
    points = [s for s in sites if s.kind == "distribution_point"]
    assert len(points) == 5 and all(s.details for s in points)
    assert {s.area for s in sites} == {"Calais", "Grande-Synthe"}
    labels = {i.label for i in catalogue.list_items(organisation.id)}
    assert len(labels) >= 40
    assert {f"Shoes ({size})" for size in range(40, 46)} <= labels

    assert stock.check_ledger() == []
    kinds = set(db.session.scalars(select(StockMovement.kind).distinct()))
    assert {"donation", "purchase", "transfer_out", "transfer_in", "distribution"} <= kinds
    assert {"loss", "adjustment", "reversal"} <= kinds
    oldest = db.session.scalar(select(func.min(StockMovement.occurred_at)))
    assert utcnow() - timedelta(days=43) < oldest < utcnow() - timedelta(days=40)

    held = _held(organisation.id)
    minimum = {i.label: i.min_stock for i in catalogue.list_items(organisation.id)}
    for always_short in ("Blanket", "Sleeping bag", "Shoes (42)"):
        assert held[always_short] < minimum[always_short], always_short
    assert any(held[label] >= minimum[label] for label in held), "nothing is well stocked"

    movements = _movement_count()
    assert seed(if_empty=True) is False
    assert seed(if_empty=False) is False  # the demo is there already
    assert _movement_count() == movements
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 1


def test_seed_demo_command_prints_logins_that_work(app: Flask) -> None:
    runner = app.test_cli_runner()

    result = runner.invoke(args=["seed-demo"])

    assert result.exit_code == 0, result.output
    assert DEMO_PASSWORD in result.output
    for email, role in demo_logins():
        assert email in result.output and role in result.output
        response = login(app.test_client(), email, DEMO_PASSWORD)
        assert response.status_code == 302, email

    warehouse = app.test_client()
    login(warehouse, "warehouse@demo.example.org", DEMO_PASSWORD)
    page = warehouse.get("/")
    assert page.status_code == 200
    blanket_row = next(
        row for row in page.get_data(as_text=True).split("<tr") if ">Blanket<" in row
    )
    assert 'class="low"' in blanket_row

    again = runner.invoke(args=["seed-demo", "--if-empty"])
    assert again.exit_code == 0
    assert "already present" in again.output
