"""Closed periods never change; late and corrected records become adjustments."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from helpers import one_contract
from hypothesis import given, settings
from hypothesis import strategies as st

from commission_engine import ClosedPeriods, EvaluationError, load_plan, load_records

PLAN = load_plan('''plan "f16" version "1"
currency CNY

commission collected on payment:
    paid to contract.rep
    rate of payment.amount:
        10% otherwise, until 2024-03-31
        12% otherwise, from 2024-04-01
''')
AS_OF = datetime.fromisoformat("2024-12-31T00:00:00+08:00")


def records(*payments: tuple[str, str, str]) -> list[dict[str, Any]]:
    rows = one_contract("100000.00", "2024-03-01T00:00:00+08:00")
    rows += [{"type": "payment", "id": pid, "contract": "K1", "amount": amount, "paid_at": at}
             for pid, amount, at in payments]
    return rows


P1 = ("P1", "10000.00", "2024-03-10T10:00:00+08:00")
P2 = ("P2", "5000.00", "2024-03-28T10:00:00+08:00")
P3 = ("P3", "10000.00", "2024-04-15T10:00:00+08:00")


def test_late_payment_becomes_adjustment() -> None:
    """F16: March stays 1,000.00; April pays 1,200.00 and a 500.00 adjustment."""
    paid_in_march = PLAN.evaluate(load_records(records(P1)),
                                  datetime.fromisoformat("2024-03-31T23:00:00+08:00"))
    closed = ClosedPeriods("2024-03", paid_in_march.lines)

    result = PLAN.evaluate(load_records(records(P1, P2, P3)), AS_OF, closed=closed)

    march = result.statement("R1", "2024-03")
    april = result.statement("R1", "2024-04")
    assert march is not None and april is not None
    assert march.total == Decimal("1000.00")
    assert april.total == Decimal("1700.00")
    adjustment = [line for line in april.lines if line.kind == "adjustment"]
    assert len(adjustment) == 1
    assert adjustment[0].amount == Decimal("500.00")
    assert adjustment[0].sources == ("K1", "P2")
    assert "closed period 2024-03" in adjustment[0].explain()


def test_closed_lines_must_be_closed() -> None:
    paid = PLAN.evaluate(load_records(records(P1, P3)), AS_OF)

    with pytest.raises(EvaluationError, match="periods after 2024-03"):
        ClosedPeriods("2024-03", paid.lines)


def test_closed_through_must_be_month() -> None:
    with pytest.raises(EvaluationError, match="not a month"):
        ClosedPeriods("March")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 100_000), st.integers(0, 200)), min_size=1,
                max_size=6))
def test_closed_statement_never_changes(late: list[tuple[int, int]]) -> None:
    """A closed period's statement is identical before and after any later record."""
    first = PLAN.evaluate(load_records(records(P1, P2)),
                          datetime.fromisoformat("2024-04-01T00:00:00+08:00"))
    closed = ClosedPeriods("2024-03", tuple(l for l in first.lines if l.period <= "2024-03"))
    extra = []
    for index, (cents, day) in enumerate(late):
        moment = datetime.fromordinal(datetime(2024, 3, 1).toordinal() + day)
        extra.append((f"X{index}", format(Decimal(cents).scaleb(-2), "f"),
                      moment.strftime("%Y-%m-%dT10:00:00+08:00")))

    result = PLAN.evaluate(load_records(records(P1, P2, *extra)), AS_OF, closed=closed)

    before = first.statement("R1", "2024-03")
    after = result.statement("R1", "2024-03")
    assert before is not None and after is not None
    assert after.lines == before.lines
    assert after.total == before.total


def test_closed_period_after_as_of_rejected() -> None:
    rows = records(P1, P2)
    as_of = datetime.fromisoformat("2024-03-30T00:00:00+08:00")

    with pytest.raises(EvaluationError) as caught:
        PLAN.evaluate(load_records(rows), as_of, closed=ClosedPeriods("2024-06"))

    assert str(caught.value).startswith(
        "closed period 2024-06 is after the as-of time 2024-03-30T00:00:00+08:00"
        " (month 2024-03)")


def test_closed_as_of_month_accepted() -> None:
    as_of = datetime.fromisoformat("2024-03-31T23:00:00-10:00")

    result = PLAN.evaluate(load_records(records(P1, P2)), as_of,
                           closed=ClosedPeriods("2024-04"))

    assert all(line.kind != "adjustment" or line.period == "2024-05" for line in result.lines)
