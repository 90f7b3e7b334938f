"""Hostile and broken inputs: each gives one clear error, never a traceback or a wrong sum."""

from __future__ import annotations

import decimal
import json
import subprocess
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from helpers import run_cli

from commission_engine import EvaluationError, PlanError, RecordError, load_plan, load_records
from commission_engine.errors import Diagnostic

AS_OF = datetime.fromisoformat("2026-01-01T00:00:00+00:00")
HEADER = 'plan "t" version "1"\ncurrency CNY\n\n'


def base(amount: str = "1200.00") -> list[dict[str, Any]]:
    return [
        {"type": "rep", "id": "R1", "name": "Rep", "timezone": "Asia/Shanghai",
         "kind": "staff", "team": "HQ", "region": "Beijing", "manager": None},
        {"type": "customer", "id": "C1", "owner": "R1", "referred_by": None,
         "created_at": "2024-12-01T10:00:00+08:00"},
        {"type": "contract", "id": "K1", "customer": "C1", "rep": "R1", "product": "family",
         "amount": amount, "currency": "CNY", "signed_at": "2025-01-15T10:00:00+08:00",
         "term_months": 3},
    ]


def bonus_plan(amount: str, when: str | None = None) -> str:
    condition = f"    when {when}\n" if when else ""
    return HEADER + f"bonus b on contract:\n    paid to contract.rep\n{condition}    amount {amount}\n"


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def plan_error(text: str) -> list[str]:
    with pytest.raises(PlanError) as caught:
        load_plan(text)
    return [d.message for d in caught.value.diagnostics]


def record_messages(rows: list[Any]) -> list[str]:
    with pytest.raises(RecordError) as caught:
        load_records(rows)
    return [p.message for p in caught.value.problems]


# ---------------------------------------------------------------- exact sums


def test_totals_ignore_caller_context() -> None:
    plan = load_plan(HEADER + "commission c on contract:\n    paid to contract.rep\n"
                     "    rate 10% of contract.amount\n    pay in 3 monthly installments\n")
    records = load_records(base("12345.67"))

    with decimal.localcontext() as context:
        context.prec = 3
        result = plan.evaluate(records, AS_OF)
        statement = result.statement("R1", "2025-01")
        totals = result.totals()

    assert statement is not None
    assert statement.total == Decimal("411.53")
    assert totals[("R1", "2025-01", "installment")] == Decimal("411.53")


def test_totals_of_huge_amounts_exact() -> None:
    plan = load_plan(bonus_plan("100% of contract.amount"))
    records = load_records(base("999999999999999999.99"))

    result = plan.evaluate(records, AS_OF)

    assert result.lines[0].amount == Decimal("999999999999999999.99")
    assert result.statements[0].total == Decimal("999999999999999999.99")


# ---------------------------------------------------------------- arithmetic


def test_literal_division_by_zero_rejected() -> None:
    assert plan_error(bonus_plan("contract.amount / 0")) == ["division by zero"]


def test_computed_division_by_zero_names_rule() -> None:
    plan = load_plan(bonus_plan("contract.amount / (contract.term_months - 3)"))

    with pytest.raises(EvaluationError) as caught:
        plan.evaluate(load_records(base()), AS_OF)

    assert "rule 'b' divides by zero for contract K1" in str(caught.value)


def test_huge_product_names_rule() -> None:
    plan = load_plan(bonus_plan(
        "contract.amount * 999999999999999999999999999999 * 999999999999999999999999999999"))

    with pytest.raises(EvaluationError) as caught:
        plan.evaluate(load_records(base()), AS_OF)

    assert "too large to compute exactly" in str(caught.value)


def test_not_of_absent_is_not_true() -> None:
    """A contract with no survey satisfies neither a condition nor its negation."""
    negated = load_plan(bonus_plan("1% of contract.amount", "not first survey.score >= 90"))
    direct = load_plan(bonus_plan("1% of contract.amount", "first survey.score < 90"))
    records = load_records(base())

    assert negated.evaluate(records, AS_OF).lines == ()
    assert direct.evaluate(records, AS_OF).lines == ()


