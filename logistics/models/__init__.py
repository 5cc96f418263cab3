"""All models, imported so that Alembic and the app see the whole schema."""

from .accounts import ROLES, ApiToken, LoginThrottle, Membership, Organisation, User
from .catalogue import CATEGORIES, HOLDING_SITE_KINDS, SITE_KINDS, Item, Site
from .ledger import MOVEMENT_KINDS, StockLevel, StockMovement, Submission

__all__ = [
    "CATEGORIES",
    "HOLDING_SITE_KINDS",
    "MOVEMENT_KINDS",
    "ROLES",
    "SITE_KINDS",
    "ApiToken",
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
