"""The how-to-help block an admin edits for donors."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, EmailField, StringField, SubmitField, TextAreaField, URLField
from wtforms.validators import Length, Optional

from .. import limits
from ..services import donors
from .common import SubmissionForm


class DonorPageForm(SubmissionForm):
    drop_off = TextAreaField(
        _l("Where to bring goods (public)"), validators=[Length(max=donors.MAX_DROP_OFF)]
    )
    opening_hours = StringField(
        _l("Opening hours"), validators=[Length(max=donors.MAX_OPENING_HOURS)]
    )
    donation_url = URLField(
        _l("Link to give money"), validators=[Optional(), Length(max=donors.MAX_DONATION_URL)]
    )
    contact_email = EmailField(
        _l("Contact address for donors"), validators=[Optional(), Length(max=limits.MAX_EMAIL)]
    )
    logo = FileField(_l("Logo (PNG or JPEG, at most 1 MB)"))
    remove_logo = BooleanField(_l("Remove the logo"))
    submit = SubmitField(_l("Save"))

    def values(self) -> dict[str, Any]:
        """Return the text fields the donors service takes."""
        return {name: getattr(self, name).data or "" for name in donors.PAGE_FIELDS}
