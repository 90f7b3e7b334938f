"""Closed periods: what was paid stays paid, and every difference is an adjustment.

A caller that has paid statements passes their lines and the last closed
period. Re-evaluation keeps those lines exactly as they were paid; where the
recomputed lines of a closed period differ (a record that arrived late, a
corrected record), the difference becomes an ``adjustment`` line in the first
open period, naming the period and the records it corrects.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from . import explain, money, periods
from .errors import EvaluationError
from .results import PayoutLine

__all__ = ["ClosedPeriods", "apply_closed", "check_closed_as_of", "closed_after_as_of"]

# UTC+14 is the earliest offset in use (Pacific/Kiritimati), so the month of
# an instant there is the latest month any payee can already be in.
_EARLIEST_ZONE = timezone(timedelta(hours=14))


def closed_after_as_of(through: str, as_of: datetime) -> str | None:
    """Describe why ``through`` cannot be closed at ``as_of``, or return None when it can.

    A period that has not begun at ``as_of`` in any time zone cannot have been
    paid, and closing it would turn lines not yet due into adjustments.
    """
    latest = as_of.astimezone(_EARLIEST_ZONE).strftime("%Y-%m")
    if through <= latest:
        return None
    return (f"closed period {through} is after the as-of time {as_of.isoformat()}"
            f" (month {latest})")


def check_closed_as_of(through: str, as_of: datetime) -> None:
    """Raise ``EvaluationError`` when the closed periods run past the month of ``as_of``."""
    problem = closed_after_as_of(through, as_of)
    if problem is not None:
        msg = f"{problem}; close only months up to the as-of month, or evaluate later"
        raise EvaluationError(msg)


@dataclass(frozen=True)
class ClosedPeriods:
    """Periods up to ``through`` (``YYYY-MM``) are paid; ``lines`` is what was paid in them."""

    through: str
    lines: tuple[PayoutLine, ...] = ()

    def __post_init__(self) -> None:
        if not periods.is_period(self.through):
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
                 zones: Mapping[str, str], as_of: datetime) -> list[PayoutLine]:
    """Keep the paid lines of closed periods and add adjustments for every difference."""
    check_closed_as_of(closed.through, as_of)
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
