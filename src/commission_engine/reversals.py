"""The allocation of a contract's refunds to its payments, under a rule on payments.

A refund that names a payment reverses that payment. A refund that names
none reverses the payments received before it, latest first, each up to
what earlier refunds left of it. Any part of it beyond the payments received
so far waits, and reverses the next payments as they arrive, at their time.
So the reversed amounts never exceed what was paid, and the commission
always follows the payments net of refunds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from .records import Payment, Refund

__all__ = ["Movement", "allocate"]


@dataclass(frozen=True, slots=True)
class Movement:
    """A payment arriving, or the part of one refund taken back at ``moment``.

    ``parts`` pairs each payment the record moves with the amount it moves:
    the payment itself with its whole amount, or the payments a refund
    reverses, latest first.
    """

    moment: datetime
    record: Payment | Refund
    parts: tuple[tuple[Payment, Decimal], ...]


def allocate(payments: Sequence[Payment], refunds: Iterable[Refund]) -> list[Movement]:
    """Return the contract's payments and the reversals of its refunds, in time order.

    Records at the same instant are ordered payments first, then by id. A
    refund waiting for payments is reversed at the time of the payment that
    absorbs it, right after that payment.
    """
    events: list[tuple[datetime, int, str, Payment | Refund]] = [
        (p.paid_at, 0, p.id, p) for p in payments]
    events += [(r.refunded_at, 1, r.id, r) for r in refunds]
    events.sort(key=lambda event: event[:3])
    by_id = {payment.id: payment for payment in payments}
    left: dict[str, Decimal] = {}
    received: list[Payment] = []
    waiting: list[tuple[Refund, Decimal]] = []
    out: list[Movement] = []
    for moment, _order, _id, record in events:
        if isinstance(record, Payment):
            out.append(Movement(moment, record, ((record, record.amount),)))
            received.append(record)
            left[record.id] = record.amount
            waiting = _take_waiting(waiting, record, moment, left, out)
        elif record.payment is not None and record.payment in by_id:
            named = by_id[record.payment]
            out.append(Movement(moment, record, ((named, record.amount),)))
            left[named.id] = max(left[named.id] - record.amount, Decimal(0))
        else:
            parts, rest = _take_latest(record.amount, received, left)
            if parts:
                out.append(Movement(moment, record, parts))
            if rest > 0:
                waiting.append((record, rest))
    return out


def _take_latest(amount: Decimal, received: list[Payment], left: dict[str, Decimal]
                 ) -> tuple[tuple[tuple[Payment, Decimal], ...], Decimal]:
    """Take ``amount`` from the payments received so far, latest first; return the parts and the rest."""
    parts = []
    for payment in reversed(received):
        if amount <= 0:
            break
        part = min(amount, left[payment.id])
        if part > 0:
            parts.append((payment, part))
            left[payment.id] -= part
            amount -= part
    return tuple(parts), amount


def _take_waiting(waiting: list[tuple[Refund, Decimal]], payment: Payment, moment: datetime,
                  left: dict[str, Decimal], out: list[Movement]) -> list[tuple[Refund, Decimal]]:
    """Reverse the refunds still waiting from a payment that just arrived, oldest first."""
    still: list[tuple[Refund, Decimal]] = []
    for refund, amount in waiting:
        part = min(amount, left[payment.id])
        if part > 0:
            out.append(Movement(moment, refund, ((payment, part),)))
            left[payment.id] -= part
        if amount > part:
            still.append((refund, amount - part))
    return still
