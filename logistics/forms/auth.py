"""Login and account forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from .common import SubmissionForm


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    submit = SubmitField(_l("Log in"))


class TokenForm(SubmissionForm):
    label = StringField(_l("What is this token for?"), validators=[Length(max=120)])
    submit = SubmitField(_l("Create API token"))


class PlainForm(FlaskForm):
    """A form with only its CSRF token: for buttons that post."""
