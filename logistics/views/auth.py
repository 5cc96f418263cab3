"""Log in and out, switch organisation, manage one's API tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from ..auth import current_membership
from ..extensions import db
from ..forms.auth import LoginForm, PlainForm, TokenForm
from ..services import accounts
from ..services.errors import ServiceError
from ._submit import submit_once

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("stock.overview"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(
                form.email.data,
                form.password.data,
                max_failures=current_app.config["LOGIN_MAX_FAILURES"],
                lockout=timedelta(minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"]),
            )
        except ServiceError as refusal:
            db.session.commit()  # keep the failure count
            form.form_errors.append(refusal.message)
            return render_template("auth/login.html", form=form), 401
        db.session.commit()
        session.clear()
        login_user(user)
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    PlainForm().validate_on_submit()
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/switch/<int:organisation_id>", methods=["POST"])
@login_required
def switch(organisation_id: int) -> Response:
    memberships = accounts.memberships_of(current_user.id)
    if not any(m.organisation_id == organisation_id for m in memberships):
        return redirect(url_for("stock.overview"), 303)
    session["organisation_id"] = organisation_id
    session.pop("last_site_id", None)
    return redirect(url_for("stock.overview"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account() -> str | Response:
    membership = current_membership()
    form = TokenForm()
    new_token = None
    if membership and form.validate_on_submit():
        created: dict[str, str] = {}

        def action() -> dict[str, Any]:
            # The token itself is never stored with the submission: a replay cannot show it.
            created["token"] = accounts.create_token(membership.id, form.label.data or "")
            return {"message": _("Copy the token now: it is shown only once.")}

        if submit_once(form, "api_token", action) is not None:
            new_token = created.get("token")
    return render_template(
        "auth/account.html",
        form=form,
        new_token=new_token,
        tokens=accounts.tokens_of(membership.id) if membership else [],
        memberships=accounts.memberships_of(current_user.id),
        plain=PlainForm(),
    )


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int) -> Response:
    membership = current_membership()
    if membership and PlainForm().validate_on_submit():
        accounts.revoke_token(membership.id, token_id)
        db.session.commit()
        flash(_("Token revoked."))
    return redirect(url_for("auth.account"))


def _safe_next(target: str | None) -> str:
    """Follow ?next= only to a path on this site."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("stock.overview")
