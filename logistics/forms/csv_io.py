"""Forms of the CSV page: export filters, the import upload and its confirmation."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, Optional
from wtforms.validators import ValidationError as FormError
from wtforms.widgets import HiddenInput

from .. import limits
from .common import SubmissionForm, WholeField, choices, whole_id
from .stock import RECEIPT_CHOICES


def optional_int(value: Any) -> int | None:
    """Read a select's value: empty means all."""
    if value is None or value == "":
        return None
    return int(value)


class StockExportForm(FlaskForm):
    """Filters of the stock export, read from the query string."""

    class Meta:
        csrf = False  # a GET download changes nothing

    site_id = SelectField(_l("Site"), coerce=optional_int, validators=[Optional()])


class LedgerExportForm(StockExportForm):
    """Filters of the ledger export: local dates, both ends included."""

    from_date = DateField(_l("From"), name="from", validators=[Optional()])
    to_date = DateField(_l("To"), name="to", validators=[Optional()])

    def validate_to_date(self, field: DateField) -> None:
        if self.from_date.data and field.data and field.data < self.from_date.data:
            raise FormError(_l("The end date is before the start date."))


class ImportForm(SubmissionForm):
    """Upload a CSV of item, size, quantity for a preview."""

    file = FileField(_l("CSV file"), validators=[FileRequired(_l("Choose a CSV file."))])
    site_id = SelectField(_l("Site"), coerce=whole_id)
    mode = RadioField(
        _l("What is in the file?"),
        choices=choices(
            [
                ("delivery", _l("A delivery: quantities received")),
                ("stocktake", _l("A stocktake: quantities counted on the shelf")),
            ]
        ),
        default="delivery",
    )
    kind = SelectField(_l("Delivery kind"), choices=RECEIPT_CHOICES, default="donation")
    source = StringField(_l("From (donor or shop)"), validators=[Length(max=limits.MAX_SOURCE)])
    reason = StringField(
        _l("Stocktake reason"), default=_l("Stocktake"), validators=[Length(max=limits.MAX_NOTE)]
    )
    submit = SubmitField(_l("Preview"))

    def validate_reason(self, field: StringField) -> None:
        if self.mode.data == "stocktake" and not (field.data or "").strip():
            raise FormError(_l("Say why (a short reason)."))


class ConfirmImportForm(SubmissionForm):
    """The checked file and its options, carried back for a fresh check before saving."""

    content = HiddenField(validators=[DataRequired()])
    mode = HiddenField(validators=[AnyOf(["delivery", "stocktake"])])
    site_id = WholeField(widget=HiddenInput(), validators=[InputRequired()])
    kind = HiddenField(default="donation")
    source = HiddenField(default="")
    reason = HiddenField(default="")
    confirm = SubmitField(_l("Confirm and save"))
