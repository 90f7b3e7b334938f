"""Tests of the collector pause around bulk calls: the caller's setting is
restored, and new objects move to the oldest generation without a pass."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from helpers import one_contract

from commission_engine import collector, load_jsonl, load_plan
from commission_engine.engine import Engine

ROOT = Path(__file__).resolve().parents[1]
OLDEST = 2


def _in_generation(obj: object, generation: int) -> bool:
    return any(found is obj for found in gc.get_objects(generation=generation))


@pytest.fixture
def collecting() -> Iterator[None]:
    """Enable the collector for the test, then restore the runner's setting."""
    was_enabled = gc.isenabled()
    gc.enable()
    try:
        yield
    finally:
        if not was_enabled:
            gc.disable()


def test_paused_promotes_new_objects(collecting: None) -> None:
    with collector.paused():
        assert not gc.isenabled()
        young = [[index] for index in range(2 * collector.PROMOTE_ABOVE)]
    assert gc.isenabled()
    assert _in_generation(young, OLDEST)
    assert _in_generation(young[-1], OLDEST)
    # Nothing is left for the next young pass to traverse.
    assert gc.get_count()[0] < 100


def test_paused_small_block_stays_young(collecting: None) -> None:
    gc.collect()
    with collector.paused():
        young = [[index] for index in range(100)]
    assert gc.isenabled()
    assert not _in_generation(young, OLDEST)


def test_paused_keeps_collector_disabled() -> None:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        gc.collect()
        with collector.paused():
            young = [[index] for index in range(100)]
        assert not gc.isenabled()
        assert _in_generation(young, 0)
    finally:
        if was_enabled:
            gc.enable()


def test_paused_restores_setting_on_error(collecting: None) -> None:
    with pytest.raises(ZeroDivisionError):
        with collector.paused():
            1 / 0  # noqa: B018
    assert gc.isenabled()


def test_paused_keeps_frozen_objects(collecting: None) -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with collector.paused():
            young = [[index] for index in range(2 * collector.PROMOTE_ABOVE)]
        assert gc.get_freeze_count() == frozen
        assert gc.isenabled()
        assert not _in_generation(young, OLDEST)
    finally:
        gc.unfreeze()


def test_paused_caller_cycle_still_freed(collecting: None) -> None:
    class Node:
        pass

    node = Node()
    node.self = node  # type: ignore[attr-defined]
    with collector.paused():
        pass
    marker = id(node)
    del node
    gc.collect()
    assert all(id(obj) != marker for obj in gc.get_objects(generation=OLDEST)
               if isinstance(obj, Node))


def test_evaluate_result_in_oldest_generation(collecting: None) -> None:
    plan = load_plan((ROOT / "examples/counselling/counselling-2025.plan").read_text())
    records = load_jsonl((ROOT / "examples/counselling/records.jsonl").read_text())
    # The first load_plan of a process builds the parser, which leaves cycles.
    gc.collect()
    result = plan.evaluate(records, datetime.fromisoformat("2026-12-31T00:00:00+08:00"))
    assert result.lines
    assert _in_generation(result.lines[0], OLDEST)
    assert _in_generation(result, OLDEST)
    # Evaluation leaves no garbage cycles for the full collection to find.
    del result
    assert gc.collect() == 0


def test_engine_update_leaves_caller_young(collecting: None) -> None:
    plan = load_plan((ROOT / "examples/counselling/counselling-2025.plan").read_text())
    records = one_contract("12000.00", "2025-01-15T10:00:00+08:00", 12,
                           created_at="2024-12-01T10:00:00+08:00")
    engine = Engine(plan, datetime.fromisoformat("2025-06-30T00:00:00+08:00"), records[:2])
    gc.collect()
    caller_object = [0]
    engine.add(records[2])
    # One update makes a few hundred objects, too few to promote, so the
    # caller's young objects stay young and its cycles are freed early.
    assert not _in_generation(caller_object, OLDEST)


def test_paused_keeps_generation_counts(collecting: None) -> None:
    gc.collect()
    churn = [[index] for index in range(50_000)]
    del churn
    counts = gc.get_count()
    with collector.paused():
        young = [[index] for index in range(2 * collector.PROMOTE_ABOVE)]
    assert _in_generation(young, OLDEST)
    # The young generation is empty after the promotion; the counts that
    # schedule the older collections are the caller's.
    assert gc.get_count()[1:] == counts[1:]


def test_frequent_calls_still_free_cycles(collecting: None) -> None:
    class Job:
        pass

    full_before = gc.get_stats()[OLDEST]["collections"]
    for _ in range(60):
        job = Job()
        job.self = job  # type: ignore[attr-defined]
        with collector.paused():
            young = [[index] for index in range(2 * collector.PROMOTE_ABOVE)]
        del job, young
        churn = [[index] for index in range(20_000)]
        del churn
    # Without the counts kept, no full collection ran and all 60 stayed.
    assert gc.get_stats()[OLDEST]["collections"] > full_before
    assert sum(type(obj) is Job for obj in gc.get_objects()) < 30
