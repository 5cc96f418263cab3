"""Working without signal: the service worker, the app manifest, the outbox and the fallback page.

The service worker (templates/offline/sw.js, with Workbox from npm) keeps the field pages a
member may open and holds forms sent without signal until they can go; pages work as before
without it, and without JavaScript.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, make_response, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from ..auth import current_org_id, current_role, requires
from ..permissions import can
from ..services import distributions
from ..static_files import asset_url

bp = Blueprint("offline", __name__)

WORKBOX_MODULES = ("core", "routing", "strategies", "background-sync")
# Field pages a role may need without signal, by the capability that opens them.
FIELD_PAGES = (
    ("record_movements", ("stock.receive", "stock.transfer", "stock.stocktake", "stock.loss")),
    ("record_hand_outs", ("distributions.give_out",)),
    ("record_incidents", ("incidents.new",)),
)
OUTCOME_DAYS = 2  # today's and tomorrow's distributions: their outcome forms


@bp.route("/sw.js")
def service_worker() -> Response:
    """Send the service worker, never cached long: a new one must reach phones at once."""
    try:
        workbox = [asset_url(f"vendor/workbox/workbox-{name}.prod.js") for name in WORKBOX_MODULES]
    except KeyError:  # Workbox not installed (no npm): the pages work, only not offline
        return make_response("", 404)
    response = make_response(render_template("offline/sw.js", workbox=workbox))
    response.mimetype = "text/javascript"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/manifest.webmanifest")
def manifest() -> Response:
    """Describe the app for a phone's home screen."""
    response = current_app.json.response(
        {
            "name": _("Aid logistics"),
            "short_name": _("Aid logistics"),
            "start_url": url_for("stock.overview"),
            "scope": "/",
            "display": "standalone",
            "background_color": "#ffffff",
            "theme_color": "#1f5f8b",
            "icons": [
                {"src": asset_url(name), "sizes": size, "type": kind, "purpose": "any"}
                for name, size, kind in (
                    ("icon-192.png", "192x192", "image/png"),
                    ("icon-512.png", "512x512", "image/png"),
                    ("favicon.svg", "any", "image/svg+xml"),
                )
            ],
        }
    )
    response.mimetype = "application/manifest+json"
    return response


@bp.route("/outbox")
@requires("use_outbox")
def outbox() -> str:
    """Show what waits on this phone; the service worker fills it in."""
    names = [
        (url_for("stock.receive"), _("Receive")),
        (url_for("stock.transfer"), _("Move")),
        (url_for("stock.stocktake"), _("Count")),
        (url_for("stock.loss"), _("Write off")),
        (url_for("distributions.give_out"), _("Give out")),
        (url_for("incidents.new"), _("Report incident")),
    ]
    return render_template("offline/outbox.html", form_names=names)


@bp.route("/offline")
def fallback() -> str:
    """Say there is no signal and this page was never opened here before."""
    return render_template("offline/fallback.html")


@bp.route("/offline/pages")
@requires("use_outbox")
def pages() -> Response:
    """List the pages the service worker keeps for this member, to open without signal."""
    response = current_app.json.response(pages_to_keep())
    response.headers["Cache-Control"] = "no-store"
    return response


def pages_to_keep() -> list[str]:
    """Return the field pages this member may open without signal (kept when online)."""
    role = current_role()
    paths = [url_for("offline.outbox")]
    for capability, endpoints in FIELD_PAGES:
        if can(role, capability):
            paths += [url_for(endpoint) for endpoint in endpoints]
    if can(role, "record_outcomes"):
        org_id = current_org_id()
        today = distributions.local_today(org_id)
        for distribution in distributions.distributions_between(
            org_id, today, today + timedelta(days=OUTCOME_DAYS - 1)
        ):
            if distribution.status == "planned":
                paths.append(url_for("distributions.outcome", distribution_id=distribution.id))
    return paths
