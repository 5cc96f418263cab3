"""Kitchen forms: a day's meal plan, recipes, the cooking log and leftovers."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DecimalField,
    FieldList,
    Form,
    FormField,
    SelectField,
    StringField,
    SubmitField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from .. import limits
from .catalogue import parsed_number
from .common import SubmissionForm, WhenMixin, WholeField, whole_id

MAX_MEALS = limits.MAX_MEALS
MEALS = [InputRequired(), NumberRange(min=0, max=MAX_MEALS)]
RECIPE_ROWS = 8
COOK_ROWS = 3


class LocalDecimalField(DecimalField):
    """A decimal that also takes a comma, as French and Belgian volunteers write 13,6."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata([str(v).strip().replace(",", ".") for v in valuelist])


class MealRowForm(Form):
    """One distribution's planned meals on the day's plan."""

    distribution_id = WholeField(widget=HiddenInput(), validators=[InputRequired()])
    meal_item_id = WholeField(widget=HiddenInput(), validators=[Optional()])
    meals = WholeField(_l("Planned meals"), validators=MEALS)


class MenuRowForm(Form):
    """The recipe one kitchen cooks for the day (0: not chosen yet)."""

    site_id = WholeField(widget=HiddenInput(), validators=[InputRequired()])
    recipe_id = SelectField(_l("Recipe"), coerce=whole_id, default=0)


class DayPlanForm(SubmissionForm):
    rows = FieldList(FormField(MealRowForm))
    menus = FieldList(FormField(MenuRowForm))
    submit = SubmitField(_l("Save this day's plan"))


class RecipeLineForm(Form):
    """One ingredient typed by its label, and how much of it 100 meals take."""

    item = StringField(_l("Ingredient"), validators=[Optional(), Length(max=limits.MAX_ITEM_LABEL)])
    quantity = LocalDecimalField(
        _l("Per 100 meals"),
        places=None,
        validators=[Optional(), parsed_number, NumberRange(min=0, max=limits.MAX_PER_100)],
    )


class RecipeForm(SubmissionForm):
    name = StringField(_l("Dish"), validators=[DataRequired(), Length(max=limits.MAX_RECIPE_NAME)])
    dietary_notes = StringField(
        _l("Dietary notes (vegetarian, contains nuts…)"),
        validators=[Optional(), Length(max=limits.MAX_DIETARY_NOTES)],
    )
    active = BooleanField(_l("In use (untick to retire it)"), default=True)
    lines = FieldList(FormField(RecipeLineForm), min_entries=RECIPE_ROWS)
    submit = SubmitField(_l("Save recipe"))


class CookRowForm(Form):
    """Meals cooked with one recipe (rows left at 0 or empty are skipped)."""

    recipe_id = SelectField(_l("Recipe"), coerce=whole_id, default=0)
    meals = WholeField(_l("Meals"), validators=[Optional(), NumberRange(min=0, max=MAX_MEALS)])


class KitchenMealMixin:
    site_id = SelectField(_l("Kitchen"), coerce=whole_id)
    meal_item_id = SelectField(_l("Meal"), coerce=whole_id)


class CookingForm(SubmissionForm, KitchenMealMixin, WhenMixin):
    lines = FieldList(FormField(CookRowForm), min_entries=COOK_ROWS)
    note = StringField(_l("Note (optional)"), validators=[Optional(), Length(max=limits.MAX_NOTE)])
    submit = SubmitField(_l("Log cooking"))


class LeftoversForm(SubmissionForm, KitchenMealMixin, WhenMixin):
    meals = WholeField(
        _l("Meals left over"), validators=[InputRequired(), NumberRange(min=1, max=MAX_MEALS)]
    )
    submit = SubmitField(_l("Write off leftovers"))
