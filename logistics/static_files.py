"""Static files under content-hashed names, cached for a year, and a favicon where browsers look.

A phone on a weak signal should fetch the stylesheet once: its name carries a hash of its bytes
(app.3f2a9c1d0b7e.css), so it is cached as immutable and a changed file gets a new name.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask, abort, current_app, send_from_directory, url_for
from werkzeug.wrappers import Response

HASH_LENGTH = 12
YEAR_SECONDS = 365 * 24 * 3600
DAY_SECONDS = 24 * 3600


class Fingerprints:
    """Map each static file to its hashed name and back."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.hashed: dict[str, str] = {}
        self.original: dict[str, str] = {}
        self.read()

    def read(self) -> None:
        """Hash every file under the folder (a handful: the stylesheet and icons)."""
        hashed: dict[str, str] = {}
        for path in sorted(self.folder.rglob("*")):
            if path.is_file():
                name = path.relative_to(self.folder).as_posix()
                hashed[name] = hashed_name(name, path.read_bytes())
        self.hashed = hashed
        self.original = {value: key for key, value in hashed.items()}


def hashed_name(name: str, content: bytes) -> str:
    """Return the name with a hash of the content before its suffix: app.css → app.<hash>.css."""
    digest = hashlib.sha256(content).hexdigest()[:HASH_LENGTH]
    stem, dot, suffix = name.rpartition(".")
    return f"{stem}.{digest}.{suffix}" if dot else f"{name}.{digest}"


def asset_url(filename: str) -> str:
    """Return the address of a static file under its hashed name."""
    prints: Fingerprints = current_app.extensions["fingerprints"]
    if current_app.debug:
        prints.read()  # a developer edits the stylesheet and reloads without restarting
    return url_for("asset", name=prints.hashed[filename])


def init_app(app: Flask) -> None:
    """Serve hashed static files and the favicon; give templates asset_url."""
    folder = Path(app.static_folder or "static")
    app.extensions["fingerprints"] = Fingerprints(folder)
    app.add_template_global(asset_url, "asset_url")

    @app.route("/assets/<path:name>")
    def asset(name: str) -> Response:
        prints: Fingerprints = app.extensions["fingerprints"]
        original = prints.original.get(name)
        if original is None:
            abort(404)
        response = send_from_directory(folder, original, max_age=YEAR_SECONDS)
        response.cache_control.immutable = True
        response.cache_control.public = True
        return response

    @app.route("/favicon.ico")
    def favicon() -> Response:
        return send_from_directory(folder, "favicon.ico", max_age=DAY_SECONDS)
