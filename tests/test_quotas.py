"""Quotas: a payee's period measure against a target, and the attainment."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings

from commission_engine import (
    Attainment,
    EvaluationError,
    PlanError,
    RecordError,
    attainments,
    load_plan,
    load_records,
)
from commission_engine.strategies import record_sets

HEADER = '''plan "q" version "1"
currency CNY

commission base on contract:
    paid to contract.rep
    rate 8% of contract.amount
'''

PLAN = load_plan(HEADER + '''
quota bookings on contract:
    measure total of contract.amount
    target from records

quota family_deals on contract:
    credited to contract.rep
    when product is "family"
    measure count of contracts
    target 2

quota collected on payment:
    measure total of payment.amount
    target from records metric "cash"
''')

AS_OF = datetime.fromisoformat("2025-12-31T00:00:00+08:00")


def _rep(rep_id: str, zone: str = "Asia/Shanghai") -> dict[str, Any]:
    return {"type": "rep", "id": rep_id, "name": rep_id, "timezone": zone, "kind": "staff",
            "team": "", "region": "", "manager": None}


def _contract(contract_id: str, rep: str, product: str, amount: str,
              signed_at: str) -> dict[str, Any]:
    return {"type": "contract", "id": contract_id, "customer": "C1", "rep": rep,
            "product": product, "amount": amount, "currency": "CNY", "signed_at": signed_at,
            "term_months": 1}


def _target(rep: str, period: str, metric: str, value: str) -> dict[str, Any]:
    return {"type": "target", "rep": rep, "period": period, "metric": metric, "value": value}


RECORDS = [
    _rep("R1"),
    _rep("R2", "America/Los_Angeles"),
    {"type": "customer", "id": "C1", "owner": "R1", "referred_by": None,
     "created_at": "2024-12-01T00:00:00+08:00"},
    _contract("K1", "R1", "family", "3000.00", "2025-01-15T10:00:00+08:00"),
    # 20:00 UTC on Jan 31 is already Feb 1 in Shanghai.
    _contract("K2", "R1", "teen", "1500.00", "2025-01-31T20:00:00Z"),
    _contract("K3", "R1", "family", "1200.00", "2025-01-20T10:00:00+08:00"),
    # The same instant is still Jan 31 in Los Angeles.
    _contract("K4", "R2", "family", "999.99", "2025-01-31T20:00:00Z"),
    {"type": "payment", "id": "P1", "contract": "K1", "amount": "300.00",
     "paid_at": "2025-02-01T10:00:00+08:00"},
    {"type": "payment", "id": "P2", "contract": "K1", "amount": "450.50",
     "paid_at": "2025-02-27T10:00:00+08:00"},
    _target("R1", "2025-01", "bookings", "4000.00"),
    _target("R1", "2025-02", "bookings", "6000.00"),
    _target("R1", "2025-03", "bookings", "5000.00"),
    _target("R1", "2025-02", "cash", "1000.00"),
]


def _by_key(found: tuple[Attainment, ...]) -> dict[tuple[str, str, str], Attainment]:
    return {(item.quota, item.payee, item.period): item for item in found}


def test_total_quota_from_target_records() -> None:
    found = _by_key(attainments(PLAN, load_records(RECORDS), AS_OF))

    january = found[("bookings", "R1", "2025-01")]
    assert january.measure == Decimal("4200.00")
    assert january.target == Decimal("4000.00")
    assert january.attainment == Decimal("1.05")
    assert january.sources == ("K1", "K3")
    assert january.unit == "money"
    february = found[("bookings", "R1", "2025-02")]
    assert february.measure == Decimal("1500.00")
    assert february.attainment == Decimal("0.25")


def test_target_without_records_is_zero() -> None:
    found = _by_key(attainments(PLAN, load_records(RECORDS), AS_OF))

    march = found[("bookings", "R1", "2025-03")]
    assert march.measure == Decimal(0)
    assert march.attainment == Decimal(0)
    assert march.as_json()["attainment"] == "0"
    assert march.sources == ()


def test_missing_target_record_has_no_attainment() -> None:
    found = _by_key(attainments(PLAN, load_records(RECORDS), AS_OF))

    other = found[("bookings", "R2", "2025-01")]
    assert other.measure == Decimal("999.99")
    assert other.target is None
    assert other.attainment is None
    assert other.as_json()["attainment"] is None


def test_count_quota_with_constant_target() -> None:
    found = _by_key(attainments(PLAN, load_records(RECORDS), AS_OF))

    assert found[("family_deals", "R1", "2025-01")].measure == Decimal(2)
    assert found[("family_deals", "R1", "2025-01")].attainment == Decimal(1)
    assert found[("family_deals", "R2", "2025-01")].attainment == Decimal("0.5")
    assert found[("family_deals", "R2", "2025-01")].unit == "count"
    assert ("family_deals", "R1", "2025-02") not in found


def test_payment_quota_by_payment_date() -> None:
    found = _by_key(attainments(PLAN, load_records(RECORDS), AS_OF))

    cash = found[("collected", "R1", "2025-02")]
    assert cash.measure == Decimal("750.50")
    assert cash.attainment == Decimal("0.7505")
    assert cash.sources == ("P1", "P2")
    assert [key for key in found if key[0] == "collected"] == [("collected", "R1", "2025-02")]


def test_as_of_hides_later_records() -> None:
    early = datetime.fromisoformat("2025-02-10T00:00:00+08:00")
    found = _by_key(attainments(PLAN, load_records(RECORDS), early))

    assert found[("collected", "R1", "2025-02")].measure == Decimal("300.00")
    assert found[("bookings", "R1", "2025-02")].measure == Decimal("1500.00")


def test_attainments_sorted_and_as_json() -> None:
    found = PLAN.attainments(load_records(RECORDS), AS_OF)

    keys = [(item.quota, item.payee, item.period) for item in found]
    assert keys == sorted(keys)
    assert found[0].as_json() == {
        "quota": "bookings", "payee": "R1", "period": "2025-01", "unit": "money",
        "measure": "4200.00", "target": "4000.00", "attainment": "1.05",
        "sources": ["K1", "K3"],
    }


@pytest.mark.parametrize("value", ["0.00", "0", "-100.00"])
def test_target_not_positive_rejected(value: str) -> None:
    rows = [*RECORDS, _target("R2", "2025-01", "bookings", value)]

    with pytest.raises(RecordError) as caught:
        load_records(rows)

    problem, = caught.value.problems
    assert problem.record_id == "target of R2 for 2025-01"
    assert problem.field == "value"
    assert problem.message == f"target value {value} is not positive"
    assert problem.fix == "set a target above 0, or remove the target record"


def test_money_target_decimals_rejected() -> None:
    rows = [*RECORDS, _target("R2", "2025-01", "bookings", "4000.005")]
    records = load_records(rows)

    with pytest.raises(RecordError) as caught:
        attainments(PLAN, records, AS_OF)

    problem, = caught.value.problems
    assert problem.position == f"record {len(rows)}"
    assert problem.field == "value"
    assert problem.message == ("target value 4000.005 (metric 'bookings') has more decimals"
                               " than CNY allows (2)")


def test_count_target_fraction_rejected() -> None:
    plan = load_plan(HEADER + '''
quota deals on contract:
    measure count of contracts
    target from records
''')
    rows = [*RECORDS, _target("R1", "2025-01", "deals", "2.125")]
    records = load_records(rows)

    with pytest.raises(RecordError) as caught:
        attainments(plan, records, AS_OF)

    problem, = caught.value.problems
    assert problem.position == f"record {len(rows)}"
    assert problem.field == "value"
    assert problem.message == ("target value 2.125 (metric 'deals') is not a whole number"
                               " of records for quota 'deals'")
    assert problem.fix == "write a whole number"


def test_count_target_whole_accepted() -> None:
    plan = load_plan(HEADER + '''
quota deals on contract:
    measure count of contracts
    target from records
''')
    rows = [*RECORDS, _target("R1", "2025-01", "deals", "2.00")]

    found = attainments(plan, load_records(rows), AS_OF)

    january = next(item for item in found if item.period == "2025-01")
    assert january.target == Decimal("2.00")


def test_attainments_reject_naive_as_of() -> None:
    with pytest.raises(EvaluationError) as caught:
        attainments(PLAN, load_records(RECORDS), datetime(2025, 12, 31))

    assert "has no UTC offset" in str(caught.value)


def test_quota_dated_by_another_timestamp() -> None:
    plan = load_plan(HEADER + '''
quota by_customer on contract:
    dated by customer.created_at
    measure count of contracts
    target 1
''')
    found = _by_key(attainments(plan, load_records(RECORDS), AS_OF))

    assert found[("by_customer", "R1", "2024-12")].measure == Decimal(3)
    # 2024-12-01T00:00+08:00 is still November in Los Angeles.
    assert found[("by_customer", "R2", "2024-11")].measure == Decimal(1)


def test_quota_reads_another_rules_commission() -> None:
    plan = load_plan(HEADER + '''
quota earned on contract:
    measure total of commission base
    target 400.00
''')
    found = _by_key(attainments(plan, load_records(RECORDS), AS_OF))

    assert found[("earned", "R1", "2025-01")].measure == Decimal("336.00")
    assert found[("earned", "R1", "2025-01")].attainment == Decimal("0.84")


# ---------------------------------------------------------------- check errors


def _errors(body: str) -> list[tuple[int, int, str, str | None]]:
    with pytest.raises(PlanError) as caught:
        load_plan(HEADER + body)
    return [(d.line, d.column, d.message, d.hint) for d in caught.value.diagnostics
            if d.severity == "error"]


def test_quota_without_measure_or_target() -> None:
    errors = _errors('''
quota bookings on contract:
    credited to contract.rep
''')

    assert errors == [
        (8, 7, "quota 'bookings' does not say what it measures",
         ("add a line such as 'measure total of contract.amount' or 'measure count of"
          " contracts'")),
        (8, 7, "quota 'bookings' has no target",
         ("add 'target from records' (target records of the quota's metric) or a constant"
          " such as 'target 100,000.00'")),
    ]


def test_quota_counts_its_own_records() -> None:
    errors = _errors('''
quota deals on contract:
    measure count of contrcts
    target 3
''')

    assert errors == [(9, 22, "a quota on contract records counts contracts, not 'contrcts'",
                       "did you mean 'contracts'?")]


def test_quota_target_must_be_positive() -> None:
    errors = _errors('''
quota bookings on contract:
    measure total of contract.amount
    target 0
''')

    assert errors == [(10, 5, "a target of 0 makes attainment undefined",
                       "write a target above 0")]


def test_quota_target_decimals_and_whole_counts() -> None:
    errors = _errors('''
quota bookings on contract:
    measure total of contract.amount
    target 100.005

quota deals on contract:
    measure count of contracts
    target 2.5
''')

    assert errors == [
        (10, 5, "a target of 100.005 has more decimals than CNY allows (2)",
         "round the target to the minor unit of CNY"),
        (14, 5, "a target of 2.5 is not a whole number of records",
         "write a whole number, such as 'target 10'"),
    ]


def test_quota_measure_must_be_money() -> None:
    errors = _errors('''
quota bookings on contract:
    measure total of contract.term_months
    target 10
''')

    assert len(errors) == 1
    line, column, message, _hint = errors[0]
    assert (line, column) == (9, 22)
    assert message == "the quota's measure ('measure total of') must be money, but this is a count"


def test_quota_names_and_subjects() -> None:
    errors = _errors('''
quota bookings on contract:
    measure total of contract.amount
    target 10

quota bookings on contrat:
    measure count of contracts
    target 10
''')

    assert errors == [
        (12, 1, "quotas on 'contrat' records are not supported", "did you mean 'contract'?"),
        (12, 7, "quota name 'bookings' is used twice (also on line 8)",
         "give every quota its own name"),
    ]


def test_quota_unknown_field_suggests() -> None:
    errors = _errors('''
quota bookings on contract:
    when prodct is "family"
    measure total of contract.amount
    target 10
''')

    assert [(line, column) for line, column, _m, _h in errors] == [(9, 10)]
    assert errors[0][3] == "did you mean 'product'?"


# ---------------------------------------------------------------- properties

LAW_PLAN = load_plan(HEADER + '''
quota signed on contract:
    measure total of contract.amount
    target 1,000.00

quota deals on contract:
    measure count of contracts
    target 3
''')
LAW_AS_OF = datetime.fromisoformat("2030-01-01T00:00:00+08:00")


@settings(max_examples=60, deadline=None)
@given(record_sets(max_reps=3))
def test_quota_measures_cover_every_contract(rows: list[dict[str, Any]]) -> None:
    """Every contract is measured once, in its rep's signing period, whatever the order."""
    records = load_records(rows)
    found = attainments(LAW_PLAN, records, LAW_AS_OF)

    signed = [item for item in found if item.quota == "signed"]
    deals = [item for item in found if item.quota == "deals"]
    assert sum(item.measure for item in signed) == sum(c.amount for c in records.contracts.values())
    assert sum(item.measure for item in deals) == len(records.contracts)
    for item in signed:
        assert item.attainment == item.measure / Decimal("1000.00")
    assert sorted(source for item in deals for source in item.sources) == sorted(records.contracts)
    assert attainments(LAW_PLAN, load_records(list(reversed(rows))), LAW_AS_OF) == found
