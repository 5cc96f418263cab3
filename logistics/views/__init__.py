"""Blueprints: thin views that parse, call a service, commit and redirect."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    """Attach every blueprint to the app."""
    from . import (
        admin,
        api,
        auth,
        catalogue,
        csv_io,
        distributions,
        incidents,
        kitchen,
        labels,
        needs,
        offline,
        pledges,
        replacement,
        reports,
        shipments,
        stock,
        subscribers,
        suggest,
    )

    for module in (
        auth,
        stock,
        needs,
        distributions,
        kitchen,
        incidents,
        replacement,
        catalogue,
        admin,
        csv_io,
        reports,
        pledges,
        subscribers,
        shipments,
        labels,
        offline,
        suggest,
        api,
    ):
        app.register_blueprint(module.bp)
