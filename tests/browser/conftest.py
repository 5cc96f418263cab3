"""The real-browser suite: the demo served live, Debian's Chromium driven by Playwright.

The demo organisation is seeded once per process (each xdist worker) into a SQLite file. At
collection Flask's test client reads each role's menu (and the pages one link below it), so every
(role, page, viewport) is a test of its own; the same file is then served by a werkzeug thread to
one Chromium per worker, with one logged-in tab per role. axe-core comes from npm (`make setup`).
"""

from __future__ import annotations

import atexit
import functools
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect, Rule
from werkzeug.serving import WSGIRequestHandler, make_server

from logistics import create_app
from logistics.config import PROJECT_ROOT
from logistics.database import write_intent
from logistics.demo import DEMO_PASSWORD, DEMO_SLUG, demo_logins, seed
from logistics.extensions import db
from logistics.models import Organisation
from logistics.services import reports

CHROMIUM = Path(os.environ.get("LOGISTICS_CHROMIUM", "/usr/bin/chromium"))
AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHECKS = Path(__file__).with_name("checks.js")
# Without the networking flags Chromium calls Google's hosts, which a closed network refuses.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORTS = {"phone": {"width": 360, "height": 740}, "desktop": {"width": 1280, "height": 800}}
VISITOR = "visitor"  # nobody signed in
# Pages without a sign-in; the last answers 404 and must still read well.
VISITOR_PAGES = ("/login", "/password/forgot", "/no-such-page")
OUTCOME = "/distributions/<distribution_id>/outcome"
# Where a volunteer works standing, phone in one hand: form controls of at least 44 CSS px.
FIELD_PAGES = frozenset(
    {"/receive", "/transfer", "/stocktake", "/loss", "/give-out", "/incidents/new", "/kitchen"}
    | {OUTCOME}
)
# Each field page is tried for the roles that work there, linked from their menu or not.
FIELD_PAGES_BY_ROLE = {
    "warehouse": ("/receive", "/transfer", "/stocktake", "/loss", "/give-out", "/incidents/new"),
    "kitchen": ("/kitchen", "/give-out", "/incidents/new"),
    "coordinator": (OUTCOME,),
}
# Endpoints that answer with a file or an image rather than a page.
NOT_PAGES = frozenset(
    {
        "asset",
        "static",
        "favicon",
        "csv_io.export_ledger",
        "csv_io.export_stock",
        "reports.download",
        "reports.share_pdf",
        "reports.donor_pdf",
        "reports.logo",
        "incidents.download",
        "incidents.thumbnail",
    }
)


def browser_problem() -> str | None:
    """Say what the browser suite lacks on this machine, or None."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} missing (apt-get install chromium; `make setup` does it as root)"
    if not AXE.exists():
        return f"{AXE.relative_to(PROJECT_ROOT)} missing (npm ci; `make setup` does it)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[test]'; `make setup` does it)"
    return None


def require_browser() -> None:
    """Skip when the browser suite cannot run here; fail instead on CI."""
    problem = browser_problem()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{problem} (CI=true: the browser suite is required)")
        pytest.skip(problem)


# --- the demo, and its pages as each role's menu shows them -------------------------------------


@dataclass(frozen=True)
class Page:
    """One page to check: whose, its name in test ids (a route) and the address to open."""

    role: str
    name: str
    path: str | None  # None: no link to it was found
    status: int = 200

    @property
    def field(self) -> bool:
        return self.name in FIELD_PAGES


@dataclass
class Demo:
    """The seeded demo app and the pages found for each role."""

    app: Flask
    pages: list[Page] = field(default_factory=list)
    share_path: str = ""  # a donor's share link, as a visitor opens it


class _Links(HTMLParser):
    """Collect the links inside <nav> and inside <main> of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.open = {"nav": 0, "main": 0}
        self.found: dict[str, list[str]] = {"nav": [], "main": []}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.open:
            self.open[tag] += 1
        href = dict(attrs).get("href")
        if tag == "a" and href:
            for region, depth in self.open.items():
                if depth:
                    self.found[region].append(href)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.open and self.open[tag]:
            self.open[tag] -= 1


def links(html: str, region: str) -> list[str]:
    """Return the hrefs of the links in a page's <nav> or <main>."""
    parser = _Links()
    parser.feed(html)
    return parser.found[region]


