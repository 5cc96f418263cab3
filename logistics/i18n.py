"""Languages: who reads which, item names in that language, and figures and dates as it writes them.

A page speaks its reader's language: the member's own choice, else the organisation's, else
(logged out) the language switch or the browser's Accept-Language. The JSON API speaks English:
its messages are for programs and logs. Jobs that write for someone (an alert, a digest, a PDF)
wrap their work in `flask_babel.force_locale(...)` with that person's language.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, DecimalTuple
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import DateTimePattern, format_date, format_datetime
from babel.dates import parse_pattern as parse_date_pattern
from babel.numbers import NumberPattern, parse_pattern
from flask import Flask, has_request_context, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

LANGUAGES = ("en", "fr")
DEFAULT_LANGUAGE = "en"
DEFAULT_TIMEZONE = "Europe/Paris"
# The language switch on logged-out pages is kept in this cookie for a year.
LANGUAGE_COOKIE = "lang"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_NAMES = {"en": "English", "fr": "Français"}
# A member's choice: empty follows the organisation's language.
MEMBER_LANGUAGE_CHOICES = (("", _l("The organisation's language")), *LANGUAGE_NAMES.items())

# CLDR patterns, so each language writes a date its own way: "Fri 5 Dec" / "ven. 5 déc.".
PATTERNS = {
    "date": "d MMM y",
    "day": "EEE d MMM",
    "day_month": "d MMM",
    "weekday": "EEEE d MMMM",
    "long_date": "EEEE d MMMM y",
    "time": "HH:mm",
    "date_time": "d MMM y HH:mm",
    "day_time": "EEE d MMM HH:mm",
}
# Babel's named styles, which are not patterns of their own.
BABEL_STYLES = ("full", "long", "medium", "short")


def clean_language(value: str | None) -> str | None:
    """Return the value when it is a language we speak, else None."""
    code = (value or "").strip().lower()[:2]
    return code if code in LANGUAGES else None


def language_of(user_locale: str | None, organisation_locale: str | None) -> str:
    """Return the language a member reads: their own choice, else the organisation's."""
    return clean_language(user_locale) or clean_language(organisation_locale) or DEFAULT_LANGUAGE


def current_language() -> str:
    """Return the language being written now ("en" outside a request or a forced locale)."""
    locale = get_locale()
    return locale.language if locale is not None and locale.language in LANGUAGES else "en"


def current_babel_locale() -> Locale:
    """Return the Babel locale being written now."""
    return get_locale() or _babel_locale(DEFAULT_LANGUAGE)


@lru_cache(maxsize=8)
def _babel_locale(code: str) -> Locale:
    """Return the Babel locale of a language, read from its CLDR data once."""
    return Locale.parse(code)


def select_locale() -> str:
    """Choose the language of this request (Flask-Babel's locale selector)."""
    from .auth import current_membership

    if not has_request_context():
        return DEFAULT_LANGUAGE
    if request.path.startswith("/api/"):
        return DEFAULT_LANGUAGE
    membership = current_membership()
    if membership is not None:
        return language_of(membership.user.locale, membership.organisation.locale)
    return clean_language(request.cookies.get(LANGUAGE_COOKIE)) or (
        request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE
    )


def select_timezone() -> str:
    """Choose the time zone of this request: the organisation's."""
    from .auth import current_membership

    if has_request_context():
        membership = current_membership()
        if membership is not None:
            return membership.organisation.timezone
    return DEFAULT_TIMEZONE


def current_zone() -> ZoneInfo:
    """Return the time zone being written in now."""
    return ZoneInfo(select_timezone())


# --- names -----------------------------------------------------------------------------------


def localised_name(name: str, name_fr: str | None, language: str | None = None) -> str:
    """Return an item's name in the reader's language: its French name when it has one.

    A list of items passes the language, read once, rather than asking for it per item.
    """
    if name_fr and (language or current_language()) == "fr":
        return name_fr
    return name


# --- figures and dates -----------------------------------------------------------------------


# A page writes thousands of figures: each pattern is parsed once per process (Babel's own
# format_decimal and format_currency parse theirs on every call), then applied to each value
# exactly as those functions apply it.


