"""Who may do what: every capability and the roles that have it, in one place."""

from __future__ import annotations

ALL_ROLES = frozenset({"admin", "coordinator", "warehouse", "kitchen", "donor"})
STAFF = frozenset({"admin", "coordinator", "warehouse", "kitchen"})

CAPABILITIES: dict[str, frozenset[str]] = {
    "view_stock": ALL_ROLES,
    "view_ledger": STAFF,
    "record_movements": STAFF,
    "reverse_movements": frozenset({"admin", "coordinator", "warehouse"}),
    "manage_catalogue": frozenset({"admin", "coordinator"}),
    "view_site_details": frozenset({"admin", "coordinator"}),
    "manage_users": frozenset({"admin"}),
    "export_csv": STAFF,
    "view_distributions": STAFF,
    "plan_distributions": frozenset({"admin", "coordinator"}),
    "record_outcomes": STAFF,
    # A hand-out nobody planned (food from a car), recorded by the crew as it happens.
    "record_hand_outs": STAFF,
    # Where exactly a distribution point is: crews see it on the agenda and run sheet on the
    # day of a distribution there; coordinators always (view_site_details); donors never.
    "see_point_on_the_day": STAFF,
    # Incidents: volunteers may report one and read back their own reports; only
    # coordinators and admins read everyone's, since descriptions, forces and evidence can
    # identify people and places.
    "record_incidents": STAFF,
    "view_incidents": frozenset({"admin", "coordinator"}),
    "view_loss_figures": ALL_ROLES,
    "view_needs": ALL_ROLES,
    "record_estimates": frozenset({"admin", "coordinator"}),
    # What each destroyed shelter and affected person call for: read and edited together.
    "edit_replacement_kit": frozenset({"admin", "coordinator"}),
    "view_alerts": STAFF,
    "manage_channels": frozenset({"admin", "coordinator"}),
    "plan_kitchen": frozenset({"admin", "coordinator", "kitchen"}),
    "view_kitchen": STAFF,
    "view_reports": ALL_ROLES,
    "generate_reports": STAFF,
    "manage_share_links": frozenset({"admin"}),
    # The outbox on the phone: what was sent without signal, waiting or refused.
    "use_outbox": ALL_ROLES,
    # Pledges: anyone signed in may promise goods; staff expect them; a donor's contact
    # address is personal data, read by coordinators and admins only, who alone turn one down.
    "make_pledges": ALL_ROLES,
    "view_pledges": STAFF,
    "view_pledge_contacts": frozenset({"admin", "coordinator"}),
    "reject_pledges": frozenset({"admin", "coordinator"}),
    # Partner organisations: admins link them; coordinators prepare, send and receive
    # shipments; staff read the shipment records of both sides.
    "manage_partnerships": frozenset({"admin"}),
    "manage_shipments": frozenset({"admin", "coordinator"}),
    "view_shipments": STAFF,
}


def can(role: str | None, capability: str) -> bool:
    """Tell whether a membership role has a capability."""
    return role is not None and role in CAPABILITIES[capability]