def route_name(rule: Rule) -> str:
    """Name a route by its pattern without converters: /items/<item_id>/edit."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"<\1>", rule.rule)


def page_route(app: Flask, href: str) -> tuple[str, str] | None:
    """Return (route name, path) for a link to one of our pages, None for anything else."""
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    try:
        rule, _ = app.url_map.bind("localhost").match(parts.path, "GET", return_rule=True)
    except (HTTPException, RequestRedirect):
        return None
    if rule.endpoint in NOT_PAGES:
        return None
    return route_name(rule), parts.path


def sign_in(client: FlaskClient, email: str) -> None:
    """Sign a test client in through the login form, CSRF token and all."""
    html = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert token, "the login form has no CSRF token"
    response = client.post(
        "/login", data={"email": email, "password": DEMO_PASSWORD, "csrf_token": token.group(1)}
    )
    assert response.status_code == 302, f"{email} could not sign in"


def role_pages(app: Flask, role: str, email: str, known: dict[str, str]) -> list[Page]:
    """Return the role's menu pages, the pages they link to, and the role's field pages.

    A page one link below the menu is tried for the first role that reaches it only: its
    template is the same for the next role, and time is short. known maps each page found so
    far, for any role, to its address, and gains this role's.
    """
    client = app.test_client()
    sign_in(client, email)
    menu: dict[str, str] = {}
    for href in links(client.get("/").get_data(as_text=True), "nav"):
        route = page_route(app, href)
        if route:
            menu.setdefault(*route)
    one_down: dict[str, str] = {}
    for menu_path in menu.values():
        for href in links(client.get(menu_path).get_data(as_text=True), "main"):
            route = page_route(app, href)
            if route and route[0] not in menu:
                one_down.setdefault(*route)
    below = {name: path for name, path in one_down.items() if name not in known}
    found = menu | below
    wanted = [n for n in FIELD_PAGES_BY_ROLE.get(role, ()) if n not in found and n not in known]
    if wanted:
        # Two links down: before a distribution has started, its outcome form is reached from
        # its run sheet rather than from the agenda's "waiting for an outcome".
        for path in one_down.values():
            for href in links(client.get(path).get_data(as_text=True), "main"):
                route = page_route(app, href)
                if route and route[0] in wanted:
                    found.setdefault(*route)
    for name in FIELD_PAGES_BY_ROLE.get(role, ()):
        found.setdefault(name, known.get(name, name))
    for name, path in found.items():
        known.setdefault(name, path)
    return [Page(role, name, None if "<" in path else path) for name, path in found.items()]


def demo_app(directory: Path, locale: str = "en", **config: object) -> Flask:
    """Seed the demo, its members reading locale, into a SQLite file in directory."""
    app = create_app(
        {
            "TESTING": True,
            "ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory / 'demo.sqlite3'}",
            "INSTANCE_DIR": str(directory / "instance"),
            "REPORTS_DIR": str(directory / "reports"),
            "EVIDENCE_DIR": str(directory / "evidence"),
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            **config,
        }
    )
    with app.app_context():
        db.create_all()
        with write_intent():
            seed(if_empty=False, locale=locale)
            db.session.commit()
        db.session.remove()
    return app


def build_demo() -> Demo:
    """Seed the demo into a SQLite file of this process's own and find every role's pages."""
    directory = Path(tempfile.mkdtemp(prefix="logistics-browser-"))
    atexit.register(shutil.rmtree, directory, True)
    app = demo_app(directory)
    demo = Demo(app)
    known: dict[str, str] = {}
    for email, role in demo_logins():
        demo.pages += role_pages(app, role, email, known)
    for path in VISITOR_PAGES:
        status = 404 if path == "/no-such-page" else 200
        demo.pages.append(Page(VISITOR, path, path, status))
    demo.share_path = share_path(app)
    demo.pages.append(Page(VISITOR, "/share/<token>", demo.share_path))
    return demo


def share_path(app: Flask) -> str:
    """Make a donor share link of the demo organisation; return its path."""
    with app.app_context():
        organisation_id = db.session.scalars(
            select(Organisation.id).where(Organisation.slug == DEMO_SLUG)
        ).one()
        _, token = reports.create_share_link(organisation_id, None, label="A donor's phone")
        db.session.commit()
    return f"/share/{token}"


@functools.cache
def demo() -> Demo:
    """The demo of this process, built on first use (at collection)."""
    return build_demo()


# --- the live server and the browser ------------------------------------------------------------


class _Quiet(WSGIRequestHandler):
    """Log errors only: hundreds of page loads would bury a failure's own output."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@pytest.fixture(scope="session")
def live_url() -> Iterator[str]:
    """Serve the demo on a free port of 127.0.0.1 from a thread; yield its base URL."""
    app = demo().app
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Quiet)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = url
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield url
    server.shutdown()
    thread.join()


@dataclass
class Tab:
    """A browser page that remembers the console errors and page errors since it was cleared."""

    page: Any  # playwright.sync_api.Page
    errors: list[str] = field(default_factory=list)

    def watch(self) -> None:
        """Record console errors (CSP violations among them) and uncaught page errors."""
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(f"console error: {message.text} ({message.location.get('url')})")


class Browsing:
    """One Chromium; one signed-in context per role, signed in through the login form once."""

    def __init__(self, browser: Any, base_url: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.states: dict[str, dict] = {}
        self.tabs: dict[str, Tab] = {}

    def state(self, role: str) -> dict | None:
        """Return the role's signed-in storage state (cookies), signing in the first time."""
        if role == VISITOR:
            return None
        if role not in self.states:
            email = dict((r, e) for e, r in demo_logins())[role]
            context = self.browser.new_context(base_url=self.base_url)
            page = context.new_page()
            page.goto("/login")
            page.fill("input[name=email]", email)
            page.fill("input[name=password]", DEMO_PASSWORD)
            page.click("main form [type=submit]")
            page.wait_for_url(lambda url: "/login" not in url)
            self.states[role] = context.storage_state()
            context.close()
        return self.states[role]

    def context(self, role: str, **options: Any) -> Any:
        """Open a new browser context signed in as the role."""
        return self.browser.new_context(
            base_url=self.base_url, storage_state=self.state(role), **options
        )

    def tab(self, role: str) -> Tab:
        """Return the role's reused tab."""
        if role not in self.tabs:
            tab = Tab(self.context(role).new_page())
            tab.page.set_default_timeout(15_000)
            tab.watch()
            self.tabs[role] = tab
        return self.tabs[role]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Launch Debian's Chromium headless, once per worker."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def browsing(browser: Any, live_url: str) -> Browsing:
    return Browsing(browser, live_url)


@pytest.fixture(scope="session")
def axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def page_checks() -> str:
    return CHECKS.read_text(encoding="utf-8")
