"""Items and sites: create, edit, retire, and find."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.exc import IntegrityError

from .. import limits
from ..extensions import db
from ..models import CATEGORIES, MEAL_UNITS, SITE_KINDS, Item, Site
from .errors import Conflict, ValidationError
from .item_search import ItemIndex, clean_aliases, label_key
from .ledger import get_item, get_site

MAX_WHOLE = limits.MAX_MIN_STOCK
# The catalogue pages show this many items or sites at a time.
CATALOGUE_PAGE = 100
MAX_DECIMAL = limits.MAX_UNIT_VALUE_EUR
# What save_item takes of an item, all of it: edit_item starts from these.
ITEM_FIELDS = (
    "name",
    "name_fr",
    "category",
    "unit",
    "size",
    "aliases",
    "min_stock",
    "cover_target_days",
    "unit_value_eur",
    "per_person_per_day",
    "donatable",
    "dated",
)


def list_items(organisation_id: int, *, include_retired: bool = False) -> list[Item]:
    """Return the organisation's items by name and size.

    By the English name, also for French readers: the list is short and a name is seen at once.
    """
    query = select(Item).where(Item.organisation_id == organisation_id)
    if not include_retired:
        query = query.where(Item.active.is_(True))
    return list(db.session.scalars(query.order_by(Item.name, Item.size)))


def list_sites(organisation_id: int, *, include_retired: bool = False) -> list[Site]:
    """Return the organisation's sites by name."""
    query = select(Site).where(Site.organisation_id == organisation_id)
    if not include_retired:
        query = query.where(Site.active.is_(True))
    return list(db.session.scalars(query.order_by(Site.name)))


@dataclass
class CataloguePage:
    """One page of items or sites, and whether another follows."""

    rows: list[Any]
    page: int
    has_next: bool


def items_page(
    organisation_id: int,
    *,
    include_retired: bool = False,
    category: str | None = None,
    page: int = 1,
    size: int = CATALOGUE_PAGE,
) -> CataloguePage:
    """Return a page of list_items, of one category or all, in the same order."""
    query = select(Item).where(Item.organisation_id == organisation_id)
    if not include_retired:
        query = query.where(Item.active.is_(True))
    if category is not None:
        query = query.where(Item.category == category)
    return _page(query.order_by(Item.name, Item.size, Item.id), page, size)


def sites_page(
    organisation_id: int,
    *,
    include_retired: bool = False,
    page: int = 1,
    size: int = CATALOGUE_PAGE,
) -> CataloguePage:
    """Return a page of list_sites, in the same order."""
    query = select(Site).where(Site.organisation_id == organisation_id)
    if not include_retired:
        query = query.where(Site.active.is_(True))
    return _page(query.order_by(Site.name, Site.id), page, size)


def _page(query: Any, page: int, size: int) -> CataloguePage:
    """Read one page of an ordered query: one row more than the page tells whether more follow."""
    page = max(1, page)
    rows = list(db.session.scalars(query.offset((page - 1) * size).limit(size + 1)))
    return CataloguePage(rows[:size], page, len(rows) > size)


def save_item(organisation_id: int, values: dict[str, Any], item_id: int | None = None) -> Item:
    """Create an item, or update one, from field values."""
    clean = _clean_item(values)
    item = get_item(organisation_id, item_id) if item_id else Item(organisation_id=organisation_id)
    _refuse_duplicate(
        select(Item.id).where(
            Item.organisation_id == organisation_id,
            Item.name == clean["name"],
            Item.size == clean["size"],
        ),
        item.id,
        _already_item(clean["name"], clean["size"]),
        "name",
    )
    _refuse_name_twin(
        organisation_id, item.id, clean | {"name_fr": clean.get("name_fr", item.name_fr)}
    )
    for field, value in clean.items():
        setattr(item, field, value)
    _flush_unique(item, _already_item(clean["name"], ""))
    return item


def edit_item(organisation_id: int, item_id: int, changes: dict[str, Any]) -> Item:
    """Change some of an item's values; those left out stay as they are."""
    item = get_item(organisation_id, item_id)
    values: dict[str, Any] = {field: getattr(item, field) for field in ITEM_FIELDS}
    values.update(changes)
    return save_item(organisation_id, values, item_id=item.id)


