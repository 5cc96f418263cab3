"""What every endpoint of the JSON API shares: the token, the declaration, the input types.

An endpoint declares its input (body and/or query), its answers and the capability it needs with
`operation`; the declaration validates at the boundary (400 for malformed JSON or a wrong type,
422 for a broken rule, fields named like `lines[0].item_id`) and is what openapi.json describes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import wraps
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, current_app, g, jsonify, request
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    WithJsonSchema,
)
from pydantic import ValidationError as PydanticError
from pydantic_core import PydanticCustomError
from sqlalchemy.exc import IntegrityError

from ... import limits
from ...auth import mark_required
from ...database import retry_when_raced
from ...errors import json_error
from ...extensions import csrf, db
from ...models import Membership
from ...permissions import can
from ...services import accounts, submissions
from ...services.errors import Conflict, ServiceError, ValidationError

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Scripts send a bearer token, never a cookie, so there is no cross-site request to forge.
csrf.exempt(bp)

V = TypeVar("V", bound=Callable[..., Any])
PUBLIC_ENDPOINTS = frozenset({"api.openapi"})


class BadInput(ServiceError):
    """The request cannot be read: malformed JSON or a value of the wrong type."""

    status = 400
    code = "bad_request"


# --- who is asking --------------------------------------------------------------------------


@bp.before_request
def _authenticate() -> tuple[Response, int] | None:
    """Accept a bearer token and nothing else; the session cookie is ignored here."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    token = token.strip() if scheme.lower() == "bearer" else ""
    membership = accounts.membership_for_token(token) if token else None
    if membership is None:
        response, status = json_error(401, "Give a valid API token: Authorization: Bearer <token>.")
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
        return response, status
    g.membership = membership
    return None


def current_membership() -> Membership:
    """Return the membership the request's token belongs to."""
    membership: Membership = g.membership
    return membership


def current_org_id() -> int:
    """Return the organisation of the request's token."""
    return current_membership().organisation_id


def current_user_id() -> int:
    """Return the user of the request's token."""
    return current_membership().user_id


def may(capability: str) -> bool:
    """Tell whether the token's role has a capability."""
    return can(current_membership().role, capability)


# --- input types ----------------------------------------------------------------------------


def _possible_id(value: int) -> int:
    # An impossible id becomes 0, which names no row: the service answers 404.
    return value if 1 <= value <= limits.MAX_ID else 0


def _aware(value: datetime) -> datetime:
    try:
        value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("out of range") from exc
    return value


def _json_number(value: Any) -> Any:
    # JSON numbers only: "3.5" and true are the wrong type, as they were before.
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise PydanticCustomError("float_type", "Input should be a number")
    if isinstance(value, float) and value in (float("inf"), float("-inf")) or value != value:
        raise PydanticCustomError("finite_number", "Input should be a finite number")
    return Decimal(str(value))


def _rounded(places: int) -> Callable[[Decimal], Decimal]:
    return lambda value: value.quantize(Decimal(1).scaleb(-places))


def _without_offset_loss(value: Any) -> Any:
    # In a query string an unescaped + arrives as a space: 18:30:00 01:00 means +01:00.
    return (
        re.sub(r" ([0-9]{2}:?[0-9]{2})$", r"+\1", value.strip())
        if isinstance(value, str)
        else value
    )


def _written_day(value: Any) -> Any:
    # A date written YYYY-MM-DD; a looser parser would also take 20241102 or a timestamp.
    if isinstance(value, str) and not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value.strip()):
        raise PydanticCustomError("date_parsing", "a date written YYYY-MM-DD")
    return value


def _in_calendar(value: date) -> date:
    if not limits.EARLIEST_DAY <= value <= limits.LATEST_DAY:
        raise ValueError(f"a date from {limits.EARLIEST_DAY} to {limits.LATEST_DAY}")
    return value


