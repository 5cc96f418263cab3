"""Partner organisations and shipments between them: link, prepare, print, send, receive."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from werkzeug.wrappers import Response
from wtforms import FieldList, Form, FormField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from .. import i18n, limits
from ..auth import current_membership, current_org_id, current_role, current_user_id, requires
from ..forms.common import SubmissionForm, WholeField, choices, whole_id
from ..forms.distributions import BLANK_LINES, LineForm
from ..forms.stock import site_field
from ..models import Shipment
from ..pdf import waybill
from ..pdf.base import ReportFrame, made_at_text
from ..permissions import can
from ..services import accounts, catalogue, shipments
from ..services.errors import ValidationError
from ..services.shipments import Counted
from ._submit import filled_rows, or_404, submit_once
from .auth import absolute_url

bp = Blueprint("shipments", __name__)
# As long as an organisation's slug column.
MAX_SLUG = 60


# --- forms ---------------------------------------------------------------------------------------


class AskForm(SubmissionForm):
    """Ask another organisation, by its short name, to become a partner."""

    organisation_slug = StringField(
        _l("Their short name (as in their address)"),
        validators=[DataRequired(), Length(max=MAX_SLUG)],
    )


class ButtonForm(SubmissionForm):
    """A form that is only its button: CSRF and a request token."""


class ShipmentForm(SubmissionForm):
    """A new shipment: to which partner, from which of our sites, and its lines."""

    partner_organisation_id = SelectField(
        _l("To partner"),
        coerce=whole_id,
        invalid_choice_message=_l("Choose a partner."),
        invalid_value_message=_l("Choose a partner."),
    )
    from_site_id = site_field(_l("From site"))
    lines = FieldList(FormField(LineForm), min_entries=BLANK_LINES)


class CountedLineForm(Form):
    """One line as counted on arrival: which of our items it is, typed, and how many came."""

    line_id = HiddenField()
    item = StringField(
        _l("As our item"), validators=[Optional(), Length(max=limits.MAX_ITEM_LABEL)]
    )
    received = WholeField(
        _l("Counted"),
        validators=[InputRequired(), NumberRange(min=0, max=limits.MAX_QUANTITY)],
    )


class ReceiveForm(SubmissionForm):
    """Receive a shipment at one of our sites, counting each line."""

    site_id = site_field(_l("Received at"))
    lines = FieldList(FormField(CountedLineForm))


# --- partnerships ------------------------------------------------------------------------------


@bp.route("/partnerships", methods=["GET", "POST"])
@requires("manage_partnerships")
def partnerships() -> str | Response | tuple[str, int]:
    """List partner organisations, ask a new one by its slug, accept those that asked."""
    org_id = current_org_id()
    form = AskForm()
    if form.validate_on_submit():

        def action() -> dict[str, Any]:
            asked = shipments.ask_partnership(
                org_id, current_user_id(), form.organisation_slug.data
            )
            name = shipments.other_side(asked, org_id).name
            return {
                "message": _("Asked %(name)s: they become a partner once they accept.", name=name),
                "summary": _("request to %(name)s sent", name=name),
            }

        if submit_once(form, "partnership_ask", action) is not None:
            return redirect(url_for(".partnerships"))
    page = _partnerships_page(form)
    return (page, 422) if form.errors or form.form_errors else page


@bp.route("/partnerships/<int:partnership_id>/accept", methods=["POST"])
@requires("manage_partnerships")
def accept(partnership_id: int) -> str | Response | tuple[str, int]:
    """Accept a partnership another organisation asked for."""
    org_id = current_org_id()
    or_404(shipments.get_partnership, org_id, partnership_id)
    form = ButtonForm()
    if form.validate_on_submit():

        def action() -> dict[str, Any]:
            done = shipments.accept_partnership(org_id, current_user_id(), partnership_id)
            name = shipments.other_side(done, org_id).name
            return {
                "message": _("You and %(name)s are now partners.", name=name),
                "summary": _("partnership with %(name)s accepted", name=name),
            }

        if submit_once(form, "partnership_accept", action) is not None:
            return redirect(url_for(".partnerships"))
    return _partnerships_page(AskForm(formdata=None), refused=form), 409


def _partnerships_page(form: AskForm, refused: ButtonForm | None = None) -> str:
    org_id = current_org_id()
    rows = [
        (p, shipments.other_side(p, org_id), p.partner_id == org_id)
        for p in shipments.list_partnerships(org_id)
    ]
    return render_template(
        "shipments/partnerships.html",
        form=form,
        rows=rows,
        refused=refused,
        own_slug=current_membership().organisation.slug,
    )


# --- shipments ---------------------------------------------------------------------------------


@bp.route("/shipments")
@requires("view_shipments")
def index() -> str:
    """List the shipments this organisation sent or is sent, newest first."""
    org_id = current_org_id()
    return render_template(
        "shipments/index.html",
        views=shipments.list_shipments(org_id),
        org_id=org_id,
        may_manage=can(current_role(), "manage_shipments"),
    )


@bp.route("/shipments/new", methods=["GET", "POST"])
@requires("manage_shipments")
def new() -> str | Response | tuple[str, int]:
    """Prepare a shipment to a partner: site, items and quantities."""
    org_id = current_org_id()
    form = ShipmentForm()
    partners = shipments.partners(org_id)
    sites = catalogue.list_sites(org_id)
    form.partner_organisation_id.choices = choices((o.id, o.name) for o in partners)
    form.from_site_id.choices = choices((s.id, s.name) for s in sites)
    if request.method == "GET" and len(partners) == 1:
        form.partner_organisation_id.data = partners[0].id
    if form.validate_on_submit():

        def action() -> dict[str, Any]:
            lines = [
                (item.id, row.quantity.data or 0)
                for row, item in filled_rows(form.lines)
                if row.quantity.data
            ]
            made = shipments.create_shipment(
                org_id,
                current_user_id(),
                partner_organisation_id=form.partner_organisation_id.data,
                from_site_id=form.from_site_id.data,
                lines=lines,
            )
            return {
                "shipment_id": made.id,
                "message": _(
                    "Shipment %(number)s prepared: print its waybill, then send it.", number=made.id
                ),  # fmt: skip
                "summary": _("shipment %(number)s prepared", number=made.id),
            }

        result = submit_once(form, "shipment_create", action)
        if result is not None:
            return redirect(url_for(".show", shipment_id=result["shipment_id"]))
    page = render_template(
        "shipments/new.html",
        form=form,
        partners=partners,
        sites=sites,
    )
    return (page, 422) if request.method == "POST" else page


@bp.route("/shipments/<int:shipment_id>")
@requires("view_shipments")
def show(shipment_id: int) -> str:
    """Show a shipment to either side; the sender may send it, the receiver receive it."""
    shipment = or_404(shipments.get_shipment, current_org_id(), shipment_id)
    return _shipment_page(shipment, None)


@bp.route("/shipments/<int:shipment_id>/send", methods=["POST"])
@requires("manage_shipments")
def send(shipment_id: int) -> str | Response | tuple[str, int]:
    """Send a prepared shipment: its lines leave our site's stock."""
    org_id = current_org_id()
    shipment = or_404(shipments.get_shipment, org_id, shipment_id)
    form = ButtonForm()
    if form.validate_on_submit():

        def action() -> dict[str, Any]:
            sent = shipments.send_shipment(org_id, current_user_id(), shipment_id)
            view = shipments.describe(sent)
            return {
                "message": _(
                    "Shipment %(number)s sent to %(partner)s: its lines left %(site)s.",
                    number=sent.id,
                    partner=view.receiver.name,
                    site=view.from_site.name,
                ),
                "summary": _("shipment %(number)s sent", number=sent.id),
            }

        if submit_once(form, "shipment_send", action) is not None:
            return redirect(url_for(".show", shipment_id=shipment_id))
    return _shipment_page(shipment, None, refused=form), 409


