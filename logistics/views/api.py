"""Placeholder: filled in by its feature."""

from flask import Blueprint

bp = Blueprint("api", __name__)
