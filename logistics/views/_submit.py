"""Run one form submission: once per request token, committed, or refused with a message."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from flask import abort, flash, get_template_attribute, request
from flask_babel import gettext as _
from wtforms import FieldList

from .. import limits
from ..auth import current_membership, current_org_id, current_user_id
from ..database import retry_when_raced
from ..extensions import db
from ..forms.common import SubmissionForm
from ..models import Item, Site
from ..services import catalogue, submissions
from ..services.distributions import EARLIEST_DAY, LATEST_DAY
from ..services.errors import NotFound, ServiceError, ValidationError
from ..services.item_search import ItemIndex, SeveralItems, UnclearItem
from ..templating import local_time

# fromisoformat alone would also take 20241102 and 2024-W44-6.
WRITTEN_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# An item tapped among those offered for a field comes back as pick-<the field's name>.
PICK = "pick-"


def submit_once(
    form: SubmissionForm, kind: str, action: Callable[[], dict[str, Any]]
) -> dict[str, Any] | None:
    """Run action once for the form's token and commit; on refusal roll back and show why.

    A token someone else sent, or sent with another form, is refused with a 409 page.
    """
    try:
        result, first_recorded_at = record_once(
            current_org_id(), form.request_token.data, kind, action, current_user_id()
        )
    except submissions.TokenConflict:
        raise  # no field of this form can fix it: the error page says so
    except ServiceError as refusal:
        show_refusal(form, refusal)
        return None
    if first_recorded_at is None:
        flash(result["message"], "success")
    else:
        flash(replay_reply(result, first_recorded_at), "success")
    return result


def record_once(
    organisation_id: int,
    request_token: str | None,
    kind: str,
    action: Callable[[], dict[str, Any]],
    user_id: int | None,
) -> tuple[dict[str, Any], datetime | None]:
    """Run action once for a request token and commit; return its result and, for a replay,
    when it first ran. A refusal rolls back and is raised. user_id is None for people without
    an account (a share link), whose token alone makes a second tap record nothing new."""

    def unit() -> tuple[dict[str, Any], datetime | None]:
        answer = submissions.run_once_dated(
            organisation_id, request_token, kind, action, user_id=user_id
        )
        db.session.commit()
        return answer

    try:
        # A deadlock or serialisation failure on PostgreSQL runs the whole unit again.
        return retry_when_raced(unit)
    except ServiceError:
        db.session.rollback()
        raise


def replay_reply(result: dict[str, Any], recorded_at: datetime) -> str:
    """Say what a form sent again had already recorded, and when (a double tap is no failure).

    "Already recorded at 07:12: 40 Sleeping bag received at Main warehouse." in the
    organisation's time zone; a result without a summary repeats its message instead.
    """
    when = _local_when(recorded_at)
    if result.get("summary"):
        return _("Already recorded at %(time)s: %(what)s.", time=when, what=result["summary"])
    if result.get("message"):
        return _("Already recorded at %(time)s. %(message)s", time=when, message=result["message"])
    return _("Already recorded at %(time)s; nothing new was saved.", time=when)


def _local_when(moment: datetime) -> str:
    """Show a UTC moment as the organisation's clock time; with its day when not today."""
    time = local_time(moment, "time")
    if local_time(moment, "yyyy-MM-dd") == local_time(datetime.now(UTC), "yyyy-MM-dd"):
        return time
    return _("%(time)s on %(day)s", time=time, day=local_time(moment, "date"))


def start_site_id(sites: list[Site]) -> int | None:
    """Return where a stock form starts: the member's last site, else the main warehouse."""
    membership = current_membership()
    start = catalogue.start_site(sites, membership.last_site_id if membership else None)
    return start.id if start else None


def show_refusal(form: Any, refusal: ServiceError) -> None:
    """Put a service's refusal on the form: its message on top, its notes by their fields."""
    form.form_errors.append(refusal.message)
    for name, problem in refusal.fields.items():
        field = getattr(form, name, None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, problem]


def or_404(getter: Callable[..., Any], organisation_id: int, *args: Any) -> Any:
    """Call a service getter for the organisation's object, or answer 404."""
    try:
        return getter(organisation_id, *args)
    except NotFound:
        abort(404)


