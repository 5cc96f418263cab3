"""The replacement kit form: item and quantity rows per shelter destroyed and per person."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import FieldList, Form, FormField, StringField, SubmitField
from wtforms.validators import Length, NumberRange, Optional

from .. import limits
from .common import SubmissionForm, WholeField

# Empty rows offered under each basis, to add lines without JavaScript.
BLANK_ROWS = 3
# Rows read per basis: the kit's most lines and the blank ones; the service counts the lines.
MAX_ROWS = limits.MAX_LINES + BLANK_ROWS


class KitRowForm(Form):
    """One line: an item typed by its label and how many; no item, or 0 or empty, removes it."""

    item = StringField(_l("Item"), validators=[Optional(), Length(max=limits.MAX_ITEM_LABEL)])
    quantity = WholeField(
        _l("Quantity"),
        validators=[Optional(), NumberRange(min=0, max=limits.MAX_KIT_QUANTITY)],
    )


class ReplacementKitForm(SubmissionForm):
    per_shelter = FieldList(FormField(KitRowForm), max_entries=MAX_ROWS)
    per_person = FieldList(FormField(KitRowForm), max_entries=MAX_ROWS)
    submit = SubmitField(_l("Save the kit"))
