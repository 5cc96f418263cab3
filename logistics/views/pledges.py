"""Pledges: a donor promises goods through a share link or the donor page; staff expect them."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response

from .. import i18n
from ..auth import current_org_id, current_role, current_user_id, requires
from ..extensions import db
from ..forms.pledges import PledgeForm, RejectForm, pledge_form
from ..models import Organisation, Pledge, ShareLink
from ..permissions import can
from ..security import secret_link
from ..services import distributions, pledges
from ..services.errors import ServiceError
from ._submit import or_404, record_once, show_refusal, submit_once
from .reports import live_link

bp = Blueprint("pledges", __name__)

# Share tokens are 32 characters; anything much longer is no token (as views.reports says).
# The expected-deliveries page: the next two weeks, and the days a pledge may be late.
AHEAD_DAYS = 14


# --- donors ------------------------------------------------------------------------------------


@bp.route("/share/<token>/pledge", methods=["POST"])
@secret_link
def share_pledge(token: str) -> str | Response | tuple[str, int]:
    """Record a pledge made through a share link, without an account."""
    link = live_link(token)
    org_id = link.organisation_id
    form = pledge_form(org_id)
    if form.caught():
        # Answer a robot as if it worked, so it learns nothing; record nothing.
        flash(_thanks(form), "success")
        return redirect(url_for("reports.share", token=token))
    if not form.validate():
        return _refused(form, 422, link=link, token=token)

    def action() -> dict[str, Any]:
        return _made(form, org_id, source="link", share_link_id=link.id, user_id=None)

    try:
        result, _first = record_once(org_id, form.request_token.data, "pledge_link", action, None)
    except ServiceError as refusal:
        show_refusal(form, refusal)
        return _refused(form, refusal.status, link=link, token=token)
    flash(result["message"], "success")
    return redirect(url_for("reports.share", token=token))


@bp.route("/pledge", methods=["POST"])
@requires("make_pledges")
def donor_pledge() -> str | Response | tuple[str, int]:
    """Record a pledge made by a signed-in donor (or any member) on the donor page."""
    org_id = current_org_id()
    form = pledge_form(org_id)
    if form.caught():
        flash(_thanks(form), "success")
        return redirect(url_for("reports.donor_home"))
    if form.validate():

        def action() -> dict[str, Any]:
            return _made(
                form, org_id, source="donor", share_link_id=None, user_id=current_user_id()
            )

        if submit_once(form, "pledge_donor", action) is not None:
            return redirect(url_for("reports.donor_home"))
    return _refused(form, 422)


# --- staff ---------------------------------------------------------------------------------------


@bp.route("/pledges")
@requires("view_pledges")
def expected() -> str:
    """List the deliveries donors promised, by day, and the pledges closed last."""
    org_id = current_org_id()
    today = distributions.local_today(org_id)
    first = today - timedelta(days=pledges.LAPSE_DAYS)
    days: dict[date, list[Pledge]] = defaultdict(list)
    for pledge in pledges.expected(org_id, first, today + timedelta(days=AHEAD_DAYS)):
        days[pledge.expected_on].append(pledge)
    role = current_role()
    return render_template(
        "pledges/expected.html",
        days=sorted(days.items()),
        today=today,
        closed=pledges.recently_closed(org_id),
        sees_contact=can(role, "view_pledge_contacts"),
        may_reject=can(role, "reject_pledges"),
        max_reason=pledges.MAX_REASON,
    )


@bp.route("/pledges/<int:pledge_id>/reject", methods=["POST"])
@requires("reject_pledges")
def reject(pledge_id: int) -> Response:
    """Turn an open pledge down, with the reason why."""
    org_id = current_org_id()
    pledge = or_404(pledges.get_pledge, org_id, pledge_id)
    form = RejectForm()
    if not form.validate():
        flash(_("Say why the pledge is rejected."), "error")
        return redirect(url_for(".expected"))

    def action() -> dict[str, Any]:
        done = pledges.reject_pledge(org_id, pledge.id, current_user_id(), form.reason.data)
        named = {
            "quantity": i18n.number(done.quantity),
            "item": done.item.label,
            "day": i18n.when(done.expected_on, "day"),
        }
        return {
            "message": _("Pledge rejected: %(quantity)s %(item)s for %(day)s.", **named),
            "summary": _("pledge of %(quantity)s %(item)s for %(day)s rejected", **named),
        }

    if submit_once(form, "pledge_reject", action) is None:
        for problem in form.form_errors:
            flash(problem, "error")
    return redirect(url_for(".expected"))


# --- helpers -------------------------------------------------------------------------------------


def _made(
    form: PledgeForm,
    org_id: int,
    *,
    source: str,
    share_link_id: int | None,
    user_id: int | None,
) -> dict[str, Any]:
    """Record the form's pledge and return what its request token keeps."""
    pledge = pledges.make_pledge(
        org_id,
        item_id=form.item_id.data,
        quantity=form.quantity.data,
        expected_on=form.expected_on.data,
        contact_email=form.contact_email.data,
        source=source,
        share_link_id=share_link_id,
        user_id=user_id,
        today=distributions.local_today(org_id),
    )
    return {"pledge_id": pledge.id, "message": _thanks(form), "summary": _thanks(form)}


def _thanks(form: PledgeForm) -> str:
    """Say thank you with what was pledged: "Thank you: 20 Sleeping bag on Sat 5 Dec …"."""
    label = next(
        (str(c.label) for c in form.item_id.choices or [] if c.value == form.item_id.data), None
    )
    quantity, day = form.quantity.data, form.expected_on.data
    if label is None or not isinstance(quantity, int) or not isinstance(day, date):
        return _("Thank you: your pledge is noted.")
    return ngettext(
        "Thank you: %(quantity)s %(item)s on %(day)s is expected.",
        "Thank you: %(quantity)s %(item)s on %(day)s are expected.",
        quantity,
        quantity=i18n.number(quantity),
        item=label,
        day=i18n.when(day, "day"),
    )


def _refused(
    form: PledgeForm, status: int, *, link: ShareLink | None = None, token: str | None = None
) -> tuple[str, int]:
    """Show the form again, filled in, with why it was refused; a public page for a link."""
    if link is not None:
        organisation = db.session.get(Organisation, link.organisation_id)
        action = url_for(".share_pledge", token=token)
        back = url_for("reports.share", token=token)
    else:
        organisation = None
        action = url_for(".donor_pledge")
        back = url_for("reports.donor_home")
    page = render_template(
        "pledges/refused.html",
        form=form,
        organisation=organisation,
        public=link is not None,
        action=action,
        back=back,
    )
    return page, status
