"""E-mail subscribers' pages: subscribe from a share link, confirm by a button, unsubscribe."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, redirect, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from .. import i18n, notify
from ..auth import current_org_id
from ..database import retry_when_raced
from ..extensions import csrf, db
from ..forms.subscribers import ConfirmForm, SubscribeForm
from ..models import DonorSubscriber, Organisation
from ..models.types import utcnow
from ..security import secret_link
from ..services import submissions, subscribers
from ..services.errors import ServiceError
from ._submit import record_once, show_refusal
from .auth import absolute_url
from .reports import live_link

bp = Blueprint("subscribers", __name__)

Page = tuple[str, int]


def _secret() -> str:
    return str(current_app.config["SECRET_KEY"])


@bp.app_template_global("donor_subscriber_count")
def _subscriber_count() -> int:
    """Say how many addresses receive the weekly report (never which) on the share links page."""
    return subscribers.count(current_org_id())


# --- subscribe ---------------------------------------------------------------------------------


@bp.route("/share/<token>/subscribe", methods=["GET"])
@secret_link
def subscribe_page(token: str) -> Response:
    """Send a GET (the language switch of the answer page) back to the share page."""
    live_link(token)
    return redirect(url_for("reports.share", token=token), 303)


@bp.route("/share/<token>/subscribe", methods=["POST"])
@secret_link
def subscribe(token: str) -> Page:
    link = live_link(token)
    organisation = db.session.get(Organisation, link.organisation_id)
    form = SubscribeForm()
    if not form.validate_on_submit():
        return _subscribe_page(organisation, token, form), 422
    if form.caught():
        # A robot gets the answer a person gets; nothing is stored or sent.
        return _sent_page(organisation, token)
    language = i18n.current_language()

    def action() -> dict[str, Any]:
        subscriber = subscribers.subscribe(
            organisation.id, form.email.data, language, link.id, utcnow()
        )
        return {"subscriber_id": subscriber.id if subscriber is not None else None}

    try:
        result, replayed_at = record_once(
            organisation.id, form.request_token.data, "donor_subscribe", action, None
        )
    except submissions.TokenConflict:
        raise  # the error page says the form is stale
    except subscribers.TooManySubscriptions as refusal:
        return _message_page(organisation, token, refusal.message), refusal.status
    except ServiceError as refusal:
        show_refusal(form, refusal)
        return _subscribe_page(organisation, token, form), refusal.status
    subscriber_id = result.get("subscriber_id")
    if replayed_at is None and subscriber_id is not None:
        subscriber = db.session.get(DonorSubscriber, subscriber_id)
        if subscriber is not None and not _send_confirmation(organisation, subscriber):
            message = _("The confirmation e-mail could not be sent. Please try again later.")
            return _message_page(organisation, token, message), 503
    return _sent_page(organisation, token)


def _send_confirmation(organisation: Organisation, subscriber: DonorSubscriber) -> bool:
    """Mail the confirmation link in the subscriber's language; False when it did not go."""
    url = absolute_url(
        "subscribers.confirm", token=subscribers.confirm_token(_secret(), subscriber)
    )
    with force_locale(subscriber.locale):
        message = notify.confirmation_message(organisation, url)
    try:
        notify.send_email(subscriber.email, message, current_app.config)
    except notify.DeliveryFailed as failure:
        current_app.logger.warning("Could not send a subscriber confirmation: %s", failure)
        # Asking again later must send at once, not wait as for a mail that went.
        subscriber.created_at = utcnow() - subscribers.RESEND_AFTER
        db.session.commit()
        return False
    return True


def _subscribe_page(organisation: Organisation, token: str, form: SubscribeForm) -> str:
    return render_template(
        "subscribers/subscribe.html",
        organisation=organisation,
        form=form,
        action=url_for("subscribers.subscribe", token=token),
        share_url=url_for("reports.share", token=token),
    )


def _sent_page(organisation: Organisation, token: str) -> Page:
    message = _("Check your inbox: we sent a link to confirm.")
    return _message_page(organisation, token, message), 200


def _message_page(organisation: Organisation, token: str, message: str) -> str:
    return render_template(
        "subscribers/message.html",
        organisation=organisation,
        message=message,
        share_url=url_for("reports.share", token=token),
    )


# --- confirm ---------------------------------------------------------------------------------


@bp.route("/subscribe/<token>", methods=["GET"])
@secret_link
def confirm_page(token: str) -> Page:
    """Show the Confirm button: mail scanners open links, only a person presses the button."""
    subscriber = _subscriber_to_confirm(token)
    if subscriber is None:
        return _expired()
    organisation = db.session.get(Organisation, subscriber.organisation_id)
    return render_template(
        "subscribers/confirm.html",
        organisation=organisation,
        form=ConfirmForm(),
        confirmed=subscriber.confirmed_at is not None,
    ), 200


@bp.route("/subscribe/<token>", methods=["POST"])
@secret_link
def confirm(token: str) -> Page:
    subscriber = _subscriber_to_confirm(token)
    form = ConfirmForm()
    if subscriber is None:
        return _expired()
    if not form.validate_on_submit():
        return confirm_page(token)
    organisation = db.session.get(Organisation, subscriber.organisation_id)
    organisation_id, subscriber_id = subscriber.organisation_id, subscriber.id

    def unit() -> None:
        subscribers.confirm(organisation_id, subscriber_id)
        db.session.commit()

    retry_when_raced(unit)
    return render_template(
        "subscribers/done.html",
        organisation=organisation,
        message=_("You will receive the weekly report."),
    ), 200


def _subscriber_to_confirm(token: str) -> DonorSubscriber | None:
    ticket = subscribers.read_confirm_token(_secret(), token)
    return subscribers.subscriber_of(ticket) if ticket is not None else None


# --- unsubscribe -------------------------------------------------------------------------------


@bp.route("/unsubscribe/<token>", methods=["GET"])
@secret_link
def unsubscribe_page(token: str) -> Page:
    ticket = subscribers.read_unsubscribe_token(_secret(), token)
    if ticket is None:
        return _expired()
    subscriber = subscribers.subscriber_of(ticket)
    if subscriber is None:
        return _unsubscribed()
    organisation = db.session.get(Organisation, subscriber.organisation_id)
    return render_template("subscribers/unsubscribe.html", organisation=organisation), 200


@bp.route("/unsubscribe/<token>", methods=["POST"])
@secret_link
@csrf.exempt  # RFC 8058: mail clients post List-Unsubscribe=One-Click with no form of ours
def unsubscribe(token: str) -> Page:
    ticket = subscribers.read_unsubscribe_token(_secret(), token)
    if ticket is None:
        return _expired()

    def unit() -> None:
        subscriber = subscribers.subscriber_of(ticket)
        if subscriber is not None:
            subscribers.unsubscribe(subscriber.id)
        db.session.commit()

    retry_when_raced(unit)
    return _unsubscribed()


def _unsubscribed() -> Page:
    message = _("You are unsubscribed: no more e-mails, and your address is deleted.")
    return render_template("subscribers/done.html", organisation=None, message=message), 200


def _expired() -> Page:
    return render_template("subscribers/expired.html"), 410
