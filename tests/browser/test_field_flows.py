"""The field flows tried as a new volunteer would on a 360x740 phone, counting the taps.

A tap is a tap on a link, button, choice or summary; typing into a field counts one (to focus
it); picking the item among the browser's suggestions after typing counts one more. The flows
read the page as issue 14's forms draw it (field actions in the menu, sites as buttons, the
right site chosen already): a default that is right costs no tap, a wrong one the tap to fix it,
a site select two (open it, pick). Save must be on the first screen, without scrolling.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from logistics.demo import DEMO_SLUG
from logistics.extensions import db
from logistics.models import Item, Organisation, Site, StockMovement

from .conftest import VIEWPORTS, Browsing, demo

PHONE = {"viewport": VIEWPORTS["phone"], "is_mobile": True, "has_touch": True}
MOST_TAPS = 6


class Volunteer:
    """A phone in a volunteer's hand: taps what a person would and counts each tap."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.taps: list[str] = []

    def tap(self, target: Any, what: str) -> None:
        target.tap()
        self.taps.append(what)

    def open_from_menu(self, name: str) -> None:
        """Tap the menu's link, opening "More" first when the link is folded under it."""
        nav = self.page.locator("nav")
        link = nav.get_by_role("link", name=name, exact=True)
        if not link.is_visible():
            self.tap(nav.locator("summary"), "More")
        with self.page.expect_navigation():
            self.tap(link, name)

    def type(self, field: Any, text: str, what: str, *, suggestion: bool = False) -> None:
        """Tap a field and type; with suggestion, then tap the item the browser suggests."""
        self.tap(field, what)
        field.fill(text)
        if suggestion:  # the datalist's pop-up is the browser's own: tapping it is one tap
            self.taps.append(f"{what}: suggestion {text}")

    def choose(self, name: str, label: str) -> None:
        """Choose a value of a site or choice field, by what the volunteer reads."""
        form = self.page.locator("main form")
        dropdown = form.locator(f"select[name={name}]")
        if dropdown.count():
            chosen = dropdown.locator("option:checked").inner_text()
            if not chosen.startswith(label):
                option = dropdown.locator("option", has_text=label).first.get_attribute("value")
                self.tap(dropdown, f"open {name}")
                dropdown.select_option(option)
                self.taps.append(f"{name}: {label}")
            return
        choice = form.locator("label", has=self.page.locator(f"input[name={name}]")).filter(
            has_text=label
        )
        if not choice.locator("input").is_checked():
            self.tap(choice, f"{name}: {label}")

    def save(self, name: str = "Save") -> None:
        """Tap Save, which must already be on the screen."""
        button = self.page.locator("main form").get_by_role("button", name=name, exact=True)
        box = button.first.bounding_box()
        height = self.page.viewport_size["height"]
        assert box and box["y"] + box["height"] <= height, f"{name} is below the first screen"
        with self.page.expect_navigation():
            self.tap(button.first, name)

    def said(self) -> str:
        """Return the page's confirmation message."""
        flash = self.page.locator("main .flash")
        return flash.first.inner_text() if flash.count() else "(no confirmation shown)"


@pytest.fixture
def phone(browsing: Browsing) -> Iterator[Any]:
    """Return a function opening the home page as a role on a phone; close its context after."""
    contexts = []

    def open_as(role: str) -> Volunteer:
        context = browsing.context(role, **PHONE)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto("/")
        return Volunteer(page)

    yield open_as
    for context in contexts:
        context.close()


def main_warehouse() -> str:
    """Return the name of the demo organisation's main warehouse."""
    with demo().app.app_context():
        return db.session.scalars(
            select(Site.name)
            .join(Organisation, Organisation.id == Site.organisation_id)
            .where(Organisation.slug == DEMO_SLUG, Site.main.is_(True))
        ).one()


def last_movement() -> tuple[str, str, int, str]:
    """Return the last recorded movement as (item label, site name, quantity, kind)."""
    with demo().app.app_context():
        movement = db.session.scalars(
            select(StockMovement).order_by(StockMovement.id.desc()).limit(1)
        ).one()
        item = db.session.get(Item, movement.item_id)
        site = db.session.get(Site, movement.site_id)
        return item.label, site.name, movement.quantity, movement.kind


def test_receive_40_sleeping_bags_in_at_most_6_taps(phone) -> None:
    # Depends on issue 14's Receive: in the warehouse menu, sites as buttons, main warehouse.
    volunteer = phone("warehouse")
    warehouse = main_warehouse()

    volunteer.open_from_menu("Receive")
    form = volunteer.page.locator("main form")
    volunteer.type(form.locator("input[name=item]"), "sleeping bags", "item")
    volunteer.type(form.locator("input[name=quantity]"), "40", "quantity")
    volunteer.choose("site_id", warehouse)
    volunteer.save()

    assert last_movement() == ("Sleeping bag", warehouse, 40, "donation"), volunteer.said()
    assert "40" in volunteer.said() and "Sleeping bag" in volunteer.said()
    print(f"receive: {len(volunteer.taps)} taps: {volunteer.taps}")
    assert len(volunteer.taps) <= MOST_TAPS, volunteer.taps


def test_write_off_6_tents_in_at_most_6_taps(phone) -> None:
    # Depends on issue 14's write-off: Write off in the menu, reasons as buttons.
    volunteer = phone("warehouse")
    warehouse = main_warehouse()

    volunteer.open_from_menu("Write off")
    form = volunteer.page.locator("main form")
    volunteer.type(form.locator("input[name=item]"), "Tent (2-person)", "item", suggestion=True)
    volunteer.type(form.locator("input[name=quantity]"), "6", "quantity")
    volunteer.choose("reason", "Damp or mould")
    volunteer.choose("site_id", warehouse)
    volunteer.save()

    assert last_movement() == ("Tent (2-person)", warehouse, -6, "loss"), volunteer.said()
    print(f"write off: {len(volunteer.taps)} taps: {volunteer.taps}")
    assert len(volunteer.taps) <= MOST_TAPS, volunteer.taps


