"""Refunds under a rule on payments: the commission follows the payments net of refunds."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from commission_engine import load_plan, load_records

PLAN = load_plan('''plan "payments" version "1"
currency CNY

commission collected on payment:
    paid to contract.rep
    rate 10% of payment.amount
''')
AS_OF = datetime(2030, 1, 1, tzinfo=timezone.utc)
START = datetime(2024, 1, 1, 2, 0, tzinfo=timezone.utc)

HEADER = [
    {"type": "rep", "id": "R1", "name": "R", "timezone": "Asia/Shanghai", "kind": "staff",
     "team": "HQ", "region": "Beijing", "manager": None},
    {"type": "customer", "id": "C1", "owner": "R1", "referred_by": None,
     "created_at": "2023-12-01T10:00:00+08:00"},
    {"type": "contract", "id": "K1", "customer": "C1", "rep": "R1", "product": "family",
     "amount": "1000000.00", "currency": "CNY", "signed_at": "2023-12-15T10:00:00+08:00",
     "term_months": 12},
]

# (days after START, amount in fen) of each payment and each unnamed refund.
EVENTS = st.lists(st.tuples(st.integers(0, 400), st.integers(1, 5_000_000)), max_size=6)


def _records(payments: list[tuple[int, int]], refunds: list[tuple[int, int]]
             ) -> list[dict[str, Any]]:
    rows = list(HEADER)
    for index, (day, fen) in enumerate(payments):
        rows.append({"type": "payment", "id": f"P{index}", "contract": "K1",
                     "amount": str(Decimal(fen).scaleb(-2)),
                     "paid_at": (START + timedelta(days=day)).isoformat()})
    for index, (day, fen) in enumerate(refunds):
        rows.append({"type": "refund", "id": f"F{index}", "contract": "K1",
                     "amount": str(Decimal(fen).scaleb(-2)), "reason": "request",
                     "refunded_at": (START + timedelta(days=day, hours=1)).isoformat()})
    return rows


@settings(max_examples=150, deadline=None)
@given(payments=EVENTS, refunds=EVENTS)
def test_unnamed_refunds_follow_net_payments(payments: list[tuple[int, int]],
                                             refunds: list[tuple[int, int]]) -> None:
    result = PLAN.evaluate(load_records(_records(payments, refunds)), AS_OF)

    paid = sum((Decimal(fen) for _day, fen in payments), Decimal(0)).scaleb(-2)
    refunded = sum((Decimal(fen) for _day, fen in refunds), Decimal(0)).scaleb(-2)
    expected = (Decimal("0.10") * max(paid - refunded, Decimal(0))).quantize(
        Decimal("0.01"), ROUND_HALF_UP)
    assert sum((line.amount for line in result.lines), Decimal(0)) == expected


@settings(max_examples=150, deadline=None)
@given(payments=EVENTS, refunds=EVENTS)
def test_running_commission_never_negative(payments: list[tuple[int, int]],
                                           refunds: list[tuple[int, int]]) -> None:
    result = PLAN.evaluate(load_records(_records(payments, refunds)), AS_OF)

    # Lines at one instant (a payment and a waiting refund it absorbs) count together.
    by_instant: dict[datetime, Decimal] = {}
    for line in result.lines:
        by_instant[line.due] = by_instant.get(line.due, Decimal(0)) + line.amount
    running = Decimal(0)
    for instant in sorted(by_instant):
        running += by_instant[instant]
        assert running >= 0, instant
