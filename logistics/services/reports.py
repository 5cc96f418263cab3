"""Reports: gather the figures, render the PDF, archive it with its SHA-256; share links."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from .. import limits
from ..extensions import db
from ..i18n import clean_language, language_of
from ..models import (
    Channel,
    Delivery,
    Evidence,
    Incident,
    IncidentAmendment,
    IncidentLine,
    Item,
    Membership,
    Organisation,
    Report,
    ShareLink,
    Site,
    StockLevel,
    User,
)
from ..models.alerts import REPORT_MODE
from ..models.catalogue import item_label
from ..models.reports import REPORT_KINDS
from ..models.types import utcnow
from ..pdf import evidence as evidence_pdf
from ..pdf import sheets
from ..pdf import shortfall as shortfall_pdf
from ..pdf.base import ReportFrame, made_at_text, period_text
from ..permissions import can
from . import distributions, donors, evidence, incidents, ledger
from .accounts import organisation_zone
from .catalogue import meal_item_clause
from .distributions import EARLIEST_DAY, LATEST_DAY
from .errors import Conflict, NotFound, ServiceError, ValidationError
from .evidence import file_sha256
from .rows import owned
from .tokens import hash_token

TITLES = {
    "shortfall": _l("Shortfall report"),
    "evidence": _l("Evidence report"),
    "stocktake": _l("Stocktake count sheet"),
    "run_sheet": _l("Distribution run sheet"),
    "kitchen": _l("Kitchen plan sheet"),
}
MAX_PERIOD_DAYS = 3660
PERIOD_KINDS = ("shortfall", "evidence")
DEFAULT_DAYS = 7
KITCHEN_DAYS = 7

SHARE_DAYS = limits.SHARE_LINK_DAYS
# The evidence report loads its incidents this many at a time: few queries, little held.
EVIDENCE_BATCH = 1000


STAFF_KINDS = ("stocktake", "run_sheet", "kitchen")
# Made by the scheduler, not while the request waits: an evidence report grows with its period
# (ten years: thousands of pages, seconds to minutes). The others are bounded by the catalogue,
# the sites or one distribution (a page or a few), and a run or count sheet is wanted at once.
QUEUED_KINDS = ("evidence",)
# A run cut short (the scheduler stopped mid-render) is tried again until this many runs.
MAX_ATTEMPTS = 2
FAILURE_LENGTH = 200


def kinds_for(role: str | None) -> tuple[str, ...]:
    """Return the report kinds a role may read and make: the one rule for pages, API, files.

    Count sheets, run sheets and kitchen plans show site stock: the staff who read the ledger.
    """
    return tuple(
        kind
        for kind in REPORT_KINDS
        if (kind == "shortfall" and can(role, "view_reports"))
        # Evidence reports carry incident descriptions, forces and evidence hashes.
        or (kind == "evidence" and can(role, "view_incidents"))
        or (kind in STAFF_KINDS and can(role, "view_ledger"))
    )


@dataclass(frozen=True)
class ReportRequest:
    """What to make: the kind, and its period, site or distribution."""

    kind: str
    first: date | None = None
    last: date | None = None
    site_id: int | None = None
    distribution_id: int | None = None
    # The language to write it in ("en", "fr"); None: the organisation's.
    locale: str | None = None


def title_of(kind: str) -> str:
    """Return a report kind's title in the current language."""
    return str(TITLES[kind])


def report_language(organisation: Organisation, wanted: str | None = None) -> str:
    """Return the language a report is written in: the one asked for, else the organisation's."""
    return clean_language(wanted) or language_of(None, organisation.locale)


