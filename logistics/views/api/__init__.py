"""The JSON API (API.md): bearer tokens only, JSON in and out, the same rules as the pages.

common.py holds what every endpoint shares (the token, `operation`, the input types, `once`);
each resource group has its module; openapi.py makes the document from their declarations.
"""

from __future__ import annotations

from . import catalogue, distributions, incidents, kitchen, needs, openapi, stock
from .common import bp
from .common import current_membership as _membership
from .common import current_org_id as _org_id
from .common import current_user_id as _user_id
from .common import local_time as _time
from .legacy import ApiResponse, ApiResult, Fields, allowed
from .legacy import json_body as _json_body
from .legacy import once_response as _once
from .legacy import possible_id as _possible_id

__all__ = [
    "bp",
    "catalogue",
    "distributions",
    "incidents",
    "kitchen",
    "needs",
    "openapi",
    "stock",
    # Read by views/api_reports.py until it moves in.
    "ApiResponse",
    "ApiResult",
    "Fields",
    "allowed",
    "_json_body",
    "_membership",
    "_once",
    "_org_id",
    "_possible_id",
    "_time",
    "_user_id",
]

# The reports endpoints still live in views/api_reports.py and read these names from here.
from .. import api_reports  # noqa: E402, F401
