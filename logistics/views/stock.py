"""Stock pages: overview, item history, the ledger, and the receive/transfer/count/loss forms."""

from __future__ import annotations

from contextlib import suppress
from datetime import date, timedelta
from typing import Any

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from .. import i18n, limits
from ..auth import current_membership, current_org_id, current_user_id, requires
from ..forms.common import choices
from ..forms.stock import LossForm, ReceiveForm, ReverseForm, StocktakeForm, TransferForm
from ..models import CATEGORIES, MOVEMENT_KINDS, Pledge, Site
from ..services import accounts, catalogue, distributions, ledger, pledges, stock
from ..services import overview as stock_overview
from ..services.errors import NotFound
from ._submit import (
    item_from_label,
    or_404,
    query_id,
    query_whole,
    start_site_id,
    submit_once,
)

bp = Blueprint("stock", __name__)
# Columns shown even when empty. A distribution point's stock counts as held like any other,
# but most hold nothing between distributions: a column of zeros is noise on a phone.
ALWAYS_SHOWN_KINDS = ("warehouse", "kitchen")
# What a link may fill in the transfer form (the alerts' suggested transfers).
TRANSFER_LINK_IDS = ("item_id", "from_site_id", "to_site_id", "quantity")
# The receive form offers the pledges expected up to this many days ahead.
PLEDGES_AHEAD_DAYS = 14
# The overview's last choice (a site or a category) in the member's session.
OVERVIEW_CHOICE = "overview"


@bp.route("/")
@requires("view_stock")
def overview() -> str:
    org_id = current_org_id()
    sites = catalogue.list_sites(org_id)
    site_id, category = _overview_choice(org_id, sites)
    page_number = query_whole("page") or 1
    page = stock_overview.page_of_items(
        org_id, category=category, site_id=site_id, page=page_number
    )
    stocked = {s for by_site in page.cells.values() for s in by_site}
    shown_sites = [
        s
        for s in sites
        if (site_id is None or s.id == site_id)
        and (s.kind in ALWAYS_SHOWN_KINDS or s.id in stocked or s.id == site_id)
    ]
    return render_template(
        "stock/overview.html",
        sites=sites,
        shown_sites=shown_sites,
        items=page.items,
        cells=page.cells,
        held_total=page.held_total,
        filtered_by_site=site_id is not None,
        site_id=site_id,
        site=next((s for s in sites if s.id == site_id), None),
        category=category,
        categories=CATEGORIES,
        page=page_number,
        has_next=page.has_next,
    )


def _overview_choice(org_id: int, sites: list[Site]) -> tuple[int | None, str | None]:
    """Return the site and category to show, and remember them for the next visit.

    The link's own choice first (?site_id=, ?category=), else the member's last choice in this
    organisation, else the first category needing attention: never every item at every site.
    """
    site_id = query_id("site_id", ledger.get_site)
    category = request.args.get("category") or None
    if category not in CATEGORIES:
        category = None
    if site_id is None and category is None:
        last = session.get(OVERVIEW_CHOICE) or {}
        if last.get("org") == org_id:
            # A site retired since, or a category no longer known, is forgotten.
            site_id = last.get("site_id") if last.get("site_id") in {s.id for s in sites} else None
            category = last.get("category") if last.get("category") in CATEGORIES else None
    if site_id is None and category is None:
        category = stock_overview.opening_category(org_id) or CATEGORIES[0]
    session[OVERVIEW_CHOICE] = {"org": org_id, "site_id": site_id, "category": category}
    return site_id, category


@bp.route("/items/<int:item_id>/history")
@requires("view_ledger")
def item_history(item_id: int) -> str:
    org_id = current_org_id()
    item = or_404(ledger.get_item, org_id, item_id)
    site_id = query_id("site_id", ledger.get_site)
    rows, next_cursor = stock.item_history(
        org_id, item.id, site_id=site_id, before_id=query_id("before")
    )
    return render_template(
        "stock/history.html",
        item=item,
        rows=rows,
        next_cursor=next_cursor,
        site_id=site_id,
        sites=catalogue.list_sites(org_id, include_retired=True),
        reversed_ids=stock.reversed_ids([row.movement.id for row in rows]),
    )


