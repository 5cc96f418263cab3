"""Run one form submission: once per request token, committed, or refused with a message."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from flask import abort, flash
from flask_babel import gettext as _

from ..auth import current_org_id
from ..extensions import db
from ..forms.common import SubmissionForm
from ..models import Item
from ..services import catalogue, submissions
from ..services.errors import NotFound, ServiceError


def submit_once(
    form: SubmissionForm, kind: str, action: Callable[[], dict[str, Any]]
) -> dict[str, Any] | None:
    """Run action once for the form's token and commit; on refusal roll back and show why."""
    try:
        result, replayed = submissions.run_once(
            current_org_id(), form.request_token.data, kind, action
        )
        db.session.commit()
    except ServiceError as refusal:
        db.session.rollback()
        form.form_errors.append(refusal.message)
        for name, problem in refusal.fields.items():
            field = getattr(form, name, None)
            if field is not None and hasattr(field, "errors"):
                field.errors = [*field.errors, problem]
        return None
    flash(_("This was already recorded; nothing new was saved.") if replayed else result["message"])
    return result


def or_404(getter: Callable[[int, int], Any], organisation_id: int, object_id: int) -> Any:
    """Fetch an organisation's object through a service getter, or answer 404."""
    try:
        return getter(organisation_id, object_id)
    except NotFound:
        abort(404)


def item_from_label(label: str, field: str = "item") -> Item:
    """Return the item someone typed ("Shoes (42)"), or refuse with a clear message."""
    item = catalogue.find_item_by_label(current_org_id(), label)
    if item is None:
        raise NotFound(
            _("No item called %(label)s. Pick one from the list.", label=label),
            {field: _("unknown item")},
        )
    return item


def filled_rows(rows: Iterable[Any]) -> Iterator[tuple[Any, Item]]:
    """Yield each line row that names an item, with that item; empty rows are skipped."""
    for row in rows:
        label = (row.item.data or "").strip()
        if label:
            yield row, item_from_label(label, "lines")
