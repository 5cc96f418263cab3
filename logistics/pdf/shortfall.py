"""The donor shortfall report: what is needed now, what happened, what was destroyed."""

from __future__ import annotations

from dataclasses import dataclass

from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Spacer

from ..services.distributions import Figures
from ..services.incidents import LossFigures
from ..services.needs import Need
from .base import CRITICAL, FONT, WARNING, ReportFrame, kind_label, paragraph, render, table

HOW_COMPUTED = (
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


def build(frame: ReportFrame, data: DonorReport) -> bytes:
    """Render the donor shortfall report."""
    story: list[Flowable] = [paragraph(frame.title, "title"), paragraph(frame.period, "small")]
    story += _needed_now(data.needs)
    story += _what_happened(data.distributions, data.meals_served)
    story += _losses(data.losses)
    story += [paragraph("How these figures are computed", "h2"), paragraph(HOW_COMPUTED)]
    return render(frame, story)


def _needed_now(needs: list[Need]) -> list[Flowable]:
    short = [n for n in needs if n.status != "ok"]
    parts: list[Flowable] = [paragraph("What is needed now", "h2")]
    if not short:
        return [*parts, paragraph("Nothing is short at the moment.")]
    chart = _shortfall_chart([n for n in short if n.shortfall > 0][:CHART_ITEMS])
    if chart is not None:
        parts += [chart, Spacer(1, 3 * mm)]
    rows = [
        [
            n.label,
            n.status,
            n.held,
            n.need,
            n.shortfall,
            "–" if n.days_of_cover is None else _days(n.days_of_cover),
        ]
        for n in short
    ]
    colours = {i: CRITICAL if n.status == "critical" else WARNING for i, n in enumerate(short)}
    parts.append(
        table(
            ["Item", "Status", "Held", "Need", "Shortfall", "Days of cover"],
            rows,
            widths=[62 * mm, 22 * mm, 20 * mm, 20 * mm, 22 * mm, 28 * mm],
            numeric=(2, 3, 4, 5),
            row_colours=colours,
        )
    )
    return parts


def _days(cover: float) -> str:
    """Write days of cover to one decimal, without a needless ".0" (38.666… → 38.7)."""
    return f"{cover:,.1f}".removesuffix(".0")


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
    drawing.add(String(0, height - 4 * mm, "Biggest shortfalls", fontName=FONT, fontSize=8))
    return drawing


def _what_happened(figures: Figures, meals: int) -> list[Flowable]:
    rows = [
        ["Distributions held", figures.by_status["held"]],
        ["Distributions disrupted", figures.by_status["disrupted"]],
        ["Distributions cancelled", figures.by_status["cancelled"]],
        ["People served (counts at held and disrupted distributions)", figures.people_served],
        ["Meals served", meals],
    ]
    parts: list[Flowable] = [
        paragraph("What happened in the period", "h2"),
        table(["", "Count"], rows, widths=[130 * mm, 40 * mm], numeric=(1,)),
    ]
    if figures.by_category:
        parts += [
            paragraph("Items given out, by category", "h3"),
            table(
                ["Category", "Given"],
                sorted(figures.by_category.items()),
                widths=[130 * mm, 40 * mm],
                numeric=(1,),
            ),
        ]
    return parts


def _losses(losses: LossFigures) -> list[Flowable]:
    parts: list[Flowable] = [
        paragraph("Losses to destruction", "h2"),
        paragraph(
            f"{losses.incidents} incidents in the period; {losses.people_affected} people and "
            f"{losses.shelters_affected} shelters affected (counts)."
        ),
    ]
    if losses.by_area_kind:
        rows = [
            [area, kind_label(kind), n] for (area, kind), n in sorted(losses.by_area_kind.items())
        ]
        parts.append(
            table(
                ["Area", "Kind", "Incidents"],
                rows,
                widths=[70 * mm, 60 * mm, 40 * mm],
                numeric=(2,),
            )
        )
    if losses.items:
        rows = [
            [
                row.label,
                row.category,
                row.from_stock,
                row.after_distribution,
                row.given,
                "–" if row.share_of_given is None else f"{row.share_of_given:.0%}",
            ]
            for row in losses.items
        ]
        parts += [
            paragraph("Items destroyed", "h3"),
            table(
                ["Item", "Category", "From stock", "After distribution", "Given out", "Share"],
                rows,
                widths=[50 * mm, 24 * mm, 22 * mm, 28 * mm, 24 * mm, 22 * mm],
                numeric=(2, 3, 4, 5),
            ),
        ]
    if losses.by_category:
        parts += [
            paragraph("Destroyed by category", "h3"),
            table(
                ["Category", "Destroyed"],
                sorted(losses.by_category.items()),
                widths=[130 * mm, 40 * mm],
                numeric=(1,),
            ),
        ]
    return parts