def test_explanation_shows_literal_exactly() -> None:
    plan = load_plan(bonus_plan("contract.amount * 0.0000000000000001"))
    records = load_records(base("100000000000000000.00"))

    line = plan.evaluate(records, AS_OF).lines[0]

    assert "x 0.0000000000000001" in line.explain()


# ---------------------------------------------------------------- plan text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(HEADER + "bonus b on contract:\n  paid to contract.rep\n amount 1.00\n",
                     "the indentation of this line does not line up with any line above",
                     id="dedent-between-levels"),
        pytest.param(HEADER + "bonus b on contract:\n\tpaid to contract.rep\n    amount 1.00\n",
                     "the indentation of this line does not line up with any line above",
                     id="tab-then-spaces"),
        pytest.param(bonus_plan("-" * 500 + "contract.amount"),
                     "the plan nests expressions too deeply to be read", id="deep-negation"),
        pytest.param(bonus_plan(" + ".join(["contract.amount"] * 1500)),
                     "the plan nests expressions too deeply to be read", id="long-sum"),
        pytest.param(HEADER + 'example "x" as of 2026-13-01T00:00:00Z:\n    records:\n'
                     "        rep id R1 timezone \"UTC\"\n    expect:\n        nothing\n",
                     "2026-13-01T00:00:00Z is not a real time", id="example-month-13"),
        pytest.param(bonus_plan("1% of contract.amount", 'product is "a\\u0041"'),
                     'unknown escape \\u in the text "a\\u0041"', id="unknown-escape"),
        pytest.param(HEADER + "commission c on contract:\n    paid to contract.rep\n"
                     "    rate 8% of contract.amount\n    pay in 2.5 monthly installments\n",
                     "2.5 is not a whole number of installments from 1 to 600 (max_installments)",
                     id="fractional-installments"),
        pytest.param(bonus_plan("1% of contract.amount", '"a" < "b"'),
                     "text cannot be ordered with '<'", id="text-ordering"),
        pytest.param(HEADER + "cohort c on contract:\n    paid to contract.rep\n"
                     "    retained when not fully refunded within 99999999999999999999 days\n"
                     "    amount 1% of total retained.amount\n",
                     "99999999999999999999 days is too long", id="huge-window"),
    ],
)
def test_bad_plan_text(text: str, message: str) -> None:
    assert message in plan_error(text)


def test_example_records_checked_at_load() -> None:
    text = bonus_plan("1% of contract.amount") + (
        '\nexample "x" as of 2026-01-01T00:00:00Z:\n    records:\n'
        '        rep id R1 timezone "Nowhere/Zone"\n    expect:\n        R1 2025-01 bonus 40.004\n'
        '\nexample "x" as of 2026-01-01T00:00:00Z:\n    records:\n'
        '        rep id R1 timezone "UTC"\n    expect:\n        nothing\n'
    )

    messages = plan_error(text)

    assert any("time zone 'Nowhere/Zone' is unknown" in m for m in messages)
    assert "expected amount 40.004 has more decimals than CNY allows (2)" in messages
    assert any(m.startswith('example name "x" is used twice') for m in messages)


def test_arabic_indic_digits_rejected() -> None:
    assert any("is not a decimal number" in m for m in record_messages(base("١٢٠٠")))


def test_load_plan_rejects_bytes() -> None:
    with pytest.raises(TypeError, match="plan text must be str"):
        load_plan(b'plan "t" version "1"')  # type: ignore[arg-type]


def test_evaluate_rejects_raw_records() -> None:
    plan = load_plan(bonus_plan("1.00"))

    with pytest.raises(TypeError, match="load_records"):
        plan.evaluate(base(), AS_OF)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="as_of must be a datetime"):
        plan.evaluate(load_records(base()), "2026-01-01")  # type: ignore[arg-type]


# ---------------------------------------------------------------- records


