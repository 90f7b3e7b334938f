"""The clean load of JSON Lines text agrees with the full load that reports every problem.

``load_jsonl`` first lets pydantic read and validate each line in one step,
and reads a line that fails again alone, with numbers as Decimal. At the
first problem it gives up, and the full load parses every line with numbers
as Decimal and reports every problem. These tests check
that both paths give the same record set or the same error, and that the
clean path is taken for the usual file. They also check the lines its
reader may read differently from the full load: a key given twice, an
amount written as a JSON number with decimals, a surrogate escape, a quote
before a colon inside a string.
"""

from __future__ import annotations

import json
import pickle
from decimal import Decimal
from typing import Any

import pytest
from fuzzing import damaged_jsonl, mutated_record_sets, to_jsonl
from helpers import assert_same_record_set
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.strategies import DrawFn

from commission_engine import RecordError, RecordSet, jsonl, load_jsonl, load_records
from commission_engine import records as records_module
from commission_engine.jsonl import parse_jsonl
from commission_engine.limits import DEFAULT_LIMITS
from commission_engine.strategies import record_sets

REP = {"type": "rep", "id": "R1", "name": "Li Wei", "timezone": "Asia/Shanghai",
       "kind": "staff", "team": "East", "region": "Shanghai", "manager": None}
CUSTOMER = {"type": "customer", "id": "C1", "owner": "R1", "referred_by": None,
            "created_at": "2025-01-10T10:00:00+08:00"}
CONTRACT = {"type": "contract", "id": "K1", "customer": "C1", "rep": "R1",
            "product": "family", "amount": "12000.00", "currency": "CNY",
            "signed_at": "2025-01-15T10:00:00+08:00", "term_months": 12}
ROWS = [REP, CUSTOMER, CONTRACT]
SEPARATORS = [(",", ":"), (", ", ": "), (" , ", " : "), (",\t", "\t:\t")]


def _outcome(load: Any) -> Any:
    try:
        return load()
    except RecordError as error:
        return error.problems, error.omitted


def _full(text: str) -> Any:
    return _outcome(lambda: load_records(*parse_jsonl(text)))


def _assert_same_outcome(text: str) -> None:
    got, expected = _outcome(lambda: load_jsonl(text)), _full(text)
    if isinstance(expected, RecordSet):
        assert isinstance(got, RecordSet), got
        assert_same_record_set(got, expected)
    else:
        assert got == expected


def _clean(text: str) -> RecordSet | None:
    return jsonl._load_clean(text, DEFAULT_LIMITS)


def _write(rows: list[dict[str, Any]], separators: tuple[str, str] = (", ", ": "),
           newline: str = "\n") -> str:
    return "".join(json.dumps(row, separators=separators, ensure_ascii=False) + newline
                   for row in rows)


@st.composite
def written_batches(draw: DrawFn) -> str:
    """Draw a valid record set, written with any JSON spacing, line ends and blank lines."""
    rows = draw(record_sets(max_reps=3, max_customers=4, max_contracts=5, refund_rate=0.5,
                            payment_rate=0.7))
    separators = draw(st.sampled_from(SEPARATORS))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    lines = [json.dumps(row, separators=separators, ensure_ascii=draw(st.booleans()))
             for row in rows]
    for _ in range(draw(st.integers(0, 3))):
        lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(["", "  ", "\t"])))
    prefix = draw(st.sampled_from(["", "\ufeff"]))
    return prefix + newline.join(lines) + draw(st.sampled_from(["", newline]))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(written_batches())
def test_clean_path_valid_text(text: str) -> None:
    clean = _clean(text)
    full = _full(text)
    assert isinstance(full, RecordSet), full
    assert clean is not None
    assert_same_record_set(clean, full)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(damaged_jsonl(), mutated_record_sets().map(to_jsonl)))
def test_clean_path_damaged_text(text: str) -> None:
    _assert_same_outcome(text)
    # The clean path may give up on valid text, but never accepts invalid text.
    if _clean(text) is not None:
        assert isinstance(_full(text), RecordSet)


@pytest.mark.parametrize("separators", SEPARATORS)
def test_load_jsonl_repeated_key(separators: tuple[str, str]) -> None:
    comma, colon = separators
    field = f'"amount"{colon}"12000.00"'
    text = _write(ROWS, separators).replace(field, f'"amount"{colon}"1.00"{comma}{field}')
    assert _clean(text) is None
    with pytest.raises(RecordError) as caught:
        load_jsonl(text)
    (problem,) = caught.value.problems
    assert problem.position == "line 3"
    assert problem.field == "amount"
    assert "given twice" in problem.message


def test_clean_path_decimal_number_amount() -> None:
    text = _write(ROWS).replace('"12000.00"', "12000.10")
    loaded = _clean(text)
    assert loaded is not None
    assert str(loaded.contracts["K1"].amount) == "12000.10"


def test_clean_path_whole_number_amount() -> None:
    text = _write(ROWS).replace('"12000.00"', "12000")
    loaded = _clean(text)
    assert loaded is not None
    assert loaded.contracts["K1"].amount == Decimal(12000)


def test_clean_path_escaped_quote_in_name() -> None:
    rep = dict(REP, name='Li "Wei": staff')
    loaded = _clean(_write([rep, CUSTOMER, CONTRACT]))
    assert loaded is not None
    assert loaded.reps["R1"].name == 'Li "Wei": staff'


