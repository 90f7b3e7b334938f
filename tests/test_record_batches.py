"""Batches as other systems send them: duplicates, any order, corrections, forward references."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from helpers import REFERENCE_PLAN, WORKED, read_jsonl, run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

from commission_engine import Plan, RecordError, load_jsonl, load_plan, load_records

AS_OF = datetime.fromisoformat("2026-12-31T00:00:00+08:00")


@pytest.fixture(scope="module")
def plan() -> Plan:
    return load_plan(REFERENCE_PLAN.read_text(encoding="utf-8"), str(REFERENCE_PLAN))


def worked(*names: str) -> list[dict[str, Any]]:
    """Return the records of worked cases, each record once."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for name in names:
        for row in read_jsonl(WORKED / f"{name}.jsonl"):
            rows.setdefault((row["type"], row.get("id", "")), row)
    return list(rows.values())


def jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(row, default=str) + "\n" for row in rows)


def problems(rows: list[dict[str, Any]]) -> list[str]:
    with pytest.raises(RecordError) as caught:
        load_jsonl(jsonl(rows))
    return [problem.render() for problem in caught.value.problems]


def contract_k1(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return next(row for row in rows if row["type"] == "contract" and row["id"] == "K1")


# ---------------------------------------------------------------- twice


def test_duplicate_names_both_lines() -> None:
    rows = worked("E1")
    rows.append(dict(contract_k1(rows)))
    first = rows.index(contract_k1(rows)) + 1

    assert problems(rows) == [
        f"line {len(rows)} (contract K1), field id: duplicate id 'K1', also at line {first};"
        " give each record its own id, or remove the copy"]


def test_identical_copy_still_duplicate() -> None:
    rows = worked("E1")
    rows.insert(0, dict(rows[-1]))

    assert len(problems(rows)) == 1


# ---------------------------------------------------------------- any order


@settings(max_examples=8, derandomize=True, deadline=None, database=None)
@given(st.permutations(worked("E7", "E8", "E12")))
def test_order_never_changes_result(rows: list[dict[str, Any]]) -> None:
    plan = load_plan(REFERENCE_PLAN.read_text(encoding="utf-8"))
    expected = plan.evaluate(load_records(worked("E7", "E8", "E12")), AS_OF)

    result = plan.evaluate(load_jsonl(jsonl(rows)), AS_OF)

    assert result.digest == expected.digest
    assert result.to_json() == expected.to_json()


def test_references_resolve_forward(plan: Plan) -> None:
    rows = worked("E7", "E12")
    in_order = plan.evaluate(load_records(rows), AS_OF)
    # Every event first, then contracts, customers and reps: each reference
    # points at a record further down the batch.
    rank = {"rep": 3, "customer": 2, "contract": 1}
    backwards = sorted(rows, key=lambda row: rank.get(row["type"], 0))

    result = plan.evaluate(load_jsonl(jsonl(backwards)), AS_OF)

    assert backwards[0]["type"] not in rank
    assert backwards[-1]["type"] == "rep"
    assert result.digest == in_order.digest


def test_referrer_and_manager_later_in_batch() -> None:
    rows = [
        {"type": "customer", "id": "C2", "owner": "R2", "referred_by": "C1",
         "created_at": "2025-02-01T10:00:00+08:00"},
        {"type": "rep", "id": "R2", "name": "B", "timezone": "Asia/Shanghai", "kind": "agent",
         "team": "", "region": "", "manager": "R1"},
        {"type": "customer", "id": "C1", "owner": "R1", "referred_by": None,
         "created_at": "2025-01-01T10:00:00+08:00"},
        {"type": "rep", "id": "R1", "name": "A", "timezone": "Asia/Shanghai", "kind": "staff",
         "team": "", "region": "", "manager": None},
    ]

    records = load_jsonl(jsonl(rows))

    assert records.customers["C2"].referred_by == "C1"
    assert records.reps["R2"].manager == "R1"


def test_refund_names_payment_later() -> None:
    rows = worked("E1")
    rows.insert(0, {"type": "refund", "id": "F1", "contract": "K1", "amount": "100.00",
                    "refunded_at": "2025-02-01T10:00:00+08:00", "reason": "", "payment": "P1"})
    rows.append({"type": "payment", "id": "P1", "contract": "K1", "amount": "1000.00",
                 "paid_at": "2025-01-20T10:00:00+08:00"})

    assert load_jsonl(jsonl(rows)).refunds["F1"].payment == "P1"


# ---------------------------------------------------------------- corrections


def corrected(rows: list[dict[str, Any]], revision: Any = 2,
              amount: str = "6000.00") -> dict[str, Any]:
    return {**contract_k1(rows), "amount": amount, "revision": revision}


def test_correction_replaces_original(plan: Plan) -> None:
    rows = worked("E1")
    fixed = [row if row is not contract_k1(rows) else {**row, "amount": "6000.00"}
             for row in rows]
    expected = plan.evaluate(load_records(fixed), AS_OF)

    records = load_jsonl(jsonl([*rows, corrected(rows)]))
    result = plan.evaluate(records, AS_OF)

    assert records.contracts["K1"].amount == Decimal("6000.00")
    assert result.digest == expected.digest
    assert result.totals()[("R1", "2025-01", "installment")] == Decimal("40.00")


def test_correction_before_original_same_result(plan: Plan) -> None:
    rows = worked("E1")

    after = plan.evaluate(load_jsonl(jsonl([*rows, corrected(rows)])), AS_OF)
    before = plan.evaluate(load_jsonl(jsonl([corrected(rows), *rows])), AS_OF)

    assert before.digest == after.digest


def test_highest_revision_wins() -> None:
    rows = worked("E1")
    batch = [corrected(rows, 3, "3000.00"), *rows, corrected(rows, 2, "6000.00")]

    assert load_jsonl(jsonl(batch)).contracts["K1"].amount == Decimal("3000.00")


def test_explicit_revision_one_is_original() -> None:
    rows = worked("E1")
    rows = [row if row is not contract_k1(rows) else {**row, "revision": 1} for row in rows]

    records = load_jsonl(jsonl([*rows, corrected(rows)]))

    assert records.contracts["K1"].amount == Decimal("6000.00")


def test_correction_of_target() -> None:
    rows = worked("E1")
    target = {"type": "target", "rep": "R1", "period": "2025-01", "metric": "new_contracts",
              "value": "5"}

    records = load_jsonl(jsonl([*rows, target, {**target, "value": "7", "revision": 2}]))

    assert [t.value for t in records.targets] == [Decimal("7")]


def test_corrected_record_is_validated() -> None:
    rows = worked("E1")
    line = len(rows) + 1

    assert problems([*rows, corrected(rows, amount="60.001")]) == [
        f"line {line} (contract K1), field amount: amount 60.001 has more decimals than CNY"
        " allows (2); round it to 2 decimals before sending it"]


def test_correction_without_original_rejected() -> None:
    rows = [row for row in worked("E1") if row["type"] != "contract"]
    rows.append(corrected(worked("E1")))

    assert problems(rows) == [
        f"line {len(rows)} (contract K1), field revision: revision 2 corrects a contract that"
        " is not in the records; send the original (without a revision field) in the same"
        " batch, or remove the revision field if this is the original"]


def test_same_revision_twice_rejected() -> None:
    rows = worked("E1")
    batch = [*rows, corrected(rows, 2, "6000.00"), corrected(rows, 2, "5000.00")]

    assert problems(batch) == [
        f"line {len(batch)} (contract K1), field revision: revision 2 is given twice, also at"
        f" line {len(batch) - 1}; give each correction the next revision number, or remove"
        " the copy"]


@pytest.mark.parametrize(
    ("revision", "message"),
    [
        pytest.param(0, "revision 0 is out of range", id="zero"),
        pytest.param(-2, "revision -2 is out of range", id="negative"),
        pytest.param("2", "revision '2' is not a whole number", id="text"),
        pytest.param(True, "revision True is not a whole number", id="boolean"),
        pytest.param(Decimal("2.5"), "revision 2.5 is not a whole number", id="fraction"),
        pytest.param(None, "revision None is not a whole number", id="null"),
    ],
)
def test_bad_revision_rejected(revision: Any, message: str) -> None:
    rows = worked("E1")

    with pytest.raises(RecordError) as caught:
        load_records([*rows, corrected(rows, revision)])

    assert [(p.field, p.message) for p in caught.value.problems] == [("revision", message)]


def test_huge_revision_exponent_rejected() -> None:
    rows = worked("E1")
    text = jsonl(rows) + jsonl([corrected(rows)]).replace('"revision": 2', '"revision": 1e999999999')

    with pytest.raises(RecordError) as caught:
        load_jsonl(text)

    assert [p.message for p in caught.value.problems] == ["revision 1E+999999999 is out of range"]


def test_correction_from_cli(tmp_path: Path) -> None:
    rows = worked("E1")
    records = tmp_path / "r.jsonl"
    records.write_text(jsonl([*rows, corrected(rows)]), encoding="utf-8")

    completed = run_cli("run", str(REFERENCE_PLAN), str(records), "--as-of",
                        "2026-12-31T00:00:00+08:00", "--format", "json")

    assert completed.returncode == 0, completed.stderr
    lines = json.loads(completed.stdout)["lines"]
    assert lines[0]["amount"] == "40.00"


def test_huge_integer_names_line_and_fix() -> None:
    text = ('{"type": "rep", "id": "R1", "name": "x", "timezone": "Asia/Shanghai",'
            ' "kind": "staff", "team": "T", "region": "x", "manager": null}\n'
            '{"type": "payment", "id": "P1", "contract": "K1", "amount": ' + "9" * 5000
            + ', "paid_at": "2025-01-01T10:00:00+08:00"}\n')

    with pytest.raises(RecordError) as caught:
        load_jsonl(text)

    problem, = caught.value.problems
    assert problem.position == "line 2"
    assert problem.message == "not valid JSON: a number on this line has more than 4,300 digits"
    assert "set_int_max_str_digits" not in (problem.fix or "")
