"""Forms of member administration."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, SubmitField
from wtforms.validators import InputRequired, NumberRange

from ..i18n import LANGUAGE_NAMES
from ..labels import ROLE_LABELS
from ..models import ROLES
from .common import SubmissionForm, WholeField, email_field

# An alert resolves only when held reaches the need plus this share (Organisation).
MARGIN_RANGE = (0, 100)
ROLE_CHOICES = [SelectChoice(role, ROLE_LABELS[role]) for role in ROLES]


class InviteForm(SubmissionForm):
    email = email_field()
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, default="warehouse")
    submit = SubmitField(_l("Send invitation"))


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    submit = SubmitField(_l("Change role"))


class OrganisationLanguageForm(FlaskForm):
    locale = SelectField(
        _l("Language of the organisation"),
        choices=[SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()],
    )
    submit = SubmitField(_l("Save language"))


class AlertSettingsForm(SubmissionForm):
    resolve_margin_percent = WholeField(
        _l("Resolve alerts only when stock is this much above the need (%)"),
        validators=[
            InputRequired(_l("Give a whole number of percent, from 0 to 100.")),
            NumberRange(
                *MARGIN_RANGE, message=_l("Give a whole number of percent, from 0 to 100.")
            ),
        ],
    )
    submit = SubmitField(_l("Save alert settings"))
