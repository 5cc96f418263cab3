"""Forms of needs and alerts: people estimates, alert channels, a member's own subscription."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange, Optional

from .. import limits
from ..labels import (
    CHANNEL_KIND_LABELS,
)
from .common import SubmissionForm, WholeField, choices

SUBSCRIPTION_CHOICES = choices(
    [
        ("none", _l("Nothing")),
        ("critical", _l("Critical shortages only, as they happen")),
        ("all", _l("Every shortage (warnings and criticals), as it happens")),
        ("digest", _l("One e-mail a day listing the open shortages")),
    ]
)


class PeopleEstimateForm(SubmissionForm):
    area = StringField(
        _l("Area (town or district)"), validators=[DataRequired(), Length(max=limits.MAX_AREA)]
    )
    people = WholeField(
        _l("People (a count)"),
        validators=[InputRequired(), NumberRange(min=0, max=limits.MAX_PEOPLE)],
    )
    as_of = DateField(_l("Date of the estimate"), validators=[InputRequired()])
    submit = SubmitField(_l("Record estimate"))


class ChannelForm(SubmissionForm):
    kind = SelectField(_l("Kind"), choices=choices(CHANNEL_KIND_LABELS.items()))
    target = StringField(
        _l("E-mail address or webhook URL"),
        validators=[DataRequired(), Length(max=limits.MAX_CHANNEL_TARGET)],
    )
    # Never filled back in: a saved secret is shown only by its last characters.
    secret = PasswordField(
        _l("Webhook secret (16 characters or more)"),
        validators=[Optional(), Length(max=limits.MAX_CHANNEL_SECRET)],
    )
    min_severity = SelectField(
        _l("Send"),
        choices=choices(
            [("warning", _l("Warnings and criticals")), ("critical", _l("Criticals only"))]
        ),
    )
    mode = SelectField(
        _l("When"),
        choices=choices(
            [("immediate", _l("As it happens")), ("digest", _l("One message a day (digest)"))]
        ),
    )
    submit = SubmitField(_l("Add channel"))


class ChannelSwitchForm(SubmissionForm):
    active = HiddenField(validators=[AnyOf(["0", "1"])])


class SubscriptionForm(SubmissionForm):
    choice = RadioField(_l("E-mail me"), choices=SUBSCRIPTION_CHOICES, validators=[DataRequired()])
    submit = SubmitField(_l("Save"))
