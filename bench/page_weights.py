"""Page weights on the wire: every menu page of the demo, per role, as sent and compressed.

`python -m bench.page_weights` seeds the demo in a scratch SQLite file, logs in as each role
through /login, follows every link of the menu and prints each page's size as HTML and as it
goes out with Brotli and gzip (what a phone on a weak signal downloads), and the stylesheet's.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from logistics import create_app, demo
from logistics.extensions import db

NAV = re.compile(r"<nav\b.*?</nav>", re.S)
LINK = re.compile(r'<a\b[^>]*href="(/[^"#]*)"')
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
STYLESHEET = re.compile(r'<link rel="stylesheet" href="([^"]+)"')
ENCODINGS = ("br", "gzip")


def main() -> None:
    """Print one line per (role, page) and one for the stylesheet."""
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(folder) / 'weights.sqlite3'}",
                "INSTANCE_DIR": folder,
                "REPORTS_DIR": folder,
                "EVIDENCE_DIR": folder,
                "SCHEDULER": "off",
            }
        )
        with app.app_context():
            db.create_all()
            demo.seed(if_empty=True)
            db.session.commit()
        print(f"{'role':<12} {'page':<34} {'html':>8} {'br':>7} {'gzip':>7}")
        for email, role in demo.demo_logins():
            client = app.test_client()
            login = client.get("/login").get_data(as_text=True)
            token = TOKEN.search(login)
            form = {"email": email, "password": demo.DEMO_PASSWORD}
            if token:
                form["csrf_token"] = token.group(1)
            client.post("/login", data=form)
            home = client.get("/").get_data(as_text=True)
            nav = NAV.search(home)
            for path in sorted(set(LINK.findall(nav.group(0) if nav else ""))):
                print(_line(role, path, client))
        print(_line("-", STYLESHEET.search(login).group(1), app.test_client()))


def _line(role: str, path: str, client) -> str:
    """Fetch a page plainly and with each encoding; return its sizes in KB."""
    sizes = [len(client.get(path).get_data())]
    for encoding in ENCODINGS:
        sizes.append(len(client.get(path, headers={"Accept-Encoding": encoding}).get_data()))
    html, br, gzip = (f"{size / 1024:.1f}" for size in sizes)
    return f"{role:<12} {path:<34} {html:>8} {br:>7} {gzip:>7}"


if __name__ == "__main__":
    main()
