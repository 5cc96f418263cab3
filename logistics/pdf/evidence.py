"""The evidence report: every incident of a period with all it records, for lawyers.

An appendix shows each photo as its thumbnail (made without the photo's metadata) beside its
name, SHA-256, size and times; other files are listed by their hash.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from flask_babel import get_translations
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.platypus import Flowable, PageBreak

from .. import i18n, labels
from .base import (
    BODY_WIDTH,
    FONT,
    FONT_BOLD,
    SHORT_TEXT,
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


class Words:
    """The report's words in its language, each looked up once per report, not per incident.

    Flask-Babel's gettext finds its context, locale and catalogue on every call (8 µs): ten
    years of incidents called it 240,000 times. Each sentence's translated pattern is read
    here once and filled with %, as gettext fills it; answers, kinds and actions are named
    once each, and a time's day and minute are written once each.
    """

    def __init__(self, zone: Any) -> None:
        self.zone = zone
        self.language = i18n.current_language()
        self.translations = get_translations()
        self.answers = {value: str(answer) for value, answer in ANSWERS.items()}
        self.unknown = _("unknown")
        self.not_locked = _("not locked")
        self.given_out_earlier = _("given out earlier")
        self.from_stock = _("from stock at %(site)s")
        self.amendment = _("Amendment %(when)s by %(who)s: %(text)s")
        self.evidence_taken = _("Evidence: %(name)s (%(type)s, %(size)s, taken %(when)s)")
        self.evidence = _("Evidence: %(name)s (%(type)s, %(size)s)")
        self.continued = _("#%(id)s (continued)")
        self.taken = _("taken %(when)s")
        self.uploaded = _("uploaded %(when)s")
        self.unreadable = _(
            "No picture: the photo could not be read to make one (HEIC, or damaged)."
        )
        self.missing = _("No picture: its thumbnail is missing from the store or was altered.")
        self.kinds: dict[str, str] = {}
        self.actions: dict[str, str] = {}
        self.numbers: dict[int, str] = {}
        self.days: dict[date, str] = {}
        self.minutes: dict[tuple[int, int], str] = {}
        self.split_times = _splits_times(zone)
        self.thousands = _thousands_separator()

    def answer(self, value: str) -> str:
        """Return a yes / no / unknown answer in the report's language; free text as it is."""
        return self.answers.get(value, value)

    def kind(self, kind: str) -> str:
        """Return an incident kind in the report's language."""
        found = self.kinds.get(kind)
        if found is None:
            found = self.kinds[kind] = kind_label(kind)
        return found

    def action(self, action: str) -> str:
        """Return what happened to a line (seized, destroyed...) in the report's language."""
        found = self.actions.get(action)
        if found is None:
            found = self.actions[action] = labels.label("incident_action", action)
        return found

    def number(self, value: int) -> str:
        """Return a whole figure as the report's language writes it, as i18n.number does.

        File sizes are nearly all different, and Babel writes each in 20 µs: when the
        language only puts a separator between thousands (checked once), that is done here.
        """
        if self.thousands is not None and value >= 0:
            return f"{value:,}".replace(",", self.thousands)
        found = self.numbers.get(value)
        if found is None:
            found = self.numbers[value] = i18n.number(value, 0)
        return found

    def bytes(self, size: int) -> str:
        """Return a file size in bytes as the report's language writes it: "12,345 bytes"."""
        pattern = self.translations.ngettext("%(size)s byte", "%(size)s bytes", size)
        return pattern % {"size": self.number(size), "num": size}

    def when(self, moment: datetime | None) -> str:
        """Return a time in the organisation's zone, as i18n.when writes it ("date_time").

        Its day ("date") and its minute ("time") are each written once per report when the
        language's date and time, side by side, are what i18n.when writes (checked once).
        """
        if moment is None:
            return ""
        if not self.split_times:
            return i18n.when(moment, "date_time", self.zone)
        if moment.tzinfo is None:  # a time without a zone is UTC, as i18n.when reads it
            moment = moment.replace(tzinfo=UTC)
        local = moment.astimezone(self.zone)
        day = self.days.get(local.date())
        if day is None:
            day = self.days[local.date()] = i18n.when(local, "date", self.zone)
        minute = self.minutes.get((local.hour, local.minute))
        if minute is None:
            minute = self.minutes[local.hour, local.minute] = i18n.when(local, "time", self.zone)
        return f"{day} {minute}"


