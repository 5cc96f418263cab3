"""Pieces every form shares: the one-time request token and local times."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, HiddenField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional


def choices(pairs: Iterable[tuple[Any, Any]]) -> list[SelectChoice]:
    """Turn (value, label) pairs into select options."""
    return [SelectChoice(value, label) for value, label in pairs]


def new_request_token() -> str:
    """Return a fresh token for one submission of a form."""
    return uuid.uuid4().hex


class SubmissionForm(FlaskForm):
    """A form that records once even when sent twice (DESIGN.md §2.4)."""

    request_token = HiddenField(default=new_request_token)

    def fresh(self) -> SubmissionForm:
        """Give the form a new token, for "save and add another"."""
        self.request_token.data = new_request_token()
        return self


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
