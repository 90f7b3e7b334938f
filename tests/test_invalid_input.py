"""Invalid input: each fault gives one error that names its place and its fix.

Every case runs through the Python API and through the real command line. On
invalid input the command must exit with status 1, write the message to
stderr and nothing to stdout, and never show a traceback. Usage errors (an
unknown subcommand, a missing file, a bad ``--as-of``) exit with status 2.
Line N of a JSON Lines file is ``record N`` through the API, so each case
states one position for both.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import commission_engine as ce

PLAN_PATH = (
    Path(__file__).resolve().parents[1] / "examples" / "counselling" / "counselling-2025.plan"
)
PLAN_TEXT = PLAN_PATH.read_text(encoding="utf-8")
AS_OF_TEXT = "2025-06-30T00:00:00+08:00"
AS_OF = datetime.fromisoformat(AS_OF_TEXT)

# The amount of the reference plan's satisfaction bonus. Each plan fault replaces it.
BONUS_AMOUNT = "amount 2% of contract.amount"


# ---------------------------------------------------------------- records


def rep(rep_id: str = "R1") -> dict[str, Any]:
    return {
        "type": "rep", "id": rep_id, "name": "Rep One", "timezone": "Asia/Shanghai",
        "kind": "staff", "team": "HQ", "region": "Beijing", "manager": None,
    }


def customer(customer_id: str = "C1", owner: str = "R1") -> dict[str, Any]:
    return {
        "type": "customer", "id": customer_id, "owner": owner, "referred_by": None,
        "created_at": "2024-12-01T10:00:00+08:00",
    }


def contract(contract_id: str = "K1", customer_id: str = "C1", **changes: Any) -> dict[str, Any]:
    record = {
        "type": "contract", "id": contract_id, "customer": customer_id, "rep": "R1",
        "product": "individual", "amount": "12000.00", "currency": "CNY",
        "signed_at": "2025-01-15T10:00:00+08:00", "term_months": 12,
    }
    record.update(changes)
    return record


def payment(payment_id: str = "P1", contract_id: str = "K1") -> dict[str, Any]:
    return {
        "type": "payment", "id": payment_id, "contract": contract_id, "amount": "1000.00",
        "paid_at": "2025-01-20T10:00:00+08:00",
    }


def base_records() -> list[dict[str, Any]]:
    """Return valid records: rep R1, customer C1, contract K1 (line 3), payment P1 (line 4)."""
    return [rep(), customer(), contract(), payment()]


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def run_cli(tmp_path: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "commission_engine", *(str(arg) for arg in args)],
        capture_output=True, text=True, encoding="utf-8", cwd=tmp_path, timeout=120,
        check=False,
    )


def run_records(tmp_path: Path, rows: list[Any]) -> subprocess.CompletedProcess[str]:
    records = write_jsonl(tmp_path / "records.jsonl", rows)
    return run_cli(tmp_path, "run", PLAN_PATH, records, "--as-of", AS_OF_TEXT)


def rejected_stderr(result: subprocess.CompletedProcess[str], status: int = 1) -> str:
    """Assert that the command failed cleanly with ``status``, and return its stderr."""
    assert result.returncode == status, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() != ""
    return result.stderr


def load_error(rows: list[Any]) -> ce.RecordError:
    with pytest.raises(ce.RecordError) as caught:
        ce.load_records(rows)
    return caught.value


# ---------------------------------------------------------------- one fault in the records


def naive_signed_at(rows: list[Any]) -> None:
    rows[2]["signed_at"] = "2025-01-15T10:00:00"


def unknown_contract(rows: list[Any]) -> None:
    rows[3]["contract"] = "K9"


def three_decimals(rows: list[Any]) -> None:
    rows[2]["amount"] = "12000.123"


def zero_term(rows: list[Any]) -> None:
    rows[2]["term_months"] = 0


def unknown_type(rows: list[Any]) -> None:
    rows.append({"type": "invoice", "id": "I1"})


# Each row: the fault, its record number, the record, the field, and the
# substrings that give the value and the fix.
RECORD_FAULTS = [
    pytest.param(
        naive_signed_at, 3, "contract K1", "signed_at",
        ["'2025-01-15T10:00:00'", "no UTC offset", '"2025-01-15T10:00:00+08:00"'],
        id="naive-timestamp",
    ),
    pytest.param(
        unknown_contract, 4, "payment P1", "contract",
        ["contract 'K9' is not in the records", "add the contract record or correct the id"],
        id="unknown-contract",
    ),
    pytest.param(
        three_decimals, 3, "contract K1", "amount",
        ["12000.123", "more decimals than CNY allows (2)", "round it to 2 decimals"],
        id="three-decimals",
    ),
    pytest.param(
        zero_term, 3, "contract K1", "term_months",
        ["term_months 0 is out of range", "a whole number of months from 1 to 600"],
        id="zero-term",
    ),
    pytest.param(
        unknown_type, 5, "invoice I1", "type",
        ["unknown record type 'invoice'", "use one of rep, customer, contract, payment"],
        id="unknown-type",
    ),
]


@pytest.mark.parametrize(("fault", "number", "record_id", "field", "fragments"), RECORD_FAULTS)
def test_record_fault_api(
    fault: Callable[[list[Any]], None], number: int, record_id: str, field: str,
    fragments: list[str],
) -> None:
    rows = base_records()
    fault(rows)
    error = load_error(rows)
    assert isinstance(error, ValueError)
    assert len(error.problems) == 1
    assert error.omitted == 0
    problem = error.problems[0]
    assert problem.position == f"record {number}"
    assert problem.record_id == record_id
    assert problem.field == field
    message = str(error)
    assert "1 problem;" in message
    assert f"record {number} ({record_id}), field {field}:" in message
    for fragment in fragments:
        assert fragment in message


@pytest.mark.parametrize(("fault", "number", "record_id", "field", "fragments"), RECORD_FAULTS)
def test_record_fault_cli(
    tmp_path: Path, fault: Callable[[list[Any]], None], number: int, record_id: str,
    field: str, fragments: list[str],
) -> None:
    rows = base_records()
    fault(rows)
    stderr = rejected_stderr(run_records(tmp_path, rows))
    assert "invalid records: 1 problem;" in stderr
    assert f"line {number} ({record_id}), field {field}:" in stderr
    for fragment in fragments:
        assert fragment in stderr


# ---------------------------------------------------------------- duplicate ids


def records_with_duplicate() -> list[dict[str, Any]]:
    """Return records where contract K1 is at line 7 and again at line 9."""
    return [
        rep(), customer("C0"), contract("K0", "C0"), payment("P0", "K0"),
        rep("R2"), customer(), contract(), payment(), contract(),
    ]


def test_duplicate_id_api() -> None:
    error = load_error(records_with_duplicate())
    assert len(error.problems) == 1
    problem = error.problems[0]
    assert problem.position == "record 9"
    assert problem.record_id == "contract K1"
    assert problem.field == "id"
    message = str(error)
    assert "duplicate id 'K1'" in message
    assert "record 9" in message
    assert "also at record 7" in message
    assert "give each record its own id" in message


def test_duplicate_id_cli(tmp_path: Path) -> None:
    stderr = rejected_stderr(run_records(tmp_path, records_with_duplicate()))
    assert "invalid records: 1 problem;" in stderr
    assert "line 9 (contract K1), field id:" in stderr
    assert "duplicate id 'K1'" in stderr
    assert "also at line 7" in stderr
    assert "give each record its own id" in stderr


# ---------------------------------------------------------------- lines that are not JSON


@pytest.mark.parametrize(
    "line",
    [
        pytest.param('{"type": "rep", "id": ', id="truncated-object"),
        pytest.param('{"type": "contract", "amount": NaN}', id="nan-constant"),
        pytest.param("type=rep id=R2", id="plain-text"),
        pytest.param("{'type': 'rep'}", id="single-quotes"),
    ],
)
def test_non_json_line_cli(tmp_path: Path, line: str) -> None:
    path = write_jsonl(tmp_path / "records.jsonl", base_records())
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")
    stderr = rejected_stderr(run_cli(tmp_path, "run", PLAN_PATH, path, "--as-of", AS_OF_TEXT))
    assert "invalid records: 1 problem;" in stderr
    assert "line 5: not valid JSON" in stderr
    assert "write one JSON object per line" in stderr


def test_non_json_column_cli(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "records.jsonl", base_records())
    with path.open("a", encoding="utf-8") as handle:
        handle.write('{"type": "rep", "name": "Rep\n')
    stderr = rejected_stderr(run_cli(tmp_path, "run", PLAN_PATH, path, "--as-of", AS_OF_TEXT))
    assert "line 5" in stderr
    assert "column 25" in stderr
    assert "starting at;" not in stderr


def test_line_separator_in_string_cli(tmp_path: Path) -> None:
    rows = base_records()
    rows[0]["name"] = "Rep\u2028One"
    path = tmp_path / "records.jsonl"
    lines = [json.dumps(row, ensure_ascii=False) for row in rows] + ["not json"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    stderr = rejected_stderr(run_cli(tmp_path, "run", PLAN_PATH, path, "--as-of", AS_OF_TEXT))
    assert "invalid records: 1 problem;" in stderr
    assert "line 5: not valid JSON" in stderr


# ---------------------------------------------------------------- API-only record faults


def test_float_amount_api() -> None:
    rows = base_records()
    rows[2]["amount"] = 12000.5
    error = load_error(rows)
    assert len(error.problems) == 1
    problem = error.problems[0]
    assert problem.position == "record 3"
    assert problem.record_id == "contract K1"
    assert problem.field == "amount"
    assert "amount 12000.5 is a float" in problem.message
    assert problem.fix is not None
    assert 'as a string such as "12000.50"' in problem.fix
    assert "or as a Decimal" in problem.fix


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_nonfinite_float_fix_is_a_number(value: float) -> None:
    rows = base_records()
    rows[2]["amount"] = value

    problem, = load_error(rows).problems

    assert problem.fix == 'pass it as a string such as "12000.00" or as a Decimal'


def test_string_and_decimal_accepted() -> None:
    """Check that the string and Decimal forms the float message recommends do load."""
    for amount in ("12000.50", Decimal("12000.50")):
        rows = base_records()
        rows[2]["amount"] = amount
        records = ce.load_records(rows)
        assert records.contracts["K1"].amount == Decimal("12000.50")


@pytest.mark.parametrize(("index", "field", "value"), [
    (0, "id", b"R1"), (0, "name", b"Rep One"), (0, "team", 7), (0, "timezone", b"Asia/Shanghai"),
    (2, "product", bytearray(b"individual")), (2, "currency", b"CNY"), (2, "customer", 1),
])
def test_text_field_takes_only_text(index: int, field: str, value: Any) -> None:
    # The record types are strict field by field: bytes never become text.
    rows = base_records()
    rows[index][field] = value
    problems = load_error(rows).problems
    assert [(problem.position, problem.field) for problem in problems][:1] == [
        (f"record {index + 1}", field)]


@pytest.mark.parametrize("value", [1, 0, "true", "yes"])
def test_upheld_takes_only_a_boolean(value: Any) -> None:
    rows = [*base_records(), {"type": "complaint", "id": "X1", "contract": "K1",
                              "filed_at": "2025-02-01T10:00:00+08:00", "upheld": value}]
    (problem,) = load_error(rows).problems
    assert (problem.position, problem.field) == ("record 5", "upheld")


def test_naive_datetime_object_api() -> None:
    rows = base_records()
    rows[2]["signed_at"] = datetime(2025, 1, 15, 10, 0)
    error = load_error(rows)
    assert len(error.problems) == 1
    problem = error.problems[0]
    assert problem.position == "record 3"
    assert problem.field == "signed_at"
    assert "no UTC offset" in problem.message
    assert problem.fix is not None
    assert "attach a time zone" in problem.fix


def test_date_only_fix_loads() -> None:
    rows = base_records()
    rows[2]["signed_at"] = "2025-01-15"
    message = load_error(rows).problems[0].fix or ""
    suggestions = re.findall(r'"([^"]+)"', message)
    assert suggestions
    for suggestion in suggestions:
        fixed = base_records()
        fixed[2]["signed_at"] = suggestion
        ce.load_records(fixed)


def test_long_amount_names_limit() -> None:
    rows = base_records()
    rows[2]["amount"] = "1" + "0" * 39 + ".00"
    problem = load_error(rows).problems[0]
    assert problem.field == "amount"
    assert "not a decimal number" not in problem.message
    assert "40" in problem.message


# ---------------------------------------------------------------- several problems at once


def schema_faults() -> list[dict[str, Any]]:
    """Return records with three faults found by field validation."""
    rows = base_records()
    naive_signed_at(rows)
    zero_term(rows)
    unknown_type(rows)
    return rows


def reference_faults() -> list[dict[str, Any]]:
    """Return records with three faults found by the cross-record checks."""
    rows = base_records()
    three_decimals(rows)
    unknown_contract(rows)
    rows.append(customer())
    return rows


SEVERAL_FAULTS = [
    pytest.param(
        schema_faults,
        [(3, "contract K1", "signed_at"), (3, "contract K1", "term_months"),
         (5, "invoice I1", "type")],
        id="field-validation",
    ),
    pytest.param(
        reference_faults,
        [(3, "contract K1", "amount"), (4, "payment P1", "contract"),
         (5, "customer C1", "id")],
        id="cross-record",
    ),
]


@pytest.mark.parametrize(("build", "expected"), SEVERAL_FAULTS)
def test_several_problems_api(
    build: Callable[[], list[dict[str, Any]]], expected: list[tuple[int, str, str]],
) -> None:
    error = load_error(build())
    assert len(error.problems) == 3
    assert error.omitted == 0
    assert "invalid records: 3 problems;" in str(error)
    found = [(p.position, p.record_id, p.field) for p in error.problems]
    assert found == [(f"record {n}", record_id, field) for n, record_id, field in expected]


@pytest.mark.parametrize(("build", "expected"), SEVERAL_FAULTS)
def test_several_problems_cli(
    tmp_path: Path, build: Callable[[], list[dict[str, Any]]],
    expected: list[tuple[int, str, str]],
) -> None:
    stderr = rejected_stderr(run_records(tmp_path, build()))
    assert "invalid records: 3 problems;" in stderr
    for number, record_id, field in expected:
        assert f"line {number} ({record_id}), field {field}:" in stderr


# ---------------------------------------------------------------- plan currency


def usd_records() -> list[dict[str, Any]]:
    rows = base_records()
    rows[2]["currency"] = "USD"
    return rows


def test_foreign_currency_api() -> None:
    plan = ce.load_plan(PLAN_TEXT, str(PLAN_PATH))
    records = ce.load_records(usd_records())
    with pytest.raises(ce.RecordError) as caught:
        plan.evaluate(records, AS_OF)
    error = caught.value
    assert len(error.problems) == 1
    problem = error.problems[0]
    assert problem.position == "record 3"
    assert problem.record_id == "contract K1"
    assert problem.field == "currency"
    assert "currency USD differs from the plan's currency CNY" in str(error)
    assert "declare the rate in the plan" in str(error)


def test_foreign_currency_cli(tmp_path: Path) -> None:
    stderr = rejected_stderr(run_records(tmp_path, usd_records()))
    assert "invalid records: 1 problem;" in stderr
    assert "line 3 (contract K1), field currency:" in stderr
    assert "currency USD differs from the plan's currency CNY" in stderr
    assert "declare the rate in the plan" in stderr


# ---------------------------------------------------------------- amounts too large to compute


def huge_amount_records() -> list[dict[str, Any]]:
    rows = base_records()
    rows[2]["amount"] = Decimal("1E+58")
    return rows


def test_huge_amount_api() -> None:
    plan = ce.load_plan(PLAN_TEXT, str(PLAN_PATH))
    with pytest.raises(ce.CommissionError) as caught:
        plan.evaluate(ce.load_records(huge_amount_records()), AS_OF)
    assert "amount" in str(caught.value)


def test_huge_amount_cli(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    lines = [json.dumps(row) for row in base_records()]
    lines[2] = lines[2].replace('"amount": "12000.00"', '"amount": 1E+58')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    stderr = rejected_stderr(run_cli(tmp_path, "run", PLAN_PATH, path, "--as-of", AS_OF_TEXT))
    assert "line 3 (contract K1), field amount:" in stderr


# ---------------------------------------------------------------- plan faults


def plan_with(replacement: str, caret_at: str) -> tuple[str, int, int]:
    """Return the reference plan with the bonus amount replaced, and the caret's line and column."""
    assert PLAN_TEXT.count(BONUS_AMOUNT) == 1
    text = PLAN_TEXT.replace(BONUS_AMOUNT, replacement)
    for number, line in enumerate(text.splitlines(), start=1):
        if replacement in line:
            start = line.index(replacement)
            return text, number, line.index(caret_at, start) + 1
    raise AssertionError(replacement)  # pragma: no cover


