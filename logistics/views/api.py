"""The JSON API (API.md): bearer tokens only, JSON in and out, the same rules as the pages."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import wraps
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, g, jsonify, request
from sqlalchemy.exc import IntegrityError

from ..api_spec import MOVEMENT_POST_KINDS, build_spec
from ..database import retry_when_raced
from ..errors import json_error
from ..extensions import csrf, db
from ..models import MOVEMENT_KINDS, Item, Membership, Site, StockMovement
from ..permissions import can
from ..services import accounts, catalogue, ledger, stock, submissions
from ..services.distributions import EARLIEST_DAY, LATEST_DAY
from ..services.errors import Conflict, ServiceError, ValidationError

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# Scripts send a bearer token, never a cookie, so there is no cross-site request to forge.
csrf.exempt(bp)

F = TypeVar("F", bound=Callable[..., Any])
ApiResponse = tuple[Response, int]
ApiResult = tuple[dict[str, Any], int]

# Ids are 32-bit on PostgreSQL; a larger number cannot name a row (and would overflow SQLite).
MAX_ID = 2**31 - 1
MAX_COUNT = 10_000_000
MAX_DAYS = 3650
MAX_NOTE = 2000
PAGE_SIZE = 100
MAX_PAGE_SIZE = 500
MAX_LINES = 200
PUBLIC_ENDPOINTS = frozenset({"api.openapi"})


class BadInput(ServiceError):
    """The request cannot be read: malformed JSON or a value of the wrong type."""

    status = 400
    code = "bad_request"


# --- who is asking --------------------------------------------------------------------------


@bp.before_request
def _authenticate() -> ApiResponse | None:
    """Accept a bearer token and nothing else; the session cookie is ignored here."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    token = _bearer_token()
    membership = accounts.membership_for_token(token) if token else None
    if membership is None:
        response, status = json_error(401, "Give a valid API token: Authorization: Bearer <token>.")
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
        return response, status
    g.membership = membership
    return None


def _bearer_token() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _membership() -> Membership:
    membership: Membership = g.membership
    return membership


def _org_id() -> int:
    return _membership().organisation_id


def _user_id() -> int:
    return _membership().user_id