def item_from_label(label: str, field: str = "item") -> Item:
    """Return the item someone typed ("sleeping bags") or tapped among those offered.

    Several or no matching items are refused with the ones to tap beside the field.
    """
    try:
        return _typed_item(label, field, catalogue.item_index(current_org_id()))
    except UnclearItem as unclear:
        raise ItemChoices(field, [_unclear(unclear, field, None)]) from None


def filled_rows(rows: FieldList, known: Iterable[Item] = ()) -> Iterator[tuple[Any, Item]]:
    """Yield each line row that names an item, with that item; empty rows are skipped.

    Every line is looked up, over one read of the catalogue, before the first is yielded:
    one refusal, on the form's field of rows, offers the choices for every unclear line at
    once. A label of a known item (one a form already names, even retired) is that item.
    """
    index: ItemIndex | None = None
    by_label = {item.label.casefold(): item for item in known}
    found: list[tuple[Any, Item]] = []
    unclear: list[Unclear] = []
    for number, row in enumerate(rows, start=1):
        label = (row.item.data or "").strip()
        if not label:
            continue
        if label.casefold() in by_label:
            found.append((row, by_label[label.casefold()]))
            continue
        index = index or catalogue.item_index(current_org_id())
        try:
            item = _typed_item(label, row.item.name, index)
        except UnclearItem as problem:
            unclear.append(_unclear(problem, row.item.name, number))
            continue
        row.item.data = item.label  # should the form come back, it shows the item found
        found.append((row, item))
    if unclear:
        raise ItemChoices(rows.short_name, unclear)
    yield from found


@dataclass(frozen=True)
class Unclear:
    """One typed item that named none or several: what to offer for it."""

    pick: str  # the name of the radio buttons offering its choices
    typed: str
    choices: list[str]
    several: bool
    row: int | None  # the line's number, in a form of lines
    message: str


class ItemChoices(ServiceError):
    """Typed items that named none or several, with the items to tap shown by the field."""

    def __init__(self, field: str, problems: list[Unclear]) -> None:
        if len(problems) == 1 and problems[0].row is None:
            message = problems[0].message
        else:
            message = " ".join(
                _("Line %(row)s: %(problem)s", row=p.row, problem=p.message) for p in problems
            )
        super().__init__(message, {field: _("unknown item")})
        self.field = field
        self.problems = problems

    @property
    def fields(self) -> dict[str, str]:
        """Return the field's note: the choices to tap as HTML, when there are any."""
        if not any(p.choices for p in self.problems):
            return super().fields
        offer = get_template_attribute("catalogue/item_choices.html", "item_choices")
        return {self.field: offer([p for p in self.problems if p.choices])}


def _typed_item(label: str, name: str, index: ItemIndex) -> Item:
    """Find the item typed in a field, or the one tapped among those offered for it."""
    picked = (request.form.get(PICK + name) or "").strip()
    return index.find(picked or label)


def _unclear(problem: UnclearItem, name: str, row: int | None) -> Unclear:
    return Unclear(
        pick=PICK + name,
        typed=problem.typed,
        choices=problem.choices,
        several=isinstance(problem, SeveralItems),
        row=row,
        message=problem.message,
    )


def query_id(name: str, getter: Callable[[int, int], Any] | None = None) -> int | None:
    """Read an optional id from the query string; 404 when no row (or none getter finds) has it."""
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    value = _whole(raw)
    if value is None:
        abort(404)
    if getter is not None:
        or_404(getter, current_org_id(), value)
    return value


def query_whole(name: str) -> int | None:
    """Read a whole number from 1 to MAX_ID from the query string; None for anything else."""
    return _whole((request.args.get(name) or "").strip())


def _whole(raw: str) -> int | None:
    if not re.fullmatch(r"[0-9]{1,10}", raw) or not 1 <= int(raw) <= limits.MAX_ID:
        return None
    return int(raw)


def query_date(name: str) -> date | None:
    """Read an optional YYYY-MM-DD date from the query string; refuse one outside 2000–2100."""
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw) if WRITTEN_DATE.fullmatch(raw) else None
    except ValueError:
        day = None
    if day is None:
        raise ValidationError(_("Dates are written YYYY-MM-DD."), {name: _("YYYY-MM-DD")})
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise ValidationError(
            _(
                "Dates lie between %(first)s and %(last)s.",
                first=EARLIEST_DAY.isoformat(),
                last=LATEST_DAY.isoformat(),
            ),
            {name: _("out of range")},
        )
    return day