def build_request(
    kind: str,
    today: date,
    first: date | None = None,
    last: date | None = None,
    site_id: int | None = None,
    distribution_id: int | None = None,
    locale: str | None = None,
) -> ReportRequest:
    """Build a report request from what its kind uses, with the default period filled in."""
    for name, day in (("first", first), ("last", last)):
        if day is not None and not EARLIEST_DAY <= day <= LATEST_DAY:
            raise ValidationError(
                _l(
                    "Dates lie between %(first)s and %(last)s.",
                    first=EARLIEST_DAY.year,
                    last=LATEST_DAY.year,
                ),
                {name: "out of range"},
            )
    if locale is not None and clean_language(locale) is None:
        raise ValidationError(_l("Choose English or French."), {"locale": "en or fr"})
    if kind in PERIOD_KINDS:
        last = last or today
        first = first or last - timedelta(days=DEFAULT_DAYS - 1)
        return ReportRequest(kind, first, last, locale=locale)
    if kind == "stocktake":
        return ReportRequest(kind, site_id=site_id, locale=locale)
    if kind == "run_sheet":
        return ReportRequest(kind, distribution_id=distribution_id, locale=locale)
    # The kitchen plan sheet covers a week from its first day.
    start = first or today
    return ReportRequest(kind, start, start + timedelta(days=KITCHEN_DAYS - 1), locale=locale)


def submit(
    organisation_id: int,
    user_id: int | None,
    request: ReportRequest,
    reports_dir: Path,
    *,
    now: datetime | None = None,
) -> Report:
    """Make a short report at once; queue a long one for the scheduler (see QUEUED_KINDS)."""
    if request.kind in QUEUED_KINDS:
        return queue(organisation_id, user_id, request, now=now)
    return generate(organisation_id, user_id, request, reports_dir, now=now)


def generate(
    organisation_id: int,
    user_id: int | None,
    request: ReportRequest,
    reports_dir: Path,
    *,
    schedule_key: str | None = None,
    now: datetime | None = None,
) -> Report:
    """Render a report, write it to the archive and record it with its SHA-256."""
    moment = now or utcnow()
    organisation = db.session.get(Organisation, organisation_id)
    today = moment.astimezone(organisation_zone(organisation_id)).date()
    request = build_request(
        request.kind,
        today,
        request.first,
        request.last,
        request.site_id,
        request.distribution_id,
        request.locale,
    )
    language = report_language(organisation, request.locale)
    pdf = render_pdf(organisation, request, moment, locale=language)
    with force_locale(language):
        title = title_of(request.kind)
    report = Report(
        organisation_id=organisation_id,
        kind=request.kind,
        title=title,
        locale=language,
        period_start=request.first,
        period_end=request.last,
        schedule_key=schedule_key,
        created_at=moment,
        created_by_id=user_id,
        status="ready",
    )
    target = _archive(report, organisation, reports_dir, moment, pdf)
    try:
        with db.session.begin_nested():
            db.session.add(report)
    except IntegrityError as exc:  # a twin scheduler made this period's report first
        target.unlink(missing_ok=True)
        raise Conflict(_l("This scheduled report has already been made.")) from exc
    return report


def _archive(
    report: Report, organisation: Organisation, reports_dir: Path, moment: datetime, pdf: bytes
) -> Path:
    """Write the PDF to the archive and record its path, SHA-256 and size; return the file."""
    relative = _write_archive(reports_dir, organisation, report.kind, moment, pdf)
    report.file_path = str(relative)
    report.sha256 = hashlib.sha256(pdf).hexdigest()
    report.size_bytes = len(pdf)
    return reports_dir / relative


# --- the queue ------------------------------------------------------------------------------


def queue(
    organisation_id: int,
    user_id: int | None,
    request: ReportRequest,
    *,
    now: datetime | None = None,
) -> Report:
    """Check a request and record it as a queued report; the scheduler makes it."""
    moment = now or utcnow()
    _check_kind(request.kind)
    today = moment.astimezone(organisation_zone(organisation_id)).date()
    request = build_request(request.kind, today, request.first, request.last, locale=request.locale)
    if request.kind not in PERIOD_KINDS:
        raise ValueError(f"{request.kind} reports are made at once, not queued")
    first, last = _period(organisation_id, request, moment)
    language = report_language(db.session.get(Organisation, organisation_id), request.locale)
    with force_locale(language):
        title = title_of(request.kind)
    report = Report(
        organisation_id=organisation_id,
        kind=request.kind,
        title=title,
        locale=language,
        period_start=first,
        period_end=last,
        created_at=moment,
        created_by_id=user_id,
        status="queued",
    )
    db.session.add(report)
    db.session.flush()
    return report


