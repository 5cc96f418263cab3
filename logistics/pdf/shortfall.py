"""The donor shortfall report: what is needed now, what happened, what was destroyed."""

from __future__ import annotations

from dataclasses import dataclass

from babel.numbers import format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer

from .. import i18n
from ..labels import label
from ..services.distributions import Figures
from ..services.donors import DonorNeeds, HowToHelp
from ..services.incidents import LossFigures
from ..services.needs import Need
from .base import CRITICAL, FONT, WARNING, ReportFrame, kind_label, paragraph, render, table

HOW_COMPUTED = _l(
    "How these figures are computed. Held is the stock in our warehouses and kitchens. "
    "Use per day is what was given out, lost from stock or used in cooking over the last 28 "
    "days, divided by 28. Committed is what planned distributions in the horizon will carry. "
    "Need is the largest of committed, use per day × horizon, and people × per-person need × "
    "horizon, plus the minimum stock we keep. Shortfall is need minus held, never below zero. "
    "Days of cover is held ÷ use per day. An item is critical when what we hold cannot cover "
    "the next 48 hours of distributions; a warning when there is a shortfall or fewer days of "
    "cover than its target. Destroyed after distribution is shown as a share of the same items "
    "given out in the period."
)
CHART_ITEMS = 10


@dataclass(frozen=True)
class DonorReport:
    needs: list[Need]
    distributions: Figures
    meals_served: int
    losses: LossFigures
    # What a donor can bring, by category, in euros; and the admin-edited how-to-help block.
    donor_needs: DonorNeeds
    how_to_help: HowToHelp


def build(frame: ReportFrame, data: DonorReport) -> bytes:
    """Render the donor shortfall report."""
    story: list[Flowable] = [paragraph(frame.title, "title"), paragraph(frame.period, "small")]
    story += _needed_now(data.needs)
    story += _what_happened(data.distributions, data.meals_served)
    story += _losses(data.losses)
    story += [
        paragraph(_("How these figures are computed"), "h2"),
        paragraph(str(HOW_COMPUTED)),
    ]
    return render(frame, story)


def _needed_now(needs: list[Need]) -> list[Flowable]:
    short = [n for n in needs if n.status != "ok"]
    parts: list[Flowable] = [paragraph(_("What is needed now"), "h2")]
    if not short:
        return [*parts, paragraph(_("Nothing is short at the moment."))]
    chart = _shortfall_chart([n for n in short if n.shortfall > 0][:CHART_ITEMS])
    if chart is not None:
        parts += [chart, Spacer(1, 3 * mm)]
    rows = [
        [
            n.label,
            label("need_status", n.status),
            i18n.number(n.held),
            i18n.number(n.need),
            i18n.number(n.shortfall),
            "–" if n.days_of_cover is None else i18n.number(n.days_of_cover),
        ]
        for n in short
    ]
    colours = {i: CRITICAL if n.status == "critical" else WARNING for i, n in enumerate(short)}
    parts.append(
        table(
            [_("Item"), _("Status"), _("Held"), _("Need"), _("Shortfall"), _("Days of cover")],
            rows,
            widths=[62 * mm, 22 * mm, 20 * mm, 20 * mm, 22 * mm, 28 * mm],
            numeric=(2, 3, 4, 5),
            row_colours=colours,
        )
    )
    return parts


def _shortfall_chart(needs: list[Need]) -> Drawing | None:
    if not needs:
        return None
    height = 14 * mm + 7 * mm * len(needs)
    drawing = Drawing(170 * mm, height)
    chart = HorizontalBarChart()
    chart.x, chart.y = 55 * mm, 6 * mm
    chart.width, chart.height = 105 * mm, height - 12 * mm
    ordered = list(reversed(needs))  # biggest at the top
    chart.data = [[n.shortfall for n in ordered]]
    chart.categoryAxis.categoryNames = [n.label[:40] for n in ordered]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = colors.HexColor("#c0392b")
    drawing.add(chart)
    drawing.add(String(0, height - 4 * mm, _("Biggest shortfalls"), fontName=FONT, fontSize=8))
    return drawing


def _what_happened(figures: Figures, meals: int) -> list[Flowable]:
    rows = [
        [_("Distributions held"), figures.by_status["held"]],
        [_("Distributions disrupted"), figures.by_status["disrupted"]],
        [_("Distributions cancelled"), figures.by_status["cancelled"]],
        [_("People served (counts at held and disrupted distributions)"), figures.people_served],
        [_("Meals served"), meals],
    ]
    parts: list[Flowable] = [
        paragraph(_("What happened in the period"), "h2"),
        table(
            ["", _("Count")],
            [[label, i18n.number(count)] for label, count in rows],
            widths=[130 * mm, 40 * mm],
            numeric=(1,),
        ),
    ]
    if figures.by_category:
        parts += [
            paragraph(_("Items given out, by category"), "h3"),
            table(
                [_("Category"), _("Given")],
                _by_category(figures.by_category),
                widths=[130 * mm, 40 * mm],
                numeric=(1,),
            ),
        ]
    return parts


def _losses(losses: LossFigures) -> list[Flowable]:
    parts: list[Flowable] = [
        paragraph(_("Losses to destruction"), "h2"),
        paragraph(
            _(
                "%(incidents)s incidents in the period; %(people)s people and %(shelters)s "
                "shelters affected (counts).",
                incidents=i18n.number(losses.incidents),
                people=i18n.number(losses.people_affected),
                shelters=i18n.number(losses.shelters_affected),
            )
        ),
    ]
    if losses.by_area_kind:
        rows = [
            [area, kind_label(kind), i18n.number(n)]
            for (area, kind), n in sorted(losses.by_area_kind.items())
        ]
        parts.append(
            table(
                [_("Area"), _("Kind"), _("Incidents")],
                rows,
                widths=[70 * mm, 60 * mm, 40 * mm],
                numeric=(2,),
            )
        )
    if losses.items:
        rows = [
            [
                row.label,
                _category(row.category),
                i18n.number(row.from_stock),
                i18n.number(row.after_distribution),
                i18n.number(row.given),
                "–" if row.share_of_given is None else _percent(row.share_of_given),
            ]
            for row in losses.items
        ]
        parts += [
            paragraph(_("Items destroyed"), "h3"),
            table(
                [
                    _("Item"),
                    _("Category"),
                    _("From stock"),
                    _("After distribution"),
                    _("Given out"),
                    _("Share"),
                ],
                rows,
                widths=[50 * mm, 24 * mm, 22 * mm, 28 * mm, 24 * mm, 22 * mm],
                numeric=(2, 3, 4, 5),
            ),
        ]
    if losses.by_category:
        parts += [
            paragraph(_("Destroyed by category"), "h3"),
            table(
                [_("Category"), _("Destroyed")],
                _by_category(losses.by_category),
                widths=[130 * mm, 40 * mm],
                numeric=(1,),
            ),
        ]
    return parts


def _category(category: str) -> str:
    """Return a category in the current language: "Bedding"."""
    return label("category", category)


def _by_category(counts: dict[str, int]) -> list[list[str]]:
    """Return (category, count) rows in the current language, by category name."""
    return [[_category(category), i18n.number(n)] for category, n in sorted(counts.items())]


def _percent(share: float) -> str:
    """Write a share as a whole percentage in the current language: "25%" / "25 %"."""
    return format_percent(share, locale=i18n.current_babel_locale())
