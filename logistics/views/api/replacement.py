"""The replacement kit (API.md): what each destroyed shelter and each affected person call for."""

from __future__ import annotations

from typing import Any

from ... import limits
from ...services import replacement
from .common import Body, Id, Out, bp, current_org_id, lines_of, once, operation, whole

KitQuantity = whole(1, limits.MAX_KIT_QUANTITY)


class ReplacementKitLineBody(Body):
    """One item of the kit and how many of it per shelter, or per person."""

    item_id: Id
    quantity: KitQuantity


class ReplacementKitBody(Body):
    """The whole kit: it replaces the one saved (lines left out are removed)."""

    per_shelter: lines_of(ReplacementKitLineBody)
    per_person: lines_of(ReplacementKitLineBody)


class ReplacementKitLine(Out):
    """One item of the kit, with its label and unit."""

    item_id: int
    item: str
    unit: str
    quantity: int


class ReplacementKit(Out):
    """The replacement kit: per shelter destroyed, and per person affected."""

    per_shelter: list[ReplacementKitLine]
    per_person: list[ReplacementKitLine]


def _kit(saved: replacement.Kit) -> ReplacementKit:
    def lines(kit_lines: list[replacement.KitLine]) -> list[ReplacementKitLine]:
        return [
            ReplacementKitLine(
                item_id=line.item.id,
                item=line.item.label,
                unit=line.item.unit,
                quantity=line.quantity,
            )
            for line in kit_lines
        ]

    return ReplacementKit(per_shelter=lines(saved.per_shelter), per_person=lines(saved.per_person))


@bp.get("/replacement-kit")
@operation("edit_replacement_kit", {200: ReplacementKit})
def show_replacement_kit() -> ReplacementKit:
    """The replacement kit, per shelter destroyed and per person affected."""
    return _kit(replacement.kit(current_org_id()))


@bp.put("/replacement-kit")
@operation("edit_replacement_kit", {200: ReplacementKit}, body=ReplacementKitBody)
def save_replacement_kit(body: ReplacementKitBody) -> tuple[dict[str, Any], int]:
    """Replace the replacement kit whole; sending the same kit again changes nothing."""

    def produce() -> tuple[ReplacementKit, int]:
        saved = replacement.save_kit(
            current_org_id(),
            [(line.item_id, line.quantity) for line in body.per_shelter],
            [(line.item_id, line.quantity) for line in body.per_person],
        )
        return _kit(saved), 200

    # No request token: the same PUT sent twice saves the same kit twice.
    return once("api_replacement_kit", None, produce)
