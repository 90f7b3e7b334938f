"""Record model instances load exactly as the dicts they were built from.

``load_records`` takes ``Rep(...)``, ``Contract(...)`` and the other record
models as well as dicts, alone or mixed in one batch. An instance must be
named by its place in the batch like a dict, so that a duplicate id, a
missing reference or any other cross-record problem is reported with the
same position, label, field, message and fix. A clean batch must give the
same ``RecordSet``: tables, indexes, positions, canonical lines and digest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest
from fuzzing import mutated_record_sets
from helpers import assert_same_record_set
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from commission_engine import RecordError, RecordSet, load_records
from commission_engine.errors import Problem
from commission_engine.limits import Limits
from commission_engine.records import RECORD_TYPES, Customer, Rep
from commission_engine.results import records_digest
from commission_engine.strategies import record_sets

Row = dict[str, Any]


def _instance(row: Mapping[str, Any]) -> Any:
    """Build the record model a dict describes, as a caller of the Python API would."""
    return RECORD_TYPES[row["type"]](**row)


def _all_instances(rows: list[Row]) -> list[Any]:
    return [_instance(row) for row in rows]


def _every_other(rows: list[Row]) -> list[Any]:
    return [_instance(row) if index % 2 else row for index, row in enumerate(rows)]


def _outcome(rows: list[Any], positions: list[str] | None = None,
             limits: Limits | None = None) -> RecordSet | tuple[tuple[Problem, ...], int]:
    try:
        if limits is None:
            return load_records(rows, positions)
        return load_records(rows, positions, limits)
    except RecordError as error:
        return error.problems, error.omitted


def _assert_same_set(got: RecordSet, expected: RecordSet) -> None:
    """Check the record sets as ``assert_same_record_set`` does, and their digests."""
    assert_same_record_set(got, expected)
    assert records_digest(got.canonical_lines) == records_digest(expected.canonical_lines)


def _assert_same_outcome(got: Any, expected: Any) -> None:
    if isinstance(expected, RecordSet):
        assert isinstance(got, RecordSet), got
        _assert_same_set(got, expected)
    else:
        assert got == expected


# ---------------------------------------------------------------- a small batch

REP_R1: Row = {"type": "rep", "id": "R1", "name": "Rep One", "timezone": "Asia/Shanghai",
               "kind": "staff", "team": "HQ", "region": "Beijing", "manager": None}


def _batch() -> list[Row]:
    """Return a clean batch with one record of every type and every reference in use."""
    return [
        dict(REP_R1),
        {"type": "rep", "id": "R2", "name": "Rep Two", "timezone": "Europe/Berlin",
         "kind": "agent", "team": "West", "region": "Berlin", "manager": "R1"},
        {"type": "customer", "id": "C1", "owner": "R1", "referred_by": None,
         "created_at": "2025-01-02T09:00:00+08:00"},
        {"type": "customer", "id": "C2", "owner": "R2", "referred_by": "C1",
         "created_at": "2025-01-05T10:00:00+01:00"},
        {"type": "contract", "id": "K1", "customer": "C1", "rep": "R1", "product": "family",
         "amount": "1000.00", "currency": "CNY", "signed_at": "2025-01-10T10:00:00+08:00",
         "term_months": 6},
        {"type": "contract", "id": "K2", "customer": "C2", "rep": "R2", "product": "teen",
         "amount": "800.00", "currency": "CNY", "signed_at": "2025-01-20T10:00:00+01:00",
         "term_months": 1},
        {"type": "payment", "id": "P1", "contract": "K1", "amount": "500.00",
         "paid_at": "2025-02-01T10:00:00+08:00"},
        {"type": "refund", "id": "F1", "contract": "K1", "amount": "100.00",
         "refunded_at": "2025-03-01T10:00:00+08:00", "reason": "customer request",
         "payment": "P1"},
        {"type": "session", "id": "S1", "contract": "K1", "held_at": "2025-01-15T10:00:00+08:00",
         "minutes": 60},
        {"type": "satisfaction", "id": "Q1", "contract": "K2", "score": 90,
         "surveyed_at": "2025-02-20T10:00:00+01:00"},
        {"type": "complaint", "id": "X1", "contract": "K2",
         "filed_at": "2025-02-21T10:00:00+01:00", "upheld": False},
        {"type": "target", "rep": "R1", "period": "2025-01", "metric": "sales",
         "value": "5000.00"},
    ]


def _set(index: int, **changes: Any) -> Callable[[list[Row]], list[Row]]:
    def change(rows: list[Row]) -> list[Row]:
        rows[index] = {**rows[index], **changes}
        return rows
    return change


def _copy_of(index: int, **changes: Any) -> Callable[[list[Row]], list[Row]]:
    def change(rows: list[Row]) -> list[Row]:
        return [*rows, {**rows[index], **changes}]
    return change


# Each change breaks one cross-record rule. Every field value stays valid on
# its own, so each changed record can still be built as an instance.
BROKEN: dict[str, Callable[[list[Row]], list[Row]]] = {
    "duplicate rep id": _copy_of(0, name="Another"),
    "duplicate contract id": _copy_of(4),
    "duplicate target": _copy_of(11, value="1.00"),
    "missing manager": _set(1, manager="R9"),
    "manager cycle": _set(0, manager="R2"),
    "missing owner": _set(2, owner="R9"),
    "missing referrer": _set(3, referred_by="C9"),
    "self referral": _set(3, referred_by="C2"),
    "referrer created later": _set(2, created_at="2025-01-06T00:00:00+08:00"),
    "missing customer": _set(4, customer="C9"),
    "missing rep": _set(5, rep="R9"),
    "too many decimals": _set(4, amount="1000.005"),
    "contract not positive": _set(5, amount="0.00"),
    "payment before signing": _set(6, paid_at="2025-01-01T00:00:00+08:00"),
    "payments above amount": _set(6, amount="1500.00"),
    "missing contract": _set(8, contract="K9"),
    "missing payment": _set(7, payment="P9"),
    "refund before payment": _set(7, refunded_at="2025-01-20T00:00:00+08:00"),
    "refund of another contract": _set(7, contract="K2", amount="10.00"),
    "missing target rep": _set(11, rep="R9"),
}


def test_base_batch_is_clean() -> None:
    assert isinstance(load_records(_batch()), RecordSet)


@pytest.mark.parametrize("convert", [_all_instances, _every_other],
                         ids=["instances", "mixed"])
@pytest.mark.parametrize("case", sorted(BROKEN))
def test_instances_report_dict_problems(case: str,
                                                convert: Callable[[list[Row]], list[Any]]) -> None:
    rows = BROKEN[case](_batch())
    expected = _outcome(rows)
    assert not isinstance(expected, RecordSet), "the change must break the batch"
    assert _outcome(convert(rows)) == expected
    positions = [f"line {2 * number + 1}" for number in range(len(rows))]
    assert _outcome(convert(rows), positions) == _outcome(rows, positions)


@pytest.mark.parametrize("convert", [_all_instances, _every_other],
                         ids=["instances", "mixed"])
def test_clean_instances_load_as_dicts(
        convert: Callable[[list[Row]], list[Any]]) -> None:
    rows = _batch()
    _assert_same_set(load_records(convert(rows)), load_records(rows))
    positions = [f"line {number + 2}" for number in range(len(rows))]
    _assert_same_set(load_records(convert(rows), positions), load_records(rows, positions))


def test_instance_positions_follow_place() -> None:
    loaded = load_records([Rep(**REP_R1), {**REP_R1, "id": "R2"},
                           Customer(id="C1", owner="R2", created_at="2025-01-02T09:00:00Z")])
    assert dict(loaded.positions) == {("rep", "R1"): "record 1", ("rep", "R2"): "record 2",
                                      ("customer", "C1"): "record 3"}


def test_instance_missing_owner_reported() -> None:
    batch = [Rep(**REP_R1), Customer(id="C1", owner="R9", created_at="2025-01-02T09:00:00Z")]
    with pytest.raises(RecordError) as caught:
        load_records(batch)
    assert caught.value.problems == (
        Problem("record 2", "customer C1", "owner", "rep 'R9' is not in the records",
                "add the rep record or correct the id"),
    )


def test_instance_duplicate_ids_reported() -> None:
    with pytest.raises(RecordError) as caught:
        load_records([Rep(**REP_R1), {**REP_R1, "id": "R2"}, Rep(**REP_R1)])
    assert caught.value.problems == (
        Problem("record 3", "rep R1", "id", "duplicate id 'R1', also at record 1",
                "give each record its own id, or remove the copy"),
    )


def test_revision_corrects_instance() -> None:
    # An instance has no revision field, so it is the original (revision 1).
    rows = [dict(REP_R1), {**REP_R1, "name": "Corrected", "revision": 2}]
    expected = load_records(rows)
    assert expected.reps["R1"].name == "Corrected"
    _assert_same_set(load_records([Rep(**REP_R1), rows[1]]), expected)


def test_instances_checked_against_limits() -> None:
    # An instance is built with the default limits, but the batch's own limits still apply.
    rows = _batch()
    limits = Limits(max_term_months=3)
    expected = _outcome(rows, limits=limits)
    assert not isinstance(expected, RecordSet)
    assert [problem.field for problem in expected[0]] == ["term_months"]
    assert _outcome(_all_instances(rows), limits=limits) == expected


# ---------------------------------------------------------------- properties


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(record_sets(), st.data())
def test_generated_batches_load_as_instances(rows: list[Row], data: st.DataObject) -> None:
    expected = load_records(rows)
    _assert_same_set(load_records(_all_instances(rows)), expected)
    as_instance = data.draw(st.lists(st.booleans(), min_size=len(rows), max_size=len(rows)))
    mixed = [_instance(row) if chosen else row for row, chosen in zip(rows, as_instance)]
    _assert_same_set(load_records(mixed), expected)


def _as_instance_if_valid(row: Any) -> Any:
    """Return the instance a row builds on its own, or the row when it builds none."""
    if type(row) is not dict:
        return row
    record_type = row.get("type")
    # A mutated type may be a list, which is unhashable.
    if not isinstance(record_type, str) or record_type not in RECORD_TYPES:
        return row
    try:
        return _instance(row)
    except (ValidationError, TypeError):
        return row


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_record_sets())
def test_broken_batches_report_as_dicts(rows: list[Any]) -> None:
    # Every row that is a valid record on its own becomes an instance, and
    # the problems reported must not change.
    converted = [_as_instance_if_valid(row) for row in rows]
    _assert_same_outcome(_outcome(converted), _outcome(rows))
