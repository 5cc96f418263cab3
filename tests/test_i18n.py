"""French and English: a complete, compiled catalogue, and each reader's language chosen right.

A member reads their own language, else their organisation's; a visitor the language switch's,
else the browser's. The API answers in English whoever asks. Figures and dates are written as
the reader's language writes them (U+202F groups thousands in French, as Babel writes it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import factories
import pytest
from babel.messages.pofile import read_po
from conftest import World, build_world, login, make_app
from factories import Api
from flask import Flask, g
from flask.testing import FlaskClient
from flask_babel import force_locale, gettext
from french_leftovers import MARK, extract, forget_loaded_catalogues, marked_catalogue
from sqlalchemy import select

from logistics import i18n
from logistics.config import PROJECT_ROOT
from logistics.extensions import db
from logistics.models import Organisation, User
from logistics.services import accounts

CATALOGUE = PROJECT_ROOT / "logistics" / "translations" / "fr" / "LC_MESSAGES"
PO = CATALOGUE / "messages.po"
MO = CATALOGUE / "messages.mo"
FRENCH_BROWSER = {"Accept-Language": "fr-FR,fr;q=0.9"}
ENGLISH_BROWSER = {"Accept-Language": "en-GB,en;q=0.9"}
NARROW_NO_BREAK_SPACE = "\u202f"


def _fresh_language(app: Flask) -> None:
    """Choose each request's language afresh, as production does (one app context a request).

    The tests hold one app context open, which Flask reuses for every request, and
    Flask-Babel keeps the locale it chose in g; conftest's _fresh_g does not drop it yet.
    """

    @app.before_request
    def _forget_language() -> None:
        g.pop("_flask_babel", None)


@pytest.fixture(autouse=True)
def _language_per_request(request: pytest.FixtureRequest) -> None:
    if "app" in request.fixturenames:
        _fresh_language(request.getfixturevalue("app"))


def _read_po(path: Path):
    with path.open("rb") as file:
        return read_po(file)


def _listed(problems: list[str], limit: int = 60) -> str:
    """List problems one a line, the first limit of them, and how many there are."""
    shown = "\n  ".join(problems[:limit])
    more = f"\n  ... and {len(problems) - limit} more" if len(problems) > limit else ""
    return f"{len(problems)}:\n  {shown}{more}"


def _language(html: str) -> str:
    match = re.search(r'<html lang="([^"]+)">', html)
    assert match, "the page has no <html lang>"
    return match.group(1)


def _page_language(client: FlaskClient, path: str = "/account", **kwargs) -> str:
    response = client.get(path, **kwargs)
    assert response.status_code == 200, response.status_code
    return _language(response.get_data(as_text=True))


def _set_organisation_language(world: World, locale: str) -> None:
    accounts.set_organisation_language(world.org_id, locale)
    db.session.commit()


# --- the catalogue ------------------------------------------------------------------------------


def test_every_message_has_its_french_translation() -> None:
    catalogue = _read_po(PO)
    problems = []
    for message in catalogue:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        name = message.id[0] if isinstance(message.id, tuple) else message.id
        if not all(strings):
            problems.append(f"untranslated: {name!r}")
        if message.fuzzy:
            problems.append(f"fuzzy (check it, then drop the flag): {name!r}")
    for message, errors in catalogue.check():
        problems += [f"{message.id!r}: {error}" for error in errors]
    assert not problems, f"{PO.relative_to(PROJECT_ROOT)}: problems " + _listed(problems)


def test_every_marked_string_is_in_the_catalogue(tmp_path: Path) -> None:
    catalogue = _read_po(PO)
    extracted = extract(tmp_path / "messages.pot")
    missing = [
        repr(message.id[0] if isinstance(message.id, tuple) else message.id)
        for message in extracted
        if message.id and catalogue.get(message.id, message.context) is None
    ]
    assert not missing, (
        "marked in the sources but not in the French catalogue (run `make translations`, then"
        " translate them): " + _listed(missing)
    )


def test_make_setup_compiles_the_catalogue() -> None:
    makefile = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    setup = re.search(r"^setup:(.*)$", makefile, re.MULTILINE)
    assert setup and "$(CATALOGUES)" in setup.group(1), "make setup no longer compiles the .po"
    assert MO.exists(), f"{MO.relative_to(PROJECT_ROOT)} is missing: run make setup"
    assert MO.stat().st_mtime >= PO.stat().st_mtime, (
        f"{MO.relative_to(PROJECT_ROOT)} is older than its .po: run make setup"
    )


# --- whose language a page speaks ---------------------------------------------------------------


@pytest.mark.postgres
def test_a_visitor_reads_the_language_of_their_browser(app: Flask) -> None:
    visitor = app.test_client()
    french = visitor.get("/login", headers=FRENCH_BROWSER).get_data(as_text=True)
    with force_locale("fr"):
        log_in = gettext("Log in")
    assert _language(french) == "fr"
    assert f"<h1>{log_in}</h1>" in french
    english = visitor.get("/login").get_data(as_text=True)
    assert _language(english) == "en"
    assert "<h1>Log in</h1>" in english
    assert _language(visitor.get("/login", headers=ENGLISH_BROWSER).get_data(as_text=True)) == "en"


@pytest.mark.postgres
def test_the_language_switch_outweighs_the_browser(app: Flask) -> None:
    visitor = app.test_client()
    switched = visitor.get("/language/fr?next=/login", headers=ENGLISH_BROWSER)
    assert switched.status_code == 303
    assert switched.headers["Location"].endswith("/login")
    assert "lang=fr" in switched.headers["Set-Cookie"]
    assert _page_language(visitor, "/login", headers=ENGLISH_BROWSER) == "fr"
    visitor.get("/language/en?next=/login")
    assert _page_language(visitor, "/login", headers=FRENCH_BROWSER) == "en"
    visitor.get("/language/xx?next=/login")  # not a language we speak: the choice stays
    assert _page_language(visitor, "/login", headers=FRENCH_BROWSER) == "en"


@pytest.mark.postgres
def test_a_member_reads_their_organisations_language_unless_they_choose(
    app: Flask, world: World, client_as
) -> None:
    _set_organisation_language(world, "fr")
    warehouse = client_as("warehouse")
    # A member's language is theirs, whatever the browser asks for.
    assert _page_language(warehouse, headers=ENGLISH_BROWSER) == "fr"
    assert _page_language(warehouse, "/") == "fr"

    chosen = warehouse.post("/account/language", data={"locale": "en"})
    assert chosen.status_code == 303
    assert db.session.get(User, world.users["warehouse"]).locale == "en"
    assert _page_language(warehouse, headers=FRENCH_BROWSER) == "en"
    assert _page_language(client_as("kitchen")) == "fr"  # the others still read French

    warehouse.post("/account/language", data={"locale": ""})
    db.session.expire_all()
    assert db.session.get(User, world.users["warehouse"]).locale == ""
    assert _page_language(warehouse) == "fr"


@pytest.mark.postgres
def test_an_admin_sets_the_organisations_language(app: Flask, world: World, client_as) -> None:
    admin, kitchen = client_as("admin"), client_as("kitchen")
    assert _page_language(kitchen) == "en"
    changed = admin.post("/members/language", data={"locale": "fr"})
    assert changed.status_code == 303
    assert db.session.get(Organisation, world.org_id).locale == "fr"
    assert _page_language(kitchen) == "fr"
    assert _page_language(admin, "/members") == "fr"
    # Only an admin may: a coordinator's try changes nothing.
    refused = client_as("coordinator").post("/members/language", data={"locale": "en"})
    assert refused.status_code == 403
    db.session.expire_all()
    assert db.session.get(Organisation, world.org_id).locale == "fr"


@pytest.mark.postgres
def test_create_org_sets_the_organisations_language(app: Flask) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-org", "Entraide Lyon", "--slug", "lyon", "--locale", "fr"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["create-org", "Dover Aid", "--slug", "dover"])
    assert result.exit_code == 0, result.output
    locales = dict(db.session.execute(select(Organisation.slug, Organisation.locale)).all())
    assert locales == {"lyon": "fr", "dover": "en"}
    refused = runner.invoke(args=["create-org", "X", "--slug", "x", "--locale", "de"])
    assert refused.exit_code != 0


@pytest.mark.postgres
def test_figures_and_dates_are_written_as_the_reader_writes_them(
    app: Flask, world: World, client_as
) -> None:
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    factories.receive(world, "main", "blanket", 1750, occurred_at=at)
    english = client_as("warehouse")
    _set_organisation_language(world, "fr")
    french = client_as("coordinator")

    stock_fr = french.get("/").get_data(as_text=True)
    assert f"1{NARROW_NO_BREAK_SPACE}750" in stock_fr
    english.post("/account/language", data={"locale": "en"})
    stock_en = english.get("/").get_data(as_text=True)
    assert "1,750" in stock_en and f"1{NARROW_NO_BREAK_SPACE}750" not in stock_en

    with force_locale("fr"):
        when_fr = i18n.when(at, "date_time")
    with force_locale("en"):
        when_en = i18n.when(at, "date_time")
    assert when_fr != when_en
    assert when_fr in french.get("/ledger").get_data(as_text=True)
    assert when_en in english.get("/ledger").get_data(as_text=True)


# --- the API speaks English ---------------------------------------------------------------------


@pytest.fixture
def marked_app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The app with a French catalogue whose every translation is "ⓕ" + the English."""
    translations = marked_catalogue(tmp_path / "marked")
    forget_loaded_catalogues()
    app = make_app(database_url, tmp_path, BABEL_TRANSLATION_DIRECTORIES=str(translations))
    _fresh_language(app)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
    forget_loaded_catalogues()  # the next app reads the real catalogue again


