"""Python inputs to ``load_records`` that text cannot give: positions, subclasses, zones.

A caller of the Python API passes its own positions list, instances of
subclasses of the record types, and datetimes in a ``ZoneInfo`` zone. Each
must load as the same records written in a JSON Lines file would, or be
rejected with a message that names the fix.
"""

from __future__ import annotations

import copy
import pickle
import sys
from datetime import datetime, timedelta, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from commission_engine import RecordError, load_jsonl, load_plan, load_records
from commission_engine.records import Contract, Payment, RecordPositions

REP = {"type": "rep", "id": "R1", "name": "Ana", "timezone": "America/New_York",
       "kind": "staff", "team": "East", "region": "NY", "manager": None}
CUSTOMER = {"type": "customer", "id": "C1", "owner": "R1", "referred_by": None,
            "created_at": "2025-10-01T09:00:00-04:00"}
CONTRACT = {"type": "contract", "id": "K1", "customer": "C1", "rep": "R1", "product": "family",
            "amount": "1000.00", "currency": "USD", "signed_at": "2025-11-01T09:00:00-04:00",
            "term_months": 1}
PLAN = '''plan "Payments" version "1"
currency USD

commission collected on payment:
    paid to contract.rep
    rate 10% of payment.amount
'''


@pytest.mark.parametrize("count", [0, 2, 4])
def test_positions_of_another_length(count: int) -> None:
    with pytest.raises(ValueError, match=f"positions has {count} entries for 3 records"):
        load_records([REP, CUSTOMER, CONTRACT], [f"row {n}" for n in range(count)])


def test_positions_list_reused_by_caller() -> None:
    positions = ["reps row 7", "customers row 3", "contracts row 12"]
    records = load_records([REP, CUSTOMER, CONTRACT], positions)
    positions.clear()
    assert records.positions[("contract", "K1")] == "contracts row 12"
    assert len(records.positions) == 3


def test_positions_mapping_reads_like_a_dict() -> None:
    records = load_records([REP, CUSTOMER, CONTRACT])
    positions = records.positions
    assert isinstance(positions, RecordPositions)
    expected = {("rep", "R1"): "record 1", ("customer", "C1"): "record 2",
                ("contract", "K1"): "record 3"}
    assert positions.copy() == expected
    assert repr(positions) == repr(expected)
    assert positions | {("x", "y"): "z"} == {**expected, ("x", "y"): "z"}
    assert {("x", "y"): "z"} | positions == {("x", "y"): "z", **expected}
    assert copy.copy(records).positions == expected
    assert pickle.loads(pickle.dumps(positions)) == expected


def test_subclass_of_a_record_type() -> None:
    class MyContract(Contract):
        pass

    plain = load_records([REP, CUSTOMER, CONTRACT])
    mine = load_records([REP, CUSTOMER, MyContract(**CONTRACT)])
    assert mine.canonical_lines == plain.canonical_lines


def _payments(zone_times: list[datetime]) -> list[dict[str, Any]]:
    return [{"type": "payment", "id": f"P{n}", "contract": "K1", "amount": "100.00",
             "paid_at": moment} for n, moment in enumerate(zone_times, start=1)]


def test_zoneinfo_times_in_the_repeated_hour() -> None:
    # On 2025-11-02 New York's clocks went back from 02:00 EDT to 01:00 EST.
    # P1 at 01:30 EDT (05:30Z) comes before P2 at 01:10 EST (06:10Z), though
    # its wall time is later.
    zone = ZoneInfo("America/New_York")
    first = datetime(2025, 11, 2, 1, 30, fold=0, tzinfo=zone)
    second = datetime(2025, 11, 2, 1, 10, fold=1, tzinfo=zone)
    rows = [REP, CUSTOMER, CONTRACT, *_payments([first, second])]
    records = load_records(rows)
    assert records.payments_of["K1"] == (records.payments["P1"], records.payments["P2"])
    assert records.payments["P1"].paid_at < records.payments["P2"].paid_at
    assert records.payments["P2"].paid_at.isoformat() == "2025-11-02T01:10:00-05:00"
    text = "".join(f"{line}\n" for line in records.canonical_lines)
    as_of = datetime.fromisoformat("2025-11-02T05:45:00+00:00")
    plan = load_plan(PLAN)
    from_dicts = plan.evaluate(records, as_of)
    from_text = plan.evaluate(load_jsonl(text), as_of)
    assert from_dicts.digest == from_text.digest
    # P2 is after the as-of time, so it is neither paid nor scheduled.
    assert [str(line.amount) for line in from_dicts.lines] == ["10.00"]
    assert from_dicts.schedule == ()


