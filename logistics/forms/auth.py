"""Login, password and account forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, EqualTo, Length

from .. import limits
from ..i18n import MEMBER_LANGUAGE_CHOICES
from .common import SubmissionForm, email_field

PASSWORD_MAX = 200


class LoginForm(FlaskForm):
    email = email_field()
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=PASSWORD_MAX)])
    remember = BooleanField(_l("Keep me signed in on this phone (30 days)"))
    submit = SubmitField(_l("Log in"))


def new_password_fields() -> tuple[PasswordField, PasswordField]:
    """Return the new-password field and its repeat."""
    return (
        PasswordField(
            _l("New password (at least 8 characters)"),
            validators=[DataRequired(), Length(min=8, max=PASSWORD_MAX)],
        ),
        PasswordField(
            _l("New password again"),
            validators=[DataRequired(), EqualTo("password", message=_l("The two differ."))],
        ),
    )


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=PASSWORD_MAX)]
    )
    password, confirm = new_password_fields()
    submit = SubmitField(_l("Change password"))


class ForgotPasswordForm(FlaskForm):
    email = email_field()
    submit = SubmitField(_l("Send me a link"))


class ResetPasswordForm(FlaskForm):
    password, confirm = new_password_fields()
    submit = SubmitField(_l("Set password"))


class JoinForm(FlaskForm):
    """Accept an invitation with a new account."""

    display_name = StringField(
        _l("Your name, as others see it"), validators=[DataRequired(), Length(max=limits.MAX_NAME)]
    )
    password, confirm = new_password_fields()
    submit = SubmitField(_l("Join"))


class TokenForm(SubmissionForm):
    label = StringField(_l("What is this token for?"), validators=[Length(max=limits.MAX_NAME)])
    submit = SubmitField(_l("Create API token"))


class LanguageForm(FlaskForm):
    locale = SelectField(
        _l("Language"), choices=[SelectChoice(code, name) for code, name in MEMBER_LANGUAGE_CHOICES]
    )
    submit = SubmitField(_l("Save language"))


class PlainForm(FlaskForm):
    """A form with only its CSRF token: for buttons that post."""
