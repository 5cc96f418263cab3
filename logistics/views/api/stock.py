"""Stock and the ledger (API.md): levels, movements, transfers and reversals."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator
from typing_extensions import TypedDict

from ... import limits
from ...models import MOVEMENT_KINDS
from ...services import ledger, lots, pledges, stock
from ...services.errors import ValidationError
from .common import (
    Id,
    LocalTime,
    Once,
    Out,
    Query,
    QueryTime,
    Time,
    bp,
    current_org_id,
    current_user_id,
    once,
    operation,
    text,
    whole,
)

MOVEMENT_POST_KINDS = ("donation", "purchase", "loss", "adjustment")
Note = text(limits.MAX_NOTE)
Quantity = whole(1, limits.MAX_QUANTITY)
SignedQuantity = whole(-limits.MAX_QUANTITY, limits.MAX_QUANTITY)
Counted = whole(0, limits.MAX_QUANTITY)
QueryId = Annotated[Id, Field(description="An id; one that names nothing here is a 404.")]
BestBefore = Annotated[
    date | None,
    Field(
        description="A dated item's best-before date: required to receive one; to take stock"
        " out, the lot to take it from (left out: the earliest dates first)."
    ),
]


class Movement(Out):
    """One line of the ledger."""

    id: int
    kind: str
    site_id: int
    item_id: int
    quantity: int
    occurred_at: LocalTime
    recorded_at: LocalTime
    source: str | None
    note: str | None
    transfer_group: str | None
    reverses_id: int | None


class MovementPage(Out):
    """A page of the ledger, newest first; follow next as cursor."""

    movements: list[Movement]
    next: str | None


class Movements(Out):
    """Movements written together."""

    movements: list[Movement]


class Transfer(Out):
    """Both legs of a transfer."""

    transfer_group: str
    movements: list[Movement]


class NoChange(Out):
    """A stocktake that found what the records say: nothing written."""

    movement: None
    message: str


NO_LOTS: tuple[()] = ()  # an undated item's level: shared, not a new list per row


# Levels, their lots and past levels are plain dicts, not models: an answer lists ten thousand,
# and a model per row kept the garbage collector walking the heap every other request (stock
# as of a date: 86 ms median, 42 ms as dicts, at federation scale).


class Lot(TypedDict):
    """What a site holds of a dated item with one best-before date."""

    best_before: date
    quantity: int


class Level(TypedDict):
    """What one site holds of one item."""

    site_id: int
    item_id: int
    quantity: int


class HeldLevel(Level):
    """What one site holds of one item now, with a dated item's lots (earliest first).

    What the lots leave of the quantity is undated.
    """

    lots: list[Lot]


class Levels(Out):
    """Current levels (zero levels left out)."""

    levels: list[HeldLevel]


class LevelsThen(Out):
    """Levels at a past moment."""

    at: Annotated[str, Field(json_schema_extra={"format": "date-time"})]
    levels: list[Level]


class Place(Query):
    """Narrow to one site and/or one item."""

    site_id: QueryId | None = None
    item_id: QueryId | None = None


class Moment(Place):
    """A past moment (ISO 8601 with offset), and the site and item to narrow to."""

    at: QueryTime


class LedgerPage(Place):
    """Which movements, and which page of them."""

    kind: Literal[MOVEMENT_KINDS] | None = None
    since: QueryTime | None = None
    cursor: QueryId | None = None
    limit: whole(1, limits.MAX_PAGE_SIZE) = limits.PAGE_SIZE


class MovementInput(Once):
    """A donation, purchase, loss or adjustment (stocktake: counted, or a signed quantity)."""

    kind: Literal[MOVEMENT_POST_KINDS]
    site_id: Id
    item_id: Id
    quantity: SignedQuantity | None = None
    counted: Counted | None = None
    occurred_at: Time | None = None
    source: text(limits.MAX_SOURCE) = ""
    reason: Note = ""
    note: Note = ""
    best_before: BestBefore = None
    pledge_id: Annotated[
        Id | None,
        Field(
            description="A donation only: the open pledge of this item it fulfils (closed with it)."
        ),
    ] = None

    @model_validator(mode="after")
    def _fits_its_kind(self) -> MovementInput:
        problems = {}
        if self.pledge_id is not None and self.kind != "donation":
            problems["pledge_id"] = "only for a donation"
        if self.best_before is not None and self.kind == "adjustment":
            problems["best_before"] = "only for a donation, purchase or loss"
        if self.kind in ("loss", "adjustment"):
            if self.source:
                problems["source"] = "only for a donation or purchase"
            if not (self.reason or self.note):
                problems["reason"] = "required (or a note)"
        if self.kind == "adjustment":
            if (self.quantity is None) == (self.counted is None):
                problems["counted"] = "give counted or a signed quantity, not both"
        elif self.quantity is None:
            problems["quantity"] = "required"
        if problems:
            listed = "; ".join(f"{name}: {why}" for name, why in problems.items())
            raise ValidationError(f"Please check {listed}.", problems)
        return self

    def why(self) -> str:
        """Return the reason a loss or correction needs: reason, note, or both joined."""
        return " — ".join(part for part in (self.reason, self.note) if part)


class TransferInput(Once):
    """Stock moving between two sites."""

    from_site_id: Id
    to_site_id: Id
    item_id: Id
    quantity: Quantity
    note: Note = ""
    occurred_at: Time | None = None
    best_before: BestBefore = None


class ReverseInput(Once):
    """Why a movement is undone."""

    reason: text(limits.MAX_NOTE, required=True)


def _place(query: Place) -> dict[str, int | None]:
    """Return the site and item filters, each checked to be the organisation's (or 404)."""
    org_id = current_org_id()
    return {
        "site_id": None if query.site_id is None else ledger.get_site(org_id, query.site_id).id,
        "item_id": None if query.item_id is None else ledger.get_item(org_id, query.item_id).id,
    }


