"""The JSON API's incident endpoints (API.md): record, read, lock, amend, evidence, figures.

Incidents and evidence are for coordinators and admins; loss figures are for everyone, and they
carry counts only: no descriptions, forces, witnesses, sites or evidence.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Response, jsonify, request, send_file
from sqlalchemy import select

from ...extensions import db
from ...models import (
    INCIDENT_KINDS,
    LINE_ACTIONS,
    LINE_ORIGINS,
    TRISTATE,
    Evidence,
    Incident,
    IncidentAmendment,
    IncidentLine,
)
from ...models.types import utcnow
from ...permissions import can
from ...services import evidence, incidents, ledger
from ...services.distributions import local_today
from ...services.errors import NotFound, ValidationError
from ...services.incidents import COUNT_FIELDS, TRISTATE_FIELDS, IncidentInput, LineInput
from ..incidents import evidence_store
from .common import BadInput, bp, current_membership, current_org_id, current_user_id, local_time
from .legacy import (
    MAX_LINES,
    ApiResponse,
    ApiResult,
    Fields,
    allowed,
    json_body,
    once_response,
    optional_json_body,
    parse_time,
    possible_id,
    query_date,
)

LIST_DAYS = 31
MAX_PERIOD_DAYS = 366
MAX_AREA = 120
# Earlier times are typing mistakes, and would not survive a trip through the time zone.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
# The last local date whose following midnight still exists.
LATEST_DAY = date(9999, 12, 30)
RECORDED = "Incident recorded. A coordinator will review it."


# --- how incidents look in JSON ---------------------------------------------------------------


def _when(value: datetime | None) -> str | None:
    return None if value is None else local_time(value)


def line_json(line: IncidentLine) -> dict[str, Any]:
    """Return an incident line as the API shows it."""
    return {
        "item_id": line.item_id,
        "quantity": line.quantity,
        "origin": line.origin,
        "action": line.action,
        "site_id": line.site_id,
        "marked_property": line.marked_property,
        "distribution_id": line.distribution_id,
    }


def incident_json(
    incident: Incident, lines: Iterable[IncidentLine] | None = None
) -> dict[str, Any]:
    """Return an incident's own fields and lines (what a list shows)."""
    body: dict[str, Any] = {
        "id": incident.id,
        "occurred_at": local_time(incident.occurred_at),
        "ended_at": _when(incident.ended_at),
        "kind": incident.kind,
        "area": incident.area,
        "site_id": incident.site_id,
    }
    body |= {name: getattr(incident, name) for name in ("forces_present", *TRISTATE_FIELDS)}
    body |= {name: getattr(incident, name) for name in (*COUNT_FIELDS, "witnesses")}
    body |= {
        "description": incident.description,
        "created_at": local_time(incident.created_at),
        "locked_at": _when(incident.locked_at),
        "lines": [line_json(line) for line in (incident.lines if lines is None else lines)],
    }
    return body


def incident_record_json(incident: Incident) -> dict[str, Any]:
    """Return the whole record: fields, lines, amendments, evidence and its loss movements."""
    return incident_json(incident) | {
        "amendments": [amendment_json(a) for a in incident.amendments],
        "evidence": [evidence_json(e) for e in incident.evidence],
        "loss_movement_ids": [m.id for m in incidents.loss_movements(incident)],
    }


def amendment_json(amendment: IncidentAmendment) -> dict[str, Any]:
    """Return an amendment: who, when, what."""
    return {
        "id": amendment.id,
        "text": amendment.text,
        "created_at": local_time(amendment.created_at),
        "created_by_id": amendment.created_by_id,
    }


def evidence_json(record: Evidence) -> dict[str, Any]:
    """Return an evidence file's metadata (the bytes are at GET /evidence/<id>)."""
    return {
        "id": record.id,
        "file_name": record.file_name,
        "media_type": record.media_type,
        "size_bytes": record.size_bytes,
        "sha256": record.sha256,
        "captured_at": _when(record.captured_at),
        "uploaded_at": local_time(record.uploaded_at),
    }


