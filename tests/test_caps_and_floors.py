"""Caps and floors on a rule's commission: per line, per contract and per period."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from hypothesis import given, settings

from commission_engine import PlanError, load_plan, load_records
from commission_engine.strategies import record_sets

HEADER = '''plan "c" version "1"
currency CNY
'''

AS_OF = datetime.fromisoformat("2025-12-31T00:00:00+08:00")


def _rows(*contracts: tuple[str, str, str, int], extra: tuple[dict[str, Any], ...] = ()
          ) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {"type": "rep", "id": "R1", "name": "R1", "timezone": "Asia/Shanghai", "kind": "staff",
         "team": "", "region": "", "manager": None},
        {"type": "customer", "id": "C1", "owner": "R1", "referred_by": None,
         "created_at": "2024-12-01T00:00:00+08:00"},
    ]
    for contract_id, amount, signed_at, term in contracts:
        rows.append({"type": "contract", "id": contract_id, "customer": "C1", "rep": "R1",
                     "product": "family", "amount": amount, "currency": "CNY",
                     "signed_at": signed_at, "term_months": term})
    return [*rows, *extra]


def _payment(payment_id: str, amount: str, paid_at: str) -> dict[str, Any]:
    return {"type": "payment", "id": payment_id, "contract": "K1", "amount": amount,
            "paid_at": paid_at}


def _refund(refund_id: str, amount: str, refunded_at: str,
            payment: str | None = None) -> dict[str, Any]:
    return {"type": "refund", "id": refund_id, "contract": "K1", "amount": amount,
            "refunded_at": refunded_at, "reason": "r", "payment": payment}


def _lines(plan_text: str, rows: list[dict[str, Any]],
           as_of: datetime = AS_OF) -> list[tuple[str, str, Decimal]]:
    result = load_plan(HEADER + plan_text).evaluate(load_records(rows), as_of)
    return [(line.period, line.kind, line.amount) for line in result.lines]


CONTRACT_CAP = '''
commission base on contract:
    paid to contract.rep
    rate 10% of contract.amount
    cap 250.00 per contract
    floor 20.00 per contract
    pay in contract.term_months monthly installments
'''


def test_contract_cap_spreads_capped_commission() -> None:
    rows = _rows(("K1", "6000.00", "2025-01-15T10:00:00+08:00", 3))

    assert _lines(CONTRACT_CAP, rows) == [
        ("2025-01", "installment", Decimal("83.34")),
        ("2025-02", "installment", Decimal("83.33")),
        ("2025-03", "installment", Decimal("83.33")),
    ]


def test_contract_cap_explained() -> None:
    rows = _rows(("K1", "6000.00", "2025-01-15T10:00:00+08:00", 1))
    result = load_plan(HEADER + CONTRACT_CAP).evaluate(load_records(rows), AS_OF)
    (line,) = result.lines

    assert [step.text for step in line.explanation[:2]] == [
        "base rate 10% x 6,000.00 = 600.00",
        "capped at 250.00 per contract (before: 600.00)",
    ]
    assert dict(line.explanation[1].values)["scope"] == "contract"


def test_contract_floor_raises_small_commission() -> None:
    rows = _rows(("K1", "100.00", "2025-01-15T10:00:00+08:00", 1))

    assert _lines(CONTRACT_CAP, rows) == [("2025-01", "installment", Decimal("20.00"))]


def test_contract_cap_holds_after_refund() -> None:
    # 10% of 6,000.00 is capped at 250.00. After 4,000.00 is refunded the
    # entitlement is 10% of 2,000.00 = 200.00, below the cap: 83.34 was paid,
    # so the two unpaid installments share 116.66.
    rows = _rows(("K1", "6000.00", "2025-01-15T10:00:00+08:00", 3),
                 extra=(_refund("F1", "4000.00", "2025-02-01T10:00:00+08:00"),))

    assert _lines(CONTRACT_CAP, rows) == [
        ("2025-01", "installment", Decimal("83.34")),
        ("2025-02", "installment", Decimal("58.33")),
        ("2025-03", "installment", Decimal("58.33")),
    ]


PAYMENT_CAPS = '''
commission collected on payment:
    paid to contract.rep
    rate 10% of payment.amount
    cap 25.00 per line
    cap 40.00 per contract
'''


def test_payment_caps_respect_running_total() -> None:
    rows = _rows(("K1", "3000.00", "2025-01-15T10:00:00+08:00", 1), extra=(
        _payment("P1", "300.00", "2025-01-20T10:00:00+08:00"),
        _payment("P2", "300.00", "2025-02-20T10:00:00+08:00"),
        _payment("P3", "300.00", "2025-03-20T10:00:00+08:00"),
        _refund("F1", "150.00", "2025-04-02T10:00:00+08:00", "P1"),
        _refund("F2", "300.00", "2025-05-02T10:00:00+08:00", "P2"),
    ))

    # Each payment earns at most 25.00, the contract at most 40.00: 25.00, then
    # 15.00, then nothing. F1 takes back 12.50 of P1's capped 25.00, which still
    # leaves the running total (62.50) above the cap; F2 takes back 25.00, which
    # brings it to 37.50.
    assert _lines(PAYMENT_CAPS, rows) == [
        ("2025-01", "commission", Decimal("25.00")),
        ("2025-02", "commission", Decimal("15.00")),
        ("2025-05", "clawback", Decimal("-2.50")),
    ]


def test_payment_floor_per_line() -> None:
    plan = '''
commission collected on payment:
    paid to contract.rep
    rate 10% of payment.amount
    floor 5.00 per line
'''
    rows = _rows(("K1", "3000.00", "2025-01-15T10:00:00+08:00", 1), extra=(
        _payment("P1", "12.34", "2025-01-20T10:00:00+08:00"),
        _payment("P2", "300.00", "2025-02-20T10:00:00+08:00"),
    ))

    assert _lines(plan, rows) == [
        ("2025-01", "commission", Decimal("5.00")),
        ("2025-02", "commission", Decimal("30.00")),
    ]


PERIOD_LIMITS = '''
commission base on contract:
    paid to contract.rep
    rate 10% of contract.amount
    cap 400.00 per period
    floor 50.00 per period
'''


def test_period_cap_is_its_own_line() -> None:
    rows = _rows(("K1", "3000.00", "2025-01-10T10:00:00+08:00", 1),
                 ("K2", "3000.00", "2025-01-20T10:00:00+08:00", 1),
                 ("K3", "1000.00", "2025-01-25T10:00:00+08:00", 1))
    result = load_plan(HEADER + PERIOD_LIMITS).evaluate(load_records(rows), AS_OF)

    # Lines due at the same time sort by kind, so each adjustment comes just
    # before the line it holds back.
    assert [(line.kind, line.sources, line.amount) for line in result.lines] == [
        ("commission", ("K1",), Decimal("300.00")),
        ("adjustment", ("K2",), Decimal("-200.00")),
        ("commission", ("K2",), Decimal("300.00")),
        ("adjustment", ("K3",), Decimal("-100.00")),
        ("commission", ("K3",), Decimal("100.00")),
    ]
    assert result.lines[1].explanation[0].text == (
        "base is capped at 400.00 per period: the lines of 2025-01 so far come to 600.00,"
        " so -200.00 keeps the period's total within the cap")
    assert sum(line.amount for line in result.lines) == Decimal("400.00")


def test_period_cap_releases_after_refund() -> None:
    rows = _rows(("K1", "3000.00", "2025-01-10T10:00:00+08:00", 1),
                 ("K2", "3000.00", "2025-01-20T10:00:00+08:00", 1))
    plan = '''
commission base on payment:
    paid to contract.rep
    rate 10% of payment.amount
    cap 400.00 per period
'''
    rows += [
        _payment("P1", "3000.00", "2025-03-02T10:00:00+08:00"),
        {**_payment("P2", "3000.00", "2025-03-05T10:00:00+08:00"), "contract": "K2"},
        _refund("F1", "2500.00", "2025-03-09T10:00:00+08:00", "P1"),
    ]

    # 300.00 + 300.00 = 600.00 is held to 400.00. The refund takes 250.00 off
    # the earned 600.00, leaving 350.00, so the period's total drops from
    # 400.00 to 350.00: -250.00 for the refund and 200.00 released.
    assert _lines(plan, rows) == [
        ("2025-03", "commission", Decimal("300.00")),
        ("2025-03", "adjustment", Decimal("-200.00")),
        ("2025-03", "commission", Decimal("300.00")),
        ("2025-03", "adjustment", Decimal("200.00")),
        ("2025-03", "clawback", Decimal("-250.00")),
    ]


def test_period_floor_tops_up_after_period() -> None:
    rows = _rows(("K1", "123.45", "2025-01-10T10:00:00+08:00", 1))
    plan = load_plan(HEADER + PERIOD_LIMITS)
    during = plan.evaluate(load_records(rows), datetime.fromisoformat("2025-01-31T23:00:00+08:00"))
    after = plan.evaluate(load_records(rows), datetime.fromisoformat("2025-02-01T00:00:00+08:00"))

    assert [line.amount for line in during.lines] == [Decimal("12.35")]
    assert [line.amount for line in during.schedule] == [Decimal("37.65")]
    assert [(line.period, line.kind, line.amount) for line in after.lines] == [
        ("2025-01", "commission", Decimal("12.35")),
        ("2025-01", "adjustment", Decimal("37.65")),
    ]
    assert after.lines[1].explanation[0].text == (
        "base has a floor of 50.00 per period: the lines of 2025-01 come to 12.35, so 37.65"
        " makes up the difference")


# ---------------------------------------------------------------- check errors


def _errors(body: str) -> list[tuple[int, int, str, str | None]]:
    with pytest.raises(PlanError) as caught:
        load_plan(HEADER + body)
    return [(d.line, d.column, d.message, d.hint) for d in caught.value.diagnostics
            if d.severity == "error"]


def test_limit_amount_errors() -> None:
    errors = _errors('''
commission base on contract:
    paid to contract.rep
    rate 10% of contract.amount
    cap 0 per contract
    floor 10.005 per period
''')

    assert errors == [
        (7, 5, "a cap per contract of 0 pays nothing", "write a cap above 0, or remove the line"),
        (8, 5, "a floor per period of 10.005 has more decimals than CNY allows (2)",
         "round the floor to the minor unit of CNY"),
    ]


def test_floor_above_cap() -> None:
    errors = _errors('''
commission base on contract:
    paid to contract.rep
    rate 10% of contract.amount
    cap 100.00 per period
    floor 200.00 per period
''')

    assert errors == [(8, 5, "the floor per period (200.00) is above the cap per period (100.00)",
                       "lower the floor or raise the cap")]


def test_limit_scope_errors() -> None:
    errors = _errors('''
commission base on contract:
    paid to contract.rep
    rate 10% of contract.amount
    cap 100.00 per line
    pay in contract.term_months monthly installments

commission tiered on contract:
    paid to contract.rep
    tiers of contract.amount per period, flat:
        8% up to 100,000.00
        10% above
    cap 100.00 per contract

commission collected on payment:
    paid to contract.rep
    rate 10% of payment.amount
    floor 10.00 per contract
''')

    assert errors == [
        (7, 5, "an installment rule spreads one commission, so it takes no cap per line",
         "write 'cap ... per contract' to limit the commission that the installments spread"),
        (15, 5, "a tiered rule pays period totals, so it takes no cap per contract",
         "write 'cap ... per period'"),
        (20, 5, ("a rule on payments cannot have a floor per contract: the contract's total is"
                 " known only after its last payment"),
         "write 'floor ... per line' or 'floor ... per period'"),
    ]


def test_limit_given_twice() -> None:
    errors = _errors('''
commission base on contract:
    paid to contract.rep
    rate 10% of contract.amount
    cap 100.00 per contract
    cap 200.00 per contract
''')

    assert errors == [(8, 5, "the rule has two 'cap per contract' clauses", "keep one of them")]


# ---------------------------------------------------------------- properties

LAW_PLAN = load_plan(HEADER + '''
commission base on contract:
    paid to contract.rep
    rate 10% of contract.amount
    cap 500.00 per contract
    cap 900.00 per period
    pay in contract.term_months monthly installments
    on refund:
        ignore refunds
''')
LAW_AS_OF = datetime.fromisoformat("2030-01-01T00:00:00+08:00")


@settings(max_examples=60, deadline=None)
@given(record_sets(max_reps=3))
def test_caps_hold_for_every_record_set(rows: list[dict[str, Any]]) -> None:
    """A contract never earns more than its cap, nor a payee's period more than the period cap."""
    records = load_records(rows)
    result = LAW_PLAN.evaluate(records, LAW_AS_OF)
    lines = result.lines + result.schedule

    by_contract: dict[str, Decimal] = {}
    by_period: dict[tuple[str, str], Decimal] = {}
    for line in lines:
        by_period[(line.payee, line.period)] = by_period.get((line.payee, line.period),
                                                             Decimal(0)) + line.amount
        if line.kind == "installment":
            by_contract[line.sources[0]] = by_contract.get(line.sources[0],
                                                           Decimal(0)) + line.amount
    for contract_id, earned in by_contract.items():
        amount = records.contracts[contract_id].amount
        expected = min((amount / 10).quantize(Decimal("0.01"), ROUND_HALF_UP), Decimal(500))
        assert earned == expected
    for total in by_period.values():
        assert total <= Decimal(900)