# Each row: the bonus amount written with a fault, the text the caret starts
# at, the message and the hint.
PLAN_FAULTS = [
    pytest.param(
        "amount 2% of contract.amout", "amout", "a contract has no field 'amout'",
        "did you mean 'amount'?", id="unknown-field",
    ),
    pytest.param(
        "amount contract.amount + 3%", "contract.amount", "cannot compute money + percentage",
        "write '3% of contract.amount' to get money", id="money-plus-percentage",
    ),
]


@pytest.mark.parametrize(("replacement", "caret_at", "message", "hint"), PLAN_FAULTS)
def test_plan_fault_api(replacement: str, caret_at: str, message: str, hint: str) -> None:
    text, line, column = plan_with(replacement, caret_at)
    with pytest.raises(ce.PlanError) as caught:
        ce.load_plan(text, "bad.plan")
    error = caught.value
    assert isinstance(error, ValueError)
    assert len(error.diagnostics) == 1
    diagnostic = error.diagnostics[0]
    assert diagnostic.line == line
    assert diagnostic.column == column
    assert diagnostic.message == message
    assert diagnostic.hint is not None
    assert hint in diagnostic.hint
    rendered = str(error)
    assert f"bad.plan:{line}:{column}: error: {message}" in rendered
    assert hint in rendered
    assert "bad.plan: 1 error; the plan cannot run until it is fixed" in rendered


