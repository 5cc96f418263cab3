"""The report base: fonts that print accents, named styles, the page frame, page X of Y."""

from __future__ import annotations

import io
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, lru_cache
from itertools import accumulate, islice, repeat
from pathlib import Path
from typing import Any, NamedTuple

import reportlab
from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
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

from .. import i18n
from ..labels import label

FONT = "Vera"
FONT_BOLD = "Vera-Bold"
MARGIN = 16 * mm
PAGE_TOTAL_FORM = "page_total"
TOTAL = "\x00"  # stands for the page total in the footer's sentence until it is known
TOTAL_WIDTH = 6 * mm  # room left for the total when words follow it
FRAME_PADDING = 6  # platypus Frame's default on each side
BODY_WIDTH = A4[0] - 2 * MARGIN - 2 * FRAME_PADDING
QUEUE_AHEAD = 50  # flowables taken from a streamed story before they are laid out
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
# The same names, larger: for readers outside the group (donors), on paper and on a phone.
# Body and tables at least 10 pt, small print (footnotes, the method) at least 9 pt.
LARGE_STYLES: dict[str, ParagraphStyle] = {
    "title": ParagraphStyle("title_l", fontName=FONT_BOLD, fontSize=20, leading=25, spaceAfter=4),
    "lead": ParagraphStyle(
        "lead_l", fontName=FONT_BOLD, fontSize=14, leading=18, spaceBefore=2, spaceAfter=4
    ),
    # Headings stay with what follows them: never alone at the foot of a page.
    "h2": ParagraphStyle(
        "h2_l",
        fontName=FONT_BOLD,
        fontSize=15,
        leading=19,
        spaceBefore=14,
        spaceAfter=6,
        keepWithNext=1,
    ),
    "h3": ParagraphStyle(
        "h3_l",
        fontName=FONT_BOLD,
        fontSize=12,
        leading=15,
        spaceBefore=8,
        spaceAfter=3,
        keepWithNext=1,
    ),
    "body": ParagraphStyle("body_l", fontName=FONT, fontSize=10.5, leading=14, spaceAfter=5),
    "small": ParagraphStyle(
        "small_l", fontName=FONT, fontSize=9, leading=12, textColor=colors.HexColor("#333333")
    ),
    "cell": ParagraphStyle("cell_l", fontName=FONT, fontSize=10, leading=12.5),
    "cell_right": ParagraphStyle(
        "cell_right_l", fontName=FONT, fontSize=10, leading=12.5, alignment=TA_RIGHT
    ),
}
FRAME_FONT_SIZE = 8
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
    """Return "1 Nov 2026 – 26 Nov 2026" in the current language, or "" without a period."""
    if first is None or last is None:
        return ""
    return _("%(first)s – %(last)s", first=i18n.when(first, "date"), last=i18n.when(last, "date"))


def made_at_text(moment: datetime, zone: Any) -> str:
    """Return the making time in the organisation's time zone: "4 Dec 2026 18:05 CET"."""
    return f"{i18n.when(moment, 'date_time', zone)} {moment.astimezone(zone):%Z}"


def paragraph(
    text: str, style: str = "body", styles: dict[str, ParagraphStyle] = STYLES
) -> Paragraph:
    """Return a paragraph of plain text (escaped: data never becomes markup)."""
    return Paragraph(escape(text), styles[style])


def kind_label(kind: str) -> str:
    """Return an incident kind in the current language: "Police destruction"."""
    return label("incident_kind", kind)


# Characters the embedded font has no glyph for, and the nearest it has: Babel groups French
# thousands with a narrow no-break space ("1 800,00 €"), which Vera would print as a box.
_NO_GLYPH = str.maketrans({"\u202f": "\u00a0"})


def printable(text: str) -> str:
    """Return text with the characters the font lacks swapped for the nearest it has."""
    return text.translate(_NO_GLYPH)