@bp.get("/stock")
@operation("view_stock", {200: Levels}, query=Place)
def current_stock(query: Place) -> Levels:
    """Current levels (zero levels left out), with dated items' lots."""
    org_id, place = current_org_id(), _place(query)
    held_lots = lots.lots_by_level(org_id, **place)
    rows = [
        {
            "site_id": row.site_id,
            "item_id": row.item_id,
            "quantity": row.quantity,
            "lots": held_lots.get((row.site_id, row.item_id), NO_LOTS),
        }
        for row in stock.levels(org_id, **place)
    ]
    # One validation of the whole list: pydantic walks the rows in its core, not per call.
    return Levels.model_validate({"levels": rows})


@bp.get("/stock/as-of")
@operation("view_stock", {200: LevelsThen}, query=Moment)
def stock_as_of(query: Moment) -> LevelsThen:
    """Levels at a past moment."""
    rows = stock.levels_as_of(current_org_id(), query.at, **_place(query))
    levels = [
        {"site_id": row.site_id, "item_id": row.item_id, "quantity": row.quantity} for row in rows
    ]
    return LevelsThen.model_validate({"at": query.at.isoformat(), "levels": levels})


@bp.get("/movements")
@operation("view_ledger", {200: MovementPage}, query=LedgerPage)
def list_movements(query: LedgerPage) -> MovementPage:
    """The ledger, newest first, a page at a time."""
    rows, next_cursor = stock.movements(
        current_org_id(),
        kind=query.kind,
        since=query.since,
        before_id=query.cursor,
        limit=query.limit,
        **_place(query),
    )
    return MovementPage(
        movements=[Movement.model_validate(m) for m in rows],
        next=None if next_cursor is None else str(next_cursor),
    )


@bp.post("/movements")
@operation(
    "record_movements",
    {201: Movement, 200: NoChange},
    body=MovementInput,
    errors=(409,),
)
def create_movement(body: MovementInput) -> tuple[dict[str, Any], int]:
    """Record a donation, purchase, loss or adjustment (stocktake)."""
    org_id, user_id = current_org_id(), current_user_id()
    where = {"site_id": body.site_id, "item_id": body.item_id, "occurred_at": body.occurred_at}

    def produce() -> tuple[Out, int]:
        if body.kind == "adjustment":
            made = ledger.adjust(
                org_id,
                user_id,
                reason=body.why(),
                delta=body.quantity,
                counted=body.counted,
                **where,
            )
            if made is None:
                return NoChange(movement=None, message="The count matches the records."), 200
        elif body.kind == "loss":
            made = ledger.record_loss(
                org_id,
                user_id,
                quantity=body.quantity,
                reason=body.why(),
                best_before=body.best_before,
                **where,
            )
        else:
            made = ledger.receive(
                org_id,
                user_id,
                quantity=body.quantity,
                kind=body.kind,
                source=body.source,
                note=body.note,
                best_before=body.best_before,
                **where,
            )
            if body.pledge_id is not None:
                # In the receipt's transaction and under its request token: both or neither.
                pledges.close_pledge(org_id, body.pledge_id, made.id, user_id)
        return Movement.model_validate(made), 201

    return once("api_movement", body.request_token, produce)


@bp.post("/transfers")
@operation("record_movements", {201: Transfer}, body=TransferInput, errors=(409,))
def create_transfer(body: TransferInput) -> tuple[dict[str, Any], int]:
    """Move stock between two sites (two movements sharing a transfer group)."""
    values = body.model_dump(exclude={"request_token"})

    def produce() -> tuple[Out, int]:
        # ledger.transfer checks every id (404) before the stock check (409).
        out, into = ledger.transfer(current_org_id(), current_user_id(), **values)
        legs = [Movement.model_validate(out), Movement.model_validate(into)]
        return Transfer(transfer_group=out.transfer_group or "", movements=legs), 201

    return once("api_transfer", body.request_token, produce)


@bp.post("/movements/<int:movement_id>/reverse")
@operation("reverse_movements", {201: Movements}, body=ReverseInput, errors=(409,))
def reverse_movement(movement_id: int, body: ReverseInput) -> tuple[dict[str, Any], int]:
    """Undo a movement with a reversing one; a transfer leg undoes both legs."""

    def produce() -> tuple[Out, int]:
        made = ledger.reverse(current_org_id(), current_user_id(), movement_id, body.reason)
        return Movements(movements=[Movement.model_validate(m) for m in made]), 201

    return once("api_reverse", body.request_token, produce)