def save_site(organisation_id: int, values: dict[str, Any], site_id: int | None = None) -> Site:
    """Create a site, or update one, from field values.

    values["main"], when given, makes the site the organisation's main warehouse (the one
    before unset) or stops it being one; left out, a new warehouse is main when there is none.
    """
    clean = _clean_site(values)
    site = get_site(organisation_id, site_id) if site_id else Site(organisation_id=organisation_id)
    _refuse_duplicate(
        select(Site.id).where(Site.organisation_id == organisation_id, Site.name == clean["name"]),
        site.id,
        _l("There is already a site called %(site)s.", site=clean["name"]),
        "name",
    )
    main = _wanted_main(organisation_id, site, clean["kind"], values.get("main"))
    for field, value in clean.items():
        setattr(site, field, value)
    if main is False or clean["kind"] == "distribution_point":
        site.main = False  # forms never start at a distribution point
    _flush_unique(site, _l("There is already a site called %(site)s.", site=clean["name"]))
    if main:
        make_main(organisation_id, site.id)
    return site


def main_site(organisation_id: int) -> Site | None:
    """Return the organisation's main warehouse, where stock forms start, if it has one."""
    return db.session.scalar(
        select(Site).where(
            Site.organisation_id == organisation_id, Site.main.is_(True), Site.active.is_(True)
        )
    )


def make_main(organisation_id: int, site_id: int) -> Site:
    """Make an active site the organisation's main warehouse; the one before stops being it."""
    site = get_site(organisation_id, site_id)
    if not site.active or site.kind == "distribution_point":
        raise ValidationError(
            _l("The main warehouse is an active warehouse or kitchen, not a distribution point."),
            {"main": _l("not this site")},
        )
    # Unset first, in its own statement: the index allows one main site per organisation.
    db.session.execute(
        update(Site)
        .where(Site.organisation_id == organisation_id, Site.main.is_(True), Site.id != site.id)
        .values(main=False)
        .execution_options(synchronize_session="fetch")
    )
    site.main = True
    db.session.flush()
    return site


def start_site(sites: list[Site], last_site_id: int | None) -> Site | None:
    """Return where a stock form starts among these sites: the last one used, else the main
    warehouse, else the first warehouse or kitchen; never a distribution point by alphabet.
    """
    last = next((site for site in sites if site.id == last_site_id), None)
    main = next((site for site in sites if site.main), None)
    stores = (site for kind in ("warehouse", "kitchen") for site in sites if site.kind == kind)
    return last or main or next(stores, None)


def set_item_active(organisation_id: int, item_id: int, active: bool) -> Item:
    """Retire an item (hidden from forms, history kept) or bring it back."""
    item = get_item(organisation_id, item_id)
    item.active = active
    db.session.flush()
    return item


def set_site_active(organisation_id: int, site_id: int, active: bool) -> Site:
    """Retire a site (hidden from forms, history kept) or bring it back."""
    site = get_site(organisation_id, site_id)
    site.active = active
    if not active:
        site.main = False  # a retired site is offered nowhere, so no form can start there
    db.session.flush()
    if active and site.kind == "warehouse" and main_site(organisation_id) is None:
        make_main(organisation_id, site.id)
    return site


def item_index(organisation_id: int) -> ItemIndex:
    """Return the organisation's active items ready to search: one query, words worked out once."""
    return ItemIndex(list_items(organisation_id))


def find_item(organisation_id: int, typed: str, index: ItemIndex | None = None) -> Item:
    """Return the active item someone typed ("sleeping bags"); refuse none or several.

    The refusal (NoSuchItem, SeveralItems) carries the labels the person may choose from.
    Give an index to search many lines of one form over one read of the catalogue.
    """
    return (index or item_index(organisation_id)).find(typed)


def aliases_of(item: Item) -> list[str]:
    """Return an item's other names, one per line as stored."""
    return [name for name in item.aliases.splitlines() if name.strip()]


def is_meal(item: Item) -> bool:
    """Tell whether an item is a cooked meal (its unit is "meal")."""
    return is_meal_unit(item.unit)


def is_meal_unit(unit: str) -> bool:
    """Tell whether a unit is the unit of cooked meals."""
    return unit.strip().lower() in MEAL_UNITS


def meal_item_clause() -> ColumnElement[bool]:
    """Return is_meal as SQL, for queries that read meals alone (units are stored stripped)."""
    return func.lower(Item.unit).in_(MEAL_UNITS)


def cooked_to_plan(source: Site, item: Item) -> bool:
    """Tell whether a planned line is cooked on the day rather than taken from stock."""
    return cooked_on_the_day(source.kind, item.unit)


def cooked_on_the_day(source_kind: str, unit: str) -> bool:
    """Tell whether a line from a source of this kind, in this unit, is cooked on the day.

    Meals from a kitchen are cooked for each distribution: the kitchen holds none ahead,
    and their demand is carried by the ingredients of the day's recipe instead.
    """
    return source_kind == "kitchen" and is_meal_unit(unit)


def _already_item(name: str, size: str) -> Any:
    """Return the refusal of an item name already taken (in this size, when it has one)."""
    if size:
        return _l(
            "There is already an item called %(item)s in size %(size)s.", item=name, size=size
        )
    return _l("There is already an item called %(item)s.", item=name)


