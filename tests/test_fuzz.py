"""No input makes a page or the API answer 500: every URL rule, every form, the API's schema.

Nothing here lists pages or forms by hand: rules come from app.url_map, forms from the pages
themselves (crawled from every rule without an id), so a page or form added later is covered.
"""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
import schemathesis
from conftest import World, api_token
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.routing import IntegerConverter, Rule

from logistics import limits
from logistics.extensions import db
from logistics.forms.catalogue import ItemForm
from logistics.services import (
    alerts,
    catalogue,
    distributions,
    evidence,
    incidents,
    kitchen,
    ledger,
    reports,
    submissions,
)
from logistics.services.errors import ValidationError
from logistics.views.api.openapi import document
from logistics.views.incidents import evidence_store

# Past PostgreSQL's INTEGER, past SQLite's (and Python's C) 64-bit integers, and far past both.
BAD_IDS = (2**31, 2**63, 10**29)
LONG_NUMBER = "9" * 30
NUL = "\x00"
# Pages that end the session or only send files; crawling them teaches nothing about forms.
SKIPPED_PATHS = ("/logout", "/static/")
OTHER_ACTION_TOKEN = "used-by-another-action"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


# --- one of every record, so every page has something to show -------------------------------


@pytest.fixture
def stocked(app: Flask, world: World) -> World:
    """Fill the world with a movement, distributions, an incident with evidence, a recipe…"""
    org, admin = world.org_id, world.users["admin"]
    main, point, blanket = world.sites["main"], world.sites["point"], world.items["blanket"]
    ledger.receive(org, admin, site_id=main, item_id=blanket, quantity=50)
    meal = catalogue.save_item(org, {"name": "Hot meal", "category": "food", "unit": "meal"})
    lentils = catalogue.save_item(org, {"name": "Lentils", "category": "ingredient", "unit": "kg"})
    world.items |= {"meal": meal.id, "lentils": lentils.id}
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    distributions.create_one_off(
        org, site_id=point, source_site_id=main, starts_at=tomorrow, lines=[(blanket, 5)]
    )
    distributions.create_series(
        org,
        site_id=point,
        source_site_id=world.sites["kitchen"],
        weekdays=range(7),
        local_time=datetime.now().time().replace(hour=18, minute=0, second=0, microsecond=0),
        starts_on=date.today(),
        ends_on=None,
        lines=[(meal.id, 100)],
    )
    incident = incidents.record_incident(
        org,
        admin,
        incidents.IncidentInput(
            occurred_at=datetime.now(UTC) - timedelta(hours=2), kind="eviction", area="Calais"
        ),
    )
    evidence.add_evidence(
        evidence_store(), org, admin, incident.id, file_name="tent.jpg", stream=io.BytesIO(JPEG)
    )
    kitchen.save_recipe(org, name="Dal", dietary_notes="", lines=[(lentils.id, Decimal(10))])
    today = date.today()
    reports_dir = Path(app.config["REPORTS_DIR"])
    reports.generate(org, admin, reports.build_request("shortfall", today), reports_dir)
    reports.create_share_link(org, admin, label="Donors")
    alerts.save_channel(org, kind="email", target="alerts@calais-aid.example.org")
    # A token another action already used, to send with every form.
    submissions.run_once(org, OTHER_ACTION_TOKEN, "elsewhere", lambda: {}, user_id=admin)
    db.session.commit()
    return world


# --- every URL rule with an id -----------------------------------------------------------------


def _id_rules(app: Flask) -> Iterator[Rule]:
    for rule in app.url_map.iter_rules():
        if any(isinstance(c, IntegerConverter) for c in rule._converters.values()):
            yield rule


def _with_ids(rule: Rule, value: int) -> str:
    """Build the rule's path with value for every integer argument, "x" for any other."""
    path = rule.rule
    for name, converter in rule._converters.items():
        text = str(value) if isinstance(converter, IntegerConverter) else "x"
        path = re.sub(rf"<[^>:]*:?{name}>", text, path)
    return path


