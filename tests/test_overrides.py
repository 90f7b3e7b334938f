"""Manager overrides conserve the credited amount and stop at the chain's top."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given, settings

from commission_engine import load_plan, load_records
from commission_engine.strategies import record_sets

PLAN = load_plan('''plan "o" version "1"
currency CNY

commission base on contract:
    paid to contract.rep
    rate 8% of contract.amount
    pay in contract.term_months monthly installments

override managers of base:
    level 1 5%
    level 2 2%
''')
AS_OF = datetime.fromisoformat("2030-01-01T00:00:00+08:00")
RATES = (Decimal("0.05"), Decimal("0.02"))


@settings(max_examples=60, deadline=None)
@given(record_sets(max_reps=4))
def test_overrides_conserve_to_the_cent(rows: list[dict[str, object]]) -> None:
    """Each manager's override of a contract is its level's rate of the payee's lines, rounded once."""
    records = load_records(rows)
    result = PLAN.evaluate(records, AS_OF)
    lines = result.lines + result.schedule

    base: dict[tuple[str, str], Decimal] = {}
    for line in lines:
        if line.rule == "base":
            key = (line.payee, line.sources[0])
            base[key] = base.get(key, Decimal(0)) + line.amount
    expected: dict[tuple[str, str], Decimal] = {}
    for (payee, contract), amount in base.items():
        manager = records.reps[payee].manager
        seen = {payee}
        for rate in RATES:
            if manager is None or manager in seen:
                break
            share = (rate * amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            key = (manager, contract)
            expected[key] = expected.get(key, Decimal(0)) + share
            seen.add(manager)
            manager = records.reps[manager].manager
    computed: dict[tuple[str, str], Decimal] = {}
    for line in lines:
        if line.kind == "override":
            key = (line.payee, line.sources[0])
            computed[key] = computed.get(key, Decimal(0)) + line.amount

    assert {k: v for k, v in computed.items() if v} == {k: v for k, v in expected.items() if v}
