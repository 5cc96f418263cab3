"""Input no page or endpoint can store: ids past the database's integers, NUL characters."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from flask import Flask, Response, request
from flask_babel import gettext as _
from werkzeug.routing import IntegerConverter, Map

from . import limits

# Ids are 32-bit on PostgreSQL (64-bit on SQLite); a larger number names no row on either.
MAX_ID = limits.MAX_ID
NUL = "\x00"


def digits_up_to(limit: int) -> str:
    """Return a regex matching exactly the numbers 0 to limit written without leading zeros."""
    top = str(limit)
    options = ["0"]
    if len(top) > 1:
        options.append(rf"[1-9]\d{{0,{len(top) - 2}}}")  # every shorter number
    for place, digit in enumerate(top):
        # As long as limit up to this place, then a smaller digit, then any digits.
        low = 1 if place == 0 else 0
        if int(digit) > low:
            rest = len(top) - place - 1
            tail = rf"\d{{{rest}}}" if rest else ""
            options.append(f"{top[:place]}[{low}-{int(digit) - 1}]{tail}")
    options.append(top)
    return "(?:" + "|".join(options) + ")"


class IdConverter(IntegerConverter):
    """`<int:…>` matching only ids the database can hold: a larger one is a 404 whatever the method.

    The bound is in the regex, not only in to_python: a rule whose path matches but whose
    conversion fails would make Werkzeug answer 405 when the same path has other methods.
    """

    regex = digits_up_to(MAX_ID)

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = MAX_ID,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits, min, max, signed)


def init_app(app: Flask) -> None:
    """Bound every `<int:…>` rule (call before the blueprints) and refuse NUL characters."""
    app.url_map.converters["int"] = IdConverter

    @app.before_request
    def _refuse_nul() -> Any:
        # PostgreSQL cannot store NUL in text (psycopg refuses it), so nothing may carry one.
        where = _first_nul()
        if where is None:
            return None
        return _refusal(where)


def _first_nul() -> str | None:
    """Return the name of the first place of the request holding a NUL, or None."""
    if NUL in request.path:
        return "path"
    for name, value in _pairs():
        # A multipart part may come without a name (None).
        if NUL in (name or "") or NUL in value:
            return (name or "").replace(NUL, "") or "?"
    return None


def _pairs() -> Iterator[tuple[str | None, str]]:
    """Yield every (name, text) the request carries: query, form, file names, JSON strings."""
    yield from request.args.items(multi=True)
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        yield from request.form.items(multi=True)
        for name, upload in request.files.items(multi=True):
            yield name, upload.filename or ""
    elif request.is_json or request.path.startswith("/api/"):
        yield from _json_strings(_json_or_none(), "")


def _json_or_none() -> Any:
    """Return the parsed JSON body; None when it is not JSON (the endpoint says so itself)."""
    body = request.get_data(cache=True)
    if not body.strip():
        return None
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


def _json_strings(value: Any, where: str) -> Iterator[tuple[str, str]]:
    """Yield (path, text) for every key and string in a JSON value, paths as the API names them."""
    # A loop, not recursion: JSON nested a thousand deep must not exhaust the stack here.
    stack = [(value, where)]
    while stack:
        value, where = stack.pop()
        if isinstance(value, str):
            yield where or "body", value
        elif isinstance(value, dict):
            for key, inner in value.items():
                path = f"{where}.{key}" if where else key
                yield path, key
                stack.append((inner, path))
        elif isinstance(value, list):
            stack.extend((inner, f"{where}[{index}]") for index, inner in enumerate(value))


def _refusal(where: str) -> Response | tuple[Any, int]:
    """Answer 400: the API in its error format naming the field, pages with a plain page."""
    from .errors import is_api_request, json_error, page

    if is_api_request():
        return json_error(
            400,
            f"Wrong value: {where} contains a NUL character (\\u0000), which cannot be stored.",
            fields={where: "contains a NUL character"},
        )
    return page(
        400,
        _(
            "Something you sent contains an invisible NUL character, which cannot be saved. "
            "Remove it (retype the text) and try again."
        ),
    )