def test_referrer_created_later_rejected() -> None:
    rows = base()
    rows.append({"type": "customer", "id": "C2", "owner": "R1", "referred_by": "C1",
                 "created_at": "2024-01-01T10:00:00+08:00"})

    messages = record_messages(rows)

    assert any("was created" in m and "after the customer it referred" in m for m in messages)


def test_payments_above_amount_rejected() -> None:
    rows = base()
    rows.append({"type": "payment", "id": "P1", "contract": "K1", "amount": "99999.00",
                 "paid_at": "2025-01-20T10:00:00+08:00"})

    assert ("the payments of contract K1 sum to 99999.00, more than its amount 1200.00"
            in record_messages(rows))


@pytest.mark.parametrize("stamp", ["0001-01-01T00:00:00+00:00", "9999-12-15T10:00:00+00:00"])
def test_timestamp_year_bounded(stamp: str) -> None:
    rows = base()
    rows[2]["signed_at"] = stamp

    assert f"timestamp {stamp} is out of range" in record_messages(rows)


def test_control_character_in_id_rejected() -> None:
    rows = base()
    rows[0]["id"] = "\u001b[31mRED"

    assert any("control character" in m for m in record_messages(rows))


# ---------------------------------------------------------------- the command line


def rejected(completed: Any, status: int = 1) -> str:
    assert completed.returncode == status, completed.stderr
    assert "Traceback" not in completed.stderr
    return str(completed.stderr)


def test_duplicate_json_key_cli(tmp_path: Path) -> None:
    lines = [json.dumps(row) for row in base()]
    lines[2] = lines[2].replace('"amount": "1200.00"', '"amount": "1200.00", "amount": "9.00"')
    records = write(tmp_path, "r.jsonl", "\n".join(lines) + "\n")
    plan = write(tmp_path, "p.plan", bonus_plan("1.00"))

    stderr = rejected(run_cli("run", plan, records, "--as-of", "2026-01-01T00:00:00Z"))

    assert "line 3 (contract K1), field amount: the field is given twice in one record" in stderr


@pytest.mark.parametrize(
    ("line", "message"),
    [
        pytest.param("[" * 100_000, "the JSON nests too deeply to be a record", id="deep"),
        pytest.param('{"type": "rep", "id": "\\ud800"}', "lone UTF-16 surrogate", id="surrogate"),
        pytest.param("[1, 2]", "a record must be an object, not an array", id="array"),
        # Deep enough to load, and near the depth where json.dumps can no
        # longer quote the value (983 to 988 levels raised RecursionError).
        # Either way the record gets one message.
        pytest.param('{"type": "customer", "id": "C9", "owner": ' + "[" * 985 + "]" * 985 + "}",
                     "field owner: ", id="deep-field"),
    ],
)
def test_bad_json_line_cli(tmp_path: Path, line: str, message: str) -> None:
    records = write(tmp_path, "r.jsonl", "\n".join(json.dumps(r) for r in base()) + "\n" + line + "\n")
    plan = write(tmp_path, "p.plan", bonus_plan("1.00"))

    stderr = rejected(run_cli("run", plan, records, "--as-of", "2026-01-01T00:00:00Z"))

    assert "line 4" in stderr
    assert message in stderr


def test_as_of_year_bounded_cli(tmp_path: Path) -> None:
    records = write(tmp_path, "r.jsonl", "\n".join(json.dumps(r) for r in base()) + "\n")
    plan = write(tmp_path, "p.plan", bonus_plan("1.00"))

    stderr = rejected(run_cli("run", plan, records, "--as-of", "9999-12-31T23:59:59-12:00"), 2)

    assert "is out of range; use a year from 1900 to 2200" in stderr


def test_full_disk_cli(tmp_path: Path) -> None:
    import subprocess
    import sys

    records = write(tmp_path, "r.jsonl", "\n".join(json.dumps(r) for r in base()) + "\n")
    plan = write(tmp_path, "p.plan", bonus_plan("1.00"))
    if not Path("/dev/full").exists():
        pytest.skip("this system has no /dev/full")
    with open("/dev/full", "w", encoding="utf-8") as full:
        completed = subprocess.run(
            [sys.executable, "-m", "commission_engine", "run", plan, records,
             "--as-of", "2026-01-01T00:00:00Z"],
            stdout=full, stderr=subprocess.PIPE, text=True, check=False, timeout=60)

    stderr = rejected(completed)
    assert "cannot write the output" in stderr


