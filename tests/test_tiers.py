"""Tiers over a payee's period total, flat and marginal."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from helpers import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

from commission_engine import load_plan, load_records
from commission_engine.examples import example_records

PLANS = ROOT / "tests" / "plans"


def test_marginal_lines_event_by_event() -> None:
    plan = load_plan((PLANS / "field-tiers.plan").read_text(encoding="utf-8"))
    example = plan.checked.tree.examples[0]
    records = load_records(example_records(plan, example))

    result = plan.evaluate(records, example.as_of)

    assert [line.amount for line in result.lines] == [
        Decimal("2000.00"), Decimal("2100.00"), Decimal("3900.00")]
    assert [line.sources for line in result.lines] == [("K1", "P1"), ("K1", "P2"), ("K1", "P3")]


MARGINAL = '''plan "t" version "1"
currency CNY

commission tiered on payment:
    paid to contract.rep
    tiers of payment.amount per period, marginal:
        5% up to 50,000.00
        8% below 100,000.00
        10% above
'''


def _marginal(total: Decimal) -> Decimal:
    bands = [(Decimal("50000"), Decimal("0.05")), (Decimal("100000"), Decimal("0.08")),
             (None, Decimal("0.10"))]
    commission = Decimal(0)
    lower = Decimal(0)
    for upper, rate in bands:
        top = total if upper is None else min(total, upper)
        if top > lower:
            commission += rate * (top - lower)
        if upper is None or total <= upper:
            break
        lower = upper
    return commission.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(1, 6_000_000), min_size=1, max_size=8))
def test_marginal_events_sum_to_period_total(cents: list[int]) -> None:
    """Priced event by event, the lines of a month sum to the tiers of its total."""
    amounts = [Decimal(c).scaleb(-2) for c in cents]
    rows = [
        {"type": "rep", "id": "R1", "name": "R", "timezone": "Asia/Shanghai", "kind": "staff",
         "team": "", "region": "", "manager": None},
        {"type": "customer", "id": "C1", "owner": "R1", "referred_by": None,
         "created_at": "2024-01-01T00:00:00+08:00"},
        {"type": "contract", "id": "K1", "customer": "C1", "rep": "R1", "product": "f",
         "amount": format(sum(amounts), "f"), "currency": "CNY",
         "signed_at": "2024-03-01T00:00:00+08:00", "term_months": 1},
    ]
    rows += [{"type": "payment", "id": f"P{index}", "contract": "K1", "amount": format(a, "f"),
              "paid_at": f"2024-03-{index + 2:02d}T10:00:00+08:00"}
             for index, a in enumerate(amounts)]

    result = load_plan(MARGINAL).evaluate(load_records(rows),
                                          datetime.fromisoformat("2025-01-01T00:00:00+08:00"))

    assert sum(line.amount for line in result.lines) == _marginal(sum(amounts))
