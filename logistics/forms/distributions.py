"""Forms to schedule distributions, plan their lines and record what happened."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from wtforms import (
    BooleanField,
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
from .common import SubmissionForm, WhenMixin, WholeField, choices, whole_id

BLANK_LINES = 4
# Give out now: the first line shows, these more fold under "More items".
HAND_OUT_LINES = 4
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
                ("held", lazy_pgettext("distribution outcome", "Held")),
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
    # Shown once a first save was refused as more than 6 hours early.
    confirm_early = BooleanField(_l("Yes, record it now"))
    submit = SubmitField(_l("Record outcome"))


class HandOutLineForm(LineForm):
    """A line given out, and the site it leaves (0: the point itself).

    Not sent: the member's usual source. The service checks the site is the organisation's,
    so a blank row's choice is never refused.
    """

    source = SelectField(_l("From"), coerce=whole_id, validate_choice=False)


class GiveOutForm(SubmissionForm, WhenMixin):
    """A hand-out nobody planned, recorded as it happens (Give out now)."""

    site_id = SelectField(
        _l("Where"),
        coerce=whole_id,
        invalid_choice_message=_l("Choose where it was given."),
        invalid_value_message=_l("Choose where it was given."),
    )
    headcount = WholeField(
        _l("People served (count)"),
        validators=[
            InputRequired(message=_l("Say how many people came (an estimate is fine).")),
            NumberRange(min=0, max=limits.MAX_HEADCOUNT),
        ],
    )
    lines = FieldList(FormField(HandOutLineForm), min_entries=HAND_OUT_LINES)
    headcount_minors = WholeField(_l("Of whom minors (optional)"), validators=COUNT)
    headcount_women = WholeField(_l("Of whom women (optional)"), validators=COUNT)
    note = TextAreaField(
        _l("Note (optional)"), validators=[Optional(), Length(max=limits.MAX_NOTE)]
    )
    submit = SubmitField(_l("Save"))


class EndSeriesForm(SubmissionForm):
    submit = SubmitField(_l("End this series"))
