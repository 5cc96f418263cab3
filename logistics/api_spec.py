"""The OpenAPI 3.1 description of the JSON API, served at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

from .models import (
    CATEGORIES,
    INCIDENT_KINDS,
    LINE_ACTIONS,
    LINE_ORIGINS,
    MOVEMENT_KINDS,
    REPORT_KINDS,
    TRISTATE,
)
from .permissions import CAPABILITIES
from .services.ledger import MAX_QUANTITY
from .services.needs import MAX_HORIZON_DAYS

Schema = dict[str, Any]

ERROR_RESPONSES = {
    "400": ("BadRequest", "Malformed JSON, or a value of the wrong type."),
    "401": ("Unauthorized", "No token, or a wrong or revoked one."),
    "403": ("Forbidden", "The token's role may not do this."),
    "404": ("NotFound", "No such thing in this organisation (ids of others included)."),
    "409": (
        "Conflict",
        "Not enough stock, a duplicate, already reversed, a locked incident, an altered evidence "
        "or report file, or a request_token used for another request; nothing written.",
    ),
    "413": ("TooLarge", "The request body is larger than the server accepts; nothing written."),
    "422": ("Invalid", "The values break a rule (missing, zero, unknown, in the future...)."),
}
TIME = {"type": "string", "format": "date-time", "description": "ISO 8601 with offset"}
DATE = {"type": "string", "format": "date", "description": "YYYY-MM-DD"}
REQUEST_TOKEN = {
    "type": "string",
    "maxLength": 100,
    "description": "Client-chosen; a replay answers the first result with replayed: true.",
}
REPLAYED = {"type": "boolean", "description": "Present and true when a request_token replayed."}


def build_spec() -> dict[str, Any]:
    """Return the whole OpenAPI document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Aid logistics tracker API",
            "version": "1",
            "description": (
                "Stock, catalogue, ledger, distributions, incidents, needs and shortage alerts of "
                "one organisation. Authenticate with "
                "Authorization: Bearer <token> (create one with `flask --app logistics "
                "create-token EMAIL --org SLUG`). Times are ISO 8601 with offset."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}],
        "paths": _paths(),
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            "schemas": _incident_schemas() | _report_schemas(),
            "responses": {
                name: _json_response(description, _ref("Error"))
                for name, description in ERROR_RESPONSES.values()
            },
            "parameters": _parameters(),
        },
    }


def _paths() -> dict[str, Any]:
    return {
        **_incident_paths(),
        **_report_paths(),
    }


