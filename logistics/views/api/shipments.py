"""Partner organisations and shipments (API.md): link, prepare, send, receive, read."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ... import limits
from ...models import Partnership as PartnershipRow
from ...services import shipments
from .common import (
    Body,
    Id,
    LocalTime,
    Once,
    Out,
    bp,
    current_org_id,
    current_user_id,
    lines_of,
    once,
    operation,
    text,
    whole,
)

Quantity = whole(1, limits.MAX_QUANTITY)
Count = whole(0, limits.MAX_QUANTITY)


# --- what goes in -----------------------------------------------------------------------------


class PartnershipInput(Once):
    """The organisation to ask, by its slug."""

    organisation_slug: text(60, required=True)


class ShipmentLineInput(Body):
    """One of our items and how many to send."""

    item_id: Id
    quantity: Quantity


class ShipmentInput(Once):
    """A shipment to a partner organisation, from one of our sites."""

    partner_organisation_id: Id
    from_site_id: Id
    lines: lines_of(ShipmentLineInput) = Field(min_length=1)


class CountedLineInput(Body):
    """A line as counted on arrival: which of our items it is, and how many came."""

    line_id: Id
    item_id: Id | None = Field(None, description="Our own item; needed when received > 0.")
    received: Count


class ReceiveInput(Once):
    """Where a shipment arrived, and every line as counted."""

    site_id: Id
    lines: lines_of(CountedLineInput) = Field(min_length=1)


# --- what comes out ---------------------------------------------------------------------------


class Partnership(Out):
    """A link between two organisations: asked by one, accepted by the other."""

    id: int
    organisation_id: int = Field(description="The organisation that asked.")
    partner_id: int = Field(description="The organisation asked.")
    partner_name: str = Field(description="The other organisation's name.")
    created_at: LocalTime
    accepted_at: LocalTime | None


class Partnerships(Out):
    """The partnerships this organisation asked for or was asked."""

    partnerships: list[Partnership]


class ShipmentLine(Out):
    """A line: the sender's item and quantity; on arrival, the receiver's item and count."""

    id: int
    item_id: int
    item_label: str
    quantity: int
    received_item_id: int | None
    received: int | None
    lost_in_transit: int
    suggested_item_id: int | None = Field(
        description="For the receiver: its own item of the same name and size, if any."
    )


class Shipment(Out):
    """A shipment as both organisations read it (sites by name only)."""

    id: int
    organisation_id: int = Field(description="The sender.")
    to_organisation_id: int
    from_site_id: int
    from_site_name: str
    to_site_id: int | None
    to_site_name: str | None
    status: str
    created_at: LocalTime
    sent_at: LocalTime | None
    received_at: LocalTime | None
    lost_in_transit: int
    lines: list[ShipmentLine]


class Shipments(Out):
    """The shipments this organisation sent or is sent, newest first."""

    shipments: list[Shipment]


def _partnership(row: PartnershipRow) -> Partnership:
    other = shipments.other_side(row, current_org_id())
    return Partnership(
        id=row.id,
        organisation_id=row.organisation_id,
        partner_id=row.partner_id,
        partner_name=other.name,
        created_at=row.created_at,
        accepted_at=row.accepted_at,
    )


def _shipment(view: shipments.ShipmentView) -> Shipment:
    row, org_id = view.shipment, current_org_id()
    receiving = row.to_organisation_id == org_id and row.status == "sent"
    same = shipments.matching_items(org_id, [line.item for line in view.lines]) if receiving else {}
    lines = [
        ShipmentLine(
            id=line.line.id,
            item_id=line.line.item_id,
            item_label=line.item.label,
            quantity=line.line.quantity,
            received_item_id=line.line.received_item_id,
            received=line.line.received,
            lost_in_transit=line.lost,
            suggested_item_id=same[line.item.id].id if line.item.id in same else None,
        )
        for line in view.lines
    ]
    return Shipment(
        id=row.id,
        organisation_id=row.organisation_id,
        to_organisation_id=row.to_organisation_id,
        from_site_id=row.from_site_id,
        from_site_name=view.from_site.name,
        to_site_id=row.to_site_id,
        to_site_name=view.to_site.name if view.to_site else None,
        status=row.status,
        created_at=row.created_at,
        sent_at=row.sent_at,
        received_at=row.received_at,
        lost_in_transit=view.lost,
        lines=lines,
    )


def _found_shipment(shipment_id: int) -> Any:
    """Fetch the shipment the path names: one of another organisation is a 404."""
    return shipments.get_shipment(current_org_id(), shipment_id)


def _found_partnership(partnership_id: int) -> Any:
    """Fetch the partnership the path names: one of other organisations is a 404."""
    return shipments.get_partnership(current_org_id(), partnership_id)


# --- partnerships ------------------------------------------------------------------------------


@bp.get("/partnerships")
@operation("view_shipments", {200: Partnerships})
def list_partnerships() -> Partnerships:
    """The partnerships this organisation asked for or was asked."""
    rows = shipments.list_partnerships(current_org_id())
    return Partnerships(partnerships=[_partnership(p) for p in rows])


@bp.post("/partnerships")
@operation("manage_partnerships", {201: Partnership}, body=PartnershipInput, errors=(404, 409))
def ask_partnership(body: PartnershipInput) -> tuple[dict[str, Any], int]:
    """Ask another organisation, by its slug, to become a partner."""

    def produce() -> tuple[Out, int]:
        made = shipments.ask_partnership(
            current_org_id(), current_user_id(), body.organisation_slug
        )
        return _partnership(made), 201

    return once("api_partnership_ask", body.request_token, produce)


@bp.post("/partnerships/<int:partnership_id>/accept")
@operation(
    "manage_partnerships",
    {200: Partnership},
    body=Once,
    body_optional=True,
    errors=(404, 409),
    first=_found_partnership,
)
def accept_partnership(partnership_id: int, found: Any, body: Once) -> tuple[dict[str, Any], int]:
    """Accept a partnership another organisation asked for."""

    def produce() -> tuple[Out, int]:
        done = shipments.accept_partnership(current_org_id(), current_user_id(), found.id)
        return _partnership(done), 200

    return once("api_partnership_accept", body.request_token, produce)


# --- shipments ---------------------------------------------------------------------------------


@bp.get("/shipments")
@operation("view_shipments", {200: Shipments})
def list_shipments() -> Shipments:
    """The shipments this organisation sent or is sent, newest first."""
    views = shipments.list_shipments(current_org_id())
    return Shipments(shipments=[_shipment(view) for view in views])


@bp.get("/shipments/<int:shipment_id>")
@operation("view_shipments", {200: Shipment}, errors=(404,), first=_found_shipment)
def get_shipment(shipment_id: int, found: Any) -> Shipment:
    """One shipment, with its lines and what was lost in transit."""
    return _shipment(shipments.describe(found))


@bp.post("/shipments")
@operation("manage_shipments", {201: Shipment}, body=ShipmentInput, errors=(404,))
def create_shipment(body: ShipmentInput) -> tuple[dict[str, Any], int]:
    """Prepare a shipment to a partner; nothing leaves stock until it is sent."""

    def produce() -> tuple[Out, int]:
        made = shipments.create_shipment(
            current_org_id(),
            current_user_id(),
            partner_organisation_id=body.partner_organisation_id,
            from_site_id=body.from_site_id,
            lines=[(line.item_id, line.quantity) for line in body.lines],
        )
        return _shipment(shipments.describe(made)), 201

    return once("api_shipment_create", body.request_token, produce)


@bp.post("/shipments/<int:shipment_id>/send")
@operation(
    "manage_shipments",
    {200: Shipment},
    body=Once,
    body_optional=True,
    errors=(404, 409),
    first=_found_shipment,
)
def send_shipment(shipment_id: int, found: Any, body: Once) -> tuple[dict[str, Any], int]:
    """Send a prepared shipment: every line leaves the site's stock (shipment_out), or none."""

    def produce() -> tuple[Out, int]:
        sent = shipments.send_shipment(current_org_id(), current_user_id(), found.id)
        return _shipment(shipments.describe(sent)), 200

    return once("api_shipment_send", body.request_token, produce)


@bp.post("/shipments/<int:shipment_id>/receive")
@operation(
    "manage_shipments",
    {200: Shipment},
    body=ReceiveInput,
    errors=(404, 409),
    first=_found_shipment,
)
def receive_shipment(
    shipment_id: int, found: Any, body: ReceiveInput
) -> tuple[dict[str, Any], int]:
    """Receive a sent shipment at one of our sites, counting every line as our own item."""
    counts = [
        shipments.Counted(line_id=line.line_id, item_id=line.item_id, received=line.received)
        for line in body.lines
    ]

    def produce() -> tuple[Out, int]:
        done = shipments.receive_shipment(
            current_org_id(), current_user_id(), found.id, site_id=body.site_id, counts=counts
        )
        return _shipment(shipments.describe(done)), 200

    return once("api_shipment_receive", body.request_token, produce)
