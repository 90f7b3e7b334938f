"""Plans parse correctly when several threads load them at once.

Dask's threaded scheduler compiles the plan in each partition's task, so
parsing must not share the indenter's state between threads.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from helpers import REFERENCE_PLAN

from commission_engine import PlanError, load_plan

TEXT = REFERENCE_PLAN.read_text(encoding="utf-8")


def _load(_: int) -> str:
    try:
        load_plan(TEXT)
    except PlanError as error:
        return str(error)
    return "ok"


def test_concurrent_loads_all_succeed() -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(_load, range(48)))
    failures = [outcome for outcome in outcomes if outcome != "ok"]
    assert failures == []