def test_give_out_from_a_car_in_at_most_6_taps(phone) -> None:
    # Depends on issue 14's Give out now: in the menu, points as buttons, Save on screen.
    volunteer = phone("warehouse")

    volunteer.open_from_menu("Give out")
    form = volunteer.page.locator("main form")
    point = form.locator("label", has=volunteer.page.locator("input[name=site_id]")).first
    point_name = point.locator("strong").inner_text()
    volunteer.tap(point, "point")
    volunteer.type(form.locator("input[name=headcount]"), "20", "people")
    volunteer.type(form.locator("input[name='lines-0-item']"), "sleeping bags", "item")
    volunteer.type(form.locator("input[name='lines-0-quantity']"), "20", "quantity")
    volunteer.save()

    item, _, quantity, kind = last_movement()
    assert (item, quantity, kind) == ("Sleeping bag", -20, "distribution"), volunteer.said()
    assert point_name in volunteer.said()
    print(f"give out: {len(volunteer.taps)} taps: {volunteer.taps}")
    assert len(volunteer.taps) <= MOST_TAPS, volunteer.taps


def photo(name: str, colour: str) -> dict[str, Any]:
    """Return a small JPEG as a file the phone's picker hands over."""
    from io import BytesIO

    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (1200, 900), colour).save(buffer, "JPEG")
    return {"name": name, "mimeType": "image/jpeg", "buffer": buffer.getvalue()}


def test_report_an_eviction_with_two_photos_and_read_it_back(phone) -> None:
    volunteer = phone("warehouse")

    volunteer.open_from_menu("Report incident")
    form = volunteer.page.locator("main form")
    if not form.locator("input[name=occurred_at]").input_value():
        volunteer.type(form.locator("input[name=occurred_at]"), "2026-12-04T06:30", "when")
    volunteer.choose("kind", "Eviction")
    volunteer.choose("area", "Calais")
    volunteer.type(form.locator("input[name=shelters_affected]"), "12", "shelters")
    volunteer.tap(form.locator("input[name=photos]"), "choose photos")
    form.locator("input[name=photos]").set_input_files(
        [photo("tents-1.jpg", "olive"), photo("tents-2.jpg", "navy")]
    )
    volunteer.save("Save incident")

    # The reporter lands on what they reported, its two photos as thumbnails that load.
    page = volunteer.page
    assert "/incidents/" in page.url, volunteer.said()
    thumbnails = page.locator("main img")
    assert thumbnails.count() == 2
    for index in range(2):
        # Lazy images load once scrolled to; decode() waits for the bytes, not a fixed time.
        thumbnail = thumbnails.nth(index)
        thumbnail.scroll_into_view_if_needed()
        loaded = thumbnail.evaluate("img => img.decode().then(() => img.naturalWidth, () => 0)")
        assert 0 < loaded <= 320
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert "tents-1.jpg" in page.locator("main").inner_text()
    print(f"report an eviction: {len(volunteer.taps)} taps: {volunteer.taps}")


def test_the_kitchen_lead_accepts_tomorrows_plan_without_a_sideways_scroll(phone) -> None:
    volunteer = phone("kitchen")

    volunteer.open_from_menu("Plan")
    page = volunteer.page
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    tomorrow = page.locator("main form").first
    boxes = tomorrow.locator("input[type=number], input[inputmode=numeric]")
    assert boxes.count() >= 1
    for index in range(boxes.count()):
        box = boxes.nth(index).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 360, box
    button = tomorrow.get_by_role("button", name="Save this day's plan")
    button.scroll_into_view_if_needed()
    with page.expect_navigation():
        volunteer.tap(button, "Save this day's plan")
    assert page.evaluate("window.scrollX") == 0
    assert volunteer.said() != "(no confirmation shown)", page.content()[:500]
    print(f"kitchen plan: {len(volunteer.taps)} taps: {volunteer.taps}")


def test_receive_200_dated_meal_packs_then_see_them_given_first(phone) -> None:
    # Issue 18: the date is asked once the item turns out to be dated, then kept per lot.
    volunteer = phone("warehouse")
    warehouse = main_warehouse()
    best_before = date.today() + timedelta(days=10)

    volunteer.open_from_menu("Receive")
    form = volunteer.page.locator("main form")
    volunteer.type(form.locator("input[name=item]"), "Meal pack", "item", suggestion=True)
    volunteer.type(form.locator("input[name=quantity]"), "200", "quantity")
    volunteer.choose("site_id", warehouse)
    volunteer.save()
    page = volunteer.page
    assert "Give the best-before date of Meal pack." in page.locator("main").inner_text()
    date_field = page.locator("main form input[name=best_before]")
    assert date_field.is_visible()  # asked beside the quantity, not folded away
    volunteer.tap(date_field, "best before")
    date_field.fill(best_before.isoformat())
    # The refusal's message and a pledge from another test may push Save down: scroll to it.
    save = page.locator("main form").get_by_role("button", name="Save", exact=True).first
    save.scroll_into_view_if_needed()
    with page.expect_navigation():
        volunteer.tap(save, "Save")

    assert last_movement() == ("Meal pack", warehouse, 200, "donation"), volunteer.said()
    print(f"dated receipt: {len(volunteer.taps)} taps: {volunteer.taps}")
    assert len(volunteer.taps) <= MOST_TAPS + 2, volunteer.taps

    page.goto("/needs")
    give_first = page.locator("#give-first").inner_text()
    assert "Meal pack at " + warehouse in give_first and "give them first" in give_first
