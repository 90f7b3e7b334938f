"""Locale-aware formatting of money, dates, months and numbers, through Babel.

The language is always an argument (``"en"`` or ``"zh-CN"``); nothing here
reads the process locale or the environment. Money always shows the
currency's ISO 4217 minor digits from ``money``, never Babel's CLDR digits,
which follow cash rounding for some currencies.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext

from babel import Locale
from babel.dates import format_date, format_skeleton
from babel.numbers import NumberPattern

from . import money

__all__ = ["LANGUAGES", "Formatter", "formatter"]

# The payslip languages, by the tag a caller passes, mapped to the CLDR locale.
LANGUAGES: dict[str, str] = {
    "en": "en",
    "zh-CN": "zh_Hans_CN",
}


@dataclass(frozen=True)
class Formatter:
    """A formatter of money, dates and months for one language."""

    lang: str
    locale: Locale

    def money(self, amount: Decimal, currency: str) -> str:
        """Write an amount with the currency's symbol and exactly its minor digits."""
        digits = money.minor_digits(currency)
        # The amount is quantised first, so Babel's own rounding, which reads
        # the ambient decimal context, never changes a digit.
        exact = Decimal(money.format_amount(amount, currency))
        pattern = _currency_pattern(self.locale, digits)
        with localcontext(money.EVALUATION_CONTEXT):
            text: str = pattern.apply(exact, self.locale, currency=currency,
                                      currency_digits=False)
        return text

    def exact(self, amount: Decimal, currency: str) -> str:
        """Write an unrounded amount without a symbol: at least the minor digits, and every digit.

        ``37.065`` stays ``37.065``; ``1000.0000`` in CNY becomes ``1,000.00``.
        """
        exponent = amount.normalize(money.EVALUATION_CONTEXT).as_tuple().exponent
        assert isinstance(exponent, int), "amounts are finite"
        digits = max(money.minor_digits(currency), -exponent)
        pattern = _decimal_pattern(self.locale, digits)
        with localcontext(money.EVALUATION_CONTEXT):
            text: str = pattern.apply(amount, self.locale)
        return text

    def date(self, day: date | str) -> str:
        """Write a calendar date in the locale's long form (``March 5, 2025``, ``2025年3月5日``)."""
        if isinstance(day, str):
            day = date.fromisoformat(day)
        return format_date(day, "long", locale=self.locale)

    def period(self, period: str) -> str:
        """Write a ``YYYY-MM`` period as a month and year (``March 2025``, ``2025年3月``)."""
        year, month = period.split("-")
        return format_skeleton("yMMMM", date(int(year), int(month), 1), locale=self.locale)

    def short_month(self, period: str) -> str:
        """Write a ``YYYY-MM`` period's month in short form (``Mar``, ``3月``)."""
        year, month = period.split("-")
        return format_skeleton("MMM", date(int(year), int(month), 1), locale=self.locale)


@functools.lru_cache(maxsize=16)
def _currency_pattern(locale: Locale, digits: int) -> NumberPattern:
    pattern: NumberPattern = copy.copy(locale.currency_formats["standard"])
    pattern.frac_prec = (digits, digits)
    return pattern


@functools.lru_cache(maxsize=64)
def _decimal_pattern(locale: Locale, digits: int) -> NumberPattern:
    pattern: NumberPattern = copy.copy(locale.decimal_formats[None])
    pattern.frac_prec = (digits, digits)
    return pattern


@functools.lru_cache(maxsize=len(LANGUAGES))
def formatter(lang: str) -> Formatter:
    """Return the formatter of a language tag; raise ``ValueError`` for an unknown one."""
    if lang not in LANGUAGES:
        known = ", ".join(LANGUAGES)
        msg = f"language {lang!r} is not supported; use one of {known}"
        raise ValueError(msg)
    return Formatter(lang, Locale.parse(LANGUAGES[lang]))
