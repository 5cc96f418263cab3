"""All models, imported so that Alembic and the app see the whole schema."""

from .accounts import ROLES, ApiToken, LoginThrottle, Membership, Organisation, User
from .catalogue import CATEGORIES, HOLDING_SITE_KINDS, SITE_KINDS, Item, Site
from .distributions import (
    GIVING_STATUSES,
    STATUSES,
    Distribution,
    DistributionLine,
    DistributionSeries,
    SeriesLine,
)
from .incidents import (
    INCIDENT_KINDS,
    LINE_ACTIONS,
    LINE_ORIGINS,
    TRISTATE,
    Evidence,
    Incident,
    IncidentAmendment,
    IncidentLine,
)
from .ledger import MOVEMENT_KINDS, StockLevel, StockMovement, Submission

__all__ = [
    "CATEGORIES",
    "GIVING_STATUSES",
    "INCIDENT_KINDS",
    "LINE_ACTIONS",
    "LINE_ORIGINS",
    "TRISTATE",
    "STATUSES",
    "HOLDING_SITE_KINDS",
    "MOVEMENT_KINDS",
    "ROLES",
    "SITE_KINDS",
    "ApiToken",
    "Distribution",
    "DistributionLine",
    "DistributionSeries",
    "Evidence",
    "Incident",
    "IncidentAmendment",
    "IncidentLine",
    "SeriesLine",
    "Item",
    "LoginThrottle",
    "Membership",
    "Organisation",
    "Site",
    "StockLevel",
    "StockMovement",
    "Submission",
    "User",
]
