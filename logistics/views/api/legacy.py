"""The hand-made input parser of the endpoints not yet declared with `operation` (going away).

Modules still on it read input with Fields and answer with once_response; each moves to
common.operation in turn, and this module goes with the last of them.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import wraps
from typing import Any, TypeVar

from flask import Response, jsonify, request
from sqlalchemy.exc import IntegrityError

from ...auth import mark_required
from ...database import retry_when_raced
from ...errors import json_error
from ...extensions import db
from ...limits import EARLIEST_DAY, LATEST_DAY, MAX_ID, MAX_LINES, MAX_NOTE, MAX_QUANTITY
from ...permissions import can
from ...services import ledger, submissions
from ...services.errors import Conflict, ValidationError
from .common import BadInput, current_membership, current_org_id, current_user_id

F = TypeVar("F", bound=Callable[..., Any])
ApiResponse = tuple[Response, int]
ApiResult = tuple[dict[str, Any], int]
MAX_COUNT = 10_000_000
MAX_DAYS = 3650
__all__ = ["MAX_NOTE", "MAX_LINES"]


def allowed(capability: str) -> Callable[[F], F]:
    """Let the request through only when the token's role has the capability."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            role = current_membership().role
            if not can(role, capability):
                return json_error(403, f"Your role ({role}) may not do this.")
            return view(*args, **kwargs)

        return mark_required(wrapped, capability)  # type: ignore[return-value]

    return decorator


# --- reading input --------------------------------------------------------------------------


def json_body() -> dict[str, Any]:
    """Return the request body as a JSON object, or refuse it as malformed."""
    try:
        data = json.loads(request.get_data(cache=True) or b"")
    except (ValueError, RecursionError) as exc:
        raise BadInput("The body is not valid JSON.") from exc
    if not isinstance(data, dict):
        raise BadInput("The body must be a JSON object.")
    return data


def optional_json_body() -> dict[str, Any]:
    """Return the JSON object of a body that may be left empty."""
    return json_body() if request.get_data(cache=True).strip() else {}


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
        return possible_id(value)

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
        when, problem = parse_time(value)
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
        day, problem = parse_date(value)
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
            count = row.whole(quantity, required=True, low=0, high=MAX_QUANTITY)
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


def possible_id(value: int) -> int:
    return value if 1 <= value <= MAX_ID else 0


def parse_time(value: str) -> tuple[datetime | None, str | None]:
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


def parse_date(value: str) -> tuple[date | None, str | None]:
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


def query_date(name: str) -> date | None:
    """Read a date from the query string, 2000-01-01 to 2100-12-31; None when absent."""
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    day, problem = parse_date(raw)
    if day is not None and not EARLIEST_DAY <= day <= LATEST_DAY:
        problem = f"a date from {EARLIEST_DAY} to {LATEST_DAY}"
    if problem:
        raise ValidationError(f"Please check {name}: {problem}.", {name: problem})
    return day


def query_whole(name: str) -> int | None:
    """Read a whole number from the query string; None when absent."""
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    if not re.fullmatch(r"[0-9]{1,30}", raw):
        raise BadInput(f"Wrong type: {name} must be a whole number.", {name: "a whole number"})
    return int(raw)


def query_id(name: str) -> int | None:
    """Read an id from the query string; None when absent."""
    value = query_whole(name)
    return None if value is None else possible_id(value)


def query_time(name: str, *, required: bool = False) -> datetime | None:
    """Read a time from the query string, where an unescaped + arrives as a space."""
    raw = (request.args.get(name) or "").strip()
    if not raw:
        if required:
            raise ValidationError(f"Please check {name}: required.", {name: "required"})
        return None
    when, problem = parse_time(re.sub(r" ([0-9]{2}:?[0-9]{2})$", r"+\1", raw))
    if problem:
        raise ValidationError(f"Please check {name}: {problem}.", {name: problem})
    return when


def query_flag(name: str) -> bool:
    return (request.args.get(name) or "").strip().lower() in {"1", "true", "yes"}


def site_filter() -> int | None:
    site_id = query_id("site_id")
    return None if site_id is None else ledger.get_site(current_org_id(), site_id).id


def item_filter() -> int | None:
    item_id = query_id("item_id")
    return None if item_id is None else ledger.get_item(current_org_id(), item_id).id


# --- writing once ---------------------------------------------------------------------------


def once_response(kind: str, data: dict[str, Any], produce: Callable[[], ApiResult]) -> ApiResponse:
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
    return jsonify(body), int(result.get("status", 200))
