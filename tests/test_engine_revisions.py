"""Engine: revisions follow the batch rules, and its messages name records by type and id."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime

import pytest
from helpers import REFERENCE_PLAN

from commission_engine import EvaluationError, RecordError, evaluate, load_plan, load_records
from commission_engine.engine import Engine

AS_OF = datetime.fromisoformat("2025-06-30T00:00:00+08:00")

BASE = [
    {"type": "rep", "id": "R1", "name": "Li", "timezone": "Asia/Shanghai", "kind": "staff",
     "team": "HQ", "region": "Beijing", "manager": None},
    {"type": "customer", "id": "C1", "owner": "R1", "referred_by": None,
     "created_at": "2024-12-01T10:00:00+08:00"},
    {"type": "contract", "id": "K1", "customer": "C1", "rep": "R1", "product": "individual",
     "amount": "1000.00", "currency": "CNY", "signed_at": "2025-01-15T10:00:00+08:00",
     "term_months": 1},
]
NEW = {"type": "contract", "id": "K2", "customer": "C1", "rep": "R1", "product": "individual",
       "amount": "10.00", "currency": "CNY", "signed_at": "2025-02-15T10:00:00+08:00",
       "term_months": 1}


@pytest.fixture(scope="module")
def plan():
    return load_plan(REFERENCE_PLAN.read_text(encoding="utf-8"))


def batch_amount(records: list[dict], contract_id: str):
    return load_records(records).contracts[contract_id].amount


def test_revision_without_original_is_rejected(plan):
    engine = Engine(plan, AS_OF, BASE)
    before = engine.result().digest

    with pytest.raises(RecordError) as caught:
        engine.add({**NEW, "revision": 3})

    problem, = caught.value.problems
    assert problem.field == "revision"
    assert problem.message == "revision 3 corrects a contract that is not in the records"
    assert engine.result().digest == before
    with pytest.raises(RecordError, match="corrects a contract that is not in the records"):
        load_records([*BASE, {**NEW, "revision": 3}])


def test_lower_revision_keeps_the_higher_one(plan):
    engine = Engine(plan, AS_OF, BASE)
    sent = [*BASE, NEW, {**NEW, "amount": "30.00", "revision": 3},
            {**NEW, "amount": "20.00", "revision": 2}]

    engine.add(NEW)
    engine.correct({**NEW, "amount": "30.00", "revision": 3})
    engine.correct({**NEW, "amount": "20.00", "revision": 2})
    engine.correct({**NEW, "amount": "5.00"})

    assert engine.records().contracts["K2"].amount == batch_amount(sent, "K2") == 30
    expected = evaluate(plan, load_records(sent), AS_OF)
    assert engine.result().digest == expected.digest


def test_higher_revision_added_corrects_the_record(plan):
    engine = Engine(plan, AS_OF, BASE)

    engine.add({**BASE[2], "amount": "2000.00", "revision": 2})

    assert engine.records().contracts["K1"].amount == 2000
    with pytest.raises(RecordError) as caught:
        engine.add({**BASE[2], "amount": "3000.00", "revision": 2})
    assert caught.value.problems[0].message == "revision 2 of contract K1 is already in the records"
    with pytest.raises(RecordError, match="revision 2 is given twice"):
        load_records([*BASE, {**BASE[2], "revision": 2}, {**BASE[2], "revision": 2}])


def test_invalid_revision_is_rejected(plan):
    engine = Engine(plan, AS_OF, BASE)

    with pytest.raises(RecordError) as caught:
        engine.correct({**BASE[2], "revision": "two"})

    assert caught.value.problems[0].message == "revision 'two' is not a whole number"


def test_revisions_survive_export_and_restore(plan):
    engine = Engine(plan, AS_OF, BASE)
    engine.add({**BASE[2], "amount": "2000.00", "revision": 4})
    state = json.loads(json.dumps(engine.export_state()))

    restored = Engine.restore(plan, state)
    restored.correct({**BASE[2], "amount": "1.00"})

    assert restored.records().contracts["K1"].amount == 2000
    assert restored.result().digest == engine.result().digest


def test_duplicate_target_names_rep_period_and_metric(plan):
    target = {"type": "target", "rep": "R1", "period": "2025-01", "metric": "bookings",
              "value": "1000.00"}
    engine = Engine(plan, AS_OF, [*BASE, target])

    with pytest.raises(RecordError) as caught:
        engine.add(target)

    problem, = caught.value.problems
    assert problem.field is None
    assert problem.message == ("it duplicates the target of rep R1 for period 2025-01 and"
                               " metric 'bookings', already in the records")
    assert "own id" not in str(caught.value)


def test_stored_records_are_named_by_type_and_id(plan):
    engine = Engine(plan, AS_OF, BASE)
    engine.add({"type": "customer", "id": "C2", "owner": "R1", "referred_by": None,
                "created_at": "2024-12-01T10:00:00+08:00"})
    engine.add({**NEW, "customer": "C2"})

    with pytest.raises(RecordError) as caught:
        engine.remove(("customer", "C2"))

    problem, = caught.value.problems
    assert problem.render() == ("removed record 1 (customer C2): contract K2 still refers to it"
                                " (field customer), so the removal would break that reference;"
                                " remove or re-point contract K2 first")


def test_restore_names_changed_records(plan):
    state = Engine(plan, AS_OF, BASE).export_state()
    state["records"][0]["name"] = "Wang"

    with pytest.raises(EvaluationError) as caught:
        Engine.restore(plan, state)

    assert "stored records" in str(caught.value)
    assert "plan text" not in str(caught.value)


def test_restore_lists_invalid_records(plan):
    state = Engine(plan, AS_OF, BASE).export_state()
    state["records"].append({"type": "payment"})

    with pytest.raises(EvaluationError) as caught:
        Engine.restore(plan, state)

    text = str(caught.value)
    assert text.startswith("the state's stored records are invalid")
    assert "stored record 4, field contract: the field is missing" in text
    assert isinstance(caught.value.__cause__, RecordError)


def test_restore_needs_a_list_of_records(plan):
    state = Engine(plan, AS_OF, BASE).export_state()
    state["records"] = "nope"

    with pytest.raises(EvaluationError) as caught:
        Engine.restore(plan, state)

    assert str(caught.value).startswith("the state's records must be a list of records, not str")


def test_currency_problem_gives_the_label_once(plan):
    # A record set built without positions places each record by its label.
    records = dataclasses.replace(load_records([*BASE, {**NEW, "currency": "USD"}]), positions={})

    with pytest.raises(RecordError) as caught:
        Engine(plan, AS_OF, records)

    assert "contract K2 (contract K2)" not in str(caught.value)
    assert caught.value.problems[0].render().startswith("contract K2, field currency:")
    engine = Engine(plan, AS_OF, BASE)
    with pytest.raises(RecordError) as added:
        engine.add({**NEW, "currency": "USD"})
    assert added.value.problems[0].render().startswith("added record 1 (contract K2), field")