def allowed(capability: str) -> Callable[[F], F]:
    """Let the request through only when the token's role has the capability."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            role = _membership().role
            if not can(role, capability):
                return json_error(403, f"Your role ({role}) may not do this.")
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


# --- reading input --------------------------------------------------------------------------


def _json_body() -> dict[str, Any]:
    """Return the request body as a JSON object, or refuse it as malformed."""
    try:
        data = json.loads(request.get_data(cache=True) or b"")
    except (ValueError, RecursionError) as exc:
        raise BadInput("The body is not valid JSON.") from exc
    if not isinstance(data, dict):
        raise BadInput("The body must be a JSON object.")
    return data


def _optional_json_body() -> dict[str, Any]:
    """Return the JSON object of a body that may be left empty."""
    return _json_body() if request.get_data(cache=True).strip() else {}


class Fields:
    """Read typed values from a JSON object; collect every problem, then refuse at once."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.wrong_type: dict[str, str] = {}
        self.invalid: dict[str, str] = {}

    def _value(self, name: str, required: bool) -> Any:
        value = self.data.get(name)
        if value is None and required:
            self.invalid[name] = "required"
        return value

    def whole(
        self, name: str, *, required: bool = False, low: int | None = None, high: int = MAX_COUNT
    ) -> int | None:
        """Read a whole number (JSON integer, not a float, string or boolean)."""
        value = self._value(name, required)
        if value is None:
            return None
        if type(value) is not int:
            self.wrong_type[name] = "a whole number"
            return None
        if (low is not None and value < low) or abs(value) > high:
            self.invalid[name] = f"from {low} to {high}" if low is not None else "too large"
            return None
        return value

    def ident(self, name: str, *, required: bool = True) -> int | None:
        """Read an id; an impossible one becomes 0, which names no row (so: not found)."""
        value = self._value(name, required)
        if value is None:
            return None
        if type(value) is not int:
            self.wrong_type[name] = "an id (whole number)"
            return None
        return _possible_id(value)

    def number(self, name: str, *, high: int, places: int) -> Decimal | None:
        """Read a number of 0 or more, rounded to the places the column keeps."""
        value = self._value(name, False)
        if value is None:
            return None
        if type(value) not in (int, float) or not math.isfinite(value):
            self.wrong_type[name] = "a number"
            return None
        if not 0 <= value <= high:
            self.invalid[name] = f"from 0 to {high}"
            return None
        return Decimal(str(value)).quantize(Decimal(1).scaleb(-places))

    def text(self, name: str, *, required: bool = False, limit: int = 120) -> str:
        """Read a string, trimmed; empty when absent."""
        value = self._value(name, required)
        if value is None:
            return ""
        if not isinstance(value, str):
            self.wrong_type[name] = "a string"
            return ""
        value = value.strip()
        if "\x00" in value:
            self.invalid[name] = "contains a NUL character"
        elif len(value) > limit:
            self.invalid[name] = f"at most {limit} characters"
        elif required and not value:
            self.invalid[name] = "required"
        return value

    def time(self, name: str, *, required: bool = False) -> datetime | None:
        """Read an ISO 8601 time with its offset."""
        value = self._value(name, required)
        if value is None:
            return None
        if not isinstance(value, str):
            self.wrong_type[name] = "a string (ISO 8601 time)"
            return None
        when, problem = _parse_time(value)
        if problem:
            self.invalid[name] = problem
        return when

    def day(self, name: str, *, required: bool = False) -> date | None:
        """Read a calendar date written YYYY-MM-DD."""
        value = self._value(name, required)
        if value is None:
            return None
        if not isinstance(value, str):
            self.wrong_type[name] = "a string (YYYY-MM-DD)"
            return None
        day, problem = _parse_date(value)
        if problem:
            self.invalid[name] = problem
        return day

    def lines(self, name: str, quantity: str) -> list[tuple[int, int]]:
        """Read a list of {item_id, <quantity>} objects as (item_id, quantity) pairs."""
        value = self._value(name, False)
        if value is None:
            return []
        if not isinstance(value, list):
            self.wrong_type[name] = "a list of objects"
            return []
        if len(value) > MAX_LINES:
            self.invalid[name] = f"at most {MAX_LINES} lines"
            return []
        pairs = []
        for index, entry in enumerate(value):
            where = f"{name}[{index}]"
            if not isinstance(entry, dict):
                self.wrong_type[where] = "an object"
                continue
            row = Fields(entry)
            item_id = row.ident("item_id")
            count = row.whole(quantity, required=True, low=0, high=ledger.MAX_QUANTITY)
            self.wrong_type |= {f"{where}.{key}": why for key, why in row.wrong_type.items()}
            self.invalid |= {f"{where}.{key}": why for key, why in row.invalid.items()}
            if item_id is not None and count is not None:
                pairs.append((item_id, count))
        return pairs

    def check(self) -> None:
        """Refuse wrong types (400) first, then values that break a rule (422)."""
        if self.wrong_type:
            wrong = "; ".join(f"{name} must be {why}" for name, why in self.wrong_type.items())
            raise BadInput(f"Wrong type: {wrong}.", self.wrong_type)
        if self.invalid:
            invalid = "; ".join(f"{name}: {why}" for name, why in self.invalid.items())
            raise ValidationError(f"Please check {invalid}.", self.invalid)


def _possible_id(value: int) -> int:
    return value if 1 <= value <= MAX_ID else 0


def _parse_time(value: str) -> tuple[datetime | None, str | None]:
    """Return (aware time, None) or (None, what is wrong)."""
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        return None, "an ISO 8601 time with offset, like 2024-11-02T18:30:00+01:00"
    if when.tzinfo is None:
        return None, "needs a time zone offset, like +01:00 or Z"
    try:
        when.astimezone(UTC)
    except OverflowError:
        return None, "out of range"
    return when, None


def _parse_date(value: str) -> tuple[date | None, str | None]:
    """Return (date, None) or (None, what is wrong)."""
    problem = "a date written YYYY-MM-DD"
    value = value.strip()
    # fromisoformat alone would also take 20241102 and 2024-W44-6.
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        return None, problem
    try:
        return date.fromisoformat(value), None
    except ValueError:
        return None, problem


