"""Reports (API.md): make a PDF, follow it while queued, read it back; donor share links.

Which kinds a token may make or read is reports.kinds_for, as on the pages. A share link's
address is answered once: the stored replay keeps only its id, never the token.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from flask import Response, current_app, url_for
from pydantic import Field, model_validator

from ... import limits
from ...errors import json_error
from ...extensions import db
from ...i18n import LANGUAGES
from ...models import REPORT_KINDS
from ...models import Report as ReportRow
from ...models import ShareLink as ShareLinkRow
from ...scheduler import wake
from ...services import donors, reports
from ...services.distributions import local_today
from ...services.errors import NotFound, ValidationError
from ...services.reports import kinds_for
from ..reports import reports_dir, send_pdf, share_url
from .common import (
    CalendarDay,
    Id,
    LocalTime,
    Once,
    Out,
    bp,
    current_membership,
    current_org_id,
    current_user_id,
    dump,
    once,
    operation,
    text,
    whole,
)

# What else each kind reads besides its kind; anything more is refused, not silently dropped.
KIND_FIELDS = {
    "shortfall": ("from", "to"),
    "evidence": ("from", "to"),
    "stocktake": ("site_id",),
    "run_sheet": ("distribution_id",),
    "kitchen": ("from",),
}

# --- what goes in -----------------------------------------------------------------------------


class ReportInput(Once):
    """A report to make: its kind and what that kind reads (a period, a site, a distribution)."""

    kind: Literal[REPORT_KINDS]
    from_: CalendarDay | None = Field(None, alias="from")
    to: CalendarDay | None = None
    site_id: Id | None = None
    distribution_id: Id | None = None
    # The language of the PDF; left out, the organisation's.
    locale: Literal[LANGUAGES] | None = None

    @model_validator(mode="after")
    def _what_the_kind_reads(self) -> ReportInput:
        given = {
            "from": self.from_,
            "to": self.to,
            "site_id": self.site_id,
            "distribution_id": self.distribution_id,
        }
        unused = {
            name: f"not used by a {self.kind} report"
            for name, value in given.items()
            if value is not None and name not in KIND_FIELDS[self.kind]
        }
        if unused:
            listed = "; ".join(f"{name}: {why}" for name, why in unused.items())
            raise ValidationError(f"Please check {listed}.", unused)
        return self


class ShareLinkInput(Once):
    """A donor link: a label to recognise it, and how many days it lives (default 30)."""

    label: text(limits.MAX_SHARE_LABEL) = ""
    days: whole(1, limits.MAX_SHARE_LINK_DAYS) | None = None


# --- what comes out ---------------------------------------------------------------------------


class Report(Out):
    """A report's metadata and state: queued, running (pages so far), ready (pdf_url), failed.

    locale is the language its PDF (and title) is written in: "en" or "fr".
    """

    id: int
    kind: str
    title: str
    locale: str
    period_start: date | None
    period_end: date | None
    sha256: str | None
    size_bytes: int | None
    created_at: LocalTime
    created_by_id: int | None
    status: str
    pages: int | None
    failure: str | None
    pdf_url: str | None


class Reports(Out):
    """The archive, newest first, of the kinds the role may read."""

    reports: list[Report]


class ShareLink(Out):
    """A share link; its address is answered once, when it is made (only its hash is kept)."""

    id: int
    label: str
    created_at: LocalTime
    expires_at: LocalTime
    revoked_at: LocalTime | None
    url: str | None = None


def _report(report: ReportRow) -> Report:
    pdf_url = url_for("api.report_pdf", report_id=report.id) if report.ready else None
    return Report.model_validate(
        {name: getattr(report, name) for name in Report.model_fields if name != "pdf_url"}
        | {"pdf_url": pdf_url}
    )


def _readable(report_id: int) -> ReportRow:
    """Return a report of the token's organisation of a kind its role may read, or 404."""
    report = reports.get_report(current_org_id(), report_id)
    if report.kind not in kinds_for(current_membership().role):
        raise NotFound("No such report.")
    return report


# --- reports ----------------------------------------------------------------------------------


@bp.get("/reports")
@operation("view_reports", {200: Reports})
def list_reports() -> Reports:
    """The archive, newest first, of the kinds the role may read."""
    rows = reports.list_reports(current_org_id(), kinds_for(current_membership().role))
    return Reports(reports=[_report(report) for report in rows])


