"""Shelf labels (API.md): a PDF of a site's shelf labels, each QR code linking to its shelf page."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from flask import Response, request
from flask_babel import gettext as _
from pydantic import BeforeValidator, Field
from pydantic import ValidationError as PydanticError

from ...pdf.labels import render_labels
from ...services import labels
from ..labels import pdf_answer, shelf_label
from .common import Id, Query, bp, current_org_id, operation, refuse


def _listed(value: Any) -> Any:
    # item_id=1&item_id=2 and item_id=1,2 both name two items.
    if isinstance(value, str):
        return [part for part in value.split(",") if part.strip()]
    return value


class LabelQuery(Query):
    """Which shelves: a site, the items named (else every item it holds), and the page format."""

    site_id: Id
    item_id: Annotated[
        list[Id] | None,
        BeforeValidator(_listed),
        Field(
            None,
            max_length=labels.MAX_LABELS,
            description="Repeat it (or separate ids by commas); left out: every item held there.",
        ),
    ]
    format: Literal["a4", "62mm"] = Field(
        "a4", description="a4: ten labels a page; 62mm: one label a page, for a label printer."
    )


@bp.get("/labels.pdf")
@operation("record_movements", {200: "application/pdf"}, query=LabelQuery)
def labels_pdf(query: LabelQuery) -> Response:
    """Shelf labels of a site as a PDF, each with a QR code linking to its shelf page."""
    named = request.args.getlist("item_id")
    if len(named) > 1:
        # The declaration read the first item_id only: read them all.
        try:
            query = LabelQuery.model_validate(
                {name: value for name, value in request.args.items() if value.strip()}
                | {"item_id": ",".join(named)}
            )
        except PydanticError as exc:
            raise refuse(exc.errors(include_url=False)) from exc
    shelves = labels.shelf_labels(current_org_id(), query.site_id, query.item_id)
    site = shelves[0].site
    data = render_labels(
        [shelf_label(shelf.site, shelf.item) for shelf in shelves],
        query.format,
        _("Shelf labels: %(site)s", site=site.name),
    )
    return pdf_answer(data, f"labels-{site.id}.pdf")
