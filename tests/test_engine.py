"""Engine: deltas with exact values, rejected changes, and state export and restore."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

import pytest
from helpers import REFERENCE_PLAN, ROOT, one_contract

from commission_engine import (
    EvaluationError,
    RecordError,
    evaluate,
    load_plan,
    load_records,
)
from commission_engine.engine import STATE_FORMAT, Engine

AS_OF = datetime.fromisoformat("2025-06-30T00:00:00+08:00")


@pytest.fixture(scope="module")
def plan():
    return load_plan(REFERENCE_PLAN.read_text(encoding="utf-8"))


def reference_records() -> list[dict]:
    return one_contract("12000.00", "2025-01-15T10:00:00+08:00", 12,
                        created_at="2024-12-01T10:00:00+08:00")


def amounts(lines) -> list[tuple[str, str, str, Decimal]]:
    return [(line.payee, line.period, line.kind, line.amount) for line in lines]


def test_add_contract_delta(plan):
    records = reference_records()
    engine = Engine(plan, AS_OF, records[:2])
    delta = engine.add(records[2])
    installment = [("R1", f"2025-0{month}", "installment", Decimal("80.00"))
                   for month in range(1, 7)]
    bonus = ("R1", "2025-04", "bonus", Decimal("120.00"))
    # The fourth installment and the retention bonus both fall due at the
    # start of 2025-04-15, so the rule name orders them.
    assert amounts(delta.added) == [*installment[:4], bonus, *installment[4:]]
    assert delta.removed == ()
    assert len(delta.scheduled_added) == 6
    assert [s.period for s in delta.statements] == [f"2025-0{m}" for m in range(1, 7)]
    assert [s.total for s in delta.statements] == [Decimal("80.00")] * 3 + [
        Decimal("200.00"), Decimal("80.00"), Decimal("80.00")]


def test_full_refund_delta(plan):
    """E4: a full refund after the clawback window cancels the unpaid installments."""
    as_of = datetime.fromisoformat("2026-12-31T00:00:00+08:00")
    engine = Engine(plan, as_of, reference_records())
    delta = engine.add({"type": "refund", "id": "F1", "contract": "K1", "amount": "12000.00",
                        "refunded_at": "2025-05-20T09:00:00+08:00", "reason": "moved"})
    assert amounts(delta.removed) == [
        ("R1", f"2025-{month:02d}", "installment", Decimal("80.00")) for month in range(6, 13)]
    assert delta.added == ()
    assert delta.emptied == tuple(("R1", f"2025-{month:02d}") for month in range(6, 13))
    assert engine.result().digest == evaluate(
        plan, engine.records(), as_of).digest


def test_correct_and_remove_contract(plan):
    engine = Engine(plan, AS_OF, reference_records())
    changed = {**reference_records()[2], "amount": "6000.00"}
    delta = engine.correct(changed)
    assert [line.amount for line in delta.added] == [Decimal("40.00")] * 4 + [
        Decimal("60.00")] + [Decimal("40.00")] * 2
    removal = engine.remove(("contract", "K1"))
    assert removal.added == ()
    assert engine.result().lines == ()
    assert len(removal.emptied) == 6


def test_invalid_record_leaves_state(plan):
    engine = Engine(plan, AS_OF, reference_records())
    before = engine.result().digest
    payment = {"type": "payment", "id": "P1", "contract": "K9", "amount": "10.00",
               "paid_at": "2025-02-01T10:00:00+08:00"}
    with pytest.raises(RecordError) as caught:
        engine.add(payment)
    assert caught.value.problems[0].message == "contract 'K9' is not in the records"
    assert caught.value.problems[0].position == "added record 1"
    assert engine.result().digest == before


def test_invalid_field_message(plan):
    engine = Engine(plan, AS_OF, reference_records())
    with pytest.raises(RecordError) as caught:
        engine.add({"type": "payment", "id": "P1", "contract": "K1", "amount": 10.5,
                    "paid_at": "2025-02-01T10:00:00+08:00"})
    problem = caught.value.problems[0]
    assert problem.field == "amount"
    assert problem.message == "amount 10.5 is a float, which cannot hold cents exactly"


def test_removal_breaks_reference(plan):
    engine = Engine(plan, AS_OF, reference_records())
    before = engine.result().digest
    with pytest.raises(RecordError) as caught:
        engine.remove({"type": "customer", "id": "C1"})
    problem = caught.value.problems[0]
    # The removal broke the reference, so the problem is reported at the removal.
    assert problem.position == "removed record 1"
    assert problem.record_id == "customer C1"
    assert problem.message == ("contract K1 still refers to it (field customer),"
                               " so the removal would break that reference")
    assert problem.fix == "remove or re-point contract K1 first"
    assert engine.result().digest == before


def test_duplicate_and_missing_ids(plan):
    engine = Engine(plan, AS_OF, reference_records())
    with pytest.raises(RecordError) as duplicate:
        engine.add(reference_records()[2])
    assert duplicate.value.problems[0].message == "contract K1 is already in the records"
    with pytest.raises(RecordError) as missing:
        engine.remove(("payment", "P404"))
    assert missing.value.problems[0].message == "payment P404 is not in the records"
    with pytest.raises(RecordError) as absent:
        engine.correct({**reference_records()[2], "id": "K2"})
    assert absent.value.problems[0].message == "contract K2 is not in the records"


def test_refunds_above_amount_rejected(plan):
    engine = Engine(plan, AS_OF, reference_records())
    refund = {"type": "refund", "id": "F1", "contract": "K1", "amount": "12000.01",
              "refunded_at": "2025-02-01T10:00:00+08:00", "reason": "r"}
    with pytest.raises(RecordError) as caught:
        engine.add(refund)
    assert caught.value.problems[0].message == (
        "the refunds of contract K1 sum to 12000.01, more than its amount 12000.00")


def test_currency_rejected(plan):
    records = reference_records()
    engine = Engine(plan, AS_OF, records[:2])
    with pytest.raises(RecordError) as caught:
        engine.add({**records[2], "currency": "USD"})
    assert caught.value.problems[0].message == (
        "currency USD differs from the plan's currency CNY")
    assert engine.result().lines == ()


def test_record_after_as_of_moves_no_line(plan):
    engine = Engine(plan, AS_OF, reference_records())
    before = engine.result()
    delta = engine.add({"type": "payment", "id": "P1", "contract": "K1", "amount": "10.00",
                        "paid_at": "2025-08-01T10:00:00+08:00"})
    assert delta.empty
    assert engine.result().lines == before.lines
    assert engine.result().digest != before.digest


def test_export_restore_roundtrip(plan):
    raw = [json.loads(line) for line in
           (ROOT / "examples" / "counselling" / "records.jsonl").read_text().splitlines()]
    engine = Engine(plan, AS_OF, raw)
    state = json.loads(json.dumps(engine.export_state()))
    assert state["format"] == STATE_FORMAT
    restored = Engine.restore(plan, state)
    assert restored.result().digest == engine.result().digest
    assert restored.result().digest == evaluate(plan, load_records(raw), AS_OF).digest


def test_restore_under_other_plan(plan):
    engine = Engine(plan, AS_OF, reference_records())
    state = engine.export_state()
    other = load_plan((ROOT / "tests" / "plans" / "overrides.plan").read_text())
    with pytest.raises(EvaluationError, match="restore it under the plan text"):
        Engine.restore(other, state)
    with pytest.raises(EvaluationError, match="has format"):
        Engine.restore(plan, {"format": "pickle"})


@pytest.mark.parametrize("change", [
    {"type": "satisfaction", "id": "S1", "contract": "K1", "score": 95,
     "surveyed_at": "2025-02-01T10:00:00+08:00"},
    {"type": "satisfaction", "id": "S1", "contract": "K1", "score": 60,
     "surveyed_at": "2025-02-01T10:00:00+08:00"},
    {"type": "satisfaction", "id": "S1", "contract": "K1", "score": 80,
     "surveyed_at": "2025-02-01T10:00:00+08:00"},
    {"type": "refund", "id": "F1", "contract": "K1", "amount": "3000.00",
     "refunded_at": "2025-03-20T09:00:00+08:00", "reason": "moved"},
])
def test_delta_lists_only_changed_statements(plan, change):
    engine = Engine(plan, AS_OF, reference_records())
    before = {(s.payee, s.period): s for s in engine.result().statements}

    delta = engine.add(change)

    after = {(s.payee, s.period): s for s in engine.result().statements}
    changed = sorted(key for key in {*before, *after} if before.get(key) != after.get(key))
    listed = sorted([(s.payee, s.period) for s in delta.statements] + list(delta.emptied))
    assert listed == changed
    for statement in delta.statements:
        assert statement == after[(statement.payee, statement.period)]