def test_csv_cells_never_formulas(tmp_path: Path) -> None:
    rows = base()
    rows[0]["id"] = "=HYPERLINK(1)"
    rows[1]["owner"] = rows[2]["rep"] = "=HYPERLINK(1)"
    records = write(tmp_path, "r.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n")
    plan = write(tmp_path, "p.plan", bonus_plan("1.00"))

    completed = run_cli("run", plan, records, "--as-of", "2026-01-01T00:00:00Z", "--format", "csv")

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines()[1].startswith("'=HYPERLINK(1)")


def test_invalid_utf8_exits_one(tmp_path: Path) -> None:
    plan = tmp_path / "p.plan"
    plan.write_bytes(b'plan "t" version "\xff"\n')

    stderr = rejected(run_cli("check", str(plan)))

    assert "not UTF-8 text" in stderr


def test_nesting_past_limit_reported() -> None:
    assert plan_error(bonus_plan("-" * 150 + "contract.amount")) == [
        "this expression nests more than 100 levels deep (max_nesting)"]


def test_example_contract_currency_checked() -> None:
    text = bonus_plan("1.00") + (
        '\nexample "x" as of 2026-01-01T00:00:00Z:\n    records:\n'
        '        rep id R1 timezone "UTC"\n        customer id C1 owner R1\n'
        '        contract id K1 customer C1 rep R1 product "f" amount 10.00 currency USD'
        " signed_at 2025-01-01T00:00:00Z term_months 1\n    expect:\n        nothing\n"
    )

    assert "contract K1 is in USD, but the plan's currency is CNY" in plan_error(text)


def test_literal_arithmetic_is_money() -> None:
    plan = load_plan(bonus_plan("100 + 50"))

    assert plan.evaluate(load_records(base()), AS_OF).lines[0].amount == Decimal("150.00")


@pytest.mark.parametrize("word", ["ammount", "wen", "mmebers"])
def test_misspelled_line_in_bonus_rule(word: str) -> None:
    """A misspelled clause in a bonus rule once crashed inside lark's match_examples."""
    text = HEADER + f"bonus big on contract:\n    paid to contract.rep\n    {word} 100\n"

    messages = plan_error(text)

    assert messages == [f"unexpected '{word}'"]


def test_commission_cycle_rejected() -> None:
    text = HEADER + (
        "commission a on contract:\n    paid to contract.rep\n"
        "    rate 5% of contract.amount + commission b\n"
        "commission b on contract:\n    paid to contract.rep\n"
        "    rate 5% of contract.amount + commission a\n")

    assert plan_error(text) == ["commission b refers to itself: b -> a -> b",
                                "commission a refers to itself: a -> b -> a"]


def test_invariant_dividing_by_zero_fails_cleanly(tmp_path: Path) -> None:
    text = bonus_plan("1.00") + '\ninvariant "ratio":\n    for every statement: payout / (signed - signed) >= 0\n'
    plan = write(tmp_path, "p.plan", text)

    completed = run_cli("test", plan, "--max-examples", "20")

    stderr_and_out = completed.stdout + completed.stderr
    assert completed.returncode == 1
    assert "Traceback" not in stderr_and_out
    assert 'invariant "ratio" (line 8) failed: statement R' in completed.stdout


