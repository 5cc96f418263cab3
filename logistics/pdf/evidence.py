"""The evidence report: every incident of a period with all it records, for lawyers.

An appendix shows each photo as its thumbnail (made without the photo's metadata) beside its
name, SHA-256, size and times; other files are listed by their hash.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.platypus import Flowable, PageBreak

from .. import i18n, labels
from .base import (
    BODY_WIDTH,
    FONT,
    FONT_BOLD,
    Cell,
    RecordBlock,
    ReportFrame,
    Row,
    TextStyle,
    cell,
    kind_label,
    paragraph,
    render,
    wrap_text,
)

PAD = 3  # text inset from a column's edges
LABEL_WIDTH = 30 * mm  # "Interpreter present" at 8 pt, with room to spare
LINE_WIDTHS = [58 * mm, 18 * mm, 28 * mm, 52 * mm, 22 * mm]
LINE_COLUMN_NAMES = (_l("Item"), _l("Qty"), _l("Action"), _l("Whose"), _l("Our mark"))
# The answers of the yes / no / unknown fields, and of "carried our mark".
ANSWERS = {"yes": _l("yes"), "no": _l("no"), "unknown": _l("unknown")}
NUMERIC_COLUMNS = (1,)

HEADING = TextStyle(FONT_BOLD, 10)
CONTINUED = TextStyle(FONT_BOLD, 8)
LABEL = TextStyle(FONT, 8, 0.267)
VALUE = TextStyle(FONT, 8)
HEADER = TextStyle(FONT_BOLD, 8)
NOTE = TextStyle(FONT, 7.5, 0.267)

LEADING = 10
HEADING_HEIGHT = 18  # 5 pt above the heading's 13
NOTE_LEADING = 9.5


@dataclass(slots=True)
class LineRecord:
    """One line of an incident: what was lost, how many, and whose it was."""

    item: str
    quantity: int
    action: str
    origin: str
    site: str | None
    marked_property: bool


@dataclass(slots=True)
class AmendmentRecord:
    """A note added to an incident after it was locked."""

    created_at: datetime
    created_by_id: int | None
    text: str


@dataclass(slots=True)
class EvidenceRecord:
    """An evidence file's metadata and hash (the file itself is not in the report)."""

    file_name: str
    media_type: str
    size_bytes: int
    sha256: str
    captured_at: datetime | None
    uploaded_at: datetime | None = None
    thumbnail_sha256: str | None = None  # a photo's picture for the appendix


@dataclass(slots=True)
class IncidentRecord:
    """What the report prints of one incident, loaded without the ORM."""

    id: int
    occurred_at: datetime
    ended_at: datetime | None
    kind: str
    area: str
    site: str | None
    forces_present: str
    bailiff_present: str
    interpreter_present: str
    legal_basis_shown: str
    shelter_offered: str
    people_affected: int | None
    shelters_affected: int | None
    witnesses: str
    description: str
    locked_at: datetime | None
    lines: list[LineRecord] = field(default_factory=list)
    amendments: list[AmendmentRecord] = field(default_factory=list)
    evidence: list[EvidenceRecord] = field(default_factory=list)


def _columns(widths: list[float]) -> list[tuple[float, float]]:
    """Return each column's (left, width), scaled so the columns fill the body width."""
    scale = BODY_WIDTH / sum(widths)
    lefts, left = [], 0.0
    for width in widths:
        lefts.append((left, width * scale))
        left += width * scale
    return lefts


LINE_COLUMNS = _columns(LINE_WIDTHS)
VALUE_LEFT = LABEL_WIDTH + PAD
VALUE_WIDTH = BODY_WIDTH - LABEL_WIDTH - 2 * PAD
# Short fields go two to a row: each pair takes half the width.
HALF = BODY_WIDTH / 2
HALF_VALUE_WIDTH = HALF - LABEL_WIDTH - 2 * PAD
NOTE_WIDTH = BODY_WIDTH - 2 * PAD


# Finds a thumbnail's file by its hash, proven against it; None when missing or altered.
PictureLookup = Callable[[str], Path | None]


