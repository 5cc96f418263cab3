"""Issue 17 tried as a volunteer would: forms filled and sent with no signal, sent once later."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from logistics.demo import DEMO_PASSWORD, demo_logins
from logistics.extensions import db
from logistics.models import Evidence, Incident, Item, StockMovement

from .conftest import Browsing, demo
from .test_field_flows import PHONE, Volunteer, main_warehouse, photo


def count(model: Any, *where: Any) -> int:
    with demo().app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def sleeping_bags_received(quantity: int) -> int:
    """Count the donations of this many sleeping bags."""
    with demo().app.app_context():
        bag = db.session.scalars(select(Item.id).where(Item.name == "Sleeping bag")).first()
    return count(
        StockMovement,
        StockMovement.item_id == bag,
        StockMovement.kind == "donation",
        StockMovement.quantity == quantity,
    )


@pytest.fixture
def field_phone(browsing: Browsing) -> Iterator[Any]:
    """A warehouse volunteer's phone, its service worker running and the field pages kept."""
    context = browsing.context("warehouse", **PHONE)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto("/")
    until(page, "() => navigator.serviceWorker.controller !== null")
    page.reload()  # now through the worker, which keeps the field pages for offline use
    until(
        page,
        """() => fetch('/offline/pages').then((r) => r.json()).then((paths) =>
             caches.open('pages-v1').then((cache) =>
               Promise.all(paths.map((path) => cache.match(path))))
           ).then((kept) => kept.every(Boolean))""",
    )
    yield context, page
    context.close()


def until(page: Any, script: str, seconds: float = 45) -> None:
    """Wait until a script in the page answers true (wait_for_function evaluates strings,
    which the pages' Content-Security-Policy refuses)."""
    deadline = time.monotonic() + seconds
    while not page.evaluate(script):
        assert time.monotonic() < deadline, f"still false after {seconds} s: {script}"
        page.wait_for_timeout(100)


def eventually(check: Any, seconds: float = 45) -> None:
    """Wait until a check made from the test (the database, the worker) holds."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"still not so after {seconds} s"
        time.sleep(0.1)


def waiting(page: Any) -> int:
    """Ask the phone's service worker how many submissions wait (and were not refused)."""
    return page.evaluate(
        """() => new Promise((resolve) => {
             const channel = new MessageChannel();
             channel.port1.onmessage = (event) => resolve(event.data.waiting);
             navigator.serviceWorker.controller.postMessage({ type: 'status' }, [channel.port2]);
           })"""
    )


def banner(page: Any) -> str:
    element = page.locator("#outbox-banner")
    return element.inner_text() if element.is_visible() else ""


def banner_says(page: Any, text: str) -> None:
    """Wait until the outbox banner (filled in from the service worker) says this."""
    until(page, f"() => document.getElementById('outbox-banner').innerText.includes({text!r})")


def test_a_donation_and_an_eviction_with_photos_sent_without_signal_arrive_once(
    field_phone,
) -> None:
    context, page = field_phone
    bags_before = sleeping_bags_received(37)
    incidents_before = count(Incident)

    context.set_offline(True)
    page.goto("/receive")  # from the phone, as last seen, saying when that was
    assert page.locator("[data-as-of]").is_visible()
    assert "Without signal: as of" in page.locator("[data-as-of]").inner_text()
    receive_sleeping_bags(page, 37)
    assert "/outbox" in page.url
    assert "1 waiting to send" in banner(page)

    page.goto("/incidents/new")
    form = page.locator("main form")
    if not form.locator("input[name=occurred_at]").input_value():
        form.locator("input[name=occurred_at]").fill("2026-12-04T06:30")
    volunteer = Volunteer(page)
    volunteer.choose("kind", "Eviction")
    volunteer.choose("area", "Calais")
    form.locator("input[name=shelters_affected]").fill("9")
    form.locator("input[name=photos]").set_input_files(
        [photo("offline-1.jpg", "olive"), photo("offline-2.jpg", "navy")]
    )
    with page.expect_navigation():
        form.get_by_role("button", name="Save incident").first.click()
    assert "2 waiting to send" in banner(page)
    page.reload()  # still there after a reload without signal
    assert "2 waiting to send" in banner(page)
    assert sleeping_bags_received(37) == bags_before and count(Incident) == incidents_before

    context.set_offline(False)  # back in signal: both go, in order, once
    until(page, "() => document.getElementById('outbox-banner').hidden")
    assert sleeping_bags_received(37) == bags_before + 1
    assert count(Incident) == incidents_before + 1
    with demo().app.app_context():
        newest = db.session.scalars(select(Incident).order_by(Incident.id.desc()).limit(1)).one()
        names = sorted(
            db.session.scalars(select(Evidence.file_name).where(Evidence.incident_id == newest.id))
        )
    assert names == ["offline-1.jpg", "offline-2.jpg"]
    # Sending again (another page, the browser back online) counts nothing twice.
    page.goto("/")
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.wait_for_timeout(500)
    assert sleeping_bags_received(37) == bags_before + 1 and count(Incident) == incidents_before + 1