def test_example_evaluation_error_reported(tmp_path: Path) -> None:
    text = HEADER + (
        "commission c on contract:\n    paid to contract.rep\n    rate 8% of contract.amount\n"
        "    pay in contract.term_months - 2 monthly installments\n"
        '\nexample "bad term" as of 2026-01-01T00:00:00Z:\n    records:\n'
        '        rep id R1 timezone "UTC"\n        customer id C1 owner R1\n'
        '        contract id K1 customer C1 rep R1 product "f" amount 10.00'
        " signed_at 2025-01-01T00:00:00Z term_months 1\n    expect:\n        nothing\n"
        '\nexample "no records" as of 2026-01-01T00:00:00Z:\n    records:\n'
        '        rep id R1 timezone "UTC"\n    expect:\n        nothing\n')
    plan = write(tmp_path, "p.plan", text)

    completed = run_cli("test", plan)

    assert completed.returncode == 1
    assert 'example "bad term" (line 9) failed: rule \'c\' asks for -1 installments' in completed.stdout
    assert 'example "no records": ok' in completed.stdout
    assert completed.stdout.endswith(": 1 passed, 1 failed\n")


def test_max_examples_must_be_positive(tmp_path: Path) -> None:
    plan = write(tmp_path, "p.plan", bonus_plan("1.00"))

    completed = run_cli("test", plan, "--max-examples", "0")

    assert completed.returncode == 2
    assert "not a whole number of at least 1" in completed.stderr


def test_example_as_of_year_bounded() -> None:
    text = bonus_plan("1.00") + ('\nexample "x" as of 0001-01-01T00:00:00+14:00:\n    records:\n'
                                 '        rep id R1 timezone "UTC"\n    expect:\n        nothing\n')

    assert 'the as-of time of example "x" is out of range' in plan_error(text)


@pytest.mark.parametrize("recursion_limit", [1000, 5000, 50000])
def test_deep_formula_message_ignores_recursion_limit(recursion_limit: int) -> None:
    text = bonus_plan("-" * 500 + "contract.amount")
    saved = sys.getrecursionlimit()
    sys.setrecursionlimit(recursion_limit)
    try:
        with pytest.raises(PlanError) as caught:
            load_plan(text)
    finally:
        sys.setrecursionlimit(saved)

    messages = [diagnostic.message for diagnostic in caught.value.diagnostics]
    assert messages == ["the plan nests expressions too deeply to be read"]


@pytest.mark.parametrize(("character", "code", "kind"), [
    ("\u202e", "U+202E", "a bidirectional control"),
    ("\x1b", "U+001B", "a control character"),
    ("\x00", "U+0000", "a control character"),
])
def test_hidden_character_in_plan(character: str, code: str, kind: str) -> None:
    text = f'plan "x{character}abc" version "1"\ncurrency CNY\n'
    with pytest.raises(PlanError) as caught:
        load_plan(text)
    (diagnostic,) = caught.value.diagnostics
    assert (diagnostic.line, diagnostic.column) == (1, 8)
    assert diagnostic.message == (f"the plan contains {code}, {kind}, which can make the text"
                                  " display otherwise than it reads")
    assert diagnostic.source_line == 'plan "x\ufffdabc" version "1"'


def test_hidden_character_never_printed_cli(tmp_path: Path) -> None:
    plan = write(tmp_path, "p.plan", HEADER + "# a comment \x1b[2J that clears the screen\n")
    done = run_cli("check", plan)
    assert done.returncode == 1
    assert "p.plan:4:13: error: the plan contains U+001B" in done.stderr
    assert "\x1b" not in done.stderr + done.stdout


