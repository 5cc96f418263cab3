"""The catalogue (API.md): items and sites, declared once for input, output and the document."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from ... import limits
from ...models import CATEGORIES, SITE_KINDS
from ...services import catalogue, item_search, ledger
from .common import (
    Flag,
    Once,
    Out,
    Query,
    bp,
    current_org_id,
    dump,
    may,
    number,
    once,
    operation,
    text,
    whole,
)

Name = text(limits.MAX_NAME, required=True)
# The name French readers see ("Duvet"); empty when the item has none.
NameFr = Annotated[
    text(limits.MAX_NAME),
    Field(description="The name shown to French readers; typing it also finds the item."),
]
Unit = text(limits.MAX_UNIT)
Size = text(limits.MAX_SIZE)
Area = text(limits.MAX_AREA, required=True)
Details = text(limits.MAX_NOTE)
MinStock = whole(0, limits.MAX_MIN_STOCK)
CoverDays = whole(0, limits.MAX_COVER_DAYS)
UnitValue = number(limits.MAX_UNIT_VALUE_EUR, limits.UNIT_VALUE_PLACES)
PerPerson = number(limits.MAX_PER_PERSON_PER_DAY, limits.PER_PERSON_PLACES)
# Other names people type for an item ("duvet"); stored one per line, listed here.
Aliases = Annotated[
    list[text(item_search.MAX_ALIAS_LENGTH)],
    BeforeValidator(lambda value: [] if value is None else value),  # null: none, as left out
    Field(max_length=item_search.MAX_ALIASES),
]
Category = Literal[CATEGORIES]
Donatable = Annotated[
    Flag,
    Field(description="Donors can bring it: false for what the organisation makes (hot meals)."),
]
Dated = Annotated[
    Flag,
    Field(
        description="Held per best-before date: receipts of it name their date, and the"
        " earliest dates go out first."
    ),
]
SiteKind = Literal[SITE_KINDS]


def _lines(value: object) -> object:
    # The column keeps one name per line; the answer lists them.
    return (
        [line for line in value.splitlines() if line.strip()] if isinstance(value, str) else value
    )


class ItemInput(Once):
    """An item to add; sizes are separate items."""

    name: Name
    name_fr: NameFr = ""
    category: Category
    unit: Unit = "piece"
    size: Size = ""
    aliases: Aliases = []
    min_stock: MinStock | None = None
    cover_target_days: CoverDays | None = None
    unit_value_eur: UnitValue | None = None
    per_person_per_day: PerPerson | None = None
    donatable: Donatable = True
    dated: Dated = False


class Item(Out):
    """An item as the API shows it."""

    id: int
    name: str
    name_fr: str
    size: str
    label: str
    aliases: Annotated[list[str], BeforeValidator(_lines)]
    category: str
    unit: str
    min_stock: int
    cover_target_days: int
    unit_value_eur: float | None
    per_person_per_day: float | None
    donatable: bool
    dated: bool
    active: bool


class ItemChanges(Once):
    """Changes to an item: only the values given change (null is left out)."""

    name: Name | None = None
    name_fr: Annotated[str, Field(max_length=limits.MAX_NAME)] | None = Field(
        None, description="The name shown to French readers; an empty string removes it."
    )
    category: Category | None = None
    unit: Annotated[str, Field(min_length=1, max_length=limits.MAX_UNIT)] | None = None
    size: Annotated[str, Field(max_length=limits.MAX_SIZE)] | None = None
    aliases: Aliases | None = None
    min_stock: MinStock | None = None
    cover_target_days: CoverDays | None = None
    unit_value_eur: UnitValue | None = None
    per_person_per_day: PerPerson | None = None
    donatable: Donatable | None = None
    dated: Dated | None = None


class Items(Out):
    """The item catalogue, by name and size."""

    items: list[Item]


class SiteInput(Once):
    """A site to add."""

    name: Name
    kind: SiteKind
    area: Area
    details: Details = ""
    main: bool | None = Field(
        None,
        description=(
            "Make it the main warehouse, where stock forms start for members with no last site "
            "(the one before stops being main). Left out, an organisation's first warehouse is."
        ),
    )


class Site(Out):
    """A site; details (where exactly) only for roles that may see precise places."""

    id: int
    name: str
    kind: str
    area: str
    active: bool
    main: bool
    details: str | None = None


class Sites(Out):
    """Sites by name."""

    sites: list[Site]


class Listing(Query):
    """Whether retired entries are listed too."""

    include_retired: Flag = False


def _site(site: object) -> dict[str, object]:
    # Precise places are for the roles that may see them (docs/principles.md §5).
    hidden = set() if may("view_site_details") else {"details"}
    return dump(Site.model_validate(site), exclude=hidden)


@bp.get("/items")
@operation("view_stock", {200: Items}, query=Listing)
def list_items(query: Listing) -> Items:
    """The item catalogue."""
    rows = catalogue.list_items(current_org_id(), include_retired=query.include_retired)
    return Items(items=[Item.model_validate(item) for item in rows])


@bp.post("/items")
@operation("manage_catalogue", {201: Item}, body=ItemInput, errors=(409,))
def create_item(body: ItemInput) -> tuple[dict[str, object], int]:
    """Add an item (sizes are separate items)."""
    values = body.model_dump(exclude={"request_token"})
    return once(
        "api_item_create",
        body.request_token,
        lambda: (Item.model_validate(catalogue.save_item(current_org_id(), values)), 201),
    )


def _item_of(item_id: int) -> object:
    # Another organisation's item is not found, whatever the body says.
    return ledger.get_item(current_org_id(), item_id)


@bp.patch("/items/<int:item_id>")
@operation("manage_catalogue", {200: Item}, body=ItemChanges, errors=(409,), first=_item_of)
def update_item(item_id: int, found: object, body: ItemChanges) -> tuple[dict[str, object], int]:
    """Change an item: its names, size, other names, figures; the rest stays."""
    changes = body.model_dump(exclude={"request_token"}, exclude_none=True)
    return once(
        "api_item_update",
        body.request_token,
        lambda: (Item.model_validate(catalogue.edit_item(current_org_id(), item_id, changes)), 200),
    )


@bp.get("/sites")
@operation("view_stock", {200: Sites}, query=Listing)
def list_sites(query: Listing) -> dict[str, object]:
    """Sites; details only for roles that may see precise places."""
    rows = catalogue.list_sites(current_org_id(), include_retired=query.include_retired)
    return {"sites": [_site(site) for site in rows]}


@bp.post("/sites")
@operation("manage_catalogue", {201: Site}, body=SiteInput, errors=(409,))
def create_site(body: SiteInput) -> tuple[dict[str, object], int]:
    """Add a site."""
    values = body.model_dump(exclude={"request_token"})
    return once(
        "api_site_create",
        body.request_token,
        lambda: (_site(catalogue.save_site(current_org_id(), values)), 201),
    )
