"""Placeholder: filled in by its feature."""

from flask import Blueprint

bp = Blueprint("csv_io", __name__)
