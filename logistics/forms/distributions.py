"""Forms to schedule distributions, plan their lines and record what happened."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    DateTimeLocalField,
    FieldList,
    Form,
    FormField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from .. import limits
from .common import SubmissionForm, WholeField, choices, whole_id

BLANK_LINES = 4
# A planned line's source choice that means "the distribution's own source".
SAME_SOURCE = 0
WEEKDAYS = choices(
    enumerate([_l("Mon"), _l("Tue"), _l("Wed"), _l("Thu"), _l("Fri"), _l("Sat"), _l("Sun")])
)
COUNT = [Optional(), NumberRange(min=0, max=limits.MAX_HEADCOUNT)]


class LineForm(Form):
    """One line: an item typed by its label and a quantity (empty rows are skipped)."""

    item = StringField(_l("Item"), validators=[Optional(), Length(max=limits.MAX_ITEM_LABEL)])
    quantity = WholeField(
        _l("Quantity"), validators=[Optional(), NumberRange(min=0, max=limits.MAX_QUANTITY)]
    )


class PlannedLineForm(LineForm):
    """A planned line, with the site its goods come from (0: the distribution's source)."""

    source = SelectField(_l("From"), coerce=whole_id, default=SAME_SOURCE)


class CheckboxesField(SelectMultipleField):
    """Several choices as tick boxes, no JavaScript needed."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class PlacesMixin:
    site_id = SelectField(_l("Distribution point"), coerce=whole_id)
    source_site_id = SelectField(_l("Goods come from"), coerce=whole_id)


class SeriesForm(SubmissionForm, PlacesMixin):
    weekdays = CheckboxesField(_l("Weekdays"), coerce=whole_id, choices=WEEKDAYS)
    local_time = TimeField(_l("Time"), validators=[InputRequired()])
    starts_on = DateField(_l("First day"), validators=[InputRequired()])
    ends_on = DateField(_l("Last day (optional)"), validators=[Optional()])
    lines = FieldList(FormField(PlannedLineForm), min_entries=BLANK_LINES)
    submit = SubmitField(_l("Save series"))


class OneOffForm(SubmissionForm, PlacesMixin):
    starts_at = DateTimeLocalField(
        _l("Date and time"), format="%Y-%m-%dT%H:%M", validators=[InputRequired()]
    )
    lines = FieldList(FormField(PlannedLineForm), min_entries=BLANK_LINES)
    submit = SubmitField(_l("Schedule"))


class PlanForm(SubmissionForm):
    starts_at = DateTimeLocalField(
        _l("Date and time"), format="%Y-%m-%dT%H:%M", validators=[InputRequired()]
    )
    lines = FieldList(FormField(PlannedLineForm), min_entries=BLANK_LINES)
    submit = SubmitField(_l("Save this distribution"))


class OutcomeForm(SubmissionForm):
    status = RadioField(
        _l("What happened"),
        choices=choices(
            [
                ("held", _l("Held")),
                ("disrupted", _l("Disrupted (police, weather…)")),
                ("cancelled", _l("Cancelled")),
            ]
        ),
        validators=[DataRequired()],
    )
    headcount = WholeField(_l("People served (count)"), validators=COUNT)
    headcount_minors = WholeField(_l("Of whom minors (optional)"), validators=COUNT)
    headcount_women = WholeField(_l("Of whom women (optional)"), validators=COUNT)
    note = TextAreaField(
        _l("Note (e.g. CRS stopped it at 18:20)"),
        validators=[Optional(), Length(max=limits.MAX_NOTE)],
    )
    lines = FieldList(FormField(LineForm), min_entries=BLANK_LINES)
    submit = SubmitField(_l("Record outcome"))


class EndSeriesForm(SubmissionForm):
    submit = SubmitField(_l("End this series"))