def test_every_id_past_the_database_range_is_a_404(app: Flask, stocked: World, client_as) -> None:
    page = client_as("admin")
    api = app.test_client()
    api_headers = {"Authorization": f"Bearer {api_token(stocked, 'admin')}"}
    rules = list(_id_rules(app))
    assert len(rules) > 30  # the walk found the rules, not nothing
    wrong = []
    for rule in rules:
        for value in BAD_IDS:
            path = _with_ids(rule, value)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                if path.startswith("/api/"):
                    response = api.open(path, method=method, headers=api_headers, json={})
                else:
                    response = page.open(path, method=method, data={})
                if response.status_code != 404:
                    wrong.append(f"{method} {path}: {response.status_code}")
    assert wrong == []


# --- every form, crawled from the pages ---------------------------------------------------------


@dataclass
class Input:
    name: str
    kind: str  # text, number, hidden, select, textarea, checkbox, radio, file, date…
    value: str = ""
    options: list[str] = field(default_factory=list)
    datalist: str = ""
    required: bool = False


@dataclass
class Form:
    page: str
    action: str
    method: str
    multipart: bool
    inputs: list[Input] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str, tuple[str, ...]]:
        """Tell forms apart by where they go and what they hold, not by their ids."""
        return (_shape(self.action), self.method, tuple(sorted(i.name for i in self.inputs)))


def _shape(path: str) -> str:
    return re.sub(r"[0-9]+", "N", urlsplit(path).path)


class _PageParser(HTMLParser):
    """Collect the forms, links and datalists of a page."""

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[Form] = []
        self.links: list[str] = []
        self.datalists: dict[str, str] = {}
        self._form: Form | None = None
        self._select: Input | None = None
        self._textarea: Input | None = None
        self._datalist: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href", "").startswith("/"):
            self.links.append(a["href"])
        elif tag == "form":
            self._form = Form(
                page=self.page,
                action=a.get("action") or self.page,
                method=(a.get("method") or "get").lower(),
                multipart="multipart" in a.get("enctype", ""),
            )
            self.forms.append(self._form)
        elif tag == "datalist":
            self._datalist = a.get("id", "")
        elif tag == "option" and self._datalist is not None:
            self.datalists.setdefault(self._datalist, a.get("value", ""))
        elif tag == "option" and self._select is not None:
            self._select.options.append(a.get("value", ""))
            if "selected" in a or len(self._select.options) == 1:
                self._select.value = a.get("value", "")
        elif self._form is None or not a.get("name"):
            return
        elif tag == "input":
            self._input(self._form, a)
        elif tag == "select":
            self._select = Input(a["name"], "select", required="required" in a)
            self._form.inputs.append(self._select)
        elif tag == "textarea":
            self._textarea = Input(a["name"], "textarea", required="required" in a)
            self._form.inputs.append(self._textarea)
        elif tag == "button" and a.get("type", "submit") == "submit":
            buttons = [i for i in self._form.inputs if i.kind == "submit"]
            self._form.inputs += [] if buttons else [Input(a["name"], "submit", a.get("value", ""))]

    @staticmethod
    def _input(form: Form, a: dict[str, str]) -> None:
        kind = a.get("type", "text").lower()
        checked = "checked" in a
        if kind == "checkbox" and not checked:
            kind = "checkbox-off"
        if kind == "radio":
            if not checked and any(i.name == a["name"] for i in form.inputs):
                return  # the group is there already, with its first or checked value
            form.inputs = [i for i in form.inputs if i.name != a["name"]]
        value, datalist = a.get("value", ""), a.get("list", "")
        form.inputs.append(Input(a["name"], kind, value, [], datalist, "required" in a))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "datalist":
            self._datalist = None


def _crawl(app: Flask, client: FlaskClient) -> list[Form]:
    """Visit every page reachable from the rules without arguments; return its distinct forms."""
    queue = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if not rule.arguments and "GET" in rule.methods and not rule.rule.startswith("/api/")
    ]
    seen_shapes: set[str] = set()
    forms: dict[tuple, Form] = {}
    while queue:
        path = queue.pop(0)
        shape = _shape(path)
        if shape in seen_shapes or path.startswith(SKIPPED_PATHS) or path.startswith("/api/"):
            continue
        seen_shapes.add(shape)
        response = client.get(path)
        assert response.status_code < 500, f"GET {path}: {response.status_code}"
        if response.mimetype != "text/html":
            continue
        parser = _PageParser(path)
        parser.feed(response.get_data(as_text=True))
        queue.extend(parser.links)
        for form in parser.forms:
            for entry in form.inputs:
                if entry.datalist and not entry.value:
                    entry.value = parser.datalists.get(entry.datalist, "")
            if not form.action.startswith(SKIPPED_PATHS):
                forms.setdefault(form.key, form)
    return list(forms.values())


