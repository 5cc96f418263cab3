"""The donor report: what donors can bring now and its worth, how to help, what happened."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from babel.numbers import format_currency, format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.platypus import Flowable, Image, Paragraph, Spacer

from .. import i18n, wording
from ..labels import label
from ..services.distributions import Figures
from ..services.donors import CategoryNeeds, DonorNeed, DonorNeeds, HowToHelp
from ..services.incidents import LossFigures
from .base import (
    BODY_WIDTH,
    CRITICAL,
    FONT,
    LARGE_STYLES,
    WARNING,
    ReportFrame,
    escape,
    kind_label,
    printable,
    render,
)
from .base import paragraph as base_paragraph
from .base import table as base_table

HOW_COMPUTED = _l(
    "Held is the stock at all our sites. Use per day is what was given out, lost from stock "
    "or used in cooking over the last 28 days, divided by 28. Need is the largest of what "
    "planned distributions in the horizon will carry, use per day × horizon, and people × "
    "per-person need × horizon, plus the minimum stock we keep. Short is need minus held, "
    "never below zero. An item is urgent when what we hold cannot cover the next 48 hours of "
    "distributions. Pledged is what donors have promised and not yet brought: it is never "
    "counted as held until the goods arrive. Value is the item's unit value × what is short; "
    'items without a unit value are left out of the totals, which then read "at least". '
    "Items a donor cannot bring, such as cooked meals, are not listed. Destroyed after "
    "distribution is shown as a share of the same items given out in the period."
)
CHART_ITEMS = 10
LOGO_HEIGHT = 30 * mm
LOGO_WIDTH = 70 * mm
# Bars and lines: dark enough to stay apart from the amber once printed in black and white.
URGENT_INK = colors.HexColor("#a61b1b")
NEEDED_INK = colors.HexColor("#7a4a00")
URGENT_BAR = colors.HexColor("#c0392b")
NEEDED_BAR = colors.HexColor("#f0b43c")
LINK_INK = "#1a4f9c"
CHART_FONT_SIZE = 10
CHART_LABEL_CHARACTERS = 32
STYLES = LARGE_STYLES


@dataclass(frozen=True)
class DonorReport:
    distributions: Figures
    meals_served: int
    losses: LossFigures
    # What a donor can bring, by category, in euros; and the admin-edited how-to-help block.
    donor_needs: DonorNeeds
    how_to_help: HowToHelp


def build(frame: ReportFrame, data: DonorReport) -> bytes:
    """Render the donor report: needs in euros first, how to help, then the period."""
    story: list[Flowable] = _logo(data.how_to_help)
    story += [paragraph(frame.title, "title"), paragraph(frame.period)]
    story += _what_we_need(data.donor_needs)
    story += _how_to_help(data.how_to_help)
    story += _what_happened(data.distributions, data.meals_served)
    story += _losses(data.losses)
    story += [
        paragraph(_("How these figures are computed"), "h2"),
        paragraph(str(HOW_COMPUTED), "small"),
    ]
    return render(frame, story, frame_font_size=STYLES["small"].fontSize)


def paragraph(text: str, style: str = "body") -> Paragraph:
    """Return a paragraph of plain text in the donor report's large type."""
    return base_paragraph(text, style, STYLES)


def table(
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    widths: Sequence[float],
    numeric: Sequence[int] = (),
    row_colours: dict[int, Any] | None = None,
) -> Flowable:
    """Return a table in the donor report's large type (at least 10 pt)."""
    return base_table(header, rows, widths, numeric, row_colours, styles=STYLES)


def _logo(help_: HowToHelp) -> list[Flowable]:
    """Return the organisation's logo, at most 30 mm tall and keeping its shape."""
    if not help_.logo:
        return []
    try:
        width, height = ImageReader(io.BytesIO(help_.logo)).getSize()
    except (OSError, ValueError):  # cleaned when saved; a bad one must not stop the report
        return []
    scale = min(LOGO_HEIGHT / height, LOGO_WIDTH / width)
    image = Image(io.BytesIO(help_.logo), width=width * scale, height=height * scale)
    image.hAlign = "LEFT"
    return [image, Spacer(1, 3 * mm)]