def _operation(
    operation_id: str,
    summary: str,
    capability: str,
    *,
    ok: tuple[str, str, Schema],
    body: str | None = None,
    parameters: list[str] | tuple[str, ...] = (),
    errors: tuple[str, ...] = (),
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Build one operation: its capability, parameters, body and every answer it can give."""
    roles = ", ".join(sorted(CAPABILITIES[capability]))
    status, description, schema = ok
    codes = {"401", "403", *errors}
    if body is not None:
        codes |= {"400", "422"}
    responses: dict[str, Any] = {status: _json_response(description, schema), **(extra or {})}
    for code in sorted(codes):
        responses[code] = {"$ref": f"#/components/responses/{ERROR_RESPONSES[code][0]}"}
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "description": f"Needs {capability} (roles: {roles}).",
        "responses": responses,
    }
    if parameters:
        operation["parameters"] = [{"$ref": f"#/components/parameters/{p}"} for p in parameters]
    if body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(body)}},
        }
    return operation


def _parameters() -> dict[str, Any]:
    def query(name: str, schema: Schema, description: str, required: bool = False) -> Schema:
        return {
            "name": name,
            "in": "query",
            "required": required,
            "schema": schema,
            "description": description,
        }

    whole = {"type": "integer", "minimum": 1}
    return {
        "site_id": query("site_id", whole, "Only this site."),
        "item_id": query("item_id", whole, "Only this item."),
        "at": query("at", TIME, "The moment; encode + as %2B or use Z.", required=True),
        "since": query("since", TIME, "Only movements that occurred at or after this."),
        "kind": query("kind", {"type": "string", "enum": list(MOVEMENT_KINDS)}, "Only this kind."),
        "cursor": query("cursor", {"type": "string"}, "The next value of the previous page."),
        "limit": query("limit", {"type": "integer", "minimum": 1, "maximum": 500}, "Page size."),
        "include_retired": query(
            "include_retired", {"type": "boolean"}, "Also list retired ones (true or 1)."
        ),
        "movement_id": {
            "name": "movement_id",
            "in": "path",
            "required": True,
            "schema": whole,
        },
        "distribution_id": {
            "name": "distribution_id",
            "in": "path",
            "required": True,
            "schema": whole,
        },
        "point_id": query("site_id", whole, "Only distributions at this distribution point."),
        "list_from": query("from", DATE, "First local date; default today."),
        "list_to": query("to", DATE, "Last local date; default from + 6 days; at most 92 days."),
        "figures_from": query("from", DATE, "First local date; default the 1st of to's month."),
        "figures_to": query("to", DATE, "Last local date; default today; at most 366 days."),
        "incident_id": {"name": "incident_id", "in": "path", "required": True, "schema": whole},
        "evidence_id": {"name": "evidence_id", "in": "path", "required": True, "schema": whole},
        "incidents_from": query("from", DATE, "First local date; default 31 days before to."),
        "incidents_to": query("to", DATE, "Last local date; default today; at most 366 days."),
        "incident_kind": query(
            "kind", {"type": "string", "enum": list(INCIDENT_KINDS)}, "Only this kind."
        ),
        "area": query("area", {"type": "string", "maxLength": 120}, "Only this area (town)."),
        "plan_from": query("from", DATE, "First local date of the plan; default tomorrow."),
        "plan_days": query(
            "days", {"type": "integer", "minimum": 1, "maximum": 28, "default": 7}, "Days to plan."
        ),
        "horizon_days": query(
            "horizon_days",
            {"type": "integer", "minimum": 1, "maximum": MAX_HORIZON_DAYS},
            "Days ahead to plan for; default the organisation's forecast horizon.",
        ),
        "alert_status": query(
            "status",
            {"type": "string", "enum": ["open", "recent"], "default": "open"},
            "open: alerts still open; recent: resolved in the last 14 days.",
        ),
        "channel_id": {"name": "channel_id", "in": "path", "required": True, "schema": whole},
        "report_id": {"name": "report_id", "in": "path", "required": True, "schema": whole},
        "share_link_id": {
            "name": "share_link_id",
            "in": "path",
            "required": True,
            "schema": whole,
        },
    }


def _incident_paths() -> dict[str, Any]:
    incident = ("incident_id",)
    return {
        "/incidents": {
            "get": _operation(
                "listIncidents",
                "Incidents on local dates from..to, newest first, with their lines.",
                "view_incidents",
                ok=("200", "The period and its incidents.", _ref("IncidentList")),
                parameters=["incidents_from", "incidents_to", "area", "incident_kind"],
                errors=("400", "422"),
            ),
            "post": _operation(
                "createIncident",
                "Record an incident; from_stock lines write loss movements, all or nothing. "
                "Roles that may not read incidents back (warehouse) get only the id.",
                "record_incidents",
                ok=(
                    "201",
                    "The whole record, or only its id for roles that may not read it.",
                    {"oneOf": [_ref("IncidentRecord"), _ref("IncidentReceipt")]},
                ),
                body="IncidentInput",
                errors=("404", "409"),
            ),
        },
        "/incidents/figures": {
            "get": _operation(
                "incidentFigures",
                "Loss figures of a period: counts only, never descriptions, forces, witnesses, "
                "sites or evidence.",
                "view_loss_figures",
                ok=("200", "The figures.", _ref("LossFigures")),
                parameters=["figures_from", "figures_to", "area"],
                errors=("400", "422"),
            )
        },
        "/incidents/{incident_id}": {
            "get": _operation(
                "getIncident",
                "One incident: fields, lines, amendments, evidence and its loss movements.",
                "view_incidents",
                ok=("200", "The record.", _ref("IncidentRecord")),
                parameters=incident,
                errors=("404",),
            ),
            "put": _operation(
                "updateIncident",
                "Replace an unlocked incident's fields and lines (earlier losses are reversed).",
                "view_incidents",
                ok=("200", "The record.", _ref("IncidentRecord")),
                body="IncidentInput",
                parameters=incident,
                errors=("404", "409"),
            ),
        },
        "/incidents/{incident_id}/lock": {
            "post": _operation(
                "lockIncident",
                "Lock a reviewed incident; afterwards only amendments can be added.",
                "view_incidents",
                ok=("200", "The locked record.", _ref("IncidentRecord")),
                body="LockInput",
                parameters=incident,
                errors=("404", "409"),
            )
        },
        "/incidents/{incident_id}/amendments": {
            "post": _operation(
                "amendIncident",
                "Append an amendment to a locked incident.",
                "view_incidents",
                ok=("201", "The amendment.", _ref("Amendment")),
                body="AmendmentInput",
                parameters=incident,
                errors=("404", "409"),
            )
        },
        "/incidents/{incident_id}/evidence": {"post": _evidence_upload()},
        "/evidence/{evidence_id}": {"get": _evidence_download()},
    }


def _evidence_upload() -> dict[str, Any]:
    operation = _operation(
        "uploadEvidence",
        "Attach a photo, video, audio, PDF or text file; it is stored once by its SHA-256.",
        "view_incidents",
        ok=("201", "The stored file's record.", _ref("Evidence")),
        parameters=("incident_id",),
        errors=("400", "404", "409", "413", "422"),
    )
    operation["requestBody"] = {
        "required": True,
        "content": {"multipart/form-data": {"schema": _ref("EvidenceUpload")}},
    }
    return operation


def _evidence_download() -> dict[str, Any]:
    operation = _operation(
        "downloadEvidence",
        "The file's bytes, after proving they still hash to the recorded SHA-256.",
        "view_incidents",
        ok=("200", "", {}),
        parameters=("evidence_id",),
        errors=("404", "409"),
    )
    operation["responses"]["200"] = {
        "description": "The file, as an attachment, with its recorded media type. An altered "
        "or missing copy is a 409 instead.",
        "content": {"*/*": {"schema": {"type": "string", "contentMediaType": "*/*"}}},
    }
    return operation


def _incident_schemas() -> dict[str, Schema]:
    integer = {"type": "integer"}
    nullable_id = {"type": ["integer", "null"]}
    nullable_count = {"type": ["integer", "null"]}
    tristate = {"type": "string", "enum": list(TRISTATE), "default": "unknown"}
    long_text = {"type": "string", "maxLength": 20_000}
    base = {
        "occurred_at": TIME,
        "ended_at": {"type": ["string", "null"], "format": "date-time"},
        "kind": {"type": "string", "enum": list(INCIDENT_KINDS)},
        "area": {"type": "string", "maxLength": 120, "description": "The town or district."},
        "site_id": nullable_id,
        "forces_present": long_text,
        "bailiff_present": tristate,
        "interpreter_present": tristate,
        "legal_basis_shown": tristate,
        "shelter_offered": tristate,
        "people_affected": nullable_count,
        "shelters_affected": nullable_count,
        "witnesses": long_text,
        "description": long_text,
    }
    shown = {
        "id": integer,
        **base,
        "created_at": TIME,
        "locked_at": {"type": ["string", "null"], "format": "date-time"},
        "lines": {"type": "array", "items": _ref("IncidentLine")},
    }
    record = {
        **shown,
        "amendments": {"type": "array", "items": _ref("Amendment")},
        "evidence": {"type": "array", "items": _ref("Evidence")},
        "loss_movement_ids": {
            "type": "array",
            "items": integer,
            "description": "The loss movements of from_stock lines that stand.",
        },
        "replayed": REPLAYED,
    }
    line = {
        "item_id": integer,
        "quantity": {"type": "integer", "minimum": 1, "maximum": MAX_QUANTITY},
        "origin": {"type": "string", "enum": list(LINE_ORIGINS)},
        "action": {"type": "string", "enum": list(LINE_ACTIONS)},
        "site_id": {**nullable_id, "description": "from_stock: taken from (default: site_id)."},
        "marked_property": {"type": "boolean", "default": False},
        "distribution_id": {**nullable_id, "description": "after_distribution: given out at."},
    }
    return {
        "IncidentLine": _object(line, required=tuple(line)),
        "IncidentLineInput": _object(line, required=("item_id", "quantity", "origin", "action")),
        "IncidentInput": _object(
            {
                **base,
                "occurred_at": {**TIME, "description": "From 2000 until now."},
                "lines": {
                    "type": "array",
                    "maxItems": 200,
                    "default": [],
                    "items": _ref("IncidentLineInput"),
                },
                "request_token": REQUEST_TOKEN,
            },
            required=("occurred_at", "kind", "area"),
        ),
        "Incident": _object(shown, required=tuple(shown)),
        "IncidentRecord": _object(record, required=tuple(k for k in record if k != "replayed")),
        "IncidentReceipt": _object(
            {"id": integer, "message": {"type": "string"}, "replayed": REPLAYED},
            required=("id", "message"),
        ),
        "IncidentList": _object(
            {"from": DATE, "to": DATE, "incidents": {"type": "array", "items": _ref("Incident")}},
            required=("from", "to", "incidents"),
        ),
        "LockInput": _object({"request_token": REQUEST_TOKEN}),
        "AmendmentInput": _object(
            {"text": long_text, "request_token": REQUEST_TOKEN}, required=("text",)
        ),
        "Amendment": _object(
            {
                "id": integer,
                "text": {"type": "string"},
                "created_at": TIME,
                "created_by_id": nullable_id,
                "replayed": REPLAYED,
            },
            required=("id", "text", "created_at", "created_by_id"),
        ),
        "Evidence": _evidence(),
        "EvidenceUpload": _object(
            {
                "file": {"type": "string", "contentMediaType": "application/octet-stream"},
                "captured_at": {**TIME, "description": "When it was taken, with offset."},
                "request_token": REQUEST_TOKEN,
            },
            required=("file",),
        ),
        "LossFigures": _loss_figures(),
        "LossItem": _object(
            {
                "item_id": integer,
                "label": {"type": "string"},
                "category": {"type": "string", "enum": list(CATEGORIES)},
                "from_stock": integer,
                "after_distribution": integer,
                "given": {"type": "integer", "description": "Given out in the period."},
                "share_of_given": {
                    "type": ["number", "null"],
                    "description": "after_distribution / given; null when none was given.",
                },
            },
            required=(
                "item_id",
                "label",
                "category",
                "from_stock",
                "after_distribution",
                "given",
                "share_of_given",
            ),
        ),
    }


def _evidence() -> Schema:
    return _object(
        {
            "id": {"type": "integer"},
            "file_name": {"type": "string"},
            "media_type": {"type": "string"},
            "size_bytes": {"type": "integer"},
            "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "captured_at": {"type": ["string", "null"], "format": "date-time"},
            "uploaded_at": TIME,
            "replayed": REPLAYED,
        },
        required=(
            "id",
            "file_name",
            "media_type",
            "size_bytes",
            "sha256",
            "captured_at",
            "uploaded_at",
        ),
    )


def _loss_figures() -> Schema:
    integer = {"type": "integer"}
    return _object(
        {
            "from": DATE,
            "to": DATE,
            "area": {"type": ["string", "null"]},
            "incidents": integer,
            "by_area_kind": {
                "type": "array",
                "items": _object(
                    {
                        "area": {"type": "string"},
                        "kind": {"type": "string", "enum": list(INCIDENT_KINDS)},
                        "count": integer,
                    },
                    required=("area", "kind", "count"),
                ),
            },
            "people_affected": integer,
            "shelters_affected": integer,
            "items": {"type": "array", "items": _ref("LossItem")},
            "by_category": {
                "type": "object",
                "additionalProperties": integer,
                "description": "Quantity destroyed per item category, both origins.",
            },
        },
        required=(
            "from",
            "to",
            "area",
            "incidents",
            "by_area_kind",
            "people_affected",
            "shelters_affected",
            "items",
            "by_category",
        ),
    )


def _list_of(key: str, name: str, replayable: bool = False) -> Schema:
    properties: dict[str, Schema] = {key: {"type": "array", "items": _ref(name)}}
    if replayable:
        properties["replayed"] = REPLAYED
    return _object(properties, required=(key,))


def _object(properties: dict[str, Schema], required: tuple[str, ...] = ()) -> Schema:
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _json_response(description: str, schema: Schema) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


# --- reports and share links ------------------------------------------------------------------


def _report_paths() -> dict[str, Any]:
    report = ("report_id",)
    return {
        "/reports": {
            "get": _operation(
                "listReports",
                "The archive, newest first (at most 200), of the kinds the role may read: "
                "shortfall for everyone, evidence for incident readers, sheets for staff.",
                "view_reports",
                ok=("200", "The reports.", _list_of("reports", "Report")),
            ),
            "post": _operation(
                "createReport",
                "Make a PDF report, archive it with its SHA-256 and answer its metadata.",
                "generate_reports",
                ok=("201", "The report.", _ref("Report")),
                body="ReportInput",
                errors=("404", "409"),
            ),
        },
        "/reports/{report_id}": {
            "get": _operation(
                "showReport",
                "A report's metadata; another organisation's, or a kind the role may not read, "
                "is not found.",
                "view_reports",
                ok=("200", "The report.", _ref("Report")),
                parameters=report,
                errors=("404",),
            )
        },
        "/reports/{report_id}.pdf": {"get": _report_download()},
        "/share-links": {
            "post": _operation(
                "createShareLink",
                "Create a donor link to the latest donor report; its url is answered once "
                "(only a hash is kept; a replay answers without it).",
                "manage_share_links",
                ok=("201", "The link, with its url this once.", _ref("ShareLinkCreated")),
                body="ShareLinkInput",
                errors=("409",),
            )
        },
        "/share-links/{share_link_id}": {"delete": _share_link_revoke()},
    }


def _report_download() -> dict[str, Any]:
    operation = _operation(
        "downloadReport",
        "The PDF, after proving it still hashes to the recorded SHA-256.",
        "view_reports",
        ok=("200", "", {}),
        parameters=("report_id",),
        errors=("404", "409"),
    )
    operation["responses"]["200"] = {
        "description": "The PDF. An altered or missing archived file is a 409 instead.",
        "content": {
            "application/pdf": {"schema": {"type": "string", "contentMediaType": "application/pdf"}}
        },
    }
    return operation


def _share_link_revoke() -> dict[str, Any]:
    operation = _operation(
        "revokeShareLink",
        "Revoke a donor link at once (revoking twice is no error); it then answers 404.",
        "manage_share_links",
        ok=("204", "", {}),
        parameters=("share_link_id",),
        errors=("404",),
    )
    operation["responses"]["204"] = {"description": "Revoked; no body."}
    return operation


def _report_schemas() -> dict[str, Schema]:
    nullable_date = {"type": ["string", "null"], "format": "date"}
    report = {
        "id": {"type": "integer"},
        "kind": {"type": "string", "enum": list(REPORT_KINDS)},
        "title": {"type": "string"},
        "period_start": nullable_date,
        "period_end": nullable_date,
        "sha256": {"type": "string", "description": "Hex SHA-256 of the archived PDF."},
        "size_bytes": {"type": "integer"},
        "created_at": TIME,
        "created_by_id": {
            "type": ["integer", "null"],
            "description": "Null when the scheduler or the command line made it.",
        },
        "pdf_url": {"type": "string", "description": "Path of the PDF under this server."},
        "replayed": REPLAYED,
    }
    link = {
        "id": {"type": "integer"},
        "label": {"type": "string"},
        "created_at": TIME,
        "expires_at": TIME,
        "revoked_at": {"type": ["string", "null"], "format": "date-time"},
    }
    report_input = _object(
        {
            "kind": {"type": "string", "enum": list(REPORT_KINDS)},
            "from": {
                **DATE,
                "description": "shortfall and evidence: first day (default to − 6 days); "
                "kitchen: the plan's first day (default today).",
            },
            "to": {**DATE, "description": "shortfall and evidence: last day (default today)."},
            "site_id": {"type": "integer", "description": "stocktake: the site to count."},
            "distribution_id": {"type": "integer", "description": "run_sheet: the distribution."},
            "request_token": REQUEST_TOKEN,
        },
        required=("kind",),
    )
    report_input["description"] = (
        "A field the kind does not use is refused (422). evidence needs an incident-reading "
        "role; stocktake, run_sheet and kitchen a staff role (403 otherwise)."
    )
    return {
        "Report": _object(report, required=tuple(k for k in report if k != "replayed")),
        "ReportInput": report_input,
        "ShareLinkInput": _object(
            {
                "label": {"type": "string", "maxLength": 120},
                "days": {"type": "integer", "minimum": 1, "maximum": 366, "default": 30},
                "request_token": REQUEST_TOKEN,
            }
        ),
        "ShareLinkCreated": _object(
            {
                **link,
                "url": {
                    "type": "string",
                    "description": "{BASE_URL}/share/<token>; answered this once, never again.",
                },
                "replayed": REPLAYED,
            },
            required=tuple(link),
        ),
    }
