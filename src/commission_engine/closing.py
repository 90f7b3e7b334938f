"""Closed periods: what was paid stays paid, and every difference is an adjustment.

A caller that has paid statements passes their lines and the last closed
period. Re-evaluation keeps those lines exactly as they were paid; where the
recomputed lines of a closed period differ (a record that arrived late, a
corrected record), the difference becomes an ``adjustment`` line in the first
open period, naming the period and the records it corrects.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from . import explain, money, periods
from .errors import EvaluationError
from .results import PayoutLine

__all__ = ["ClosedPeriods", "apply_closed"]

_PERIOD = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")


@dataclass(frozen=True)
class ClosedPeriods:
    """Periods up to ``through`` (``YYYY-MM``) are paid; ``lines`` is what was paid in them."""

    through: str
    lines: tuple[PayoutLine, ...] = ()

    def __post_init__(self) -> None:
        if not _PERIOD.fullmatch(self.through):
            msg = f"closed period {self.through!r} is not a month; write it as YYYY-MM"
            raise EvaluationError(msg)
        late = sorted({line.period for line in self.lines if line.period > self.through})
        if late:
            msg = (f"the closed lines include periods after {self.through} ({', '.join(late)});"
                   " pass only the lines of closed periods")
            raise EvaluationError(msg)


def _key(line: PayoutLine) -> tuple[str, str, str, str, tuple[str, ...]]:
    return (line.payee, line.period, line.rule, line.kind, line.sources)


def apply_closed(lines: Sequence[PayoutLine], closed: ClosedPeriods, currency: str,
                 zones: Mapping[str, str]) -> list[PayoutLine]:
    """Keep the paid lines of closed periods and add adjustments for every difference."""
    recomputed: dict[tuple[str, str, str, str, tuple[str, ...]], list[Decimal]] = {}
    kept = [line for line in lines if line.period > closed.through]
    for line in lines:
        if line.period <= closed.through:
            recomputed.setdefault(_key(line), []).append(line.amount)
    paid: dict[tuple[str, str, str, str, tuple[str, ...]], list[Decimal]] = {}
    for line in closed.lines:
        paid.setdefault(_key(line), []).append(line.amount)
    first_open = periods.shift_period(closed.through, 1)
    adjustments = []
    for key in sorted(set(recomputed) | set(paid)):
        now = money.total(recomputed.get(key, []))
        before = money.total(paid.get(key, []))
        difference = money.total((now, -before))
        if difference == 0:
            continue
        payee, period, rule, kind, sources = key
        zone = zones.get(payee, "UTC")
        due = periods.start_of_day(date(int(first_open[:4]), int(first_open[5:]), 1), zone)
        step = explain.adjustment_step(period, kind, sources, before, now, difference, currency)
        adjustments.append(PayoutLine(payee, first_open, "adjustment", rule, difference, currency,
                                      sources, (step,), due))
    return [*closed.lines, *kept, *adjustments]
