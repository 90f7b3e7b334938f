"""The Python API takes as-of times in the years 1900 to 2200, as the command line does.

A time outside them raises ``EvaluationError`` naming the value and the
range, never ``OverflowError`` from calendar arithmetic near year 1 or 9999.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from helpers import REFERENCE_PLAN, WORKED, read_jsonl

import commission_engine as ce
from commission_engine import dask as ce_dask
from commission_engine.engine import Engine
from commission_engine.progress import progress
from commission_engine.whatif import compare_plans

PLAN = ce.load_plan(REFERENCE_PLAN.read_text(encoding="utf-8"))
RAW = read_jsonl(WORKED / "E7.jsonl")
RECORDS = ce.load_records(RAW)
RESULT = PLAN.evaluate(RECORDS, datetime(2026, 1, 1, tzinfo=timezone.utc))


def zone(hours: int) -> timezone:
    return timezone(timedelta(hours=hours))


OUTSIDE = [
    pytest.param(datetime(9999, 12, 31, 23, 59, tzinfo=timezone.utc), id="9999-utc"),
    pytest.param(datetime(9999, 12, 31, 23, 59, tzinfo=zone(-12)), id="9999-west"),
    pytest.param(datetime(1, 1, 1, tzinfo=zone(14)), id="0001-east"),
    pytest.param(datetime(1899, 12, 31, 23, 59, tzinfo=timezone.utc), id="1899"),
    pytest.param(datetime(2201, 1, 1, tzinfo=timezone.utc), id="2201"),
]

CALLS: list[Any] = [
    pytest.param(lambda as_of: PLAN.evaluate(RECORDS, as_of), id="evaluate"),
    pytest.param(lambda as_of: ce.evaluate(PLAN, RECORDS, as_of), id="module-evaluate"),
    pytest.param(lambda as_of: PLAN.attainments(RECORDS, as_of), id="attainments"),
    pytest.param(lambda as_of: ce.attainments(PLAN, RECORDS, as_of), id="module-attainments"),
    pytest.param(lambda as_of: progress(PLAN, RECORDS, as_of, result=RESULT), id="progress"),
    pytest.param(lambda as_of: progress(PLAN, RECORDS, as_of), id="progress-evaluating"),
    pytest.param(lambda as_of: Engine(PLAN, as_of, RECORDS), id="engine"),
    pytest.param(lambda as_of: compare_plans(PLAN, PLAN, RECORDS, as_of), id="whatif"),
    pytest.param(lambda as_of: ce_dask.evaluate(PLAN, ce_dask.records_bag(RAW, 2), as_of),
                 id="dask"),
]


@pytest.mark.parametrize("as_of", OUTSIDE)
@pytest.mark.parametrize("call", CALLS)
def test_as_of_outside_years_rejected(call: Callable[[datetime], Any], as_of: datetime) -> None:
    with pytest.raises(ce.EvaluationError) as caught:
        call(as_of)
    message = str(caught.value)
    assert as_of.isoformat() in message
    assert "from 1900 to 2200" in message


@pytest.mark.parametrize("as_of", [
    datetime(1900, 1, 1, tzinfo=zone(14)),
    datetime(2200, 12, 31, 23, 59, tzinfo=zone(-12)),
])
@pytest.mark.parametrize("call", CALLS)
def test_as_of_at_year_bounds_accepted(call: Callable[[datetime], Any], as_of: datetime) -> None:
    call(as_of)
