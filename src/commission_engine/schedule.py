"""Installment schedules and what refunds do to them (the entitlement rule).

A commission is rounded once and then allocated over its due dates. A refund
at time t sets a new entitlement (the commission on the net base, rounded
once). Installments due at or before t stay paid; the rest are replaced by an
exact allocation of the entitlement minus what was paid. When more was paid
than the new entitlement, the overpayment is clawed back or kept, as the
plan says; a clawback is its own negative line, never an edit of a past one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from . import money, periods

__all__ = [
    "Clawback",
    "Installment",
    "RefundEvent",
    "Respread",
    "due_calendar",
    "due_dates",
    "run_schedule",
]


@dataclass(frozen=True, slots=True)
class Installment:
    """Installment ``index`` (0-based) of ``count``, due at ``due``."""

    index: int
    count: int
    due: datetime
    amount: Decimal
    respread_by: str | None


@dataclass(frozen=True, slots=True)
class RefundEvent:
    refund_id: str
    at: datetime
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Respread:
    """The change a refund made to the unpaid installments."""

    refund_id: str
    at: datetime
    refunded_total: Decimal
    entitlement: Decimal
    paid: Decimal
    remaining: int


@dataclass(frozen=True, slots=True)
class Clawback:
    """An overpayment taken back after a refund; ``amount`` is positive."""

    refund_id: str
    at: datetime
    amount: Decimal
    entitlement: Decimal
    paid: Decimal


def due_dates(signing_day: date, count: int, zone_name: str) -> tuple[datetime, ...]:
    """Return the instants installments fall due: local midnight of signing day + k months."""
    return tuple(
        periods.start_of_day(periods.add_months(signing_day, k), zone_name)
        for k in range(count)
    )


def due_calendar(signing_day: date, count: int, zone_name: str
                 ) -> tuple[tuple[datetime, str, str], ...]:
    """Return each due instant with its local date (ISO 8601) and its ``YYYY-MM`` period.

    The evaluation caches the result by (signing day, count, zone), so
    contracts signed on the same local day share one schedule.
    """
    return tuple(_due_day(periods.add_months(signing_day, k), zone_name) for k in range(count))


@functools.lru_cache(maxsize=65536)
def _due_day(day: date, zone_name: str) -> tuple[datetime, str, str]:
    """Return the first instant of a local day, with its local date and period.

    Schedules of contracts signed on different days share most of their due
    days, so each day is converted once. The local date of the instant is
    ``day`` except where a zone skipped the whole day.
    """
    due = periods.start_of_day(day, zone_name)
    local = periods.local_date(due, zone_name)
    return due, local.isoformat(), periods.period_of_date(local)


def run_schedule(
    commission: Decimal,
    dues: Sequence[datetime],
    refunds: Sequence[RefundEvent],
    entitlement_after: Callable[[Decimal], Decimal],
    clawback_allowed: Callable[[datetime], bool],
    currency: str,
) -> tuple[list[Installment], list[Respread], list[Clawback]]:
    """Apply refunds, in time order, to the installments of a rounded commission.

    ``entitlement_after(refunded_total)`` returns the rounded commission on
    the net base. ``clawback_allowed(at)`` returns whether the plan claws back
    an overpayment from a refund at that time. Zero installments are dropped.
    """
    count = len(dues)
    amounts = list(money.allocate(commission, count, currency))
    respread_by: list[str | None] = [None] * count
    installments: list[Installment] = []
    respreads: list[Respread] = []
    clawbacks: list[Clawback] = []
    next_index = 0
    paid = Decimal(0)
    refunded = Decimal(0)
    for refund in refunds:
        while next_index < count and dues[next_index] <= refund.at:
            paid += amounts[next_index]
            installments.append(_installment(next_index, count, dues, amounts, respread_by))
            next_index += 1
        refunded += refund.amount
        entitlement = entitlement_after(refunded)
        remaining = count - next_index
        if entitlement >= paid:
            if remaining:
                new_amounts = money.allocate(entitlement - paid, remaining, currency)
                amounts[next_index:] = new_amounts
                respread_by[next_index:] = [refund.refund_id] * remaining
        else:
            amounts[next_index:] = [Decimal(0)] * remaining
            respread_by[next_index:] = [refund.refund_id] * remaining
            if clawback_allowed(refund.at):
                overpaid = paid - entitlement
                clawbacks.append(Clawback(refund.refund_id, refund.at, overpaid, entitlement, paid))
                paid = entitlement
        respreads.append(
            Respread(refund.refund_id, refund.at, refunded, entitlement, paid, remaining)
        )
    for index in range(next_index, count):
        installments.append(_installment(index, count, dues, amounts, respread_by))
    return [i for i in installments if i.amount != 0], respreads, clawbacks


def _installment(index: int, count: int, dues: Sequence[datetime], amounts: list[Decimal],
                 respread_by: list[str | None]) -> Installment:
    return Installment(index, count, dues[index], amounts[index], respread_by[index])
