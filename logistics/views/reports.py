"""Report pages: the archive, making PDFs, the weekly e-mail, share links and the donor page."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField, SubmitField
from wtforms.validators import AnyOf, InputRequired, Length, NumberRange, Optional

from .. import i18n
from ..auth import current_membership, current_org_id, current_role, current_user_id, requires
from ..extensions import db
from ..forms.common import SubmissionForm, choices, new_request_token
from ..forms.donors import DonorPageForm
from ..forms.pledges import pledge_form
from ..forms.subscribers import SubscribeForm
from ..i18n import LANGUAGE_NAMES
from ..models import Organisation, Report, ShareLink, User
from ..models.types import utcnow
from ..permissions import can
from ..scheduler import wake
from ..security import secret_link
from ..services import catalogue, distributions, donors, ledger, reports
from ..services.accounts import organisation_zone
from ..services.errors import NotFound
from ..services.reports import ReportRequest, kinds_for
from ._submit import or_404, query_id, submit_once
from .auth import absolute_url

bp = Blueprint("reports", __name__)

KIND_LABELS = {
    "shortfall": _l("Donor shortfall report"),
    "evidence": _l("Evidence report (incidents)"),
    "stocktake": _l("Stocktake count sheet"),
    "run_sheet": _l("Distribution run sheet"),
    "kitchen": _l("Kitchen plan sheet"),
}
UPCOMING_DAYS = 14
# The run sheet's list offers the next distributions, at most this many (a federation plans
# eighty a day); each distribution's own page prints its run sheet too.
UPCOMING_MOST = 100
REFRESH_SECONDS = 5  # the archive page reloads itself while a report is being made
STATUS_LABELS = {
    "queued": _l("Waiting its turn"),
    "running": _l("Being made"),
    "ready": _l("Ready"),
    "failed": _l("Failed"),
}
MAX_TOKEN = 100
# Needs listed per category on a donor's page, most urgent first; the PDF lists them all.
DONOR_PER_CATEGORY = 12


def reports_dir() -> Path:
    """Return the configured archive folder."""
    return Path(current_app.config["REPORTS_DIR"])


@bp.app_template_global("new_request_token")
def _template_request_token() -> str:
    """Give a one-button form (run sheet, count sheet) its one-time request token."""
    return new_request_token()


# --- forms -----------------------------------------------------------------------------------


class GenerateForm(SubmissionForm):
    kind = SelectField(_l("Report"))
    first = DateField(_l("From"), validators=[Optional()])
    last = DateField(_l("To"), validators=[Optional()])
    site_id = SelectField(_l("Site"), coerce=int)
    distribution_id = SelectField(_l("Distribution"), coerce=int)
    day = DateField(_l("First day of the kitchen plan"), validators=[Optional()])
    locale = SelectField(
        _l("Language of the PDF"),
        choices=choices(LANGUAGE_NAMES.items()),
        validators=[Optional()],
    )
    submit = SubmitField(_l("Make the PDF"))


class OneButtonForm(SubmissionForm):
    """A form that is only its button: CSRF and a request token."""


class SubscriptionToggleForm(SubmissionForm):
    wanted = HiddenField(validators=[AnyOf(["0", "1"])])


class ShareLinkForm(SubmissionForm):
    label = StringField(_l("Label (who it is for)"), validators=[Length(max=120)])
    days = IntegerField(
        _l("Days it works"),
        default=reports.SHARE_DAYS,
        validators=[InputRequired(), NumberRange(min=1, max=366)],
    )
    submit = SubmitField(_l("Create link"))


# --- the archive -----------------------------------------------------------------------------


@bp.route("/reports")
@requires("view_reports")
def index() -> Response:
    form = GenerateForm()
    today = distributions.local_today(current_org_id())
    form.first.data = today - timedelta(days=reports.DEFAULT_DAYS - 1)
    form.last.data = today
    form.day.data = today
    form.locale.data = reports.report_language(db.session.get(Organisation, current_org_id()))
    return _index_page(form)


@bp.route("/reports", methods=["POST"])
@requires("generate_reports")
def generate() -> Response:
    form = GenerateForm()
    org_id = current_org_id()
    _offer(form, org_id, current_role())
    if form.validate_on_submit():

        def action() -> dict[str, Any]:
            report_request = _form_request(form, distributions.local_today(org_id))
            return _made(reports.submit(org_id, current_user_id(), report_request, reports_dir()))

        result = submit_once(form, "report_generate", action)
        if result is not None:
            wake(current_app, "make-reports")  # with `make run`: now, not at the next turn
            return redirect(url_for(".index", made=result["report_id"]))
    return _index_page(form)


@bp.route("/reports/<int:report_id>.pdf")
@requires("view_reports")
def download(report_id: int) -> Response:
    report = or_404(reports.get_report, current_org_id(), report_id)
    if report.kind not in kinds_for(current_role()):
        abort(404)
    return send_pdf(report)


@bp.route("/reports/run-sheet/<int:distribution_id>", methods=["POST"])
@requires("generate_reports")
def run_sheet_pdf(distribution_id: int) -> Response:
    distribution = or_404(distributions.get_distribution, current_org_id(), distribution_id)
    back = url_for("distributions.run_sheet", distribution_id=distribution.id)
    return _one_click(ReportRequest("run_sheet", distribution_id=distribution.id), back)


@bp.route("/reports/count-sheet/<int:site_id>", methods=["POST"])
@requires("generate_reports")
def count_sheet_pdf(site_id: int) -> Response:
    site = or_404(ledger.get_site, current_org_id(), site_id)
    back = url_for("stock.overview", site_id=site.id)
    return _one_click(ReportRequest("stocktake", site_id=site.id), back)


@bp.route("/reports/subscription", methods=["POST"])
@requires("view_reports")
def subscription() -> Response:
    form = SubscriptionToggleForm()
    if not form.validate_on_submit():
        flash(_("That switch was not understood; nothing changed."))
        return redirect(url_for(".index"))
    wanted = form.wanted.data == "1"
    membership = current_membership()

    def action() -> dict[str, Any]:
        reports.set_report_subscription(current_org_id(), membership, wanted)
        email = membership.user.email
        if wanted:
            return {
                "message": _("The weekly donor report will be e-mailed to %(email)s.", email=email)
            }
        return {
            "message": _("The weekly donor report will no longer go to %(email)s.", email=email)
        }

    submit_once(form, "report_subscription", action)
    return redirect(url_for(".index"))


# --- share links (admin) ---------------------------------------------------------------------


@bp.route("/reports/share-links")
@requires("manage_share_links")
def share_links() -> str:
    return _share_links_page(ShareLinkForm())


@bp.route("/reports/share-links", methods=["POST"])
@requires("manage_share_links")
def create_share_link() -> Response | str:
    form = ShareLinkForm()
    created: dict[str, str] = {}
    if form.validate_on_submit():

        def action() -> dict[str, Any]:
            link, token = reports.create_share_link(
                current_org_id(),
                current_user_id(),
                label=form.label.data or "",
                days=form.days.data,
            )
            # The token is shown on this answer only; the stored result never holds it.
            created["url"] = share_url(token)
            return {"link_id": link.id, "message": _("Link created. Copy it now.")}

        if submit_once(form, "share_link_create", action) is not None:
            if not created:
                flash(_("Its address was shown once; revoke it and create another if it is lost."))
                return redirect(url_for(".share_links"))
            response = make_response(
                _share_links_page(ShareLinkForm(formdata=None), created["url"])
            )
            response.headers["Cache-Control"] = "no-store"
            return response
    return _share_links_page(form)


@bp.route("/reports/share-links/<int:link_id>/revoke", methods=["POST"])
@requires("manage_share_links")
def revoke_share_link(link_id: int) -> Response:
    org_id = current_org_id()
    link = or_404(reports.get_share_link, org_id, link_id)
    form = OneButtonForm()
    if form.validate_on_submit():
        label = link.label or _("(no label)")

        def action() -> dict[str, Any]:
            reports.revoke_share_link(org_id, link_id)
            return {"message": _("Link revoked: %(label)s.", label=label)}

        submit_once(form, "share_link_revoke", action)
    return redirect(url_for(".share_links"))


def share_url(token: str) -> str:
    """Return the full address of a donor link."""
    return absolute_url("reports.share", token=token)


# --- what donors read: the donor page, the share page, the PDF of the day ----------------------


@bp.route("/donor")
@requires("view_reports")
def donor_home() -> str:
    org_id = current_org_id()
    return render_template(
        "reports/donor_home.html",
        pdf_url=url_for(".donor_pdf"),
        pledge_action=url_for("pledges.donor_pledge")
        if can(current_role(), "make_pledges")
        else None,
        **_donor_view(org_id),
    )


@bp.route("/donor/report.pdf")
@requires("view_reports")
def donor_pdf() -> Response:
    return _todays_pdf(current_org_id())


@bp.route("/share/<token>")
@secret_link
def share(token: str) -> str:
    link = live_link(token)
    return render_template(
        "reports/share.html",
        token=token,
        pdf_url=url_for(".share_pdf", token=token),
        pledge_action=url_for("pledges.share_pledge", token=token),
        subscribe_form=SubscribeForm(formdata=None),
        subscribe_action=url_for("subscribers.subscribe", token=token),
        **_donor_view(link.organisation_id),
    )


@bp.route("/share/<token>/report.pdf")
@secret_link
def share_pdf(token: str) -> Response:
    return _todays_pdf(live_link(token).organisation_id)


@bp.route("/logo/<sha256>")
def logo(sha256: str) -> Response:
    """Send an organisation's logo; public by its admins' choice, named by its hash."""
    page = donors.logo_by_hash(sha256) if len(sha256) == 64 else None
    if page is None:
        abort(404)
    response = make_response(page.logo)
    response.headers["Content-Type"] = page.logo_type
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


def _donor_view(org_id: int) -> dict[str, Any]:
    """Gather what every donor page shows: needs, how to help, the last seven days, the forms."""
    organisation = db.session.get(Organisation, org_id)
    last = distributions.local_today(org_id)
    first = last - timedelta(days=reports.DEFAULT_DAYS - 1)
    figures = reports.donor_figures(org_id, first, last)
    wanted = figures.donor_needs
    return {
        "organisation": organisation,
        "figures": figures,
        "wanted": wanted,
        "help": figures.how_to_help,
        "first": first,
        "last": last,
        "per_category": DONOR_PER_CATEGORY,
        "pledge_form": pledge_form(org_id, [n.item_id for n in wanted.all]),
    }


def _todays_pdf(org_id: int) -> Response:
    """Send today's donor PDF in the reader's language, making it on the day's first request."""
    report = reports.todays_donor_report(org_id, reports_dir(), i18n.current_language())
    db.session.commit()
    return send_pdf(report)