# Times that tell a date-and-time pattern from its date and its time side by side: single and
# double-digit days, hours and minutes, months of short and long names, either side of noon.
_PROBES = (
    datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
    datetime(2025, 5, 17, 13, 45, tzinfo=UTC),
    datetime(2024, 12, 31, 23, 59, tzinfo=UTC),
)


def _splits_times(zone: Any) -> bool:
    """Tell whether i18n.when writes a date and time as its date, a space and its time."""
    return all(
        i18n.when(probe, "date_time", zone)
        == f"{i18n.when(probe, 'date', zone)} {i18n.when(probe, 'time', zone)}"
        for probe in _PROBES
    )


# Whole figures that tell how a language groups its digits: none, one and several groups.
_FIGURES = (0, 7, 999, 1000, 65536, 1234567, 987654321, 10**12)


def _thousands_separator() -> str | None:
    """Return what i18n.number puts between thousands, when that is all it does to a figure.

    None when the language writes whole figures any other way (other digits, other groups).
    """
    separator = i18n.number(1000, 0)[1:-3]
    if all(i18n.number(n, 0) == f"{n:,}".replace(",", separator) for n in _FIGURES):
        return separator
    return None


def _blocks(
    incidents: Iterable[IncidentRecord],
    zone: Any,
    users: dict[int, str],
    pictures: PictureLookup | None = None,
) -> Iterator[Flowable]:
    """Yield one record block per incident, made only as the pages reach it, then the appendix."""
    words = Words(zone)
    count = 0
    files: list[tuple[int, EvidenceRecord]] = []
    for incident in incidents:
        yield incident_block(incident, words, users)
        files.extend((incident.id, item) for item in incident.evidence)
        count += 1
    if count == 0:
        yield paragraph(_("No incidents in this period."))
    if files:
        yield from _appendix(files, words, pictures)


def incident_block(incident: IncidentRecord, words: Words, users: dict[int, str]) -> RecordBlock:
    """Return an incident's block: heading, fields, lines table, amendments, evidence."""
    when = words.when(incident.occurred_at)
    if incident.ended_at:
        when += f" – {words.when(incident.ended_at)}"
    heading = f"#{incident.id} · {words.kind(incident.kind)} · {incident.area} · {when}"
    rows = [
        Row(
            HEADING_HEIGHT if number == 0 else 13,
            4.5 if number == 0 else 3,
            (cell(PAD, line, HEADING),),
            keep=True,
        )
        for number, line in enumerate(wrap_text(heading, HEADING, NOTE_WIDTH))
    ]
    rows += _field_rows(_field_values(incident, words), words.language)
    if incident.lines:
        rows += _line_rows(incident.lines, words)
    for amendment in incident.amendments:
        who = users.get(amendment.created_by_id or 0) or words.unknown
        rows += _note_rows(
            words.amendment
            % {"when": words.when(amendment.created_at), "who": who, "text": amendment.text}
        )
    for item in incident.evidence:
        if item.captured_at:
            text = words.evidence_taken % {
                "name": item.file_name,
                "type": item.media_type,
                "size": words.bytes(item.size_bytes),
                "when": words.when(item.captured_at),
            }
        else:
            text = words.evidence % {
                "name": item.file_name,
                "type": item.media_type,
                "size": words.bytes(item.size_bytes),
            }
        rows += _note_rows(text)
        # The hash on a line of its own: whole, and never to be searched for across a break.
        rows += _note_rows(f"SHA-256 {item.sha256}")
    continued_text = words.continued % {"id": incident.id}
    continued = Row(LEADING + 4, 3.5, (cell(PAD, continued_text, CONTINUED),), keep=True)
    return RecordBlock(rows, continued=continued)


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


def _field_values(incident: IncidentRecord, words: Words) -> tuple[tuple[str, ...], ...]:
    """Return the incident's values in the order of FIELD_GRID."""
    locked = words.when(incident.locked_at) if incident.locked_at else words.not_locked
    answer = words.answer
    return (
        (incident.site or "", locked),
        (incident.forces_present,),
        (answer(incident.bailiff_present), answer(incident.interpreter_present)),
        (answer(incident.legal_basis_shown), answer(incident.shelter_offered)),
        (_count(incident.people_affected), _count(incident.shelters_affected)),
        (incident.witnesses,),
        (incident.description,),
    )


