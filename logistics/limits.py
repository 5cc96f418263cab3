"""Every limit once: lengths, ranges, page sizes and day spans.

The API's schemas, the forms and the services read these names, so a limit changes in one place
and the document (openapi.json), the pages and the rules keep agreeing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

# --- numbers a column can hold ------------------------------------------------------------------

# The largest whole number a column holds on both databases (INTEGER is 32-bit on PostgreSQL).
MAX_INT = 2**31 - 1
# So a larger id cannot name a row (and would overflow SQLite).
MAX_ID = MAX_INT
# One movement, one line, one stock count.
MAX_QUANTITY = 10_000_000
# Minimum stock of an item.
MAX_MIN_STOCK = 10_000_000
# Numeric(10, 2) holds 8 digits before the point; the rule keeps well inside it.
MAX_UNIT_VALUE_EUR = 9_999_999
UNIT_VALUE_PLACES = 2
# Numeric(10, 3).
MAX_PER_PERSON_PER_DAY = 9_999_999
PER_PERSON_PLACES = 3
# Headcounts and the counts of an incident (people, shelters).
MAX_HEADCOUNT = 100_000
MAX_INCIDENT_COUNT = 100_000
MAX_PEOPLE = 1_000_000
MAX_MEALS = 100_000
MAX_PER_100 = 1_000_000
PER_100_PLACES = 3
# Of one item in the replacement kit, per shelter destroyed or per person affected.
MAX_KIT_QUANTITY = 100

# --- text -----------------------------------------------------------------------------------------

MAX_NAME = 120
MAX_UNIT = 30
MAX_SIZE = 40
MAX_AREA = 120
MAX_NOTE = 2000
MAX_SOURCE = 200
MAX_INCIDENT_TEXT = 20_000
MAX_RECIPE_NAME = 120
MAX_DIETARY_NOTES = 300
MAX_CHANNEL_TARGET = 500
# The secret column's width; the service asks for at least 16 characters.
MAX_CHANNEL_SECRET = 200
MAX_SHARE_LABEL = 120
MAX_REQUEST_TOKEN = 100
# An item as a person types it ("Shoes (42)"): name, size and the brackets.
MAX_ITEM_LABEL = 200
MAX_EMAIL = 254

# --- lists and pages ------------------------------------------------------------------------------

MAX_LINES = 200
PAGE_SIZE = 100
MAX_PAGE_SIZE = 500
PEOPLE_HISTORY = 50
DELIVERY_PAGE = 100

# --- days and spans -------------------------------------------------------------------------------

EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2100, 12, 31)
EARLIEST_TIME = datetime(2000, 1, 1, tzinfo=UTC)
# Days of cover wanted for an item: at most a year.
MAX_COVER_DAYS = 365
# How far ahead a one-off distribution may be (ten years).
MAX_DAYS_AHEAD = 3650
# A distribution or series may start at most a year back.
MAX_DAYS_BACK = 366
DISTRIBUTION_LIST_DAYS = 7
MAX_DISTRIBUTION_LIST_DAYS = 92
# A whole (leap) year of figures, for annual reports.
MAX_FIGURES_DAYS = 366
INCIDENT_LIST_DAYS = 31
MAX_INCIDENT_PERIOD_DAYS = 366
KITCHEN_PLAN_DAYS = 7
MAX_KITCHEN_PLAN_DAYS = 28
MAX_HORIZON_DAYS = 90
ALERT_RECENT_DAYS = 14
SHARE_LINK_DAYS = 30
MAX_SHARE_LINK_DAYS = 366