def test_zoneinfo_payment_after_signing() -> None:
    # Signed at 01:30 EDT, paid at 01:10 EST: forty minutes later.
    zone = ZoneInfo("America/New_York")
    contract = dict(CONTRACT, signed_at=datetime(2025, 11, 2, 1, 30, fold=0, tzinfo=zone))
    paid_at = datetime(2025, 11, 2, 1, 10, fold=1, tzinfo=zone)
    for payment in (_payments([paid_at])[0],
                    Payment(id="P1", contract="K1", amount="100.00", paid_at=paid_at)):
        records = load_records([REP, CUSTOMER, contract, payment])
        assert list(records.payments) == ["P1"]


def test_zoneinfo_payment_before_signing() -> None:
    # Signed at 01:10 EST (06:10Z), paid at 01:30 EDT (05:30Z): forty minutes
    # before the signing, though its wall time is later.
    zone = ZoneInfo("America/New_York")
    contract = dict(CONTRACT, signed_at=datetime(2025, 11, 2, 1, 10, fold=1, tzinfo=zone))
    payment = _payments([datetime(2025, 11, 2, 1, 30, fold=0, tzinfo=zone)])[0]
    with pytest.raises(RecordError) as caught:
        load_records([REP, CUSTOMER, contract, payment])
    (problem,) = caught.value.problems
    assert (problem.position, problem.field) == ("record 4", "paid_at")
    assert "before contract K1 was signed" in problem.message


class _IsoformatOfItsOwn(datetime):
    def isoformat(self, *args: Any, **kwargs: Any) -> str:
        return "not a timestamp"


def test_datetime_subclass_is_stored_plain() -> None:
    moment = _IsoformatOfItsOwn(2025, 11, 1, 9, tzinfo=ZoneInfo("America/New_York"))
    mine = load_records([REP, CUSTOMER, dict(CONTRACT, signed_at=moment)])
    assert type(mine.contracts["K1"].signed_at) is datetime
    assert mine.canonical_lines == load_records([REP, CUSTOMER, CONTRACT]).canonical_lines


def test_pandas_timestamp() -> None:
    pandas = pytest.importorskip("pandas")
    whole = pandas.Timestamp("2025-11-01 09:00:00", tz="America/New_York")
    loaded = load_records([REP, CUSTOMER, dict(CONTRACT, signed_at=whole)])
    assert loaded.canonical_lines == load_records([REP, CUSTOMER, CONTRACT]).canonical_lines
    finer = pandas.Timestamp("2025-11-01 09:00:00.000000001", tz="America/New_York")
    with pytest.raises(RecordError) as caught:
        load_records([REP, CUSTOMER, dict(CONTRACT, signed_at=finer)])
    (problem,) = caught.value.problems
    assert "has nanoseconds" in problem.message


class _TextOffset(tzinfo):
    def utcoffset(self, moment: datetime | None) -> Any:
        return "+08:00"


class _DayOffset(tzinfo):
    def utcoffset(self, moment: datetime | None) -> timedelta:
        return timedelta(hours=24)


@pytest.mark.parametrize("zone", [_TextOffset(), _DayOffset()])
def test_time_zone_without_a_usable_offset(zone: tzinfo) -> None:
    contract = dict(CONTRACT, signed_at=datetime(2025, 11, 1, 9, tzinfo=zone))
    with pytest.raises(RecordError) as caught:
        load_records([REP, CUSTOMER, contract])
    (problem,) = caught.value.problems
    assert problem.field == "signed_at"
    assert "failed to give a UTC offset" in problem.message or "not a timedelta" in problem.message
    assert problem.fix is not None
    assert "fixed offset" in problem.fix


