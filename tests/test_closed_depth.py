"""Closed periods stay as paid under quotas, accelerators, caps and draws."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from helpers import one_contract
from hypothesis import given, settings
from hypothesis import strategies as st

from commission_engine import ClosedPeriods, load_plan, load_records

PLAN = load_plan('''plan "deep" version "1"
currency CNY

quota cash on payment:
    measure total of payment.amount
    target 20,000.00

commission collected on payment:
    paid to contract.rep
    rate 10% of payment.amount
    accelerate by cash attainment:
        1x below 100%
        1.5x above
    cap 2,500.00 per period

draw ramp of collected:
    recoverable 1,500.00 per period
    recover at most 400.00 per period
    from 2024-03 until 2024-04
''')
AS_OF = datetime.fromisoformat("2024-12-31T00:00:00+08:00")
CLOSED_AT = datetime.fromisoformat("2024-04-01T00:00:00+08:00")


def _records(payments: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
    rows = one_contract("1000000.00", "2024-03-01T00:00:00+08:00")
    rows += [{"type": "payment", "id": pid, "contract": "K1", "amount": amount, "paid_at": at}
             for pid, amount, at in payments]
    return rows


EARLY = [("P1", "12000.00", "2024-03-10T10:00:00+08:00")]


def _payments(late: list[tuple[int, int]]) -> list[tuple[str, str, str]]:
    extra = []
    for index, (cents, day) in enumerate(late):
        moment = datetime.fromordinal(datetime(2024, 3, 1).toordinal() + day)
        extra.append((f"X{index}", format(Decimal(cents).scaleb(-2), "f"),
                      moment.strftime("%Y-%m-%dT10:00:00+08:00")))
    return extra


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 2_000_000), st.integers(0, 150)), min_size=1,
                max_size=6))
def test_closed_period_survives_late_records(late: list[tuple[int, int]]) -> None:
    """A closed March is identical after any later payment, and the books still balance."""
    first = PLAN.evaluate(load_records(_records(EARLY)), CLOSED_AT)
    paid = tuple(line for line in first.lines if line.period <= "2024-03")
    closed = ClosedPeriods("2024-03", paid)

    rows = _records(EARLY + _payments(late))
    result = PLAN.evaluate(load_records(rows), AS_OF, closed=closed)
    reference = PLAN.evaluate(load_records(rows), AS_OF)

    before = first.statement("R1", "2024-03")
    after = result.statement("R1", "2024-03")
    assert before is not None and after is not None
    assert after.lines == before.lines
    assert after.total == before.total
    assert after.draw_balance == before.draw_balance
    # Adjustments carry every difference, so the total paid matches a fresh run.
    assert sum(line.amount for line in result.lines) == sum(
        line.amount for line in reference.lines)