@lru_cache(maxsize=16)
def _number_pattern(decimals: int) -> NumberPattern:
    """Return the parsed pattern of figures with up to this many decimals: #,##0.#."""
    return parse_pattern("#,##0." + "#" * decimals if decimals else "#,##0")


@lru_cache(maxsize=16)
def _whole_euro_pattern(locale: str) -> NumberPattern:
    """Return a language's currency pattern without its cents: ¤#,##0 / #,##0 ¤."""
    standard = _babel_locale(locale).currency_formats["standard"].pattern
    return parse_pattern(standard.replace(".00", ""))


@lru_cache(maxsize=64)
def _date_pattern(pattern: str) -> DateTimePattern:
    """Return a parsed CLDR date pattern."""
    return parse_date_pattern(pattern)


def number(value: float | int | Decimal | None, decimals: int = 1) -> str:
    """Write a figure in the reader's language, without needless decimals: 1,750 / 1 750."""
    if value is None:
        return ""
    if type(value) is int:  # most figures: nothing to round, and no decimals to write
        return _written_whole(current_babel_locale(), value)
    # Halves round up, as people round (Babel alone rounds half to even: 0.05 would read 0).
    rounded = Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)
    return _written_number(current_babel_locale(), decimals, rounded.as_tuple())


@lru_cache(maxsize=4096)
def _written_number(locale: Locale, decimals: int, value: DecimalTuple) -> str:
    """Write a rounded figure; pages repeat the same few (0, 1, 20), so each is written once.

    The key is the figure's sign, digits and exponent: -0 is written "-0", as Babel writes it.
    """
    return _number_pattern(decimals).apply(Decimal(value), locale)


@lru_cache(maxsize=4096)
def _written_whole(locale: Locale, value: int) -> str:
    """Write a whole figure, once per figure and language."""
    return _number_pattern(0).apply(Decimal(value), locale)


def euros(value: float | int | Decimal | None) -> str:
    """Write an amount in euros in the reader's language: €1,750.00 / 1 750,00 €."""
    if value is None:
        return ""
    return _written_euros(current_babel_locale(), Decimal(str(value)).as_tuple(), False)


def whole_euros(value: float | int | Decimal | None) -> str:
    """Write an amount in whole euros, as donors read it: €1,835 / 1 835 €."""
    if value is None:
        return ""
    whole = Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return _written_euros(current_babel_locale(), whole.as_tuple(), True)


@lru_cache(maxsize=4096)
def _written_euros(locale: Locale, value: DecimalTuple, whole: bool) -> str:
    """Write an amount in euros, with its cents or in whole euros, once per amount."""
    if whole:
        pattern = _whole_euro_pattern(str(locale))
        return pattern.apply(Decimal(value), locale, currency="EUR", currency_digits=False)
    pattern = locale.currency_formats["standard"]
    return pattern.apply(Decimal(value), locale, currency="EUR")


def when(
    value: datetime | date | None, style: str = "date_time", zone: ZoneInfo | None = None
) -> str:
    """Write a date or a UTC time in the reader's language (and, for times, local time zone).

    `style` is one of PATTERNS ("date", "day", "weekday", "time", "date_time"...) or a CLDR
    pattern.
    """
    if value is None:
        return ""
    locale = current_babel_locale()
    if style in BABEL_STYLES:  # Babel joins a date's and a time's own patterns for these
        if isinstance(value, datetime):
            return format_datetime(value, style, tzinfo=zone or current_zone(), locale=locale)
        return format_date(value, style, locale=locale)
    pattern = _date_pattern(PATTERNS.get(style, style))
    if isinstance(value, datetime):
        # A time without a zone is UTC, as Babel's format_datetime reads it.
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return pattern.apply(aware.astimezone(zone or current_zone()), locale)
    return pattern.apply(value, locale)


def init_app(app: Flask) -> None:
    """Give templates the figures and dates filters and the current language."""
    app.add_template_filter(number, "num")
    app.add_template_filter(euros, "euros")
    app.add_template_filter(whole_euros, "whole_euros")
    app.add_template_filter(when, "when")
    app.add_template_global(current_language, "current_language")
    app.jinja_env.globals["LANGUAGE_NAMES"] = LANGUAGE_NAMES