def next_queued() -> int | None:
    """Return the id of the oldest queued report of any organisation."""
    return db.session.scalar(
        select(Report.id).where(Report.status == "queued").order_by(Report.id).limit(1)
    )


def recover_interrupted(now: datetime | None = None) -> int:
    """Queue again the runs a stopped scheduler left running; fail those tried too often.

    Only call it under the job's lock: then no other run is under way.
    """
    moment = now or utcnow()
    running = Report.status == "running"
    again = db.session.execute(
        update(Report)
        .where(running, Report.attempts < MAX_ATTEMPTS)
        .values(status="queued", pages=None)
    ).rowcount
    given_up = db.session.execute(
        update(Report)
        .where(running)
        .values(
            status="failed",
            failure=_("Interrupted twice while being made. Ask for it again."),
            finished_at=moment,
        )
    ).rowcount
    return again + given_up


def claim(report_id: int, now: datetime | None = None) -> Report | None:
    """Mark a queued report running; None when another run took it first."""
    taken = db.session.execute(
        update(Report)
        .where(Report.id == report_id, Report.status == "queued")
        .values(status="running", pages=0, started_at=now or utcnow(), attempts=Report.attempts + 1)
    ).rowcount
    if taken != 1:
        return None
    return db.session.get(Report, report_id, populate_existing=True)


def render_queued(report: Report, on_page: Callable[[int], None] | None = None) -> bytes:
    """Render a claimed report as of its start; on_page hears each page number as it is laid out."""
    organisation = db.session.get(Organisation, report.organisation_id)
    request = ReportRequest(report.kind, report.period_start, report.period_end)
    moment = report.started_at or utcnow()
    return render_pdf(organisation, request, moment, on_page=on_page, locale=report.locale)


def finish(report_id: int, pdf: bytes, pages: int, reports_dir: Path) -> Report:
    """Archive a rendered report and mark it ready."""
    report = db.session.get(Report, report_id)
    if report is None or report.status != "running":
        raise Conflict(_l("This report is no longer being made."))
    organisation = db.session.get(Organisation, report.organisation_id)
    target = _archive(report, organisation, reports_dir, report.started_at or utcnow(), pdf)
    try:
        report.status = "ready"
        report.pages = pages
        report.finished_at = utcnow()
        db.session.flush()
    except Exception:
        target.unlink(missing_ok=True)
        raise
    return report


def fail(report_id: int, reason: str) -> None:
    """Mark a report failed with a short reason."""
    db.session.execute(
        update(Report)
        .where(Report.id == report_id)
        .values(status="failed", failure=reason[:FAILURE_LENGTH], finished_at=utcnow())
    )


def failure_reason(error: BaseException) -> str:
    """Return the short reason a reader is shown for a report that could not be made."""
    if isinstance(error, ServiceError):
        return error.message
    if isinstance(error, OSError):
        return _(
            "The PDF could not be archived: %(reason)s.",
            reason=error.strerror or error.__class__.__name__,
        )
    return _("The report could not be made (%(error)s).", error=error.__class__.__name__)


def _check_kind(kind: str) -> None:
    if kind not in REPORT_KINDS:
        raise ValidationError(
            _l("Kind must be one of: %(kinds)s.", kinds=", ".join(REPORT_KINDS)),
            {"kind": "unknown"},
        )


def render_pdf(
    organisation: Organisation,
    request: ReportRequest,
    moment: datetime,
    on_page: Callable[[int], None] | None = None,
    locale: str | None = None,
) -> bytes:
    """Return the PDF bytes of a report request, written in `locale` (else the organisation's)."""
    with force_locale(locale or report_language(organisation, request.locale)):
        return _render_pdf(organisation, request, moment, on_page)


