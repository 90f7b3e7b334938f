"""One load reports the field problems and the cross-record problems of a batch together."""

from __future__ import annotations

from typing import Any

import pytest

from commission_engine import RecordError, load_records
from helpers import run_cli


def batch() -> list[dict[str, Any]]:
    return [
        {"type": "rep", "id": "R1", "name": "Li", "timezone": "Asia/Shanghai", "kind": "staff",
         "team": "HQ", "region": "", "manager": None},
        {"type": "customer", "id": "C1", "owner": "R1", "referred_by": None,
         "created_at": "2025-01-01T00:00:00+08:00"},
        {"type": "contract", "id": "K1", "customer": "C1", "rep": "R1", "product": "family",
         "amount": "20000.00", "currency": "CNY", "signed_at": "2025-03-03T10:00:00+08:00",
         "term_months": 1},
        # Too many decimals: found by the cross-record check, which needs the currency.
        {"type": "payment", "id": "P9", "contract": "K1", "amount": "12.345",
         "paid_at": "2025-03-04T10:00:00+08:00"},
        # Not a number: found by field validation.
        {"type": "payment", "id": "P10", "contract": "K1", "amount": "abc",
         "paid_at": "2025-03-04T10:00:00+08:00"},
        # An invalid contract: its refund must not be reported as pointing nowhere.
        {"type": "contract", "id": "K2", "customer": "C1", "rep": "R1", "product": "family",
         "amount": "100.00", "currency": "CNY", "signed_at": "2025-03-03",
         "term_months": 1},
        {"type": "refund", "id": "F1", "contract": "K2", "amount": "10.00",
         "refunded_at": "2025-03-05T10:00:00+08:00", "reason": "moved"},
        # A reference to a record that does not exist at all.
        {"type": "session", "id": "S1", "contract": "K9", "held_at": "2025-03-05T10:00:00+08:00",
         "minutes": 50},
        # A duplicate id.
        {"type": "payment", "id": "P9", "contract": "K1", "amount": "1.00",
         "paid_at": "2025-03-04T10:00:00+08:00"},
    ]


def problems_of(rows: list[dict[str, Any]]) -> list[tuple[str, str | None, str | None]]:
    with pytest.raises(RecordError) as caught:
        load_records(rows)
    return [(p.position, p.record_id, p.field) for p in caught.value.problems]


def test_mixed_problems_listed_together() -> None:
    found = problems_of(batch())

    assert found == [
        ("record 4", "payment P9", "amount"),
        ("record 5", "payment P10", "amount"),
        ("record 6", "contract K2", "signed_at"),
        ("record 8", "session S1", "contract"),
        ("record 9", "payment P9", "id"),
    ]


def test_fixing_field_problems_reveals_nothing_new() -> None:
    rows = batch()
    rows[4]["amount"] = "1.00"
    rows[5]["signed_at"] = "2025-03-03T10:00:00+08:00"

    found = problems_of(rows)

    assert found == [
        ("record 4", "payment P9", "amount"),
        ("record 8", "session S1", "contract"),
        ("record 9", "payment P9", "id"),
    ]


def test_non_object_with_field_problem() -> None:
    rows = [*batch()[:3], ["not", "an", "object"], batch()[4]]

    found = problems_of(rows)

    assert found == [("record 4", None, None), ("record 5", "payment P10", "amount")]


def test_cli_lists_both_payments(tmp_path) -> None:
    import json

    records = tmp_path / "records.jsonl"
    records.write_text("".join(json.dumps(row) + "\n" for row in batch()[:5]),
                       encoding="utf-8")
    plan = tmp_path / "p.plan"
    plan.write_text('plan "p" version "1"\ncurrency CNY\n\ncommission c on contract:\n'
                    '    paid to contract.rep\n    rate 8% of contract.amount\n',
                    encoding="utf-8")

    completed = run_cli("run", str(plan), str(records), "--as-of", "2025-04-01T00:00:00+08:00")

    assert completed.returncode == 1
    assert "line 4 (payment P9), field amount: amount 12.345 has more decimals" in completed.stderr
    assert "line 5 (payment P10), field amount: amount 'abc' is not a decimal number" in (
        completed.stderr)
