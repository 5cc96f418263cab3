"""The demo read in French: every page each role reaches, and the English still on them.

Shared by tests/test_french_pages.py (English words on French pages fail it) and
tests/test_i18n.py (a marked catalogue shows which text went through gettext). Run as a script,

    .venv/bin/python -m tests.french_leftovers

it serves the pages with a catalogue whose every translation is "ⓕ" + the English, from a fresh
extraction of the sources, and prints per page the English text that carries no ⓕ: text that is
not even marked for translation.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import String, Text, select, text

TESTS = Path(__file__).resolve().parent
if str(TESTS) not in sys.path:  # run as a script: import the suite's helpers as pytest does
    sys.path.insert(0, str(TESTS))

from browser.conftest import demo_app, role_pages, share_path, sign_in  # noqa: E402
from english_words import DataText, visible_texts  # noqa: E402

from logistics.config import PROJECT_ROOT  # noqa: E402
from logistics.demo import DEMO_SLUG, demo_logins  # noqa: E402
from logistics.extensions import babel, db  # noqa: E402
from logistics.models import Organisation  # noqa: E402

MARK = "ⓕ"
VISITOR = "visitor"
FRENCH_BROWSER = {"Accept-Language": "fr-FR,fr;q=0.9"}
# Columns that hold machine codes (shown through labels), not what people wrote: a raw code
# on a page is a leftover, so it is not taken out as data.
MACHINE_COLUMNS = frozenset(
    {
        "kind",
        "role",
        "status",
        "severity",
        "min_severity",
        "category",
        "locale",
        "action",
        "origin",
        "basis",
        "change",
        "mode",
        "bailiff_present",
        "interpreter_present",
        "legal_basis_shown",
        "shelter_offered",
    }
)


# --- the catalogue -----------------------------------------------------------------------------


def extraction_keywords() -> list[str]:
    """Return the -k options of the Makefile's translations target, so both extract alike."""
    makefile = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    target = makefile.split("\ntranslations:", 1)[1].split("\n\n", 1)[0]
    return re.findall(r"-k\s+(\S+)", target)


def extract(target: Path) -> Catalog:
    """Extract the sources' messages as `make translations` does, into target; read them."""
    pybabel = Path(sys.executable).with_name("pybabel")
    command = [str(pybabel), "extract", "-F", "babel.cfg", "--no-location", "--sort-output"]
    for keyword in extraction_keywords():
        command += ["-k", keyword]
    target.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [*command, "-o", str(target), "."], cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, f"pybabel extract failed:\n{done.stderr}"
    with target.open("rb") as file:
        return read_po(file)


def marked_catalogue(directory: Path) -> Path:
    """Write a French catalogue translating every extracted message to "ⓕ" + its English.

    Return the translations directory to give the app as BABEL_TRANSLATION_DIRECTORIES.
    """
    extracted = extract(directory / "messages.pot")
    catalogue = Catalog(locale="fr")
    for message in extracted:
        if not message.id:
            continue
        if isinstance(message.id, tuple | list):
            singular, plural = message.id
            strings = (MARK + singular, *[MARK + plural] * (catalogue.num_plurals - 1))
        else:
            strings = MARK + message.id
        catalogue.add(message.id, strings, flags=message.flags, context=message.context)
    translations = directory / "translations"
    folder = translations / "fr" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with (folder / "messages.mo").open("wb") as file:
        write_mo(file, catalogue)
    return translations


def forget_loaded_catalogues() -> None:
    """Drop the catalogues Flask-Babel keeps for the whole process (one cache for all apps)."""
    domain = vars(babel).get("domain_instance")  # made on first use, then kept
    if domain is not None:
        domain.cache.clear()


# --- the demo in French ------------------------------------------------------------------------


def french_demo(directory: Path, **config: object) -> Flask:
    """Seed the demo into a SQLite file in directory, its organisation reading French."""
    app = demo_app(directory, locale="fr", **config)
    with app.app_context():
        organisation = db.session.scalar(select(Organisation).where(Organisation.slug == DEMO_SLUG))
        assert organisation is not None and organisation.locale == "fr"
        db.session.remove()
    return app


def data_values(app: Flask) -> set[str]:
    """Return every text people wrote into the demo: names, notes, places, e-mails, titles."""
    values: set[str] = set()
    with app.app_context():
        for table in db.metadata.sorted_tables:
            for column in table.columns:
                if column.name in MACHINE_COLUMNS or not isinstance(column.type, String | Text):
                    continue
                query = text(f'SELECT DISTINCT "{column.name}" FROM "{table.name}"')
                for (value,) in db.session.execute(query):
                    if value:
                        values.add(" ".join(value.split()))
                        values.update(line.strip() for line in value.splitlines() if line.strip())
        db.session.remove()
    return values