def _lines_by_incident(ids: Sequence[int]) -> dict[int, list[IncidentLine]]:
    """Load the lines of many incidents in one query rather than one per incident."""
    grouped: dict[int, list[IncidentLine]] = defaultdict(list)
    if ids:
        rows = db.session.scalars(
            select(IncidentLine).where(IncidentLine.incident_id.in_(ids)).order_by(IncidentLine.id)
        )
        for line in rows:
            grouped[line.incident_id].append(line)
    return grouped


# --- reading ----------------------------------------------------------------------------------


@bp.get("/incidents")
@allowed("view_incidents")
def list_incidents() -> Response:
    org_id = current_org_id()
    last = query_date("to") or local_today(org_id)
    first = query_date("from") or last - timedelta(days=LIST_DAYS)
    _check_period(first, last)
    kind = _query_text("kind", limit=30)
    if kind and kind not in INCIDENT_KINDS:
        raise ValidationError(
            f"Please check kind: one of {', '.join(INCIDENT_KINDS)}.", {"kind": "unknown kind"}
        )
    area = _query_text("area", limit=MAX_AREA)
    rows = incidents.list_incidents(org_id, first, last, area=area or None, kind=kind or None)
    lines = _lines_by_incident([incident.id for incident in rows])
    return jsonify(
        {
            "from": first.isoformat(),
            "to": last.isoformat(),
            "incidents": [incident_json(incident, lines[incident.id]) for incident in rows],
        }
    )


# A fixed segment: werkzeug prefers it to <int:incident_id>, and "figures" is no int anyway.
@bp.get("/incidents/figures")
@allowed("view_loss_figures")
def incident_figures() -> Response:
    org_id = current_org_id()
    last = query_date("to") or local_today(org_id)
    first = query_date("from") or last.replace(day=1)
    _check_period(first, last)
    area = _query_text("area", limit=MAX_AREA)
    result = incidents.loss_figures(org_id, first, last, area=area or None)
    # Built field by field: nothing but counts and public areas may reach a donor.
    return jsonify(
        {
            "from": first.isoformat(),
            "to": last.isoformat(),
            "area": area or None,
            "incidents": result.incidents,
            "by_area_kind": [
                {"area": area_name, "kind": kind, "count": count}
                for (area_name, kind), count in sorted(result.by_area_kind.items())
            ],
            "people_affected": result.people_affected,
            "shelters_affected": result.shelters_affected,
            "items": [
                {
                    "item_id": row.item_id,
                    "label": row.label,
                    "category": row.category,
                    "from_stock": row.from_stock,
                    "after_distribution": row.after_distribution,
                    "given": row.given,
                    "share_of_given": row.share_of_given,
                }
                for row in result.items
            ],
            "by_category": result.by_category,
        }
    )


@bp.get("/incidents/<int:incident_id>")
@allowed("view_incidents")
def show_incident(incident_id: int) -> Response:
    incident = incidents.get_incident(current_org_id(), possible_id(incident_id))
    return jsonify(incident_record_json(incident))


