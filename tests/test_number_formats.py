"""Figures and dates, written from patterns parsed once, read exactly as Babel writes them.

The filters apply cached patterns; these tests write many values both ways, in English and in
French, and compare with Babel's own format_decimal, format_currency and format_datetime.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest
from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal
from flask import Flask
from flask_babel import force_locale

from logistics import create_app, i18n

PARIS = ZoneInfo("Europe/Paris")
SEED_VALUES: list[float | int | Decimal] = [
    0, 1, -1, 0.05, -0.05, 0.5, 1.5, 2.5, -2.5, 0.049, 0.15, 1.25, 12.345, 999.95, 1000,
    1234.5, -1234.5, 1750, 99999.99, 1_000_000, -7_654_321.5, 10**12, 123456789.123,
    Decimal("0.005"), Decimal("-0.005"), Decimal("1835.499"), Decimal("1835.5"), Decimal("3.14159"),
    Decimal("-0"), 7, 42.0, 1e-7, 2**40,
]  # fmt: skip


def values() -> list[float | int | Decimal]:
    """Return the seed values and many random ones: negative, large, with decimals."""
    chance = random.Random(19)
    made: list[float | int | Decimal] = list(SEED_VALUES)
    for _ in range(400):
        magnitude = 10 ** chance.randint(0, 9)
        made.append(round(chance.uniform(-magnitude, magnitude), chance.randint(0, 4)))
        made.append(chance.randint(-(10**8), 10**8))
        made.append(Decimal(chance.randint(-(10**9), 10**9)).scaleb(-chance.randint(0, 5)))
    return made


def babel_number(value: float | int | Decimal, decimals: int, locale: Locale) -> str:
    """Write a figure the way number() did before it cached its pattern."""
    pattern = "#,##0." + "#" * decimals if decimals else "#,##0"
    rounded = Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)
    return format_decimal(rounded, format=pattern, locale=locale)


def babel_whole_euros(value: float | int | Decimal, locale: Locale) -> str:
    """Write whole euros the way whole_euros() did before it cached its pattern."""
    whole = Decimal(str(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    pattern = locale.currency_formats["standard"].pattern
    return format_currency(
        whole, "EUR", format=pattern.replace(".00", ""), currency_digits=False, locale=locale
    )


@pytest.fixture(scope="module")
def plain_app() -> Flask:
    """An app for its Babel set-up only: no database is read."""
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})


@pytest.mark.parametrize("language", ["en", "fr"])
def test_figures_read_as_babel_writes_them(plain_app: Flask, language: str) -> None:
    locale = Locale.parse(language)
    with plain_app.test_request_context(), force_locale(language):
        assert i18n.number(None) == i18n.euros(None) == i18n.whole_euros(None) == ""
        for value in values():
            for decimals in (0, 1, 2, 3):
                assert i18n.number(value, decimals) == babel_number(value, decimals, locale), (
                    value,
                    decimals,
                )
            assert i18n.euros(value) == format_currency(value, "EUR", locale=locale), value
            assert i18n.whole_euros(value) == babel_whole_euros(value, locale), value


def test_french_figures_are_french(plain_app: Flask) -> None:
    with plain_app.test_request_context(), force_locale("fr"):
        assert i18n.number(1234.5) == "1\u202f234,5"
        assert i18n.whole_euros(1835.5) == "1\u202f836\u00a0€"
    with plain_app.test_request_context(), force_locale("en"):
        assert i18n.number(-0.05) == "-0.1"
        assert i18n.euros(1750) == "€1,750.00"


def moments() -> list[datetime]:
    """Return times over years, across daylight-saving changes, with and without a zone."""
    start = datetime(2024, 1, 1, 0, 30, tzinfo=UTC)
    made = [start + timedelta(hours=7 * n + n % 5, minutes=13 * n) for n in range(1500)]
    made += [datetime(2025, 3, 30, 0, 59), datetime(2025, 10, 26, 1, 0), datetime(1999, 12, 31)]
    return made


@pytest.mark.parametrize("language", ["en", "fr"])
def test_dates_read_as_babel_writes_them(plain_app: Flask, language: str) -> None:
    locale = Locale.parse(language)
    styles = [*i18n.PATTERNS, "EEEE d MMMM y 'at' HH:mm", "medium", "short"]
    with plain_app.test_request_context(), force_locale(language):
        assert i18n.when(None) == ""
        for moment in moments():
            for style in styles:
                pattern = i18n.PATTERNS.get(style, style)
                expected = format_datetime(moment, pattern, tzinfo=PARIS, locale=locale)
                assert i18n.when(moment, style, zone=PARIS) == expected, (moment, style)
            day = moment.date()
            assert i18n.when(day, "long_date") == format_date(day, "EEEE d MMMM y", locale=locale)
            assert i18n.when(day, "short") == format_date(day, "short", locale=locale)
        assert i18n.when(date(2026, 12, 5), "day") == (
            "Sat 5 Dec" if language == "en" else "sam. 5 déc."
        )
