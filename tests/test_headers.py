"""Security headers on every response, cookie flags at login, and pages with no inline style."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path

import factories
import pytest
from conftest import PASSWORD, ROLES, login, make_app
from flask import Flask, Response
from flask.testing import FlaskClient
from sqlalchemy import select

from logistics import demo
from logistics.config import PROJECT_ROOT, load_config
from logistics.extensions import db
from logistics.models import (
    Distribution,
    DistributionSeries,
    Evidence,
    Incident,
    Item,
    Organisation,
    Recipe,
    Site,
    StockLevel,
    StockMovement,
    User,
)
from logistics.services import accounts, alerts, distributions, labels, reports
from logistics.services.reports import ReportRequest
from logistics.static_files import asset_url

# Static files: checked by name below, not walked as pages.
FILES = ("static", "asset")
STYLE_ATTRIBUTE = re.compile(r"<[^>]*\sstyle\s*=", re.I)
# A <style>, or a <script> with code of its own: app.js is a file of this site (script-src 'self').
INLINE_STYLE_OR_SCRIPT = re.compile(r"<\s*style\b|<\s*script\b(?![^>]*\bsrc=)", re.I)


def directives(response: Response) -> dict[str, list[str]]:
    """Split the Content-Security-Policy into its directives and their sources."""
    policy = response.headers.get("Content-Security-Policy", "")
    parts = (part.split() for part in policy.split(";") if part.strip())
    return {words[0].lower(): words[1:] for words in parts}


def assert_protected(response: Response, where: str) -> None:
    """The response carries every security header, and its policy runs no inline code."""
    assert response.headers.get("X-Frame-Options") == "DENY", where
    assert response.headers.get("X-Content-Type-Options") == "nosniff", where
    assert response.headers.get("Referrer-Policy") in {"same-origin", "no-referrer"}, where
    policy = directives(response)
    assert policy.get("frame-ancestors") == ["'none'"], where
    if response.mimetype == "application/pdf":
        # The browser's own PDF viewer breaks under default-src 'none' (Chromium bug 271452);
        # a PDF runs no script of ours, it only may not be framed.
        assert policy == {
            "frame-ancestors": ["'none'"],
            "base-uri": ["'none'"],
            "form-action": ["'none'"],
        }, where
        return
    for kind in ("script-src", "style-src"):
        sources = policy.get(kind, policy.get("default-src"))
        assert sources, f"{where}: no {kind} nor default-src"
        assert "'unsafe-inline'" not in sources and "'unsafe-eval'" not in sources, where
    assert policy.get("default-src") == ["'none'"], where
    assert policy.get("form-action") == ["'self'"], where


def assert_no_inline_style_or_script(response: Response, where: str) -> None:
    """An HTML page has no style attribute, no <style> and no inline <script>."""
    if response.mimetype != "text/html":
        return
    html = response.get_data(as_text=True)
    assert not STYLE_ATTRIBUTE.search(html), f"{where}: {STYLE_ATTRIBUTE.search(html).group(0)}"
    assert not INLINE_STYLE_OR_SCRIPT.search(html), where


@dataclass
class Demo:
    """The demo organisation with a report, a share link and open alerts added."""

    org_id: int
    ids: dict[str, object]
    report_id: int
    evidence_id: int
    share_token: str


def _first(model: type, org_id: int, *conditions: object) -> int:
    """Return the id of the organisation's first row of a model."""
    found = db.session.scalar(
        select(model.id)
        .where(model.organisation_id == org_id, *conditions)
        .order_by(model.id)
        .limit(1)
    )
    assert found is not None, f"the demo has no {model.__name__}"
    return found


