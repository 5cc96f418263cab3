"""Forms of member administration."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from ..models import ROLES
from .common import SubmissionForm

ROLE_LABELS: dict[str, Any] = {
    "admin": _l("Admin"),
    "coordinator": _l("Coordinator"),
    "warehouse": _l("Warehouse volunteer"),
    "kitchen": _l("Kitchen lead"),
    "donor": _l("Donor (read only)"),
}
ROLE_CHOICES = [SelectChoice(role, ROLE_LABELS[role]) for role in ROLES]


class AddMemberForm(SubmissionForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    display_name = StringField(_l("Name shown to others"), validators=[Length(max=120)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, default="warehouse")
    password = PasswordField(
        _l("Initial password (new users only; at least 8 characters)"),
        validators=[Length(max=200)],
    )
    submit = SubmitField(_l("Add member"))


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    submit = SubmitField(_l("Change role"))
