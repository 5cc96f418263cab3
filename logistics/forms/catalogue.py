"""Forms of the catalogue: items and sites."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DecimalField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, StopValidation

from .. import limits
from ..labels import CATEGORY_LABELS, SITE_KIND_LABELS
from ..models import CATEGORIES, SITE_KINDS
from .common import SubmissionForm, WholeField


def parsed_number(form: Any, field: Any) -> None:
    """Stop before the range check when the text was no number, or NaN or infinity."""
    if field.data is None:
        raise StopValidation()  # the field already says why it could not read the number
    if isinstance(field.data, Decimal) and not field.data.is_finite():
        raise StopValidation(_l("Enter a number."))


class ItemForm(SubmissionForm):
    # Lengths and ranges follow the columns, so no value can overflow on PostgreSQL.
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=limits.MAX_NAME)])
    category = SelectField(
        _l("Category"),
        choices=[SelectChoice(c, CATEGORY_LABELS[c]) for c in CATEGORIES],
        default="other",
    )
    unit = StringField(
        _l("Unit (piece, pair, litre, kg, meal)"),
        default="piece",
        validators=[DataRequired(), Length(max=limits.MAX_UNIT)],
    )
    size = StringField(_l("Size or variant"), validators=[Length(max=limits.MAX_SIZE)])
    name_fr = StringField(_l("French name"), validators=[Length(max=limits.MAX_NAME)])
    # The service says which name is too long or that there are too many; this bounds the post.
    aliases = TextAreaField(
        _l("Other names people use, one per line"), validators=[Length(max=limits.MAX_NOTE)]
    )
    min_stock = WholeField(
        _l("Minimum stock"),
        default=0,
        validators=[Optional(), parsed_number, NumberRange(min=0, max=limits.MAX_MIN_STOCK)],
    )
    cover_target_days = WholeField(
        _l("Days of cover wanted"),
        default=7,
        validators=[Optional(), parsed_number, NumberRange(min=0, max=limits.MAX_COVER_DAYS)],
    )
    unit_value_eur = DecimalField(
        _l("Value of one unit (€)"),
        places=2,
        validators=[Optional(), parsed_number, NumberRange(min=0, max=limits.MAX_UNIT_VALUE_EUR)],
    )
    per_person_per_day = DecimalField(
        _l("Needed per person per day"),
        places=3,
        validators=[
            Optional(),
            parsed_number,
            NumberRange(min=0, max=limits.MAX_PER_PERSON_PER_DAY),
        ],
    )
    donatable = BooleanField(_l("Donors can bring it"), default=True)
    dated = BooleanField(_l("Has a best-before date"), default=False)
    save = SubmitField(_l("Save"))
    save_and_add = SubmitField(_l("Save and add another size"))

    def values(self) -> dict[str, Any]:
        """Return the field values the catalogue service takes."""
        return {
            "name": self.name.data,
            "category": self.category.data,
            "unit": self.unit.data,
            "name_fr": self.name_fr.data or "",
            "size": self.size.data or "",
            "aliases": self.aliases.data or "",
            "min_stock": self.min_stock.data,
            "cover_target_days": self.cover_target_days.data,
            "unit_value_eur": self.unit_value_eur.data,
            "per_person_per_day": self.per_person_per_day.data,
            "donatable": bool(self.donatable.data),
            "dated": bool(self.dated.data),
        }


class SiteForm(SubmissionForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=limits.MAX_NAME)])
    kind = SelectField(
        _l("Kind"), choices=[SelectChoice(k, SITE_KIND_LABELS[k]) for k in SITE_KINDS]
    )
    area = StringField(
        _l("Area (town or district; donors see this)"),
        validators=[DataRequired(), Length(max=limits.MAX_AREA)],
    )
    details = TextAreaField(
        _l("Where exactly (private: never shown to donors)"),
        validators=[Length(max=limits.MAX_NOTE)],
    )
    main = BooleanField(_l("Main warehouse — forms start here"))
    save = SubmitField(_l("Save"))


class ConfirmForm(FlaskForm):
    """Only the CSRF token: for retire and bring-back buttons."""
