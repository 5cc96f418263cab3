"""The replacement kit page: what each destroyed shelter and each affected person call for."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response
from wtforms import FieldList

from ..auth import current_org_id, requires
from ..forms.replacement import BLANK_ROWS, ReplacementKitForm
from ..models import Item
from ..services import replacement
from ._submit import filled_rows, submit_once

bp = Blueprint("replacement", __name__)


@bp.route("/incidents/replacement-kit", methods=["GET", "POST"])
@requires("edit_replacement_kit")
def kit() -> str | Response:
    org_id = current_org_id()
    current = replacement.kit(org_id)
    named = [line.item for line in (*current.per_shelter, *current.per_person)]
    form = ReplacementKitForm()
    if request.method == "GET":
        _fill(form, current)
    elif form.validate_on_submit():

        def action() -> dict[str, Any]:
            replacement.save_kit(
                org_id,
                _lines(form.per_shelter, named),
                _lines(form.per_person, named),
            )
            return {"message": _("Replacement kit saved.")}

        if submit_once(form, "replacement_kit", action) is not None:
            return redirect(url_for(".kit"))
    retired = {item.label for item in named if not item.active}
    return render_template("incidents/replacement_kit.html", form=form, retired=retired)


def _fill(form: ReplacementKitForm, current: replacement.Kit) -> None:
    """Put the kit's lines in the form, then a few empty rows to add more."""
    for rows, lines in (
        (form.per_shelter, current.per_shelter),
        (form.per_person, current.per_person),
    ):
        for line in lines:
            rows.append_entry({"item": line.item.label, "quantity": line.quantity})
        for _blank in range(BLANK_ROWS):
            rows.append_entry()


def _lines(rows: FieldList, named: list[Item]) -> list[tuple[int, int]]:
    """Return the (item id, quantity) of the rows that name an item and a quantity above 0.

    Items are typed, as on every form; one the kit names already is kept even when retired.
    """
    found = filled_rows(rows, named)
    return [(item.id, row.quantity.data) for row, item in found if row.quantity.data]
