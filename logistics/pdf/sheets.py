"""Sheets volunteers print: the stocktake count sheet and the distribution run sheet."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _
from reportlab.lib.units import mm
from reportlab.platypus import Flowable

from .. import i18n, wording
from ..labels import label
from ..models import Distribution, Item, Site
from ..models.types import utcnow
from .base import ReportFrame, paragraph, render, table


def unit_label(unit: str) -> str:
    """Return a unit as a column of quantities reads it, in the current language: "pieces"."""
    return wording.unit_word(2, unit)


def stocktake(frame: ReportFrame, site: Site, rows: list[tuple[Item, int]]) -> bytes:
    """Render a count sheet: item, size, expected quantity and an empty counted column."""
    story: list[Flowable] = [
        paragraph(frame.title, "title"),
        paragraph(
            _(
                "%(site)s (%(area)s). Count each shelf; write the number you see.",
                site=site.name,
                area=site.area,
            ),
            "body",
        ),
        table(
            [_("Item"), _("Size"), _("Unit"), _("Expected"), _("Counted"), _("Note")],
            [
                [
                    i18n.localised_name(item.name, item.name_fr),
                    item.size,
                    unit_label(item.unit),
                    i18n.number(quantity),
                    "",
                    "",
                ]
                for item, quantity in rows
            ],
            widths=[55 * mm, 22 * mm, 16 * mm, 20 * mm, 22 * mm, 43 * mm],
            numeric=(3,),
            long=True,
        ),
        paragraph(_("Counted by: ____________________   Date: ____________"), "body"),
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
    starts = i18n.when(distribution.starts_at, "EEEE d MMMM y, HH:mm", zone)
    several = any(line.source_site_id != distribution.source_site_id for line in distribution.lines)
    place = _("several sites (see each line)") if several else distribution.source_site.name
    status = label("distribution_status", distribution.status)
    if distribution.unplanned:
        status = _("%(status)s (unplanned)", status=status)
    story: list[Flowable] = [
        paragraph(frame.title, "title"),
        paragraph(
            _(
                "%(site)s (%(area)s) · %(when)s · pack from %(place)s · status %(status)s",
                site=distribution.site.name,
                area=distribution.site.area,
                when=starts,
                place=place,
                status=status,
            ),
            "body",
        ),
    ]
    made_on = today or utcnow().astimezone(zone).date()
    if distribution.site.details and distribution.local_date == made_on:
        story.append(paragraph(_("Where: %(details)s", details=distribution.site.details), "body"))
    story += [
        _pack_table(distribution, held, several),
        paragraph(
            _(
                "After the distribution: people served (count) ______  minors ______  "
                "women ______  What happened: held / disrupted / cancelled"
            ),
            "body",
        ),
    ]
    return render(frame, story)


def _pack_table(distribution: Distribution, held: dict[int, int], several: bool) -> Flowable:
    """Return the lines to pack; with a "Pack from" column when they come from several sites."""
    if not several:
        return table(
            [_("Item"), _("Unit"), _("Pack"), _("Held at source now"), _("Packed ✓")],
            [
                [
                    line.item.label,
                    unit_label(line.item.unit),
                    i18n.number(line.planned_quantity),
                    i18n.number(held.get(line.item_id, 0)),
                    "",
                ]
                for line in distribution.lines
            ],
            widths=[70 * mm, 20 * mm, 22 * mm, 38 * mm, 28 * mm],
            numeric=(2, 3),
        )
    return table(
        [_("Item"), _("Unit"), _("Pack"), _("Pack from"), _("Held there now"), _("Packed ✓")],
        [
            [
                line.item.label,
                unit_label(line.item.unit),
                i18n.number(line.planned_quantity),
                line.source_site.name,
                i18n.number(held.get(line.item_id, 0)),
                "",
            ]
            for line in distribution.lines
        ],
        widths=[55 * mm, 18 * mm, 18 * mm, 40 * mm, 25 * mm, 22 * mm],
        numeric=(2, 4),
    )
