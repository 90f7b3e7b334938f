"""Bounds on plan text and records, so that no input can make the library hang.

Each bound is a field of ``Limits``. ``DEFAULT_LIMITS`` is used unless the
caller passes another value to ``load_plan``, ``load_records`` or
``load_jsonl``, or gives ``--limit NAME=N`` on the command line. Every error
that reports a passed bound names the field, so the caller knows what to raise.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal

__all__ = ["DEFAULT_LIMITS", "Limits", "raise_hint"]

# The checker, compiler and evaluator recurse once per level of an expression,
# several Python frames each, so nesting past this overflows Python's default
# recursion limit of 1000 frames.
_NESTING_CEILING = 150
# Money is exact only while every product fits the evaluation context's 60
# digits: an amount of 24 digits times a rate literal of 30 digits still does.
_AMOUNT_DIGITS_CEILING = 24


@dataclass(frozen=True, slots=True)
class Limits:
    """The bounds on one plan or one batch of records; every field is a positive int.

    Build a changed copy with ``Limits(max_rules=5000)`` or
    ``dataclasses.replace(limits, max_rules=5000)``.
    """

    # Size of a plan text, in characters.
    max_plan_chars: int = 1_000_000
    # Levels an expression may nest: each sign, operator, comparison or 'not'.
    max_nesting: int = 100
    # Rules in one plan.
    max_rules: int = 1_000
    # Digits of one number literal in a plan, before and after the point.
    max_number_digits: int = 30
    # Largest magnitude of the exponent of a number in a record: 1E+40 has 40.
    max_exponent: int = 30
    # Digits before the point of a record amount: amounts are below 10**18.
    max_amount_digits: int = 18
    # Months a contract may run (its term_months).
    max_term_months: int = 600
    # Installments one commission may be paid in.
    max_installments: int = 600
    # Maximum window, delay or override level a plan may name, in days, months or levels.
    max_duration: int = 36_600
    # Errors listed in one PlanError or RecordError; the rest are counted.
    max_reported_errors: int = 100
    # Length of one line of JSON Lines records, in characters.
    max_record_line_chars: int = 100_000

    def __post_init__(self) -> None:
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                msg = f"Limits.{item.name} must be a whole number of at least 1, not {value!r}"
                raise ValueError(msg)
        if self.max_nesting > _NESTING_CEILING:
            msg = (f"Limits.max_nesting {self.max_nesting} is above {_NESTING_CEILING}, the"
                   " deepest nesting the checker can recurse through; split deep formulas")
            raise ValueError(msg)
        if self.max_amount_digits > _AMOUNT_DIGITS_CEILING:
            msg = (f"Limits.max_amount_digits {self.max_amount_digits} is above"
                   f" {_AMOUNT_DIGITS_CEILING}, past which products of amounts and rates"
                   " no longer fit the 60 digits of exact arithmetic")
            raise ValueError(msg)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """Return the field names, in declaration order."""
        return tuple(item.name for item in dataclasses.fields(cls))

    def replace(self, **changes: int) -> Limits:
        """Return a copy with some bounds changed; raise ``ValueError`` for an unknown name."""
        unknown = sorted(set(changes) - set(self.names()))
        if unknown:
            msg = (f"unknown limit {unknown[0]!r}; the limits are {', '.join(self.names())}")
            raise ValueError(msg)
        return dataclasses.replace(self, **changes)

    def exponent_fits(self, value: Decimal) -> bool:
        """Tell whether a finite Decimal's exponent is within ``max_exponent``.

        Checked before any arithmetic, because ``int(Decimal("1E+999999999"))``
        builds a billion-digit integer.
        """
        exponent = value.as_tuple().exponent
        return isinstance(exponent, int) and abs(exponent) <= self.max_exponent


DEFAULT_LIMITS = Limits()


def raise_hint(name: str) -> str:
    """Return how to raise the bound ``name``, for the fix of an error."""
    return f"to allow more, raise {name} with Limits({name}=...) or --limit {name}=N"
