"""Member administration: who belongs to the organisation, and with which role."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from ..auth import current_org_id, requires
from ..extensions import db
from ..forms.admin import ROLE_LABELS, AddMemberForm, RoleForm
from ..models import Membership
from ..services import accounts
from ..services.errors import ValidationError
from ._submit import submit_once

bp = Blueprint("admin", __name__)


@bp.route("/members")
@requires("manage_users")
def members() -> str:
    return _members_page()


@bp.route("/members/new", methods=["GET", "POST"])
@requires("manage_users")
def add_member() -> str | Response:
    form = AddMemberForm()
    if form.validate_on_submit():

        def action() -> dict[str, Any]:
            membership = accounts.add_member(
                current_org_id(),
                form.email.data,
                form.role.data,
                password=form.password.data or None,
                display_name=form.display_name.data or None,
            )
            return {
                "membership_id": membership.id,
                "message": _(
                    "Added %(email)s as %(role)s.",
                    email=membership.user.email,
                    role=ROLE_LABELS[membership.role],
                ),
            }

        if submit_once(form, "member_add", action) is not None:
            return redirect(url_for("admin.members"))
    return render_template("admin/add_member.html", form=form)


@bp.route("/members/<int:membership_id>/role", methods=["POST"])
@requires("manage_users")
def change_role(membership_id: int) -> str | Response | tuple[str, int]:
    org_id = current_org_id()
    membership = _membership_or_404(org_id, membership_id)
    form = RoleForm()
    if not form.validate_on_submit():
        return _members_page(_("Pick one of the roles."), 422)
    try:
        accounts.set_role(org_id, membership.id, form.role.data, current_user.id)
        db.session.commit()
    except ValidationError as refusal:
        db.session.rollback()
        return _members_page(refusal.message, 422)
    flash(
        _(
            "%(email)s is now %(role)s.",
            email=membership.user.email,
            role=ROLE_LABELS[form.role.data],
        )
    )
    return redirect(url_for("admin.members"), 303)


def _members_page(error: str | None = None, status: int = 200) -> Any:
    page = render_template(
        "admin/members.html",
        members=accounts.members(current_org_id()),
        role_labels=ROLE_LABELS,
        error=error,
    )
    return (page, status) if status != 200 else page


def _membership_or_404(org_id: int, membership_id: int) -> Membership:
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.organisation_id != org_id:
        abort(404)
    return membership
