"""Labels with QR codes, the shelf page a label opens, and boxes: make, move, empty."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from .. import i18n, wording
from ..auth import current_org_id, current_role, current_user_id, requires
from ..forms.common import choices
from ..forms.labels import BoxForm, EmptyBoxForm, LabelsForm, MoveBoxForm
from ..models import Box, Site
from ..pdf.labels import Label, render_labels
from ..permissions import can
from ..services import catalogue, ledger, lots
from ..services import labels as boxes
from ..services.distributions import local_today
from ..services.errors import ServiceError
from ._submit import item_from_label, or_404, query_whole, show_refusal, start_site_id, submit_once
from .auth import absolute_url

bp = Blueprint("labels", __name__)


@dataclass(frozen=True)
class Action:
    """A big button of the shelf page: what it says and the form it opens, filled in."""

    label: str
    url: str


# --- printing ----------------------------------------------------------------------------------


@bp.route("/labels")
@requires("record_movements")
def index() -> str:
    """Offer a site's shelf labels to print: the site, the items, A4 or the label printer."""
    form = LabelsForm(formdata=None)
    sites = _offer_labels(form)
    asked = query_whole("site_id")
    form.site_id.data = asked if asked in _ids(sites) else start_site_id(sites)
    return _labels_page(form, sites)


@bp.route("/labels.pdf")
@requires("record_movements")
def sheet() -> str | Response:
    """Send the shelf labels asked for as a PDF; a wrong choice comes back to the form."""
    form = LabelsForm(formdata=request.args)
    sites = _offer_labels(form)
    if form.validate():
        try:
            shelves = boxes.shelf_labels(current_org_id(), form.site_id.data, form.item_id.data)
        except ServiceError as refusal:
            show_refusal(form, refusal)
        else:
            site = shelves[0].site
            return pdf_answer(
                render_labels(
                    [shelf_label(shelf.site, shelf.item) for shelf in shelves],
                    form.format.data,
                    _("Shelf labels: %(site)s", site=site.name),
                ),
                f"labels-{site.id}.pdf",
            )
    return _labels_page(form, sites)


def shelf_label(site: Site, item: Any) -> Label:
    """Return a shelf's label; its QR code opens the shelf page."""
    url = absolute_url("labels.shelf", site_id=site.id, item_id=item.id)
    return Label(item=item.label, site=site.name, url=url)


def box_label(box: Box) -> Label:
    """Return a box's label: its code and contents; its QR code opens the box page."""
    return Label(
        item=box.item.label,
        site=box.site.name,
        url=absolute_url("labels.box", box_id=box.id),
        code=box.code,
        quantity=_quantity(box),
    )


def pdf_answer(data: bytes, name: str) -> Response:
    """Answer a PDF to open in the browser's viewer or print; never kept by a cache."""
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- the page a label opens --------------------------------------------------------------------


@bp.route("/shelf/<int:site_id>/<int:item_id>")
@requires("view_stock")
def shelf(site_id: int, item_id: int) -> str:
    """Show a shelf: the item, the site, what it holds now, and big buttons to act on it."""
    org_id = current_org_id()
    site = or_404(ledger.get_site, org_id, site_id)
    item = or_404(ledger.get_item, org_id, item_id)
    held = ledger.held(site.id, item.id)
    return render_template(
        "labels/shelf.html",
        site=site,
        item=item,
        held=held,
        unit=wording.unit_word(held, item.unit),
        boxes=boxes.boxes_at(org_id, site.id, item.id),
        held_lots=lots.held_lots(site.id, item.id) if item.dated else [],
        today=local_today(org_id),
        actions=_shelf_actions(site, item),
        may_box=_may("record_movements"),
    )


def _shelf_actions(site: Site, item: Any) -> list[Action]:
    """Return the buttons this member may use, each opening its form filled in for the shelf."""
    offered = [
        (
            "record_movements",
            _("Count"),
            url_for("stock.stocktake", item_id=item.id, site_id=site.id),
        ),
        (
            "record_hand_outs",
            _("Give out"),
            url_for("distributions.give_out", item_id=item.id, source_site_id=site.id),
        ),
        (
            "record_movements",
            _("Move"),
            url_for("stock.transfer", item_id=item.id, from_site_id=site.id),
        ),
        (
            "record_movements",
            _("Receive"),
            url_for("stock.receive", item_id=item.id, site_id=site.id),
        ),
    ]
    return [Action(label, url) for capability, label, url in offered if _may(capability)]


# --- boxes -------------------------------------------------------------------------------------


@bp.route("/boxes/new", methods=["GET", "POST"])
@requires("record_movements")
def new_box() -> str | BaseResponse:
    """Label a new box of an item a site holds."""
    org_id = current_org_id()
    form = BoxForm()
    sites = catalogue.list_sites(org_id)
    form.site_id.choices = choices((s.id, s.name) for s in sites)
    if request.method == "GET":
        asked = query_whole("site_id")
        form.site_id.data = asked if asked in _ids(sites) else start_site_id(sites)
        item_id = query_whole("item_id")
        if item_id is not None:
            item = next((i for i in catalogue.list_items(org_id) if i.id == item_id), None)
            form.item.data = item.label if item is not None else None
    if form.validate_on_submit():

        def action() -> dict[str, Any]:
            item = item_from_label(form.item.data)
            box = boxes.create_box(
                org_id,
                current_user_id(),
                site_id=form.site_id.data,
                item_id=item.id,
                quantity=form.quantity.data,
                code=form.code.data or "",
            )
            what = _(
                "box %(code)s: %(quantity)s at %(site)s",
                code=box.code,
                quantity=_quantity(box),
                site=box.site.name,
            )
            return {
                "box_id": box.id,
                "message": _("Recorded %(what)s. Print its label below.", what=what),
                "summary": what,
            }

        result = submit_once(form, "box_create", action)
        if result is not None:
            return redirect(url_for(".box", box_id=result["box_id"]))
    return render_template("labels/new_box.html", form=form, sites=sites)


