"""Items offered as someone types: the forms' bounded list and its JSON search."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from .. import i18n
from ..auth import current_org_id, requires
from ..models import Item
from ..services import item_suggest

bp = Blueprint("suggest", __name__)


@bp.app_template_global("item_suggestions")
def item_suggestions() -> list[Item]:
    """Return the few items a form's list offers, read alone: no form loads the catalogue."""
    return item_suggest.offered(current_org_id())


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
