"""Forms of the ledger: receive, transfer, stocktake, loss, reverse."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import DateField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from .. import limits
from ..labels import LOSS_REASON_LABELS, MOVEMENT_KIND_LABELS
from .common import SubmissionForm, WhenMixin, WholeField, choices, whole_id

QUANTITY = [InputRequired(), NumberRange(min=1, max=limits.MAX_QUANTITY)]
RECEIPT_CHOICES = choices((kind, MOVEMENT_KIND_LABELS[kind]) for kind in ("donation", "purchase"))
LOSS_REASONS = choices(LOSS_REASON_LABELS.items())


def optional_id(value: Any) -> int | None:
    """Coerce a select's value to an id, or None for the empty choice ("none")."""
    if value is None or str(value).strip() == "":
        return None
    return whole_id(value)


def site_field(label: str, message: str | None = None) -> SelectField:
    """Return a site chooser: its choices are the organisation's sites, set by the view.

    Render it with the site_choice macro (templates/_macros.html): large buttons for a few
    sites, a select for many. Nothing chosen gets the message, not "Not a valid choice".
    """
    message = message or _l("Choose a site.")
    return SelectField(
        label, coerce=whole_id, invalid_choice_message=message, invalid_value_message=message
    )


class ItemChoiceMixin:
    """An item typed by its label, matched against a datalist of the catalogue."""

    item = StringField(_l("Item"), validators=[DataRequired(), Length(max=limits.MAX_ITEM_LABEL)])


def best_before_field(label: str) -> DateField:
    """Return an optional best-before date: for dated items only (food, medicine)."""
    return DateField(label, validators=[Optional()])


class SaveButtons:
    save = SubmitField(_l("Save"))
    save_and_add = SubmitField(_l("Save and add another"))
    # Fields shown folded under "More details", after Save: the essentials come first.
    FOLDED: tuple[str, ...] = ("occurred_at",)

    def folded(self) -> list[Any]:
        """Return the fields shown under "More details"."""
        return [self[name] for name in self.FOLDED]  # type: ignore[index]

    def folded_in_use(self) -> bool:
        """Tell whether "More details" opens: one of its fields was filled in or refused."""
        return any(
            field.errors or field.data not in (None, "", field.default) for field in self.folded()
        )


class ReceiveForm(SubmissionForm, ItemChoiceMixin, WhenMixin, SaveButtons):
    site_id = site_field(_l("Site"))
    quantity = WholeField(_l("Quantity"), validators=QUANTITY)
    best_before = best_before_field(_l("Best before (food and medicine)"))
    kind = SelectField(_l("Kind"), choices=RECEIPT_CHOICES, default="donation")
    source = StringField(_l("From (donor or shop)"), validators=[Length(max=limits.MAX_SOURCE)])
    note = TextAreaField(_l("Note"), validators=[Length(max=limits.MAX_NOTE)])
    # Offered when pledges are open; the service checks the one sent (the organisation's, open,
    # of the item received), so any id is let through here rather than only those offered.
    pledge_id = SelectField(
        _l("Pledge this fulfils"),
        coerce=optional_id,
        validate_choice=False,
        invalid_value_message=_l("Choose a pledge from the list."),
    )
    FOLDED = ("best_before", "kind", "source", "note", "occurred_at")
    # Set for a dated item's shelf link: its date is asked beside the quantity.
    best_before_first = False

    def shows_best_before(self) -> bool:
        """Tell whether the best-before date is asked up front rather than under More details."""
        field = self.best_before
        return self.best_before_first or bool(field.errors) or field.data is not None

    def folded(self) -> list[Any]:
        """Return the fields shown under "More details", less a date asked up front."""
        folded = super().folded()
        if self.shows_best_before():
            return [f for f in folded if f is not self.best_before]
        return folded


class TransferForm(SubmissionForm, ItemChoiceMixin, WhenMixin, SaveButtons):
    from_site_id = site_field(_l("From site"))
    to_site_id = site_field(_l("To site"), _l("Choose where it goes."))
    quantity = WholeField(_l("Quantity"), validators=QUANTITY)
    note = TextAreaField(_l("Note"), validators=[Length(max=limits.MAX_NOTE)])
    best_before = best_before_field(_l("Only this best-before date (empty: earliest first)"))
    FOLDED = ("best_before", "note", "occurred_at")


class StocktakeForm(SubmissionForm, ItemChoiceMixin, WhenMixin, SaveButtons):
    site_id = site_field(_l("Site"))
    counted = WholeField(
        _l("Counted"),
        validators=[InputRequired(), NumberRange(min=0, max=limits.MAX_QUANTITY)],
    )
    reason = StringField(
        _l("Reason"),
        default=_l("Stocktake"),
        validators=[DataRequired(), Length(max=limits.MAX_NOTE)],
    )
    FOLDED = ("reason", "occurred_at")


class LossForm(SubmissionForm, ItemChoiceMixin, WhenMixin, SaveButtons):
    site_id = site_field(_l("Site"))
    quantity = WholeField(_l("Quantity lost"), validators=QUANTITY)
    reason = RadioField(
        _l("Why?"),
        choices=LOSS_REASONS,
        invalid_choice_message=_l("Choose why it was lost."),
    )
    reason_text = StringField(
        _l("Other reason, or a detail"),
        # Not Optional: that would stop the check below that "Other" has its words.
        validators=[Length(max=limits.MAX_NOTE - 40)],
    )
    best_before = best_before_field(_l("Only this best-before date (empty: earliest first)"))
    FOLDED = ("best_before", "occurred_at")

    def validate_reason_text(self, field: StringField) -> None:
        """Ask for the words when "Other" was chosen without any."""
        if self.reason.data == "other" and not (field.data or "").strip():
            raise ValidationError(_l("Say in a few words what happened."))

    def reason_written(self) -> str:
        """Return the reason as the ledger keeps it: the choice, and any words added."""
        text = " ".join((self.reason_text.data or "").split())
        if self.reason.data == "other":
            return text
        chosen = next(str(c.label) for c in self.reason.choices if c.value == self.reason.data)
        return f"{chosen}: {text}" if text else chosen


class ReverseForm(SubmissionForm):
    reason = StringField(
        _l("Why reverse it?"), validators=[DataRequired(), Length(max=limits.MAX_NOTE)]
    )
    submit = SubmitField(_l("Reverse"))
