"""Incidents (API.md): record, read, lock, amend, evidence, loss figures.

Incidents and evidence are for coordinators and admins; loss figures are for everyone, and they
carry counts only: no descriptions, forces, witnesses, sites or evidence.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from flask import Response, request, send_file
from pydantic import AfterValidator, Field, RootModel, model_validator

from ... import jobs, limits
from ...models import INCIDENT_KINDS, LINE_ACTIONS, LINE_ORIGINS, TRISTATE
from ...models import Evidence as EvidenceRow
from ...models import Incident as IncidentRow
from ...models.types import utcnow
from ...services import evidence, incidents, ledger
from ...services.distributions import local_today
from ...services.errors import NotFound, ValidationError
from ...services.incidents import IncidentInput, LineInput
from ..incidents import evidence_store
from .common import (
    BadInput,
    Body,
    Id,
    LocalTime,
    Once,
    Out,
    Query,
    QueryDay,
    QueryTime,
    RequestToken,
    Time,
    bp,
    check_period,
    current_org_id,
    current_user_id,
    dump,
    lines_of,
    may,
    once,
    operation,
    text,
    whole,
)

RECORDED = "Incident recorded. A coordinator will review it."
Count = whole(0, limits.MAX_INCIDENT_COUNT)
Long = text(limits.MAX_INCIDENT_TEXT)
Tristate = Literal[TRISTATE]


def _in_the_past(when: datetime) -> datetime:
    """Refuse a time before 2000 (a typing mistake) or in the future."""
    if when < limits.EARLIEST_TIME:
        raise ValueError("before 2000")
    if when > utcnow() + ledger.CLOCK_SKEW:
        raise ValueError("in the future")
    return when


PastTime = Annotated[Time, AfterValidator(_in_the_past)]
QueryPastTime = Annotated[QueryTime, AfterValidator(_in_the_past)]

# --- what goes in -----------------------------------------------------------------------------


class IncidentLineInput(Body):
    """What was lost: from stock (a loss movement) or after a distribution (none)."""

    item_id: Id
    quantity: whole(1, limits.MAX_QUANTITY)
    origin: Literal[LINE_ORIGINS]
    action: Literal[LINE_ACTIONS]
    site_id: Id | None = None
    distribution_id: Id | None = None
    marked_property: bool = False


class IncidentBody(Once):
    """An incident: when, what, where, who was there, what was lost."""

    occurred_at: PastTime
    ended_at: PastTime | None = None
    kind: Literal[INCIDENT_KINDS]
    area: text(limits.MAX_AREA, required=True)
    site_id: Id | None = None
    forces_present: Long = ""
    bailiff_present: Tristate = "unknown"
    interpreter_present: Tristate = "unknown"
    legal_basis_shown: Tristate = "unknown"
    shelter_offered: Tristate = "unknown"
    people_affected: Count | None = None
    shelters_affected: Count | None = None
    witnesses: Long = ""
    description: Long = ""
    lines: lines_of(IncidentLineInput) = []

    @model_validator(mode="after")
    def _consistent(self) -> IncidentBody:
        problems: dict[str, str] = {}
        if self.ended_at and self.ended_at < self.occurred_at:
            problems["ended_at"] = "before occurred_at"
        for index, line in enumerate(self.lines):
            # The service would drop these silently; a script should hear that they do not apply.
            if line.origin == "after_distribution" and line.site_id is not None:
                problems[f"lines[{index}].site_id"] = "only for from_stock lines"
            if line.origin == "from_stock" and line.distribution_id is not None:
                problems[f"lines[{index}].distribution_id"] = "only for after_distribution lines"
        if problems:
            listed = "; ".join(f"{name}: {why}" for name, why in problems.items())
            raise ValidationError(f"Please check {listed}.", problems)
        return self

    def values(self) -> IncidentInput:
        """Return the incident as the service takes it."""
        # The service reads a line's site 0 as "none given"; here it is an id naming no site.
        if any(line.site_id == 0 for line in self.lines):
            raise NotFound("No such site.", {"lines": "site"})
        fields = self.model_dump(exclude={"request_token", "lines"})
        lines = [LineInput(**line.model_dump()) for line in self.lines]
        return IncidentInput(**fields, lines=lines)


class AmendmentInput(Once):
    """What a locked record gains: appended, never edited."""

    text: text(limits.MAX_INCIDENT_TEXT, required=True)
    # Counts the locked record got wrong; absent or null: unchanged.
    people_affected: Count | None = None
    shelters_affected: Count | None = None


class EvidenceForm(Query):
    """The form fields beside the file: when it was captured, and a request token."""

    captured_at: QueryPastTime | None = None
    request_token: RequestToken | None = None


class Period(Query):
    """A period of local dates (from, to), perhaps one area."""

    from_: QueryDay | None = Field(None, alias="from")
    to: QueryDay | None = None
    area: Annotated[str, Field(max_length=limits.MAX_AREA)] = ""


class IncidentQuery(Period):
    """A period (default: the last 31 days), perhaps one area and one kind."""

    kind: Literal[INCIDENT_KINDS] | None = None


# --- what comes out ---------------------------------------------------------------------------


class IncidentLineOut(Out):
    """A line of an incident."""

    item_id: int
    quantity: int
    origin: str
    action: str
    site_id: int | None
    marked_property: bool
    distribution_id: int | None


class Incident(Out):
    """An incident's own fields and lines (what a list shows)."""

    id: int
    occurred_at: LocalTime
    ended_at: LocalTime | None
    kind: str
    area: str
    site_id: int | None
    forces_present: str
    bailiff_present: str
    interpreter_present: str
    legal_basis_shown: str
    shelter_offered: str
    people_affected: int | None
    shelters_affected: int | None
    witnesses: str
    description: str
    created_at: LocalTime
    locked_at: LocalTime | None
    lines: list[IncidentLineOut]


