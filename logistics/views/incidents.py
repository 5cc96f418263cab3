"""Incident pages: report, review, lock, amend, evidence, and loss figures."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response

from .. import jobs
from ..auth import current_org_id, current_role, current_user_id, requires
from ..forms.common import choices
from ..forms.incidents import (
    BLANK_LINES,
    AmendmentForm,
    EvidenceForm,
    IncidentForm,
    LockForm,
)
from ..models import INCIDENT_KINDS, Evidence, Incident
from ..permissions import can
from ..services import catalogue, evidence, incidents
from ..services.distributions import EARLIEST_DAY, local_today, organisation_zone
from ..services.errors import NotFound, ValidationError
from ._submit import filled_rows, or_404, query_date, query_whole, submit_once

bp = Blueprint("incidents", __name__)


def evidence_store() -> evidence.EvidenceStore:
    """Return the configured evidence store."""
    return evidence.configured_store()


@bp.route("/incidents")
@requires("view_incidents")
def index() -> str:
    org_id = current_org_id()
    first, last = _period_args(default_days=31)
    area = request.args.get("area") or None
    kind = request.args.get("kind") or None
    page = incidents.incidents_page(
        org_id, first, last, area=area, kind=kind, before=query_whole("before")
    )
    return render_template(
        "incidents/index.html",
        incidents=page.incidents,
        older=_older_url(page.older),
        newest=_newest_url(),
        first=first,
        last=last,
        area=area,
        kind=kind,
        areas=incidents.areas(org_id),
        kinds=INCIDENT_KINDS,
    )


@bp.route("/incidents/new", methods=["GET", "POST"])
@requires("record_incidents")
def new() -> str | Response:
    form = IncidentForm()
    _offer_sites(form)
    if request.method == "GET":
        form.occurred_at.data = _local_now()
    if form.validate_on_submit():

        def action() -> dict[str, Any]:
            # The report and its photos in one unit: one request token, all or nothing.
            incident = incidents.record_incident(current_org_id(), current_user_id(), _values(form))
            stored = _add_files(incident.id, form.uploads(), None, "photos")
            return {"incident_id": incident.id, "message": _recorded_message(len(stored))}

        result = submit_once(form, "incident_create", action)
        if result is not None:
            jobs.deliver_eviction_now(current_org_id(), result["incident_id"])
            # Whoever reported it reads it back at once: what was saved, with its photos.
            return redirect(url_for(".show", incident_id=result["incident_id"]))
    return _form_page(form, incident=None)


@bp.route("/incidents/mine")
@requires("record_incidents")
def mine() -> str:
    page = incidents.my_reports_page(
        current_org_id(), current_user_id(), before=query_whole("before")
    )
    return render_template(
        "incidents/mine.html",
        incidents=page.incidents,
        older=_older_url(page.older),
        newest=_newest_url(),
    )


@bp.route("/incidents/<int:incident_id>")
@requires("record_incidents")
def show(incident_id: int) -> str:
    incident = _readable_or_404(incident_id)
    return render_template(
        "incidents/show.html",
        incident=incident,
        reads_all=_reads_all(),
        files=evidence.shown_evidence(incident.id, current_user_id(), reads_all=_reads_all()),
        most_files=evidence.MAX_FILES,
        movements=incidents.loss_movements(incident),
        evidence_form=EvidenceForm(),
        amendment_form=AmendmentForm(),
        lock_form=LockForm(),
    )


@bp.route("/incidents/<int:incident_id>/edit", methods=["GET", "POST"])
@requires("view_incidents")
def edit(incident_id: int) -> str | Response:
    incident = _incident_or_404(incident_id)
    if incident.locked:
        flash(_("This incident is locked; add an amendment instead."))
        return redirect(url_for(".show", incident_id=incident.id))
    form = IncidentForm()
    _offer_sites(form)
    if request.method == "GET":
        _fill(form, incident)
    elif form.validate_on_submit():

        def action() -> dict[str, Any]:
            incidents.update_incident(
                current_org_id(), current_user_id(), incident.id, _values(form)
            )
            return {"message": _("Incident saved.")}

        if submit_once(form, "incident_edit", action) is not None:
            jobs.deliver_eviction_now(current_org_id(), incident.id)
            return redirect(url_for(".show", incident_id=incident.id))
    return _form_page(form, incident=incident)


@bp.route("/incidents/<int:incident_id>/lock", methods=["POST"])
@requires("view_incidents")
def lock(incident_id: int) -> Response:
    incident = _incident_or_404(incident_id)
    form = LockForm()
    if form.validate_on_submit():
        _submit_or_flash(
            form,
            "incident_lock",
            lambda: (
                incidents.lock(current_org_id(), current_user_id(), incident.id)
                and {"message": _("Incident locked.")}
            ),
        )
    return redirect(url_for(".show", incident_id=incident.id))


@bp.route("/incidents/<int:incident_id>/amend", methods=["POST"])
@requires("view_incidents")
def amend(incident_id: int) -> Response:
    incident = _incident_or_404(incident_id)
    form = AmendmentForm()
    if form.validate_on_submit():
        _submit_or_flash(
            form,
            "incident_amend",
            lambda: (
                incidents.amend(
                    current_org_id(),
                    current_user_id(),
                    incident.id,
                    form.text.data,
                    people_affected=form.people_affected.data,
                    shelters_affected=form.shelters_affected.data,
                )
                and {"message": _("Amendment added.")}
            ),
        )
        jobs.deliver_eviction_now(current_org_id(), incident.id)
    else:
        flash(_("Write what the amendment says, and counts as whole numbers."))
    return redirect(url_for(".show", incident_id=incident.id))


@bp.route("/incidents/<int:incident_id>/evidence", methods=["POST"])
@requires("record_incidents")
def upload(incident_id: int) -> Response:
    """Add files to an incident: anyone who reads it (a reporter, their own) may add to it."""
    incident = _readable_or_404(incident_id)
    form = EvidenceForm()
    if form.validate_on_submit():
        files = form.file.data

        def action() -> dict[str, Any]:
            stored = _add_files(incident.id, files, _aware(form.captured_at.data), "file")
            return {"evidence_ids": [e.id for e in stored], "message": _stored_message(stored)}

        _submit_or_flash(form, "evidence_upload", action)
    else:
        flash(_("Choose a file to upload."))
    return redirect(url_for(".show", incident_id=incident.id))


@bp.route("/evidence/<int:evidence_id>")
@requires("record_incidents")
def download(evidence_id: int) -> Response:
    record = _evidence_or_404(evidence_id)
    path = evidence.verified_path(evidence_store(), record)
    response = send_file(
        path, mimetype=record.media_type, as_attachment=True, download_name=record.file_name
    )
    # Evidence stays off shared caches and out of the browser's disk cache, as on the API.
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/evidence/<int:evidence_id>/thumbnail")
@requires("record_incidents")
def thumbnail(evidence_id: int) -> Response:
    """Serve a photo's thumbnail to whoever may open the photo itself."""
    record = _evidence_or_404(evidence_id)
    try:
        path = evidence.thumbnail_path(evidence_store(), record)
    except NotFound:
        abort(404)
    response = send_file(path, mimetype="image/jpeg")
    # A thumbnail never changes: kept a year, by this browser only, never by a shared cache.
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    return response


