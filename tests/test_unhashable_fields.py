"""A list or object where a record's type, id or reference belongs is invalid input.

Such values cannot be hashed, so every place that indexes raw records by
type and id must report them as a ``RecordError`` before it looks them up:
loading, the command line, and the engine's add, correct and remove.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

import commission_engine as ce
from commission_engine.engine import Engine
from test_invalid_input import (
    AS_OF,
    PLAN_TEXT,
    base_records,
    rejected_stderr,
    run_records,
)

NOT_TEXT = [["R1"], {"id": "R1"}, []]

# Every text field that names a record: a type, an id or a reference.
KEY_FIELDS = [
    (0, "type"), (0, "id"), (0, "manager"),
    (1, "id"), (1, "owner"), (1, "referred_by"),
    (2, "id"), (2, "customer"), (2, "rep"),
    (3, "id"), (3, "contract"),
]


def _cases() -> list[Any]:
    cases = []
    for index, field in KEY_FIELDS:
        for value in NOT_TEXT:
            for revised in (False, True):
                cases.append(pytest.param(index, field, value, revised,
                                          id=f"{index}-{field}-{type(value).__name__}"
                                             f"{'-revised' if revised else ''}"))
    return cases


def _faulty(index: int, field: str, value: Any, revised: bool) -> list[dict[str, Any]]:
    rows = base_records()
    if revised:
        # A corrected version, whose revision grouping also keys on type and id.
        rows.append({**copy.deepcopy(rows[index]), "revision": 2})
        index = len(rows) - 1
    rows[index][field] = value
    return rows


@pytest.mark.parametrize(("index", "field", "value", "revised"), _cases())
def test_load_rejects_unhashable_field(index: int, field: str, value: Any,
                                               revised: bool) -> None:
    rows = _faulty(index, field, value, revised)
    with pytest.raises(ce.RecordError) as caught:
        ce.load_records(rows)
    assert any(problem.field == field for problem in caught.value.problems), str(caught.value)


@pytest.mark.parametrize("field", ["type", "id"])
def test_cli_rejects_list_type_or_id(tmp_path: Path, field: str) -> None:
    rows = base_records()
    rows[0][field] = ["rep"] if field == "type" else ["R1"]
    stderr = rejected_stderr(run_records(tmp_path, rows))
    assert f"line 1, field {field}:" in stderr
    assert "not text" in stderr
    assert "a list or an object" in stderr or "one quoted word" in stderr


def test_target_list_rep_rejected() -> None:
    rows = [*base_records(), {"type": "target", "rep": ["R1"], "period": "2025-01",
                              "metric": "sales", "value": "1"}]
    with pytest.raises(ce.RecordError) as caught:
        ce.load_records(rows)
    assert [problem.field for problem in caught.value.problems] == ["rep"]


@pytest.fixture
def engine() -> Engine:
    return Engine(ce.load_plan(PLAN_TEXT), AS_OF, base_records())


@pytest.mark.parametrize(("index", "field"), KEY_FIELDS)
@pytest.mark.parametrize("value", NOT_TEXT)
def test_engine_change_rejects_unhashable(engine: Engine, index: int, field: str,
                                          value: Any) -> None:
    record = base_records()[index]
    record[field] = value
    for change in (engine.add, engine.correct):
        with pytest.raises(ce.RecordError) as caught:
            change(record)
        problem = caught.value.problems[0]
        assert problem.field == field


@pytest.mark.parametrize(("key", "field"), [
    ({"type": "contract", "id": ["K1"]}, "id"),
    (("contract", ["K1"]), "id"),
    ({"type": "contract", "id": {"id": "K1"}}, "id"),
    ({"type": ["contract"], "id": "K1"}, "type"),
    ((["contract"], "K1"), "type"),
    ({"type": "target", "rep": ["R1"], "period": "2025-01", "metric": "sales"}, "rep"),
    ({"type": "contract"}, "id"),
])
def test_engine_remove_rejects_non_text_key(engine: Engine, key: Any, field: str) -> None:
    before = engine.result().digest
    with pytest.raises(ce.RecordError) as caught:
        engine.remove(key)
    problem = caught.value.problems[0]
    assert problem.field == field
    assert "cannot remove" in problem.message
    assert engine.result().digest == before



@pytest.mark.parametrize(("written", "message"), [
    (None, "the type is null, not text"),
    (5, "5 is a number, not text"),
    (True, "true is a boolean, not text"),
])
def test_load_non_text_type_message(written: Any, message: str) -> None:
    rows = base_records()
    rows[0]["type"] = written
    with pytest.raises(ce.RecordError) as caught:
        ce.load_records(rows)
    messages = [problem.message for problem in caught.value.problems
                if problem.field == "type"]
    assert messages == [message]
