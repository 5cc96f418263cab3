"""Languages: who reads which, item names in that language, and figures and dates as it writes them.

A page speaks its reader's language: the member's own choice, else the organisation's, else
(logged out) the language switch or the browser's Accept-Language. The JSON API speaks English:
its messages are for programs and logs. Jobs that write for someone (an alert, a digest, a PDF)
wrap their work in `flask_babel.force_locale(...)` with that person's language.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal
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
    return get_locale() or Locale.parse(DEFAULT_LANGUAGE)


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


def localised_name(name: str, name_fr: str | None) -> str:
    """Return an item's name in the reader's language: its French name when it has one."""
    if name_fr and current_language() == "fr":
        return name_fr
    return name


# --- figures and dates -----------------------------------------------------------------------


def number(value: float | int | Decimal | None, decimals: int = 1) -> str:
    """Write a figure in the reader's language, without needless decimals: 1,750 / 1 750."""
    if value is None:
        return ""
    pattern = "#,##0." + "#" * decimals if decimals else "#,##0"
    # Halves round up, as people round (Babel alone rounds half to even: 0.05 would read 0).
    rounded = Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)
    return format_decimal(rounded, format=pattern, locale=current_babel_locale())


def euros(value: float | int | Decimal | None) -> str:
    """Write an amount in euros in the reader's language: €1,750.00 / 1 750,00 €."""
    if value is None:
        return ""
    return format_currency(value, "EUR", locale=current_babel_locale())


def whole_euros(value: float | int | Decimal | None) -> str:
    """Write an amount in whole euros, as donors read it: €1,835 / 1 835 €."""
    if value is None:
        return ""
    whole = Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    pattern = current_babel_locale().currency_formats["standard"].pattern
    return format_currency(
        whole,
        "EUR",
        format=pattern.replace(".00", ""),
        currency_digits=False,
        locale=current_babel_locale(),
    )


def when(
    value: datetime | date | None, style: str = "date_time", zone: ZoneInfo | None = None
) -> str:
    """Write a date or a UTC time in the reader's language (and, for times, local time zone).

    `style` is one of PATTERNS ("date", "day", "weekday", "time", "date_time"...) or a CLDR
    pattern.
    """
    if value is None:
        return ""
    pattern = PATTERNS.get(style, style)
    locale = current_babel_locale()
    if isinstance(value, datetime):
        return format_datetime(value, pattern, tzinfo=zone or current_zone(), locale=locale)
    return format_date(value, pattern, locale=locale)


def init_app(app: Flask) -> None:
    """Give templates the figures and dates filters and the current language."""
    app.add_template_filter(number, "num")
    app.add_template_filter(euros, "euros")
    app.add_template_filter(whole_euros, "whole_euros")
    app.add_template_filter(when, "when")
    app.add_template_global(current_language, "current_language")
    app.jinja_env.globals["LANGUAGE_NAMES"] = LANGUAGE_NAMES