# --- what we need ------------------------------------------------------------------------------


def _what_we_need(needs: DonorNeeds) -> list[Flowable]:
    parts: list[Flowable] = [paragraph(_("What is needed now"), "h2")]
    if not needs.groups:
        return [*parts, paragraph(_("Nothing is short at the moment."))]
    parts += [_top_line(need) for need in needs.top]
    parts.append(_legend())
    for group in needs.groups:
        parts += _category_table(group)
    total = _total_line(needs)
    if total is not None:
        parts += [Spacer(1, 3 * mm), total]
    chart = _value_chart(needs.all)
    if chart is not None:
        parts += [Spacer(1, 3 * mm), chart]
    return parts


def _amount(need: DonorNeed) -> str:
    """Return what is short as a donor says it: "120 Sleeping bag", "80 litres Drinking water"."""
    return wording.amount_of(need.short, need.unit, need.label)


def _top_line(need: DonorNeed) -> Paragraph:
    """Return one of the most urgent needs as a big line, with its worth when known."""
    text = _amount(need)
    if need.value_eur is not None:
        text = _(
            "%(quantity)s — about %(amount)s", quantity=text, amount=i18n.euros(need.value_eur)
        )
    if need.urgent:
        text = _("Urgent: %(need)s", need=text)
    colour = URGENT_INK if need.urgent else NEEDED_INK
    return Paragraph(f'<font color="{colour.hexval()}">{escape(text)}</font>', STYLES["lead"])


def _priority(need: DonorNeed) -> str:
    return _("Urgent") if need.urgent else _("Needed")


def _legend() -> Paragraph:
    """Return the one line that says what the row colours mean (the words say it too)."""
    marks = {
        "{urgent}": _swatch(_("Urgent"), CRITICAL),
        "{needed}": _swatch(_("Needed"), WARNING),
    }
    text = escape(
        _(
            "%(urgent)s not enough for the next 48 hours · %(needed)s short in the coming days",
            urgent="{urgent}",
            needed="{needed}",
        )
    )
    for mark, markup in marks.items():
        text = text.replace(mark, markup)
    return Paragraph(text, STYLES["body"])


def _swatch(word: str, colour: colors.Color) -> str:
    return f'<span backColor="{colour.hexval()}"><b> {escape(word)} </b></span>'


def _category_table(group: CategoryNeeds) -> list[Flowable]:
    heading = _category(group.category)
    if group.value_eur:
        heading = _(
            "%(category)s — %(amount)s", category=heading, amount=i18n.euros(group.value_eur)
        )
    rows = [
        [
            need.label,
            wording.quantity(need.short, need.unit),
            wording.quantity(need.pledged, need.unit) if need.pledged else "–",
            i18n.euros(need.value_eur) if need.value_eur is not None else "–",
            _priority(need),
        ]
        for need in group.needs
    ]
    colours = {i: CRITICAL if n.urgent else WARNING for i, n in enumerate(group.needs)}
    return [
        paragraph(heading, "h3"),
        table(
            [_("Item"), _("Short"), _("Pledged"), _("Value"), _("Priority")],
            rows,
            widths=[56 * mm, 30 * mm, 28 * mm, 32 * mm, 26 * mm],
            numeric=(1, 2, 3),
            row_colours=colours,
        ),
    ]


def _total_line(needs: DonorNeeds) -> Paragraph | None:
    """Return the total worth of what is short; "at least" when some items have no value."""
    if not needs.total_eur:
        return None
    amount = i18n.euros(needs.total_eur)
    if needs.total_is_partial:
        text = _(
            "Total value of what is short: at least %(amount)s (some items have no unit value).",
            amount=amount,
        )
    else:
        text = _("Total value of what is short: %(amount)s.", amount=amount)
    return Paragraph(f"<b>{escape(text)}</b>", STYLES["body"])


