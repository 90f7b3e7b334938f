"""Field cases of invalid input, tested through the Python API.

Every field case also runs as an example in the plans under tests/plans:
F15, F16 and F17 in field-closed-and-invalid.plan, with ``expect invalid``
and ``closed through``. F16 through the API is in test_closed_periods.py.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from helpers import one_contract

from commission_engine import RecordError, load_plan, load_records

PLAN = load_plan('plan "f" version "1"\ncurrency CNY\n\n'
                 "commission collected on payment:\n    paid to contract.rep\n"
                 "    rate 10% of payment.amount\n")


def rows(*payments: dict[str, Any]) -> list[dict[str, Any]]:
    return [*one_contract("10000.00", "2024-03-01T00:00:00+08:00"), *payments]


def payment(payment_id: str) -> dict[str, Any]:
    return {"type": "payment", "id": payment_id, "contract": "K1", "amount": "1000.00",
            "paid_at": "2024-03-05T10:00:00+08:00"}


def test_f15_same_record_twice_is_invalid() -> None:
    with pytest.raises(RecordError) as caught:
        load_records(rows(payment("P1"), payment("P1")))

    assert [p.render() for p in caught.value.problems] == [
        "record 5 (payment P1), field id: duplicate id 'P1', also at record 4;"
        " give each record its own id, or remove the copy"]


def test_f15_identical_fields_different_ids_count_twice() -> None:
    result = PLAN.evaluate(load_records(rows(payment("P1"), payment("P2"))),
                           datetime.fromisoformat("2025-01-01T00:00:00+08:00"))

    assert result.totals() == {("R1", "2024-03", "commission"): Decimal("200.00")}


def test_f17_other_currency_is_invalid() -> None:
    records = rows()
    records[2]["currency"] = "USD"

    with pytest.raises(RecordError) as caught:
        PLAN.evaluate(load_records(records), datetime.fromisoformat("2025-01-01T00:00:00+08:00"))

    problem = caught.value.problems[0]
    assert problem.record_id == "contract K1"
    assert problem.message == "currency USD differs from the plan's currency CNY"
