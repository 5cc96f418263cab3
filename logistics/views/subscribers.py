"""Subscribers pages (issue 16)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("subscribers", __name__)