def _query_date(name: str) -> date | None:
    """Read a date from the query string, 2000-01-01 to 2100-12-31; None when absent."""
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    day, problem = _parse_date(raw)
    if day is not None and not EARLIEST_DAY <= day <= LATEST_DAY:
        problem = f"a date from {EARLIEST_DAY} to {LATEST_DAY}"
    if problem:
        raise ValidationError(f"Please check {name}: {problem}.", {name: problem})
    return day


def _query_whole(name: str) -> int | None:
    """Read a whole number from the query string; None when absent."""
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    if not re.fullmatch(r"[0-9]{1,30}", raw):
        raise BadInput(f"Wrong type: {name} must be a whole number.", {name: "a whole number"})
    return int(raw)


def _query_id(name: str) -> int | None:
    """Read an id from the query string; None when absent."""
    value = _query_whole(name)
    return None if value is None else _possible_id(value)


def _query_time(name: str, *, required: bool = False) -> datetime | None:
    """Read a time from the query string, where an unescaped + arrives as a space."""
    raw = (request.args.get(name) or "").strip()
    if not raw:
        if required:
            raise ValidationError(f"Please check {name}: required.", {name: "required"})
        return None
    when, problem = _parse_time(re.sub(r" ([0-9]{2}:?[0-9]{2})$", r"+\1", raw))
    if problem:
        raise ValidationError(f"Please check {name}: {problem}.", {name: problem})
    return when


def _query_flag(name: str) -> bool:
    return (request.args.get(name) or "").strip().lower() in {"1", "true", "yes"}


def _site_filter() -> int | None:
    site_id = _query_id("site_id")
    return None if site_id is None else ledger.get_site(_org_id(), site_id).id


def _item_filter() -> int | None:
    item_id = _query_id("item_id")
    return None if item_id is None else ledger.get_item(_org_id(), item_id).id


# --- writing once ---------------------------------------------------------------------------


def _once(kind: str, data: dict[str, Any], produce: Callable[[], ApiResult]) -> ApiResponse:
    """Run produce once per request_token, commit, and answer; a replay writes nothing."""
    token = data.get("request_token")
    if token is not None and not isinstance(token, str):
        raise BadInput("Wrong type: request_token must be a string.", {"request_token": "a string"})
    token = (token or "").strip() or None

    def stored() -> dict[str, Any]:
        body, status = produce()
        return {"kind": kind, "status": status, "body": body}

    def unit() -> tuple[dict[str, Any], bool]:
        # Another user's token, or one used for another kind of request, is a Conflict.
        answer = submissions.run_once(_org_id(), token, kind, stored, user_id=_user_id())
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
    return jsonify(body), int(result.get("status", 200))


# --- how things look in JSON ----------------------------------------------------------------


def _time(value: datetime) -> str:
    """Show a stored UTC time in the organisation's time zone, with its offset."""
    return value.astimezone(ZoneInfo(_membership().organisation.timezone)).isoformat()