@pytest.mark.parametrize("command", ["check", "run"])
@pytest.mark.parametrize(("replacement", "caret_at", "message", "hint"), PLAN_FAULTS)
def test_plan_fault_cli(
    tmp_path: Path, command: str, replacement: str, caret_at: str, message: str, hint: str,
) -> None:
    text, line, column = plan_with(replacement, caret_at)
    plan = tmp_path / "bad.plan"
    plan.write_text(text, encoding="utf-8")
    args: list[str | Path] = [command, "bad.plan"]
    if command == "run":
        records = write_jsonl(tmp_path / "records.jsonl", base_records())
        args += [records, "--as-of", AS_OF_TEXT]
    stderr = rejected_stderr(run_cli(tmp_path, *args))
    assert f"bad.plan:{line}:{column}: error: {message}" in stderr
    assert hint in stderr
    assert "bad.plan: 1 error; the plan cannot run until it is fixed" in stderr


def test_several_plan_errors() -> None:
    text = PLAN_TEXT.replace(BONUS_AMOUNT, "amount 2% of contract.amout")
    text = text.replace("amount 3% of contract.amount", "amount contract.amount + 3%")
    with pytest.raises(ce.PlanError) as caught:
        ce.load_plan(text, "bad.plan")
    diagnostics = caught.value.diagnostics
    assert len(diagnostics) == 2
    assert diagnostics[0].line < diagnostics[1].line
    assert "no field 'amout'" in diagnostics[0].message
    assert "money + percentage" in diagnostics[1].message
    assert "bad.plan: 2 errors; the plan cannot run until they are fixed" in str(caught.value)