@bp.route("/box/<int:box_id>")
@requires("view_stock")
def box(box_id: int) -> str:
    """Show a box: what it holds and where; move it or mark it empty."""
    found = or_404(boxes.get_box, current_org_id(), box_id)
    return _box_page(found, MoveBoxForm(formdata=None), EmptyBoxForm(formdata=None))


@bp.route("/box/<int:box_id>/move", methods=["POST"])
@requires("record_movements")
def move_box(box_id: int) -> str | BaseResponse:
    """Move a box to another site: its quantity goes through the ledger as a transfer."""
    org_id = current_org_id()
    found = or_404(boxes.get_box, org_id, box_id)
    form = MoveBoxForm()
    _offer_destinations(form, found)
    if form.validate_on_submit():

        def action() -> dict[str, Any]:
            moved_from = found.site.name
            moved = boxes.move_box(org_id, current_user_id(), found.id, form.to_site_id.data)
            what = _(
                "box %(code)s moved from %(source)s to %(target)s",
                code=moved.code,
                source=moved_from,
                target=moved.site.name,
            )
            return {
                "box_id": moved.id,
                "message": _("Recorded %(what)s.", what=what),
                "summary": what,
            }

        if submit_once(form, "box_move", action) is not None:
            return redirect(url_for(".box", box_id=found.id))
    return _box_page(found, form, EmptyBoxForm(formdata=None))


@bp.route("/box/<int:box_id>/empty", methods=["POST"])
@requires("record_movements")
def empty_box(box_id: int) -> str | BaseResponse:
    """Mark a box emptied; what it held stays on the site's shelf."""
    org_id = current_org_id()
    found = or_404(boxes.get_box, org_id, box_id)
    form = EmptyBoxForm()
    if form.validate_on_submit():

        def action() -> dict[str, Any]:
            emptied = boxes.empty_box(org_id, found.id)
            what = _("box %(code)s emptied", code=emptied.code)
            return {
                "box_id": emptied.id,
                "message": _("Recorded %(what)s.", what=what),
                "summary": what,
            }

        if submit_once(form, "box_empty", action) is not None:
            return redirect(url_for(".box", box_id=found.id))
    return _box_page(found, MoveBoxForm(formdata=None), form)


@bp.route("/box/<int:box_id>/label.pdf")
@requires("record_movements")
def box_label_pdf(box_id: int) -> Response:
    """Send a box's label: on the label printer's roll unless ?format=a4."""
    found = or_404(boxes.get_box, current_org_id(), box_id)
    page_format = "a4" if request.args.get("format") == "a4" else "62mm"
    title = _("Box %(code)s", code=found.code)
    return pdf_answer(render_labels([box_label(found)], page_format, title), f"{found.code}.pdf")


# --- helpers -----------------------------------------------------------------------------------


def _may(capability: str) -> bool:
    return can(current_role(), capability)


def _ids(sites: list[Site]) -> set[int]:
    return {site.id for site in sites}


def _quantity(box: Box) -> str:
    """Say a box's contents: "20 pieces"."""
    return f"{i18n.number(box.quantity)} {wording.unit_word(box.quantity, box.item.unit)}".strip()


def _offer_labels(form: LabelsForm) -> list[Site]:
    """Offer the active sites and items to print labels for."""
    org_id = current_org_id()
    sites = catalogue.list_sites(org_id)
    form.site_id.choices = choices((s.id, s.name) for s in sites)
    form.item_id.choices = choices((i.id, i.label) for i in catalogue.list_items(org_id))
    return sites


def _labels_page(form: LabelsForm, sites: list[Site]) -> str:
    return render_template("labels/index.html", form=form, sites=sites)


def _offer_destinations(form: MoveBoxForm, found: Box) -> list[Site]:
    """Show every active site but the one the box is at; return those shown.

    Its own site stays a valid choice: a move sent again once the box has left must reach
    its request token's stored answer, and a move to where it is gets the ledger's message.
    """
    sites = catalogue.list_sites(current_org_id())
    form.to_site_id.choices = choices((s.id, s.name) for s in sites)
    return [s for s in sites if s.id != found.site_id]


def _box_page(found: Box, move_form: MoveBoxForm, empty_form: EmptyBoxForm) -> str:
    destinations = _offer_destinations(move_form, found)
    return render_template(
        "labels/box.html",
        box=found,
        quantity=_quantity(found),
        move_form=move_form,
        empty_form=empty_form,
        destinations=destinations,
        may_change=_may("record_movements") and found.emptied_at is None,
        may_print=_may("record_movements"),
    )
