"""All models, imported so that Alembic and the app see the whole schema."""

from .accounts import ROLES, ApiToken, LoginThrottle, Membership, Organisation, User
from .alerts import (
    CHANGES,
    CHANNEL_KINDS,
    CHANNEL_MODES,
    SEVERITIES,
    Alert,
    AlertChange,
    Channel,
    Delivery,
    JobLock,
    PeopleEstimate,
)
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
from .kitchen import MEAL_UNITS, Cooking, MenuChoice, Recipe, RecipeLine
from .ledger import MOVEMENT_KINDS, StockLevel, StockMovement, Submission

__all__ = [
    "CHANGES",
    "CHANNEL_KINDS",
    "CHANNEL_MODES",
    "SEVERITIES",
    "Alert",
    "AlertChange",
    "Channel",
    "Delivery",
    "JobLock",
    "PeopleEstimate",
    "CATEGORIES",
    "GIVING_STATUSES",
    "INCIDENT_KINDS",
    "LINE_ACTIONS",
    "LINE_ORIGINS",
    "TRISTATE",
    "STATUSES",
    "HOLDING_SITE_KINDS",
    "MEAL_UNITS",
    "MOVEMENT_KINDS",
    "ROLES",
    "SITE_KINDS",
    "ApiToken",
    "Cooking",
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
    "MenuChoice",
    "Organisation",
    "Recipe",
    "RecipeLine",
    "Site",
    "StockLevel",
    "StockMovement",
    "Submission",
    "User",
]
from .reports import REPORT_KINDS, Report, ShareLink  # noqa: E402

__all__ += ["REPORT_KINDS", "Report", "ShareLink"]
