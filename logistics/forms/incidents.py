"""Forms for incidents: the record, its lines, evidence, amendments."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileRequired, MultipleFileField
from werkzeug.datastructures import FileStorage
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FieldList,
    Form,
    FormField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from .. import limits
from ..labels import ACTION_LABELS, ORIGIN_LABELS, TRISTATE_LABELS
from ..labels import INCIDENT_KIND_LABELS as KIND_LABELS
from ..models import INCIDENT_KINDS
from .common import SubmissionForm, WholeField, choices, whole_id

BLANK_LINES = 4
COUNT = [Optional(), NumberRange(min=0, max=limits.MAX_INCIDENT_COUNT)]
TRISTATE_CHOICES = choices(TRISTATE_LABELS.items())
ORIGIN_CHOICES = choices(ORIGIN_LABELS.items())
ACTION_CHOICES = choices(ACTION_LABELS.items())


class IncidentLineForm(Form):
    """One line of lost items; rows without an item are skipped."""

    item = StringField(_l("Item"), validators=[Optional(), Length(max=limits.MAX_ITEM_LABEL)])
    quantity = WholeField(
        _l("Quantity"), validators=[Optional(), NumberRange(min=1, max=limits.MAX_QUANTITY)]
    )
    action = SelectField(_l("What happened"), choices=ACTION_CHOICES, default="destroyed")
    origin = SelectField(_l("Whose"), choices=ORIGIN_CHOICES, default="after_distribution")
    site_id = SelectField(_l("Taken from (our stock)"), coerce=whole_id, validate_choice=False)
    marked_property = BooleanField(_l("Carried our mark"))


class IncidentForm(SubmissionForm):
    occurred_at = DateTimeLocalField(
        _l("Started"), format="%Y-%m-%dT%H:%M", validators=[InputRequired()]
    )
    ended_at = DateTimeLocalField(_l("Ended"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    kind = SelectField(_l("Kind"), choices=choices((k, KIND_LABELS[k]) for k in INCIDENT_KINDS))
    # Only the public areas of the group's sites: donors see incident counts by area.
    area = SelectField(_l("Area"), validate_choice=False)
    site_id = SelectField(
        _l("Our site involved (optional)"), coerce=whole_id, validate_choice=False
    )
    forces_present = TextAreaField(
        _l("Forces present (e.g. 4 gendarmerie vans, 1 PAF van)"),
        validators=[Optional(), Length(max=limits.MAX_INCIDENT_TEXT)],
    )
    bailiff_present = SelectField(_l("Bailiff present"), choices=TRISTATE_CHOICES)
    interpreter_present = SelectField(_l("Interpreter present"), choices=TRISTATE_CHOICES)
    legal_basis_shown = SelectField(_l("Legal basis shown"), choices=TRISTATE_CHOICES)
    shelter_offered = SelectField(_l("Shelter offered"), choices=TRISTATE_CHOICES)
    people_affected = WholeField(_l("People affected"), validators=COUNT)
    shelters_affected = WholeField(_l("Shelters affected"), validators=COUNT)
    witnesses = TextAreaField(
        _l("Witnesses (observers, not the people affected)"),
        validators=[Optional(), Length(max=limits.MAX_INCIDENT_TEXT)],
    )
    description = TextAreaField(
        _l("What happened"), validators=[Optional(), Length(max=limits.MAX_INCIDENT_TEXT)]
    )
    lines = FieldList(FormField(IncidentLineForm), min_entries=BLANK_LINES)
    # Two ways to the same photos: on a phone, capture opens the camera at once (one shot, no
    # gallery), so photos taken earlier are chosen, several at a time, from the other.
    camera = MultipleFileField(_l("Take a photo"))
    photos = MultipleFileField(_l("Choose photos"))
    submit = SubmitField(_l("Save incident"))

    def uploads(self) -> list[FileStorage]:
        """Return the photos sent with the report, taken and chosen."""
        return [*(self.camera.data or []), *(self.photos.data or [])]


class EvidenceForm(SubmissionForm):
    file = MultipleFileField(_l("Photos, video or documents"), validators=[FileRequired()])
    captured_at = DateTimeLocalField(
        _l("Taken at (optional)"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
    submit = SubmitField(_l("Upload"))


class AmendmentForm(SubmissionForm):
    text = TextAreaField(
        _l("Amendment"), validators=[DataRequired(), Length(max=limits.MAX_INCIDENT_TEXT)]
    )
    people_affected = WholeField(
        _l("People affected, corrected (empty: unchanged)"), validators=COUNT
    )
    shelters_affected = WholeField(
        _l("Shelters affected, corrected (empty: unchanged)"), validators=COUNT
    )
    submit = SubmitField(_l("Add amendment"))


class LockForm(SubmissionForm):
    submit = SubmitField(_l("Lock this incident"))