class Amendment(Out):
    """An amendment: who, when, what."""

    id: int
    text: str
    people_affected: int | None
    shelters_affected: int | None
    created_at: LocalTime
    created_by_id: int | None


class Evidence(Out):
    """An evidence file's metadata (the bytes are at GET /evidence/{id})."""

    id: int
    file_name: str
    media_type: str
    size_bytes: int
    sha256: str
    # A photo's small JPEG without metadata (GET /evidence/{id}/thumbnail); null for others.
    thumbnail_sha256: str | None
    captured_at: LocalTime | None
    uploaded_at: LocalTime


class IncidentRecord(Incident):
    """The whole record: fields, lines, amendments, evidence and its loss movements."""

    amendments: list[Amendment]
    evidence: list[Evidence]
    loss_movement_ids: list[int]


class IncidentReceipt(Out):
    """What a role that may record but not read incidents gets back."""

    id: int
    message: str


class IncidentCreated(RootModel[IncidentRecord | IncidentReceipt]):
    """The record, or for a role that may not read incidents, only its id."""


class Incidents(Out):
    """Incidents in a period, newest first."""

    from_: date = Field(alias="from")
    to: date
    incidents: list[Incident]


class AreaKind(Out):
    """How many incidents of a kind in an area."""

    area: str
    kind: str
    count: int


class LossItem(Out):
    """An item destroyed: from stock, after distribution, and against what was given."""

    item_id: int
    label: str
    category: str
    from_stock: int
    after_distribution: int
    given: int
    share_of_given: float | None


class LossFigures(Out):
    """Counts only: incidents, people and shelters affected, items destroyed."""

    from_: date = Field(alias="from")
    to: date
    area: str | None
    incidents: int
    by_area_kind: list[AreaKind]
    people_affected: int
    shelters_affected: int
    items: list[LossItem]
    by_category: dict[str, int]


FIELDS = tuple(name for name in Incident.model_fields if name != "lines")


def _record(row: IncidentRow) -> IncidentRecord:
    values = {name: getattr(row, name) for name in FIELDS}
    return IncidentRecord.model_validate(
        values
        | {
            "lines": row.lines,
            "amendments": row.amendments,
            "evidence": row.evidence,
            "loss_movement_ids": [m.id for m in incidents.loss_movements(row)],
        }
    )


