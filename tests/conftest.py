"""Fixtures: the app on a real SQLite file and on the real PostgreSQL server."""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import factories
import pytest
from factories import PASSWORD, Api
from flask import Flask, g
from flask.testing import FlaskClient
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from logistics import create_app
from logistics.extensions import db
from logistics.services import accounts

POSTGRES_URL = os.environ.get(
    "LOGISTICS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
ROLES = ("admin", "coordinator", "warehouse", "kitchen", "donor")


def _postgres_problem() -> str | None:
    try:
        engine = create_engine(POSTGRES_URL)
        with engine.connect() as connection:
            connection.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:  # any failure to reach it is a reason to skip
        return f"PostgreSQL not reachable at {POSTGRES_URL}: {exc.__class__.__name__}"
    return None


def require_postgres() -> None:
    """Skip the test when PostgreSQL cannot be reached; fail it instead on CI."""
    problem = _postgres_problem()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{problem} (CI=true: PostgreSQL is required)")
        pytest.skip(problem)


@contextmanager
def scratch_postgres(label: str, server_url: str = POSTGRES_URL) -> Iterator[str]:
    """Create an empty database of our own on the server; yield its URL; drop it afterwards."""
    name = f"logistics_{label}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """Create a database of our own for this test run and drop it afterwards."""
    require_postgres()
    with scratch_postgres("test") as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """Build the SQLite schema once; each test starts from a copy of this file."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """Yield a database URL for each engine the suite runs on, with an empty schema."""
    if request.param == "sqlite":
        path = tmp_path / "test.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    return request.getfixturevalue("postgres_database")


def make_app(database_url: str, tmp_path, **overrides) -> Flask:
    """Create an app for tests with an empty schema."""
    config = {
        "TESTING": True,
        "ENV": "testing",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "INSTANCE_DIR": str(tmp_path / "instance"),
        "REPORTS_DIR": str(tmp_path / "reports"),
        "EVIDENCE_DIR": str(tmp_path / "evidence"),
        "WTF_CSRF_ENABLED": False,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "WEBHOOK_ALLOW_PRIVATE": True,  # the tests' webhook server listens on 127.0.0.1
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 10} if "postgresql" in database_url else {},
    }
    config.update(overrides)
    app = create_app(config)

    @app.before_request
    def _fresh_g() -> None:
        # Tests hold an app context open, which Flask reuses for every test request;
        # in production each request has its own, so start each one with an empty g.
        g.pop("membership", None)
        g.pop("_login_user", None)
        g.pop("_flask_babel", None)  # the language chosen for the previous request

    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            _empty_postgres_schema()
    return app


def _empty_postgres_schema() -> None:
    """Empty every table (fast), or build the schema when a test left none or another one."""
    present = set(inspect(db.engine).get_table_names())
    with db.engine.begin() as connection:
        # A schema built by the migrations (alembic_version, its own constraint names) is
        # built again from the models: a backup of it would not restore onto create_all's.
        if present == set(db.metadata.tables):
            # The tables holding rows are emptied with DELETE, children first, and the sequences
            # used since the last test are set back to their start. TRUNCATE ... RESTART IDENTITY
            # of every table gave each table, index and sequence new files, which the next
            # checkpoint had to fsync: 0.3 s a test, and checkpoints of 40,000 files that held
            # up every CREATE and DROP DATABASE for 10-20 s.
            probes = " UNION ALL ".join(
                f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM \"{name}\")"
                for name in sorted(present)
            )
            filled = set(connection.execute(text(probes)).scalars())
            for table in reversed(db.metadata.sorted_tables):
                if table.name in filled:
                    connection.execute(text(f'DELETE FROM "{table.name}"'))
            connection.execute(
                text(
                    "SELECT setval(format('%I.%I', schemaname, sequencename), start_value, false)"
                    " FROM pg_sequences WHERE last_value IS NOT NULL"
                )
            )
            return
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    db.create_all()


@pytest.fixture
def app(database_url: str, tmp_path) -> Iterator[Flask]:
    """Yield the app bound to a fresh database."""
    app = make_app(database_url, tmp_path)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@dataclass
class World:
    """A believable organisation: sites, items and one member per role."""

    org_id: int
    slug: str
    sites: dict[str, int] = field(default_factory=dict)
    items: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)

    def email(self, role: str) -> str:
        return f"{role}@{self.slug}.example.org"


SITES = {
    "main": ("Main warehouse", "warehouse", "Calais", "Unit 4, zone industrielle des Dunes"),
    "gs_store": ("Grande-Synthe store", "warehouse", "Grande-Synthe", "Garage behind the gym"),
    "kitchen": ("Community kitchen", "kitchen", "Calais", "Rue de la Gare, back door"),
    "point": ("Verrotières point", "distribution_point", "Calais", "Rue des Verrotières, woods"),
}
ITEMS = {
    "blanket": ("Blanket", "bedding", "piece", ""),
    "sleeping_bag": ("Sleeping bag", "bedding", "piece", ""),
    "tent": ("Tent", "shelter", "piece", "2-person"),
    "tarp": ("Tarpaulin", "shelter", "piece", "4x6 m"),
    "water": ("Drinking water", "water", "litre", ""),
    "shoes42": ("Shoes", "clothing", "pair", "42"),
}


def build_world(name: str, slug: str) -> World:
    """Create an organisation with sites, items and one member per role; commit."""
    organisation = accounts.create_organisation(name, slug)
    world = World(org_id=organisation.id, slug=slug)
    for key, (site_name, kind, area, details) in SITES.items():
        site = factories.site(organisation.id, site_name, kind, area, details=details, commit=False)
        world.sites[key] = site.id
    for key, (item_name, category, unit, size) in ITEMS.items():
        item = factories.item(
            organisation.id, item_name, category, unit=unit, size=size, min_stock=10, commit=False
        )
        world.items[key] = item.id
    for role in ROLES:
        world.users[role] = factories.member(organisation.id, world.email(role), role, commit=False)
    db.session.commit()
    return world


@pytest.fixture
def world(app: Flask) -> World:
    """An organisation called Calais Aid with everything a test needs."""
    return build_world("Calais Aid", "calais-aid")


@pytest.fixture
def other_world(app: Flask, world: World) -> World:
    """A second organisation, to prove isolation."""
    return build_world("Paris Solidarity", "paris-solidarity")


def login(client: FlaskClient, email: str, password: str = PASSWORD):
    """Log a test client in through the real login form."""
    return client.post("/login", data={"email": email, "password": password})


@pytest.fixture
def client_as(app: Flask, world: World):
    """Return a function giving a test client logged in with a role of the world."""

    def make(role: str, target: World | None = None) -> FlaskClient:
        client = app.test_client()
        response = login(client, (target or world).email(role))
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return make


def api_token(world: World, role: str) -> str:
    """Create an API token for a role of a world; commit."""
    return factories.token(world.org_id, world.email(role))


@pytest.fixture
def api(app: Flask, world: World):
    """Return a function giving an API client for a role of the world (or of another)."""
    clients: dict[str, Api] = {}

    def make(role: str, target: World | None = None) -> Api:
        key = f"{role}@{(target or world).slug}"
        if key not in clients:
            clients[key] = Api(app, api_token(target or world, role))
        return clients[key]

    return make


def form_token(html: str) -> str:
    """Return the request_token hidden field of a rendered form."""
    match = re.search(r'name="request_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="request_token"', html
    )
    assert match, "form has no request_token"
    return match.group(1)