@dataclass(frozen=True)
class Visit:
    """One page as a role saw it: who, what was asked, the answer (status, HTML), the status due."""

    role: str
    what: str
    status: int
    html: str
    expected: int = 200


def _token(html: str, name: str) -> str:
    """Return the value of a hidden field of a rendered form."""
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html) or re.search(
        rf'value="([^"]*)"[^>]*name="{name}"', html
    )
    return match.group(1) if match else ""


def _visit(
    client: FlaskClient, role: str, path: str, expected: int = 200, **kwargs: object
) -> Visit:
    """Open a page (GET unless a method is given) and keep what it answered."""
    method = str(kwargs.pop("method", "GET"))
    response = client.open(path, method=method, **kwargs)  # type: ignore[arg-type]
    what = path if method == "GET" else f"{method} {path}"
    return Visit(role, what, response.status_code, response.get_data(as_text=True), expected)


def visits(app: Flask) -> Iterator[Visit]:
    """Visit every page each demo role reaches, the logged-out pages and a few refusals."""
    visitor = app.test_client()
    for path in ("/login", "/password/forgot"):
        yield _visit(visitor, VISITOR, path, headers=FRENCH_BROWSER)
    yield _visit(visitor, VISITOR, "/no-such-page", 404, headers=FRENCH_BROWSER)
    login = visitor.get("/login", headers=FRENCH_BROWSER).get_data(as_text=True)
    data = {"email": "nobody@example.org", "password": "wrong"}
    data["csrf_token"] = _token(login, "csrf_token")
    yield _visit(visitor, VISITOR, "/login", 401, method="POST", data=data, headers=FRENCH_BROWSER)
    yield _visit(visitor, VISITOR, share_path(app), headers=FRENCH_BROWSER)

    known: dict[str, str] = {}
    for email, role in demo_logins():
        client = app.test_client()
        sign_in(client, email)
        for page in role_pages(app, role, email, known):
            if page.path is not None:
                yield _visit(client, role, page.path)
        yield _visit(client, role, "/no-such-page", 404)
        if role in ("warehouse", "donor"):
            yield _visit(client, role, "/members", 403)  # only an admin manages members
        if role == "warehouse":
            form = client.get("/receive").get_data(as_text=True)
            data = {
                "csrf_token": _token(form, "csrf_token"),
                "request_token": _token(form, "request_token"),
                "quantity": "0",
            }
            yield _visit(client, role, "/receive", method="POST", data=data)


# --- what is left in English -------------------------------------------------------------------


@dataclass(frozen=True)
class Leftover:
    """English text on a French page."""

    role: str
    what: str
    text: str
    words: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.role} {self.what}: {self.text!r} ({', '.join(self.words)})"


def leftovers(app: Flask, pages: list[Visit], unmarked_only: bool = False) -> list[Leftover]:
    """Return each page's English text nodes (once per page); unmarked_only: those without ⓕ."""
    data = DataText(data_values(app))
    found: list[Leftover] = []
    for page in pages:
        seen: set[str] = set()
        for node in visible_texts(page.html):
            if node in seen or (unmarked_only and MARK in node):
                continue
            seen.add(node)
            words = data.english(node)
            if words:
                found.append(Leftover(page.role, page.what, node, tuple(dict.fromkeys(words))))
    return found


def main() -> None:
    """Print the English text that is not marked for translation, page by page."""
    with tempfile.TemporaryDirectory(prefix="french-leftovers-") as name:
        directory = Path(name)
        translations = marked_catalogue(directory)
        app = french_demo(directory, BABEL_TRANSLATION_DIRECTORIES=str(translations))
        forget_loaded_catalogues()
        pages = list(visits(app))
        marked = sum(MARK in page.html for page in pages)
        found = leftovers(app, pages, unmarked_only=True)
        current = None
        for leftover in found:
            where = f"{leftover.role} {leftover.what}"
            if where != current:
                print(f"\n== {where}")
                current = where
            print(f"  {leftover.text!r}  [{', '.join(leftover.words)}]")
        distinct = len({leftover.text for leftover in found})
        print(
            f"\n{len(found)} unmarked text(s) on {len(pages)} pages ({marked} show marked text);"
            f" {distinct} distinct."
        )


if __name__ == "__main__":
    main()
