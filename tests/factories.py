"""Make test data in one place: items, sites, members, tokens, movements and an API client.

Every helper writes through the services (the same rules the app obeys) and commits, so what it
makes is visible to requests at once. Test modules import from here or from conftest, never from
each other.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, time, timedelta
from typing import Any

import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, func, select

from logistics.database import write_intent
from logistics.extensions import db
from logistics.models import Distribution, Item, Membership, Site, StockMovement
from logistics.services import accounts, catalogue, distributions, ledger
from logistics.views.api.openapi import document

PASSWORD = "correct horse battery"
INGREDIENTS = {"onions": ("Onions", "kg"), "rice": ("Rice", "kg"), "lentils": ("Lentils", "kg")}


def item(
    org_id: int, name: str, category: str = "bedding", *, commit: bool = True, **fields: Any
) -> Item:
    """Create an item of an organisation; commit unless told not to."""
    made = catalogue.save_item(org_id, {"name": name, "category": category, **fields})
    _done(commit)
    return made


def site(
    org_id: int,
    name: str,
    kind: str = "warehouse",
    area: str = "Calais",
    *,
    commit: bool = True,
    **fields: Any,
) -> Site:
    """Create a site of an organisation; commit unless told not to."""
    made = catalogue.save_site(org_id, {"name": name, "kind": kind, "area": area, **fields})
    _done(commit)
    return made


def member(
    org_id: int, email: str, role: str, password: str = PASSWORD, *, commit: bool = True
) -> int:
    """Add a member with a password to an organisation; commit unless told not to; user id."""
    membership = accounts.add_member(org_id, email, role, password=password)
    _done(commit)
    return membership.user_id


def _done(commit: bool) -> None:
    """Commit, or only flush when the caller commits a larger whole (a world) itself."""
    if commit:
        db.session.commit()
    else:
        db.session.flush()


def token(org_id: int, email: str, name: str = "tests") -> str:
    """Create an API token for a member of an organisation; commit."""
    user = accounts.user_by_email(email)
    membership = next(m for m in user.memberships if m.organisation_id == org_id)
    made = accounts.create_token(membership.id, name)
    db.session.commit()
    return made


def membership_id(world: Any, role: str, user_of: Any = None) -> int:
    """Return the membership in a world of its member of a role (or of another world's)."""
    user_id = (user_of or world).users[role]
    return db.session.scalar(
        select(Membership.id).where(
            Membership.organisation_id == world.org_id, Membership.user_id == user_id
        )
    )


def movement(org_id: int, site_id: int, item_id: int, quantity: int, **extra: Any) -> int:
    """Receive stock into a site through the ledger; commit; return the movement id."""
    made = ledger.receive(
        org_id, None, site_id=site_id, item_id=item_id, quantity=quantity, **extra
    )
    db.session.commit()
    return made.id


def receive(world: Any, site: str, item: str, quantity: int, **extra: Any) -> int:
    """Receive stock into a site of a world by their keys; commit; return the movement id."""
    return movement(world.org_id, world.sites[site], world.items[item], quantity, **extra)


def movement_count(org_id: int) -> int:
    """Count an organisation's movements as the requests committed them."""
    db.session.rollback()  # read what the requests committed, not an old snapshot
    return db.session.scalar(select(func.count()).where(StockMovement.organisation_id == org_id))


def held(world: Any, site: str, item: str) -> int:
    """Return what a site of a world holds of an item, as the requests committed it."""
    db.session.rollback()
    return ledger.held(world.sites[site], world.items[item])


class DocumentedClient(FlaskClient):
    """A test client that checks every answer of the API against openapi.json."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        response = super().open(*args, **kwargs)
        check_against_document(self.application, response)
        return response


_DOCUMENTS: dict[int, Any] = {}


def check_against_document(app: Flask, response: Any) -> None:
    """Assert that an API answer is one its operation declares, in the declared shape."""
    request = response.request
    if not request.path.startswith("/api/v1/"):
        return
    if id(app) not in _DOCUMENTS:
        _DOCUMENTS[id(app)] = schemathesis.openapi.from_dict(document(app))
    path = request.path.removeprefix("/api/v1")
    operation = _DOCUMENTS[id(app)].find_operation_by_path(request.method, path)
    if operation is None:  # no such path or method (404, 405): no operation to answer for
        return
    declared = operation.definition.raw["responses"]
    assert str(response.status_code) in declared, (
        f"{request.method} {path} answered {response.status_code}, which it does not declare"
    )
    operation.validate_response(response)


class Api:
    """A test client speaking JSON with one bearer token, its answers checked by the document."""

    def __init__(self, app: Flask, bearer: str | None) -> None:
        self.client = DocumentedClient(app, app.response_class, use_cookies=True)
        self.headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(f"/api/v1{path}", query_string=params, headers=self.headers)

    def post(self, path: str, body: Any = None, raw: str | None = None) -> Any:
        if raw is not None:
            return self.client.post(
                f"/api/v1{path}", data=raw, headers=self.headers, content_type="application/json"
            )
        return self.client.post(f"/api/v1{path}", json=body or {}, headers=self.headers)


def assert_error(response: Any, status: int, code: str, field: str | None = None) -> dict:
    """Assert an API error answer of this status and code (naming a field); return the error."""
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == code
    assert error["message"]
    if field is not None:
        assert field in error["fields"], error
    return error


def kitchen_items(world: Any) -> None:
    """Add a meal item and the ingredients onions, rice and lentils to a world; commit."""
    meal = catalogue.save_item(
        world.org_id, {"name": "Hot meal", "category": "food", "unit": "meal"}
    )
    world.items["meal"] = meal.id
    for key, (name, unit) in INGREDIENTS.items():
        made = catalogue.save_item(
            world.org_id, {"name": name, "category": "ingredient", "unit": unit}
        )
        world.items[key] = made.id
    db.session.commit()


def meal_series(world: Any, starts_on: date, meals: int, at: time, point: str = "point", **extra):
    """Schedule a daily series of meals (and other items) from the kitchen; commit."""
    lines = [(world.items["meal"], meals)] + [(world.items[k], q) for k, q in extra.items()]
    series = distributions.create_series(
        world.org_id,
        site_id=world.sites[point],
        source_site_id=world.sites["kitchen"],
        weekdays=range(7),
        local_time=at,
        starts_on=starts_on,
        ends_on=None,
        lines=lines,
    )
    db.session.commit()
    return series


def occurrence(series: Any, day: date) -> Distribution:
    """Return the distribution of a series on a local day."""
    return db.session.scalar(
        select(Distribution).where(
            Distribution.series_id == series.id, Distribution.local_date == day
        )
    )


def tomorrow(world: Any) -> date:
    """Return tomorrow in the organisation's time zone."""
    return distributions.local_today(world.org_id) + timedelta(days=1)


def inline_script(html: str) -> bool:
    """Tell whether a page holds code of its own (app.js, a file of this site, is allowed)."""
    return re.search(r"<\s*script\b(?![^>]*\bsrc=)|\son[a-z]+\s*=", html, re.I) is not None


@contextmanager
def counted_statements() -> Iterator[list[str]]:
    """Note every SQL statement run inside the block in the list it yields."""
    seen: list[str] = []

    def note(*args: Any) -> None:
        seen.append(args[2])

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


# Threads a concurrency test starts together unless it asks for another number.
THREADS = 8


def run_threads(app: Flask, work: Any, threads: int = THREADS) -> list[BaseException]:
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