def _happy(form: Form) -> dict[str, str]:
    """Return values a careful volunteer would send, so bad ones get past the other checks."""
    values = {}
    selects = 0
    for entry in form.inputs:
        if entry.kind == "checkbox-off" or re.search(r"-[1-9][0-9]*-", entry.name):
            continue  # one line filled is enough; the same item twice is refused
        if entry.kind == "select" and entry.options:
            # Two selects side by side (from, to) want different places.
            values[entry.name] = entry.options[selects % len(entry.options)]
            selects += 1
        else:
            values[entry.name] = entry.value or _filled(entry)
    return values


def _filled(entry: Input) -> str:
    if entry.kind in ("hidden", "submit"):
        return ""
    yesterday = date.today() - timedelta(days=1)
    return {
        "number": "1",
        "date": yesterday.isoformat(),
        "datetime-local": f"{yesterday.isoformat()}T10:00",
        "time": "18:00",
        "email": "someone@calais-aid.example.org",
        "password": "correct horse battery staple",
    }.get(entry.kind, "Blanket" if entry.required else "")


def _looks_whole(entry: Input) -> bool:
    """Tell whether the field carries a whole number: a number box, an id, a choice of ids."""
    if entry.kind == "number":
        return True
    if entry.kind == "select":
        return any(option.lstrip("-").isdigit() for option in entry.options)
    return entry.kind in ("hidden", "text") and entry.value.isdigit()


def _variants(form: Form) -> Iterator[tuple[str, dict[str, str], bytes]]:
    """Yield (what, field values, uploaded file) for each kind of bad input a form can get."""
    happy = _happy(form)
    csv_ok = b"item,quantity\nBlanket,5\n"
    numbers = [
        e.name
        for e in form.inputs
        if e.name in happy and e.name != "request_token" and _looks_whole(e)
    ]
    # One field at a time, so no other field's refusal hides what this one would do.
    for name in numbers:
        for number in (LONG_NUMBER, *map(str, BAD_IDS[:2])):
            yield f"{name}={number}", {**happy, name: number}, csv_ok
    for number in (LONG_NUMBER, "-" + LONG_NUMBER, "NaN", "sNaN", "1e999") if numbers else ():
        values = {**happy, **dict.fromkeys(numbers, number)}
        yield f"numbers {number}", values, f"item,quantity\nBlanket,{number}\n".encode()
    nul = {name: f"{value}{NUL}x" for name, value in happy.items() if name != "request_token"}
    yield "NUL in every field", {**happy, **nul}, csv_ok
    if form.multipart:
        yield "NUL in a file", happy, b"item,quantity\nBlan\x00ket,5\n"
    if "request_token" in happy:
        yield "NUL in the request token", {**happy, "request_token": f"t{NUL}k"}, csv_ok
        yield "a token used by another action", {**happy, "request_token": OTHER_ACTION_TOKEN}, b""


def _send(client: FlaskClient, form: Form, values: dict[str, str], upload: bytes):
    if "request_token" in values and values["request_token"] == "":
        values["request_token"] = uuid.uuid4().hex
    if form.method == "get":
        return client.get(f"{urlsplit(form.action).path}?{urlencode(values)}")
    data: dict[str, object] = dict(values)
    if form.multipart:
        for entry in form.inputs:
            if entry.kind == "file":
                data[entry.name] = (io.BytesIO(upload), "lines.csv")
        return client.post(form.action, data=data, content_type="multipart/form-data")
    return client.post(form.action, data=data)