@pytest.fixture
def demo_org(app: Flask) -> Demo:
    """Seed the demo organisation and add what it lacks: reports, a share link, alerts."""
    assert demo.seed(if_empty=False)
    org_id = db.session.scalar(select(Organisation.id).where(Organisation.slug == demo.DEMO_SLUG))
    admin_id = db.session.scalar(select(User.id).where(User.email.like("admin@%")))
    folder = Path(app.config["REPORTS_DIR"])
    report = reports.generate(org_id, admin_id, ReportRequest("shortfall"), folder)
    _, token = reports.create_share_link(org_id, admin_id, label="Donors")
    # Far more blankets going out tomorrow than anyone holds: a critical alert to show.
    tomorrow = distributions.local_today(org_id) + timedelta(days=1)
    distributions.create_one_off(
        org_id,
        site_id=_first(Site, org_id, Site.kind == "distribution_point"),
        source_site_id=_first(Site, org_id, Site.kind == "warehouse"),
        starts_at=datetime.combine(tomorrow, time(18), distributions.organisation_zone(org_id)),
        lines=[(_first(Item, org_id, Item.name == "Blanket"), 1_000_000)],
    )
    alerts.reconcile(org_id)
    alerts.save_channel(
        org_id, kind="webhook", target="https://hooks.example.org/aid/abcdef", secret="s" * 32
    )
    # A box on a shelf that holds stock: its page and label carry the headers too.
    shelf = db.session.scalars(
        select(StockLevel).where(StockLevel.organisation_id == org_id, StockLevel.quantity > 0)
    ).first()
    box = labels.create_box(
        org_id, admin_id, site_id=shelf.site_id, item_id=shelf.item_id, quantity=1
    )
    db.session.commit()
    ids = {
        "item_id": _first(Item, org_id),
        "site_id": _first(Site, org_id),
        "incident_id": _first(Incident, org_id, Incident.locked_at.is_(None)),
        "distribution_id": _first(Distribution, org_id, Distribution.status == "planned"),
        "series_id": _first(DistributionSeries, org_id),
        "recipe_id": _first(Recipe, org_id),
        "movement_id": _first(StockMovement, org_id, StockMovement.kind == "donation"),
        "evidence_id": db.session.scalar(
            select(Evidence.id).join(Incident).where(Incident.organisation_id == org_id).limit(1)
        ),
        "report_id": report.id,
        "token": token,
        "code": "fr",  # the language switch of logged-out pages
        "sha256": "0" * 64,  # a logo nobody has: the 404 carries the headers too
        "shipment_id": 1,  # the demo has no shipment: its pages answer 404, with the headers
        "box_id": box.id,
    }
    return Demo(org_id, ids, report.id, ids["evidence_id"], token)


def member(app: Flask, role: str) -> FlaskClient:
    """Return a client logged in as the demo member of a role."""
    client = app.test_client()
    response = login(client, f"{role}@{demo.DEMO_SLUG}.example.org", demo.DEMO_PASSWORD)
    assert response.status_code == 302, role
    return client


def asset_address(app: Flask, filename: str) -> str:
    """Return a static file's address under its hashed name."""
    with app.test_request_context():
        return asset_url(filename)


def get_pages(app: Flask, ids: dict[str, object]) -> list[str]:
    """Every GET page of the site (not the API), its path filled with the demo's ids."""
    urls = app.url_map.bind("localhost")
    pages = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in FILES or "GET" not in rule.methods or rule.rule.startswith("/api/"):
            continue
        missing = rule.arguments - ids.keys()
        assert not missing, f"{rule.rule}: give the test an id for {sorted(missing)}"
        pages.append(urls.build(rule.endpoint, {name: ids[name] for name in rule.arguments}))
    return sorted(pages)


def test_every_response_carries_the_headers_and_no_page_inline_code(
    app: Flask, demo_org: Demo
) -> None:
    # One test, so the demo is seeded once per engine.
    _every_page_for_every_role(app, demo_org)
    _downloads_api_and_static_files(app, demo_org)


def _every_page_for_every_role(app: Flask, demo_org: Demo) -> None:
    """Walk every GET page as each role; as admin, no page has inline style or script."""
    pages = get_pages(app, demo_org.ids)
    assert len(pages) > 40
    opened = 0
    for role in ROLES:
        client = member(app, role)
        for page in pages:
            response = client.get(page)
            where = f"{role} {page} ({response.status_code})"
            assert response.status_code < 500, where
            assert_protected(response, where)
            if role == "admin":
                assert_no_inline_style_or_script(response, where)
                opened += response.status_code == 200 and response.mimetype == "text/html"
    assert opened > 35
    # What used to be drawn with a style attribute is there, by its class.
    admin = member(app, "admin")
    needs = admin.get("/needs").get_data(as_text=True)
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart"' in needs
    assert 'class="card critical"' in admin.get("/alerts").get_data(as_text=True)
    anonymous = app.test_client()
    for page in ("/login", f"/share/{demo_org.share_token}", "/nowhere", "/"):
        response = anonymous.get(page)
        assert_protected(response, f"anonymous {page}")
        assert_no_inline_style_or_script(response, f"anonymous {page}")
    share = anonymous.get(f"/share/{demo_org.share_token}").get_data(as_text=True)
    assert 'class="need-critical"' in share


def test_no_template_holds_a_style_attribute_or_a_script() -> None:
    for template in sorted((PROJECT_ROOT / "templates").rglob("*.html")):
        text = template.read_text()
        name = template.relative_to(PROJECT_ROOT)
        # Jinja field calls too: row.quantity(style="…") renders a style attribute.
        assert not re.search(r"\bstyle\s*=", text), name
        assert not INLINE_STYLE_OR_SCRIPT.search(text), name


