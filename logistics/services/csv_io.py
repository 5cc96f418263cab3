"""CSV in and out: stock and ledger exports, delivery and stocktake imports checked row by row."""

from __future__ import annotations

import base64
import csv
import io
import re
import unicodedata
import zlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import IO, Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import select

from .. import i18n
from ..extensions import db
from ..models import Item, Organisation, Site, StockLevel, StockMovement
from ..models.types import utcnow
from . import catalogue, ledger
from .accounts import organisation_zone
from .distributions import check_day
from .errors import ServiceError, ValidationError

STOCK_COLUMNS = ("site", "area", "item", "size", "unit", "category", "quantity")
LEDGER_COLUMNS = (
    "id",
    "occurred_at",
    "recorded_at",
    "kind",
    "site",
    "item",
    "size",
    "quantity",
    "source",
    "note",
    "transfer_group",
    "reverses_id",
)
EXPORT_BATCH = 1000
IMPORT_MODES = ("delivery", "stocktake")
MAX_IMPORT_ROWS = 5000
MAX_IMPORT_BYTES = 1_000_000
# The file rides back to the server in a hidden field; Flask refuses form fields over 500 kB.
MAX_PACKED_CHARS = 400_000
MAX_SOURCE_LENGTH = 200
# French and Belgian volunteers write the header in French as often as in English.
HEADER_NAMES = {
    "item": "item",
    "article": "item",
    "size": "size",
    "taille": "size",
    "quantity": "quantity",
    "quantité": "quantity",
    "quantite": "quantity",
    "qty": "quantity",
    "best before": "best_before",
    "best_before": "best_before",
    "date limite": "best_before",
    "ddm": "best_before",
    "dlc": "best_before",
}
# A best-before cell as spreadsheets write it: 2026-12-12, 12/12/2026 or 12.12.2026 (day first).
DAY_FIRST = re.compile(r"([0-9]{1,2})[/.]([0-9]{1,2})[/.]([0-9]{4})")
DELIMITERS = (",", ";", "\t")
# A cell starting with one of these is run as a formula by spreadsheets (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
WHOLE_NUMBER = re.compile(r"[0-9]+")
SIGNED_NUMBER = re.compile(r"-[0-9]+(?:[.,][0-9]+)?")


# --- Export -------------------------------------------------------------------------------


def stock_csv(organisation_id: int, *, site_id: int | None = None) -> str:
    """Return current stock as CSV: one row per site and item that holds something."""
    query = (
        select(
            Site.name,
            Site.area,
            Item.name,
            Item.size,
            Item.unit,
            Item.category,
            StockLevel.quantity,
        )
        .join(Site, Site.id == StockLevel.site_id)
        .join(Item, Item.id == StockLevel.item_id)
        .where(StockLevel.organisation_id == organisation_id, StockLevel.quantity != 0)
        .order_by(Site.name, Item.name, Item.size)
    )
    if site_id is not None:
        ledger.get_site(organisation_id, site_id)
        query = query.where(StockLevel.site_id == site_id)
    rows = ([*map(_cell, row[:6]), row[6]] for row in db.session.execute(query))
    return "\ufeff" + _to_csv([STOCK_COLUMNS, *rows])


def ledger_csv(
    organisation_id: int,
    *,
    from_date: date | None = None,
    to_date: date | None = None,
    site_id: int | None = None,
    batch: int = EXPORT_BATCH,
) -> Iterator[str]:
    """Check the filters now, then return the ledger as CSV chunks read batch by batch."""
    for day, name in ((from_date, "from_date"), (to_date, "to_date")):
        if day is not None:
            check_day(day, name)
    if from_date and to_date and from_date > to_date:
        raise ValidationError(
            _l("The start date is after the end date."), {"from_date": "after end"}
        )
    if site_id is not None:
        ledger.get_site(organisation_id, site_id)
    zone = organisation_zone(organisation_id)
    query = (
        select(
            StockMovement.id,
            StockMovement.occurred_at,
            StockMovement.recorded_at,
            StockMovement.kind,
            Site.name,
            Item.name,
            Item.size,
            StockMovement.quantity,
            StockMovement.source,
            StockMovement.note,
            StockMovement.transfer_group,
            StockMovement.reverses_id,
        )
        .join(Site, Site.id == StockMovement.site_id)
        .join(Item, Item.id == StockMovement.item_id)
        .where(StockMovement.organisation_id == organisation_id)
        .order_by(StockMovement.id)
    )
    if from_date:
        query = query.where(StockMovement.occurred_at >= _local_midnight(from_date, zone))
    if to_date:
        end = _local_midnight(to_date + timedelta(days=1), zone)
        query = query.where(StockMovement.occurred_at < end)
    if site_id is not None:
        query = query.where(StockMovement.site_id == site_id)
    return _ledger_chunks(query, zone, batch)


