"""Label sheets: A4 pages of several labels, or single labels 62 mm wide for a label printer.

Each label names its site and item (and a box's code and quantity) in real text of at least
9 pt, beside a QR code holding the link a phone's camera opens. A site's name only: its private
details never go on a label stuck where anyone walks past.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from flask_babel import gettext as _
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from .base import FONT, FONT_BOLD, TextStyle, printable, wrap_text

FORMATS = ("a4", "62mm")

# A4: two columns of five labels, cut along the grey lines.
A4_COLUMNS = 2
A4_ROWS = 5
A4_MARGIN = 10 * mm
A4_QR = 42 * mm
# A roll 62 mm wide; each label as tall as its text and QR code need.
ROLL_WIDTH = 62 * mm
ROLL_MARGIN = 3 * mm
ROLL_QR = 36 * mm
PADDING = 3 * mm

# Type at least 9 pt, read at arm's length in a dim warehouse.
TITLE = TextStyle(FONT_BOLD, 13)
CODE = TextStyle(FONT_BOLD, 16)
TEXT = TextStyle(FONT, 10)
HINT = TextStyle(FONT, 9, 0.3)
CUT_LINE = colors.HexColor("#bbbbbb")


@dataclass(frozen=True)
class Label:
    """What one label says, and the link its QR code holds."""

    item: str
    site: str
    url: str
    code: str = ""  # a box's code; empty on a shelf label
    quantity: str = ""  # a box's contents, "20 pieces"


def render_labels(labels: list[Label], page_format: str, title: str) -> bytes:
    """Render labels as a PDF: an A4 grid ("a4") or one 62 mm label a page ("62mm")."""
    if page_format not in FORMATS:
        raise ValueError(f"unknown label format {page_format!r}")
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    canvas.setTitle(title)
    canvas.setCreator(_("Aid logistics tracker"))
    if page_format == "a4":
        _a4(canvas, labels)
    else:
        _roll(canvas, labels)
    canvas.save()
    return buffer.getvalue()


def _lines(label: Label, width: float) -> list[tuple[str, TextStyle]]:
    """Return the label's text as lines that fit the width, each with its style."""
    parts: list[tuple[str, TextStyle]] = []
    if label.code:
        parts.append((label.code, CODE))
    parts.append((label.item, TITLE))
    if label.quantity:
        parts.append((label.quantity, TEXT))
    parts.append((label.site, TEXT))
    parts.append((_("Scan: count, give out, move, receive"), HINT))
    return [
        (line, style) for text, style in parts for line in wrap_text(printable(text), style, width)
    ]


def _draw_text(canvas: Canvas, lines: list[tuple[str, TextStyle]], x: float, top: float) -> float:
    """Draw the lines downward from top; return where the text ends."""
    y = top
    for line, style in lines:
        y -= style.size * 1.25
        canvas.setFont(style.font, style.size)
        canvas.setFillGray(style.grey)
        canvas.drawString(x, y, line)
    canvas.setFillGray(0)
    return y


def _draw_qr(canvas: Canvas, url: str, x: float, y: float, size: float) -> None:
    """Draw the QR code of url as a size × size square (quiet zone included) at x, y."""
    widget = QrCodeWidget(url, barLevel="M")
    left, bottom, right, top = widget.getBounds()
    drawing = Drawing(
        size, size, transform=[size / (right - left), 0, 0, size / (top - bottom), 0, 0]
    )
    drawing.add(widget)
    renderPDF.draw(drawing, canvas, x, y)


def _a4(canvas: Canvas, labels: list[Label]) -> None:
    """Lay labels out ten to a page, QR code left, text right; grey lines to cut along."""
    page_width, page_height = A4
    cell_width = (page_width - 2 * A4_MARGIN) / A4_COLUMNS
    cell_height = (page_height - 2 * A4_MARGIN) / A4_ROWS
    per_page = A4_COLUMNS * A4_ROWS
    text_width = cell_width - A4_QR - 3 * PADDING
    for index, label in enumerate(labels):
        if index and index % per_page == 0:
            canvas.showPage()
        column = index % A4_COLUMNS
        row = (index % per_page) // A4_COLUMNS
        x = A4_MARGIN + column * cell_width
        y = page_height - A4_MARGIN - (row + 1) * cell_height
        canvas.setStrokeColor(CUT_LINE)
        canvas.setLineWidth(0.5)
        canvas.rect(x, y, cell_width, cell_height, stroke=1, fill=0)
        _draw_qr(canvas, label.url, x + PADDING, y + (cell_height - A4_QR) / 2, A4_QR)
        lines = _lines(label, text_width)
        _draw_text(canvas, lines, x + A4_QR + 2 * PADDING, y + cell_height - PADDING)


def _roll(canvas: Canvas, labels: list[Label]) -> None:
    """Lay each label on its own page 62 mm wide: text on top, the QR code under it."""
    text_width = ROLL_WIDTH - 2 * ROLL_MARGIN
    for label in labels:
        lines = _lines(label, text_width)
        text_height = sum(style.size * 1.25 for _line, style in lines)
        height = 2 * ROLL_MARGIN + text_height + PADDING + ROLL_QR
        canvas.setPageSize((ROLL_WIDTH, height))
        _draw_text(canvas, lines, ROLL_MARGIN, height - ROLL_MARGIN)
        _draw_qr(canvas, label.url, (ROLL_WIDTH - ROLL_QR) / 2, ROLL_MARGIN, ROLL_QR)
        canvas.showPage()
