"""The OpenAPI 3.1 description of the JSON API, served at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

from .models import (
    INCIDENT_KINDS,
    MOVEMENT_KINDS,
    REPORT_KINDS,
)
from .permissions import CAPABILITIES
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
            "schemas": _report_schemas(),
            "responses": {
                name: _json_response(description, _ref("Error"))
                for name, description in ERROR_RESPONSES.values()
            },
            "parameters": _parameters(),
        },
    }


def _paths() -> dict[str, Any]:
    return {
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