def _ledger_chunks(query: Any, zone: ZoneInfo, batch: int) -> Iterator[str]:
    """Yield the header, then one chunk per batch of movements from a single streamed query."""
    yield "\ufeff" + _to_csv([LEDGER_COLUMNS])
    # yield_per streams from a server-side cursor (PostgreSQL) or the lazy SQLite cursor;
    # plain column rows, not ORM objects, so nothing piles up in the session.
    result = db.session.execute(query.execution_options(yield_per=batch))
    try:
        for page in result.partitions():
            yield _to_csv(_ledger_row(row, zone) for row in page)
    finally:
        result.close()


def _ledger_row(row: Any, zone: ZoneInfo) -> list[Any]:
    (mid, occurred, recorded, kind, site, item, size, quantity, source, note, group, rev) = row
    return [
        mid,
        occurred.astimezone(zone).isoformat(timespec="seconds"),
        recorded.astimezone(zone).isoformat(timespec="seconds"),
        kind,
        _cell(site),
        _cell(item),
        _cell(size),
        quantity,
        _cell(source),
        _cell(note),
        group or "",
        rev or "",
    ]


def export_filename(
    organisation_id: int,
    what: str,
    *,
    site_id: int | None = None,
    from_date: date | None = None,
    to_date: date | None = None,
) -> str:
    """Name an export after the organisation, what it holds, its filters and today."""
    organisation = db.session.get(Organisation, organisation_id)
    assert organisation is not None
    parts = [_slug(organisation.slug), what]
    if site_id is not None:
        parts.append(_slug(ledger.get_site(organisation_id, site_id).name))
    today = utcnow().astimezone(ZoneInfo(organisation.timezone)).date()
    if from_date or to_date:
        parts += [(from_date or "start"), "to", (to_date or today)]
    else:
        parts.append(today)
    return "-".join(str(part) for part in parts if part) + ".csv"


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def _cell(value: str | None) -> str:
    """Return text safe to open in a spreadsheet: never run as a formula."""
    text = value or ""
    return "'" + text if text.startswith(FORMULA_START) else text


