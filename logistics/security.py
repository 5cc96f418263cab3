"""Security headers on every response: pages, API, static files, error pages and downloads.

flask-talisman was tried and left out: it writes Referrer-Policy after every view, so the share
pages' stricter no-referrer was lost, and it cannot be set per view; it also rewrites the cookie
settings at start-up and per request. The cookies' flags live in config.py instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, Response, current_app, request

# Pages need no script (app.js only adds working offline) and load only app.css, the icons and
# incident photos' thumbnails;
# charts are inline SVG drawn with presentation attributes, and every form posts back to this
# site. Anything else is refused.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        # app.js and the service worker: files of this site, never inline code.
        "script-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
        "connect-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)
# A PDF shown in the browser is drawn by the browser's own viewer, whose page needs inline
# styles and plugin data: Chromium shows only a strip of the report under default-src 'none'
# (its bug 271452). A PDF runs none of our script, so it only may not be framed.
PDF_POLICY = "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


# What a page reached by a secret link (a share link, a mailed link) sends instead: the link
# stays out of other sites' logs (no referrer), search engines and shared caches.
LINK_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "Cache-Control": "private, no-store",
}
V = TypeVar("V", bound=Callable[..., object])


def secret_link(view: V) -> V:
    """Mark a view whose address is its own proof: its answers carry LINK_HEADERS."""
    view.secret_link = True  # type: ignore[attr-defined]
    return view


def add_security_headers(response: Response) -> Response:
    """Add each header the view has not set itself; a secret link's page sends LINK_HEADERS."""
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "secret_link", False):
        response.headers.update(LINK_HEADERS)
    if response.mimetype == "application/pdf":
        response.headers.setdefault("Content-Security-Policy", PDF_POLICY)
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def init_app(app: Flask) -> None:
    """Send the security headers on every response, error pages included."""
    app.after_request(add_security_headers)