def receive_sleeping_bags(page: Any, quantity: int) -> None:
    """Open Receive and send sleeping bags to the main warehouse."""
    page.goto("/receive")
    form = page.locator("main form")
    form.locator("input[name=item]").fill("Sleeping bag")
    form.locator("input[name=quantity]").fill(str(quantity))
    Volunteer(page).choose("site_id", main_warehouse())
    with page.expect_navigation():
        form.get_by_role("button", name="Save", exact=True).click()


def sign_in_here(page: Any, role: str, *, open_login: bool = True) -> None:
    """Sign in on this phone through the login form, as the demo member of a role."""
    if open_login:
        page.goto("/login")
    page.fill("input[name=email]", dict((r, e) for e, r in demo_logins())[role])
    page.fill("input[name=password]", DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("main form [type=submit]")


def write_off_offline(page: Any, quantity: str) -> None:
    """Fill Write off for tents at the main warehouse and send it, without signal."""
    page.goto("/loss")
    form = page.locator("main form")
    form.locator("input[name=item]").fill("Tent (2-person)")
    form.locator("input[name=quantity]").fill(quantity)
    volunteer = Volunteer(page)
    volunteer.choose("reason", "Damp or mould")
    volunteer.choose("site_id", main_warehouse())
    with page.expect_navigation():
        form.get_by_role("button", name="Save", exact=True).click()


def test_a_refused_submission_stays_with_its_reason_to_correct_or_discard(field_phone) -> None:
    context, page = field_phone
    losses = count(StockMovement, StockMovement.kind == "loss")
    context.set_offline(True)
    write_off_offline(page, "900000")
    assert "1 waiting to send" in banner(page)
    context.set_offline(False)
    page.goto("/outbox")
    until(page, "() => document.querySelectorAll('#outbox-refused li').length === 1")
    refused = page.locator("#outbox-refused li").inner_text()
    assert "Write off" in refused and "Only" in refused and "900000" in refused, refused
    assert "1 not accepted" in banner(page)
    assert count(StockMovement, StockMovement.kind == "loss") == losses

    # Correct it: the form opens with what was typed; a sendable quantity goes through.
    with page.expect_navigation():
        page.locator("#outbox-refused li a").click()
    form = page.locator("main form")
    assert form.locator("input[name=item]").input_value() == "Tent (2-person)"
    assert form.locator("input[name=quantity]").input_value() == "900000"
    form.locator("input[name=quantity]").fill("1")
    with page.expect_navigation():
        form.get_by_role("button", name="Save", exact=True).click()
    assert count(StockMovement, StockMovement.kind == "loss") == losses + 1
    until(page, "() => document.getElementById('outbox-banner').hidden")

    # Another refusal, discarded.
    context.set_offline(True)
    write_off_offline(page, "800000")
    context.set_offline(False)
    page.goto("/outbox")
    until(page, "() => document.querySelectorAll('#outbox-refused li').length === 1")
    page.locator("#outbox-refused li button").click()
    until(page, "() => document.querySelectorAll('#outbox-refused li').length === 0")
    assert count(StockMovement, StockMovement.kind == "loss") == losses + 1


def test_a_submission_cut_off_after_the_server_saved_it_counts_once(field_phone) -> None:
    context, page = field_phone
    before = sleeping_bags_received(23)

    cuts: list[str] = []

    def saved_then_cut(route: Any) -> None:
        if route.request.method == "POST" and not cuts:
            cuts.append(route.request.url)
            route.fetch()  # the server records it; the answer never reaches the phone
            route.abort("internetdisconnected")
        else:
            route.continue_()

    context.route("**/receive", saved_then_cut)
    receive_sleeping_bags(page, 23)
    # Saved by the server, kept by the phone (it never heard back), then sent again at once.
    assert cuts and "/outbox?saved=" in page.url
    eventually(lambda: sleeping_bags_received(23) == before + 1 and not waiting(page))
    page.evaluate("window.dispatchEvent(new Event('online'))")
    eventually(lambda: not waiting(page))
    assert len(cuts) == 1 and sleeping_bags_received(23) == before + 1


def test_an_ended_session_asks_to_log_in_then_sends(field_phone) -> None:
    context, page = field_phone
    before = sleeping_bags_received(19)
    context.set_offline(True)
    receive_sleeping_bags(page, 19)
    context.clear_cookies()  # the session ended while out of signal
    context.set_offline(False)
    page.goto("/outbox")  # back in signal: the outbox asks to log in first
    assert "/login" in page.url
    sign_in_here(page, "warehouse", open_login=False)
    assert page.url.endswith("/outbox"), page.locator("main").inner_text()
    # Sent at once, or at the latest by the page's retry (every 15 s while something waits).
    eventually(lambda: sleeping_bags_received(19) == before + 1)
    eventually(lambda: not waiting(page))


def test_logging_out_warns_then_clears_what_the_phone_kept(browsing: Browsing) -> None:
    # Its own sign-in: logging out ends the session the other tests' contexts share.
    context = browsing.browser.new_context(base_url=browsing.base_url, **PHONE)
    page = context.new_page()
    page.set_default_timeout(20_000)
    sign_in_here(page, "warehouse")
    until(page, "() => navigator.serviceWorker.controller !== null")
    page.goto("/loss")
    context.set_offline(True)
    write_off_offline(page, "900000")  # refused when sent: it stays on the phone
    context.set_offline(False)
    page.goto("/outbox")
    until(page, "() => document.querySelectorAll('#outbox-refused li').length === 1")
    warnings: list[str] = []

    def answer(dialog: Any) -> None:
        warnings.append(dialog.message)
        dialog.accept()

    page.on("dialog", answer)
    page.locator("nav summary").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Log out").click()
    assert warnings and "still on this phone" in warnings[0]
    assert "/login" in page.url
    assert page.evaluate("() => caches.keys().then((names) => names.length)") == 0
    registrations = "() => navigator.serviceWorker.getRegistrations().then((r) => r.length)"
    until(page, f"() => ({registrations})().then((n) => n === 0)")
    context.close()


def test_without_javascript_forms_send_as_before(browsing: Browsing) -> None:
    context = browsing.context("warehouse", **PHONE, java_script_enabled=False)
    page = context.new_page()
    before = sleeping_bags_received(11)
    receive_sleeping_bags(page, 11)
    assert sleeping_bags_received(11) == before + 1
    assert "11 Sleeping bag" in page.locator("main .flash").first.inner_text()
    assert page.locator("#outbox-banner").is_hidden()
    context.close()


def test_what_one_member_saved_is_never_sent_as_another(field_phone) -> None:
    context, page = field_phone
    before = sleeping_bags_received(17)
    context.set_offline(True)
    receive_sleeping_bags(page, 17)
    context.clear_cookies()  # the session ended; someone else signs in on this phone
    context.set_offline(False)
    sign_in_here(page, "kitchen")
    page.goto("/outbox")
    until(page, "() => document.querySelectorAll('#outbox-refused li').length === 1")
    assert "another account" in page.locator("#outbox-refused li").inner_text()
    assert sleeping_bags_received(17) == before