def run_cli_bytes(*args: str, stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    """Run the real command line with raw bytes on stdin."""
    return subprocess.run([sys.executable, "-m", "commission_engine", *args], input=stdin,
                          capture_output=True, check=False, timeout=120)


def test_invalid_utf8_on_stdin_named_like_a_file(tmp_path: Path) -> None:
    plan = write(tmp_path, "p.plan", bonus_plan("1.00"))
    done = run_cli_bytes("run", plan, "-", "--as-of", "2026-01-01T00:00:00Z", stdin=b"\xff\xfe\n")
    assert done.returncode == 1
    assert done.stderr.decode() == (
        "commission-engine: error: cannot read standard input: not UTF-8 text (invalid start"
        " byte at byte 0, line 1); save the file as UTF-8\n")


def test_invalid_utf8_far_into_a_file_located(tmp_path: Path) -> None:
    # Past the first chunks, where a text stream counts bytes from its last chunk.
    good = "\n".join(json.dumps(row) for row in base()) + "\n"
    padding = (good * (200_000 // len(good) + 1)).encode()
    records = tmp_path / "r.jsonl"
    records.write_bytes(padding + b'{"type": "rep", "id": "R\xff"}\n')
    plan = write(tmp_path, "p.plan", bonus_plan("1.00"))
    stderr = rejected(run_cli("run", plan, str(records), "--as-of", "2026-01-01T00:00:00Z"))
    offset = len(padding) + len(b'{"type": "rep", "id": "R')
    line = padding.count(b"\n") + 1
    assert f"(invalid start byte at byte {offset:,}, line {line:,})" in stderr


def test_lone_cr_on_stdin_keeps_line_numbers(tmp_path: Path) -> None:
    # A CR alone is whitespace inside a JSON line, from a file and from stdin.
    lines = [json.dumps(row) for row in base()]
    lines[0] = lines[0].replace(", ", ",\r", 1)
    text = "\n".join(lines) + '\n{"type": "rep"}\n'
    plan = write(tmp_path, "p.plan", bonus_plan("1.00"))
    from_file = run_cli("run", plan, write(tmp_path, "r.jsonl", text),
                        "--as-of", "2026-01-01T00:00:00Z")
    from_stdin = run_cli_bytes("run", plan, "-", "--as-of", "2026-01-01T00:00:00Z",
                               stdin=text.encode())
    assert f"line {len(lines) + 1}, field id: the field is missing" in from_file.stderr
    assert from_stdin.stderr.decode() == from_file.stderr


@pytest.mark.parametrize("formula", [
    "-" * 5000 + "contract.amount",
    "contract.amount" + " * 1" * 5000,
], ids=["signs", "products"])
def test_too_deep_names_the_nesting_line(formula: str) -> None:
    # The header's dates and version have dashes too, so the line is not
    # chosen by its signs.
    text = bonus_plan(formula).replace('version "1"', 'version "2025-01-01-a"')
    with pytest.raises(PlanError) as caught:
        load_plan(text)
    (diagnostic,) = caught.value.diagnostics
    nesting_line = next(number for number, line in enumerate(text.split("\n"), 1)
                        if formula in line)
    assert diagnostic.line == nesting_line
    assert "nest operators, signs and 'not' fewer than 100 levels deep" in str(diagnostic.hint)
    # The quoted line is cut to the part around the column.
    assert len(str(caught.value)) < 1000


def test_statement_period_not_a_month(tmp_path: Path) -> None:
    plan = write(tmp_path, "p.plan", bonus_plan("1.00"))
    records = write(tmp_path, "r.jsonl", "\n".join(json.dumps(row) for row in base()) + "\n")
    stderr = rejected(run_cli("statement", plan, records, "--period", "2025-13",
                              "--as-of", "2026-01-01T00:00:00Z"), status=2)
    assert "--period '2025-13' is not a month; write it as YYYY-MM, such as 2025-03" in stderr


def test_empty_records_file_gets_a_note(tmp_path: Path) -> None:
    plan = write(tmp_path, "p.plan", bonus_plan("1.00"))
    records = write(tmp_path, "r.jsonl", "\n")
    done = run_cli("run", plan, records, "--as-of", "2026-01-01T00:00:00Z")
    assert done.returncode == 0
    assert "0 statements" in done.stdout
    assert done.stderr == (f"note: {records} holds no records, so every total is 0; check the"
                           " file name and the export that wrote it\n")


def test_crlf_plan_near_the_limit_read_whole(tmp_path: Path) -> None:
    # 2,000 characters with LF line ends, more with CR LF: the limit counts
    # the plan as the parser reads it, so the rule at the end is kept.
    text = bonus_plan("1.00")
    filler = "# " + "x" * 46 + "\n"
    while len(text) + len(filler) + 60 <= 2000:
        text = filler + text
    text += "bonus extra on contract:\n    paid to contract.rep\n    amount 1000\n"
    assert len(text) <= 2000 < len(text.replace("\n", "\r\n"))
    plan = tmp_path / "p.plan"
    plan.write_bytes(text.replace("\n", "\r\n").encode())
    records = write(tmp_path, "r.jsonl", "\n".join(json.dumps(row) for row in base()) + "\n")
    done = run_cli("run", str(plan), records, "--as-of", "2026-01-01T00:00:00Z",
                   "--format", "json", "--limit", "max_plan_chars=2000")
    assert done.returncode == 0, done.stderr
    rules = {line["rule"] for line in json.loads(done.stdout)["lines"]}
    assert rules == {"b", "extra"}


def test_bad_byte_line_after_lone_cr(tmp_path: Path) -> None:
    plan = tmp_path / "q.plan"
    plan.write_bytes(b'plan "q" version "1"\rcurrency CNY\r\r# c\r# \xff\r')
    stderr = rejected(run_cli("check", str(plan)), status=1)
    assert "(invalid start byte at byte 41, line 5)" in stderr


def test_line_separator_in_plan_rejected() -> None:
    with pytest.raises(PlanError) as caught:
        load_plan('plan "demo" version "1\u2028"\ncurrency CNY\n')
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.message == ("the plan contains U+2028, a line or paragraph separator,"
                                  " which can make the text display otherwise than it reads")


def test_lone_cr_ends_plan_string() -> None:
    # As the command line reads it: the string ends at the CR, unterminated.
    with pytest.raises(PlanError):
        load_plan('plan "demo\rEVIL" version "1"\ncurrency CNY\n')


@pytest.mark.parametrize("line_end", ["\r\n", "\r"], ids=["crlf", "cr"])
def test_plan_line_ends_read_as_lf(line_end: str) -> None:
    text = bonus_plan("1.00")
    assert load_plan(text.replace("\n", line_end)).source == load_plan(text).source
    broken = text.replace("amount 1.00", "amount contract.amountx")
    with pytest.raises(PlanError) as caught:
        load_plan(broken.replace("\n", line_end))
    with pytest.raises(PlanError) as expected:
        load_plan(broken)
    assert str(caught.value) == str(expected.value)


def test_plan_file_name_escaped_cli(tmp_path: Path) -> None:
    plan = write(tmp_path, "w\x1b]0;title\x07.plan", bonus_plan("1.00"))
    done = run_cli("check", plan)
    assert done.returncode == 0
    assert "\x1b" not in done.stdout
    assert done.stdout.endswith("w\\u001b]0;title\\u0007.plan: ok\n")


def test_right_to_left_mark_kept_in_quoted_line() -> None:
    text = HEADER + 'bonus b on contract:\n    paid to contract.rep\n' \
        '    when product is "\u05e9\u05dc\u05d5\u05dd\u200f" and contract.amountx > 0\n' \
        '    amount 1.00\n'
    with pytest.raises(PlanError) as caught:
        load_plan(text)
    assert '"\u05e9\u05dc\u05d5\u05dd\u200f"' in str(caught.value.diagnostics[0].render())


def test_verify_deeply_nested_result(tmp_path: Path) -> None:
    plan = write(tmp_path, "p.plan", bonus_plan("1.00"))
    records = write(tmp_path, "r.jsonl", "\n".join(json.dumps(row) for row in base()) + "\n")
    stored = write(tmp_path, "result.json", "[" * 5000 + "]" * 5000)
    stderr = rejected(run_cli("verify", stored, plan, records))
    assert "the JSON nests too deeply to be a stored result" in stderr


def test_caret_follows_tabs_and_wide_characters() -> None:
    diagnostic = Diagnostic("m", 1, 8, 9, None, "error", "a\tb \u5a5a\u5a5a x")
    quoted, caret = diagnostic.render().splitlines()[1:3]
    assert quoted == "    a\tb \u5a5a\u5a5a x"
    # A tab for the tab, two columns for each wide character.
    assert caret == "     \t" + " " * 7 + "^"
