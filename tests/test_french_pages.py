"""Every page each role reaches, read in French, shows no interface text left in English.

The demo is seeded once for the module into a SQLite file, its organisation reading French.
Each role signs in and opens its menu and the pages one link below it (as the browser suite
finds them), the logged-out pages, a 403, a 404 and forms sent back with errors. Data (names,
notes, places, e-mails), figures and dates are taken out; what is left must hold no English word.
`python -m tests.french_leftovers` tells which leftovers are not even marked for translation.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from french_leftovers import (
    VISITOR,
    Visit,
    forget_loaded_catalogues,
    french_demo,
    leftovers,
    visits,
)

from logistics.extensions import db


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The demo, its organisation reading French, with the project's own catalogue."""
    forget_loaded_catalogues()  # another app of this process may have loaded another one
    app = french_demo(tmp_path_factory.mktemp("french-demo"))
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def pages(demo_app: Flask) -> list[Visit]:
    return list(visits(demo_app))


def test_every_role_opens_its_pages_in_french(pages: list[Visit]) -> None:
    roles = {page.role for page in pages}
    assert roles == {VISITOR, "admin", "coordinator", "warehouse", "kitchen", "donor"}
    assert len(pages) > 60, f"only {len(pages)} pages found"
    wrong = [
        f"{page.role} {page.what}: {page.status}" for page in pages if page.status != page.expected
    ]
    assert not wrong, "unexpected answers:\n  " + "\n  ".join(wrong)
    english = [f"{page.role} {page.what}" for page in pages if '<html lang="fr">' not in page.html]
    assert not english, "pages not in French: " + ", ".join(english)


def test_the_form_errors_are_on_the_page(pages: list[Visit]) -> None:
    sent = next(page for page in pages if page.what == "POST /receive")
    assert '<div class="error">' in sent.html, sent.html[:2000]


def test_no_english_is_left_on_french_pages(demo_app: Flask, pages: list[Visit]) -> None:
    found = leftovers(demo_app, pages)
    where: dict[str, list[str]] = {}
    words: dict[str, tuple[str, ...]] = {}
    for leftover in found:
        where.setdefault(leftover.text, []).append(f"{leftover.role} {leftover.what}")
        words[leftover.text] = leftover.words
    lines = [
        f"{text!r} [{', '.join(words[text])}] on {', '.join(places[:4])}"
        + (f" and {len(places) - 4} more" if len(places) > 4 else "")
        for text, places in where.items()
    ]
    assert not lines, (
        f"{len(lines)} English texts on French pages ({len(found)} with repeats):\n  "
        + "\n  ".join(lines)
    )
