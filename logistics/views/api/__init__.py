"""The JSON API (API.md): bearer tokens only, JSON in and out, the same rules as the pages.

common.py holds what every endpoint shares (the token, `operation`, the input types, `once`);
each resource group has its module; openapi.py makes the document from their declarations.
"""

from __future__ import annotations

from . import (
    catalogue,
    distributions,
    incidents,
    kitchen,
    labels,
    needs,
    openapi,
    replacement,
    reports,
    shipments,
    stock,
)
from .common import bp

__all__ = [
    "bp",
    "catalogue",
    "distributions",
    "incidents",
    "kitchen",
    "labels",
    "needs",
    "openapi",
    "replacement",
    "reports",
    "shipments",
    "stock",
]