@bp.route("/incidents/figures")
@requires("view_loss_figures")
def figures() -> str:
    org_id = current_org_id()
    first, last = _period_args(default_days=None)
    area = request.args.get("area") or None
    return render_template(
        "incidents/figures.html",
        figures=incidents.loss_figures(org_id, first, last, area=area),
        area=area,
        areas=incidents.areas(org_id),
    )


# --- helpers ---------------------------------------------------------------------------------


def _add_files(
    incident_id: int, files: list[Any], captured_at: datetime | None, field: str
) -> list[Evidence]:
    """Store the files sent for an incident (none is fine), all or none of them."""
    uploads = [evidence.Upload(f.filename or "", f.stream) for f in files or ()]
    return evidence.add_files(
        evidence_store(),
        current_org_id(),
        current_user_id(),
        incident_id,
        uploads,
        captured_at=captured_at,
        field=field,
    )


def _recorded_message(photos: int) -> str:
    if not photos:
        return _("Incident recorded.")
    return ngettext(
        "Incident recorded with %(num)d photo.", "Incident recorded with %(num)d photos.", photos
    )


def _stored_message(stored: list[Evidence]) -> str:
    """Name each file stored with its SHA-256: the sender can note the hash there and then."""
    return " ".join(
        _("%(name)s stored, SHA-256 %(sha)s.", name=e.file_name, sha=e.sha256) for e in stored
    )


def _submit_or_flash(form: Any, kind: str, action: Any) -> None:
    """Run a one-button form; its refusal is shown as a message on the incident page."""
    if submit_once(form, kind, action) is None:
        for message in form.form_errors:
            flash(message)


def _form_page(form: IncidentForm, incident: Incident | None) -> str:
    return render_template(
        "incidents/form.html",
        form=form,
        incident=incident,
        most_files=evidence.MAX_FILES,
    )


