"""The report base: fonts that print accents, named styles, the page frame, page X of Y."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import reportlab
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    PageTemplate,
    Paragraph,
    Table,
    TableStyle,
)
from reportlab.platypus.tables import LongTable

FONT = "Vera"
FONT_BOLD = "Vera-Bold"
MARGIN = 16 * mm
PAGE_TOTAL_FORM = "page_total"
_FONTS_DIR = Path(reportlab.__file__).parent / "fonts"


def _register_fonts() -> None:
    """Embed Bitstream Vera (shipped with ReportLab): accents print, text stays extractable."""
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    pdfmetrics.registerFont(TTFont(FONT, str(_FONTS_DIR / "Vera.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(_FONTS_DIR / "VeraBd.ttf")))
    pdfmetrics.registerFont(TTFont("Vera-Italic", str(_FONTS_DIR / "VeraIt.ttf")))
    pdfmetrics.registerFont(TTFont("Vera-BoldItalic", str(_FONTS_DIR / "VeraBI.ttf")))
    pdfmetrics.registerFontFamily(
        FONT, normal=FONT, bold=FONT_BOLD, italic="Vera-Italic", boldItalic="Vera-BoldItalic"
    )


_register_fonts()

STYLES: dict[str, ParagraphStyle] = {
    "title": ParagraphStyle("title", fontName=FONT_BOLD, fontSize=16, leading=20, spaceAfter=4),
    "h2": ParagraphStyle(
        "h2", fontName=FONT_BOLD, fontSize=12, leading=15, spaceBefore=10, spaceAfter=4
    ),
    "h3": ParagraphStyle(
        "h3", fontName=FONT_BOLD, fontSize=10, leading=13, spaceBefore=6, spaceAfter=2
    ),
    "body": ParagraphStyle("body", fontName=FONT, fontSize=9, leading=12, spaceAfter=4),
    "small": ParagraphStyle(
        "small", fontName=FONT, fontSize=7.5, leading=9.5, textColor=colors.HexColor("#444444")
    ),
    "cell": ParagraphStyle("cell", fontName=FONT, fontSize=8, leading=10),
    "cell_right": ParagraphStyle(
        "cell_right", fontName=FONT, fontSize=8, leading=10, alignment=TA_RIGHT
    ),
}
HEADER_BACKGROUND = colors.HexColor("#e4e8ec")
CRITICAL = colors.HexColor("#f4c7c3")
WARNING = colors.HexColor("#fce8b2")


@dataclass(frozen=True)
class ReportFrame:
    """What every page says: who, what, which period, when it was made."""

    organisation: str
    title: str
    period: str
    made_at: str


def period_text(first: date | None, last: date | None) -> str:
    """Return "1 Nov 2026 – 26 Nov 2026", or "" without a period."""
    if first is None or last is None:
        return ""
    return f"{first:%d %b %Y} – {last:%d %b %Y}"


def made_at_text(moment: datetime, zone: Any) -> str:
    """Return the making time in the organisation's time zone."""
    return moment.astimezone(zone).strftime("%d %b %Y %H:%M %Z")


def paragraph(text: str, style: str = "body") -> Paragraph:
    """Return a paragraph of plain text (escaped: data never becomes markup)."""
    return Paragraph(escape(text), STYLES[style])


def kind_label(kind: str) -> str:
    """Return "Police destruction" for police_destruction."""
    return kind.replace("_", " ").capitalize()


def escape(text: Any) -> str:
    """Escape text for ReportLab's paragraph markup."""
    return (
        str(text if text is not None else "")
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\n", "<br/>")
    )


def table(
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    widths: Sequence[float] | None = None,
    numeric: Sequence[int] = (),
    row_colours: dict[int, Any] | None = None,
    long: bool = False,
) -> Table:
    """Return a table whose header row repeats on every page it spans."""

    def cell(value: Any, column: int) -> Any:
        if isinstance(value, Flowable):
            return value
        style = "cell_right" if column in numeric else "cell"
        return Paragraph(escape(value), STYLES[style])

    data = [[Paragraph(f"<b>{escape(h)}</b>", STYLES["cell"]) for h in header]]
    data += [[cell(value, i) for i, value in enumerate(row)] for row in rows]
    kind = LongTable if long else Table
    result = kind(data, colWidths=widths, repeatRows=1)
    commands: list[tuple[Any, ...]] = [
        ("BACKGROUND", (0, 0), (-1, 0), HEADER_BACKGROUND),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#bbbbbb")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    for index, colour in (row_colours or {}).items():
        commands.append(("BACKGROUND", (0, index + 1), (-1, index + 1), colour))
    result.setStyle(TableStyle(commands))
    return result


class _FramedCanvas(Canvas):
    """Draw the page frame; "of Y" is a form drawn once at the end, so pages are not held."""

    def __init__(self, *args: Any, frame: ReportFrame, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._frame = frame

    def showPage(self) -> None:  # noqa: N802 (ReportLab's name)
        self._draw_frame(self.getPageNumber())
        super().showPage()

    def save(self) -> None:
        total = self.getPageNumber() - 1
        self.beginForm(PAGE_TOTAL_FORM)
        self.setFont(FONT, 8)
        self.drawString(0, 0, str(total))
        self.endForm()
        super().save()

    def _draw_frame(self, number: int) -> None:
        width, height = A4
        frame = self._frame
        self.setFont(FONT_BOLD, 8)
        self.drawString(MARGIN, height - 10 * mm, f"{frame.organisation} · {frame.title}")
        self.setFont(FONT, 8)
        if frame.period:
            self.drawRightString(width - MARGIN, height - 10 * mm, frame.period)
        self.drawString(MARGIN, 8 * mm, f"Made {frame.made_at}")
        label = f"Page {number} of "
        x = width - MARGIN - 28 * mm
        self.drawString(x, 8 * mm, label)
        self.saveState()
        self.translate(x + self.stringWidth(label, FONT, 8), 8 * mm)
        self.doForm(PAGE_TOTAL_FORM)
        self.restoreState()


def render(frame: ReportFrame, story: list[Flowable]) -> bytes:
    """Lay out the story on A4 pages with the frame; return the PDF bytes."""
    buffer = io.BytesIO()
    document = BaseDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=16 * mm,
        bottomMargin=14 * mm,
        title=f"{frame.title} — {frame.organisation}",
        author=frame.organisation,
        creator="Aid logistics tracker",
    )
    body = Frame(
        document.leftMargin,
        document.bottomMargin,
        document.width,
        document.height,
        id="body",
    )
    document.addPageTemplates([PageTemplate(id="page", frames=[body])])
    document.build(
        story,
        canvasmaker=lambda *args, **kwargs: _FramedCanvas(*args, frame=frame, **kwargs),
    )
    return buffer.getvalue()
