"""Forms of the ledger: receive, transfer, stocktake, loss, reverse."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from .. import limits
from .common import SubmissionForm, WhenMixin, WholeField, choices, whole_id

QUANTITY = [InputRequired(), NumberRange(min=1, max=limits.MAX_QUANTITY)]
RECEIPT_CHOICES = choices([("donation", _l("Donation")), ("purchase", _l("Purchase"))])


class ItemChoiceMixin:
    """An item typed by its label, matched against a datalist of the catalogue."""

    item = StringField(_l("Item"), validators=[DataRequired(), Length(max=limits.MAX_ITEM_LABEL)])


class SaveButtons:
    save = SubmitField(_l("Save"))
    save_and_add = SubmitField(_l("Save and add another"))


class ReceiveForm(SubmissionForm, ItemChoiceMixin, WhenMixin, SaveButtons):
    site_id = SelectField(_l("Site"), coerce=whole_id)
    quantity = WholeField(_l("Quantity"), validators=QUANTITY)
    kind = SelectField(_l("Kind"), choices=RECEIPT_CHOICES)
    source = StringField(_l("From (donor or shop)"), validators=[Length(max=limits.MAX_SOURCE)])
    note = TextAreaField(_l("Note"), validators=[Length(max=limits.MAX_NOTE)])


class TransferForm(SubmissionForm, ItemChoiceMixin, WhenMixin, SaveButtons):
    from_site_id = SelectField(_l("From site"), coerce=whole_id)
    to_site_id = SelectField(_l("To site"), coerce=whole_id)
    quantity = WholeField(_l("Quantity"), validators=QUANTITY)
    note = TextAreaField(_l("Note"), validators=[Length(max=limits.MAX_NOTE)])


class StocktakeForm(SubmissionForm, ItemChoiceMixin, WhenMixin, SaveButtons):
    site_id = SelectField(_l("Site"), coerce=whole_id)
    counted = WholeField(
        _l("Counted on the shelf"),
        validators=[InputRequired(), NumberRange(min=0, max=limits.MAX_QUANTITY)],
    )
    reason = StringField(
        _l("Reason"),
        default=_l("Stocktake"),
        validators=[DataRequired(), Length(max=limits.MAX_NOTE)],
    )


class LossForm(SubmissionForm, ItemChoiceMixin, WhenMixin, SaveButtons):
    site_id = SelectField(_l("Site"), coerce=whole_id)
    quantity = WholeField(_l("Quantity lost"), validators=QUANTITY)
    reason = StringField(
        _l("Reason (spoiled, stolen, damp…)"),
        validators=[DataRequired(), Length(max=limits.MAX_NOTE)],
    )


class ReverseForm(SubmissionForm):
    reason = StringField(
        _l("Why reverse it?"), validators=[DataRequired(), Length(max=limits.MAX_NOTE)]
    )
    submit = SubmitField(_l("Reverse"))
