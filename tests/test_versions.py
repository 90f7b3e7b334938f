"""Plan versions: each event is priced by the version in force on its governing date."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings

from commission_engine import PlanError, load_plan, load_records
from commission_engine.strategies import record_sets

FIRST = '''plan "v" version "2025.1"
currency CNY

commission base on contract:
    paid to contract.rep
    rate 8% of contract.amount
    pay in contract.term_months monthly installments

commission collected on payment:
    paid to contract.rep
    rate 1% of payment.amount

bonus big on contract:
    paid to contract.rep
    when contract.amount >= 10000
    amount 10% of commission base

bonus early on contract:
    paid to contract.rep
    amount 5.00
'''

SECOND = '''
version "2025.2" from 2025-04-01

commission base on contract:
    paid to contract.rep
    rate 10% of contract.amount
    pay in contract.term_months monthly installments

commission collected on payment:
    paid to contract.rep
    rate 2% of payment.amount

bonus big on contract:
    paid to contract.rep
    when contract.amount >= 10000
    amount 10% of commission base

bonus late on contract:
    paid to contract.rep
    amount 7.00
'''

PLAN = load_plan(FIRST + SECOND)
AS_OF = datetime.fromisoformat("2025-12-31T00:00:00+08:00")

ROWS: list[dict[str, Any]] = [
    {"type": "rep", "id": "R1", "name": "R1", "timezone": "Asia/Shanghai", "kind": "staff",
     "team": "", "region": "", "manager": None},
    {"type": "customer", "id": "C1", "owner": "R1", "referred_by": None,
     "created_at": "2025-01-01T00:00:00+08:00"},
    # 20:00 on March 31 in Shanghai: the first version governs.
    {"type": "contract", "id": "K1", "customer": "C1", "rep": "R1", "product": "family",
     "amount": "12000.00", "currency": "CNY", "signed_at": "2025-03-31T20:00:00+08:00",
     "term_months": 3},
    {"type": "contract", "id": "K2", "customer": "C1", "rep": "R1", "product": "teen",
     "amount": "12000.00", "currency": "CNY", "signed_at": "2025-04-01T00:00:00+08:00",
     "term_months": 1},
    {"type": "payment", "id": "P1", "contract": "K1", "amount": "1000.00",
     "paid_at": "2025-03-31T23:59:59+08:00"},
    {"type": "payment", "id": "P2", "contract": "K1", "amount": "1000.00",
     "paid_at": "2025-04-01T00:00:00+08:00"},
    {"type": "refund", "id": "F1", "contract": "K1", "amount": "1000.00",
     "refunded_at": "2025-05-01T00:00:00+08:00", "reason": "r", "payment": "P1"},
]


def _lines(rule: str) -> list[tuple[str, tuple[str, ...], Decimal]]:
    result = PLAN.evaluate(load_records(ROWS), AS_OF)
    return [(line.period, line.sources, line.amount) for line in result.lines if line.rule == rule]


def test_contract_keeps_version_of_signing() -> None:
    # K1 was signed under 8% and keeps it in April and May, after the change.
    # K2 is the first contract of the new version, at 10%.
    assert _lines("base") == [
        ("2025-03", ("K1",), Decimal("320.00")),
        ("2025-04", ("K2",), Decimal("1200.00")),
        ("2025-04", ("K1",), Decimal("320.00")),
        ("2025-05", ("K1", "F1"), Decimal("240.00")),
    ]


def test_payment_priced_by_payment_date() -> None:
    # F1 reverses P1 at the 1% of the version that paid it.
    assert _lines("collected") == [
        ("2025-03", ("K1", "P1"), Decimal("10.00")),
        ("2025-04", ("K1", "P2"), Decimal("20.00")),
        ("2025-05", ("K1", "P1", "F1"), Decimal("-10.00")),
    ]


def test_commission_reference_reads_same_version() -> None:
    assert _lines("big") == [
        ("2025-03", ("K1",), Decimal("96.00")),
        ("2025-04", ("K2",), Decimal("120.00")),
    ]


def test_rules_start_and_stop_with_versions() -> None:
    assert _lines("early") == [("2025-03", ("K1",), Decimal("5.00"))]
    assert _lines("late") == [("2025-04", ("K2",), Decimal("7.00"))]


# ---------------------------------------------------------------- check errors


def _errors(text: str) -> list[tuple[int, int, str, str | None]]:
    with pytest.raises(PlanError) as caught:
        load_plan(text)
    return [(d.line, d.column, d.message, d.hint) for d in caught.value.diagnostics
            if d.severity == "error"]


def test_versions_must_rise() -> None:
    errors = _errors(FIRST + SECOND + '''
version "2025.1" from 2025-02-01
''')

    assert errors == [
        (42, 1, "version '2025.1' is used twice (also on line 1)",
         "give every version its own name"),
        (42, 1, "version '2025.1' starts on 2025-02-01, not after version '2025.2' (2025-04-01)",
         "list the versions in the order they take effect"),
    ]


def test_version_keeps_rule_kind() -> None:
    errors = _errors(FIRST + '''
version "2025.2" from 2025-04-01

penalty early on contract:
    paid to contract.rep
    amount 5.00
''')

    assert errors == [(24, 9, "rule 'early' is a penalty rule here but a bonus rule on line 18",
                       "give the new rule another name, or keep its kind")]


def test_override_belongs_to_whole_plan() -> None:
    errors = _errors(FIRST + '''
version "2025.2" from 2025-04-01

override managers of base:
    level 1 5%
''')

    assert errors == [(24, 10, ("override 'managers' applies to the whole plan, so it cannot be"
                                 " in a later version"), "move it above the first 'version' line")]


def test_name_twice_in_one_version() -> None:
    errors = _errors(FIRST + SECOND + '''
bonus late on contract:
    paid to contract.rep
    amount 8.00
''')

    assert errors == [(42, 7, "rule name 'late' is used twice (also on line 38)",
                       "give every rule its own name")]


# ---------------------------------------------------------------- properties

FIRST_ONLY = load_plan(FIRST)
LAW_AS_OF = datetime.fromisoformat("2027-01-01T00:00:00+08:00")


@settings(max_examples=60, deadline=None)
@given(record_sets(max_reps=3, start=date(2024, 6, 1), end=date(2025, 3, 25),
                   zones=("Asia/Shanghai",)))
def test_new_version_never_rewrites_past(rows: list[dict[str, Any]]) -> None:
    """Contracts signed before a new version keep every line the old plan gave them."""
    records = load_records(rows)

    before = FIRST_ONLY.evaluate(records, LAW_AS_OF)
    after = PLAN.evaluate(records, LAW_AS_OF)

    def contract_lines(result: Any) -> list[Any]:
        return [(line.payee, line.period, line.kind, line.rule, line.amount, line.sources)
                for line in (*result.lines, *result.schedule) if line.rule != "collected"]

    assert contract_lines(after) == contract_lines(before)


def test_line_names_its_version() -> None:
    result = PLAN.evaluate(load_records(ROWS), AS_OF)
    texts = {line.sources: line.explanation[-1].text for line in result.lines
             if line.rule == "base" and line.period != "2025-05"}

    assert texts == {("K1",): "priced by plan version 2025.1",
                     ("K2",): "priced by plan version 2025.2"}
