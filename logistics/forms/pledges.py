"""The pledge form: what a donor will bring, how many, which day; a reply address if wanted."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from wtforms import DateField, EmailField, SelectField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from .. import limits
from ..services import distributions, pledges
from .common import SubmissionForm, WholeField, choices, whole_id


class PledgeForm(SubmissionForm):
    """A donor's pledge; the field names are the service's, so its notes land by their fields."""

    item_id = SelectField(
        _l("What you will bring"),
        coerce=whole_id,
        invalid_choice_message=_l("Choose an item from the list."),
        invalid_value_message=_l("Choose an item from the list."),
    )
    quantity = WholeField(
        _l("How many"),
        validators=[InputRequired(), NumberRange(min=1, max=pledges.MAX_PLEDGE_QUANTITY)],
    )
    expected_on = DateField(
        _l("The day you will bring them"),
        validators=[InputRequired(message=_l("Choose the day."))],
    )
    contact_email = EmailField(
        _l("Your e-mail (optional)"), validators=[Optional(), Length(max=limits.MAX_EMAIL)]
    )
    # A honeypot: people never see it, robots fill in every box. Filled, nothing is recorded.
    website = StringField(_l("Leave this empty"), validators=[Length(max=limits.MAX_SOURCE)])
    submit = SubmitField(_l("Pledge"))

    def caught(self) -> bool:
        """Tell whether the hidden box was filled in: a robot, answered but never recorded."""
        return bool((self.website.data or "").strip())


# A pledge form offers what is needed, topped up by name to this many: a phone's list, not a
# federation's 500-item catalogue.
DONOR_CHOICES = 40


def pledge_form(organisation_id: int, first_item_ids: Sequence[int] = ()) -> PledgeForm:
    """Return a pledge form offering DONOR_CHOICES donatable items: those given first, then by name.

    A form sent with this request reads its values and offers its chosen item first, so a
    donatable item beyond the list is still taken and shown chosen; a new form starts on today.
    """
    form = PledgeForm()
    chosen = [form.item_id.data] if isinstance(form.item_id.data, int) else []
    first = list(dict.fromkeys([*chosen, *first_item_ids]))
    offered = pledges.donatable_items(organisation_id, first, DONOR_CHOICES)
    form.item_id.choices = choices((i.id, i.label) for i in offered)
    today = distributions.local_today(organisation_id)
    form.first_day = today
    form.last_day = today + timedelta(days=pledges.MAX_DAYS_AHEAD)
    if not form.is_submitted() and form.expected_on.data is None:
        form.expected_on.data = today
    return form


class RejectForm(SubmissionForm):
    """Why a pledge is turned down: said to nobody but the team, kept on the pledge."""

    reason = StringField(
        _l("Why reject it?"),
        validators=[InputRequired(), Length(max=pledges.MAX_REASON)],
    )
    submit = SubmitField(_l("Reject"))