def test_every_form_takes_huge_numbers_nul_bytes_and_foreign_tokens(
    app: Flask, stocked: World, client_as
) -> None:
    admin = client_as("admin")
    forms = _crawl(app, admin)
    assert len(forms) > 30  # the crawl found the forms, not nothing
    wrong = []
    foreign = []  # a foreign token goes last: forms without tokens would act on it
    for form in forms:
        for what, values, upload in _variants(form):
            if values.get("request_token") == OTHER_ACTION_TOKEN:
                foreign.append((form, what, values, upload))
                continue
            if "request_token" in values and NUL not in values["request_token"]:
                values = {**values, "request_token": uuid.uuid4().hex}
            response = _send(admin, form, values, upload)
            # A NUL in any field is refused before a view sees it.
            has_nul = any(NUL in value for value in values.values())
            if response.status_code >= 500 or (has_nul and response.status_code != 400):
                wrong.append(f"{form.method} {form.action} ({what}): {response.status_code}")
    conflicts = 0
    for form, what, values, upload in foreign:
        response = _send(admin, form, values, upload)
        conflicts += response.status_code == 409
        if response.status_code >= 500:
            wrong.append(f"{form.method} {form.action} ({what}): {response.status_code}")
    assert wrong == [], "\n".join(wrong)
    assert conflicts > 20  # most forms got as far as the token, and refused it


# --- the JSON API, fuzzed from its own OpenAPI description -------------------------------------

EXAMPLES = 10  # per operation and mode: about 13 s per engine
Path_ = tuple[str | int, ...]