def _refuse_name_twin(organisation_id: int, own_id: int | None, clean: dict[str, Any]) -> None:
    """Refuse a name or French name that another item of the same size goes by, in either
    language: typing it could no longer tell the two apart.
    """
    mine = {label_key(name) for name in (clean["name"], clean.get("name_fr", "")) if name}
    others = db.session.execute(
        select(Item.id, Item.name, Item.name_fr).where(
            Item.organisation_id == organisation_id, Item.size == clean["size"]
        )
    )
    for other_id, name, name_fr in others:
        if other_id == own_id:
            continue
        for taken in (name, name_fr):
            if taken and label_key(taken) in mine:
                field = "name_fr" if label_key(taken) != label_key(clean["name"]) else "name"
                raise Conflict(_already_item(taken, clean["size"]), {field: "already exists"})


def _flush_unique(row: Any, message: Any) -> None:
    """Flush a new or changed row; a twin created at the same moment is a Conflict, not a 500."""
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError as exc:
        raise Conflict(message, {"name": "already exists"}) from exc


def _refuse_duplicate(query: Any, own_id: int | None, message: Any, field: str) -> None:
    existing = db.session.scalar(query)
    if existing is not None and existing != own_id:
        raise Conflict(message, {field: "already exists"})


def _clean_item(values: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {
        "name": _text(values.get("name"), "name", errors, required=True),
        "category": values.get("category") or "",
        "unit": _text(values.get("unit") or "piece", "unit", errors, required=True, limit=30),
        "size": _text(values.get("size"), "size", errors, limit=40),
        "min_stock": _whole(values.get("min_stock"), "min_stock", errors, default=0),
        "cover_target_days": _whole(
            values.get("cover_target_days"), "cover_target_days", errors, default=7
        ),
        "unit_value_eur": _decimal(values.get("unit_value_eur"), "unit_value_eur", errors),
        "per_person_per_day": _decimal(
            values.get("per_person_per_day"), "per_person_per_day", errors
        ),
    }
    if clean["category"] not in CATEGORIES:
        errors["category"] = f"one of {', '.join(CATEGORIES)}"
    if "name_fr" in values:  # left out, it stays as it is
        clean["name_fr"] = _text(values["name_fr"], "name_fr", errors)
    if "donatable" in values:  # left out, it stays as it is (new items: donors can bring them)
        clean["donatable"] = bool(values["donatable"])
    if "dated" in values:  # left out, it stays as it is (new items: not dated)
        clean["dated"] = bool(values["dated"])
    if "aliases" in values:  # left out, they stay as they are
        names, problem = clean_aliases(values["aliases"])
        clean["aliases"] = "\n".join(names)
        if problem is not None:
            errors["aliases"] = problem
    _raise_if(errors)
    return clean


def _wanted_main(organisation_id: int, site: Site, kind: str, asked: Any) -> bool | None:
    """Tell whether the saved site becomes main (True), stops being it (False), or stays.

    Not asked, a new warehouse becomes main when the organisation has none.
    """
    if asked is not None:
        return bool(asked)
    if site.id is None and kind == "warehouse" and main_site(organisation_id) is None:
        return True
    return None


def _clean_site(values: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    clean = {
        "name": _text(values.get("name"), "name", errors, required=True),
        "kind": values.get("kind") or "",
        "area": _text(values.get("area"), "area", errors, required=True),
        "details": (values.get("details") or "").strip(),
    }
    if clean["kind"] not in SITE_KINDS:
        errors["kind"] = f"one of {', '.join(SITE_KINDS)}"
    _raise_if(errors)
    return clean


def _raise_if(errors: dict[str, str]) -> None:
    if errors:
        names = ", ".join(field.replace("_", " ") for field in errors)
        raise ValidationError(_l("Please check: %(fields)s.", fields=names), errors)


def _text(
    value: Any, field: str, errors: dict[str, str], required: bool = False, limit: int = 120
) -> str:
    text = " ".join(str(value or "").split())
    if required and not text:
        errors[field] = "required"
    elif len(text) > limit:
        errors[field] = f"at most {limit} characters"
    return text


def _whole(value: Any, field: str, errors: dict[str, str], default: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        errors[field] = "a whole number"
        return default
    if not 0 <= number <= MAX_WHOLE:
        errors[field] = f"0 to {MAX_WHOLE}"
    return number


def _decimal(value: Any, field: str, errors: dict[str, str]) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors[field] = "a number"
        return None
    if not number.is_finite() or not 0 <= number <= MAX_DECIMAL:
        errors[field] = f"0 to {MAX_DECIMAL}"
        return None
    return number
