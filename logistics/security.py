"""Security headers on every response: pages, API, static files, error pages and downloads.

flask-talisman was tried and left out: it writes Referrer-Policy after every view, so the share
pages' stricter no-referrer was lost, and it cannot be set per view; it also rewrites the cookie
settings at start-up and per request. The cookies' flags live in config.py instead.
"""

from __future__ import annotations

from flask import Flask, Response

# Pages need no script and load only app.css, the favicon and incident photos' thumbnails;
# charts are inline SVG drawn with presentation attributes, and every form posts back to this
# site. Anything else is refused.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
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


def add_security_headers(response: Response) -> Response:
    """Add each header the view has not set itself (share pages send a stricter referrer one)."""
    if response.mimetype == "application/pdf":
        response.headers.setdefault("Content-Security-Policy", PDF_POLICY)
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def init_app(app: Flask) -> None:
    """Send the security headers on every response, error pages included."""
    app.after_request(add_security_headers)