def build(
    frame: ReportFrame,
    incidents: Iterable[IncidentRecord],
    zone: Any,
    users: dict[int, str],
    on_page: Callable[[int], None] | None = None,
    pictures: PictureLookup | None = None,
) -> bytes:
    """Render the incidents in time order with fields, lines, amendments and evidence hashes.

    With pictures, an appendix shows each photo's thumbnail beside its name and hash.
    """
    story: list[Flowable] = [paragraph(frame.title, "title"), paragraph(frame.period, "small")]
    return render(frame, story, _blocks(incidents, zone, users, pictures), on_page)


def _answer(value: str) -> str:
    """Return a yes / no / unknown answer in the current language; free text as it is."""
    label = ANSWERS.get(value)
    return str(label) if label is not None else value


def _bytes(size: int) -> str:
    """Return a file size in bytes as the current language writes it: "12,345 bytes"."""
    return ngettext("%(size)s byte", "%(size)s bytes", size, size=i18n.number(size, 0))


def _blocks(
    incidents: Iterable[IncidentRecord],
    zone: Any,
    users: dict[int, str],
    pictures: PictureLookup | None = None,
) -> Iterator[Flowable]:
    """Yield one record block per incident, made only as the pages reach it, then the appendix."""
    count = 0
    files: list[tuple[int, EvidenceRecord]] = []
    for incident in incidents:
        yield incident_block(incident, zone, users)
        files.extend((incident.id, item) for item in incident.evidence)
        count += 1
    if count == 0:
        yield paragraph(_("No incidents in this period."))
    if files:
        yield from _appendix(files, zone, pictures)


def incident_block(incident: IncidentRecord, zone: Any, users: dict[int, str]) -> RecordBlock:
    """Return an incident's block: heading, fields, lines table, amendments, evidence."""
    when = _local(incident.occurred_at, zone)
    if incident.ended_at:
        when += f" – {_local(incident.ended_at, zone)}"
    heading = f"#{incident.id} · {kind_label(incident.kind)} · {incident.area} · {when}"
    rows = [
        Row(
            HEADING_HEIGHT if number == 0 else 13,
            4.5 if number == 0 else 3,
            (cell(PAD, line, HEADING),),
            keep=True,
        )
        for number, line in enumerate(wrap_text(heading, HEADING, NOTE_WIDTH))
    ]
    language = i18n.current_language()
    rows += _field_rows(_field_values(incident, zone), language)
    if incident.lines:
        rows += _line_rows(incident.lines, language)
    for amendment in incident.amendments:
        who = users.get(amendment.created_by_id or 0) or _("unknown")
        rows += _note_rows(
            _(
                "Amendment %(when)s by %(who)s: %(text)s",
                when=_local(amendment.created_at, zone),
                who=who,
                text=amendment.text,
            )
        )
    for item in incident.evidence:
        if item.captured_at:
            text = _(
                "Evidence: %(name)s (%(type)s, %(size)s, taken %(when)s)",
                name=item.file_name,
                type=item.media_type,
                size=_bytes(item.size_bytes),
                when=_local(item.captured_at, zone),
            )
        else:
            text = _(
                "Evidence: %(name)s (%(type)s, %(size)s)",
                name=item.file_name,
                type=item.media_type,
                size=_bytes(item.size_bytes),
            )
        rows += _note_rows(text)
        # The hash on a line of its own: whole, and never to be searched for across a break.
        rows += _note_rows(f"SHA-256 {item.sha256}")
    continued_text = _("#%(id)s (continued)", id=incident.id)
    continued = Row(LEADING + 4, 3.5, (cell(PAD, continued_text, CONTINUED),))
    return RecordBlock(rows, continued=continued._replace(keep=True))


# The fields grid: one field across the width, or two short ones side by side. Seven rows
# rather than eleven: a ten-year report is a quarter shorter.
FIELD_GRID = (
    (_l("Site"), _l("Locked")),
    (_l("Forces present"),),
    (_l("Bailiff present"), _l("Interpreter present")),
    (_l("Legal basis shown"), _l("Shelter offered")),
    (_l("People affected"), _l("Shelters affected")),
    (_l("Witnesses"),),
    (_l("Description"),),
)


@cache
def _grid_columns(language: str) -> tuple[tuple[tuple[Cell, float, float], ...], ...]:
    """Return per grid row, per field: its label cell in the language, and where its value goes.

    Made once per language (the current one: the language is the cache's key).
    """
    return tuple(
        tuple(
            (
                cell(pair * HALF + PAD, str(label), LABEL),
                pair * HALF + VALUE_LEFT,
                VALUE_WIDTH if len(labels) == 1 else HALF_VALUE_WIDTH,
            )
            for pair, label in enumerate(labels)
        )
        for labels in FIELD_GRID
    )