def test_clean_path_surrogate_pair() -> None:
    rep = dict(REP, name="Li \U0001f600")
    text = _write([rep, CUSTOMER, CONTRACT]).replace("\U0001f600", "\\ud83d\\ude00")
    loaded = _clean(text)
    assert loaded is not None
    assert loaded.reps["R1"].name == "Li \U0001f600"


def test_clean_path_lone_surrogate() -> None:
    rep = dict(REP, name="Li \\ud800")
    text = _write([rep, CUSTOMER, CONTRACT]).replace("\\\\ud800", "\\ud800")
    assert "\\ud800" in text
    assert _clean(text) is None
    with pytest.raises(RecordError) as caught:
        load_jsonl(text)
    (problem,) = caught.value.problems
    assert problem.position == "line 1"
    assert "surrogate" in problem.message


def test_load_jsonl_blank_lines_and_crlf() -> None:
    bad = dict(CONTRACT, amount="-5.00")
    text = "\r\n".join(["", json.dumps(REP), "  ", json.dumps(CUSTOMER), json.dumps(bad), ""])
    assert _clean(text) is None
    with pytest.raises(RecordError) as caught:
        load_jsonl(text)
    assert [problem.position for problem in caught.value.problems] == ["line 5"]


def test_load_jsonl_cr_line_ends() -> None:
    text = "\r".join(json.dumps(row) for row in ROWS) + "\r"
    with pytest.raises(RecordError) as caught:
        load_jsonl(text)
    (problem,) = caught.value.problems
    assert problem.position == "line 1"
    assert "extra data" in problem.message
    assert problem.fix is not None
    assert "save the file with LF or CRLF line ends" in problem.fix


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(["{}", "a", "", " ", "\t", "\r", "x\r", "\u2028", "\xa0",
                                 "\x1c", " {} ", "\ufeff", "\ufeff{}"]), max_size=8),
       st.sampled_from(["", "\ufeff"]))
def test_numbered_lines_match_record_lines(lines: list[str], prefix: str) -> None:
    text = prefix + "\n".join(lines)
    numbered = list(jsonl._record_lines(text))
    got_lines, got_positions = jsonl._numbered_lines(text)
    assert got_lines == [line for _number, line in numbered]
    assert list(got_positions) == [f"line {number}" for number, _line in numbered]


def _without(row: dict[str, Any], name: str) -> dict[str, Any]:
    return {key: value for key, value in row.items() if key != name}


@pytest.mark.parametrize("separators", SEPARATORS)
@pytest.mark.parametrize("name", ["Li Wei", 'Li "Wei"'])
def test_repeated_key_optional_field_left_out(
        separators: tuple[str, str], name: str) -> None:
    # Without "manager", the rep's line has as many keys as a rep has
    # fields even with "team" given twice, so counting keys cannot tell.
    comma, colon = separators
    rep = _without(dict(REP, name=name), "manager")
    field = f'"team"{colon}"East"'
    text = _write([rep, CUSTOMER, CONTRACT], separators).replace(
        field, f'"team"{colon}"West"{comma}{field}', 1)
    assert _clean(text) is None
    with pytest.raises(RecordError) as caught:
        load_jsonl(text)
    (problem,) = caught.value.problems
    assert (problem.position, problem.field) == ("line 1", "team")
    assert "given twice" in problem.message


def test_repeated_optional_key_with_one_value() -> None:
    text = _write(ROWS).replace('"referred_by": null', '"referred_by": null, "referred_by": null')
    assert _clean(text) is None
    with pytest.raises(RecordError) as caught:
        load_jsonl(text)
    (problem,) = caught.value.problems
    assert (problem.position, problem.field) == ("line 2", "referred_by")


@pytest.mark.parametrize("left_out", [(), ("manager",), ("referred_by",), ("manager", "referred_by")])
def test_clean_path_optional_fields_absent(left_out: tuple[str, ...]) -> None:
    rows = [{key: value for key, value in row.items() if key not in left_out} for row in ROWS]
    text = _write(rows)
    loaded = _clean(text)
    assert loaded is not None
    assert loaded.reps["R1"].manager is None
    assert loaded.customers["C1"].referred_by is None
    assert_same_record_set(loaded, _full(text))


def test_records_keep_no_instance_dict() -> None:
    # Records are slotted dataclasses: about 300 bytes each in memory, where
    # a pydantic BaseModel with its __dict__ and set of given fields took
    # about 1,200.
    loaded = load_jsonl(_write(ROWS))
    for record in (loaded.reps["R1"], loaded.customers["C1"], loaded.contracts["K1"]):
        assert not hasattr(record, "__dict__")


def test_positions_of_a_clean_load() -> None:
    target = {"type": "target", "rep": "R1", "period": "2025-01", "metric": "new_contracts",
              "value": "3"}
    text = "\n" + _write([REP, target, CUSTOMER, CONTRACT])
    loaded = load_jsonl(text)
    assert isinstance(loaded.positions, records_module.RecordPositions)
    expected = {("rep", "R1"): "line 2", ("customer", "C1"): "line 4",
                ("contract", "K1"): "line 5", ("target", "R1/2025-01/new_contracts"): "line 3"}
    assert list(loaded.positions.items()) == list(expected.items())
    assert_same_record_set(loaded, _full(text))
    copied = pickle.loads(pickle.dumps(loaded))
    assert copied.positions == expected
    assert copied.canonical_lines == loaded.canonical_lines