def _field_rows(values: tuple[tuple[str, ...], ...], language: str) -> list[Row]:
    """Return the fields grid: label and value lines of each field; a rule under each row."""
    rows: list[Row] = []
    for index, texts in enumerate(values):
        if all(len(text) <= SHORT_TEXT for text in texts):  # answers, counts, sites...
            rows += _short_grid_rows(language, index, texts)
        else:
            rows += _grid_rows(language, index, texts)
    return rows


def _grid_rows(language: str, index: int, texts: tuple[str, ...]) -> tuple[Row, ...]:
    """Return one row of the fields grid: its labels and their values' lines."""
    columns = _grid_columns(language)[index]
    if len(columns) == 1:  # one field across the width: its label beside its first line
        ((label, left, width),) = columns
        lines = (wrap_text(texts[0], VALUE, width) if texts[0] else ()) or ("",)
        last = len(lines) - 1
        return tuple(
            Row(
                LEADING,
                3,
                ((label, (left, line, VALUE)) if line else (label,))
                if number == 0
                else (((left, line, VALUE),) if line else ()),
                False,
                number == last,
            )
            for number, line in enumerate(lines)
        )
    wrapped = [
        wrap_text(text, VALUE, width) if text else ()
        for (_label, _left, width), text in zip(columns, texts, strict=True)
    ]
    height = max(map(len, wrapped)) or 1
    rows = []
    for number in range(height):
        cells: list[Cell] = []
        for (label, left, _width), lines in zip(columns, wrapped, strict=True):
            if number == 0:
                cells.append(label)
            if number < len(lines) and lines[number]:
                cells.append((left, lines[number], VALUE))
        rows.append(Row(LEADING, 3, tuple(cells), False, number == height - 1))
    return tuple(rows)


# The same answers and counts come back incident after incident: their rows are made once.
_short_grid_rows = lru_cache(maxsize=4096)(_grid_rows)


def _line_rows(lines: list[LineRecord], words: Words) -> list[Row]:
    """Return the lines table: a header row, then each line's cells, wrapped in their columns."""
    rows = [_lines_header(words.language)]
    for line in lines:
        if line.origin == "from_stock" and line.site:
            whose = words.from_stock % {"site": line.site}
        else:
            whose = words.given_out_earlier
        values = (
            line.item,
            words.number(line.quantity),
            words.action(line.action),
            whose,
            words.answers["yes" if line.marked_property else "no"],
        )
        rows += _line_row(words.language, values)
    return rows


# Lines repeat (the same item, count, action and site): each is laid out once.
@lru_cache(maxsize=4096)
def _line_row(language: str, values: tuple[str, ...]) -> tuple[Row, ...]:
    """Return a line's rows: its values wrapped in their columns, under the lines header."""
    header = _lines_header(language)
    wrapped = [
        wrap_text(value, VALUE, LINE_COLUMNS[column][1] - 2 * PAD)
        for column, value in enumerate(values)
    ]
    height = max(len(column) for column in wrapped)
    return tuple(
        Row(
            LEADING,
            3,
            tuple(
                _cell(column, texts[number], VALUE)
                for column, texts in enumerate(wrapped)
                if number < len(texts) and texts[number]
            ),
            False,
            number == height - 1,
            False,
            header,
        )
        for number in range(height)
    )


# Item names, figures, actions and answers come back line after line: each cell is placed
# (and a figure measured, to align it right) once.
@lru_cache(maxsize=4096)
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
    files: list[tuple[int, EvidenceRecord]], words: Words, pictures: PictureLookup | None
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
                note = words.unreadable
        elif shown >= MAX_PICTURES:
            left_out += 1
        elif pictures is not None:
            picture = pictures(item.thumbnail_sha256)
            if picture is None:
                note = words.missing
            shown += picture is not None
        yield EvidenceEntry(incident_id, item, words, picture, note)
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
        words: Words,
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
        for text in [*_entry_texts(item, words), *([note] if note else [])]:
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


def _entry_texts(item: EvidenceRecord, words: Words) -> list[str]:
    """Return an entry's lines after its name: the hash whole, then size and times."""
    times = [f"{item.media_type}, {words.bytes(item.size_bytes)}"]
    if item.captured_at:
        times.append(words.taken % {"when": words.when(item.captured_at)})
    if item.uploaded_at:
        times.append(words.uploaded % {"when": words.when(item.uploaded_at)})
    return [f"SHA-256 {item.sha256}", ", ".join(times)]
