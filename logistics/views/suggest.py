"""Items offered as someone types: the forms' bounded list and its JSON search."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Blueprint, request
from jinja2 import Undefined

from .. import i18n
from ..auth import current_org_id, requires
from ..models import Item
from ..services import item_suggest

bp = Blueprint("suggest", __name__)


@bp.app_template_global("item_suggestions")
def item_suggestions(items: Sequence[Item] | None = None) -> list[Item]:
    """Return the few items a form's list offers: of those the view passed (all, if few), or
    read alone when it passed none (no need to load the catalogue for a form)."""
    if items is None or isinstance(items, Undefined):  # a template given none
        return item_suggest.offered(current_org_id())
    return item_suggest.bounded(items, current_org_id())


@bp.app_template_global("also_known_as")
def also_known_as(item: Item) -> list[str]:
    """Return the item's other names a list shows beside its label: the other language's, then
    its aliases (browsers match typing against them too)."""
    other = item.name if (item.name_fr and i18n.current_language() == "fr") else item.name_fr
    aliases = [line.strip() for line in item.aliases.splitlines() if line.strip()]
    return ([other] if other else []) + aliases


@bp.route("/items/suggest")
@requires("view_stock")
def items() -> dict[str, Any]:
    found = item_suggest.matching(current_org_id(), request.args.get("q") or "")
    return {
        "items": [{"label": item.label, "also": ", ".join(also_known_as(item))} for item in found]
    }
