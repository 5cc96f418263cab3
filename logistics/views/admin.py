"""Placeholder: filled in by its feature."""

from flask import Blueprint

bp = Blueprint("admin", __name__)