def _render_pdf(
    organisation: Organisation,
    request: ReportRequest,
    moment: datetime,
    on_page: Callable[[int], None] | None,
) -> bytes:
    """Return the PDF bytes of a report request in the current language."""
    _check_kind(request.kind)
    zone = organisation_zone(organisation.id)
    first, last = _period(organisation.id, request, moment)
    frame = ReportFrame(
        organisation.name,
        title_of(request.kind),
        period_text(first, last),
        made_at_text(moment, zone),
    )
    if request.kind == "shortfall":
        return shortfall_pdf.build(frame, donor_figures(organisation.id, first, last, moment))
    if request.kind == "evidence":
        users = dict(
            db.session.execute(
                select(User.id, User.display_name)
                .join(Membership, Membership.user_id == User.id)
                .where(Membership.organisation_id == organisation.id)
            ).all()
        )
        incidents_ = _incidents(organisation.id, first, last)
        pictures = evidence.picture_lookup(evidence.configured_store())
        return evidence_pdf.build(frame, incidents_, zone, users, on_page, pictures)
    if request.kind == "stocktake":
        site = ledger.get_site(organisation.id, _required(request.site_id, "site_id"))
        return sheets.stocktake(frame, site, _count_rows(organisation.id, site.id))
    if request.kind == "run_sheet":
        distribution = distributions.get_distribution(
            organisation.id, _required(request.distribution_id, "distribution_id")
        )
        held = distributions.held_at_sources(distribution)
        return sheets.run_sheet(frame, distribution, held, zone)
    from ..pdf import kitchen as kitchen_pdf  # the kitchen plan sheet

    return kitchen_pdf.build(frame, organisation.id, first or moment.astimezone(zone).date())


def donor_figures(
    organisation_id: int, first: date, last: date, now: datetime | None = None
) -> shortfall_pdf.DonorReport:
    """Gather the donor report's figures: needs now, the period's distributions and losses."""
    period = distributions.figures(organisation_id, first, last)
    meal_items = set(
        db.session.scalars(
            select(Item.id).where(Item.organisation_id == organisation_id, meal_item_clause())
        )
    )
    meals = sum(row.quantity for row in period.items if row.item_id in meal_items)
    return shortfall_pdf.DonorReport(
        distributions=period,
        meals_served=meals,
        losses=incidents.loss_figures(organisation_id, first, last),
        donor_needs=donors.donor_needs(organisation_id, now=now),
        how_to_help=donors.how_to_help(organisation_id),
    )


def _period(
    organisation_id: int, request: ReportRequest, moment: datetime
) -> tuple[date | None, date | None]:
    if request.kind in ("stocktake", "run_sheet"):
        return None, None
    today = moment.astimezone(organisation_zone(organisation_id)).date()
    last = request.last or today
    first = request.first or (last - timedelta(days=6))
    if first > last:
        raise ValidationError(_l("The period ends before it starts."), {"first": "after last"})
    if (last - first).days > MAX_PERIOD_DAYS:
        raise ValidationError(_l("A period is at most ten years."), {"first": "too long"})
    return first, last


REQUIRED = {"site_id": _l("Choose the site."), "distribution_id": _l("Choose the distribution.")}


def _required(value: int | None, name: str) -> int:
    if value is None:
        raise ValidationError(REQUIRED[name], {name: "required"})
    return value


def _count_rows(organisation_id: int, site_id: int) -> list[tuple[Item, int]]:
    levels = dict(
        db.session.execute(
            select(StockLevel.item_id, StockLevel.quantity).where(StockLevel.site_id == site_id)
        ).all()
    )
    items = db.session.scalars(
        select(Item)
        .where(Item.organisation_id == organisation_id, Item.active.is_(True))
        .order_by(Item.category, Item.name, Item.size)
    )
    return [(item, levels.get(item.id, 0)) for item in items]


