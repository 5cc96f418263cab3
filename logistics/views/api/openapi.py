"""openapi.json, made from the endpoints' declarations and the URL map; nothing written by hand."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, Response, current_app, jsonify
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from werkzeug.routing import Rule

from ... import limits
from .common import Error, Operation, bp, operation

PREFIX = "/api/v1"
REF = "#/components/schemas/{model}"
ERRORS = {
    400: "Malformed JSON, or a value of the wrong type.",
    401: "No token, or a wrong or revoked one.",
    403: "The token's role may not do this.",
    404: "No such thing in this organisation (ids of others included).",
    409: (
        "Not enough stock, a duplicate, already reversed, a locked incident, an altered evidence "
        "or report file, or a request_token used for another request; nothing written."
    ),
    413: "The request body is larger than the server accepts; nothing written.",
    422: "The values break a rule (missing, zero, unknown, in the future...).",
}
DESCRIPTION = (
    "Stock, catalogue, ledger, distributions, incidents, needs, kitchens, reports and shortage "
    "alerts of one organisation. Authenticate with Authorization: Bearer <token> (create one with "
    "`flask --app logistics create-token EMAIL --org SLUG`). Times are ISO 8601 with offset. "
    "Writes take an optional request_token: a replay answers the first result with "
    "replayed: true. Errors: {error: {code, message, fields}}, fields named like "
    "lines[0].item_id; 400 for malformed JSON or a wrong type, 422 for a broken rule."
)


@bp.get("/openapi.json")
@operation(None, {200: "application/json"})
def openapi() -> Response:
    """This document."""
    return jsonify(document(current_app))


def document(app: Flask) -> dict[str, Any]:
    """Return the OpenAPI document of the app's API (made once per app)."""
    if "api_document" not in app.extensions:
        app.extensions["api_document"] = _build(app)
    return app.extensions["api_document"]


def _build(app: Flask) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    models: list[tuple[type[BaseModel], str]] = [(Error, "serialization")]
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith(f"{PREFIX}/"):
            continue
        view = app.view_functions[rule.endpoint]
        declared: Operation | None = getattr(view, "api_operation", None)
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix(PREFIX))
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if declared is None:
                raise LookupError(f"{rule.endpoint} is not declared with operation()")
            paths.setdefault(path, {})[method.lower()] = _operation(rule, declared)
            models += _models_of(declared)
    _, definitions = models_json_schema(
        list(dict.fromkeys(models)), ref_template=REF, title="API models"
    )
    return {
        "openapi": "3.1.0",
        "info": {"title": "Aid logistics tracker API", "version": "1", "description": DESCRIPTION},
        "servers": [{"url": PREFIX}],
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            "schemas": definitions.get("$defs", {}),
            "responses": {
                str(status): _json(description, {"$ref": REF.format(model="Error")})
                for status, description in ERRORS.items()
            },
        },
    }


def _models_of(declared: Operation) -> list[tuple[type[BaseModel], str]]:
    found: list[tuple[type[BaseModel], str]] = []
    if declared.body is not None and not declared.multipart:
        found.append((declared.body, "validation"))
    for answer in declared.answers.values():
        if isinstance(answer, type) and issubclass(answer, BaseModel):
            found.append((answer, "serialization"))
    return found


def _operation(rule: Rule, declared: Operation) -> dict[str, Any]:
    """Describe one method of one rule from its declaration."""
    parameters = _path_parameters(rule) + _query_parameters(declared)
    described: dict[str, Any] = {
        "operationId": _camel(rule.endpoint.rpartition(".")[2]),
        "summary": declared.summary,
        "responses": _answers(declared) | _errors(rule, declared),
    }
    if declared.capability:
        described["x-capability"] = declared.capability
    if parameters:
        described["parameters"] = parameters
    if declared.body is not None:
        described["requestBody"] = _request_body(declared)
    if rule.endpoint == "api.openapi":
        described["security"] = []
    return described


def _path_parameters(rule: Rule) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 0, "maximum": limits.MAX_ID},
        }
        for name in rule.arguments
    ]


def _query_parameters(declared: Operation) -> list[dict[str, Any]]:
    if declared.query is None:
        return []
    schema = declared.query.model_json_schema(mode="validation", ref_template=REF)
    required = set(schema.get("required", ()))
    return [
        {"name": name, "in": "query", "required": name in required, "schema": _plain(field)}
        for name, field in schema.get("properties", {}).items()
    ]


def _plain(field: dict[str, Any]) -> dict[str, Any]:
    """Return a parameter's schema without pydantic's title, and "or null" (leaving it out)."""
    options = [option for option in field.get("anyOf", ()) if option != {"type": "null"}]
    if len(options) == 1:
        field = {key: value for key, value in field.items() if key != "anyOf"} | options[0]
        if field.get("default", 0) is None:
            del field["default"]
    return {key: value for key, value in field.items() if key != "title"}


def _request_body(declared: Operation) -> dict[str, Any]:
    assert declared.body is not None
    if declared.multipart:
        schema = declared.body.model_json_schema(mode="validation")
        schema["properties"] = {"file": {"type": "string", "format": "binary"}} | {
            name: _plain(field) for name, field in schema.get("properties", {}).items()
        }
        schema["required"] = ["file", *schema.get("required", ())]
        schema.pop("title", None)
        return {"required": True, "content": {"multipart/form-data": {"schema": schema}}}
    return {
        "required": not declared.body_optional,
        "content": {
            "application/json": {"schema": {"$ref": REF.format(model=declared.body.__name__)}}
        },
    }


def _answers(declared: Operation) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for status, answer in declared.answers.items():
        if answer is None:
            answers[str(status)] = {"description": "Done; no body."}
        elif answer == "application/json":
            document = {"schema": {"type": "object"}}
            answers[str(status)] = {"description": "The document.", "content": {answer: document}}
        elif isinstance(answer, str):
            binary = {"schema": {"type": "string", "format": "binary"}}
            answers[str(status)] = {"description": "The file.", "content": {answer: binary}}
        else:
            summary = (answer.__doc__ or answer.__name__).strip().splitlines()[0]
            answers[str(status)] = _json(summary, {"$ref": REF.format(model=answer.__name__)})
    return answers


def _errors(rule: Rule, declared: Operation) -> dict[str, Any]:
    """Return the refusals an operation may answer, each in the error format."""
    statuses = set(declared.errors)
    if rule.endpoint != "api.openapi":
        statuses |= {401, 403}
    if declared.body is not None or declared.query is not None:
        statuses |= {400, 422}
    if rule.arguments or declared.query is not None or declared.body is not None:
        statuses.add(404)  # an id in the path, query or body that names nothing here
    if declared.multipart:
        statuses.add(413)
    return {str(s): {"$ref": f"#/components/responses/{s}"} for s in sorted(statuses)}


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
