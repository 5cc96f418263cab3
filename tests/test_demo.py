"""The demo organisation built by `flask seed-demo`: consistent, believable, logins that work.

Seeding takes a few seconds, so one test per database seeds once and checks it all.
"""

from __future__ import annotations

from datetime import timedelta

from conftest import login
from flask import Flask
from sqlalchemy import func, select

from logistics.demo import DEMO_PASSWORD, demo_logins, seed
from logistics.extensions import db
from logistics.models import HOLDING_SITE_KINDS, Distribution, Organisation, StockMovement
from logistics.models.types import utcnow
from logistics.services import accounts, catalogue, distributions, incidents, stock


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


def test_seed_demo_builds_a_believable_demo_once(app: Flask) -> None:
    runner = app.test_cli_runner()

    result = runner.invoke(args=["seed-demo"])

    assert result.exit_code == 0, result.output
    assert "already present" not in result.output
    organisation = accounts.organisation_by_slug("demo")
    assert (organisation.name, organisation.timezone) == ("Demo Solidarity Calais", "Europe/Paris")
    _assert_stock(organisation.id)
    _assert_distributions(organisation.id)
    _assert_incidents(organisation.id)
    _assert_logins_and_pages(app, result.output)

    movements = _movement_count()
    again = runner.invoke(args=["seed-demo", "--if-empty"])
    assert again.exit_code == 0
    assert "already present" in again.output
    assert seed(if_empty=False) is False  # the demo is there already
    assert _movement_count() == movements
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 1


def _assert_stock(org_id: int) -> None:
    """Sites and items as a group has them; the ledger adds up; the usual things are short."""
    sites = catalogue.list_sites(org_id)
    points = [s for s in sites if s.kind == "distribution_point"]
    assert len(points) == 5 and all(s.details for s in points)
    assert {s.area for s in sites} == {"Calais", "Grande-Synthe"}
    labels = {i.label for i in catalogue.list_items(org_id)}
    assert len(labels) >= 40
    assert {f"Shoes ({size})" for size in range(40, 46)} <= labels

    assert stock.check_ledger() == []
    kinds = set(db.session.scalars(select(StockMovement.kind).distinct()))
    assert {"donation", "purchase", "transfer_out", "transfer_in", "distribution"} <= kinds
    assert {"loss", "adjustment", "reversal", "production", "consumption"} <= kinds
    oldest = db.session.scalar(select(func.min(StockMovement.occurred_at)))
    assert utcnow() - timedelta(days=43) < oldest < utcnow() - timedelta(days=40)
    # Give-outs belong to distributions now, not to bare movements.
    assert not db.session.scalar(
        select(func.count()).where(
            StockMovement.kind == "distribution", StockMovement.distribution_id.is_(None)
        )
    )

    held = _held(org_id)
    minimum = {i.label: i.min_stock for i in catalogue.list_items(org_id)}
    for always_short in ("Blanket", "Sleeping bag", "Shoes (42)"):
        assert held[always_short] < minimum[always_short], always_short
    assert any(held[label] >= minimum[label] > 0 for label in held), "nothing is well stocked"


def _assert_distributions(org_id: int) -> None:
    """Six weeks of recorded outcomes behind, planned occurrences ahead, blankets short."""
    today = distributions.local_today(org_id)
    past = distributions.distributions_between(
        org_id, today - timedelta(days=42), today - timedelta(days=1)
    )
    by_status: dict[str, list[Distribution]] = {}
    for distribution in past:
        by_status.setdefault(distribution.status, []).append(distribution)
    assert set(by_status) == {"held", "disrupted", "cancelled"}
    for giving in by_status["held"] + by_status["disrupted"]:
        assert giving.headcount and giving.outcome_recorded_at is not None
    assert all(d.headcount is None for d in by_status["cancelled"])
    assert any(d.headcount_minors is not None for d in by_status["held"])
    evenings = [d.headcount for d in past if d.site.name == "Calais East point" and d.headcount]
    assert len(evenings) > 30 and 300 <= min(evenings) < max(evenings) <= 600

    ahead = distributions.distributions_between(org_id, today, today + timedelta(days=27))
    assert len(ahead) > 28 and {d.status for d in ahead} == {"planned"}
    agenda = distributions.agenda(org_id, today, today + timedelta(days=6))
    short = {line.line.item.label for entry in agenda for line in entry.lines if not line.enough}
    assert "Blanket" in short


def _assert_incidents(org_id: int) -> None:
    """Evictions in both areas, most locked, and tents destroyed soon after they were given."""
    today = distributions.local_today(org_id)
    recorded = incidents.list_incidents(org_id, today - timedelta(days=42), today)
    after_distribution = {
        incident.area
        for incident in recorded
        if any(line.origin == "after_distribution" for line in incident.lines)
    }
    assert after_distribution == {"Calais", "Grande-Synthe"}
    assert any(line.origin == "from_stock" for incident in recorded for line in incident.lines)
    locked = [incident for incident in recorded if incident.locked]
    assert len(recorded) / 2 < len(locked) < len(recorded)
    assert any(incident.amendments for incident in locked)

    figures = incidents.loss_figures(org_id, today - timedelta(days=27), today)
    tents = [row for row in figures.items if row.label.startswith("Tent")]
    assert any(row.given and row.share_of_given > 0 for row in tents)


def _assert_logins_and_pages(app: Flask, output: str) -> None:
    """Every printed login works; the stock page and the agenda show what is short."""
    assert DEMO_PASSWORD in output
    for email, role in demo_logins():
        assert email in output and role in output
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

    coordinator = app.test_client()
    login(coordinator, "coordinator@demo.example.org", DEMO_PASSWORD)
    agenda = coordinator.get("/distributions")
    assert agenda.status_code == 200
    lines = agenda.get_data(as_text=True).split("<li>")
    assert any("Blanket:" in line and "short" in line for line in lines)