def _incidents(
    organisation_id: int, first: date, last: date
) -> Iterator[evidence_pdf.IncidentRecord]:
    """Yield the period's incidents oldest first, with all they hold, a batch at a time.

    Core selects of the printed columns, not ORM objects: ten years of incidents load in half
    a second instead of six, and only one batch is held at a time.
    """
    start, end = incidents.period_bounds(organisation_id, first, last)
    # The connection, not the session: rows of plain columns need none of the ORM's loading.
    connection = db.session.connection()
    # Ids first, then everything by id: each incident prints once, with its own lines, even
    # if someone records or edits an incident while the report is being made.
    ids = list(
        connection.execute(
            select(Incident.id)
            .where(
                Incident.organisation_id == organisation_id,
                Incident.occurred_at >= start,
                Incident.occurred_at < end,
            )
            .order_by(Incident.occurred_at, Incident.id)
        ).scalars()
    )
    sites = dict(
        connection.execute(
            select(Site.id, Site.name).where(Site.organisation_id == organisation_id)
        ).all()
    )
    labels = {
        item_id: item_label(name, size, name_fr)
        for item_id, name, size, name_fr in connection.execute(
            select(Item.id, Item.name, Item.size, Item.name_fr).where(
                Item.organisation_id == organisation_id
            )
        )
    }
    for offset in range(0, len(ids), EVIDENCE_BATCH):
        yield from _incident_batch(ids[offset : offset + EVIDENCE_BATCH], sites, labels)


def _incident_batch(
    batch: list[int], sites: dict[int, str], labels: dict[int, str]
) -> list[evidence_pdf.IncidentRecord]:
    """Return a batch of incidents, in time order, with their lines, amendments and evidence."""
    connection = db.session.connection()
    records = {
        row.id: evidence_pdf.IncidentRecord(
            row.id,
            row.occurred_at,
            row.ended_at,
            row.kind,
            row.area,
            sites.get(row.site_id) if row.site_id else None,
            row.forces_present,
            row.bailiff_present,
            row.interpreter_present,
            row.legal_basis_shown,
            row.shelter_offered,
            row.people_affected,
            row.shelters_affected,
            row.witnesses,
            row.description,
            row.locked_at,
        )
        for row in connection.execute(
            select(
                Incident.id,
                Incident.occurred_at,
                Incident.ended_at,
                Incident.kind,
                Incident.area,
                Incident.site_id,
                Incident.forces_present,
                Incident.bailiff_present,
                Incident.interpreter_present,
                Incident.legal_basis_shown,
                Incident.shelter_offered,
                Incident.people_affected,
                Incident.shelters_affected,
                Incident.witnesses,
                Incident.description,
                Incident.locked_at,
            )
            .where(Incident.id.in_(batch))
            .order_by(Incident.occurred_at, Incident.id)
        )
    }
    for incident_id, item_id, quantity, action, origin, site_id, marked in _rows_of(
        IncidentLine,
        batch,
        IncidentLine.item_id,
        IncidentLine.quantity,
        IncidentLine.action,
        IncidentLine.origin,
        IncidentLine.site_id,
        IncidentLine.marked_property,
    ):
        records[incident_id].lines.append(
            evidence_pdf.LineRecord(
                labels.get(item_id, ""),
                quantity,
                action,
                origin,
                sites.get(site_id) if site_id else None,
                marked,
            )
        )
    for incident_id, *amendment in _rows_of(
        IncidentAmendment,
        batch,
        IncidentAmendment.created_at,
        IncidentAmendment.created_by_id,
        IncidentAmendment.text,
    ):
        records[incident_id].amendments.append(evidence_pdf.AmendmentRecord(*amendment))
    for incident_id, *item in _rows_of(
        Evidence,
        batch,
        Evidence.file_name,
        Evidence.media_type,
        Evidence.size_bytes,
        Evidence.sha256,
        Evidence.captured_at,
        Evidence.uploaded_at,
        Evidence.thumbnail_sha256,
    ):
        records[incident_id].evidence.append(evidence_pdf.EvidenceRecord(*item))
    return list(records.values())


def _rows_of(model: Any, batch: list[int], *columns: Any) -> Any:
    """Return (incident id, *columns) rows of an incident's lines, amendments or evidence."""
    return db.session.connection().execute(
        select(model.incident_id, *columns).where(model.incident_id.in_(batch)).order_by(model.id)
    )


