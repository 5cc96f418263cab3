"""Pieces every form shares: the one-time request token and local times."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, EmailField, HiddenField, IntegerField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, StopValidation

from .. import limits

# The largest whole number a column holds on both databases (INTEGER is 32-bit on PostgreSQL).
MAX_WHOLE = limits.MAX_INT


def choices(pairs: Iterable[tuple[Any, Any]]) -> list[SelectChoice]:
    """Turn (value, label) pairs into select options."""
    return [SelectChoice(value, label) for value, label in pairs]


def email_field() -> EmailField:
    """Return the required e-mail address field, as long as an address may be (limits)."""
    return EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=limits.MAX_EMAIL)])


def whole_id(value: Any) -> int:
    """Coerce a select's value to an id a column can hold; refuse any other (ValueError)."""
    text = str(value).strip()
    # More than 20 characters is no id; checked first, as int() of 5,000 digits raises anyway.
    if len(text) > 20 or not -MAX_WHOLE <= (number := int(text)) <= MAX_WHOLE:
        raise ValueError("out of range")
    return number


class WholeField(IntegerField):
    """A whole number a column can hold: any longer number gets a field message, not a crash."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        # An empty box, as a browser sends every blank row, is no number rather than a wrong
        # one: Optional lets it pass, InputRequired still asks for it.
        if valuelist and not str(valuelist[0]).strip():
            self.data = None
            return
        # Measured before int(), which refuses 5,000 digits with a message of its own.
        too_long = bool(valuelist) and len(str(valuelist[0]).strip()) > 20
        if not too_long:
            super().process_formdata(valuelist)
        if too_long or self.data is not None and not -MAX_WHOLE <= self.data <= MAX_WHOLE:
            self.data = None
            raise ValueError(_l("Enter a smaller number."))

    def pre_validate(self, form: Any) -> None:
        # A number that could not be read already says why; a range check would add noise.
        if self.process_errors:
            raise StopValidation()


def new_request_token() -> str:
    """Return a fresh token for one submission of a form."""
    return uuid.uuid4().hex


class SubmissionForm(FlaskForm):
    """A form that records once even when sent twice (docs/principles.md §4)."""

    request_token = HiddenField(default=new_request_token)


class WhenMixin:
    """An optional local date and time; empty means now."""

    occurred_at = DateTimeLocalField(
        _l("When (leave empty for now)"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )

    def occurred_at_utc(self, timezone: str) -> datetime | None:
        """Return the entered local time as an aware datetime, or None for now."""
        value = self.occurred_at.data  # type: ignore[attr-defined]
        if value is None:
            return None
        return value.replace(tzinfo=ZoneInfo(timezone))
