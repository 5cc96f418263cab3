"""Member administration: invitations, roles, removing members and deactivating accounts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import force_locale, refresh
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from ..auth import current_membership, current_org_id, requires
from ..extensions import db
from ..forms.admin import (
    AlertSettingsForm,
    InviteForm,
    OrganisationLanguageForm,
    RoleForm,
)
from ..forms.auth import PlainForm
from ..i18n import language_of
from ..labels import ROLE_LABELS
from ..models import Membership
from ..services import accounts
from ..services.errors import ServiceError
from ._submit import or_404, submit_once
from .auth import absolute_url, send_mail

bp = Blueprint("admin", __name__)


@bp.route("/members")
@requires("manage_users")
def members() -> str:
    return _members_page()


@bp.route("/members/new", methods=["GET", "POST"])
@requires("manage_users")
def add_member() -> str | Response:
    form = InviteForm()
    if form.validate_on_submit():
        sent: dict[str, str] = {}

        def action() -> dict[str, Any]:
            lifetime = timedelta(days=current_app.config["INVITATION_DAYS"])
            invitation, token = accounts.invite(
                current_org_id(), form.email.data, form.role.data, current_user.id, lifetime
            )
            sent.update(email=invitation.email, token=token, role=invitation.role)
            return {
                "invitation_id": invitation.id,
                "message": _(
                    "Invitation sent to %(email)s as %(role)s. They join when they accept it.",
                    email=invitation.email,
                    role=ROLE_LABELS[invitation.role],
                ),
            }

        if submit_once(form, "member_invite", action) is not None:
            if sent and not _mail_invitation(sent["email"], sent["token"], sent["role"]):
                flash(
                    _("The e-mail could not be sent; check the e-mail settings, then invite again.")
                )
            return redirect(url_for("admin.members"), 303)
    return render_template("admin/add_member.html", form=form)


def _mail_invitation(email: str, token: str, role: str) -> bool:
    """E-mail an invitation, in the organisation's language."""
    membership = current_membership()
    assert membership is not None
    organisation = membership.organisation
    with force_locale(language_of(None, organisation.locale)):
        subject = _("Invitation to %(org)s", org=organisation.name)
        text = _(
            "%(name)s invites you to %(org)s on the aid logistics tracker, as %(role)s.\n\n"
            "Open this link within %(days)s days to accept:\n%(link)s\n\n"
            "If you do not know them, ignore this e-mail.",
            name=current_user.display_name,
            org=organisation.name,
            role=ROLE_LABELS[role],
            days=current_app.config["INVITATION_DAYS"],
            link=absolute_url("auth.invitation", token=token),
        )
    return send_mail(email, subject, text)


@bp.route("/members/invitations/<int:invitation_id>/cancel", methods=["POST"])
@requires("manage_users")
def cancel_invitation(invitation_id: int) -> Response:
    if PlainForm().validate_on_submit():
        or_404(accounts.cancel_invitation, current_org_id(), invitation_id)
        db.session.commit()
        flash(_("Invitation withdrawn."))
    return redirect(url_for("admin.members"), 303)


@bp.route("/members/<int:membership_id>/role", methods=["POST"])
@requires("manage_users")
def change_role(membership_id: int) -> str | Response | tuple[str, int]:
    membership = _membership_or_404(membership_id)
    form = RoleForm()
    if not form.validate_on_submit():
        return _members_page(_("Pick one of the roles."), 422)
    return _apply(
        lambda: accounts.set_role(current_org_id(), membership.id, form.role.data, current_user.id),
        _(
            "%(email)s is now %(role)s.",
            email=membership.user.email,
            role=ROLE_LABELS[form.role.data],
        ),
    )


@bp.route("/members/<int:membership_id>/remove", methods=["POST"])
@requires("manage_users")
def remove_member(membership_id: int) -> str | Response | tuple[str, int]:
    membership = _membership_or_404(membership_id)
    email = membership.user.email
    return _apply(
        lambda: accounts.remove_member(current_org_id(), membership.id, current_user.id),
        _("%(email)s is no longer a member; their sign-ins and API tokens ended.", email=email),
    )


@bp.route("/members/<int:membership_id>/<any(deactivate, reactivate):action>", methods=["POST"])
@requires("manage_users")
def set_active(membership_id: int, action: str) -> str | Response | tuple[str, int]:
    membership = _membership_or_404(membership_id)
    active = action == "reactivate"
    email = membership.user.email
    return _apply(
        lambda: accounts.set_active(current_org_id(), membership.id, active, current_user.id),
        _("%(email)s can log in again.", email=email)
        if active
        else _("%(email)s can no longer log in.", email=email),
    )


@bp.route("/members/alert-settings", methods=["POST"])
@requires("manage_users")
def alert_settings() -> str | Response | tuple[str, int]:
    form = AlertSettingsForm()
    if form.validate_on_submit():

        def action() -> dict[str, Any]:
            margin = form.resolve_margin_percent.data
            accounts.set_resolve_margin(current_org_id(), margin)
            return {
                "message": _(
                    "Alerts now resolve only when stock is %(margin)s%% above the need.",
                    margin=margin,
                )
            }

        if submit_once(form, "alert_settings", action) is not None:
            return redirect(url_for("admin.members"), 303)
    return _members_page(status=422, settings_form=form)


@bp.route("/members/language", methods=["POST"])
@requires("manage_users")
def organisation_language() -> Response:
    form = OrganisationLanguageForm()
    if form.validate_on_submit():
        accounts.set_organisation_language(current_org_id(), form.locale.data)
        db.session.commit()
        refresh()
        flash(_("The organisation's language is saved."), "success")
    return redirect(url_for("admin.members"), 303)


def _apply(change: Callable[[], Any], done: str) -> str | Response | tuple[str, int]:
    """Make one change to a member, commit and say so; on refusal show the list with why."""
    if not PlainForm().validate_on_submit():
        return redirect(url_for("admin.members"), 303)
    try:
        change()
        db.session.commit()
    except ServiceError as refusal:
        db.session.rollback()
        return _members_page(refusal.message, refusal.status)
    flash(done)
    return redirect(url_for("admin.members"), 303)


def _members_page(
    error: str | None = None, status: int = 200, settings_form: AlertSettingsForm | None = None
) -> Any:
    org_id = current_org_id()
    if settings_form is None:
        margin = current_membership().organisation.resolve_margin_percent
        settings_form = AlertSettingsForm(formdata=None, resolve_margin_percent=margin)
    page = render_template(
        "admin/members.html",
        members=accounts.members(org_id),
        invitations=accounts.pending_invitations(org_id),
        role_labels=ROLE_LABELS,
        error=error,
        settings_form=settings_form,
        language_form=OrganisationLanguageForm(
            formdata=None, locale=current_membership().organisation.locale
        ),
    )
    return (page, status) if status != 200 else page


def _membership_or_404(membership_id: int) -> Membership:
    return or_404(accounts.member, current_org_id(), membership_id)