@bp.route("/shipments/<int:shipment_id>/receive", methods=["GET", "POST"])
@requires("view_shipments")
def receive(shipment_id: int) -> str | Response | tuple[str, int]:
    """Receive a sent shipment, counting each line (the waybill's QR code opens this page)."""
    org_id = current_org_id()
    if request.method == "POST" and not can(current_role(), "manage_shipments"):
        abort(403)  # whatever the shipment: a role that may not receive learns nothing of it
    shipment = or_404(shipments.get_shipment, org_id, shipment_id)
    if request.method == "GET":
        return _shipment_page(shipment, None)
    form = _receive_form(shipments.describe(shipment))
    if form is None:
        return _shipment_page(shipment, None), 409
    if form.validate_on_submit():

        def action() -> dict[str, Any]:
            done = shipments.receive_shipment(
                org_id,
                current_user_id(),
                shipment_id,
                site_id=form.site_id.data,
                counts=_counts(form),
            )
            view = shipments.describe(done)
            return {"message": _received_message(view), "summary": _received_message(view)}

        if submit_once(form, "shipment_receive", action) is not None:
            return redirect(url_for(".show", shipment_id=shipment_id))
    return _shipment_page(shipment, form), 422


@bp.route("/shipments/<int:shipment_id>/waybill.pdf")
@requires("view_shipments")
def waybill_pdf(shipment_id: int) -> Response:
    """Print the waybill: from and to, sites by name, lines, a QR code to receive it."""
    org_id = current_org_id()
    shipment = or_404(shipments.get_shipment, org_id, shipment_id)
    view = shipments.describe(shipment)
    frame = ReportFrame(
        organisation=view.sender.name,
        title=_("Waybill"),
        period="",
        made_at=made_at_text(datetime.now(UTC), accounts.organisation_zone(org_id)),
    )
    link = absolute_url(".receive", shipment_id=shipment.id)
    response = make_response(waybill.build(frame, view, link))
    response.mimetype = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="waybill-{shipment.id}.pdf"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- helpers -------------------------------------------------------------------------------------