def _to_csv(rows: Iterable[Iterable[Any]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


# --- Import -------------------------------------------------------------------------------


@dataclass
class ImportRow:
    """One line of an imported file, as read and as matched in the catalogue."""

    number: int
    name: str
    size: str
    raw_quantity: str
    quantity: int | None = None
    item: Item | None = None
    expected: int | None = None
    # A dated item's best-before date (delivery files: a column of its own).
    best_before: date | None = None
    raw_best_before: str = ""
    problems: list[str] = field(default_factory=list)
    # False when the columns are shifted, so its cells cannot be trusted.
    readable: bool = True

    @property
    def error(self) -> str:
        """Return what is wrong with the row, or an empty string."""
        return " ".join(self.problems)

    @property
    def difference(self) -> int | None:
        """Return counted minus expected, for a stocktake row."""
        if self.quantity is None or self.expected is None:
            return None
        return self.quantity - self.expected


@dataclass
class ImportPlan:
    """What an import would write, with every problem found in the file."""

    mode: str
    site: Site
    rows: list[ImportRow]
    errors: list[str]
    packed: str = ""

    @property
    def bad_rows(self) -> list[ImportRow]:
        """Return the rows that have a problem."""
        return [row for row in self.rows if row.problems]

    @property
    def ok(self) -> bool:
        """Tell whether every row can be written."""
        return bool(self.rows) and not self.errors and not self.bad_rows

    @property
    def total(self) -> int:
        """Return the sum of the quantities read."""
        return sum(row.quantity or 0 for row in self.rows)

    @property
    def changes(self) -> int:
        """Return how many stocktake rows differ from the records."""
        return sum(1 for row in self.rows if row.difference)


class ImportRefused(ValidationError):
    """The file has problems; nothing is written."""


def read_upload(stream: IO[bytes]) -> bytes:
    """Read an uploaded file, at most one byte past the size limit."""
    return stream.read(MAX_IMPORT_BYTES + 1)


def pack(content: bytes) -> str:
    """Turn file content into text that survives a hidden form field."""
    return base64.urlsafe_b64encode(zlib.compress(content, 9)).decode("ascii")


def unpack(packed: str) -> bytes:
    """Turn a hidden field back into file content, never inflating past the size limit."""
    try:
        data = base64.urlsafe_b64decode(packed.encode("ascii"))
        return zlib.decompressobj().decompress(data, MAX_IMPORT_BYTES + 1)
    except (ValueError, zlib.error) as exc:  # binascii.Error is a ValueError
        raise ValidationError(
            _l("The file could not be read back. Upload it again."), {"content": "unreadable"}
        ) from exc


def plan_import(organisation_id: int, content: bytes, *, mode: str, site_id: int) -> ImportPlan:
    """Read a CSV of item, size, quantity and check every row against the catalogue."""
    if mode not in IMPORT_MODES:
        raise ValidationError(
            _l("Choose a delivery or a stocktake."), {"mode": "delivery or stocktake"}
        )
    site = ledger.get_site(organisation_id, site_id)
    rows, errors = _read_rows(content, mode)
    plan = ImportPlan(mode=mode, site=site, rows=rows, errors=errors)
    if errors:
        return plan
    _match(organisation_id, plan)
    plan.packed = pack(content)
    if len(plan.packed) > MAX_PACKED_CHARS:
        plan.errors.append(
            _("The file is too large to import at once. Split it into smaller files.")
        )
    return plan


def write_import(
    organisation_id: int,
    user_id: int | None,
    plan: ImportPlan,
    *,
    kind: str = "donation",
    source: str = "",
    reason: str = "",
) -> list[StockMovement]:
    """Write every row of a checked plan through the ledger; the caller commits once."""
    if not plan.ok:
        count = len(plan.bad_rows) or 1
        raise ImportRefused(
            lazy_ngettext(
                "%(num)d row of the file has a problem; nothing was saved.",
                "%(num)d rows of the file have problems; nothing was saved.",
                count,
            )
        )
    if plan.mode == "delivery" and kind not in ledger.RECEIPT_KINDS:
        raise ValidationError(_l("Choose donation or purchase."), {"kind": "donation or purchase"})
    if len(source.strip()) > MAX_SOURCE_LENGTH:
        raise ValidationError(_l("The source label is too long."), {"source": "at most 200"})
    if plan.mode == "stocktake" and not reason.strip():
        raise ValidationError(_l("Say why (a short reason)."), {"reason": "required"})
    movements: list[StockMovement] = []
    for row in plan.rows:
        assert row.item is not None and row.quantity is not None
        try:
            movement = _write_row(organisation_id, user_id, plan, row, kind, source, reason)
        except ServiceError as refusal:
            raise type(refusal)(
                _l(
                    "Row %(row)s (%(item)s): %(problem)s",
                    row=row.number,
                    item=row.item.label,
                    problem=refusal.reason,
                )
            ) from None
        if movement is not None:
            movements.append(movement)
    return movements


def _write_row(
    organisation_id: int,
    user_id: int | None,
    plan: ImportPlan,
    row: ImportRow,
    kind: str,
    source: str,
    reason: str,
) -> StockMovement | None:
    assert row.item is not None and row.quantity is not None
    if plan.mode == "delivery":
        return ledger.receive(
            organisation_id,
            user_id,
            site_id=plan.site.id,
            item_id=row.item.id,
            quantity=row.quantity,
            kind=kind,
            source=source,
            note="Imported from CSV",
            best_before=row.best_before,
        )
    # adjust() locks the level and works out the change itself: the preview's figure is advice.
    return ledger.adjust(
        organisation_id,
        user_id,
        site_id=plan.site.id,
        item_id=row.item.id,
        counted=row.quantity,
        reason=reason,
    )


def _read_rows(content: bytes, mode: str) -> tuple[list[ImportRow], list[str]]:
    """Parse the file into rows; return file-wide problems instead when it cannot be read."""
    if len(content) > MAX_IMPORT_BYTES:
        return [], [
            _(
                "The file is too large (over %(kb)s kB). Split it into smaller files.",
                kb=i18n.number(MAX_IMPORT_BYTES // 1000),
            )
        ]
    if b"\x00" in content:
        return [], [_("This is not a CSV file. In your spreadsheet, use Save as → CSV UTF-8.")]
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [
            _(
                "The file is not UTF-8 text. In your spreadsheet, use Save as → CSV UTF-8 "
                "(comma or semicolon separated)."
            )
        ]
    if not text.strip():
        return [], [_("The file is empty.")]
    first_line = next(line for line in text.splitlines() if line.strip())
    found = _find_header(first_line)
    if found is None:
        shown = first_line if len(first_line) <= 80 else first_line[:77] + "…"
        return [], [
            _(
                'The first row must name the columns item, size, quantity (it reads "%(line)s").',
                line=shown,
            )
        ]
    delimiter, columns, width = found
    rows: list[ImportRow] = []
    number = 0
    header_seen = False
    try:
        for number, cells in enumerate(
            csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), 1
        ):
            if not any(cell.strip() for cell in cells):
                continue
            if not header_seen:
                header_seen = True
                continue
            row = _read_row(number, cells, columns, width, mode)
            if row is not None:
                rows.append(row)
            if len(rows) > MAX_IMPORT_ROWS:
                return [], [
                    _(
                        "The file has more than %(n)s rows. Split it into smaller files.",
                        n=i18n.number(MAX_IMPORT_ROWS),
                    )
                ]
    except csv.Error as exc:
        return [], [
            _(
                "This is not a readable CSV file (row %(row)s: %(error)s).",
                row=number + 1,
                error=exc,
            )
        ]
    if not rows:
        return [], [_("The file has a header but no rows.")]
    return rows, []


def _find_header(line: str) -> tuple[str, dict[str, int], int] | None:
    """Return the delimiter, the column positions and the header width, if this is a header."""
    for delimiter in DELIMITERS:
        cells = next(csv.reader([line], delimiter=delimiter))
        columns: dict[str, int] = {}
        for position, cell in enumerate(cells):
            name = HEADER_NAMES.get(cell.strip().lower())
            if name is not None:
                columns.setdefault(name, position)
        if "item" in columns and "quantity" in columns:
            width = max(i for i, cell in enumerate(cells) if cell.strip()) + 1
            return delimiter, columns, width
    return None


def _read_row(
    number: int, cells: list[str], columns: dict[str, int], width: int, mode: str
) -> ImportRow | None:
    """Read one data row; None when its item, size and quantity are all empty."""

    def value(name: str) -> str:
        position = columns.get(name)
        if position is None or position >= len(cells):
            return ""
        return " ".join(cells[position].split())

    used = max(i for i, cell in enumerate(cells) if cell.strip()) + 1
    row = ImportRow(number, value("item"), value("size"), value("quantity"))
    if used > width:
        row.problems.append(
            _(
                "This row has %(used)s values but the header has %(width)s columns "
                "(a comma inside a number? Write 1200, not 1,200).",
                used=used,
                width=width,
            )
        )
        row.readable = False
        return row
    if not (row.name or row.size or row.raw_quantity):
        return None
    if not row.name:
        row.problems.append(_("The item is missing."))
    row.quantity, problem = _quantity(row.raw_quantity, mode)
    if problem:
        row.problems.append(problem)
    row.raw_best_before = value("best_before")
    if row.raw_best_before:
        row.best_before = _day(row.raw_best_before)
        if row.best_before is None:
            row.problems.append(
                _(
                    'The best-before date "%(raw)s" is not a date (write 12/12/2026).',
                    raw=row.raw_best_before,
                )
            )
    return row


def _day(raw: str) -> date | None:
    """Read a date written 2026-12-12, 12/12/2026 or 12.12.2026; None when it is none."""
    try:
        found = DAY_FIRST.fullmatch(raw)
        if found:
            day, month, year = (int(part) for part in found.groups())
            return date(year, month, day)
        return date.fromisoformat(raw)
    except ValueError:
        return None


def _quantity(raw: str, mode: str) -> tuple[int | None, str | None]:
    """Read a whole number; spaces as thousands separators are fine, signs and decimals not."""
    text = "".join(raw.split())
    if not text:
        return None, _("The quantity is missing.")
    if SIGNED_NUMBER.fullmatch(text):
        return None, _("The quantity cannot be negative.")
    if not WHOLE_NUMBER.fullmatch(text):
        return None, _('The quantity "%(raw)s" is not a whole number.', raw=raw)
    number = int(text)
    if number > ledger.MAX_QUANTITY:
        return None, _("The quantity is too large.")
    if number == 0 and mode == "delivery":
        return None, _("The quantity must be more than 0.")
    return number, None


def _match(organisation_id: int, plan: ImportPlan) -> None:
    """Find each row's item, refuse unknown and repeated ones, and fill in expected levels."""
    # One query for the whole catalogue, matched by name and size ignoring case,
    # rather than one query per row of a 5,000-row file.
    by_key: dict[tuple[str, str], Item] = {}
    sizes: dict[str, list[str]] = defaultdict(list)
    for item in catalogue.list_items(organisation_id):
        for name in (item.name, item.name_fr):  # either name finds it: "Duvet", "Sleeping bag"
            if name:
                by_key.setdefault((_fold(name), _fold(item.size)), item)
                sizes[_fold(name)].append(item.size)
    expected = _levels_at(plan.site.id) if plan.mode == "stocktake" else {}
    first_row: dict[object, int] = {}  # by item, so its two names are one row
    for row in plan.rows:
        if not row.name or not row.readable:
            continue
        key = (_fold(row.name), _fold(row.size))
        row.item = by_key.get(key)
        # A delivery may bring one item with several dates: a row per lot.
        seen = (row.item.id if row.item else key, row.best_before or row.raw_best_before)
        earlier = first_row.setdefault(seen, row.number)
        if row.item is None:
            row.problems.insert(0, _unknown_item(row.name, row.size, sizes[key[0]]))
        elif plan.mode == "stocktake":
            row.expected = expected.get(row.item.id, 0)
        _check_dated(row, plan.mode)
        if earlier != row.number:
            label = row.item.label if row.item else row.name
            row.problems.append(_("%(item)s is already on row %(row)s.", item=label, row=earlier))


def _check_dated(row: ImportRow, mode: str) -> None:
    """Ask a delivered dated item for its date; refuse a date for an item that has none."""
    if row.item is None:
        return
    if row.best_before is not None and (mode != "delivery" or not row.item.dated):
        row.problems.append(
            _("%(item)s takes no best-before date here: leave the cell empty.", item=row.item.label)
        )
    elif mode == "delivery" and row.item.dated and not row.raw_best_before:
        row.problems.append(
            _(
                '%(item)s has a best-before date: add a column "best before" with it.',
                item=row.item.label,
            )
        )


def _levels_at(site_id: int) -> dict[int, int]:
    query = select(StockLevel.item_id, StockLevel.quantity).where(StockLevel.site_id == site_id)
    return {item_id: quantity for item_id, quantity in db.session.execute(query)}


def _unknown_item(name: str, size: str, known_sizes: list[str]) -> str:
    if not known_sizes:
        return _('No item called "%(name)s" in the catalogue.', name=name)
    known = ", ".join(s or _("no size") for s in sorted(known_sizes))
    if size:
        return _(
            'No "%(name)s" with size "%(size)s" in the catalogue (it has: %(sizes)s).',
            name=name,
            size=size,
            sizes=known,
        )
    return _(
        'No "%(name)s" with no size in the catalogue (it has: %(sizes)s).', name=name, sizes=known
    )


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()