@bp.route("/ledger")
@requires("view_ledger")
def ledger_page() -> str:
    org_id = current_org_id()
    kind = request.args.get("kind") or None
    site_id = query_id("site_id", ledger.get_site)
    movements, next_cursor = stock.movements(
        org_id,
        kind=kind if kind in MOVEMENT_KINDS else None,
        site_id=site_id,
        before_id=query_id("before"),
        with_names=True,
    )
    return render_template(
        "stock/ledger.html",
        movements=movements,
        next_cursor=next_cursor,
        kind=kind,
        site_id=site_id,
        kinds=MOVEMENT_KINDS,
        sites=catalogue.list_sites(org_id, include_retired=True),
        reversed_ids=stock.reversed_ids([m.id for m in movements]),
    )


@bp.route("/receive", methods=["GET", "POST"])
@requires("record_movements")
def receive() -> str | Response:
    form = ReceiveForm()
    sites = _offer_sites(form, "site_id")
    _offer_pledges(form)
    if request.method == "GET":
        _fill_shelf(form)

    def action() -> dict[str, Any]:
        item = item_from_label(form.item.data)
        movement = ledger.receive(
            current_org_id(),
            current_user_id(),
            site_id=form.site_id.data,
            item_id=item.id,
            quantity=form.quantity.data,
            kind=form.kind.data,
            source=form.source.data or "",
            note=form.note.data or "",
            occurred_at=form.occurred_at_utc(_timezone()),
            best_before=form.best_before.data,
        )
        what = _(
            "%(quantity)s %(item)s received at %(site)s",
            quantity=movement.quantity,
            item=item.label,
            site=movement.site.name,
        )
        if form.pledge_id.data is None:
            return _recorded([movement.id], what)
        # The same transaction and request token: the receipt and the closed pledge, or neither.
        pledges.close_pledge(current_org_id(), form.pledge_id.data, movement.id, current_user_id())
        closed = _("Recorded %(what)s. The pledge is closed.", what=what)
        return _recorded([movement.id], what, closed)

    return _handle(form, "receive", action, "stock/receive.html", sites, "site_id")


@bp.route("/transfer", methods=["GET", "POST"])
@requires("record_movements")
def transfer() -> str | Response:
    form = TransferForm()
    sites = _offer_sites(form, "from_site_id", "to_site_id")
    if request.method == "GET":
        _fill_from_link(form)

    def action() -> dict[str, Any]:
        item = item_from_label(form.item.data)
        out, into = ledger.transfer(
            current_org_id(),
            current_user_id(),
            from_site_id=form.from_site_id.data,
            to_site_id=form.to_site_id.data,
            item_id=item.id,
            quantity=form.quantity.data,
            note=form.note.data or "",
            occurred_at=form.occurred_at_utc(_timezone()),
            best_before=form.best_before.data,
        )
        what = _(
            "%(quantity)s %(item)s moved from %(source)s to %(target)s",
            quantity=into.quantity,
            item=item.label,
            source=out.site.name,
            target=into.site.name,
        )
        return _recorded([out.id, into.id], what)

    return _handle(form, "transfer", action, "stock/transfer.html", sites, "from_site_id")


