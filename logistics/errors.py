"""Error pages and JSON errors: a clear message, never a traceback, nothing half-written."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .extensions import db
from .services.errors import ServiceError

CODE_BY_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "invalid",
    429: "too_many_requests",
    500: "server_error",
}


def is_api_request() -> bool:
    """Tell whether this request is to the JSON API."""
    return request.path.startswith("/api/")


def json_error(
    status: int, message: str, code: str | None = None, fields: dict[str, str] | None = None
) -> tuple[Response, int]:
    """Build the API's error body (API.md: error.code, error.message, error.fields)."""
    body: dict[str, Any] = {
        "error": {
            "code": code or CODE_BY_STATUS.get(status, "error"),
            "message": message,
            "fields": fields or {},
        }
    }
    return jsonify(body), status


def init_app(app: Flask) -> None:
    """Register the handlers."""

    @app.errorhandler(ServiceError)
    def _service_error(error: ServiceError) -> Any:
        db.session.rollback()
        if is_api_request():
            return json_error(error.status, error.message, error.code, error.fields)
        return page(error.status, error.message)

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError) -> Any:
        db.session.rollback()
        return page(400, _("The form had expired. Go back, reload the page and try again."))

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Any:
        db.session.rollback()
        status = error.code or 500
        if is_api_request():
            answer: Any = json_error(status, _api_message(status, error))
        else:
            answer = page(status, _page_message(status))
        return _with_headers(answer, error)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Any:
        db.session.rollback()
        app.logger.exception("Unexpected error on %s %s", request.method, request.path)
        if is_api_request():
            return json_error(500, "Something went wrong on our side; nothing was saved.")
        return page(500, _("Something went wrong on our side; nothing was saved."))


def _with_headers(answer: tuple[Any, int], error: HTTPException) -> Response:
    """Keep the headers the exception carries (a 405's Allow, a 401's WWW-Authenticate)."""
    response = current_app.make_response(answer)
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _api_message(status: int, error: HTTPException) -> str:
    if status == 404:
        return "Not found."
    if status == 403:
        return "Your role may not do this."
    if status == 401:
        return "Give a valid API token: Authorization: Bearer <token>."
    if status == 413:
        limit_mb = current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
        return f"The request is too large (the limit is about {limit_mb} MB)."
    return error.description or "Request refused."


def _page_message(status: int) -> str:
    messages = {
        403: _("Your role may not open this page."),
        404: _("There is nothing here."),
        405: _("That is not how this page is used."),
        413: _(
            "What was sent is too large: at most %(mb)s MB per file and %(all)s MB in all. "
            "Send fewer files at once.",
            mb=current_app.config["EVIDENCE_MAX_BYTES"] // (1024 * 1024),
            all=current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024),
        ),
    }
    return messages.get(status, _("The request could not be handled."))


def page(status: int, message: str) -> tuple[str, int]:
    """Render the error page with a status and a plain message."""
    return render_template("error.html", status=status, message=message), status
