"""Sheets volunteers print: the stocktake count sheet and the distribution run sheet."""

from __future__ import annotations

from datetime import date
from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import Flowable

from ..models import Distribution, Item, Site
from ..models.types import utcnow
from .base import ReportFrame, paragraph, render, table


def stocktake(frame: ReportFrame, site: Site, rows: list[tuple[Item, int]]) -> bytes:
    """Render a count sheet: item, size, expected quantity and an empty counted column."""
    story: list[Flowable] = [
        paragraph(frame.title, "title"),
        paragraph(
            f"{site.name} ({site.area}). Count each shelf; write the number you see.", "body"
        ),
        table(
            ["Item", "Size", "Unit", "Expected", "Counted", "Note"],
            [[item.name, item.size, item.unit, quantity, "", ""] for item, quantity in rows],
            widths=[55 * mm, 22 * mm, 16 * mm, 20 * mm, 22 * mm, 43 * mm],
            numeric=(3,),
            long=True,
        ),
        paragraph("Counted by: ____________________   Date: ____________", "body"),
    ]
    return render(frame, story)


def run_sheet(
    frame: ReportFrame,
    distribution: Distribution,
    held: dict[int, int],
    zone: Any,
    today: date | None = None,
) -> bytes:
    """Render what to pack for one distribution, with what each line's source holds now.

    The sheet is archived for every staff member to read, so it says where exactly the
    point is only when made on the day of the distribution, as crews see it on the day.
    """
    starts = distribution.starts_at.astimezone(zone).strftime("%A %d %B %Y, %H:%M")
    several = any(line.source_site_id != distribution.source_site_id for line in distribution.lines)
    place = "several sites (see each line)" if several else distribution.source_site.name
    status = distribution.status + (" (unplanned)" if distribution.unplanned else "")
    story: list[Flowable] = [
        paragraph(frame.title, "title"),
        paragraph(
            f"{distribution.site.name} ({distribution.site.area}) · {starts} · "
            f"pack from {place} · status {status}",
            "body",
        ),
    ]
    made_on = today or utcnow().astimezone(zone).date()
    if distribution.site.details and distribution.local_date == made_on:
        story.append(paragraph(f"Where: {distribution.site.details}", "body"))
    story += [
        _pack_table(distribution, held, several),
        paragraph(
            "After the distribution: people served (count) ______  minors ______  "
            "women ______  What happened: held / disrupted / cancelled",
            "body",
        ),
    ]
    return render(frame, story)


def _pack_table(distribution: Distribution, held: dict[int, int], several: bool) -> Flowable:
    """Return the lines to pack; with a "Pack from" column when they come from several sites."""
    if not several:
        return table(
            ["Item", "Unit", "Pack", "Held at source now", "Packed ✓"],
            [
                [
                    line.item.label,
                    line.item.unit,
                    line.planned_quantity,
                    held.get(line.item_id, 0),
                    "",
                ]
                for line in distribution.lines
            ],
            widths=[70 * mm, 20 * mm, 22 * mm, 38 * mm, 28 * mm],
            numeric=(2, 3),
        )
    return table(
        ["Item", "Unit", "Pack", "Pack from", "Held there now", "Packed ✓"],
        [
            [
                line.item.label,
                line.item.unit,
                line.planned_quantity,
                line.source_site.name,
                held.get(line.item_id, 0),
                "",
            ]
            for line in distribution.lines
        ],
        widths=[55 * mm, 18 * mm, 18 * mm, 40 * mm, 25 * mm, 22 * mm],
        numeric=(2, 4),
    )
