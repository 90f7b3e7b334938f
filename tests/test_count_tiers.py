"""Tiers by count: the rate chosen by how many records a payee has in a period."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commission_engine import PlanError, load_plan, load_records

HEADER = '''plan "t" version "1"
currency CNY
'''

FLAT = load_plan(HEADER + '''
commission volume on contract:
    paid to contract.rep
    tiers of contract.amount per period by count, flat:
        5% up to 2
        8% above
''')

MARGINAL = load_plan(HEADER + '''
commission volume on contract:
    paid to contract.rep
    tiers of contract.amount per period by count, marginal:
        5% up to 2
        8% below 4
        10% above
''')

AS_OF = datetime.fromisoformat("2025-12-31T00:00:00+08:00")


def _rows(amounts: list[str], extra: tuple[dict[str, Any], ...] = ()) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {"type": "rep", "id": "R1", "name": "R1", "timezone": "Asia/Shanghai", "kind": "staff",
         "team": "", "region": "", "manager": None},
        {"type": "customer", "id": "C1", "owner": "R1", "referred_by": None,
         "created_at": "2024-12-01T00:00:00+08:00"},
    ]
    for index, amount in enumerate(amounts):
        rows.append({"type": "contract", "id": f"K{index + 1}", "customer": "C1", "rep": "R1",
                     "product": "family", "amount": amount, "currency": "CNY",
                     "signed_at": f"2025-03-{index + 1:02d}T10:00:00+08:00", "term_months": 1})
    return [*rows, *extra]


def _amounts(plan: Any, rows: list[dict[str, Any]]) -> list[tuple[str, Decimal]]:
    result = plan.evaluate(load_records(rows), AS_OF)
    return [(line.kind, line.amount) for line in result.lines]


def test_flat_count_reprices_whole_period() -> None:
    # Two contracts at 5%: 50.00 and 100.00. The third moves the period to 8%
    # on all 4,000.00: 320.00 in all, so its line is 320.00 - 150.00 = 170.00.
    assert _amounts(FLAT, _rows(["1000.00", "2000.00", "1000.00"])) == [
        ("commission", Decimal("50.00")),
        ("commission", Decimal("100.00")),
        ("commission", Decimal("170.00")),
    ]


def test_marginal_count_prices_each_place() -> None:
    # Places 1-2 at 5%, place 3 at 8% (below 4), places 4 on at 10%.
    assert _amounts(MARGINAL, _rows(["1000.00", "1000.00", "1000.00", "1000.00", "333.33"])) == [
        ("commission", Decimal("50.00")),
        ("commission", Decimal("50.00")),
        ("commission", Decimal("80.00")),
        ("commission", Decimal("100.00")),
        ("commission", Decimal("33.33")),
    ]


def test_refund_reverses_at_its_record_rate() -> None:
    refund = {"type": "refund", "id": "F1", "contract": "K1", "amount": "500.00",
              "refunded_at": "2025-03-20T10:00:00+08:00", "reason": "r"}
    rows = _rows(["1000.00", "1000.00", "1000.00"], (refund,))

    # K1 was the first place, at 5%: its refund takes back 25.00, and the
    # count stays at 3.
    assert _amounts(MARGINAL, rows) == [
        ("commission", Decimal("50.00")),
        ("commission", Decimal("50.00")),
        ("commission", Decimal("80.00")),
        ("clawback", Decimal("-25.00")),
    ]


def test_count_tier_explained() -> None:
    result = FLAT.evaluate(load_records(_rows(["1000.00", "2000.00", "1000.00"])), AS_OF)

    assert result.lines[2].explanation[0].text == (
        "volume tiers by count (flat): 3 records in the period, all of the period total"
        " 4,000.00 at 8% = 320.0000")


def test_count_bound_must_be_whole() -> None:
    with pytest.raises(PlanError) as caught:
        load_plan(HEADER + '''
commission volume on contract:
    paid to contract.rep
    tiers of contract.amount per period by count, flat:
        5% up to 2.5
        8% above
''')

    errors = [(d.line, d.message, d.hint) for d in caught.value.diagnostics]
    assert errors == [(7, "a tier by count needs a whole number of records, not 2.5",
                       "write a count such as 'up to 5'")]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(1, 1_000_000), min_size=1, max_size=9))
def test_marginal_count_sums_to_places(cents: list[int]) -> None:
    """The lines of a period sum to each record at its place's rate, rounded once."""
    amounts = [Decimal(value).scaleb(-2) for value in cents]
    rates = [Decimal("0.05"), Decimal("0.05"), Decimal("0.08")] + [Decimal("0.10")] * 6

    result = MARGINAL.evaluate(load_records(_rows([str(a) for a in amounts])), AS_OF)

    exact = sum((rate * amount for rate, amount in zip(rates, amounts)), Decimal(0))
    expected = exact.quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert sum((line.amount for line in result.lines), Decimal(0)) == expected
