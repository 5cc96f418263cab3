"""Machine values as people read them, in their language: one map per kind of value.

Forms offer these choices, pages show them through `label(kind, value)` (a template global),
and e-mails, PDFs and charts read the same maps, so a word is translated in one place.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

ROLE_LABELS: dict[str, Any] = {
    "admin": _l("Admin"),
    "coordinator": _l("Coordinator"),
    "warehouse": _l("Warehouse volunteer"),
    "kitchen": _l("Kitchen lead"),
    "donor": _l("Donor (read only)"),
}

CATEGORY_LABELS: dict[str, Any] = {
    "shelter": _l("Shelter"),
    "bedding": _l("Bedding"),
    "water": _l("Water"),
    "food": _l("Food"),
    "ingredient": _l("Ingredient"),
    "clothing": _l("Clothing"),
    "hygiene": _l("Hygiene"),
    "other": _l("Other"),
}

SITE_KIND_LABELS: dict[str, Any] = {
    "warehouse": _l("Warehouse"),
    "kitchen": _l("Kitchen"),
    "distribution_point": _l("Distribution point"),
}

# A yes / no the recorder may not know (bailiff present, shelter offered...).
TRISTATE_LABELS: dict[str, Any] = {"unknown": _l("Unknown"), "yes": _l("Yes"), "no": _l("No")}

INCIDENT_KIND_LABELS: dict[str, Any] = {
    "eviction": _l("Eviction"),
    "police_destruction": _l("Police destruction"),
    "seizure": _l("Seizure"),
    "gas_contamination": _l("Gas contamination"),
    "weather": _l("Weather"),
    "fire": _l("Fire"),
    "theft": _l("Theft"),
    "spoilage": _l("Spoilage"),
    "other": _l("Other"),
}

ORIGIN_LABELS: dict[str, Any] = {
    "after_distribution": _l("Given out earlier"),
    "from_stock": _l("From our stock"),
}

ACTION_LABELS: dict[str, Any] = {
    "destroyed": _l("Destroyed"),
    "seized": _l("Seized"),
    "slashed": _l("Slashed"),
    "contaminated": _l("Contaminated (gas)"),
}

# The ledger's movement kinds (models.MOVEMENT_KINDS) as people read them.
MOVEMENT_KIND_LABELS: dict[str, Any] = {
    "donation": _l("Donation"),
    "purchase": _l("Purchase"),
    "transfer_in": _l("Transfer in"),
    "transfer_out": _l("Transfer out"),
    "distribution": _l("Distribution"),
    "loss": _l("Write-off"),
    "adjustment": _l("Stocktake correction"),
    "production": _l("Cooked"),
    "consumption": _l("Used in cooking"),
    "reversal": _l("Reversal"),
    "shipment_out": _l("Sent to a partner"),
    "shipment_in": _l("Received from a partner"),
}

# The usual reasons stock is written off, one tap each; "other" takes a few words instead.
LOSS_REASON_LABELS: dict[str, Any] = {
    "damp": _l("Damp or mould"),
    "spoiled": _l("Spoiled"),
    "stolen": _l("Stolen"),
    "expired": _l("Expired"),
    "other": _l("Other"),
}

# A distribution's status (models.STATUSES) as people read it, on a badge.
DISTRIBUTION_STATUS_LABELS: dict[str, Any] = {
    "planned": _l("planned"),
    "held": _l("held"),
    "disrupted": _l("disrupted"),
    "cancelled": _l("cancelled"),
}

# Machine values of needs and alerts as people read them (templating.label shows them).
NEED_STATUS_LABELS: dict[str, Any] = {
    "critical": _l("critical"),
    "warning": _l("warning"),
    "ok": _l("ok"),
}

# An alert is critical or warning: the needs statuses but "ok".
SEVERITY_LABELS: dict[str, Any] = {
    key: word for key, word in NEED_STATUS_LABELS.items() if key != "ok"
}

CHANGE_LABELS: dict[str, Any] = {
    "opened": _l("opened"),
    "escalated": _l("escalated"),
    "eased": _l("eased"),
    "resolved": _l("resolved"),
    "updated": _l("updated"),
    "expired": _l("expired"),
}

DELIVERY_STATUS_LABELS: dict[str, Any] = {
    "pending": _l("pending"),
    "sent": _l("sent"),
    "failed": _l("failed"),
}

# A shipment between partner organisations (models.SHIPMENT_STATUSES), on a badge.
SHIPMENT_STATUS_LABELS: dict[str, Any] = {
    "draft": _l("being prepared"),
    "sent": _l("on its way"),
    "received": _l("received"),
}

CHANNEL_KIND_LABELS: dict[str, Any] = {"email": _l("E-mail"), "webhook": _l("Webhook")}

CHANNEL_MODE_LABELS: dict[str, Any] = {
    "immediate": _l("as it happens"),
    "digest": _l("daily digest"),
    "report": _l("weekly report"),
}

# A pledge's state (models.PLEDGE_STATUSES) and where it was made (PLEDGE_SOURCES).
PLEDGE_STATUS_LABELS: dict[str, Any] = {
    "open": _l("open"),
    "received": _l("received"),
    "lapsed": _l("lapsed (nobody came)"),
    "rejected": _l("rejected"),
}
PLEDGE_SOURCE_LABELS: dict[str, Any] = {
    "link": _l("through a share link"),
    "donor": _l("by a donor account"),
}


# Every map by the kind of value it names: label("category", "bedding") reads "Bedding".
LABELS: dict[str, dict[str, Any]] = {
    "pledge_status": PLEDGE_STATUS_LABELS,
    "pledge_source": PLEDGE_SOURCE_LABELS,
    "role": ROLE_LABELS,
    "category": CATEGORY_LABELS,
    "site_kind": SITE_KIND_LABELS,
    "incident_kind": INCIDENT_KIND_LABELS,
    "incident_action": ACTION_LABELS,
    "incident_origin": ORIGIN_LABELS,
    "tristate": TRISTATE_LABELS,
    "movement_kind": MOVEMENT_KIND_LABELS,
    "loss_reason": LOSS_REASON_LABELS,
    "distribution_status": DISTRIBUTION_STATUS_LABELS,
    "need_status": NEED_STATUS_LABELS,
    "severity": SEVERITY_LABELS,
    "alert_change": CHANGE_LABELS,
    "delivery_status": DELIVERY_STATUS_LABELS,
    "channel_kind": CHANNEL_KIND_LABELS,
    "channel_mode": CHANNEL_MODE_LABELS,
    "shipment_status": SHIPMENT_STATUS_LABELS,
}


def label(kind: str, value: str | None) -> str:
    """Name a machine value in the reader's language: label("movement_kind", "transfer_in")."""
    if value is None:
        return ""
    found = LABELS[kind].get(value)
    return str(found) if found is not None else value


def role_label(role: str) -> str:
    """Name a role in the reader's language: "Warehouse volunteer"."""
    return label("role", role)


def yes_no(value: object) -> str:
    """Say yes or no in the reader's language."""
    return _("yes") if value else _("no")
