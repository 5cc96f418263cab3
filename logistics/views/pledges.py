"""Pledges pages (issue 16)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("pledges", __name__)
