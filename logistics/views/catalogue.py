"""Catalogue pages: the items and sites of an organisation, and changes to them."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from ..auth import current_org_id, current_role, requires
from ..extensions import db
from ..forms.catalogue import ConfirmForm, ItemForm, SiteForm
from ..labels import CATEGORY_LABELS
from ..models import CATEGORIES, Item, Site
from ..permissions import can
from ..services import catalogue, ledger
from ..services.errors import NotFound
from ._submit import or_404, query_whole, submit_once

bp = Blueprint("catalogue", __name__)


@bp.route("/items")
@requires("view_stock")
def items() -> str:
    category = request.args.get("category") or None
    if category not in CATEGORIES:
        category = None
    show_retired = request.args.get("retired") == "1"
    page = catalogue.items_page(
        current_org_id(),
        include_retired=show_retired,
        category=category,
        page=query_whole("page") or 1,
    )
    return render_template(
        "catalogue/items.html",
        items=page.rows,
        page=page,
        category=category,
        show_retired=show_retired,
        categories=CATEGORY_LABELS,
    )


@bp.route("/items/new", methods=["GET", "POST"])
@requires("manage_catalogue")
def new_item() -> str | Response:
    form = ItemForm()
    if request.method == "GET":
        like = request.args.get("like", type=int)
        # A "like" that cannot name an item is ignored, not refused: it only pre-fills the form.
        _copy_but_size(form, like if like is not None and 0 < like < 2**31 else None)
    if form.validate_on_submit():

        def action() -> dict[str, Any]:
            item = catalogue.save_item(current_org_id(), form.values())
            return {"item_id": item.id, "message": _("Added %(item)s.", item=item.label)}

        result = submit_once(form, "item_create", action)
        if result is not None:
            if form.save_and_add.data:
                return redirect(url_for("catalogue.new_item", like=result["item_id"]))
            return redirect(url_for("catalogue.items"))
    return render_template("catalogue/item_form.html", form=form, item=None)


@bp.route("/items/<int:item_id>/edit", methods=["GET", "POST"])
@requires("manage_catalogue")
def edit_item(item_id: int) -> str | Response:
    item = or_404(ledger.get_item, current_org_id(), item_id)
    form = ItemForm(obj=item)
    if form.validate_on_submit():

        def action() -> dict[str, Any]:
            saved = catalogue.save_item(current_org_id(), form.values(), item_id=item.id)
            return {"item_id": saved.id, "message": _("Saved %(item)s.", item=saved.label)}

        if submit_once(form, "item_edit", action) is not None:
            return redirect(url_for("catalogue.items", retired="1" if not item.active else None))
    return render_template("catalogue/item_form.html", form=form, item=item)


@bp.route("/items/<int:item_id>/retire", methods=["POST"])
@requires("manage_catalogue")
def retire_item(item_id: int) -> Response:
    return _set_item_active(item_id, False)


@bp.route("/items/<int:item_id>/restore", methods=["POST"])
@requires("manage_catalogue")
def restore_item(item_id: int) -> Response:
    return _set_item_active(item_id, True)


@bp.route("/sites")
@requires("view_stock")
def sites() -> str:
    show_retired = request.args.get("retired") == "1"
    page = catalogue.sites_page(
        current_org_id(), include_retired=show_retired, page=query_whole("page") or 1
    )
    return render_template(
        "catalogue/sites.html",
        sites=page.rows,
        page=page,
        show_retired=show_retired,
        show_details=can(current_role(), "view_site_details"),
    )


@bp.route("/sites/new", methods=["GET", "POST"])
@requires("manage_catalogue")
def new_site() -> str | Response:
    form = _site_form(None)
    if form.validate_on_submit():

        def action() -> dict[str, Any]:
            site = catalogue.save_site(current_org_id(), _site_values(form, None))
            return {"site_id": site.id, "message": _("Added %(site)s.", site=site.name)}

        if submit_once(form, "site_create", action) is not None:
            return redirect(url_for("catalogue.sites"))
    return render_template("catalogue/site_form.html", form=form, site=None)


@bp.route("/sites/<int:site_id>/edit", methods=["GET", "POST"])
@requires("manage_catalogue")
def edit_site(site_id: int) -> str | Response:
    site = or_404(ledger.get_site, current_org_id(), site_id)
    form = _site_form(site)
    if form.validate_on_submit():

        def action() -> dict[str, Any]:
            saved = catalogue.save_site(current_org_id(), _site_values(form, site), site_id=site.id)
            return {"site_id": saved.id, "message": _("Saved %(site)s.", site=saved.name)}

        if submit_once(form, "site_edit", action) is not None:
            return redirect(url_for("catalogue.sites", retired="1" if not site.active else None))
    return render_template("catalogue/site_form.html", form=form, site=site)


@bp.route("/sites/<int:site_id>/retire", methods=["POST"])
@requires("manage_catalogue")
def retire_site(site_id: int) -> Response:
    return _set_site_active(site_id, False)


@bp.route("/sites/<int:site_id>/restore", methods=["POST"])
@requires("manage_catalogue")
def restore_site(site_id: int) -> Response:
    return _set_site_active(site_id, True)


def _set_item_active(item_id: int, active: bool) -> Response:
    """Retire or bring back an item, then show the list it now belongs to."""
    _confirmed()
    item: Item = or_404(catalogue.set_item_active, current_org_id(), item_id, active)
    db.session.commit()
    if active:
        flash(_("%(item)s is back in the lists.", item=item.label))
    else:
        flash(_("%(item)s is retired; its history is kept.", item=item.label))
    return redirect(url_for("catalogue.items", retired=None if active else "1"), 303)


def _set_site_active(site_id: int, active: bool) -> Response:
    """Retire or bring back a site, then show the list it now belongs to."""
    _confirmed()
    site: Site = or_404(catalogue.set_site_active, current_org_id(), site_id, active)
    db.session.commit()
    if active:
        flash(_("%(site)s is back in the lists.", site=site.name), "success")
    else:
        flash(_("%(site)s is retired; its history is kept.", site=site.name), "success")
    return redirect(url_for("catalogue.sites", retired=None if active else "1"), 303)


def _site_form(site: Site | None) -> SiteForm:
    """Build the site form; without view_site_details it has no details field at all."""
    form = SiteForm(obj=site)
    if not can(current_role(), "view_site_details"):
        del form.details
    return form


def _site_values(form: SiteForm, site: Site | None) -> dict[str, Any]:
    """Return the service's values; a hidden details field keeps what is recorded."""
    details = form.details.data if "details" in form else (site.details if site else "")
    return {
        "name": form.name.data,
        "kind": form.kind.data,
        "area": form.area.data,
        "details": details,
        # Unticked on a new site leaves the rule: an organisation's first warehouse is main.
        "main": True if form.main.data else (None if site is None else False),
    }


def _copy_but_size(form: ItemForm, like_id: int | None) -> None:
    """Prefill a new item from another of the organisation, for its next size."""
    if like_id is None:
        return
    try:
        like = ledger.get_item(current_org_id(), like_id)
    except NotFound:
        return
    form.process(obj=like)  # the request token is not on the item, so it stays fresh
    form.size.data = ""


def _confirmed() -> None:
    """Refuse a post whose form does not validate (CSRF)."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