def _period(query: Period, default_days: int | None) -> tuple[date, date]:
    """Return (from, to): to defaults to today, from to default_days back or the 1st."""
    last = query.to or local_today(current_org_id())
    first = query.from_ or (
        last - timedelta(days=default_days) if default_days else last.replace(day=1)
    )
    check_period(first, last, limits.MAX_INCIDENT_PERIOD_DAYS)
    return first, last


def _record_now(incident_id: int, answer: dict[str, Any]) -> dict[str, Any]:
    """Return the incident's whole record as it is now, marked when the answer was a replay."""
    shown = dump(_record(incidents.get_incident(current_org_id(), incident_id)))
    return shown | ({"replayed": True} if answer.get("replayed") else {})


def _incident_of(incident_id: int) -> IncidentRow:
    # Another organisation's incident is not found, whatever the body says.
    return incidents.get_incident(current_org_id(), incident_id)


# --- reading ----------------------------------------------------------------------------------


@bp.get("/incidents")
@operation("view_incidents", {200: Incidents}, query=IncidentQuery)
def list_incidents(query: IncidentQuery) -> Incidents:
    """Incidents in a period (default: the last 31 days), perhaps of one area and kind."""
    first, last = _period(query, limits.INCIDENT_LIST_DAYS)
    area = " ".join(query.area.split()) or None
    # The service loads every incident's lines in one query (selectinload).
    rows = incidents.list_incidents(current_org_id(), first, last, area=area, kind=query.kind)
    return Incidents(from_=first, to=last, incidents=[Incident.model_validate(row) for row in rows])


# A fixed segment: werkzeug prefers it to <int:incident_id>, and "figures" is no int anyway.
@bp.get("/incidents/figures")
@operation("view_loss_figures", {200: LossFigures}, query=Period)
def incident_figures(query: Period) -> LossFigures:
    """Loss figures of a period (default: this month so far): counts and public areas only."""
    first, last = _period(query, None)
    area = " ".join(query.area.split()) or None
    result = incidents.loss_figures(current_org_id(), first, last, area=area)
    # Built field by field: nothing but counts and public areas may reach a donor.
    return LossFigures(
        from_=first,
        to=last,
        area=area,
        incidents=result.incidents,
        by_area_kind=[
            AreaKind(area=place, kind=kind, count=count)
            for (place, kind), count in sorted(result.by_area_kind.items())
        ],
        people_affected=result.people_affected,
        shelters_affected=result.shelters_affected,
        items=[LossItem.model_validate(row) for row in result.items],
        by_category=result.by_category,
    )


@bp.get("/incidents/<int:incident_id>")
@operation("view_incidents", {200: IncidentRecord}, first=_incident_of)
def show_incident(incident_id: int, found: IncidentRow) -> IncidentRecord:
    """The whole record of an incident."""
    return _record(found)