def test_error_classes_are_valueerrors() -> None:
    assert issubclass(ce.RecordError, ValueError)
    assert issubclass(ce.PlanError, ValueError)
    assert issubclass(ce.RecordError, ce.CommissionError)
    assert issubclass(ce.PlanError, ce.CommissionError)


# ---------------------------------------------------------------- usage errors


def test_unknown_subcommand_exits_2(tmp_path: Path) -> None:
    stderr = rejected_stderr(run_cli(tmp_path, "frobnicate", "x.plan"), status=2)
    assert "invalid choice: 'frobnicate'" in stderr
    assert "check" in stderr


@pytest.mark.parametrize("missing", ["plan", "records"])
def test_missing_file_exits_2(tmp_path: Path, missing: str) -> None:
    plan: str | Path = PLAN_PATH
    records: str | Path = write_jsonl(tmp_path / "records.jsonl", base_records())
    if missing == "plan":
        plan = "absent.plan"
        absent = plan
    else:
        records = "absent.jsonl"
        absent = records
    stderr = rejected_stderr(
        run_cli(tmp_path, "run", plan, records, "--as-of", AS_OF_TEXT), status=2,
    )
    assert f"cannot read {absent}: no such file" in stderr


def test_check_missing_plan_exits_2(tmp_path: Path) -> None:
    stderr = rejected_stderr(run_cli(tmp_path, "check", "absent.plan"), status=2)
    assert "cannot read absent.plan: no such file" in stderr