@bp.get("/evidence/<int:evidence_id>")
@allowed("view_incidents")
def download_evidence(evidence_id: int) -> Response:
    record = evidence.get_evidence(current_org_id(), possible_id(evidence_id))
    # An altered or missing copy is a 409 here, never served.
    path = evidence.verified_path(evidence_store(), record)
    response = send_file(
        path, mimetype=record.media_type, as_attachment=True, download_name=record.file_name
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _query_text(name: str, *, limit: int) -> str:
    """Read a short text filter from the query string; empty when absent."""
    value = " ".join((request.args.get(name) or "").split())
    if len(value) > limit or "\x00" in value:
        raise ValidationError(
            f"Please check {name}: at most {limit} characters.", {name: f"at most {limit}"}
        )
    return value


def _check_period(first: date, last: date) -> None:
    if last > LATEST_DAY or first > LATEST_DAY:
        raise ValidationError("Please check to: too far ahead.", {"to": "too far ahead"})
    if first < EARLIEST.date():
        raise ValidationError("Please check from: before 2000.", {"from": "before 2000"})
    if last < first:
        raise ValidationError("Please check to: it is before from.", {"to": "before from"})
    if (last - first).days + 1 > MAX_PERIOD_DAYS:
        raise ValidationError(
            f"Please check to: the period can be at most {MAX_PERIOD_DAYS} days.",
            {"to": f"at most {MAX_PERIOD_DAYS} days"},
        )


# --- recording --------------------------------------------------------------------------------


@bp.post("/incidents")
@allowed("record_incidents")
def create_incident() -> ApiResponse:
    data = json_body()
    values = _incident_input(data)

    def produce() -> ApiResult:
        incident = incidents.record_incident(current_org_id(), current_user_id(), values)
        # Only the id is kept for replays, so a replay never shows more than the role may read.
        return {"id": incident.id, "message": RECORDED}, 201

    response, status = once_response("api_incident_create", data, produce)
    if not can(current_membership().role, "view_incidents"):
        return response, status
    answer = response.get_json()
    body = incident_record_json(incidents.get_incident(current_org_id(), answer["id"]))
    if answer.get("replayed"):
        body["replayed"] = True
    return jsonify(body), status


@bp.put("/incidents/<int:incident_id>")
@allowed("view_incidents")
def update_incident(incident_id: int) -> ApiResponse:
    incident = incidents.get_incident(current_org_id(), possible_id(incident_id))
    data = json_body()
    values = _incident_input(data)

    def produce() -> ApiResult:
        incidents.update_incident(current_org_id(), current_user_id(), incident.id, values)
        return {"id": incident.id}, 200

    response, status = once_response("api_incident_update", data, produce)
    body = incident_record_json(incidents.get_incident(current_org_id(), incident.id))
    if response.get_json().get("replayed"):
        body["replayed"] = True
    return jsonify(body), status


@bp.post("/incidents/<int:incident_id>/lock")
@allowed("view_incidents")
def lock_incident(incident_id: int) -> ApiResponse:
    incident = incidents.get_incident(current_org_id(), possible_id(incident_id))
    data = optional_json_body()

    def produce() -> ApiResult:
        return incident_record_json(
            incidents.lock(current_org_id(), current_user_id(), incident.id)
        ), 200

    return once_response("api_incident_lock", data, produce)


@bp.post("/incidents/<int:incident_id>/amendments")
@allowed("view_incidents")
def amend_incident(incident_id: int) -> ApiResponse:
    incident = incidents.get_incident(current_org_id(), possible_id(incident_id))
    data = json_body()
    fields = Fields(data)
    text = fields.text("text", required=True, limit=incidents.MAX_TEXT)
    fields.check()

    def produce() -> ApiResult:
        return amendment_json(
            incidents.amend(current_org_id(), current_user_id(), incident.id, text)
        ), 201

    return once_response("api_incident_amend", data, produce)


@bp.post("/incidents/<int:incident_id>/evidence")
@allowed("view_incidents")
def upload_evidence(incident_id: int) -> ApiResponse:
    incident = incidents.get_incident(current_org_id(), possible_id(incident_id))
    if request.mimetype != "multipart/form-data":
        raise BadInput("Send the file as multipart/form-data, in a field named file.")
    # Reading the form is where a body over MAX_CONTENT_LENGTH is refused (413).
    upload = request.files.get("file")
    form = {name: request.form.get(name) for name in ("captured_at", "request_token")}
    if upload is None or not upload.filename:
        raise ValidationError(
            "Choose a file to upload, in a field named file.", {"file": "required"}
        )
    captured_at = _captured_at(form["captured_at"])

    def produce() -> ApiResult:
        stored = evidence.add_evidence(
            evidence_store(),
            current_org_id(),
            current_user_id(),
            incident.id,
            file_name=upload.filename or "",
            stream=upload.stream,
            captured_at=captured_at,
        )
        return evidence_json(stored), 201

    return once_response("api_evidence_upload", form, produce)


def _captured_at(value: str | None) -> datetime | None:
    if not (value or "").strip():
        return None
    when, problem = parse_time(value or "")
    if when is not None and not problem:
        problem = _outside_past(when)
    if problem:
        raise ValidationError(f"Please check captured_at: {problem}.", {"captured_at": problem})
    return when


# --- reading an incident ----------------------------------------------------------------------


def _incident_input(data: dict[str, Any]) -> IncidentInput:
    """Read an incident from JSON: wrong types are 400, broken rules 422, both named."""
    fields = Fields(data)
    occurred_at = _past_time(fields, "occurred_at", required=True)
    ended_at = _past_time(fields, "ended_at")
    values: dict[str, Any] = {
        "occurred_at": occurred_at,
        "ended_at": ended_at,
        "kind": _choice(fields, "kind", INCIDENT_KINDS, required=True),
        "area": fields.text("area", required=True, limit=MAX_AREA),
        "site_id": fields.ident("site_id", required=False),
        "lines": _lines(fields),
    }
    for name in TRISTATE_FIELDS:
        values[name] = _choice(fields, name, TRISTATE) or "unknown"
    for name in COUNT_FIELDS:
        values[name] = fields.whole(name, low=0, high=incidents.MAX_COUNT)
    for name in ("forces_present", "witnesses", "description"):
        values[name] = fields.text(name, limit=incidents.MAX_TEXT)
    if occurred_at and ended_at and ended_at < occurred_at:
        fields.invalid["ended_at"] = "before occurred_at"
    fields.check()
    # The service reads a line's site 0 as "none given"; here it is an id that names no site.
    if any(line.site_id == 0 for line in values["lines"]):
        raise NotFound("No such site.", {"lines": "site"})
    return IncidentInput(**values)


def _past_time(fields: Fields, name: str, *, required: bool = False) -> datetime | None:
    when = fields.time(name, required=required)
    problem = None if when is None else _outside_past(when)
    if problem:
        fields.invalid[name] = problem
        return None
    return when


def _outside_past(when: datetime) -> str | None:
    """Tell what is wrong with a time that should lie between 2000 and now."""
    if when < EARLIEST:
        return "before 2000"
    if when > utcnow() + ledger.CLOCK_SKEW:
        return "in the future"
    return None


def _choice(fields: Fields, name: str, options: Sequence[str], *, required: bool = False) -> str:
    value = fields.text(name, required=required, limit=40)
    if value and value not in options:
        fields.invalid[name] = f"one of {', '.join(options)}"
    return value


def _flag(fields: Fields, name: str) -> bool:
    value = fields.data.get(name)
    if value is None:
        return False
    if not isinstance(value, bool):
        fields.wrong_type[name] = "true or false"
        return False
    return value


def _lines(fields: Fields) -> list[LineInput]:
    """Read lines: [{item_id, quantity, origin, action, site_id?, marked_property?, ...}]."""
    value = fields.data.get("lines")
    if value is None:
        return []
    if not isinstance(value, list):
        fields.wrong_type["lines"] = "a list of objects"
        return []
    if len(value) > MAX_LINES:
        fields.invalid["lines"] = f"at most {MAX_LINES} lines"
        return []
    lines = []
    for index, entry in enumerate(value):
        where = f"lines[{index}]"
        if not isinstance(entry, dict):
            fields.wrong_type[where] = "an object"
            continue
        row = Fields(entry)
        line = _line(row)
        fields.wrong_type |= {f"{where}.{key}": why for key, why in row.wrong_type.items()}
        fields.invalid |= {f"{where}.{key}": why for key, why in row.invalid.items()}
        if line is not None:
            lines.append(line)
    return lines


def _line(row: Fields) -> LineInput | None:
    item_id = row.ident("item_id")
    quantity = row.whole("quantity", required=True, low=1, high=ledger.MAX_QUANTITY)
    origin = _choice(row, "origin", LINE_ORIGINS, required=True)
    action = _choice(row, "action", LINE_ACTIONS, required=True)
    site_id = row.ident("site_id", required=False)
    distribution_id = row.ident("distribution_id", required=False)
    marked = _flag(row, "marked_property")
    # The service would drop these silently; a script should hear that they do not apply.
    if origin == "after_distribution" and site_id is not None:
        row.invalid["site_id"] = "only for from_stock lines"
    if origin == "from_stock" and distribution_id is not None:
        row.invalid["distribution_id"] = "only for after_distribution lines"
    if item_id is None or quantity is None or row.invalid or row.wrong_type:
        return None
    return LineInput(
        item_id=item_id,
        quantity=quantity,
        origin=origin,
        action=action,
        marked_property=marked,
        site_id=site_id,
        distribution_id=distribution_id,
    )