def _flag(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes"}
    return value


def _blank(value: Any) -> Any:
    return "" if value is None else value


def text(limit: int, *, required: bool = False) -> Any:
    """Return the type of a trimmed string of at most limit characters (non-empty if required).

    An optional one given as null is read as empty, as when it is left out.
    """
    if required:
        return Annotated[str, Field(min_length=1, max_length=limit)]
    return Annotated[str, BeforeValidator(_blank), Field(max_length=limit)]


def whole(low: int, high: int) -> Any:
    """Return the type of a whole number from low to high."""
    return Annotated[int, Field(ge=low, le=high)]


def number(high: int, places: int) -> Any:
    """Return the type of a JSON number from 0 to high, rounded to the places the column keeps."""
    return Annotated[
        Decimal,
        BeforeValidator(_json_number),
        Field(ge=0, le=high),
        AfterValidator(_rounded(places)),
        WithJsonSchema({"type": "number", "minimum": 0, "maximum": high}),
    ]


# An id; one no row can have is read as 0, so it is not found (404) rather than refused.
Id = Annotated[
    int,
    AfterValidator(_possible_id),
    WithJsonSchema({"type": "integer", "minimum": 1, "maximum": limits.MAX_ID}),
]
Time = Annotated[
    AwareDatetime,
    AfterValidator(_aware),
    WithJsonSchema(
        {"type": "string", "format": "date-time", "description": "ISO 8601 with offset"}
    ),
]
Day = Annotated[date, WithJsonSchema({"type": "string", "format": "date"})]
RequestToken = Annotated[
    str,
    Field(
        max_length=limits.MAX_REQUEST_TOKEN,
        description="Client-chosen; a replay answers the first result with replayed: true.",
    ),
]
QueryTime = Annotated[Time, BeforeValidator(_without_offset_loss)]
QueryDay = Annotated[
    date,
    BeforeValidator(_written_day),
    AfterValidator(_in_calendar),
    WithJsonSchema({"type": "string", "format": "date"}),
]
Flag = Annotated[bool, BeforeValidator(_flag)]
# A date in a body, from 2000-01-01 to 2100-12-31.
CalendarDay = Annotated[Day, AfterValidator(_in_calendar)]


def lines_of(model: type[BaseModel]) -> Any:
    """Return the type of a list of at most MAX_LINES model objects (null is an empty list)."""
    return Annotated[list[model], BeforeValidator(_no_lines), Field(max_length=limits.MAX_LINES)]


def _no_lines(value: Any) -> Any:
    return [] if value is None else value


class Body(BaseModel):
    """A JSON request body: exact JSON types, trimmed strings; null is the same as left out."""

    model_config = ConfigDict(strict=True, str_strip_whitespace=True, extra="ignore")


class Once(Body):
    """A body that may carry a request token, so a retry records once."""

    request_token: RequestToken | None = None


class Query(BaseModel):
    """Query-string parameters: text read as numbers, dates and times; empty ones left out."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore", validate_by_name=True)


class Out(BaseModel):
    """An answer: read from the model's attributes, times in the organisation's time zone."""

    model_config = ConfigDict(from_attributes=True, serialize_by_alias=True, validate_by_name=True)


def local_time(value: datetime) -> str:
    """Show a stored UTC time in the organisation's time zone, with its offset."""
    return value.astimezone(ZoneInfo(current_membership().organisation.timezone)).isoformat()


# A stored time shown in the organisation's time zone, with its offset.
LocalTime = Annotated[
    datetime,
    PlainSerializer(local_time, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization"),
]


class ErrorDetail(BaseModel):
    """What went wrong, and where."""

    code: str
    message: str
    fields: dict[str, str]


class Error(BaseModel):
    """Every refusal of the API."""

    error: ErrorDetail


# --- refusing input -------------------------------------------------------------------------

WRONG_TYPE = {
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "string_type": "a string",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "dict_type": "an object",
    "float_type": "a number",
    "float_parsing": "a number",
    "decimal_type": "a number",
    "datetime_type": "a string (ISO 8601 time)",
    "date_type": "a string (YYYY-MM-DD)",
}
TIME_PROBLEM = "an ISO 8601 time with offset, like 2024-11-02T18:30:00+01:00"


def _path(loc: tuple[Any, ...]) -> str:
    """Name a place in the input the way the API documents it: lines[0].item_id."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "body"


def _problem(error: Mapping[str, Any]) -> tuple[bool, str]:
    """Return (whether it is a wrong type, what is wrong) for one pydantic error."""
    kind, ctx, given = error["type"], error.get("ctx") or {}, error.get("input")
    if kind == "missing" or given is None:
        return False, "required"
    if kind == "literal_error" and not isinstance(given, str):
        return True, "a string"
    if kind in WRONG_TYPE:
        return True, WRONG_TYPE[kind]
    notes = {
        "string_too_short": "required",
        "string_too_long": f"at most {ctx.get('max_length')} characters",
        "too_long": f"at most {ctx.get('max_length')}",
        "too_short": f"at least {ctx.get('min_length')}",
        "greater_than_equal": f"at least {ctx.get('ge')}",
        "greater_than": f"more than {ctx.get('gt')}",
        "less_than_equal": f"at most {ctx.get('le')}",
        "literal_error": f"one of {ctx.get('expected')}",
        "timezone_aware": "needs a time zone offset, like +01:00 or Z",
        "datetime_parsing": TIME_PROBLEM,
        "datetime_from_date_parsing": TIME_PROBLEM,
        "date_parsing": "a date written YYYY-MM-DD",
        "date_from_datetime_parsing": "a date written YYYY-MM-DD",
        "date_from_datetime_inexact": "a date written YYYY-MM-DD",
        "finite_number": "a finite number",
        "value_error": str(ctx.get("error", error["msg"])),
    }
    return False, notes.get(kind, error["msg"])


def refuse(errors: list[Any]) -> ServiceError:
    """Turn pydantic's errors into today's refusal: wrong types (400) first, else broken rules."""
    wrong: dict[str, str] = {}
    invalid: dict[str, str] = {}
    for error in errors:
        is_type, note = _problem(error)
        (wrong if is_type else invalid).setdefault(_path(error["loc"]), note)
    if wrong:
        listed = "; ".join(f"{name} must be {why}" for name, why in wrong.items())
        return BadInput(f"Wrong type: {listed}.", wrong)
    listed = "; ".join(f"{name}: {why}" for name, why in invalid.items())
    return ValidationError(f"Please check {listed}.", invalid)


def read_body(model: type[BaseModel], *, optional: bool = False) -> Any:
    """Read the request body as model; refuse what cannot be read or breaks a rule."""
    raw = request.get_data(cache=True)
    if optional and not raw.strip():
        raw = b"{}"
    if not raw.strip():
        raise BadInput("The body is not valid JSON.")
    try:
        return model.model_validate_json(raw)
    except PydanticError as exc:
        errors = exc.errors(include_url=False)
        if any(error["type"] == "json_invalid" for error in errors):
            raise BadInput("The body is not valid JSON.") from exc
        if any(error["type"] == "model_type" and not error["loc"] for error in errors):
            raise BadInput("The body must be a JSON object.") from exc
        raise refuse(errors) from exc


def _read_fields(model: type[BaseModel], fields: Mapping[str, str]) -> Any:
    """Read text fields as model; an empty one counts as left out."""
    given = {name: value for name, value in fields.items() if value.strip()}
    try:
        return model.model_validate(given)
    except PydanticError as exc:
        raise refuse(exc.errors(include_url=False)) from exc


def read_query(model: type[BaseModel]) -> Any:
    """Read the query string as model; an empty parameter counts as left out."""
    return _read_fields(model, request.args)


def read_form(model: type[BaseModel]) -> Any:
    """Read a multipart form's text fields as model (the file itself is the view's)."""
    return _read_fields(model, request.form)


def check_period(first: date, last: date, max_days: int) -> None:
    """Refuse a period (from, to) that ends before it starts or is longer than max_days."""
    if last < first:
        raise ValidationError("Please check to: it is before from.", {"to": "before from"})
    if (last - first).days + 1 > max_days:
        raise ValidationError(
            f"Please check to: the period can be at most {max_days} days.",
            {"to": f"at most {max_days} days"},
        )


# --- declaring an operation -----------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    """What an endpoint takes and answers; openapi.json is made from these."""

    summary: str
    capability: str | None
    answers: dict[int, type[BaseModel] | str | None]
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    body_optional: bool = False
    multipart: bool = False
    errors: tuple[int, ...] = ()
    first: Callable[..., Any] | None = field(default=None, compare=False)


def operation(
    capability: str | None,
    answers: Mapping[int, type[BaseModel] | str | None],
    *,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    body_optional: bool = False,
    multipart: bool = False,
    errors: tuple[int, ...] = (),
    first: Callable[..., Any] | None = None,
) -> Callable[[V], V]:
    """Declare an endpoint: check the role, read and validate its input, send its answer.

    answers maps each success status to its output model (a media type string for a file,
    None for no body). first, when given, runs before the body is read and gets the path's
    values (e.g. fetch the row the path names: another organisation's is a 404 whatever the
    body says); its result reaches the view as `found`. The view gets `body` and/or `query`.
    """

    def decorator(view: V) -> V:
        declared = Operation(
            summary=(view.__doc__ or view.__name__).strip().splitlines()[0],
            capability=capability,
            answers=dict(answers),
            body=body,
            query=query,
            body_optional=body_optional,
            multipart=multipart,
            errors=errors,
            first=first,
        )

        @wraps(view)
        def wrapped(**path: Any) -> Any:
            if capability is not None and not may(capability):
                role = current_membership().role
                return json_error(403, f"Your role ({role}) may not do this.")
            values: dict[str, Any] = dict(path)
            if first is not None:
                values["found"] = first(**path)
            if query is not None:
                values["query"] = read_query(query)
            if body is not None:
                values["body"] = (
                    read_form(body) if multipart else read_body(body, optional=body_optional)
                )
            return _answer(view(**values), declared)

        wrapped.api_operation = declared  # type: ignore[attr-defined]
        if capability is not None:
            mark_required(wrapped, capability)
        return wrapped  # type: ignore[return-value]

    return decorator


def _answer(result: Any, declared: Operation) -> Any:
    """Turn what a view returns (a model, a dict, or a response) into a response."""
    status = next(iter(declared.answers))
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], int):
        result, status = result
    if isinstance(result, BaseModel):
        # pydantic writes the JSON itself: no dict of every row to build and walk again.
        body = result.model_dump_json()
        return current_app.response_class(body, mimetype="application/json"), status
    if isinstance(result, dict | list):
        return jsonify(result), status
    if isinstance(result, Response):
        return result, status if result.status_code == 200 else result.status_code
    return result, status


def dump(model: BaseModel, **options: Any) -> dict[str, Any]:
    """Return a model as the JSON object the API sends."""
    return model.model_dump(mode="json", **options)


# --- writing once ---------------------------------------------------------------------------


def once(
    kind: str, token: str | None, produce: Callable[[], tuple[BaseModel | dict[str, Any], int]]
) -> tuple[dict[str, Any], int]:
    """Run produce once per request token and commit; a replay writes nothing and says so."""
    token = (token or "").strip() or None

    def stored() -> dict[str, Any]:
        body, status = produce()
        return {
            "kind": kind,
            "status": status,
            "body": dump(body) if isinstance(body, BaseModel) else body,
        }

    def unit() -> tuple[dict[str, Any], bool]:
        # Another user's token, or one used for another kind of request, is a Conflict.
        answer = submissions.run_once(
            current_org_id(), token, kind, stored, user_id=current_user_id()
        )
        db.session.commit()
        return answer

    try:
        # A deadlock or serialisation failure on PostgreSQL runs the whole unit again.
        result, replayed = retry_when_raced(unit)
    except IntegrityError as exc:  # a concurrent request got in first
        db.session.rollback()
        raise Conflict("That clashes with something recorded at the same moment.") from exc
    body = dict(result.get("body") or {})
    if replayed:
        body["replayed"] = True
    return body, int(result.get("status", 200))