def _leaves(value: object, where: Path_ = ()) -> Iterator[tuple[Path_, str | int]]:
    """Yield the path and value of every string and whole number inside a JSON value."""
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        yield where, value
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield from _leaves(inner, (*where, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from _leaves(inner, (*where, index))


def _replaced(value: object, where: Path_, new: object) -> object:
    """Return a copy of value with the leaf at where replaced by new."""
    if not where:
        return new
    head, rest = where[0], where[1:]
    if isinstance(value, dict):
        return {**value, head: _replaced(value[head], rest, new)}
    assert isinstance(value, list) and isinstance(head, int)
    return [_replaced(inner, rest, new) if i == head else inner for i, inner in enumerate(value)]


def _spoilt(leaf: str | int) -> list[str | int]:
    """Return the bad values to try in place of one leaf: NUL in text, numbers no column holds."""
    if isinstance(leaf, int):
        return [2**63, 10**29]
    return [f"{leaf}{NUL}", *(["9" * 30] if leaf.isdigit() else [])]


def _field(where: Path_) -> Iterator[str]:
    """Name the field at where: any list position is one, and so is any key the API does not
    name (snake_case), with whatever lies under it: schemathesis makes up thousands of them."""
    for step in where:
        if isinstance(step, int):
            yield "#"
        elif re.fullmatch(r"[a-z][a-z0-9_]*", step):
            yield step
        else:
            yield "?"
            return


Tried = dict[tuple, bool]  # each field and bad value: whether tried on a request that went through


def _one_bad_value_at_a_time(case: schemathesis.Case, tried: Tried, went: bool) -> Iterator[str]:
    """Put each bad value in each string and number of the case in turn; yield what was done.

    A field (list positions aside) gets each of its bad values once per operation, on the
    first case that has it, and once more on the first that has it and went through (2xx):
    the rest of the request is then good enough for the bad value to go as far as it can.
    The other cases would only send the same field the same bad value again (3,900 requests
    per engine instead of 450, for the same fields and values).
    """
    for part in ("body", "query"):
        original = getattr(case, part)
        if not isinstance(original, dict | list):
            continue
        for where, leaf in list(_leaves(original)):
            field_ = (part, type(leaf), *_field(where))
            for number, bad in enumerate(_spoilt(leaf)):
                key = (*field_, number)
                if key in tried and (tried[key] or not went):
                    continue
                tried[key] = went
                setattr(case, part, _replaced(original, where, bad))
                yield f"{part} {'.'.join(map(str, where))}={bad!r}"
        setattr(case, part, original)


CHECKS = (
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
)


def test_the_api_fuzzed_from_its_schema_never_answers_500_and_keeps_to_it(
    app: Flask, stocked: World
) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    # Schemathesis asks for gzip, but its WSGI transport hands back the bytes undecoded:
    # the contract is checked on plain bodies (tests/test_static_files.py covers compression).
    headers = {
        "Authorization": f"Bearer {api_token(stocked, 'admin')}",
        "Accept-Encoding": "identity",
    }
    failures = []
    operations = [result.ok() for result in schema.get_all_operations()]
    # Every method of every API rule but the document itself, which schemathesis leaves out.
    routes = {
        (method, re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1")))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and rule.endpoint != "api.openapi"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert {(op.method.upper(), op.path) for op in operations} == routes
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            failure = _fuzz(operation.as_strategy(generation_mode=mode), headers, spoil=mode)
            failures += [failure] if failure else []
    assert failures == [], "\n\n".join(failures)


def test_a_limit_is_the_same_in_the_document_the_form_and_the_service(
    app: Flask, world: World
) -> None:
    # unit_value_eur: once 0-99,999,999 on the page, 0-99,999,999 in the API, "minimum 0" in
    # the document and below 10,000,000 in the service; now limits.py says it for all of them.
    top = limits.MAX_UNIT_VALUE_EUR
    described = document(app)["components"]["schemas"]["ItemInput"]["properties"]
    options = described["unit_value_eur"]["anyOf"]  # a number, or null (left out)
    assert [option.get("maximum") for option in options] == [top, None]
    with app.test_request_context():
        ranges = [v for v in ItemForm().unit_value_eur.validators if hasattr(v, "max")]
    assert [v.max for v in ranges] == [top]
    catalogue.save_item(world.org_id, {"name": "Stove", "category": "other", "unit_value_eur": top})
    with pytest.raises(ValidationError):
        catalogue.save_item(
            world.org_id, {"name": "Van", "category": "other", "unit_value_eur": top + 1}
        )


def test_every_api_method_not_allowed_is_a_405_with_allow(app: Flask, stocked: World) -> None:
    # Every rule of the URL map, every method it does not take: 405, naming the ones it does.
    client = app.test_client()
    headers = {"Authorization": f"Bearer {api_token(stocked, 'admin')}"}
    taken: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            taken.setdefault(_with_ids(rule, 1), set()).update(rule.methods - {"OPTIONS"})
    wrong, probed = [], 0
    for path, methods in taken.items():
        for method in sorted({"GET", "POST", "PUT", "PATCH", "DELETE"} - methods):
            response = client.open(path, method=method, headers=headers, json={})
            probed += 1
            allow = {m.strip() for m in response.headers.get("Allow", "").split(",")}
            if response.status_code != 405 or not methods <= allow:
                wrong.append(f"{method} {path}: {response.status_code}, Allow: {allow}")
    assert probed > 100  # the walk found the rules
    assert wrong == []


def _fuzz(strategy, headers: dict[str, str], spoil: GenerationMode) -> str | None:
    """Call the API with the strategy's cases; return the failure, if any."""
    tried: Tried = {}

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=(Phase.explicit, Phase.generate),  # no shrinking: a failure reports at once
    )
    @given(case=strategy)
    def call(case: schemathesis.Case) -> None:
        response = _call(case, headers, "as generated")
        if spoil == GenerationMode.POSITIVE:
            # A valid request also goes with one bad value at a time, as the forms do; the
            # case is changed in place between calls, so the generator must stay lazy.
            for what in _one_bad_value_at_a_time(case, tried, went=response.status_code < 300):
                _call(case, headers, what)

    try:
        call()
    except Exception as failure:  # an assertion, or schemathesis' report of a failed check
        return str(failure)[:2000]
    return None


def _call(case: schemathesis.Case, headers: dict[str, str], what: str) -> schemathesis.Response:
    """Send the case; fail on a 500 or an answer the document does not declare."""
    response = case.call(headers=headers)
    assert response.status_code < 500, (
        f"{response.status_code} from {case.as_curl_command()} ({what})\n{response.text[:300]}"
    )
    # The answer is one the document declares, in the declared shape.
    case.validate_response(response, checks=list(CHECKS), headers=headers)
    return response
