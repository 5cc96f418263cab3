"""Forms of labels and boxes: what to print, a new box, moving and emptying one."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from .. import limits
from .common import SubmissionForm, WholeField, choices, whole_id
from .stock import ItemChoiceMixin, site_field

FORMAT_CHOICES = choices(
    (
        ("a4", _l("A4 sheet (ten labels a page)")),
        ("62mm", _l("Label printer (62 mm wide)")),
    )
)


class LabelsForm(FlaskForm):
    """What to print: a site's shelves, all it holds or the items ticked, on A4 or a roll."""

    class Meta:
        # A GET form that only reads: nothing to forge, and the PDF link can be shared.
        csrf = False

    site_id = site_field(_l("Site"))
    item_id = SelectMultipleField(
        _l("Items (none ticked: every item the site holds)"),
        coerce=whole_id,
        validators=[Optional()],
        invalid_choice_message=_l("Choose items from the list."),
    )
    format = RadioField(
        _l("Print on"),
        choices=FORMAT_CHOICES,
        default="a4",
        invalid_choice_message=_l("Choose A4 or the label printer."),
    )


class BoxForm(SubmissionForm, ItemChoiceMixin):
    """A new box: the site it sits at, its item and quantity, and a code when one is written."""

    site_id = site_field(_l("Site"))
    quantity = WholeField(
        _l("Quantity in the box"),
        validators=[InputRequired(), NumberRange(min=1, max=limits.MAX_QUANTITY)],
    )
    code = StringField(
        _l("Code (leave empty for the next number)"),
        validators=[Optional(), Length(max=20)],
    )
    save = SubmitField(_l("Save"))


class MoveBoxForm(SubmissionForm):
    to_site_id = site_field(_l("Move the box to"), _l("Choose where it goes."))
    move = SubmitField(_l("Move the box"))


class EmptyBoxForm(SubmissionForm):
    empty = SubmitField(_l("The box is empty"))
