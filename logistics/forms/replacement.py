"""The replacement kit form: item and quantity rows per shelter destroyed and per person."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import FieldList, Form, FormField, SelectField, SubmitField
from wtforms.validators import NumberRange, Optional

from .. import limits
from .common import SubmissionForm, WholeField, whole_id

# Empty rows offered under each basis, to add lines without JavaScript.
BLANK_ROWS = 3
# Rows read per basis: the kit's most lines and the blank ones; the service counts the lines.
MAX_ROWS = limits.MAX_LINES + BLANK_ROWS


class KitRowForm(Form):
    """One line: an item (0 for none) and how many; no item, or 0 or empty, removes it."""

    item_id = SelectField(_l("Item"), coerce=whole_id, validate_choice=False, default=0)
    quantity = WholeField(
        _l("Quantity"),
        validators=[Optional(), NumberRange(min=0, max=limits.MAX_KIT_QUANTITY)],
    )


class ReplacementKitForm(SubmissionForm):
    per_shelter = FieldList(FormField(KitRowForm), max_entries=MAX_ROWS)
    per_person = FieldList(FormField(KitRowForm), max_entries=MAX_ROWS)
    submit = SubmitField(_l("Save the kit"))
