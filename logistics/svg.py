"""Charts drawn on the server as inline SVG: readable without JavaScript, printable, accessible."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import gettext as _
from markupsafe import Markup, escape

from . import i18n
from .labels import label
from .services.needs import Need

WIDTH = 400
LEFT = 12  # room for the first tick label, centred on 0
RIGHT = 48  # room for the value written after each bar
TOP = 22  # room for the day scale
ROW = 34
BAR = 12
LEGEND = 26
LABEL_CHARS = 56
COLOURS = {"critical": "#a40000", "warning": "#d98b00", "ok": "#1e6b2f"}
TICKS = (0, 7, 14, 30, 60, 90, 180)


def _number(value: float) -> str:
    """Write days briefly: 27, 3.5, 0."""
    return i18n.number(value, 0 if value >= 10 else 1)


def _short(label: str) -> str:
    """Cut a long label to fit the chart's width; the bar's title keeps it whole."""
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def _text(x: float, y: float, content: str, **attributes: str) -> str:
    extra = "".join(f' {name.replace("_", "-")}="{escape(v)}"' for name, v in attributes.items())
    return f'<text x="{x:.1f}" y="{y:.1f}" font-size="12"{extra}>{escape(content)}</text>'


def cover_chart(needs: Sequence[Need], cap_days: int = 60, chart_id: str = "cover-chart") -> Markup:
    """Draw days of cover per item that has a use rate, with each item's target marked.

    Bars longer than cap_days stop at the cap so one well-stocked item does not flatten the rest.
    Returns empty markup when no item has a rate.
    """
    rows = [need for need in needs if need.days_of_cover is not None]
    if not rows:
        return Markup("")
    plot = WIDTH - LEFT - RIGHT
    scale = plot / cap_days
    height = TOP + ROW * len(rows) + LEGEND
    title = _("Days of cover per item (bars stop at %(cap)s days)", cap=cap_days)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="group" '
        f'aria-labelledby="{chart_id}-title" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
    ]
    bottom = TOP + ROW * len(rows)
    for tick in (t for t in TICKS if t <= cap_days):
        x = LEFT + tick * scale
        parts.append(
            f'<line x1="{x:.1f}" y1="{TOP - 4}" x2="{x:.1f}" y2="{bottom}" '
            f'stroke="#d6d6d6" stroke-width="1"/>'
        )
        parts.append(_text(x, TOP - 8, _("%(n)s d", n=tick), text_anchor="middle", fill="#5c5c5c"))
    for index, need in enumerate(rows):
        parts.append(_bar(need, TOP + index * ROW, scale, cap_days))
    parts.append(_legend(bottom + 8))
    parts.append("</svg>")
    return Markup("\n".join(parts))


def _bar(need: Need, top: float, scale: float, cap_days: int) -> str:
    cover = need.days_of_cover or 0.0
    width = min(cover, cap_days) * scale
    target_x = LEFT + min(need.cover_target_days, cap_days) * scale
    colour = COLOURS.get(need.status, COLOURS["ok"])
    shown = _("%(n)s d", n=_number(cover))  # the real figure, even where the bar stops
    description = _(
        "%(item)s: %(cover)s days of cover, target %(target)s days (%(status)s)",
        item=need.label,
        cover=_number(cover),
        target=need.cover_target_days,
        status=label("need_status", need.status),
    )
    bar_y = top + 16
    return "".join(
        [
            f'<g class="bar status-{escape(need.status)}" role="img">',
            f"<title>{escape(description)}</title>",
            _text(LEFT, top + 12, _short(need.label), fill="#1b1b1b"),
            f'<rect x="{LEFT}" y="{bar_y:.1f}" width="{width:.1f}" height="{BAR}" '
            f'fill="{colour}"/>',
            f'<line x1="{target_x:.1f}" y1="{bar_y - 3:.1f}" x2="{target_x:.1f}" '
            f'y2="{bar_y + BAR + 3:.1f}" stroke="#1b1b1b" stroke-width="2"/>',
            _text(LEFT + width + 4, bar_y + BAR - 1, shown, fill="#1b1b1b"),
            "</g>",
        ]
    )


def _legend(top: float) -> str:
    parts = []
    x = LEFT
    for status in ("critical", "warning", "ok"):
        parts.append(
            f'<rect x="{x}" y="{top:.1f}" width="10" height="10" fill="{COLOURS[status]}"/>'
        )
        parts.append(_text(x + 14, top + 10, label("need_status", status), fill="#1b1b1b"))
        x += 84
    parts.append(
        f'<line x1="{x + 4}" y1="{top - 2:.1f}" x2="{x + 4}" y2="{top + 12:.1f}" '
        f'stroke="#1b1b1b" stroke-width="2"/>'
    )
    parts.append(_text(x + 12, top + 10, _("cover target"), fill="#1b1b1b"))
    return "".join(parts)
