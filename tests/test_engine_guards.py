"""The incremental engine accepts draws, tiers by count, plan versions and exchange rates."""

from __future__ import annotations

from datetime import datetime

import pytest

from commission_engine import RecordError, evaluate, load_plan
from commission_engine.engine import Engine

HEADER = '''plan "g" version "1"
currency CNY

commission base on contract:
    paid to contract.rep
    rate 8% of contract.amount
'''
AS_OF = datetime.fromisoformat("2025-12-31T00:00:00+08:00")

CASES = {
    "draws": HEADER + '''
draw ramp of base:
    recoverable 100.00 per period
    from 2025-01
''',
    "tiers by count": HEADER + '''
commission volume on contract:
    paid to contract.rep
    tiers of contract.amount per period by count, flat:
        1% up to 2
        2% above
''',
    "plan versions": HEADER + '''
version "2" from 2025-06-01

commission base on contract:
    paid to contract.rep
    rate 9% of contract.amount
''',
    "exchange rates": HEADER.replace("currency CNY\n", "currency CNY\nexchange rate USD 7.2"
                                                       " from 2025-01-01\n"),
}


RECORDS = [
    {"type": "rep", "id": "R1", "name": "Li", "timezone": "Asia/Shanghai", "kind": "staff",
     "team": "HQ", "region": "Beijing", "manager": None},
    {"type": "customer", "id": "C1", "owner": "R1", "referred_by": None,
     "created_at": "2024-12-01T10:00:00+08:00"},
]
CONTRACT = {"type": "contract", "id": "K1", "customer": "C1", "rep": "R1", "product": "family",
            "amount": "1000.00", "currency": "USD", "signed_at": "2025-07-01T10:00:00+08:00",
            "term_months": 1}


@pytest.mark.parametrize("construct", sorted(CASES))
def test_engine_accepts_construct(construct: str) -> None:
    plan = load_plan(CASES[construct])
    currency = "USD" if plan.exchange_rates else "CNY"
    engine = Engine(plan, AS_OF, RECORDS)

    engine.add({**CONTRACT, "currency": currency})

    expected = evaluate(plan, engine.records(), AS_OF)
    assert engine.result().lines == expected.lines
    assert engine.result().statements == expected.statements
    assert engine.result().digest == expected.digest
    assert any(line.rule == "base" for line in engine.result().lines)


def test_engine_accepts_plain_plan() -> None:
    engine = Engine(load_plan(HEADER), AS_OF)

    assert engine.result().lines == ()


def test_engine_rejects_fractional_count_target() -> None:
    plan = load_plan(HEADER + '''
quota deals on contract:
    measure count of contracts
    target from records
''')
    engine = Engine(plan, AS_OF)
    engine.add({"type": "rep", "id": "R1", "name": "Li", "timezone": "Asia/Shanghai",
                "kind": "staff", "team": "HQ", "region": "Beijing", "manager": None})

    with pytest.raises(RecordError) as caught:
        engine.add({"type": "target", "rep": "R1", "period": "2025-01", "metric": "deals",
                    "value": "2.5"})

    problem, = caught.value.problems
    assert problem.message == ("target value 2.5 (metric 'deals') is not a whole number"
                               " of records for quota 'deals'")
    assert engine.records().targets == ()
