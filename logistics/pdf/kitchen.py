"""The kitchen plan sheet: meals per distribution per day, the recipe, and ingredients."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from reportlab.lib.units import mm
from reportlab.platypus import Flowable

from .. import i18n
from ..services import kitchen
from ..services.accounts import organisation_zone
from .base import ReportFrame, paragraph, render, table
from .sheets import unit_label

DAYS = 7
BASIS = {
    "same_weekday": _l("same weekday"),
    "series": _l("last of the series"),
    "plan": _l("the plan"),
}


def build(frame: ReportFrame, organisation_id: int, first_day: date) -> bytes:
    """Render a week of meal plans from first_day, with ingredient needs vs kitchen stock."""
    zone = organisation_zone(organisation_id)
    plan = kitchen.meal_plan(organisation_id, first_day, DAYS)
    story: list[Flowable] = [paragraph(frame.title, "title"), paragraph(frame.period, "small")]
    for day in plan.days:
        if not day.rows:
            continue
        story.append(paragraph(i18n.when(day.day, "weekday"), "h2"))
        for kitchen_day in day.kitchens:
            recipe = kitchen_day.recipe.name if kitchen_day.recipe else _("no recipe chosen yet")
            story.append(
                paragraph(
                    ngettext(
                        "%(site)s: %(num)d meal planned (%(recommended)s recommended) · %(recipe)s",
                        "%(site)s: %(num)d meals planned (%(recommended)s recommended) · "
                        "%(recipe)s",
                        kitchen_day.planned,
                        site=kitchen_day.site.name,
                        recommended=i18n.number(kitchen_day.recommended),
                        recipe=recipe,
                    ),
                    "h3",
                )
            )
        rows = [
            [
                i18n.when(row.distribution.starts_at, "time", zone),
                row.distribution.site.name,
                row.meal_item.label,
                i18n.number(row.forecast.expected_people),
                str(BASIS.get(row.forecast.basis, row.forecast.basis)),
                i18n.number(row.recommended),
                i18n.number(row.planned),
            ]
            for row in day.rows
        ]
        story.append(
            table(
                [
                    _("Time"),
                    _("Point"),
                    _("Meal"),
                    _("Expected"),
                    _("Based on"),
                    _("Recommended"),
                    _("Planned"),
                ],
                rows,
                widths=[14 * mm, 42 * mm, 28 * mm, 20 * mm, 28 * mm, 24 * mm, 20 * mm],
                numeric=(3, 5, 6),
            )
        )
    if not plan.rows:
        story.append(paragraph(_("No distributions carrying meals in these days.")))
    needs = kitchen.ingredient_needs(organisation_id, first_day, DAYS)
    story.append(paragraph(_("Ingredients for the planned meals"), "h2"))
    if needs:
        story.append(
            table(
                [_("Kitchen"), _("Ingredient"), _("Unit"), _("Needed"), _("Held"), _("Short")],
                [
                    [
                        n.site.name,
                        n.item.label,
                        unit_label(n.item.unit),
                        i18n.number(n.needed),
                        i18n.number(n.held),
                        i18n.number(n.short) if n.short else "",
                    ]
                    for n in needs
                ],
                widths=[40 * mm, 50 * mm, 16 * mm, 22 * mm, 22 * mm, 26 * mm],
                numeric=(3, 4, 5),
            )
        )
    else:
        story.append(paragraph(_("Choose a recipe for a day to see its ingredients here.")))
    return render(frame, story)