@pytest.mark.parametrize(
    ("as_of", "fragments"),
    [
        pytest.param(
            "2025-06-30T00:00:00", ["no UTC offset", "2025-06-30T00:00:00+08:00"],
            id="no-offset",
        ),
        pytest.param("yesterday", ["'yesterday' is not an ISO 8601 timestamp"], id="not-iso"),
        pytest.param("2025-W01-1T00:00Z", ["not in the accepted ISO 8601 form"], id="week-date"),
        pytest.param("2025-W27T00:00+08:00", ["not in the accepted ISO 8601 form"],
                     id="week-no-day"),
        pytest.param("20250630T000000+0800", ["not in the accepted ISO 8601 form"], id="basic"),
        pytest.param("2025-06-30T00:00:00.1234567Z", ["not in the accepted ISO 8601 form"],
                     id="seven-fraction-digits"),
    ],
)
def test_bad_as_of_exits_2(tmp_path: Path, as_of: str, fragments: list[str]) -> None:
    records = write_jsonl(tmp_path / "records.jsonl", base_records())
    stderr = rejected_stderr(
        run_cli(tmp_path, "run", PLAN_PATH, records, "--as-of", as_of), status=2,
    )
    assert "--as-of" in stderr
    for fragment in fragments:
        assert fragment in stderr


