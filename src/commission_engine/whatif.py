"""What-if: what a plan change would move, per payee and period, with totals.

``compare_plans`` evaluates two plans over the same records at the same as-of
time and sets each payee's period total under one beside the other. Owed
lines (due at or before the as-of time) and scheduled lines are compared
apart, so a change that only moves money later is visible as such.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from . import money
from .compile import CompiledPlan
from .errors import EvaluationError
from .explain import show_money
from .records import RecordSet
from .results import PayoutLine, Result

__all__ = ["PeriodChange", "PlanDiff", "compare_plans", "render_diff"]


@dataclass(frozen=True, slots=True)
class PeriodChange:
    """One payee's total in one period under plan A and plan B, and the change (B - A)."""

    payee: str
    period: str
    before: Decimal
    after: Decimal

    @property
    def change(self) -> Decimal:
        """Plan B's total less plan A's."""
        return self.after - self.before

    def to_dict(self, currency: str) -> dict[str, Any]:
        """Return the row as JSON-ready data, amounts as exact strings."""
        return {"payee": self.payee, "period": self.period,
                "before": money.format_amount(self.before, currency),
                "after": money.format_amount(self.after, currency),
                "change": money.format_amount(self.change, currency)}


@dataclass(frozen=True)
class PlanDiff:
    """Two evaluations of the same record set, side by side.

    ``owed`` and ``scheduled`` list every payee and period with lines under
    either plan, sorted by payee and period, changed or not.
    """

    before: Result
    after: Result
    owed: tuple[PeriodChange, ...]
    scheduled: tuple[PeriodChange, ...]

    @property
    def currency(self) -> str:
        """The currency both plans pay in."""
        return self.before.currency

    def changed(self) -> tuple[PeriodChange, ...]:
        """Return the owed rows whose total differs between the plans."""
        return tuple(row for row in self.owed if row.change != 0)

    def payee_totals(self) -> tuple[PeriodChange, ...]:
        """Sum the owed rows by payee; ``period`` is empty in each total."""
        return _totals(self.owed)

    def total(self) -> PeriodChange:
        """Return the owed total of every payee under both plans."""
        return PeriodChange("", "", money.total(row.before for row in self.owed),
                            money.total(row.after for row in self.owed))

    def scheduled_total(self) -> PeriodChange:
        """Return the scheduled total of every payee under both plans."""
        return PeriodChange("", "", money.total(row.before for row in self.scheduled),
                            money.total(row.after for row in self.scheduled))

    def to_dict(self) -> dict[str, Any]:
        """Return the comparison as JSON-ready data."""
        currency = self.currency
        return {
            "before": {"plan": self.before.plan_name, "version": self.before.plan_version,
                       "digest": self.before.digest},
            "after": {"plan": self.after.plan_name, "version": self.after.plan_version,
                      "digest": self.after.digest},
            "as_of": self.before.as_of.isoformat(),
            "currency": currency,
            "owed": [row.to_dict(currency) for row in self.owed],
            "payees": [row.to_dict(currency) for row in self.payee_totals()],
            "total": self.total().to_dict(currency),
            "scheduled": [row.to_dict(currency) for row in self.scheduled],
            "scheduled_total": self.scheduled_total().to_dict(currency),
        }


def compare_plans(plan_a: CompiledPlan, plan_b: CompiledPlan, records: RecordSet,
                  as_of: datetime, rounding: str | None = None) -> PlanDiff:
    """Evaluate both plans over ``records`` at ``as_of`` and compare them per payee and period."""
    if plan_a.currency != plan_b.currency:
        msg = (f"plan {plan_a.name!r} pays in {plan_a.currency} and plan {plan_b.name!r} in"
               f" {plan_b.currency}; compare plans of one currency")
        raise EvaluationError(msg)
    before = plan_a.evaluate(records, as_of, rounding)
    after = plan_b.evaluate(records, as_of, rounding)
    return PlanDiff(before, after, _rows(before.lines, after.lines),
                    _rows(before.schedule, after.schedule))


def _sums(lines: Iterable[PayoutLine]) -> dict[tuple[str, str], Decimal]:
    grouped: dict[tuple[str, str], list[Decimal]] = {}
    for line in lines:
        grouped.setdefault((line.payee, line.period), []).append(line.amount)
    return {key: money.total(amounts) for key, amounts in grouped.items()}


def _rows(before: Iterable[PayoutLine], after: Iterable[PayoutLine]
          ) -> tuple[PeriodChange, ...]:
    sums_a, sums_b = _sums(before), _sums(after)
    zero = Decimal(0)
    return tuple(PeriodChange(payee, period, sums_a.get((payee, period), zero),
                              sums_b.get((payee, period), zero))
                 for payee, period in sorted(sums_a.keys() | sums_b.keys()))


def _totals(rows: Iterable[PeriodChange]) -> tuple[PeriodChange, ...]:
    by_payee: dict[str, list[PeriodChange]] = {}
    for row in rows:
        by_payee.setdefault(row.payee, []).append(row)
    return tuple(PeriodChange(payee, "", money.total(r.before for r in members),
                              money.total(r.after for r in members))
                 for payee, members in sorted(by_payee.items()))


def _signed(amount: Decimal, currency: str) -> str:
    text = show_money(amount, currency)
    return text if amount < 0 else f"+{text}"


def render_diff(diff: PlanDiff, show_all: bool = False) -> str:
    """Render the comparison as a plain-text table: changed periods, payee totals, the total.

    With ``show_all`` every payee and period is listed, changed or not.
    """
    currency = diff.currency
    before, after = diff.before, diff.after
    out = [f"plan A {before.plan_name} version {before.plan_version}",
           f"plan B {after.plan_name} version {after.plan_version}",
           f"as of {before.as_of.isoformat()}, currency {currency}, amounts owed by then",
           ""]
    rows = diff.owed if show_all else diff.changed()
    header = f"{'payee':<12} {'period':<8} {'plan A':>14} {'plan B':>14} {'change':>14}"
    out.append(header)
    for row in rows:
        out.append(_row_text(row.payee, row.period, row, currency))
    if not rows:
        out.append("(no payee and period changes)")
    out.append("")
    for row in diff.payee_totals():
        if show_all or row.change != 0:
            out.append(_row_text(row.payee, "total", row, currency))
    out.append(_row_text("all payees", "total", diff.total(), currency))
    scheduled = diff.scheduled_total()
    out.append(_row_text("scheduled", "later", scheduled, currency))
    changed = len(diff.changed())
    out.append("")
    out.append(f"{changed} of {len(diff.owed)} payee periods change;"
               f" owed total {_signed(diff.total().change, currency)} {currency},"
               f" scheduled {_signed(scheduled.change, currency)} {currency}")
    return "\n".join(out) + "\n"


def _row_text(payee: str, period: str, row: PeriodChange, currency: str) -> str:
    return (f"{payee:<12} {period:<8} {show_money(row.before, currency):>14}"
            f" {show_money(row.after, currency):>14} {_signed(row.change, currency):>14}")