@bp.route("/stocktake", methods=["GET", "POST"])
@requires("record_movements")
def stocktake() -> str | Response:
    form = StocktakeForm()
    sites = _offer_sites(form, "site_id")
    if request.method == "GET":
        _fill_shelf(form)

    def action() -> dict[str, Any]:
        item = item_from_label(form.item.data)
        movement = ledger.adjust(
            current_org_id(),
            current_user_id(),
            site_id=form.site_id.data,
            item_id=item.id,
            counted=form.counted.data,
            reason=form.reason.data,
            occurred_at=form.occurred_at_utc(_timezone()),
        )
        site = next(s for s in sites if s.id == form.site_id.data)
        if movement is None:
            message = _(
                "Count matches the records for %(item)s: nothing to change.", item=item.label
            )
        else:
            message = _(
                "Counted %(counted)s %(item)s: corrected by %(delta)+d.",
                counted=form.counted.data,
                item=item.label,
                delta=movement.quantity,
            )
        what = _(
            "a count of %(counted)s %(item)s at %(site)s",
            counted=form.counted.data,
            item=item.label,
            site=site.name,
        )
        return {
            "movement_ids": [movement.id] if movement else [],
            "message": message,
            "summary": what,
        }

    return _handle(form, "stocktake", action, "stock/stocktake.html", sites, "site_id")


@bp.route("/loss", methods=["GET", "POST"])
@requires("record_movements")
def loss() -> str | Response:
    form = LossForm()
    sites = _offer_sites(form, "site_id")
    if request.method == "GET":
        _fill_loss(form)

    def action() -> dict[str, Any]:
        item = item_from_label(form.item.data)
        movement = ledger.record_loss(
            current_org_id(),
            current_user_id(),
            site_id=form.site_id.data,
            item_id=item.id,
            quantity=form.quantity.data,
            reason=form.reason_written(),
            occurred_at=form.occurred_at_utc(_timezone()),
            best_before=form.best_before.data,
        )
        what = _(
            "%(quantity)s %(item)s written off at %(site)s",
            quantity=-movement.quantity,
            item=item.label,
            site=movement.site.name,
        )
        return _recorded([movement.id], what)

    return _handle(form, "loss", action, "stock/loss.html", sites, "site_id")


@bp.route("/movements/<int:movement_id>/reverse", methods=["GET", "POST"])
@requires("reverse_movements")
def reverse(movement_id: int) -> str | Response:
    org_id = current_org_id()
    movement = or_404(ledger.get_movement, org_id, movement_id)
    form = ReverseForm()
    if form.validate_on_submit():

        def action() -> dict[str, Any]:
            reversals = ledger.reverse(org_id, current_user_id(), movement.id, form.reason.data)
            return {
                "movement_ids": [r.id for r in reversals],
                "message": _("Movement %(id)s reversed.", id=movement.id),
            }

        if submit_once(form, "reverse", action) is not None:
            return redirect(url_for("stock.item_history", item_id=movement.item_id))
    already = stock.reversed_ids([movement.id])
    return render_template(
        "stock/reverse.html", form=form, movement=movement, already_reversed=bool(already)
    )


def _handle(
    form: Any, kind: str, action: Any, template: str, sites: list[Site], site_field: str
) -> str | Response:
    """Validate, record once (remembering the site), and either add another or go on."""

    def record() -> dict[str, Any]:
        result = action()
        site_id = getattr(form, site_field).data
        accounts.remember_site(current_org_id(), current_user_id(), site_id)
        return result

    if form.validate_on_submit() and submit_once(form, kind, record) is not None:
        if form.save_and_add.data:
            return redirect(url_for(request.endpoint))
        return redirect(url_for("stock.overview"))
    return render_template(template, form=form, sites=sites)


def _recorded(movement_ids: list[int], what: str, message: str | None = None) -> dict[str, Any]:
    """Return what a form stores for its token: the movements, and what was recorded.

    The summary ("40 Sleeping bag received at Main warehouse") answers a replay too.
    """
    return {
        "movement_ids": movement_ids,
        "message": message or _("Recorded %(what)s.", what=what),
        "summary": what,
    }


def _offer_sites(form: Any, *fields: str) -> list[Site]:
    """Offer the active sites; the first field starts at the member's last or main site."""
    sites = catalogue.list_sites(current_org_id())
    options = choices((s.id, s.name) for s in sites)
    for name in fields:
        getattr(form, name).choices = options
    if request.method == "GET":
        getattr(form, fields[0]).data = start_site_id(sites)
    return sites


