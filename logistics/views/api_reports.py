"""The JSON API's report endpoints (API.md): make a PDF, read it back, donor share links.

The routes join the api blueprint, so tokens, roles, errors and request tokens work as there.
Which kinds a token may make or read is reports.kinds_for, as on the pages. A share link's
address is answered once: the stored replay keeps only its id, never the token.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, jsonify, url_for

from ..errors import json_error
from ..extensions import db
from ..models import REPORT_KINDS, Report, ShareLink
from ..scheduler import wake
from ..services import reports
from ..services.distributions import local_today
from ..services.errors import NotFound
from ..services.reports import EARLIEST_DAY, LATEST_DAY, kinds_for
from .api import (
    ApiResponse,
    ApiResult,
    Fields,
    _json_body,
    _membership,
    _once,
    _org_id,
    _possible_id,
    _time,
    _user_id,
    allowed,
    bp,
)
from .reports import _send_pdf, reports_dir, share_url

# What else each kind reads besides its kind; anything more is refused, not silently dropped.
KIND_FIELDS = {
    "shortfall": ("from", "to"),
    "evidence": ("from", "to"),
    "stocktake": ("site_id",),
    "run_sheet": ("distribution_id",),
    "kitchen": ("from",),
}
OPTIONAL_FIELDS = ("from", "to", "site_id", "distribution_id")


def report_json(report: Report) -> dict[str, Any]:
    """Return a report's metadata and state; once ready, the PDF is at pdf_url."""
    return {
        "id": report.id,
        "kind": report.kind,
        "title": report.title,
        "period_start": report.period_start.isoformat() if report.period_start else None,
        "period_end": report.period_end.isoformat() if report.period_end else None,
        "sha256": report.sha256,
        "size_bytes": report.size_bytes,
        "created_at": _time(report.created_at),
        "created_by_id": report.created_by_id,
        # queued, running (pages so far), ready (pdf_url) or failed (failure says why)
        "status": report.status,
        "pages": report.pages,
        "failure": report.failure,
        "pdf_url": url_for("api.report_pdf", report_id=report.id) if report.ready else None,
    }


def share_link_json(link: ShareLink) -> dict[str, Any]:
    """Return a share link without its address (only its hash is kept)."""
    return {
        "id": link.id,
        "label": link.label,
        "created_at": _time(link.created_at),
        "expires_at": _time(link.expires_at),
        "revoked_at": _time(link.revoked_at) if link.revoked_at else None,
    }


def _readable(report_id: int) -> Report:
    """Return a report of the token's organisation of a kind its role may read, or 404."""
    report = reports.get_report(_org_id(), _possible_id(report_id))
    if report.kind not in kinds_for(_membership().role):
        raise NotFound("No such report.")
    return report


# --- reports ----------------------------------------------------------------------------------


@bp.get("/reports")
@allowed("view_reports")
def list_reports() -> Response:
    rows = reports.list_reports(_org_id(), kinds_for(_membership().role))
    return jsonify({"reports": [report_json(report) for report in rows]})


@bp.post("/reports")
@allowed("generate_reports")
def create_report() -> ApiResponse:
    data = _json_body()
    fields = Fields(data)
    kind = fields.text("kind", required=True, limit=20)
    values = {
        "first": fields.day("from"),
        "last": fields.day("to"),
        "site_id": fields.ident("site_id", required=False),
        "distribution_id": fields.ident("distribution_id", required=False),
    }
    for name, key in (("from", "first"), ("to", "last")):
        day = values[key]
        if day is not None and not EARLIEST_DAY <= day <= LATEST_DAY:
            fields.invalid[name] = f"from {EARLIEST_DAY} to {LATEST_DAY}"
    if kind and kind not in REPORT_KINDS:
        fields.invalid["kind"] = f"one of {', '.join(REPORT_KINDS)}"
    elif kind:
        for name in OPTIONAL_FIELDS:
            if data.get(name) is not None and name not in KIND_FIELDS[kind]:
                fields.invalid[name] = f"not used by a {kind} report"
    fields.check()
    role = _membership().role
    if kind not in kinds_for(role):
        return json_error(403, f"Your role ({role}) may not make {kind} reports.")
    org_id = _org_id()
    report_request = reports.build_request(kind, local_today(org_id), **values)

    def produce() -> ApiResult:
        report = reports.submit(org_id, _user_id(), report_request, reports_dir())
        # A long report is queued: 202, and its state is read back at GET /reports/<id>.
        return report_json(report), 201 if report.ready else 202

    response, status = _once("api_report_create", data, produce)
    if status == 202:
        wake(current_app, "make-reports")  # with `make run`: now, not at the next turn
    return response, status


@bp.get("/reports/<int:report_id>")
@allowed("view_reports")
def show_report(report_id: int) -> Response:
    return jsonify(report_json(_readable(report_id)))


@bp.get("/reports/<int:report_id>.pdf")
@allowed("view_reports")
def report_pdf(report_id: int) -> Response:
    # An altered or missing archived file is a 409 here, never served.
    return _send_pdf(_readable(report_id))


# --- share links ------------------------------------------------------------------------------


@bp.post("/share-links")
@allowed("manage_share_links")
def create_share_link() -> ApiResponse:
    data = _json_body()
    fields = Fields(data)
    label = fields.text("label", limit=120)
    days = fields.whole("days", low=1, high=366)
    fields.check()
    created: dict[str, str] = {}

    def produce() -> ApiResult:
        link, token = reports.create_share_link(
            _org_id(), _user_id(), label=label, days=reports.SHARE_DAYS if days is None else days
        )
        created["url"] = share_url(token)
        return share_link_json(link), 201

    response, status = _once("api_share_link_create", data, produce)
    if not created:
        return response, status  # a replay: the address was answered the first time only
    body = response.get_json() | {"url": created["url"]}
    answer = jsonify(body)
    answer.headers["Cache-Control"] = "no-store"
    return answer, status


@bp.delete("/share-links/<int:share_link_id>")
@allowed("manage_share_links")
def revoke_share_link(share_link_id: int) -> tuple[str, int]:
    reports.revoke_share_link(_org_id(), _possible_id(share_link_id))
    db.session.commit()
    return "", 204
