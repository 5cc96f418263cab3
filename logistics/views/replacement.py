"""The replacement kit page: what each destroyed shelter and each affected person call for."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from ..auth import current_org_id, requires
from ..forms.common import choices
from ..forms.replacement import BLANK_ROWS, ReplacementKitForm
from ..services import catalogue, replacement
from ._submit import submit_once

bp = Blueprint("replacement", __name__)


@bp.route("/incidents/replacement-kit", methods=["GET", "POST"])
@requires("edit_replacement_kit")
def kit() -> str | Response:
    org_id = current_org_id()
    current = replacement.kit(org_id)
    form = ReplacementKitForm()
    if request.method == "GET":
        _fill(form, current)
    elif form.validate_on_submit():

        def action() -> dict[str, Any]:
            replacement.save_kit(org_id, _lines(form.per_shelter), _lines(form.per_person))
            return {"message": _("Replacement kit saved.")}

        if submit_once(form, "replacement_kit", action) is not None:
            return redirect(url_for(".kit"))
    _offer_items(form, current)
    return render_template("incidents/replacement_kit.html", form=form)


def _fill(form: ReplacementKitForm, current: replacement.Kit) -> None:
    """Put the kit's lines in the form, then a few empty rows to add more."""
    for rows, lines in (
        (form.per_shelter, current.per_shelter),
        (form.per_person, current.per_person),
    ):
        for line in lines:
            rows.append_entry({"item_id": line.item.id, "quantity": line.quantity})
        for _blank in range(BLANK_ROWS):
            rows.append_entry()


def _offer_items(form: ReplacementKitForm, current: replacement.Kit) -> None:
    """Offer the active items, and any retired item the kit still names, in every row."""
    items = catalogue.list_items(current_org_id())
    offered = {item.id for item in items}
    retired = {
        line.item.id: line.item
        for line in (*current.per_shelter, *current.per_person)
        if line.item.id not in offered
    }
    options = choices(
        [
            (0, "—"),
            *((item.id, item.label) for item in items),
            *((item.id, _("%(item)s (retired)", item=item.label)) for item in retired.values()),
        ]
    )
    for row in (*form.per_shelter, *form.per_person):
        row.item_id.choices = options


def _lines(rows: Any) -> list[tuple[int, int]]:
    """Return the (item id, quantity) of the rows that name an item and a quantity above 0."""
    return [
        (row.item_id.data, row.quantity.data)
        for row in rows
        if row.item_id.data and row.quantity.data
    ]
