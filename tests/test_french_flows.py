"""A French-speaking volunteer records the day's work entirely in French.

On the demo, its organisation reading French, the warehouse volunteer receives a donation
(typing the item's French name), moves it, writes some off, records a distribution's outcome and
reports an eviction. Each answer and the page it leads to says what was done in French, and holds
no English interface text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from browser.conftest import sign_in
from english_words import DataText, visible_texts
from flask import Flask
from flask.testing import FlaskClient
from french_leftovers import data_values, forget_loaded_catalogues, french_demo
from sqlalchemy import func, select

from logistics.demo import DEMO_SLUG
from logistics.extensions import db
from logistics.models import Distribution, Incident, Item, Organisation, Site, StockMovement

WAREHOUSE = f"warehouse@{DEMO_SLUG}.example.org"


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    forget_loaded_catalogues()
    app = french_demo(tmp_path_factory.mktemp("french-flows"))
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def data(demo_app: Flask) -> DataText:
    return DataText(data_values(demo_app))


@pytest.fixture(scope="module")
def volunteer(demo_app: Flask) -> FlaskClient:
    client = demo_app.test_client()
    sign_in(client, WAREHOUSE)
    return client


def _token(html: str, name: str) -> str:
    found = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html)
    assert found, f"no {name} on the form"
    return found.group(1)


def _sites(app: Flask) -> dict[str, int]:
    with app.app_context():
        rows = db.session.execute(select(Site.kind, Site.id).where(Site.active).order_by(Site.id))
        found: dict[str, int] = {}
        for kind, site_id in rows:
            found.setdefault(kind, site_id)
        db.session.remove()
    return found


def _count(app: Flask, model: type) -> int:
    with app.app_context():
        counted = db.session.scalar(select(func.count()).select_from(model))
        db.session.remove()
    return int(counted or 0)


def _send(client: FlaskClient, path: str, values: dict, **kwargs: object) -> str:
    """Fill the form at path with values, send it and return the page it leads to."""
    form = client.get(path).get_data(as_text=True)
    assert '<html lang="fr">' in form
    sent = {"csrf_token": _token(form, "csrf_token"), **values}
    if 'name="request_token"' in form:
        sent["request_token"] = _token(form, "request_token")
    answer = client.post(path, data=sent, **kwargs)
    assert answer.status_code in (302, 303), answer.get_data(as_text=True)[-3000:]
    return client.get(answer.headers["Location"]).get_data(as_text=True)


def _flashes(html: str) -> list[str]:
    region = re.search(r'<div class="flashes" role="status">(.*?)</div>', html, re.S)
    return re.findall(r'<p class="flash[^"]*">([^<]*)</p>', region.group(1)) if region else []


def _no_english(page: str, data: DataText) -> None:
    english = {text: data.english(text) for text in visible_texts(page)}
    left = {text: words for text, words in english.items() if words}
    assert not left, f"English left: {left}"


def test_a_volunteer_records_the_day_in_french(
    demo_app: Flask, volunteer: FlaskClient, data: DataText
) -> None:
    sites = _sites(demo_app)
    movements = _count(demo_app, StockMovement)

    received = _send(
        volunteer,
        "/receive",
        {"item": "Couverture", "quantity": "30", "site_id": sites["warehouse"], "kind": "donation"},
    )
    moved = _send(
        volunteer,
        "/transfer",
        {
            "item": "Couverture",
            "quantity": "10",
            "from_site_id": sites["warehouse"],
            "to_site_id": sites["kitchen"],
        },
    )
    written_off = _send(
        volunteer,
        "/loss",
        {"item": "Couverture", "quantity": "2", "site_id": sites["warehouse"], "reason": "damp"},
    )
    for page, said in ((received, "Couverture"), (moved, "Couverture"), (written_off, "2")):
        flashes = _flashes(page)
        assert flashes and said in flashes[0], flashes
        _no_english(page, data)
    assert _count(demo_app, StockMovement) == movements + 4  # in, out and in again, written off
    with demo_app.app_context():
        blanket = db.session.scalar(select(Item).where(Item.name_fr == "Couverture"))
        last = db.session.scalar(select(StockMovement).order_by(StockMovement.id.desc()).limit(1))
        assert blanket is not None and last.item_id == blanket.id and last.quantity == -2
        db.session.remove()


def test_a_volunteer_records_an_outcome_and_reports_an_eviction_in_french(
    demo_app: Flask, volunteer: FlaskClient, data: DataText
) -> None:
    with demo_app.app_context():
        organisation = db.session.scalar(select(Organisation).where(Organisation.slug == DEMO_SLUG))
        distribution = db.session.scalar(
            select(Distribution)
            .where(
                Distribution.organisation_id == organisation.id,
                Distribution.status == "planned",
                Distribution.starts_at <= datetime.now(UTC) + timedelta(days=2),
            )
            .order_by(Distribution.starts_at)
            .limit(1)
        )
        assert distribution is not None, "the demo has a distribution to record"
        distribution_id = distribution.id
        db.session.remove()
    outcome = _send(
        volunteer,
        f"/distributions/{distribution_id}/outcome",
        {"status": "held", "headcount": "240", "confirm_early": "y"},
    )
    assert _flashes(outcome), "the outcome says it was recorded"
    _no_english(outcome, data)

    incidents = _count(demo_app, Incident)
    started = datetime.now(UTC) - timedelta(hours=1)
    reported = _send(
        volunteer,
        "/incidents/new",
        {
            "occurred_at": started.astimezone(ZoneInfo("Europe/Paris")).strftime("%Y-%m-%dT%H:%M"),
            "kind": "eviction",
            "area": "Calais",
            "site_id": "0",
            "people_affected": "60",
            "shelters_affected": "25",
            "bailiff_present": "unknown",
            "interpreter_present": "unknown",
            "legal_basis_shown": "unknown",
            "shelter_offered": "unknown",
        },
        content_type="multipart/form-data",
    )
    assert _count(demo_app, Incident) == incidents + 1
    assert _flashes(reported), "the report says it was recorded"
    _no_english(reported, data)
