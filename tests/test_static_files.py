"""Light on a weak signal: compressed responses, static files cached under hashed names."""

from __future__ import annotations

import gzip
import hashlib
import re

import brotli
import pytest
from conftest import make_app
from flask import Flask

from logistics.config import PROJECT_ROOT

STYLESHEET = re.compile(r'<link rel="stylesheet" href="(/assets/app\.([0-9a-f]{12})\.css)">')


@pytest.fixture
def page_app(tmp_path) -> Flask:
    """Yield an app on an empty SQLite file: these pages need no data."""
    app = make_app(f"sqlite:///{tmp_path / 'static.sqlite3'}", tmp_path)
    with app.app_context():
        from logistics.extensions import db

        db.create_all()
    return app


def test_pages_link_the_stylesheet_by_a_hash_of_its_bytes(page_app: Flask) -> None:
    page = page_app.test_client().get("/login").get_data(as_text=True)
    found = STYLESHEET.search(page)
    assert found, page[:400]
    content = (PROJECT_ROOT / "static" / "app.css").read_bytes()
    assert found.group(2) == hashlib.sha256(content).hexdigest()[:12]
    assert re.search(r'<link rel="icon" href="/assets/favicon\.[0-9a-f]{12}\.svg"', page)


def test_hashed_stylesheet_is_cached_for_a_year_as_immutable(page_app: Flask) -> None:
    client = page_app.test_client()
    address = STYLESHEET.search(client.get("/login").get_data(as_text=True)).group(1)
    response = client.get(address)
    assert response.status_code == 200
    assert response.mimetype == "text/css"
    assert response.get_data() == (PROJECT_ROOT / "static" / "app.css").read_bytes()
    assert response.cache_control.max_age == 365 * 24 * 3600
    assert response.cache_control.immutable and response.cache_control.public


def test_a_name_with_another_hash_is_not_found(page_app: Flask) -> None:
    client = page_app.test_client()
    assert client.get("/assets/app.000000000000.css").status_code == 404
    assert client.get("/assets/app.css").status_code == 404
    assert client.get("/assets/../logistics/config.py").status_code == 404


def test_the_favicon_answers_where_browsers_look(page_app: Flask) -> None:
    response = page_app.test_client().get("/favicon.ico")
    assert response.status_code == 200
    assert response.get_data()[:4] == b"\x00\x00\x01\x00"  # an ICO file's header
    assert response.cache_control.max_age == 24 * 3600


@pytest.mark.parametrize(
    ("accepted", "encoding", "decode"),
    [("gzip", "gzip", gzip.decompress), ("br, gzip", "br", brotli.decompress)],
)
def test_pages_and_css_go_out_compressed_when_the_browser_accepts_it(
    page_app: Flask, accepted: str, encoding: str, decode
) -> None:
    client = page_app.test_client()
    plain = client.get("/login")
    assert "Content-Encoding" not in plain.headers
    squeezed = client.get("/login", headers={"Accept-Encoding": accepted})
    assert squeezed.headers["Content-Encoding"] == encoding
    assert "Accept-Encoding" in squeezed.headers["Vary"]
    assert len(squeezed.get_data()) < len(plain.get_data()) / 2
    # The page differs only by its CSRF token from one request to the next.
    assert decode(squeezed.get_data()).startswith(plain.get_data()[:200])


def test_the_stylesheet_goes_out_compressed_with_brotli(page_app: Flask) -> None:
    # Files are streamed, and Flask-Compress streams zstd, Brotli or deflate (not gzip):
    # every browser that runs this app accepts Brotli.
    client = page_app.test_client()
    stylesheet = STYLESHEET.search(client.get("/login").get_data(as_text=True)).group(1)
    css = client.get(stylesheet, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert css.headers["Content-Encoding"] == "br"
    assert brotli.decompress(css.get_data()) == (PROJECT_ROOT / "static" / "app.css").read_bytes()
