"""The shipped Hypothesis strategies draw records that validate."""

from __future__ import annotations

from datetime import date, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commission_engine import load_plan, load_records
from commission_engine.records import Contract, Refund, Rep, Satisfaction
from commission_engine.strategies import record_sets

from helpers import REFERENCE_PLAN

PLAN = load_plan(REFERENCE_PLAN.read_text(encoding="utf-8"))
AS_OF = datetime.fromisoformat("2027-01-01T00:00:00+08:00")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record_sets())
def test_record_sets_validate_and_evaluate(records: list[dict[str, object]]) -> None:
    result = PLAN.evaluate(load_records(records), AS_OF)

    assert all(line.amount != 0 for line in result.lines)


@settings(max_examples=30, deadline=None)
@given(record_sets(products=["teen"], start=date(2025, 3, 1), end=date(2025, 3, 31),
                   refund_rate=0.0))
def test_record_sets_narrowed(records: list[dict[str, object]]) -> None:
    contracts = [r for r in records if r["type"] == "contract"]
    customers = [r for r in records if r["type"] == "customer"]

    assert all(c["product"] == "teen" for c in contracts)
    assert not any(r["type"] == "refund" for r in records)
    assert all(str(c["created_at"]).startswith("2025-03") for c in customers)
    assert all(str(c["signed_at"]).startswith("2025-03") for c in contracts)


@settings(max_examples=20, deadline=None)
@given(st.from_type(Contract), st.from_type(Rep), st.from_type(Refund),
       st.from_type(Satisfaction))
def test_registered_type_strategies(contract: Contract, rep: Rep, refund: Refund,
                                    survey: Satisfaction) -> None:
    assert contract.amount > 0
    assert contract.signed_at.tzinfo is not None
    assert rep.timezone
    assert refund.amount > 0
    assert 0 <= survey.score <= 100
