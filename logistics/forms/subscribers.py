"""The forms of e-mail subscribers: subscribe from a share page, confirm the address."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from .. import limits
from .common import SubmissionForm


class SubscribeForm(SubmissionForm):
    """An address asking for the weekly donor report."""

    email = EmailField(
        _l("Your e-mail"),
        validators=[
            DataRequired(message=_l("Enter your e-mail address.")),
            Length(max=limits.MAX_EMAIL),
        ],
    )
    # A honeypot: people never see it, robots fill in every box. Filled, nothing is recorded.
    website = StringField(_l("Leave this empty"), validators=[Length(max=limits.MAX_SOURCE)])
    submit = SubmitField(_l("Send me the weekly report"))

    def caught(self) -> bool:
        """Tell whether the hidden box was filled in: a robot, answered but never recorded."""
        return bool((self.website.data or "").strip())


class ConfirmForm(FlaskForm):
    """The button that confirms an address (a mail scanner's GET confirms nothing)."""

    submit = SubmitField(_l("Confirm"))