def _write_archive(
    reports_dir: Path, organisation: Organisation, kind: str, moment: datetime, pdf: bytes
) -> Path:
    """Write <slug>/<kind>-<date>.pdf, numbered when taken; never over another report's file."""
    day = moment.astimezone(organisation_zone(organisation.id)).date().isoformat()
    folder = reports_dir / organisation.slug
    folder.mkdir(parents=True, exist_ok=True)
    number = 1
    while True:
        name = f"{kind}-{day}.pdf" if number == 1 else f"{kind}-{day}-{number}.pdf"
        try:
            with (folder / name).open("xb") as handle:  # fails if another report took the name
                handle.write(pdf)
        except FileExistsError:
            number += 1
            continue
        return Path(organisation.slug) / name


# --- the archive ----------------------------------------------------------------------------


def get_report(organisation_id: int, report_id: int) -> Report:
    """Return the organisation's report or raise NotFound."""
    return owned(Report, organisation_id, report_id, _l("No such report."))


def list_reports(organisation_id: int, kinds: tuple[str, ...] = REPORT_KINDS) -> list[Report]:
    """Return the archive, newest first, limited to the kinds a role may read."""
    return list(
        db.session.scalars(
            select(Report)
            .where(Report.organisation_id == organisation_id, Report.kind.in_(kinds))
            .order_by(Report.created_at.desc(), Report.id.desc())
            .limit(200)
        )
    )


def todays_donor_report(
    organisation_id: int,
    reports_dir: Path,
    locale: str | None = None,
    *,
    now: datetime | None = None,
) -> Report:
    """Return today's donor report in a language, made on its first request of the day.

    Donors read current figures without waiting for the weekly report; one PDF a day and
    language is made however many donors ask, and it is archived like any report.
    """
    moment = now or utcnow()
    organisation = db.session.get(Organisation, organisation_id)
    language = report_language(organisation, locale)
    today = moment.astimezone(organisation_zone(organisation_id)).date()
    key = f"donor:{today.isoformat()}:{language}"
    made = db.session.scalar(
        select(Report).where(Report.organisation_id == organisation_id, Report.schedule_key == key)
    )
    if made is not None:
        return made
    request = ReportRequest(
        "shortfall", today - timedelta(days=DEFAULT_DAYS - 1), today, locale=language
    )
    try:
        return generate(organisation_id, None, request, reports_dir, schedule_key=key, now=moment)
    except Conflict:  # another donor's request made it first
        return db.session.scalars(
            select(Report).where(
                Report.organisation_id == organisation_id, Report.schedule_key == key
            )
        ).one()


def latest_donor_report(organisation_id: int) -> Report | None:
    """Return the newest shortfall report."""
    return db.session.scalar(
        select(Report)
        .where(
            Report.organisation_id == organisation_id,
            Report.kind == "shortfall",
            Report.status == "ready",
        )
        .order_by(Report.created_at.desc(), Report.id.desc())
        .limit(1)
    )


def report_file(reports_dir: Path, report: Report) -> Path:
    """Return the archived file after checking it still matches its SHA-256."""
    if report.status != "ready" or report.file_path is None:
        raise Conflict(_l("This report is not ready yet."))
    path = reports_dir / report.file_path
    if not path.is_file():
        raise Conflict(_l("The archived file of this report is missing."))
    if file_sha256(path) != report.sha256:  # read in chunks: a long report is large
        raise Conflict(_l("The archived file no longer matches its SHA-256; it has been altered."))
    return path


# --- weekly reports -------------------------------------------------------------------------


def weekly_due(organisation: Organisation, moment: datetime) -> tuple[str, date, date] | None:
    """Return (key, first, last) of the weekly report due now, or None before its time."""
    local = moment.astimezone(organisation_zone(organisation.id))
    this_week = local.date() - timedelta(
        days=(local.weekday() - organisation.weekly_report_weekday) % 7
    )
    if local.date() == this_week and local.hour < organisation.weekly_report_hour:
        return None
    last = this_week - timedelta(days=1)
    return f"weekly:{this_week.isoformat()}", last - timedelta(days=6), last


