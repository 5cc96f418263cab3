"""CSV page: download stock and the ledger; import a delivery or a stocktake after a preview."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _

from ..auth import current_org_id, current_role, current_user_id, requires
from ..forms.common import choices
from ..forms.csv_io import ConfirmImportForm, ImportForm, LedgerExportForm, StockExportForm
from ..models import Site
from ..permissions import can
from ..services import catalogue, csv_io, submissions
from ..services.errors import ValidationError
from ._submit import start_site_id, submit_once

bp = Blueprint("csv_io", __name__)

CSV_MIMETYPE = "text/csv"


@bp.route("/csv")
@requires("view_stock")
def index() -> str:
    role = current_role()
    if not (can(role, "export_csv") or can(role, "record_movements")):
        abort(403)
    return _index_page()


@bp.route("/csv/stock.csv")
@requires("export_csv")
def export_stock() -> Response | tuple[str, int]:
    org_id = current_org_id()
    form = StockExportForm(formdata=request.args)
    _offer_sites(form, everywhere=True)
    if not form.validate():
        return _index_page(stock_form=form), 422
    site_id = form.site_id.data
    body = csv_io.stock_csv(org_id, site_id=site_id)
    filename = csv_io.export_filename(org_id, "stock", site_id=site_id)
    return _csv_response(body, filename)


@bp.route("/csv/ledger.csv")
@requires("export_csv")
def export_ledger() -> Response | tuple[str, int]:
    org_id = current_org_id()
    form = LedgerExportForm(formdata=request.args)
    _offer_sites(form, everywhere=True)
    if not form.validate():
        return _index_page(ledger_form=form), 422
    filters = {
        "site_id": form.site_id.data,
        "from_date": form.from_date.data,
        "to_date": form.to_date.data,
    }
    try:
        chunks = csv_io.ledger_csv(org_id, **filters)
    except ValidationError as refusal:
        form.form_errors.append(refusal.message)
        return _index_page(ledger_form=form), 422
    filename = csv_io.export_filename(org_id, "ledger", **filters)
    # Streamed page by page: a ledger of a million movements never sits in memory.
    return _csv_response(stream_with_context(chunks), filename)


@bp.route("/csv/import", methods=["POST"])
@requires("record_movements")
def preview() -> str | tuple[str, int]:
    org_id = current_org_id()
    form = ImportForm()
    _offer_sites(form)
    if not form.validate_on_submit():
        return _index_page(import_form=form), 422
    content = csv_io.read_upload(form.file.data.stream)
    plan = csv_io.plan_import(org_id, content, mode=form.mode.data, site_id=form.site_id.data)
    confirm = ConfirmImportForm(
        formdata=None,
        data={
            "content": plan.packed,
            "mode": plan.mode,
            "site_id": plan.site.id,
            "kind": form.kind.data,
            "source": (form.source.data or "").strip(),
            "reason": (form.reason.data or "").strip(),
        },
    )
    # Keep the upload's token so a double click on Confirm records once; a page brought
    # back after an earlier import gets a new one, or its file would never be saved.
    confirm.request_token.data = submissions.fresh_if_used(org_id, form.request_token.data)
    return render_template("csv_io/preview.html", plan=plan, form=confirm)


@bp.route("/csv/import/confirm", methods=["POST"])
@requires("record_movements")
def confirm() -> Any:
    org_id = current_org_id()
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        import_form = ImportForm(formdata=None)
        sites = _offer_sites(import_form)
        import_form.site_id.data = start_site_id(sites)
        import_form.form_errors.append(_("The preview was incomplete. Upload the file again."))
        return _index_page(import_form=import_form), 400
    # Never trust the preview: read the file again and check every row afresh.
    content = csv_io.unpack(form.content.data)
    plan = csv_io.plan_import(org_id, content, mode=form.mode.data, site_id=form.site_id.data)
    if plan.ok:

        def action() -> dict[str, Any]:
            movements = csv_io.write_import(
                org_id,
                current_user_id(),
                plan,
                kind=form.kind.data,
                source=form.source.data or "",
                reason=form.reason.data or "",
            )
            return {"movement_ids": [m.id for m in movements], "message": _summary(plan)}

        if submit_once(form, "csv_import", action) is not None:
            return redirect(url_for("stock.overview", site_id=plan.site.id))
    return render_template("csv_io/preview.html", plan=plan, form=form), 422


def _summary(plan: csv_io.ImportPlan) -> str:
    if plan.mode == "delivery":
        return _(
            "Imported %(rows)s rows: %(total)s items received at %(site)s.",
            rows=len(plan.rows),
            total=plan.total,
            site=plan.site.name,
        )
    return _(
        "Stocktake of %(rows)s rows at %(site)s saved: %(changes)s levels corrected.",
        rows=len(plan.rows),
        site=plan.site.name,
        changes=plan.changes,
    )


def _index_page(
    *,
    stock_form: StockExportForm | None = None,
    ledger_form: LedgerExportForm | None = None,
    import_form: ImportForm | None = None,
) -> str:
    """Render the CSV page, keeping whichever form was just sent with its errors."""
    if stock_form is None:
        stock_form = StockExportForm(formdata=None)
        _offer_sites(stock_form, everywhere=True)
    if ledger_form is None:
        ledger_form = LedgerExportForm(formdata=None)
        _offer_sites(ledger_form, everywhere=True)
    if import_form is None:
        import_form = ImportForm(formdata=None)
        sites = _offer_sites(import_form)
        import_form.site_id.data = start_site_id(sites)
    return render_template(
        "csv_io/index.html",
        stock_form=stock_form,
        ledger_form=ledger_form,
        import_form=import_form,
        max_rows=csv_io.MAX_IMPORT_ROWS,
    )


def _offer_sites(form: Any, everywhere: bool = False) -> list[Site]:
    """Fill the site choices: exports may pick retired sites or all sites, imports one active."""
    sites = catalogue.list_sites(current_org_id(), include_retired=everywhere)
    options: list[tuple[Any, str]] = [(s.id, s.name) for s in sites]
    if everywhere:
        options.insert(0, ("", _("All sites")))
    form.site_id.choices = choices(options)
    return sites


def _csv_response(body: Any, filename: str) -> Response:
    response = Response(body, mimetype=CSV_MIMETYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Exports hold the whole ledger: no shared cache keeps a copy.
    response.headers["Cache-Control"] = "no-store"
    return response
