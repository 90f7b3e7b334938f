"""On Dask, draws, period caps, accelerators and count tiers equal one process."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from commission_engine import load_plan, load_records
from commission_engine.strategies import record_sets

dask = pytest.importorskip("dask")
dask_bag = pytest.importorskip("dask.bag")
from commission_engine import dask as on_dask

PLAN = load_plan('''plan "deep" version "1"
currency CNY

quota bookings on contract:
    credited to customer.owner
    measure total of contract.amount
    target 20,000.00

commission base on contract:
    paid to contract.rep
    rate 8% of contract.amount
    accelerate by bookings attainment:
        1x below 100%
        1.5x above
    cap 3,000.00 per period
    pay in contract.term_months monthly installments

commission volume on contract:
    paid to contract.rep
    tiers of contract.amount per period by count, marginal:
        1% up to 1
        2% above

draw ramp of base:
    recoverable 800.00 per period
    recover at most 200.00 per period
    from 2024-01 until 2024-06
''')
AS_OF = datetime.fromisoformat("2026-06-01T00:00:00+08:00")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record_sets(max_reps=4, max_contracts=8))
def test_partitioned_result_equals_one_process(rows: list[dict[str, Any]]) -> None:
    expected = PLAN.evaluate(load_records(rows), AS_OF)

    with dask.config.set(scheduler="synchronous"):
        computed = on_dask.evaluate(PLAN, dask_bag.from_sequence(rows, npartitions=3), AS_OF,
                                    partitions=3)

    assert computed.to_json() == expected.to_json()