# --- the how-to-help block (admins) ----------------------------------------------------------


@bp.route("/reports/donor-page", methods=["GET", "POST"])
@requires("manage_share_links")
def donor_page() -> Response | str:
    org_id = current_org_id()
    shown = donors.how_to_help(org_id)
    form = DonorPageForm(data={name: getattr(shown, name) for name in donors.PAGE_FIELDS})
    if form.validate_on_submit():
        upload = form.logo.data

        def action() -> dict[str, Any]:
            donors.save_how_to_help(org_id, current_user_id(), form.values())
            if form.remove_logo.data:
                donors.set_logo(org_id, current_user_id(), None)
            elif upload:
                donors.set_logo(org_id, current_user_id(), upload.read())
            return {"message": _("The donor page is saved.")}

        if submit_once(form, "donor_page", action) is not None:
            return redirect(url_for(".donor_page"))
    return render_template("reports/donor_page.html", form=form, help=shown)


def live_link(token: str) -> ShareLink:
    """Return the live link of a token; anything else is the same plain 404 as any page."""
    if len(token) > MAX_TOKEN:
        abort(404)
    try:
        return reports.resolve_share_token(token)
    except NotFound:
        abort(404)


# --- helpers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArchiveRow:
    """A report as the archive lists it."""

    report: Report
    label: str
    made_by: str


