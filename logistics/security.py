"""Security headers on every response: pages, API, static files, error pages and downloads.

flask-talisman was tried and left out: it writes Referrer-Policy after every view, so the share
pages' stricter no-referrer was lost, and it cannot be set per view; it also rewrites the cookie
settings at start-up and per request. The cookies' flags live in config.py instead.
"""

from __future__ import annotations

from flask import Flask, Response

# Pages need no script and load only app.css; charts are inline SVG drawn with presentation
# attributes, and every form posts back to this site. Anything else is refused.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "style-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def add_security_headers(response: Response) -> Response:
    """Add each header the view has not set itself (share pages send a stricter referrer one)."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def init_app(app: Flask) -> None:
    """Send the security headers on every response, error pages included."""
    app.after_request(add_security_headers)