def _value_chart(needs: list[DonorNeed]) -> Drawing | None:
    """Return the worth of what is short, by item, on one axis in euros (never mixed units)."""
    valued = [n for n in needs if n.value_eur]
    valued = sorted(valued, key=lambda n: -(n.value_eur or 0))[:CHART_ITEMS]
    if len(valued) < 2:  # one bar says no more than the table
        return None
    height = 20 * mm + 8 * mm * len(valued)
    width = min(170 * mm, BODY_WIDTH)
    drawing = Drawing(width, height)
    chart = HorizontalBarChart()
    chart.x, chart.y = 62 * mm, 8 * mm
    chart.width, chart.height = width - 70 * mm, height - 18 * mm
    ordered = list(reversed(valued))  # biggest at the top
    chart.data = [[float(n.value_eur or 0) for n in ordered]]
    chart.categoryAxis.categoryNames = [printable(_chart_label(n.label)) for n in ordered]
    for axis in (chart.categoryAxis, chart.valueAxis):
        axis.labels.fontName = FONT
        axis.labels.fontSize = CHART_FONT_SIZE
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labelTextFormat = _axis_euros
    chart.bars.strokeColor = colors.black
    chart.bars.strokeWidth = 0.3
    for index, need in enumerate(ordered):
        chart.bars[(0, index)].fillColor = URGENT_BAR if need.urgent else NEEDED_BAR
    drawing.add(chart)
    drawing.add(
        String(
            0,
            height - 5 * mm,
            printable(
                ngettext(
                    "Value of what is short, in euros (the %(num)d largest)",
                    "Value of what is short, in euros (the %(num)d largest)",
                    len(valued),
                )
            ),
            fontName=FONT,
            fontSize=10,
        )
    )
    return drawing


def _chart_label(text: str) -> str:
    if len(text) <= CHART_LABEL_CHARACTERS:
        return text
    return text[: CHART_LABEL_CHARACTERS - 1] + "…"


def _axis_euros(value: float) -> str:
    """Write an axis mark in whole euros in the current language: €1,800 / 1 800 €."""
    locale = i18n.current_babel_locale()
    pattern = locale.currency_formats["standard"].pattern.replace(".00", "")
    return printable(
        format_currency(
            Decimal(str(value)), "EUR", format=pattern, currency_digits=False, locale=locale
        )
    )


# --- how to help -------------------------------------------------------------------------------


def _how_to_help(help_: HowToHelp) -> list[Flowable]:
    """Return where to bring goods, when, how to give money and whom to ask; the filled ones."""
    parts: list[Flowable] = []
    if help_.drop_off:
        parts += [paragraph(_("Where to bring goods"), "h3"), paragraph(help_.drop_off)]
    if help_.opening_hours:
        parts += [paragraph(_("Opening hours"), "h3"), paragraph(help_.opening_hours)]
    if help_.donation_url:
        parts += [
            paragraph(_("Give online"), "h3"),
            _link(help_.donation_url, help_.donation_url),
        ]
    if help_.contact_email:
        parts += [
            paragraph(_("Contact"), "h3"),
            _link(f"mailto:{help_.contact_email}", help_.contact_email),
        ]
    if not parts:
        return []
    return [paragraph(_("How to help"), "h2"), *parts]


def _link(target: str, text: str) -> Paragraph:
    """Return a clickable link (underlined: it reads as a link in black and white too)."""
    href = escape(target).replace('"', "&quot;")
    return Paragraph(
        f'<a href="{href}" color="{LINK_INK}"><u>{escape(text)}</u></a>', STYLES["body"]
    )


# --- the period -------------------------------------------------------------------------------


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
        if any((row.share_of_given or 0) > 1 for row in losses.items):
            # Goods given out before the period can be destroyed in it: say so, not "wrong".
            parts += [
                Spacer(1, 2 * mm),
                paragraph(
                    _(
                        "More than %(percent)s: more was destroyed in the period than was "
                        "given out in it — it had been given out earlier.",
                        percent=_percent(1),
                    )
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