def _index_page(form: GenerateForm) -> Response:
    org_id = current_org_id()
    role = current_role()
    _offer(form, org_id, role)
    rows = reports.list_reports(org_id, kinds_for(role))
    names = _user_names({r.created_by_id for r in rows if r.created_by_id})
    membership = current_membership()
    subscribed = reports.report_subscribed(org_id, membership.id)
    response = make_response(
        render_template(
            "reports/index.html",
            form=form,
            rows=[
                ArchiveRow(r, str(KIND_LABELS.get(r.kind, r.kind)), names.get(r.created_by_id, ""))
                for r in rows
            ],
            made=query_id("made"),
            subscribed=subscribed,
            subscription_form=SubscriptionToggleForm(
                formdata=None, wanted="0" if subscribed else "1"
            ),
            email=membership.user.email,
            status_labels=STATUS_LABELS,
        )
    )
    if any(r.status in ("queued", "running") for r in rows):
        # Reload until it is made: the refresh header needs no script and no template head.
        response.headers["Refresh"] = str(REFRESH_SECONDS)
    return response


def _offer(form: GenerateForm, org_id: int, role: str | None) -> None:
    form.kind.choices = choices((kind, KIND_LABELS[kind]) for kind in kinds_for(role))
    sites = catalogue.list_sites(org_id)
    form.site_id.choices = choices([(0, "—"), *((s.id, f"{s.name} ({s.area})") for s in sites)])
    form.distribution_id.choices = choices([(0, "—"), *_upcoming(org_id)])


