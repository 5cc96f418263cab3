"""The menu: each role's few field actions first, everything else it may open under More."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from .permissions import can

Rule = Callable[[str | None], bool]


def needs(*capabilities: str) -> Rule:
    """Return a rule: the role has any one of these capabilities."""
    return lambda role: any(can(role, capability) for capability in capabilities)


def unless_reading_incidents(capability: str) -> Rule:
    """Return a rule: the role has the capability and does not read every incident already."""
    return lambda role: can(role, capability) and not can(role, "view_incidents")


@dataclass(frozen=True)
class Link:
    """One menu link: where it goes, what it says, who sees it."""

    endpoint: str
    label: object  # a lazy string, translated when shown
    shown: Rule


RECEIVE = Link("stock.receive", _l("Receive"), needs("record_movements"))
GIVE_OUT = Link("distributions.give_out", _l("Give out"), needs("record_hand_outs"))
MOVE = Link("stock.transfer", _l("Move"), needs("record_movements"))
COUNT = Link("stock.stocktake", _l("Count"), needs("record_movements"))
WRITE_OFF = Link("stock.loss", _l("Write off"), needs("record_movements"))
NEEDS = Link("needs.index", _l("Needs"), needs("view_needs"))
ALERTS = Link("needs.alerts", _l("Alerts"), needs("view_alerts"))
REPORTS = Link("reports.index", _l("Reports"), needs("view_reports"))
LOSSES = Link("incidents.figures", _l("Losses"), unless_reading_incidents("view_loss_figures"))
OVERVIEW = (Link("distributions.agenda", _l("Today"), needs("view_distributions")), NEEDS, ALERTS)

FIELD_ACTIONS: dict[str, tuple[Link, ...]] = {
    "warehouse": (RECEIVE, GIVE_OUT, MOVE, COUNT, WRITE_OFF),
    "kitchen": (
        Link("kitchen.plan", _l("Plan"), needs("view_kitchen")),
        Link("kitchen.cooking", _l("Cooked"), needs("view_kitchen")),
        GIVE_OUT,
    ),
    "coordinator": OVERVIEW,
    "admin": OVERVIEW,
    "donor": (
        Link("reports.donor_home", _l("What we need"), needs("view_reports")),
        REPORTS,
        Link("incidents.figures", _l("Losses"), needs("view_loss_figures")),
    ),
}
EVERYTHING = (
    Link("stock.overview", _l("Stock"), needs("view_stock")),
    RECEIVE,
    Link("pledges.expected", _l("Expected deliveries"), needs("view_pledges")),
    GIVE_OUT,
    MOVE,
    COUNT,
    WRITE_OFF,
    NEEDS,
    Link("distributions.agenda", _l("Distributions"), needs("view_distributions")),
    Link("kitchen.plan", _l("Kitchen"), needs("view_kitchen")),
    ALERTS,
    Link("incidents.index", _l("Incidents"), needs("view_incidents")),
    Link("incidents.new", _l("Report incident"), unless_reading_incidents("record_incidents")),
    Link("incidents.mine", _l("My reports"), unless_reading_incidents("record_incidents")),
    LOSSES,
    Link("stock.ledger_page", _l("Ledger"), needs("view_ledger")),
    REPORTS,
    Link("reports.donor_home", _l("What donors read"), needs("view_reports")),
    Link("reports.donor_page", _l("Donor page"), needs("manage_share_links")),
    Link("csv_io.index", _l("CSV"), needs("export_csv", "record_movements")),
    Link("catalogue.items", _l("Items"), needs("view_stock")),
    Link("catalogue.sites", _l("Sites"), needs("view_stock")),
    Link("labels.index", _l("Labels"), needs("record_movements")),
    Link("shipments.index", _l("Shipments"), needs("view_shipments")),
    Link("shipments.partnerships", _l("Partner organisations"), needs("manage_partnerships")),
    Link("admin.members", _l("Members"), needs("manage_users")),
    Link("auth.account", _l("Account"), lambda role: role is not None),
)


def menu_for(role: str | None) -> tuple[list[Link], list[Link]]:
    """Return a role's field actions, then the rest of what it may open (for More)."""
    firsts = [link for link in FIELD_ACTIONS.get(role or "", ()) if link.shown(role)]
    first_endpoints = {link.endpoint for link in firsts}
    rest = [
        link for link in EVERYTHING if link.shown(role) and link.endpoint not in first_endpoints
    ]
    return firsts, rest