def _downloads_api_and_static_files(app: Flask, demo_org: Demo) -> None:
    """Downloads keep their Content-Disposition; API answers, CSS and 404s carry the headers."""
    token = factories.token(demo_org.org_id, f"coordinator@{demo.DEMO_SLUG}.example.org")
    api = {"Authorization": f"Bearer {token}"}
    coordinator = member(app, "coordinator")
    client = app.test_client()
    answers = {
        "evidence": coordinator.get(f"/evidence/{demo_org.evidence_id}"),
        "report": coordinator.get(f"/reports/{demo_org.report_id}.pdf"),
        "shared report": client.get(f"/share/{demo_org.share_token}/report.pdf"),
        "stock csv": coordinator.get("/csv/stock.csv"),
        "api items": client.get("/api/v1/items", headers=api),
        "api evidence": client.get(f"/api/v1/evidence/{demo_org.evidence_id}", headers=api),
        "api report": client.get(f"/api/v1/reports/{demo_org.report_id}.pdf", headers=api),
        "api 404": client.get("/api/v1/items/nowhere", headers=api),
        "api 401": client.get("/api/v1/items"),
        "openapi": client.get("/api/v1/openapi.json"),
        "static": client.get("/static/app.css"),
        "hashed static": client.get(asset_address(app, "app.css")),
        "favicon": client.get("/favicon.ico"),
        "page 404": coordinator.get("/nowhere"),
        "login redirect": client.get("/needs"),
    }
    expected = {"api 404": 404, "api 401": 401, "page 404": 404, "login redirect": 302}
    for name, response in answers.items():
        assert response.status_code == expected.get(name, 200), name
        assert_protected(response, name)
    for name in ("evidence", "api evidence", "stock csv"):
        assert answers[name].headers["Content-Disposition"].startswith("attachment;"), name
    for name in ("report", "shared report", "api report"):
        assert answers[name].mimetype == "application/pdf", name
        assert "filename=" in answers[name].headers["Content-Disposition"], name
    # Evidence stays out of caches on the web as on the API.
    assert answers["evidence"].headers["Cache-Control"] == "private, no-store"
    # A share page keeps its own stricter referrer policy.
    assert answers["shared report"].headers["Referrer-Policy"] == "no-referrer"


def test_csrf_and_server_error_pages_carry_the_headers(database_url: str, tmp_path) -> None:
    app = make_app(database_url, tmp_path, WTF_CSRF_ENABLED=True)

    @app.route("/boom")
    def boom() -> str:
        raise RuntimeError("a bug")

    with app.app_context():
        client = app.test_client()
        refused = client.post("/login", data={"email": "a@example.org", "password": "x"})
        assert refused.status_code == 400 and b"The form had expired" in refused.data
        assert_protected(refused, "csrf error page")
        assert_no_inline_style_or_script(refused, "csrf error page")
        failed = client.get("/boom")
        assert failed.status_code == 500 and b"Something went wrong" in failed.data
        assert_protected(failed, "500 page")
        db.engine.dispose()


def _cookie(response: Response, name: str) -> str:
    """Return the Set-Cookie header that sets a cookie."""
    found = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(f"{name}=")]
    assert len(found) == 1, response.headers.getlist("Set-Cookie")
    return found[0]


def _flags(cookie: str) -> set[str]:
    return {part.strip().lower() for part in cookie.split(";")[1:]}


@pytest.mark.parametrize(
    ("base_url", "env", "secure"),
    [
        ("http://127.0.0.1:5000", "testing", False),
        ("https://aid.example.org", "testing", True),
        ("http://aid.example.org", "production", True),
    ],
)
def test_login_cookies_are_http_only_lax_and_secure_on_https(
    database_url: str, tmp_path, base_url: str, env: str, secure: bool
) -> None:
    app = make_app(database_url, tmp_path, BASE_URL=base_url, ENV=env, SECRET_KEY="k" * 64)
    with app.app_context():
        organisation = accounts.create_organisation("Calais Aid", "calais-aid")
        accounts.add_member(organisation.id, "ana@example.org", "admin", password=PASSWORD)
        db.session.commit()
        response = app.test_client().post(
            "/login", data={"email": "ana@example.org", "password": PASSWORD, "remember": "y"}
        )
        assert response.status_code == 302
        for name in (app.config["SESSION_COOKIE_NAME"], "remember_token"):
            flags = _flags(_cookie(response, name))
            assert {"httponly", "samesite=lax"} <= flags, name
            assert ("secure" in flags) is secure, name
        db.session.remove()
        db.engine.dispose()


def test_an_explicit_cookie_setting_wins(tmp_path) -> None:
    # An operator who knows better (a TLS test host in development) can still say so.
    config = load_config(
        {
            "ENV": "production",
            "SECRET_KEY": "k" * 64,
            "INSTANCE_DIR": str(tmp_path),
            "SESSION_COOKIE_SECURE": False,
        }
    )
    assert config["SESSION_COOKIE_SECURE"] is False
    assert config["REMEMBER_COOKIE_SECURE"] is True
    assert config["REMEMBER_COOKIE_SAMESITE"] == "Lax"