@pytest.mark.postgres
def test_the_api_answers_a_french_member_in_english(marked_app: Flask) -> None:
    world = build_world("Calais Aid", "calais-aid")
    _set_organisation_language(world, "fr")
    page = marked_app.test_client()
    assert login(page, world.email("warehouse")).status_code == 302
    where = {"site_id": world.sites["main"], "item_id": world.items["blanket"]}
    factories.receive(world, "main", "blanket", 12)

    sent = {"item": "Blanket", "quantity": 20, "reason": "damp", "request_token": "loss-1"}
    form = page.post("/loss", data={**sent, "site_id": world.sites["main"]})
    assert f"{MARK}Only" in form.get_data(as_text=True), "the page is not in (marked) French"

    api = Api(marked_app, factories.token(world.org_id, world.email("warehouse")))
    refused = api.post("/movements", {"kind": "loss", "quantity": 20, "note": "Slashed", **where})
    message = factories.assert_error(refused, 409, "insufficient_stock")["message"]
    assert message.startswith("Only 12 Blanket at Main warehouse"), message
    assert MARK not in refused.get_data(as_text=True)
    unknown = api.post("/movements", {"kind": "loss", "quantity": 1, "site_id": 999999})
    assert unknown.status_code in (404, 422) and MARK not in unknown.get_data(as_text=True)
