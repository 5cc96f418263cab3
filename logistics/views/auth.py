"""Log in and out, passwords, signed-in devices, invitations, organisation switch, API tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

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
from flask_babel import force_locale, refresh
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user
from werkzeug.wrappers import Response

from .. import notify
from ..auth import current_membership, current_role, sign_in
from ..extensions import db
from ..forms.auth import (
    ChangePasswordForm,
    ForgotPasswordForm,
    JoinForm,
    LanguageForm,
    LoginForm,
    PlainForm,
    ResetPasswordForm,
    TokenForm,
)
from ..i18n import LANGUAGE_COOKIE, LANGUAGE_COOKIE_AGE, clean_language, current_language
from ..services import accounts, signins
from ..services.errors import NotFound, ServiceError
from ._submit import or_404, show_refusal, submit_once

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")))
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
        sign_in(user, remember=bool(form.remember.data))
        db.session.commit()
        return redirect(safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    if PlainForm().validate_on_submit() and current_user.is_authenticated:
        signins.end_by_key(current_user.session_key or "")
        db.session.commit()
    logout_user()
    session.clear()
    response = redirect(url_for("auth.login"))
    # What the phone kept for offline use (pages, the outbox) belonged to this member.
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


@bp.route("/switch/<int:organisation_id>", methods=["POST"])
@login_required
def switch(organisation_id: int) -> Response:
    memberships = accounts.memberships_of(current_user.id)
    if not any(m.organisation_id == organisation_id for m in memberships):
        return redirect(url_for("stock.overview"), 303)
    session["organisation_id"] = organisation_id
    session.pop("last_site_id", None)
    accounts.remember_organisation(current_user.id, organisation_id)
    db.session.commit()
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
    return _account_page(form, new_token=new_token)


def _account_page(
    token_form: TokenForm,
    *,
    new_token: str | None = None,
    password_form: ChangePasswordForm | None = None,
) -> str:
    membership = current_membership()
    return render_template(
        "auth/account.html",
        form=token_form,
        new_token=new_token,
        password_form=password_form or ChangePasswordForm(formdata=None),
        tokens=accounts.tokens_of(membership.id) if membership else [],
        memberships=accounts.memberships_of(current_user.id),
        devices=signins.live_of(current_user.id),
        this_device=current_user.session_id,
        plain=PlainForm(),
        language_form=LanguageForm(formdata=None, locale=current_user.locale or ""),
    )


@bp.route("/account/language", methods=["POST"])
@login_required
def change_language() -> Response:
    form = LanguageForm()
    if form.validate_on_submit():
        accounts.set_user_language(current_user.id, form.locale.data)
        db.session.commit()
        # The page after the change speaks the new language.
        refresh()
        flash(_("Language saved."), "success")
    return redirect(url_for("auth.account"), 303)


@bp.route("/language/<code>")
def switch_language(code: str) -> Response:
    """Keep the language chosen on a logged-out page in a cookie, then go back."""
    response = redirect(safe_next(request.args.get("next")), 303)
    language = clean_language(code)
    if language is not None:
        response.set_cookie(
            LANGUAGE_COOKIE,
            language,
            max_age=LANGUAGE_COOKIE_AGE,
            secure=request.is_secure,
            httponly=True,
            samesite="Lax",
        )
    return response


@bp.route("/account/password", methods=["POST"])
@login_required
def change_password() -> str | Response | tuple[str, int]:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            accounts.change_password(
                current_user.id,
                form.current_password.data,
                form.password.data,
                keep_key=current_user.session_key,
            )
            db.session.commit()
        except ServiceError as refusal:
            db.session.rollback()
            show_refusal(form, refusal)
        else:
            flash(_("Password changed. Your other devices and API tokens were signed out."))
            return redirect(url_for("auth.account"), 303)
    return _account_page(TokenForm(formdata=None), password_form=form), 422


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int) -> Response:
    membership = current_membership()
    if membership and PlainForm().validate_on_submit():
        or_404(accounts.revoke_token, membership.id, token_id)
        db.session.commit()
        flash(_("Token revoked."))
    return redirect(url_for("auth.account"))


@bp.route("/account/devices/<int:session_id>/end", methods=["POST"])
@login_required
def end_device(session_id: int) -> Response:
    if PlainForm().validate_on_submit():
        or_404(signins.end, current_user.id, session_id)
        db.session.commit()
        flash(_("That device is signed out."))
    return redirect(url_for("auth.account"), 303)


@bp.route("/account/devices/end-others", methods=["POST"])
@login_required
def end_other_devices() -> Response:
    if PlainForm().validate_on_submit():
        signins.end_all(current_user.id, except_key=current_user.session_key)
        db.session.commit()
        flash(_("Every other device is signed out."))
    return redirect(url_for("auth.account"), 303)


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot_password() -> str | Response:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        lifetime = timedelta(minutes=current_app.config["PASSWORD_RESET_MINUTES"])
        found = accounts.request_password_reset(form.email.data, lifetime)
        db.session.commit()
        if found is not None:
            user, token = found
            link = absolute_url("auth.reset_password", token=token)
            with force_locale(accounts.reading_language(user, current_language())):
                subject = _("Set a new password")
                text = _(
                    "Someone asked to set a new password for %(email)s.\n\n"
                    "Open this link within an hour to choose one (it works once):\n%(link)s\n\n"
                    "If it was not you, ignore this e-mail: your password stays as it is.",
                    email=user.email,
                    link=link,
                )
            send_mail(user.email, subject, text)
        # The same answer whether or not the address has an account.
        flash(
            _(
                "If an account exists for that address, a link to set a new password is on "
                "its way. It works once, within an hour."
            )
        )
        return redirect(url_for("auth.login"), 303)
    return render_template("auth/forgot.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> str | Response | tuple[str, int]:
    try:
        accounts.live_reset(token)
    except NotFound as gone:
        return render_template("auth/link_gone.html", message=gone.message), 404
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            accounts.reset_password(token, form.password.data)
            db.session.commit()
        except ServiceError as refusal:
            db.session.rollback()
            show_refusal(form, refusal)
        else:
            logout_user()
            session.clear()
            flash(_("Password set. Log in with it; every device was signed out."))
            return redirect(url_for("auth.login"), 303)
    return render_template("auth/reset.html", form=form)


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def invitation(token: str) -> str | Response | tuple[str, int]:
    try:
        invite = accounts.live_invitation(token)
    except NotFound as gone:
        return render_template("auth/link_gone.html", message=gone.message), 404
    has_account = accounts.user_by_email(invite.email) is not None
    join_form = JoinForm()
    confirm = PlainForm()
    try:
        if not has_account and join_form.validate_on_submit():
            membership = accounts.join_with_invitation(
                token, join_form.display_name.data, join_form.password.data
            )
            sign_in(membership.user, remember=False)
            return _joined(membership.organisation_id)
        if has_account and current_user.is_authenticated and confirm.validate_on_submit():
            membership = accounts.accept_invitation(token, current_user.id)
            session["organisation_id"] = membership.organisation_id
            return _joined(membership.organisation_id)
    except ServiceError as refusal:
        db.session.rollback()
        show_refusal(join_form, refusal)
    return render_template(
        "auth/invitation.html",
        invite=invite,
        has_account=has_account,
        join_form=join_form,
        confirm=confirm,
        is_for_me=current_user.is_authenticated and current_user.email == invite.email,
    )


def _joined(organisation_id: int) -> Response:
    session["organisation_id"] = organisation_id
    db.session.commit()
    flash(_("Welcome: you are now a member."))
    return redirect(url_for("stock.overview"), 303)


def absolute_url(endpoint: str, **values: Any) -> str:
    """Return a link for e-mails, on the configured address (never the request's Host)."""
    return current_app.config["BASE_URL"].rstrip("/") + url_for(endpoint, **values)


def send_mail(to: str, subject: str, text: str) -> bool:
    """Send an account e-mail now; log and carry on when the server does not take it."""
    try:
        notify.send_email(to, notify.Message(subject, text, {}), current_app.config)
    except notify.DeliveryFailed as failure:
        current_app.logger.warning("Could not e-mail %s: %s", to, failure)
        return False
    return True


def home_url() -> str:
    """Return where a member starts: donors on what to give, everyone else on the stock."""
    return url_for("reports.donor_home" if current_role() == "donor" else "stock.overview")


def safe_next(target: str | None) -> str:
    """Follow ?next= only to a path on this site; anything else goes home."""
    home = home_url()
    if not target or not target.startswith("/") or target.startswith("//"):
        return home
    # Browsers drop tabs and newlines and read "\" as "/": "/\t/evil" would leave the site.
    if any(ord(char) < 0x21 or char in "\\\x7f" for char in target):
        return home
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return home
    return target