@bp.post("/reports")
@operation("generate_reports", {201: Report, 202: Report}, body=ReportInput)
def create_report(body: ReportInput) -> Any:
    """Make a report: short ones at once (201), long ones queued (202) and made by the scheduler."""
    role = current_membership().role
    if body.kind not in kinds_for(role):
        return json_error(403, f"Your role ({role}) may not make {body.kind} reports.")
    org_id = current_org_id()
    report_request = reports.build_request(
        body.kind,
        local_today(org_id),
        first=body.from_,
        last=body.to,
        site_id=body.site_id,
        distribution_id=body.distribution_id,
        locale=body.locale,
    )

    def produce() -> tuple[Out, int]:
        report = reports.submit(org_id, current_user_id(), report_request, reports_dir())
        # A long report is queued: 202, and its state is read back at GET /reports/<id>.
        return _report(report), 201 if report.ready else 202

    answer, status = once("api_report_create", body.request_token, produce)
    if status == 202:
        wake(current_app, "make-reports")  # with `make run`: now, not at the next turn
    return answer, status


@bp.get("/reports/<int:report_id>")
@operation("view_reports", {200: Report})
def show_report(report_id: int) -> Report:
    """A report's state; once ready, its PDF is at pdf_url."""
    return _report(_readable(report_id))


@bp.get("/reports/<int:report_id>.pdf")
@operation("view_reports", {200: "application/pdf"}, errors=(409,))
def report_pdf(report_id: int) -> Response:
    """The archived PDF, checked against its SHA-256 first (altered or missing: 409)."""
    return send_pdf(_readable(report_id))


# --- the donor page ---------------------------------------------------------------------------


class DonorPageInput(Once):
    """Changes to the how-to-help block: the fields given change, those left out stay."""

    drop_off: text(donors.MAX_DROP_OFF) | None = Field(
        None, description="A public drop-off place; lines are kept (street, then the door)."
    )
    opening_hours: text(donors.MAX_OPENING_HOURS) | None = None
    donation_url: text(donors.MAX_DONATION_URL) | None = Field(
        None, description="Where to give money: an http(s) address; an empty string removes it."
    )
    contact_email: text(limits.MAX_EMAIL) | None = None


class DonorPage(Out):
    """How to help, as donors read it on their page, on share links and in the PDF."""

    drop_off: str
    opening_hours: str
    donation_url: str
    contact_email: str
    logo_url: str | None = Field(
        None, description="The logo, set on the donor page; null when none."
    )


@bp.get("/donor-page")
@operation("view_reports", {200: DonorPage})
def show_donor_page() -> DonorPage:
    """The how-to-help block donors read."""
    return _donor_page(current_org_id())


@bp.put("/donor-page")
@operation("manage_share_links", {200: DonorPage}, body=DonorPageInput)
def update_donor_page(body: DonorPageInput) -> Any:
    """Change the how-to-help block; fields left out stay as they are."""
    org_id = current_org_id()
    changes = body.model_dump(exclude={"request_token"}, exclude_none=True)

    def produce() -> tuple[Out, int]:
        donors.save_how_to_help(org_id, current_user_id(), changes)
        return _donor_page(org_id), 200

    return once("api_donor_page", body.request_token, produce)


def _donor_page(org_id: int) -> DonorPage:
    shown = donors.how_to_help(org_id)
    logo = url_for("reports.logo", sha256=shown.logo_sha256) if shown.logo_sha256 else None
    return DonorPage(
        drop_off=shown.drop_off,
        opening_hours=shown.opening_hours,
        donation_url=shown.donation_url,
        contact_email=shown.contact_email,
        logo_url=logo,
    )


# --- share links ------------------------------------------------------------------------------


@bp.post("/share-links")
@operation("manage_share_links", {201: ShareLink}, body=ShareLinkInput)
def create_share_link(body: ShareLinkInput) -> Any:
    """Make a donor link; its address (url) is in this answer only."""
    created: dict[str, str] = {}
    days = limits.SHARE_LINK_DAYS if body.days is None else body.days

    def produce() -> tuple[dict[str, Any], int]:
        link, token = reports.create_share_link(
            current_org_id(), current_user_id(), label=body.label, days=days
        )
        created["url"] = share_url(token)
        return _share_link(link), 201

    answer, status = once("api_share_link_create", body.request_token, produce)
    if not created:
        return answer, status  # a replay: the address was answered the first time only
    response = current_app.json.response(answer | {"url": created["url"]})
    response.headers["Cache-Control"] = "no-store"
    return response, status


def _share_link(link: ShareLinkRow) -> dict[str, Any]:
    # Never the url here: what is stored for replays must not hold the address.
    return dump(ShareLink.model_validate(link), exclude={"url"})


@bp.delete("/share-links/<int:share_link_id>")
@operation("manage_share_links", {204: None})
def revoke_share_link(share_link_id: int) -> tuple[str, int]:
    """Revoke a donor link at once."""
    reports.revoke_share_link(current_org_id(), share_link_id)
    db.session.commit()
    return "", 204