@pytest.mark.parametrize(("positions", "message"), [
    (["row", "row", "row 3"], "position 'row' names more than one record"),
    (["row 1", None, "row 3"], "position 2 is NoneType, not text"),
    ("abc", "positions must be a sequence of texts"),
])
def test_positions_that_cannot_name_records(positions: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_records([REP, CUSTOMER, CONTRACT], positions)


def test_missing_reference_beside_a_misspelt_type() -> None:
    # "custmer" stands for customer, so the payment's missing contract K9
    # is still reported.
    payment = {"type": "payment", "id": "P1", "contract": "K9", "amount": "10.00",
               "paid_at": "2025-11-02T09:00:00-05:00"}
    misspelt = {"type": "custmer", "id": "K9", "owner": "R1"}
    with pytest.raises(RecordError) as caught:
        load_records([REP, CUSTOMER, CONTRACT, payment, misspelt])
    messages = [problem.message for problem in caught.value.problems]
    assert messages == ["contract 'K9' is not in the records", "unknown record type 'custmer'"]



def test_revision_with_misspelt_type_reported_once() -> None:
    revised = dict(CONTRACT, type="contrct", revision=2)
    with pytest.raises(RecordError) as caught:
        load_records([REP, CUSTOMER, CONTRACT, revised])
    messages = [problem.message for problem in caught.value.problems]
    assert messages == ["unknown record type 'contrct'"]

def test_numpy_revision() -> None:
    numpy = pytest.importorskip("numpy")
    loaded = load_records([REP, CUSTOMER, dict(CONTRACT, revision=numpy.int64(1))])
    assert loaded.canonical_lines == load_records([REP, CUSTOMER, CONTRACT]).canonical_lines


@pytest.mark.parametrize(("amount", "shown"), [
    (10**1_000_000, "amount (a number of more than 30 digits) is too large"),
    (-10**40, "amount -(a number of more than 30 digits) is too large"),
    (Decimal(10**5000), "amount 1.000000E+5000 is too large"),
    (10**18, "amount 1000000000000000000 is too large"),
], ids=["million-digit int", "negative 41-digit int", "5001-digit Decimal", "19-digit int"])
def test_huge_amount_named_by_its_size(amount: int | Decimal, shown: str) -> None:
    # Decimal() of the first int took 12.5 s before the range was checked first.
    with pytest.raises(RecordError) as caught:
        load_records([REP, CUSTOMER, {**CONTRACT, "amount": amount}])
    message = str(caught.value)
    assert shown in message
    assert "amounts must be below 10**18" in message
    assert len(message) < 500


REFUND = {"type": "refund", "id": "F1", "contract": "K1", "amount": "10.00",
          "refunded_at": "2025-11-03T09:00:00-05:00", "reason": "moved away"}


@pytest.mark.parametrize(("field", "value", "code"), [
    ("name", "Ana\x1b]0;title\x07", "U+001B"),
    ("team", "East\x00", "U+0000"),
    ("region", "N\u202eY", "U+202E"),
    ("name", "Ana\nBell", "U+000A"),
])
def test_control_character_in_rep_text(field: str, value: str, code: str) -> None:
    with pytest.raises(RecordError) as caught:
        load_records([dict(REP, **{field: value}), CUSTOMER, CONTRACT])
    (problem,) = caught.value.problems
    assert problem.field == field
    assert f"contains {code}" in problem.message
    assert f"which the {field} field cannot contain" in problem.message
    assert problem.fix == "remove the control characters from the text"
    # The message escapes the character, so printing it cannot drive a terminal.
    assert value not in str(caught.value)


def test_reason_may_hold_line_breaks() -> None:
    reason = "moved away\n\tcalled twice\r\n"
    loaded = load_records([REP, CUSTOMER, CONTRACT, dict(REFUND, reason=reason)])
    assert loaded.refunds["F1"].reason == reason
    with pytest.raises(RecordError, match="which the reason field cannot contain"):
        load_records([REP, CUSTOMER, CONTRACT, dict(REFUND, reason="moved\x1b[2J")])


def test_right_to_left_mark_in_name() -> None:
    loaded = load_records([dict(REP, name="\u05d3\u05e0\u05d4\u200f"), CUSTOMER, CONTRACT])
    assert loaded.reps["R1"].name == "\u05d3\u05e0\u05d4\u200f"


def test_long_text_field_rejected() -> None:
    with pytest.raises(RecordError) as caught:
        load_records([REP, CUSTOMER, dict(CONTRACT, product="p" * 1001)])
    (problem,) = caught.value.problems
    assert problem.message == "the text is 1,001 characters long, more than the limit of 1,000"
    assert problem.fix == "shorten it to 1,000 characters or fewer"


def test_long_value_quoted_by_its_start() -> None:
    with pytest.raises(RecordError) as caught:
        load_records([REP, CUSTOMER, dict(CONTRACT, id=list(range(100_000)))])
    message = str(caught.value)
    assert "... (688,890 characters) is not text" in message
    assert len(message) < 400


def test_deeply_nested_value_named() -> None:
    # Deeper than the recursion limit, so json.dumps fails at any depth of the stack.
    nested: Any = "x"
    for _ in range(sys.getrecursionlimit() + 100):
        nested = [nested]
    with pytest.raises(RecordError) as caught:
        load_records([REP, CUSTOMER, dict(CONTRACT, product=nested)])
    (problem,) = caught.value.problems
    assert problem.message == "(a value nested too deeply to show) is not text"


@pytest.mark.parametrize("rows", ["records.jsonl", CONTRACT, 5, b"{}", memoryview(b"{}")],
                         ids=["text", "one record", "number", "bytes", "memoryview"])
def test_records_that_are_not_a_list(rows: Any) -> None:
    with pytest.raises(TypeError, match="load_records takes a list of records, not"):
        load_records(rows)


def test_records_from_an_open_file(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    path.write_text("{}\n", encoding="utf-8")
    with path.open(encoding="utf-8") as handle, pytest.raises(TypeError, match="to load_jsonl"):
        load_records(handle)  # type: ignore[arg-type]


def test_records_from_a_generator() -> None:
    loaded = load_records(row for row in [REP, CUSTOMER, CONTRACT])
    assert loaded.canonical_lines == load_records([REP, CUSTOMER, CONTRACT]).canonical_lines


def test_target_label_escaped() -> None:
    target = {"type": "target", "rep": "R\x1b[2J1", "period": "2025-11", "metric": "m",
              "value": "0"}
    with pytest.raises(RecordError) as caught:
        load_records([REP, CUSTOMER, CONTRACT, target])
    message = str(caught.value)
    assert "\x1b" not in message
    assert "target of R\\u001b[2J1 for 2025-11" in message


@pytest.mark.parametrize("field", ["type", "currency", "signed_at", "revision", "kind\u202e"])
def test_huge_value_in_any_field_shortened(field: str) -> None:
    contract = dict(CONTRACT, **{field: "\u202e" + "z" * 1_000_000})
    with pytest.raises(RecordError) as caught:
        load_records([REP, CUSTOMER, contract])
    message = str(caught.value)
    assert "\u202e" not in message
    assert len(message) < 3000


def test_line_break_in_target_cannot_forge_a_problem() -> None:
    target = {"type": "target", "rep": "R1", "metric": "m", "value": "1",
              "period": "2025-01\nline 99 (contract K9): forged"}
    with pytest.raises(RecordError) as caught:
        load_records([REP, CUSTOMER, CONTRACT, target])
    lines = str(caught.value).splitlines()
    assert len(lines) == 1 + len(caught.value.problems)
    assert not any(line.startswith("line 99") for line in lines)


@pytest.mark.parametrize("character", ["\u2028", "\u2029", "\u061c"])
def test_separator_or_mark_in_id_rejected(character: str) -> None:
    with pytest.raises(RecordError, match="which ids cannot contain"):
        load_records([REP, CUSTOMER, dict(CONTRACT, id=f"K{character}1")])


def test_line_separator_in_name_rejected() -> None:
    with pytest.raises(RecordError, match="contains U\\+2028"):
        load_records([dict(REP, name="Ana\u2028Bell"), CUSTOMER, CONTRACT])


def test_long_escaped_value_keeps_the_reason() -> None:
    with pytest.raises(RecordError) as caught:
        load_records([dict(REP, name="\u202e" * 200 + "x"), CUSTOMER, CONTRACT])
    (problem,) = caught.value.problems
    assert "contains U+202E, a control character or bidirectional control" in problem.render()


def test_messages_escape_what_ids_exclude() -> None:
    # One set of characters: what an id cannot hold is what a message escapes.
    from commission_engine.errors import escape_value
    from commission_engine.records import _ID_FORBIDDEN_TEXT

    for code in range(0x3000):
        excluded = _ID_FORBIDDEN_TEXT.fullmatch(chr(code)) is not None
        assert (escape_value(chr(code)) != chr(code)) == excluded, hex(code)