def _shipment_page(
    shipment: Shipment, form: ReceiveForm | None, refused: ButtonForm | None = None
) -> str:
    """Render a shipment for either side, with the receive form where the reader may use it."""
    org_id = current_org_id()
    view = shipments.describe(shipment)
    if form is None:
        form = _receive_form(view, fresh=True)
    return render_template(
        "shipments/shipment.html",
        view=view,
        shipment=shipment,
        is_sender=shipment.organisation_id == org_id,
        may_manage=can(current_role(), "manage_shipments"),
        form=form,
        refused=refused,
        sites=catalogue.list_sites(org_id),
    )


def _receive_form(view: shipments.ShipmentView, *, fresh: bool = False) -> ReceiveForm | None:
    """Return the receive form for the receiver of a sent shipment (None for anyone else).

    Each line starts on our item of the same name and size, typed in, as any item is: a
    line is never a list of the whole catalogue.
    """
    org_id, shipment = current_org_id(), view.shipment
    if shipment.to_organisation_id != org_id or shipment.status != "sent":
        return None
    if not can(current_role(), "manage_shipments"):
        return None
    form = ReceiveForm(formdata=None) if fresh else ReceiveForm()
    sites = catalogue.list_sites(org_id)
    form.site_id.choices = choices((s.id, s.name) for s in sites)
    if fresh or not form.lines.entries:
        while form.lines.entries:
            form.lines.pop_entry()
        same = shipments.matching_items(org_id, [line.item for line in view.lines])
        for line in view.lines:
            ours = same.get(line.item.id)
            form.lines.append_entry(
                {"line_id": str(line.line.id), "item": ours.label if ours else ""}
            )
    for row, line in zip(form.lines, view.lines, strict=False):
        row.sent = line  # what the template shows beside the count
    return form


def _counts(form: ReceiveForm) -> list[Counted]:
    """Return each counted line of the form with the item typed for it; refuse a broken one."""
    found = {row.name: item for row, item in filled_rows(form.lines)}
    counts = []
    for row in form.lines:
        try:
            line_id = whole_id(row.line_id.data)
        except (TypeError, ValueError):
            raise ValidationError(_("No such line in this shipment.")) from None
        item = found.get(row.name)
        counts.append(
            Counted(line_id=line_id, item_id=item.id if item else None, received=row.received.data)
        )
    return counts


def _received_message(view: shipments.ShipmentView) -> str:
    """Say what arrived and, if anything, how much was lost on the way."""
    where = view.to_site.name if view.to_site else ""
    if not view.lost:
        return _(
            "Shipment %(number)s received at %(site)s: everything arrived.",
            number=view.shipment.id,
            site=where,
        )
    return ngettext(
        "Shipment %(number)s received at %(site)s: %(lost)s missing, recorded as lost in transit.",
        "Shipment %(number)s received at %(site)s: %(lost)s missing, recorded as lost in transit.",
        view.lost,
        number=view.shipment.id,
        site=where,
        lost=i18n.number(view.lost),
    )
