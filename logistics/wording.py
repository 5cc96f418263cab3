"""Words for figures: quantities with their units, dates with or without the year, half-days.

Used by the alert messages and by pages, so "20 pieces" and "Sat 6 Dec, afternoon" read the
same everywhere.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import ngettext

from . import i18n

# Units written as symbols stay as they are: 1 kg, 20 kg.
SYMBOLS = frozenset({"kg", "g", "l", "ml", "cl", "m", "cm", "km", "m2", "m²", "m3", "m³"})
# Dates this close ahead are shown without their year.
NEAR = timedelta(days=7)


def unit_word(quantity: float, unit: str) -> str:
    """Return the unit as it reads after a quantity: piece / pieces, kg / kg."""
    clean = (unit or "").strip()
    if not clean or clean.lower() in SYMBOLS:
        return clean
    known = _KNOWN.get(clean.lower())
    if known is not None:
        return known(1 if quantity == 1 else 2)
    if quantity == 1 or clean.endswith("s"):
        return clean
    if clean.endswith(("x", "sh", "ch")):
        return clean + "es"
    return clean + "s"


# The common units, through ngettext so a translation says them its own way, one or many.
_KNOWN = {
    "piece": lambda n: ngettext("piece", "pieces", n),
    "pair": lambda n: ngettext("pair", "pairs", n),
    "litre": lambda n: ngettext("litre", "litres", n),
    "liter": lambda n: ngettext("litre", "litres", n),
    "meal": lambda n: ngettext("meal", "meals", n),
    "box": lambda n: ngettext("box", "boxes", n),
    "bag": lambda n: ngettext("bag", "bags", n),
    "pack": lambda n: ngettext("pack", "packs", n),
    "bottle": lambda n: ngettext("bottle", "bottles", n),
    "roll": lambda n: ngettext("roll", "rolls", n),
}


def number(value: float) -> str:
    """Return a figure as the reader writes it: whole numbers plain, others to one decimal."""
    return i18n.number(value)


def quantity(value: float, unit: str) -> str:
    """Return a quantity with its unit: "1 piece", "20 pieces", "3 kg"."""
    word = unit_word(value, unit)
    if not word:
        return number(value)
    return _("%(number)s %(unit)s", number=number(value), unit=word)


def amount_of(value: float, unit: str, label: str) -> str:
    """Return a quantity of an item: "40 Tent" for pieces, "80 litres Drinking water" else."""
    if (unit or "").strip().lower() in ("", "piece", "pieces"):
        amount = number(value)
    else:
        amount = quantity(value, unit)
    return _("%(quantity)s %(item)s", quantity=amount, item=label)


def _local(value: datetime, zone: ZoneInfo) -> datetime:
    return value.astimezone(zone)


def _day_pattern(value: datetime, now: datetime, zone: ZoneInfo) -> str:
    """Return the CLDR pattern of a day: with its year unless within the next 7 days."""
    if not now <= value < now + NEAR and not _same_day(value, now, zone):
        return "EEE d MMM y"
    return "EEE d MMM"


def day(value: datetime, now: datetime, zone: ZoneInfo) -> str:
    """Return the local day: "Fri 5 Dec", with its year unless within the next 7 days."""
    return i18n.when(value, _day_pattern(value, now, zone), zone)


def day_time(value: datetime, now: datetime, zone: ZoneInfo) -> str:
    """Return the local day and time to the minute: "Fri 5 Dec 18:00" (a planned time)."""
    return i18n.when(value, _day_pattern(value, now, zone) + " HH:mm", zone)


def relative_day(value: datetime, now: datetime, zone: ZoneInfo) -> str:
    """Return "today", "tomorrow" or the day, as a deadline reads."""
    local, today = _local(value, zone).date(), _local(now, zone).date()
    if local == today:
        return _("today")
    if local == today + timedelta(days=1):
        return _("tomorrow")
    return day(value, now, zone)


def deadline(value: datetime, now: datetime, zone: ZoneInfo) -> str:
    """Return a deadline: "18:00 today", "tomorrow 18:00" style, "Fri 5 Dec 18:00" later."""
    time = i18n.when(value, "time", zone)
    if _same_day(value, now, zone):
        return _("%(time)s today", time=time)
    return _("%(day)s %(time)s", day=relative_day(value, now, zone), time=time)


def half_day(value: datetime, now: datetime, zone: ZoneInfo) -> str:
    """Return an estimate to the half-day: "Sat 6 Dec, afternoon" (not a false minute)."""
    local = _local(value, zone)
    if local.hour < 12:
        part = _("morning")
    elif local.hour < 18:
        part = _("afternoon")
    else:
        part = _("evening")
    return _("%(day)s, %(part)s", day=day(value, now, zone), part=part)


def _same_day(value: datetime, now: datetime, zone: ZoneInfo) -> bool:
    return _local(value, zone).date() == _local(now, zone).date()