@bp.get("/evidence/<int:evidence_id>")
@operation("view_incidents", {200: "application/octet-stream"}, errors=(409,))
def download_evidence(evidence_id: int) -> Response:
    """The evidence file, checked against its SHA-256 first."""
    record = evidence.get_evidence(current_org_id(), evidence_id)
    # An altered or missing copy is a 409 here, never served.
    path = evidence.verified_path(evidence_store(), record)
    response = send_file(
        path, mimetype=record.media_type, as_attachment=True, download_name=record.file_name
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/evidence/<int:evidence_id>/thumbnail")
@operation("view_incidents", {200: "image/jpeg"}, errors=(409,))
def evidence_thumbnail(evidence_id: int) -> Response:
    """A photo's thumbnail: at most 320 px, upright, without its metadata (no GPS)."""
    record = evidence.get_evidence(current_org_id(), evidence_id)
    response = send_file(evidence.thumbnail_path(evidence_store(), record), mimetype="image/jpeg")
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    return response


# --- recording --------------------------------------------------------------------------------


@bp.post("/incidents")
@operation("record_incidents", {201: IncidentCreated}, body=IncidentBody, errors=(409,))
def create_incident(body: IncidentBody) -> tuple[dict[str, Any], int]:
    """Record an incident; from-stock lines write loss movements, all or nothing."""
    values = body.values()

    def produce() -> tuple[Out, int]:
        incident = incidents.record_incident(current_org_id(), current_user_id(), values)
        # Only the id is kept for replays, so a replay never shows more than the role may read.
        return IncidentReceipt(id=incident.id, message=RECORDED), 201

    answer, status = once("api_incident_create", body.request_token, produce)
    jobs.deliver_eviction_now(current_org_id(), answer["id"])  # coordinators hear it now
    if not may("view_incidents"):
        return answer, status
    return _record_now(answer["id"], answer), status


@bp.put("/incidents/<int:incident_id>")
@operation(
    "view_incidents", {200: IncidentRecord}, body=IncidentBody, errors=(409,), first=_incident_of
)
def update_incident(
    incident_id: int, found: IncidentRow, body: IncidentBody
) -> tuple[dict[str, Any], int]:
    """Correct an incident that is not locked yet."""
    values = body.values()

    def produce() -> tuple[dict[str, Any], int]:
        incidents.update_incident(current_org_id(), current_user_id(), found.id, values)
        return {"id": found.id}, 200

    answer, status = once("api_incident_update", body.request_token, produce)
    jobs.deliver_eviction_now(current_org_id(), found.id)
    return _record_now(found.id, answer), status


@bp.post("/incidents/<int:incident_id>/lock")
@operation(
    "view_incidents",
    {200: IncidentRecord},
    body=Once,
    body_optional=True,
    errors=(409,),
    first=_incident_of,
)
def lock_incident(incident_id: int, found: IncidentRow, body: Once) -> tuple[dict[str, Any], int]:
    """Lock the record: from now on it takes amendments only."""

    def produce() -> tuple[Out, int]:
        return _record(incidents.lock(current_org_id(), current_user_id(), found.id)), 200

    return once("api_incident_lock", body.request_token, produce)


@bp.post("/incidents/<int:incident_id>/amendments")
@operation(
    "view_incidents", {201: Amendment}, body=AmendmentInput, errors=(409,), first=_incident_of
)
def amend_incident(
    incident_id: int, found: IncidentRow, body: AmendmentInput
) -> tuple[dict[str, Any], int]:
    """Add an amendment to a locked incident."""

    def produce() -> tuple[Out, int]:
        made = incidents.amend(
            current_org_id(),
            current_user_id(),
            found.id,
            body.text,
            people_affected=body.people_affected,
            shelters_affected=body.shelters_affected,
        )
        return Amendment.model_validate(made), 201

    answer = once("api_incident_amend", body.request_token, produce)
    jobs.deliver_eviction_now(current_org_id(), found.id)
    return answer


def _upload_target(incident_id: int) -> IncidentRow:
    incident = _incident_of(incident_id)
    if request.mimetype != "multipart/form-data":
        raise BadInput("Send the file as multipart/form-data, in a field named file.")
    return incident


@bp.post("/incidents/<int:incident_id>/evidence")
@operation(
    "view_incidents",
    {201: Evidence},
    body=EvidenceForm,
    multipart=True,
    errors=(409,),
    first=_upload_target,
)
def upload_evidence(
    incident_id: int, found: IncidentRow, body: EvidenceForm
) -> tuple[dict[str, Any], int]:
    """Attach an evidence file (stored by its SHA-256, outside the web root)."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationError(
            "Choose a file to upload, in a field named file.", {"file": "required"}
        )

    def produce() -> tuple[Out, int]:
        stored: EvidenceRow = evidence.add_evidence(
            evidence_store(),
            current_org_id(),
            current_user_id(),
            found.id,
            file_name=upload.filename or "",
            stream=upload.stream,
            captured_at=body.captured_at,
        )
        return Evidence.model_validate(stored), 201

    return once("api_evidence_upload", body.request_token, produce)