def test_valid_records_run() -> None:
    """Check that the unchanged base records evaluate, so each fault case tests one fault."""
    plan = ce.load_plan(PLAN_TEXT, str(PLAN_PATH))
    result = plan.evaluate(ce.load_records(base_records()), AS_OF)
    assert result.currency == "CNY"
    assert len(result.lines) > 0


def test_valid_records_run_cli(tmp_path: Path) -> None:
    """Check that the command exits 0 on the unchanged base records."""
    result = run_records(tmp_path, base_records())
    assert result.returncode == 0, result.stderr
    assert "plan counselling-2025" in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize("change", [
    {"type": "contracts"}, {"type": None}, {"type": 5}, {"revision": "2"}, {"type": ...},
])
def test_unreadable_record_reported_once(change: dict[str, Any]) -> None:
    # The payment refers to K1, whose own problem is reported; it must not
    # add "contract 'K1' is not in the records" as well.
    rows = base_records()
    rows[2] = {key: value for key, value in {**rows[2], **change}.items() if value is not ...}
    problems = load_error(rows).problems
    assert [problem.position for problem in problems] == ["record 3"]


def test_repeated_key_names_its_record(tmp_path: Path) -> None:
    line = json.dumps(contract()).replace('"rep": "R1"', '"rep": "R1", "rep": "R1"')
    path = tmp_path / "records.jsonl"
    path.write_text("\n".join([json.dumps(rep()), json.dumps(customer()), line]) + "\n",
                    encoding="utf-8")
    with pytest.raises(ce.RecordError) as caught:
        ce.load_jsonl(path.read_text(encoding="utf-8"))
    (problem,) = caught.value.problems
    assert (problem.position, problem.record_id, problem.field) == ("line 3", "contract K1", "rep")


def test_numpy_integers_are_whole_numbers() -> None:
    numpy = pytest.importorskip("numpy")
    rows = base_records()
    rows[2]["amount"] = numpy.int64(12000)
    rows[2]["term_months"] = numpy.int32(12)
    loaded = ce.load_records(rows)
    assert loaded.contracts["K1"].amount == Decimal(12000)
    assert type(loaded.contracts["K1"].term_months) is int
    assert loaded.canonical_lines == ce.load_records(base_records()).canonical_lines


def test_numpy_integer_out_of_range() -> None:
    numpy = pytest.importorskip("numpy")
    rows = base_records()
    rows[2]["term_months"] = numpy.int64(-5)
    (problem,) = load_error(rows).problems
    assert problem.message == "term_months -5 is out of range"


def test_key_with_no_name() -> None:
    rows = base_records()
    rows[0][""] = 1
    (problem,) = load_error(rows).problems
    assert problem.message == 'unknown field "", a key with no name'


def test_key_that_is_not_text() -> None:
    rows = base_records()
    rows[0][1] = "x"
    (problem,) = load_error(rows).problems
    assert problem.fix == "write every key as text, one of the record type's field names"


@pytest.mark.parametrize("key", ["id", "type"])
def test_repeated_id_or_type_names_no_record(key: str) -> None:
    line = json.dumps(contract())
    line = line.replace(f'"{key}": ', f'"{key}": "X", "{key}": ', 1)
    text = "\n".join([json.dumps(rep()), json.dumps(customer()), line]) + "\n"
    with pytest.raises(ce.RecordError) as caught:
        ce.load_jsonl(text)
    (problem,) = caught.value.problems
    assert (problem.position, problem.record_id, problem.field) == ("line 3", None, key)


def test_key_with_a_control_character() -> None:
    rows = base_records()
    rows[0]["\u0007x"] = 1
    (problem,) = load_error(rows).problems
    assert problem.field == "\\u0007x"