def scheduled_exists(organisation_id: int, schedule_key: str) -> bool:
    """Tell whether the scheduled report with this key has been made."""
    return (
        db.session.scalar(
            select(Report.id).where(
                Report.organisation_id == organisation_id, Report.schedule_key == schedule_key
            )
        )
        is not None
    )


def queue_report_deliveries(report: Report, moment: datetime) -> int:
    """Queue the report to every member who subscribed to it; return how many."""
    channels = db.session.scalars(
        select(Channel).where(
            Channel.organisation_id == report.organisation_id,
            Channel.mode == REPORT_MODE,
            Channel.active.is_(True),
        )
    ).all()
    for channel in channels:
        db.session.add(
            Delivery(
                organisation_id=report.organisation_id,
                channel_id=channel.id,
                report_id=report.id,
                next_attempt_at=moment,
            )
        )
    db.session.flush()
    return len(channels)


def set_report_subscription(organisation_id: int, membership: Membership, wanted: bool) -> None:
    """Subscribe a member's e-mail to the weekly donor report, or stop it."""
    channel = db.session.scalar(
        select(Channel).where(
            Channel.organisation_id == organisation_id,
            Channel.membership_id == membership.id,
            Channel.mode == REPORT_MODE,
        )
    )
    if channel is None:
        if not wanted:
            return
        channel = Channel(
            organisation_id=organisation_id,
            membership_id=membership.id,
            kind="email",
            target=membership.user.email,
            mode=REPORT_MODE,
        )
        db.session.add(channel)
    channel.active = wanted
    db.session.flush()


def report_subscribed(organisation_id: int, membership_id: int) -> bool:
    """Tell whether a member receives the weekly donor report."""
    return (
        db.session.scalar(
            select(Channel.id).where(
                Channel.organisation_id == organisation_id,
                Channel.membership_id == membership_id,
                Channel.mode == REPORT_MODE,
                Channel.active.is_(True),
            )
        )
        is not None
    )


# --- share links ----------------------------------------------------------------------------


def create_share_link(
    organisation_id: int, user_id: int | None, *, label: str = "", days: int = SHARE_DAYS
) -> tuple[ShareLink, str]:
    """Create a donor link; return it and its token (shown once, only the hash is kept)."""
    if not 1 <= days <= 366:
        raise ValidationError(_l("A link lasts 1 to 366 days."), {"days": "1 to 366"})
    token = secrets.token_urlsafe(24)
    link = ShareLink(
        organisation_id=organisation_id,
        token_hash=hash_token(token),
        label=(label or "").strip()[:120],
        created_by_id=user_id,
        expires_at=utcnow() + timedelta(days=days),
    )
    db.session.add(link)
    db.session.flush()
    return link, token


def get_share_link(organisation_id: int, link_id: int) -> ShareLink:
    """Return the organisation's share link or raise NotFound."""
    return owned(ShareLink, organisation_id, link_id, _l("No such link."))


def revoke_share_link(organisation_id: int, link_id: int) -> ShareLink:
    """Revoke a donor link at once."""
    link = get_share_link(organisation_id, link_id)
    link.revoked_at = link.revoked_at or utcnow()
    db.session.flush()
    return link


def share_links(organisation_id: int) -> list[ShareLink]:
    """Return the organisation's links, newest first."""
    return list(
        db.session.scalars(
            select(ShareLink)
            .where(ShareLink.organisation_id == organisation_id)
            .order_by(ShareLink.created_at.desc())
        )
    )


def resolve_share_token(token: str) -> ShareLink:
    """Return the live link of a token; expired, revoked or unknown is NotFound."""
    link = db.session.scalar(select(ShareLink).where(ShareLink.token_hash == hash_token(token)))
    if link is None or link.revoked_at is not None or link.expires_at <= utcnow():
        raise NotFound(_l("No such link."))
    return link
