"""The OpenAPI 3.1 description of the JSON API, served at /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

from .models import (
    CATEGORIES,
    INCIDENT_KINDS,
    LINE_ACTIONS,
    LINE_ORIGINS,
    MOVEMENT_KINDS,
    SITE_KINDS,
    STATUSES,
    TRISTATE,
)
from .permissions import CAPABILITIES
from .services.distributions import OUTCOME_STATUSES
from .services.ledger import MAX_QUANTITY

Schema = dict[str, Any]

MOVEMENT_POST_KINDS = ("donation", "purchase", "loss", "adjustment")
ERROR_RESPONSES = {
    "400": ("BadRequest", "Malformed JSON, or a value of the wrong type."),
    "401": ("Unauthorized", "No token, or a wrong or revoked one."),
    "403": ("Forbidden", "The token's role may not do this."),
    "404": ("NotFound", "No such thing in this organisation (ids of others included)."),
    "409": (
        "Conflict",
        "Not enough stock, a duplicate, already reversed, a locked incident, an altered evidence "
        "file, or a request_token used for another request; nothing written.",
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
                "Stock, catalogue, ledger and distributions of one organisation. Authenticate with "
                "Authorization: Bearer <token> (create one with `flask --app logistics "
                "create-token EMAIL --org SLUG`). Times are ISO 8601 with offset."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}],
        "paths": _paths(),
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            "schemas": _schemas() | _distribution_schemas() | _incident_schemas(),
            "responses": {
                name: _json_response(description, _ref("Error"))
                for name, description in ERROR_RESPONSES.values()
            },
            "parameters": _parameters(),
        },
    }


def _paths() -> dict[str, Any]:
    return {
        "/items": {
            "get": _operation(
                "listItems",
                "The item catalogue.",
                "view_stock",
                ok=("200", "Items by name and size.", _list_of("items", "Item")),
                parameters=["include_retired"],
            ),
            "post": _operation(
                "createItem",
                "Add an item (sizes are separate items).",
                "manage_catalogue",
                ok=("201", "The item.", _ref("Item")),
                body="ItemInput",
                errors=("409",),
            ),
        },
        "/sites": {
            "get": _operation(
                "listSites",
                "Sites; details only for roles that may see precise places.",
                "view_stock",
                ok=("200", "Sites by name.", _list_of("sites", "Site")),
                parameters=["include_retired"],
            ),
            "post": _operation(
                "createSite",
                "Add a site.",
                "manage_catalogue",
                ok=("201", "The site.", _ref("Site")),
                body="SiteInput",
                errors=("409",),
            ),
        },
        "/stock": {
            "get": _operation(
                "currentStock",
                "Current levels (zero levels left out).",
                "view_stock",
                ok=("200", "Levels.", _list_of("levels", "Level")),
                parameters=["site_id", "item_id"],
                errors=("400", "404"),
            )
        },
        "/stock/as-of": {
            "get": _operation(
                "stockAsOf",
                "Levels at a past moment.",
                "view_stock",
                ok=("200", "Levels then.", _levels_then()),
                parameters=["at", "site_id", "item_id"],
                errors=("400", "404", "422"),
            )
        },
        "/movements": {
            "get": _operation(
                "listMovements",
                "The ledger, newest first, a page at a time.",
                "view_ledger",
                ok=("200", "A page; follow next as cursor.", _ref("MovementPage")),
                parameters=["since", "site_id", "item_id", "kind", "cursor", "limit"],
                errors=("400", "404", "422"),
            ),
            "post": _operation(
                "recordMovement",
                "Record a donation, purchase, loss or adjustment (stocktake).",
                "record_movements",
                ok=("201", "The movement.", _ref("Movement")),
                body="MovementInput",
                errors=("404", "409"),
                extra={"200": _json_response("An adjustment that changed nothing.", _no_change())},
            ),
        },
        "/transfers": {
            "post": _operation(
                "recordTransfer",
                "Move stock between two sites (two movements sharing a transfer group).",
                "record_movements",
                ok=("201", "Both legs.", _ref("Transfer")),
                body="TransferInput",
                errors=("404", "409"),
            )
        },
        "/movements/{movement_id}/reverse": {
            "post": _operation(
                "reverseMovement",
                "Undo a movement with a reversing one; a transfer leg undoes both legs.",
                "reverse_movements",
                ok=("201", "The reversing movements.", _list_of("movements", "Movement", True)),
                body="ReverseInput",
                parameters=["movement_id"],
                errors=("404", "409"),
            )
        },
        **_distribution_paths(),
        **_incident_paths(),
        "/openapi.json": {
            "get": {
                "operationId": "openapi",
                "summary": "This document.",
                "security": [],
                "responses": {"200": {"description": "The OpenAPI document."}},
            }
        },
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
    }


def _schemas() -> dict[str, Schema]:
    integer = {"type": "integer"}
    text = {"type": "string"}
    nullable_number = {"type": ["number", "null"]}
    return {
        "Error": _object(
            {
                "error": _object(
                    {
                        "code": {
                            "type": "string",
                            "examples": ["insufficient_stock", "invalid", "not_found"],
                        },
                        "message": {"type": "string", "description": "A sentence to show."},
                        "fields": {
                            "type": "object",
                            "additionalProperties": {"type": "string"},
                            "description": "What is wrong with each field, by name.",
                        },
                    },
                    required=("code", "message", "fields"),
                )
            },
            required=("error",),
        ),
        "Item": _object(
            {
                "id": integer,
                "name": text,
                "size": text,
                "label": {"type": "string", "description": 'Name with size: "Shoes (42)".'},
                "category": {"type": "string", "enum": list(CATEGORIES)},
                "unit": text,
                "min_stock": integer,
                "cover_target_days": integer,
                "unit_value_eur": nullable_number,
                "per_person_per_day": nullable_number,
                "active": {"type": "boolean"},
                "replayed": REPLAYED,
            },
            required=("id", "name", "size", "label", "category", "unit", "min_stock", "active"),
        ),
        "ItemInput": _object(
            {
                "name": {"type": "string", "maxLength": 120},
                "category": {"type": "string", "enum": list(CATEGORIES)},
                "unit": {"type": "string", "maxLength": 30, "default": "piece"},
                "size": {"type": "string", "maxLength": 40, "default": ""},
                "min_stock": {"type": "integer", "minimum": 0, "default": 0},
                "cover_target_days": {"type": "integer", "minimum": 0, "default": 7},
                "unit_value_eur": {"type": "number", "minimum": 0},
                "per_person_per_day": {"type": "number", "minimum": 0},
                "request_token": REQUEST_TOKEN,
            },
            required=("name", "category"),
        ),
        "Site": _object(
            {
                "id": integer,
                "name": text,
                "kind": {"type": "string", "enum": list(SITE_KINDS)},
                "area": {"type": "string", "description": "Public: the town or district."},
                "details": {
                    "type": "string",
                    "description": "Where exactly; only for admin and coordinator tokens.",
                },
                "active": {"type": "boolean"},
                "replayed": REPLAYED,
            },
            required=("id", "name", "kind", "area", "active"),
        ),
        "SiteInput": _object(
            {
                "name": {"type": "string", "maxLength": 120},
                "kind": {"type": "string", "enum": list(SITE_KINDS)},
                "area": {"type": "string", "maxLength": 120},
                "details": {"type": "string", "maxLength": 2000},
                "request_token": REQUEST_TOKEN,
            },
            required=("name", "kind", "area"),
        ),
        "Level": _object(
            {"site_id": integer, "item_id": integer, "quantity": integer},
            required=("site_id", "item_id", "quantity"),
        ),
        "Movement": _movement(),
        "MovementInput": _movement_input(),
        "MovementPage": _object(
            {
                "movements": {"type": "array", "items": _ref("Movement")},
                "next": {
                    "type": ["string", "null"],
                    "description": "Pass as cursor for the next page; null on the last.",
                },
            },
            required=("movements", "next"),
        ),
        "TransferInput": _object(
            {
                "from_site_id": integer,
                "to_site_id": integer,
                "item_id": integer,
                "quantity": {"type": "integer", "minimum": 1},
                "occurred_at": TIME,
                "note": text,
                "request_token": REQUEST_TOKEN,
            },
            required=("from_site_id", "to_site_id", "item_id", "quantity"),
        ),
        "Transfer": _object(
            {
                "transfer_group": text,
                "movements": {
                    "type": "array",
                    "items": _ref("Movement"),
                    "description": "transfer_out, then transfer_in.",
                },
                "replayed": REPLAYED,
            },
            required=("transfer_group", "movements"),
        ),
        "ReverseInput": _object(
            {"reason": {"type": "string", "maxLength": 2000}, "request_token": REQUEST_TOKEN},
            required=("reason",),
        ),
    }


def _distribution_paths() -> dict[str, Any]:
    return {
        "/distributions": {
            "get": _operation(
                "listDistributions",
                "Distributions on local dates from..to, in time order.",
                "view_distributions",
                ok=("200", "The period and its distributions.", _ref("DistributionList")),
                parameters=["list_from", "list_to", "point_id"],
                errors=("400", "404", "422"),
            ),
            "post": _operation(
                "createDistribution",
                "Schedule a one-off distribution with its planned lines.",
                "plan_distributions",
                ok=("201", "The distribution.", _ref("Distribution")),
                body="DistributionInput",
                errors=("404", "409"),
            ),
        },
        "/distributions/figures": {
            "get": _operation(
                "distributionFigures",
                "Distributions by outcome, people served and items given in a period.",
                "view_distributions",
                ok=("200", "The figures.", _ref("DistributionFigures")),
                parameters=["figures_from", "figures_to", "point_id"],
                errors=("400", "404", "422"),
            )
        },
        "/distributions/{distribution_id}": {
            "get": _operation(
                "getDistribution",
                "One distribution: its plan and, once recorded, its outcome.",
                "view_distributions",
                ok=("200", "The distribution.", _ref("Distribution")),
                parameters=["distribution_id"],
                errors=("404",),
            )
        },
        "/distributions/{distribution_id}/outcome": {
            "post": _operation(
                "recordOutcome",
                "Record held, disrupted or cancelled; goods given leave the source site. "
                "Recording again corrects the outcome (earlier movements are reversed).",
                "record_outcomes",
                ok=("200", "The distribution with its outcome.", _ref("Distribution")),
                body="OutcomeInput",
                parameters=["distribution_id"],
                errors=("404", "409"),
            )
        },
        "/distribution-series": {
            "post": _operation(
                "createSeries",
                "Schedule a recurring distribution; occurrences are made 28 days ahead "
                "(past ones included when it starts in the past).",
                "plan_distributions",
                ok=("201", "The series and how many occurrences it has.", _ref("Series")),
                body="SeriesInput",
                errors=("404", "409"),
            )
        },
    }


def _distribution_schemas() -> dict[str, Schema]:
    integer = {"type": "integer"}
    count = {"type": "integer", "minimum": 0, "maximum": 100_000}
    nullable_count = {"type": ["integer", "null"]}
    quantity = {"type": "integer", "minimum": 0, "maximum": MAX_QUANTITY}
    lines_input = {"type": "array", "maxItems": 200, "default": []}
    return {
        "Distribution": _object(
            {
                "id": integer,
                "series_id": {"type": ["integer", "null"], "description": "Null for a one-off."},
                "site_id": {"type": "integer", "description": "The distribution point."},
                "source_site_id": {"type": "integer", "description": "Where the goods come from."},
                "starts_at": {**TIME, "description": "In the organisation's time zone."},
                "local_date": DATE,
                "status": {"type": "string", "enum": list(STATUSES)},
                "headcount": nullable_count,
                "headcount_minors": nullable_count,
                "headcount_women": nullable_count,
                "note": {"type": "string", "description": "The outcome note."},
                "lines": {"type": "array", "items": _ref("DistributionLine")},
                "replayed": REPLAYED,
            },
            required=(
                "id",
                "series_id",
                "site_id",
                "source_site_id",
                "starts_at",
                "local_date",
                "status",
                "headcount",
                "headcount_minors",
                "headcount_women",
                "note",
                "lines",
            ),
        ),
        "DistributionLine": _object(
            {
                "item_id": integer,
                "planned": integer,
                "given": {
                    "type": ["integer", "null"],
                    "description": "Null until an outcome that gives goods is recorded.",
                },
            },
            required=("item_id", "planned", "given"),
        ),
        "DistributionList": _object(
            {
                "from": DATE,
                "to": DATE,
                "distributions": {"type": "array", "items": _ref("Distribution")},
            },
            required=("from", "to", "distributions"),
        ),
        "PlannedLine": _object(
            {"item_id": integer, "planned": quantity}, required=("item_id", "planned")
        ),
        "GivenLine": _object(
            {"item_id": integer, "given": quantity}, required=("item_id", "given")
        ),
        "DistributionInput": _object(
            {
                "site_id": {"type": "integer", "description": "The distribution point."},
                "source_site_id": {"type": "integer", "description": "A warehouse or kitchen."},
                "starts_at": {**TIME, "description": "At most a year back and ten years ahead."},
                "lines": {**lines_input, "items": _ref("PlannedLine")},
                "request_token": REQUEST_TOKEN,
            },
            required=("site_id", "source_site_id", "starts_at"),
        ),
        "SeriesInput": _object(
            {
                "site_id": {"type": "integer", "description": "The distribution point."},
                "source_site_id": {"type": "integer", "description": "A warehouse or kitchen."},
                "weekdays": {
                    "type": "array",
                    "items": {"type": "integer", "minimum": 0, "maximum": 6},
                    "minItems": 1,
                    "description": "0 = Monday … 6 = Sunday.",
                },
                "time": {
                    "type": "string",
                    "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$",
                    "description": "Local wall-clock time HH:MM; kept across summer time.",
                },
                "starts_on": {**DATE, "description": "At most a year back."},
                "ends_on": {**DATE, "description": "Last possible date; none for open-ended."},
                "lines": {**lines_input, "items": _ref("PlannedLine")},
                "request_token": REQUEST_TOKEN,
            },
            required=("site_id", "source_site_id", "weekdays", "time", "starts_on"),
        ),
        "Series": _object(
            {
                "id": integer,
                "site_id": integer,
                "source_site_id": integer,
                "weekdays": {"type": "array", "items": integer},
                "time": {"type": "string", "description": "Local HH:MM."},
                "starts_on": DATE,
                "ends_on": {"type": ["string", "null"], "format": "date"},
                "lines": {"type": "array", "items": _ref("PlannedLine")},
                "generated": {
                    "type": "integer",
                    "description": "How many occurrences exist for the series.",
                },
                "replayed": REPLAYED,
            },
            required=(
                "id",
                "site_id",
                "source_site_id",
                "weekdays",
                "time",
                "starts_on",
                "ends_on",
                "lines",
                "generated",
            ),
        ),
        "OutcomeInput": _outcome_input(count, lines_input),
        "ItemGiven": _object(
            {
                "item_id": integer,
                "label": {"type": "string"},
                "category": {"type": "string", "enum": list(CATEGORIES)},
                "unit": {"type": "string"},
                "quantity": integer,
            },
            required=("item_id", "label", "category", "unit", "quantity"),
        ),
        "DistributionFigures": _object(
            {
                "from": DATE,
                "to": DATE,
                "by_status": {
                    "type": "object",
                    "properties": {status: integer for status in STATUSES},
                    "description": "How many distributions ended each way.",
                },
                "people_served": {"type": "integer", "description": "Sum of headcounts."},
                "minors": integer,
                "women": integer,
                "items": {"type": "array", "items": _ref("ItemGiven")},
                "by_category": {
                    "type": "object",
                    "additionalProperties": integer,
                    "description": "Quantity given per item category.",
                },
            },
            required=(
                "from",
                "to",
                "by_status",
                "people_served",
                "minors",
                "women",
                "items",
                "by_category",
            ),
        ),
    }


def _outcome_input(count: Schema, lines_input: Schema) -> Schema:
    schema = _object(
        {
            "status": {"type": "string", "enum": list(OUTCOME_STATUSES)},
            "headcount": {**count, "description": "How many people came (an estimate is fine)."},
            "headcount_minors": count,
            "headcount_women": count,
            "note": {"type": "string", "maxLength": 2000},
            "lines": {**lines_input, "items": _ref("GivenLine")},
            "request_token": REQUEST_TOKEN,
        },
        required=("status",),
    )
    schema["description"] = (
        "held and disrupted need headcount and may give lines, for a distribution that has "
        "started (today or earlier); cancelled gives nothing and takes no headcount."
    )
    return schema


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


def _movement() -> Schema:
    return _object(
        {
            "id": {"type": "integer"},
            "kind": {"type": "string", "enum": list(MOVEMENT_KINDS)},
            "site_id": {"type": "integer"},
            "item_id": {"type": "integer"},
            "quantity": {"type": "integer", "description": "Signed: + in, - out."},
            "occurred_at": TIME,
            "recorded_at": TIME,
            "source": {"type": "string"},
            "note": {"type": "string"},
            "transfer_group": {"type": ["string", "null"]},
            "reverses_id": {"type": ["integer", "null"]},
            "replayed": REPLAYED,
        },
        required=(
            "id",
            "kind",
            "site_id",
            "item_id",
            "quantity",
            "occurred_at",
            "recorded_at",
            "source",
            "note",
            "transfer_group",
            "reverses_id",
        ),
    )


def _movement_input() -> Schema:
    schema = _object(
        {
            "kind": {"type": "string", "enum": list(MOVEMENT_POST_KINDS)},
            "site_id": {"type": "integer"},
            "item_id": {"type": "integer"},
            "quantity": {
                "type": "integer",
                "description": "More than 0; signed for an adjustment.",
            },
            "counted": {
                "type": "integer",
                "minimum": 0,
                "description": "Adjustment only: the stocktake count, instead of quantity.",
            },
            "occurred_at": TIME,
            "source": {
                "type": "string",
                "maxLength": 200,
                "description": "Donation or purchase: who gave or sold it.",
            },
            "reason": {"type": "string", "description": "Loss and adjustment: why."},
            "note": {"type": "string", "maxLength": 2000},
            "request_token": REQUEST_TOKEN,
        },
        required=("kind", "site_id", "item_id"),
    )
    schema["description"] = (
        "donation and purchase need quantity; loss needs quantity and reason (or note); "
        "adjustment needs either a signed quantity or counted, and reason (or note)."
    )
    return schema


def _levels_then() -> Schema:
    return _object(
        {"at": TIME, "levels": {"type": "array", "items": _ref("Level")}},
        required=("at", "levels"),
    )


def _no_change() -> Schema:
    return _object(
        {"movement": {"type": "null"}, "message": {"type": "string"}, "replayed": REPLAYED},
        required=("movement", "message"),
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
