"""Scheduled jobs: each pushes an app context, calls services, and commits or rolls back."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from .database import write_intent
from .extensions import db
from .services import distributions


def extend_series() -> str:
    """Keep every recurring distribution generated 28 days ahead."""
    created = distributions.extend_all_series()
    return f"{created} distribution(s) generated."


JOBS: dict[str, Callable[[], str]] = {
    "extend-series": extend_series,
}


def run_job(app: Flask, name: str) -> str:
    """Run one job once in its own transaction; return what it did."""
    job = JOBS[name]
    with app.app_context(), write_intent():
        try:
            summary = job()
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
        finally:
            db.session.remove()
    return summary
