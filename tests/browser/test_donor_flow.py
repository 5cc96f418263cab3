"""Issue 16 tried as a new user would: a donor on a phone pledges; the warehouse receives it."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from logistics.demo import DEMO_SLUG
from logistics.extensions import db
from logistics.models import Item, Organisation, Pledge, StockMovement
from logistics.services import distributions

from .conftest import VISITOR, demo
from .test_field_flows import PHONE, Volunteer

SATURDAY = 5


def next_saturday() -> date:
    """Return the coming Saturday in the demo's calendar (today when it is one)."""
    with demo().app.app_context():
        organisation_id = db.session.scalars(
            select(Organisation.id).where(Organisation.slug == DEMO_SLUG)
        ).one()
        today = distributions.local_today(organisation_id)
    return today + timedelta(days=(SATURDAY - today.weekday()) % 7)


def on_a_phone(browsing, role: str, path: str) -> tuple[Any, Volunteer]:
    """Open a page as a role on a phone; return the context (to close) and its hand."""
    context = browsing.context(role, **PHONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(path)
    return context, Volunteer(page)


def test_a_donor_pledges_20_sleeping_bags_and_receiving_them_closes_the_pledge(browsing) -> None:
    context, donor = on_a_phone(browsing, VISITOR, demo().share_path)
    page = donor.page

    # The three most urgent needs, each with its worth, on the first screen; where to bring them.
    top = page.locator("#top-needs li")
    assert top.count() == 3
    for line in top.all_inner_texts():
        assert "€" in line, line
    box = page.locator("#top-needs").bounding_box()
    assert box["y"] + box["height"] <= page.viewport_size["height"]
    assert "Bring goods to:" in page.locator("#how-to-help").inner_text()

    saturday = next_saturday()
    form = page.locator("#pledge-form")
    donor.tap(form.locator("select[name=item_id]"), "item")
    form.locator("select[name=item_id]").select_option(label="Sleeping bag")
    donor.type(form.locator("input[name=quantity]"), "20", "quantity")
    donor.type(form.locator("input[name=expected_on]"), saturday.isoformat(), "day")
    with page.expect_navigation():
        donor.tap(form.get_by_role("button", name="Pledge"), "Pledge")
    said = page.locator(".flash").inner_text()
    assert said.startswith("Thank you: 20 Sleeping bag on"), said
    pledge = newest_pledge()
    assert (pledge.quantity, pledge.expected_on, pledge.status) == (20, saturday, "open")
    print(f"pledge: {len(donor.taps)} taps: {donor.taps}")
    context.close()

    context, volunteer = on_a_phone(browsing, "warehouse", "/")
    volunteer.open_from_menu("Expected deliveries")
    card = volunteer.page.locator(f"#pledge-{pledge.id}")
    assert "20 Sleeping bag" in card.inner_text()
    with volunteer.page.expect_navigation():
        volunteer.tap(card.get_by_role("link", name="Receive"), "Receive")
    volunteer.save()
    assert newest_pledge().status == "received", volunteer.said()
    assert received_sleeping_bags() == 20
    context.close()


def newest_pledge() -> Pledge:
    with demo().app.app_context():
        pledge = db.session.scalars(select(Pledge).order_by(Pledge.id.desc()).limit(1)).one()
        db.session.expunge(pledge)
        return pledge


def received_sleeping_bags() -> int:
    """Return the quantity of the receipt that closed the newest pledge."""
    with demo().app.app_context():
        pledge = db.session.scalars(select(Pledge).order_by(Pledge.id.desc()).limit(1)).one()
        movement = db.session.get(StockMovement, pledge.movement_id)
        assert db.session.get(Item, movement.item_id).name == "Sleeping bag"
        return movement.quantity
