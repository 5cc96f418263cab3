"""The report base: fonts that print accents, named styles, the page frame, page X of Y."""

from __future__ import annotations

import gc
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
from reportlab import rl_config
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

FONT = "Vera"
FONT_BOLD = "Vera-Bold"
MARGIN = 16 * mm
PAGE_TOTAL_FORM = "page_total"
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
# Binary page streams, not ASCII85 text: PDFs 18 % smaller, and no encoding pass at save.
rl_config.useA85 = 0

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

    def __init__(
        self,
        *args: Any,
        frame: ReportFrame,
        on_page: Callable[[int], None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._frame = frame
        self._on_page = on_page

    def showPage(self) -> None:  # noqa: N802 (ReportLab's name)
        number = self.getPageNumber()
        self._draw_frame(number)
        super().showPage()
        if self._on_page is not None:
            self._on_page(number)

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
        label = f"Page {number} of "
        x = width - MARGIN - 28 * mm
        regular, bold = TextStyle(FONT, 8), TextStyle(FONT_BOLD, 8)
        texts = [(MARGIN, height - 10 * mm, f"{frame.organisation} · {frame.title}", bold)]
        if frame.period:
            right = width - MARGIN - self.stringWidth(frame.period, FONT, 8)
            texts.append((right, height - 10 * mm, frame.period, regular))
        # "Page N of " last, just before the total: it reads (and extracts) as one phrase.
        texts += [(MARGIN, 8 * mm, f"Made {frame.made_at}", regular), (x, 8 * mm, label, regular)]
        # Thousands of pages: the encoders' fast path, not drawString's per-character one.
        self.addLiteral(text_object(self, texts))
        self.saveState()
        self.translate(x + self.stringWidth(label, FONT, 8), 8 * mm)
        self.doForm(PAGE_TOTAL_FORM)
        self.restoreState()


class _StreamedDocTemplate(BaseDocTemplate):
    """A doc template that takes its flowables from an iterator as the pages need them."""

    def __init__(self, *args: Any, more: Iterator[Flowable], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._more = more
        self._queue: list[Flowable] | None = None

    def build(self, flowables: list[Flowable], **kwargs: Any) -> None:
        """Build from the story, then from the iterator; the build loop stops at an empty queue."""
        self._queue = flowables
        self.filterFlowables(flowables)
        super().build(flowables, **kwargs)

    def filterFlowables(self, flowables: list[Flowable]) -> None:  # noqa: N802 (ReportLab's)
        """Top up the story's queue before each flowable is laid out: memory stays flat."""
        # ReportLab also passes its own list of page-start actions here: leave that alone.
        if flowables is self._queue and len(flowables) < QUEUE_AHEAD // 2:
            flowables.extend(islice(self._more, QUEUE_AHEAD))


def render(
    frame: ReportFrame,
    story: list[Flowable],
    more: Iterable[Flowable] | None = None,
    on_page: Callable[[int], None] | None = None,
) -> bytes:
    """Lay out the story, then whatever `more` yields, on A4 pages with the frame; PDF bytes.

    on_page hears the number of each page as soon as it is laid out (progress of a long report).
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
    # A long report allocates millions of small objects and frees them as it goes, without
    # cycles (peak memory is the same either way); the collector would still walk them, and
    # the app's ~150,000 long-lived objects, again and again: a second of a ten-year report.
    collecting = gc.isenabled()
    gc.disable()
    try:
        document.build(
            list(story),
            canvasmaker=lambda *args, **kwargs: _FramedCanvas(
                *args, frame=frame, on_page=on_page, **kwargs
            ),
        )
    finally:
        if collecting:
            gc.enable()
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
        encoders = _encoders(canvas)
        width = f"{self.width:.2f}"
        shapes = [f"q {_fill(HEADER_BACKGROUND)} {_stroke(RULE_COLOUR)} 0.25 w"]
        text = ["Q q BT"]
        add = text.append
        font_name, font_size, grey = "", 0.0, 0.0
        lefts: dict[float, str] = {}  # a few columns: format each left edge once
        top = self.height
        for row in self.rows:
            bottom = top - row.height
            if row.fill:
                shapes.append(f"0 {bottom:.2f} {width} {row.height:.2f} re f")
            if row.rule:
                shapes.append(f"0 {bottom:.2f} m {width} {bottom:.2f} l S")
            baseline = f"{bottom + row.baseline:.2f} Tm"
            for x, words, style in row.cells:
                if style.grey != grey:
                    grey = style.grey
                    add(f"{grey:.3f} g")
                left = lefts.get(x)
                if left is None:
                    left = lefts[x] = f"1 0 0 1 {x:.2f} "
                add(left + baseline)
                encoder = encoders[style.font]
                for name, shown in encoder.short.get(words) or encoder.chunks(words):
                    if name != font_name or style.size != font_size:
                        font_name, font_size = name, style.size
                        add(f"{name} {font_size:g} Tf")
                    add(shown)
            top = bottom
        add("ET Q")
        canvas.addLiteral(" ".join(shapes) + " " + " ".join(text))


RULE_COLOUR = colors.HexColor("#bbbbbb")
SHORT_TEXT = 24
SHORT_TEXTS_KEPT = 20_000


def _fill(colour: Any) -> str:
    return f"{colour.red:.3f} {colour.green:.3f} {colour.blue:.3f} rg"


def _stroke(colour: Any) -> str:
    return f"{colour.red:.3f} {colour.green:.3f} {colour.blue:.3f} RG"


def text_object(canvas: Canvas, texts: Iterable[tuple[float, float, str, TextStyle]]) -> str:
    """Return a text object showing each (x, y, text, style), for canvas.addLiteral."""
    encoders = _encoders(canvas)
    out = ["q BT"]
    for x, y, words, style in texts:
        out.append(f"{style.grey:.3f} g 1 0 0 1 {x:.2f} {y:.2f} Tm")
        for name, shown in encoders[style.font].chunks(words):
            out.append(f"{name} {style.size:g} Tf {shown}")
    out.append("ET Q")
    return " ".join(out)


class _Encoders(dict[str, "_SubsetEncoder"]):
    """A document's subset encoders by font name, made on first use."""

    def __init__(self, canvas: Canvas) -> None:
        super().__init__()
        self._canvas = canvas

    def __missing__(self, font_name: str) -> _SubsetEncoder:
        encoder = self[font_name] = _SubsetEncoder(self._canvas, font_name)
        return encoder


def _encoders(canvas: Canvas) -> _Encoders:
    """Return the canvas's encoders: they remember the document's font subsets."""
    encoders = getattr(canvas, "_record_encoders", None)
    if encoders is None:
        encoders = _Encoders(canvas)
        canvas._record_encoders = encoders  # type: ignore[attr-defined]
    return encoders


class _SubsetEncoder:
    """Encode text for an embedded TrueType font, as ReportLab's font.splitString does.

    splitString walks every character in Python. Once the characters of a text all sit in the
    font's first subset, one str.translate gives the same bytes; anything else (a character
    not seen yet, or beyond the first 256) still goes through splitString, which assigns it.
    """

    def __init__(self, canvas: Canvas, font_name: str) -> None:
        self._font = pdfmetrics.getFont(font_name)
        if not getattr(self._font, "_dynamicFont", False):
            raise ValueError(f"{font_name} is not an embedded TrueType font")
        self._doc = canvas._doc
        self._escape = canvas._escape
        self._known: set[str] = set()
        self._table: dict[int, int] = {}
        self._first_name = self._font.getSubsetInternalName(0, self._doc)
        # Labels, yes/no, quantities, item names: a few thousand short texts, shown often.
        self.short: dict[str, list[tuple[str, str]]] = {}

    def chunks(self, text: str) -> list[tuple[str, str]]:
        """Return (PDF font name, "(escaped) Tj") pieces showing the text."""
        if self._known.issuperset(text):
            found = [(self._first_name, f"({self._escape(text.translate(self._table))}) Tj")]
            if len(text) <= SHORT_TEXT and len(self.short) < SHORT_TEXTS_KEPT:
                self.short[text] = found
            return found
        pieces = self._font.splitString(text, self._doc)
        position = 0
        result = []
        for subset, data in pieces:
            if subset == 0:  # learn the first subset's codes for the fast path
                for char, code in zip(text[position : position + len(data)], data, strict=True):
                    self._known.add(char)
                    self._table[ord(char)] = code
            position += len(data)
            name = self._font.getSubsetInternalName(subset, self._doc)
            result.append((name, f"({self._escape(data)}) Tj"))
        return result


def wrap_text(text: str, style: TextStyle, width: float) -> tuple[str, ...]:
    """Break text into lines no wider than width: at newlines, spaces, and inside long words."""
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
    widest = _widest(style, text.isascii())
    if len(text) * widest <= width or stringWidth(text, style.font, style.size) <= width:
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


@cache
def _widest(style: TextStyle, ascii_only: bool) -> float:
    """Return the width of the font's widest glyph (of the ASCII ones) at the style's size."""
    glyph_widths, default = _glyph_widths(style.font)
    if ascii_only:  # "‰" is a third wider than "@", the widest ASCII glyph
        widths = [glyph_widths.get(chr(code), default) for code in range(128)]
    else:
        widths = [default, *glyph_widths.values()]
    return max(widths) * style.size / 1000