def escape(text: Any) -> str:
    """Escape text for ReportLab's paragraph markup (and keep to the font's glyphs)."""
    return (
        printable(str(text if text is not None else ""))
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
    styles: dict[str, ParagraphStyle] = STYLES,
) -> Table:
    """Return a table whose header row repeats on every page it spans."""

    def cell(value: Any, column: int) -> Any:
        if isinstance(value, Flowable):
            return value
        style = "cell_right" if column in numeric else "cell"
        return Paragraph(escape(value), styles[style])

    data = [[Paragraph(f"<b>{escape(h)}</b>", styles["cell"]) for h in header]]
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

    def __init__(
        self,
        *args: Any,
        frame: ReportFrame,
        on_page: Callable[[int], None] | None = None,
        font_size: float = FRAME_FONT_SIZE,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.report_frame = frame
        self.font_size = font_size
        self.page_listener = on_page
        # The footer in the current language; the total goes where TOTAL stands, once known.
        self.footer = _("Page %(number)s of %(total)s", number="{number}", total=TOTAL)
        self.made_label = _("Made %(when)s", when=frame.made_at)

    def showPage(self) -> None:  # noqa: N802 (ReportLab's name)
        number = self.getPageNumber()
        self.draw_report_frame(number)
        super().showPage()
        if self.page_listener is not None:
            self.page_listener(number)

    def save(self) -> None:
        total = self.getPageNumber() - 1
        self.beginForm(PAGE_TOTAL_FORM)
        self.setFont(FONT, self.font_size)
        self.drawString(0, 0, str(total))
        self.endForm()
        super().save()

    def draw_report_frame(self, number: int) -> None:
        width, height = A4
        frame = self.report_frame
        before, _total, after = self.footer.replace("{number}", str(number)).partition(TOTAL)
        size = self.font_size
        x = width - MARGIN - 28 * mm * size / FRAME_FONT_SIZE
        self.saveState()
        self.setFont(FONT_BOLD, size)
        self.drawString(MARGIN, height - 10 * mm, f"{frame.organisation} · {frame.title}")
        self.setFont(FONT, size)
        if frame.period:
            self.drawRightString(width - MARGIN, height - 10 * mm, frame.period)
        # "Page N of " last, just before the total: it reads (and extracts) as one phrase.
        self.drawString(MARGIN, 8 * mm, self.made_label)
        self.drawString(x, 8 * mm, before)
        total_x = x + self.stringWidth(before, FONT, size)
        if after:  # a language that says something after the total
            self.drawString(total_x + TOTAL_WIDTH * size / FRAME_FONT_SIZE, 8 * mm, after)
        self.translate(total_x, 8 * mm)
        self.doForm(PAGE_TOTAL_FORM)
        self.restoreState()


class _StreamedDocTemplate(BaseDocTemplate):
    """A doc template that takes its flowables from an iterator as the pages need them."""

    def __init__(self, *args: Any, more: Iterator[Flowable], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.more_flowables = more
        self.story_queue: list[Flowable] | None = None

    def build(self, flowables: list[Flowable], **kwargs: Any) -> None:
        """Build from the story, then from the iterator; the build loop stops at an empty queue."""
        self.story_queue = flowables
        self.filterFlowables(flowables)
        super().build(flowables, **kwargs)

    def filterFlowables(self, flowables: list[Flowable]) -> None:  # noqa: N802 (ReportLab's)
        """Top up the story's queue before each flowable is laid out: memory stays flat."""
        # ReportLab also passes its own list of page-start actions here: leave that alone.
        if flowables is self.story_queue and len(flowables) < QUEUE_AHEAD // 2:
            flowables.extend(islice(self.more_flowables, QUEUE_AHEAD))


def render(
    frame: ReportFrame,
    story: list[Flowable],
    more: Iterable[Flowable] | None = None,
    on_page: Callable[[int], None] | None = None,
    frame_font_size: float = FRAME_FONT_SIZE,
) -> bytes:
    """Lay out the story, then whatever `more` yields, on A4 pages with the frame; PDF bytes.

    on_page hears the number of each page as soon as it is laid out (progress of a long report).
    frame_font_size sets the page header and footer (larger for readers outside the group).
    """
    buffer = io.BytesIO()
    document = _StreamedDocTemplate(
        buffer,
        more=iter(more or ()),
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=16 * mm,
        bottomMargin=14 * mm,
        title=f"{frame.title} — {frame.organisation}",
        author=frame.organisation,
        creator=_("Aid logistics tracker"),
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
        list(story),
        canvasmaker=lambda *args, **kwargs: _FramedCanvas(
            *args, frame=frame, on_page=on_page, font_size=frame_font_size, **kwargs
        ),
    )
    return buffer.getvalue()


# --- record blocks: many short lines of text, drawn fast ------------------------------------


class TextStyle(NamedTuple):
    """A font, its size and a grey level (0 black) for record block text."""

    font: str
    size: float
    grey: float = 0.0


# One piece of text on a row: (x, text, style, right-aligned). Plain tuples: a ten-year
# report makes 700,000 of them.
Cell = tuple[float, str, TextStyle]


def cell(x: float, text: str, style: TextStyle, right: bool = False) -> Cell:
    """Return a cell: text at its left edge x, or ending at x when right-aligned."""
    if "\u202f" in text:  # a French figure of thousands
        text = printable(text)
    if right:
        x -= stringWidth(text, style.font, style.size)
    return (x, text, style)


class Row(NamedTuple):
    """One line of a record block, with what marks it and the header it sits under."""

    height: float
    baseline: float
    cells: tuple[Cell, ...]
    fill: bool = False  # the header background
    rule: bool = False  # a thin rule below
    keep: bool = False  # never the last row on a page (headings, table headers)
    header: Row | None = None  # repeated at the top of a page that starts in its table


class RecordBlock(Flowable):
    """A block of single-line rows: cheap to lay out, split at any row, drawn as one stream.

    Platypus Table and Paragraph parse, wrap and measure every cell on every layout; a record
    whose lines are known up front needs none of that, so ten years of records lay out in
    seconds. Text is plain (never markup) and set in the embedded font.
    """

    MIN_FIRST_ROWS = 4  # fewer on this page than a heading and a few rows: start on the next

    def __init__(self, rows: Sequence[Row], continued: Row | None = None) -> None:
        super().__init__()
        self.rows = rows
        self.continued = continued
        self.width = BODY_WIDTH
        self.height = sum(row.height for row in rows)

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        """Return the block's size: its rows one under the other."""
        return self.width, self.height

    def split(self, availWidth: float, availHeight: float) -> list[Flowable]:  # noqa: N803
        """Cut at the last row that fits; the rest starts with its heading and table header."""
        rows = self.rows
        used = 0.0
        cut = 0
        for row in rows:
            if used + row.height > availHeight:
                break
            used += row.height
            cut += 1
        while cut and rows[cut - 1].keep:
            cut -= 1
        if cut < min(self.MIN_FIRST_ROWS, len(rows)) or cut == len(rows):
            return []
        rest = list(rows[cut:])
        header = rest[0].header
        if header is not None and rest[0] is not header:
            rest.insert(0, header)
        if self.continued is not None:
            rest.insert(0, self.continued)
        return [RecordBlock(rows[:cut]), RecordBlock(rest, self.continued)]

    def draw(self) -> None:
        """Draw backgrounds and rules, then all the text as one text object."""
        canvas = self.canv
        width = self.width
        canvas.saveState()
        canvas.setFillColor(HEADER_BACKGROUND)
        canvas.setStrokeColor(RULE_COLOUR)
        canvas.setLineWidth(0.25)
        rules = canvas.beginPath()
        top = self.height
        for row in self.rows:
            bottom = top - row.height
            if row.fill:
                canvas.rect(0, bottom, width, row.height, stroke=0, fill=1)
            if row.rule:
                rules.moveTo(0, bottom)
                rules.lineTo(width, bottom)
            top = bottom
        canvas.drawPath(rules, stroke=1, fill=0)
        text = canvas.beginText()
        origin, line = text.setTextOrigin, text.textLine
        style = None
        font: tuple[str, float] | None = None
        grey = -1.0
        top = self.height
        for row in self.rows:
            bottom = top - row.height
            baseline = bottom + row.baseline
            for x, words, cell_style in row.cells:
                if cell_style is not style:
                    style = cell_style
                    # Labels and values differ only in grey: the font is set when it changes.
                    if font != style[:2]:
                        font = style[:2]
                        text.setFont(style.font, style.size)
                    if grey != style.grey:
                        grey = style.grey
                        text.setFillGray(grey)
                origin(x, baseline)
                # Each cell sets its own origin, so the cursor need not move across the text:
                # textLine skips the width textOut measures (a tenth of the drawing).
                line(words)
            top = bottom
        canvas.drawText(text)
        canvas.restoreState()


RULE_COLOUR = colors.HexColor("#bbbbbb")
SHORT_TEXT = 24


def wrap_text(text: str, style: TextStyle, width: float) -> tuple[str, ...]:
    """Break text into lines no wider than width: at newlines, spaces, and inside long words."""
    fits = len(text) * _widest(style, text.isascii()) <= width
    if fits and "\n" not in text and "\r" not in text:
        return (text,)  # fits however wide its glyphs: nothing to measure, nothing to cache
    if len(text) <= SHORT_TEXT:
        return _wrap_short(text, style, width)
    return _wrap(text, style, width)


# Item names, actions, sites, yes/no, dates come back again and again; descriptions do not,
# and kept out of the cache they cannot push the others out.
@lru_cache(maxsize=8192)
def _wrap_short(text: str, style: TextStyle, width: float) -> tuple[str, ...]:
    return _wrap(text, style, width)


def _wrap(text: str, style: TextStyle, width: float) -> tuple[str, ...]:
    if "\n" in text or "\r" in text:
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        return tuple(piece for line in lines for piece in _break(line, style, width))
    ascii_only = text.isascii()
    if len(text) * _widest(style, ascii_only) <= width:
        return (text,)
    # Too long to fit even in the narrowest glyphs (a description): break it without
    # measuring it whole first, since _break sums its widths anyway.
    if len(text) * _narrowest(style, ascii_only) <= width and (
        _font(style.font).stringWidth(text, style.size) <= width
    ):
        return (text,)
    return tuple(_break(text, style, width))


def _break(line: str, style: TextStyle, width: float) -> list[str]:
    """Break one line at the last space that fits, or inside a word wider than the width.

    The widths of all the line's beginnings are summed once; each break is then a binary
    search, not a measurement of ever longer prefixes.
    """
    glyph_widths, default = _glyph_widths(style.font)
    # In glyph units; the margin keeps float rounding from letting a line exceed the width.
    limit = width * 1000 / style.size - 1e-6
    ends = list(accumulate(map(glyph_widths.get, line, repeat(default))))
    pieces: list[str] = []
    start, offset, length = 0, 0.0, len(line)
    while True:
        stop = bisect_right(ends, offset + limit, lo=start)  # line[start:stop] fits
        if stop >= length:
            pieces.append(line[start:])
            return pieces
        space = line.rfind(" ", start, stop + 1)
        if space > start and line[start:space].strip():
            pieces.append(line[start:space].rstrip())
            start = space
            while start < length and line[start] == " ":
                start += 1
        else:  # a word wider than the width: cut it where it stops fitting
            stop = max(stop, start + 1)
            pieces.append(line[start:stop])
            start = stop
        if start >= length:
            return pieces
        offset = ends[start - 1]


@cache
def _glyph_widths(font_name: str) -> tuple[dict[str, float], float]:
    """Return the font's glyph widths by character (1000 units to the em) and its default."""
    face = pdfmetrics.getFont(font_name).face
    return {chr(code): width for code, width in face.charWidths.items()}, face.defaultWidth


_font = cache(pdfmetrics.getFont)  # the font object measures without the registry lookup


@cache
def _narrowest(style: TextStyle, ascii_only: bool) -> float:
    """Return the width of the font's narrowest glyph (of the ASCII ones) at the style's size."""
    glyph_widths, default = _glyph_widths(style.font)
    if ascii_only:
        widths = [glyph_widths.get(chr(code), default) for code in range(128)]
    else:
        widths = [default, *glyph_widths.values()]
    return min(widths) * style.size / 1000


@cache
def _widest(style: TextStyle, ascii_only: bool) -> float:
    """Return the width of the font's widest glyph (of the ASCII ones) at the style's size."""
    glyph_widths, default = _glyph_widths(style.font)
    if ascii_only:  # "‰" is a third wider than "@", the widest ASCII glyph
        widths = [glyph_widths.get(chr(code), default) for code in range(128)]
    else:
        widths = [default, *glyph_widths.values()]
    return max(widths) * style.size / 1000