def _decimal(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def item_json(item: Item) -> dict[str, Any]:
    """Return an item as the API shows it."""
    return {
        "id": item.id,
        "name": item.name,
        "size": item.size,
        "label": item.label,
        "category": item.category,
        "unit": item.unit,
        "min_stock": item.min_stock,
        "cover_target_days": item.cover_target_days,
        "unit_value_eur": _decimal(item.unit_value_eur),
        "per_person_per_day": _decimal(item.per_person_per_day),
        "active": item.active,
    }


def site_json(site: Site, with_details: bool) -> dict[str, Any]:
    """Return a site as the API shows it; details only for roles that may see them."""
    body: dict[str, Any] = {
        "id": site.id,
        "name": site.name,
        "kind": site.kind,
        "area": site.area,
        "active": site.active,
    }
    if with_details:
        body["details"] = site.details
    return body


def movement_json(movement: StockMovement) -> dict[str, Any]:
    """Return a movement as the API shows it."""
    return {
        "id": movement.id,
        "kind": movement.kind,
        "site_id": movement.site_id,
        "item_id": movement.item_id,
        "quantity": movement.quantity,
        "occurred_at": _time(movement.occurred_at),
        "recorded_at": _time(movement.recorded_at),
        "source": movement.source,
        "note": movement.note,
        "transfer_group": movement.transfer_group,
        "reverses_id": movement.reverses_id,
    }


def _levels_json(rows: list[stock.LevelRow]) -> list[dict[str, int]]:
    return [{"site_id": r.site_id, "item_id": r.item_id, "quantity": r.quantity} for r in rows]


def _sees_details() -> bool:
    return can(_membership().role, "view_site_details")


# --- catalogue ------------------------------------------------------------------------------


@bp.get("/items")
@allowed("view_stock")
def list_items() -> Response:
    rows = catalogue.list_items(_org_id(), include_retired=_query_flag("include_retired"))
    return jsonify({"items": [item_json(item) for item in rows]})


@bp.post("/items")
@allowed("manage_catalogue")
def create_item() -> ApiResponse:
    data = _json_body()
    fields = Fields(data)
    values = {
        "name": fields.text("name", required=True),
        "category": fields.text("category", required=True, limit=30),
        "unit": fields.text("unit", limit=30) or "piece",
        "size": fields.text("size", limit=40),
        "min_stock": fields.whole("min_stock", low=0),
        "cover_target_days": fields.whole("cover_target_days", low=0, high=MAX_DAYS),
        "unit_value_eur": fields.number("unit_value_eur", high=99_999_999, places=2),
        "per_person_per_day": fields.number("per_person_per_day", high=9_999_999, places=3),
    }
    fields.check()

    def produce() -> ApiResult:
        return item_json(catalogue.save_item(_org_id(), values)), 201

    return _once("api_item_create", data, produce)


@bp.get("/sites")
@allowed("view_stock")
def list_sites() -> Response:
    rows = catalogue.list_sites(_org_id(), include_retired=_query_flag("include_retired"))
    with_details = _sees_details()
    return jsonify({"sites": [site_json(site, with_details) for site in rows]})


@bp.post("/sites")
@allowed("manage_catalogue")
def create_site() -> ApiResponse:
    data = _json_body()
    fields = Fields(data)
    values = {
        "name": fields.text("name", required=True),
        "kind": fields.text("kind", required=True, limit=30),
        "area": fields.text("area", required=True),
        "details": fields.text("details", limit=MAX_NOTE),
    }
    fields.check()

    def produce() -> ApiResult:
        return site_json(catalogue.save_site(_org_id(), values), _sees_details()), 201

    return _once("api_site_create", data, produce)


# --- stock ----------------------------------------------------------------------------------


@bp.get("/stock")
@allowed("view_stock")
def current_stock() -> Response:
    rows = stock.levels(_org_id(), site_id=_site_filter(), item_id=_item_filter())
    return jsonify({"levels": _levels_json(rows)})


@bp.get("/stock/as-of")
@allowed("view_stock")
def stock_as_of() -> Response:
    at = _query_time("at", required=True)
    assert at is not None
    rows = stock.levels_as_of(_org_id(), at, site_id=_site_filter(), item_id=_item_filter())
    return jsonify({"at": at.isoformat(), "levels": _levels_json(rows)})


# --- the ledger -----------------------------------------------------------------------------


@bp.get("/movements")
@allowed("view_ledger")
def list_movements() -> Response:
    kind = (request.args.get("kind") or "").strip() or None
    if kind is not None and kind not in MOVEMENT_KINDS:
        raise ValidationError(
            f"Please check kind: one of {', '.join(MOVEMENT_KINDS)}.", {"kind": "unknown"}
        )
    limit = _query_whole("limit")
    limit = PAGE_SIZE if limit is None else limit
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValidationError(
            f"Please check limit: 1 to {MAX_PAGE_SIZE}.", {"limit": f"1 to {MAX_PAGE_SIZE}"}
        )
    rows, next_cursor = stock.movements(
        _org_id(),
        kind=kind,
        site_id=_site_filter(),
        item_id=_item_filter(),
        since=_query_time("since"),
        before_id=_query_id("cursor"),
        limit=limit,
    )
    return jsonify(
        {
            "movements": [movement_json(m) for m in rows],
            "next": None if next_cursor is None else str(next_cursor),
        }
    )


@bp.post("/movements")
@allowed("record_movements")
def create_movement() -> ApiResponse:
    data = _json_body()
    fields = Fields(data)
    kind = fields.text("kind", required=True, limit=30)
    if kind and kind not in MOVEMENT_POST_KINDS:
        fields.invalid["kind"] = f"one of {', '.join(MOVEMENT_POST_KINDS)}"
    common = {
        "site_id": fields.ident("site_id"),
        "item_id": fields.ident("item_id"),
        "occurred_at": fields.time("occurred_at"),
    }
    note = fields.text("note", limit=MAX_NOTE)
    if kind in ("loss", "adjustment") and fields.data.get("source") is not None:
        fields.invalid["source"] = "only for a donation or purchase"
    if kind == "adjustment":
        action = _adjustment(fields, common, note)
    elif kind == "loss":
        action = _loss(fields, common, note)
    else:
        action = _receipt(fields, common, note, kind)
    fields.check()
    return _once("api_movement", data, action)


def _receipt(
    fields: Fields, common: dict[str, Any], note: str, kind: str
) -> Callable[[], ApiResult]:
    quantity = fields.whole("quantity", required=True)
    source = fields.text("source", limit=200)

    def produce() -> ApiResult:
        movement = ledger.receive(
            _org_id(), _user_id(), quantity=quantity, kind=kind, source=source, note=note, **common
        )
        return movement_json(movement), 201

    return produce


def _loss(fields: Fields, common: dict[str, Any], note: str) -> Callable[[], ApiResult]:
    quantity = fields.whole("quantity", required=True)
    reason = _reason(fields, note)

    def produce() -> ApiResult:
        movement = ledger.record_loss(
            _org_id(), _user_id(), quantity=quantity, reason=reason, **common
        )
        return movement_json(movement), 201

    return produce


def _adjustment(fields: Fields, common: dict[str, Any], note: str) -> Callable[[], ApiResult]:
    delta = fields.whole("quantity")
    counted = fields.whole("counted", low=0)
    reason = _reason(fields, note)
    given = [name for name in ("quantity", "counted") if fields.data.get(name) is not None]
    if len(given) != 1:
        fields.invalid["counted"] = "give counted or a signed quantity, not both"

    def produce() -> ApiResult:
        movement = ledger.adjust(
            _org_id(), _user_id(), reason=reason, delta=delta, counted=counted, **common
        )
        if movement is None:
            return {"movement": None, "message": "The count matches the records."}, 200
        return movement_json(movement), 201

    return produce


def _reason(fields: Fields, note: str) -> str:
    """Return the reason a loss or correction needs: reason, note, or both joined."""
    reason = fields.text("reason", limit=MAX_NOTE)
    joined = " — ".join(part for part in (reason, note) if part)
    if not joined and "reason" not in fields.wrong_type and "note" not in fields.wrong_type:
        fields.invalid["reason"] = "required (or a note)"
    return joined


@bp.post("/transfers")
@allowed("record_movements")
def create_transfer() -> ApiResponse:
    data = _json_body()
    fields = Fields(data)
    values = {
        "from_site_id": fields.ident("from_site_id"),
        "to_site_id": fields.ident("to_site_id"),
        "item_id": fields.ident("item_id"),
        "quantity": fields.whole("quantity", required=True),
        "note": fields.text("note", limit=MAX_NOTE),
        "occurred_at": fields.time("occurred_at"),
    }
    fields.check()

    def produce() -> ApiResult:
        # ledger.transfer checks every id (404) before the stock check (409).
        out, into = ledger.transfer(_org_id(), _user_id(), **values)
        body = {
            "transfer_group": out.transfer_group,
            "movements": [movement_json(out), movement_json(into)],
        }
        return body, 201

    return _once("api_transfer", data, produce)


@bp.post("/movements/<int:movement_id>/reverse")
@allowed("reverse_movements")
def reverse_movement(movement_id: int) -> ApiResponse:
    data = _json_body()
    fields = Fields(data)
    reason = fields.text("reason", required=True, limit=MAX_NOTE)
    fields.check()

    def produce() -> ApiResult:
        reversals = ledger.reverse(_org_id(), _user_id(), _possible_id(movement_id), reason)
        return {"movements": [movement_json(m) for m in reversals]}, 201

    return _once("api_reverse", data, produce)


# --- the description ------------------------------------------------------------------------


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(build_spec())


# Each feature's endpoints live in their own module and add their routes to bp.
from . import api_distributions, api_incidents, api_kitchen, api_needs, api_reports  # noqa: E402, F401
