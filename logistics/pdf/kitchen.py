"""The kitchen plan sheet: meals per distribution per day, the recipe, and ingredients."""

from __future__ import annotations

from datetime import date

from reportlab.lib.units import mm
from reportlab.platypus import Flowable

from ..services import kitchen
from ..services.accounts import organisation_zone
from .base import ReportFrame, paragraph, render, table

DAYS = 7


def build(frame: ReportFrame, organisation_id: int, first_day: date) -> bytes:
    """Render a week of meal plans from first_day, with ingredient needs vs kitchen stock."""
    zone = organisation_zone(organisation_id)
    plan = kitchen.meal_plan(organisation_id, first_day, DAYS)
    story: list[Flowable] = [paragraph(frame.title, "title"), paragraph(frame.period, "small")]
    for day in plan.days:
        if not day.rows:
            continue
        story.append(paragraph(f"{day.day:%A %d %B}", "h2"))
        for kitchen_day in day.kitchens:
            recipe = kitchen_day.recipe.name if kitchen_day.recipe else "no recipe chosen yet"
            story.append(
                paragraph(
                    f"{kitchen_day.site.name}: {kitchen_day.planned} meals planned "
                    f"({kitchen_day.recommended} recommended) · {recipe}",
                    "h3",
                )
            )
        rows = [
            [
                f"{row.distribution.starts_at.astimezone(zone):%H:%M}",
                row.distribution.site.name,
                row.meal_item.label,
                row.forecast.expected_people,
                row.forecast.basis,
                row.recommended,
                row.planned,
            ]
            for row in day.rows
        ]
        story.append(
            table(
                ["Time", "Point", "Meal", "Expected", "Based on", "Recommended", "Planned"],
                rows,
                widths=[14 * mm, 42 * mm, 28 * mm, 20 * mm, 28 * mm, 24 * mm, 20 * mm],
                numeric=(3, 5, 6),
            )
        )
    if not plan.rows:
        story.append(paragraph("No distributions carrying meals in these days."))
    needs = kitchen.ingredient_needs(organisation_id, first_day, DAYS)
    story.append(paragraph("Ingredients for the planned meals", "h2"))
    if needs:
        story.append(
            table(
                ["Kitchen", "Ingredient", "Unit", "Needed", "Held", "Short"],
                [
                    [n.site.name, n.item.label, n.item.unit, n.needed, n.held, n.short or ""]
                    for n in needs
                ],
                widths=[40 * mm, 50 * mm, 16 * mm, 22 * mm, 22 * mm, 26 * mm],
                numeric=(3, 4, 5),
            )
        )
    else:
        story.append(paragraph("Choose a recipe for a day to see its ingredients here."))
    return render(frame, story)