def _offer_pledges(form: ReceiveForm) -> None:
    """Offer the open pledges a donation may fulfil; a link's ?pledge_id= fills the form in.

    A pledge's own item's pledges when one is named, else those expected around today.
    """
    org_id = current_org_id()
    named = query_id("pledge_id", pledges.get_pledge) if request.method == "GET" else None
    sent = form.pledge_id.data
    wanted = pledges.get_pledge(org_id, named) if named is not None else None
    if wanted is not None and wanted.status == "open":
        offered = pledges.open_for_item(org_id, wanted.item_id)
        form.item.data = wanted.item.label
        form.quantity.data = wanted.quantity
        form.kind.data = "donation"
        form.pledge_id.data = wanted.id
    else:
        today = distributions.local_today(org_id)
        offered = pledges.expected(
            org_id,
            today - timedelta(days=pledges.LAPSE_DAYS),
            today + timedelta(days=PLEDGES_AHEAD_DAYS),
        )
    if sent is not None and all(p.id != sent for p in offered):
        # The one sent stays shown as chosen; saving checks it is open and of this item.
        with suppress(NotFound):
            offered = [pledges.get_pledge(org_id, sent), *offered]
    form.pledge_id.choices = choices(
        [("", _("None")), *((p.id, _pledge_label(p)) for p in offered)]
    )


def _pledge_label(pledge: Pledge) -> str:
    """Name a pledge in a list: "20 Sleeping bag · Sat 5 Dec"."""
    return _(
        "%(quantity)s %(item)s · %(day)s",
        quantity=i18n.number(pledge.quantity),
        item=pledge.item.label,
        day=i18n.when(pledge.expected_on, "day"),
    )


def _fill_shelf(form: ReceiveForm | StocktakeForm | LossForm) -> None:
    """Fill the item and site from a shelf label's link (?item_id=&site_id=); ignore the rest."""
    item_id = query_whole("item_id")
    if item_id is not None:
        with suppress(NotFound):
            item = ledger.get_item(current_org_id(), item_id)
            if item.active:
                form.item.data = item.label
                if isinstance(form, ReceiveForm):
                    form.best_before_first = item.dated
    # The choices are the organisation's own active sites: any other id is left out.
    site_id = query_whole("site_id")
    if site_id in {choice.value for choice in form.site_id.choices}:
        form.site_id.data = site_id


def _fill_loss(form: LossForm) -> None:
    """Fill a write-off from a link: the shelf, and an expired lot's date and reason."""
    _fill_shelf(form)
    if request.args.get("reason") in {choice.value for choice in form.reason.choices}:
        form.reason.data = request.args["reason"]
    with suppress(ValueError, TypeError):
        form.best_before.data = date.fromisoformat(request.args.get("best_before") or "")


def _fill_from_link(form: TransferForm) -> None:
    """Fill the transfer form from a suggested transfer's link; ignore what is not ours."""
    asked = {name: query_whole(name) for name in TRANSFER_LINK_IDS}
    if asked["item_id"] is not None:
        try:
            item = ledger.get_item(current_org_id(), asked["item_id"])
        except NotFound:
            item = None
        if item is not None and item.active:
            form.item.data = item.label
    # The choices are the organisation's own active sites: any other id is left out.
    offered = {choice.value for choice in form.from_site_id.choices}
    for name in ("from_site_id", "to_site_id"):
        if asked[name] in offered:
            getattr(form, name).data = asked[name]
    if asked["quantity"] is not None and 1 <= asked["quantity"] <= limits.MAX_QUANTITY:
        form.quantity.data = asked["quantity"]


def _timezone() -> str:
    membership = current_membership()
    return membership.organisation.timezone if membership else "Europe/Paris"