def _field_values(incident: IncidentRecord, zone: Any) -> tuple[tuple[str, ...], ...]:
    """Return the incident's values in the order of FIELD_GRID."""
    locked = _local(incident.locked_at, zone) if incident.locked_at else _("not locked")
    return (
        (incident.site or "", locked),
        (incident.forces_present,),
        (_answer(incident.bailiff_present), _answer(incident.interpreter_present)),
        (_answer(incident.legal_basis_shown), _answer(incident.shelter_offered)),
        (_count(incident.people_affected), _count(incident.shelters_affected)),
        (incident.witnesses,),
        (incident.description,),
    )


def _field_rows(values: tuple[tuple[str, ...], ...], language: str) -> list[Row]:
    """Return the fields grid: label and value lines of each field; a rule under each row."""
    rows = []
    for columns, texts in zip(_grid_columns(language), values, strict=True):
        wrapped = [
            wrap_text(text, VALUE, width) if text else ()
            for (_label, _left, width), text in zip(columns, texts, strict=True)
        ]
        height = max(map(len, wrapped)) or 1
        for number in range(height):
            cells: list[Cell] = []
            for (label, left, _width), lines in zip(columns, wrapped, strict=True):
                if number == 0:
                    cells.append(label)
                if number < len(lines) and lines[number]:
                    cells.append((left, lines[number], VALUE))
            rows.append(Row(LEADING, 3, tuple(cells), False, number == height - 1))
    return rows


def _line_rows(lines: list[LineRecord], language: str) -> list[Row]:
    """Return the lines table: a header row, then each line's cells, wrapped in their columns."""
    header = _lines_header(language)
    rows = [header]
    for line in lines:
        if line.origin == "from_stock" and line.site:
            whose = _("from stock at %(site)s", site=line.site)
        else:
            whose = _("given out earlier")
        values = (
            line.item,
            i18n.number(line.quantity),
            labels.label("incident_action", line.action),
            whose,
            _answer("yes" if line.marked_property else "no"),
        )
        wrapped = [
            wrap_text(value, VALUE, LINE_COLUMNS[column][1] - 2 * PAD)
            for column, value in enumerate(values)
        ]
        height = max(len(column) for column in wrapped)
        for number in range(height):
            cells = tuple(
                _cell(column, texts[number], VALUE)
                for column, texts in enumerate(wrapped)
                if number < len(texts) and texts[number]
            )
            rows.append(Row(LEADING, 3, cells, False, number == height - 1, False, header))
    return rows


def _cell(column: int, text: str, style: TextStyle) -> Cell:
    left, width = LINE_COLUMNS[column]
    if column in NUMERIC_COLUMNS:
        return cell(left + width - PAD, text, style, right=True)
    return (left + PAD, text, style)


@cache
def _lines_header(language: str) -> Row:
    """Return the lines table's header row in the language (the current one, the cache's key).

    The same for every incident, repeated on each page it spans.
    """
    return Row(
        LEADING,
        3,
        tuple(_cell(column, str(name), HEADER) for column, name in enumerate(LINE_COLUMN_NAMES)),
        fill=True,
        rule=True,
        keep=True,
    )


def _note_rows(text: str) -> list[Row]:
    """Return a small-print line (an amendment, an evidence file), wrapped to the width."""
    return [
        Row(NOTE_LEADING, 2.5, (cell(PAD, line, NOTE),))
        for line in wrap_text(text, NOTE, NOTE_WIDTH)
    ]


def _local(moment: datetime | None, zone: Any) -> str:
    """Return a time in the organisation's zone, as the current language writes it."""
    return i18n.when(moment, "date_time", zone) if moment else ""


def _count(value: int | None) -> str:
    return "" if value is None else str(value)


# --- the appendix: photos as thumbnails, other files by hash ---------------------------------

PICTURE_BOX = 40 * mm  # a thumbnail's long side on paper: 320 px at about 200 dpi
PICTURE_GAP = 4 * mm
ENTRY_GAP = 4 * mm
# Pictures printed in one report at most (about 20 KB each, all held until the PDF is
# written); past that, photos are listed by hash like other files, and the appendix says so.
MAX_PICTURES = 2000
ENTRY_TITLE = TextStyle(FONT_BOLD, 8)