def _upcoming(org_id: int) -> list[tuple[int, str]]:
    """Offer the planned distributions of the coming days for a run sheet."""
    today = distributions.local_today(org_id)
    zone = organisation_zone(org_id)
    last = today + timedelta(days=UPCOMING_DAYS - 1)
    rows = distributions.planned_between(org_id, today, last, limit=UPCOMING_MOST)
    return [(d.id, f"{i18n.when(d.starts_at, 'day_time', zone)} · {d.site.name}") for d in rows]


def _form_request(form: GenerateForm, today: date) -> ReportRequest:
    kind = form.kind.data
    return reports.build_request(
        kind,
        today,
        first=form.day.data if kind == "kitchen" else form.first.data,
        last=form.last.data,
        site_id=form.site_id.data or None,
        distribution_id=form.distribution_id.data or None,
        locale=form.locale.data or None,
    )


def _one_click(report_request: ReportRequest, back: str) -> Response:
    """Make a sheet from a one-button form, in the reader's language, then hand its PDF over."""
    if report_request.kind not in kinds_for(current_role()):
        abort(403)
    form = OneButtonForm()
    if not form.validate_on_submit():
        flash(_("The form had expired. Reload the page and try again."))
        return redirect(back)
    org_id = current_org_id()

    sheet = replace(report_request, locale=i18n.current_language())

    def action() -> dict[str, Any]:
        return _made(reports.generate(org_id, current_user_id(), sheet, reports_dir()))

    result = submit_once(form, "report_sheet", action)
    if result is None:
        for message in form.form_errors:
            flash(message)
        return redirect(back)
    return redirect(url_for(".download", report_id=result["report_id"]))


def _made(report: Report) -> dict[str, Any]:
    if not report.ready:
        message = _(
            "%(title)s asked for: it is made in the background and listed below when ready.",
            title=KIND_LABELS[report.kind],
        )
        return {"report_id": report.id, "message": message}
    return {
        "report_id": report.id,
        "message": _("%(title)s made and archived.", title=KIND_LABELS[report.kind]),
    }


def send_pdf(report: Report) -> Response:
    """Send an archived PDF once it still matches its SHA-256 (altered or missing: 409)."""
    path = reports.report_file(reports_dir(), report)
    response = send_file(
        path.resolve(),
        mimetype="application/pdf",
        download_name=Path(report.file_path or path).name,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _share_links_page(form: ShareLinkForm, new_url: str | None = None) -> str:
    now = utcnow()
    rows = [
        (link, _status(link, now), OneButtonForm(formdata=None))
        for link in reports.share_links(current_org_id())
    ]
    return render_template("reports/share_links.html", form=form, rows=rows, new_url=new_url)


def _status(link: ShareLink, now: datetime) -> str:
    if link.revoked_at is not None:
        return "revoked"
    return "expired" if link.expires_at <= now else "live"


def _user_names(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = db.session.execute(
        select(User.id, User.display_name, User.email).where(User.id.in_(ids))
    ).all()
    return {user_id: name or email for user_id, name, email in rows}