def _offer_sites(form: IncidentForm) -> None:
    form.area.choices = choices((a, a) for a in incidents.site_areas(current_org_id()))
    sites = catalogue.list_sites(current_org_id())
    form.site_id.choices = choices([(0, _("None")), *((s.id, s.name) for s in sites)])
    stores = choices([(0, "—"), *((s.id, s.name) for s in sites)])
    for row in form.lines:
        row.site_id.choices = stores


def _values(form: IncidentForm) -> incidents.IncidentInput:
    lines = []
    for row, item in filled_rows(form.lines):
        if not row.quantity.data:
            raise ValidationError(
                _("Give how many %(label)s.", label=item.label), {"lines": _("quantity")}
            )
        lines.append(
            incidents.LineInput(
                item_id=item.id,
                quantity=row.quantity.data,
                origin=row.origin.data,
                action=row.action.data,
                marked_property=row.marked_property.data,
                site_id=row.site_id.data or None,
            )
        )
    return incidents.IncidentInput(
        occurred_at=_aware(form.occurred_at.data),
        ended_at=_aware(form.ended_at.data),
        kind=form.kind.data,
        area=form.area.data,
        site_id=form.site_id.data or None,
        forces_present=form.forces_present.data or "",
        bailiff_present=form.bailiff_present.data,
        interpreter_present=form.interpreter_present.data,
        legal_basis_shown=form.legal_basis_shown.data,
        shelter_offered=form.shelter_offered.data,
        people_affected=form.people_affected.data,
        shelters_affected=form.shelters_affected.data,
        witnesses=form.witnesses.data or "",
        description=form.description.data or "",
        lines=lines,
    )


def _fill(form: IncidentForm, incident: Incident) -> None:
    zone = organisation_zone(incident.organisation_id)
    form.occurred_at.data = incident.occurred_at.astimezone(zone).replace(tzinfo=None)
    if incident.ended_at:
        form.ended_at.data = incident.ended_at.astimezone(zone).replace(tzinfo=None)
    for name in (
        "kind",
        "area",
        "forces_present",
        "bailiff_present",
        "interpreter_present",
        "legal_basis_shown",
        "shelter_offered",
        "people_affected",
        "shelters_affected",
        "witnesses",
        "description",
    ):
        getattr(form, name).data = getattr(incident, name)
    form.site_id.data = incident.site_id or 0
    while len(form.lines):
        form.lines.pop_entry()
    for line in incident.lines:
        form.lines.append_entry(
            {
                "item": line.item.label,
                "quantity": line.quantity,
                "action": line.action,
                "origin": line.origin,
                "site_id": line.site_id or 0,
                "marked_property": line.marked_property,
            }
        )
    for _blank in range(2 if incident.lines else BLANK_LINES):
        form.lines.append_entry()
    _offer_sites(form)


def _older_url(older: int | None) -> str | None:
    """Return this list's next page, older incidents, with the same filters; None at the end."""
    if older is None:
        return None
    args = {key: value for key, value in request.args.items() if key != "before"}
    return url_for(request.endpoint or ".index", **args, before=older)


def _newest_url() -> str | None:
    """Return this list's first page, with the same filters, when showing a later one."""
    if "before" not in request.args:
        return None
    args = {key: value for key, value in request.args.items() if key != "before"}
    return url_for(request.endpoint or ".index", **args)


def _period_args(default_days: int | None) -> tuple[date, date]:
    """Read ?from=&to=; to defaults to today, from to default_days earlier or the 1st."""
    last = query_date("to") or local_today(current_org_id())
    first = query_date("from")
    if first is None:
        first = last - timedelta(days=default_days) if default_days else last.replace(day=1)
        first = max(first, EARLIEST_DAY)
    return first, last


def _aware(local: datetime | None) -> datetime | None:
    if local is None:
        return None
    return local.replace(tzinfo=organisation_zone(current_org_id()))


def _local_now() -> datetime:
    return datetime.now(organisation_zone(current_org_id())).replace(
        tzinfo=None, second=0, microsecond=0
    )


def _incident_or_404(incident_id: int) -> Incident:
    return or_404(incidents.get_incident, current_org_id(), incident_id)


def _reads_all() -> bool:
    """Tell whether this member reads every incident, not only those they reported."""
    return can(current_role(), "view_incidents")


def _readable_or_404(incident_id: int) -> Incident:
    """Return the incident if this member may read it; another's report is a 404, not a 403."""
    try:
        return incidents.readable_incident(
            current_org_id(), incident_id, current_user_id(), reads_all=_reads_all()
        )
    except NotFound:
        abort(404)


def _evidence_or_404(evidence_id: int) -> Evidence:
    """Return the evidence record if this member may open it, else a 404."""
    try:
        return evidence.readable_evidence(
            current_org_id(), evidence_id, current_user_id(), reads_all=_reads_all()
        )
    except NotFound:
        abort(404)