def _appendix(
    files: list[tuple[int, EvidenceRecord]], zone: Any, pictures: PictureLookup | None
) -> Iterator[Flowable]:
    """Yield the appendix: a heading, then one entry per evidence file, in report order."""
    yield PageBreak()
    yield paragraph(_("Appendix: photos and files"), "h2")
    yield paragraph(
        _(
            "Each photo is shown as a thumbnail made from the original without its metadata "
            "(no location, no camera details). The originals are kept unchanged; each is "
            "identified by its SHA-256. Other files are listed by their hash."
        ),
        "small",
    )
    shown = left_out = 0
    for incident_id, item in files:
        picture, note = None, ""
        if item.thumbnail_sha256 is None:
            if item.media_type.startswith("image/"):
                note = _("No picture: the photo could not be read to make one (HEIC, or damaged).")
        elif shown >= MAX_PICTURES:
            left_out += 1
        elif pictures is not None:
            picture = pictures(item.thumbnail_sha256)
            if picture is None:
                note = _("No picture: its thumbnail is missing from the store or was altered.")
            shown += picture is not None
        yield EvidenceEntry(incident_id, item, zone, picture, note)
    if left_out:
        yield paragraph(
            _(
                "Only the first %(pictured)s photos are pictured (%(more)s more are listed by "
                "hash); make a report of a shorter period to see them.",
                pictured=i18n.number(MAX_PICTURES, 0),
                more=i18n.number(left_out, 0),
            ),
            "small",
        )


class EvidenceEntry(Flowable):
    """One evidence file: its thumbnail (a photo's) beside its name, hash, size and times."""

    def __init__(
        self,
        incident_id: int,
        item: EvidenceRecord,
        zone: Any,
        picture: Path | None,
        note: str = "",
    ) -> None:
        super().__init__()
        self.picture = picture
        self.picture_size = (0.0, 0.0)
        text_left = PAD
        if picture is not None:
            width, height = ImageReader(str(picture)).getSize()
            scale = PICTURE_BOX / max(width, height)
            self.picture_size = (width * scale, height * scale)
            text_left = PICTURE_BOX + PICTURE_GAP
        text_width = BODY_WIDTH - text_left - PAD
        lines = [
            (line, ENTRY_TITLE)
            for line in wrap_text(f"#{incident_id} · {item.file_name}", ENTRY_TITLE, text_width)
        ]
        for text in [*_entry_texts(item, zone), *([note] if note else [])]:
            lines += [(line, NOTE) for line in wrap_text(text, NOTE, text_width)]
        self.text_left = text_left
        self.lines = lines
        self.width = BODY_WIDTH
        self.height = max(self.picture_size[1], len(lines) * NOTE_LEADING) + ENTRY_GAP

    def wrap(self, availWidth: float, availHeight: float) -> tuple[float, float]:  # noqa: N803
        """Return the entry's size: never split, it moves whole to the next page."""
        return self.width, self.height

    def draw(self) -> None:
        """Draw the thumbnail at the top left and the lines beside it."""
        canvas = self.canv
        top = self.height - ENTRY_GAP / 2
        if self.picture is not None:
            width, height = self.picture_size
            canvas.drawImage(str(self.picture), PAD, top - height, width, height)
        text = canvas.beginText()
        baseline = top - NOTE_LEADING + 2.5
        for line, style in self.lines:
            text.setFont(style.font, style.size)
            text.setFillGray(style.grey)
            text.setTextOrigin(self.text_left, baseline)
            text.textLine(line)
            baseline -= NOTE_LEADING
        canvas.drawText(text)


def _entry_texts(item: EvidenceRecord, zone: Any) -> list[str]:
    """Return an entry's lines after its name: the hash whole, then size and times."""
    times = [f"{item.media_type}, {_bytes(item.size_bytes)}"]
    if item.captured_at:
        times.append(_("taken %(when)s", when=_local(item.captured_at, zone)))
    if item.uploaded_at:
        times.append(_("uploaded %(when)s", when=_local(item.uploaded_at, zone)))
    return [f"SHA-256 {item.sha256}", ", ".join(times)]
