"""Every bound of ``Limits``: the default rejects with the bound's name, a raised bound accepts."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from helpers import one_contract, run_cli

from commission_engine import (
    DEFAULT_LIMITS,
    EvaluationError,
    Limits,
    PlanError,
    RecordError,
    load_jsonl,
    load_plan,
    load_records,
)

AS_OF = datetime.fromisoformat("2026-01-01T00:00:00+00:00")
HEADER = 'plan "t" version "1"\ncurrency CNY\n\n'
SIGNED = "2025-01-15T10:00:00+08:00"


def bonus(name: str = "b", amount: str = "1.00") -> str:
    return f"bonus {name} on contract:\n    paid to contract.rep\n    amount {amount}\n"


def commission(installments: str) -> str:
    return (HEADER + "commission c on contract:\n    paid to contract.rep\n"
            f"    rate 10% of contract.amount\n    pay in {installments} monthly installments\n")


def plan_messages(text: str, limits: Limits = DEFAULT_LIMITS) -> list[str]:
    with pytest.raises(PlanError) as caught:
        load_plan(text, limits=limits)
    return [d.message for d in caught.value.diagnostics]


def record_messages(rows: list[dict[str, Any]], limits: Limits = DEFAULT_LIMITS) -> list[str]:
    with pytest.raises(RecordError) as caught:
        load_records(rows, limits=limits)
    return [p.message for p in caught.value.problems]


def jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(row) + "\n" for row in rows)


# ---------------------------------------------------------------- the value


def test_defaults_documented_values() -> None:
    assert dataclasses.asdict(DEFAULT_LIMITS) == {
        "max_plan_chars": 1_000_000, "max_nesting": 100, "max_rules": 1_000,
        "max_number_digits": 30, "max_exponent": 30, "max_amount_digits": 18,
        "max_term_months": 600, "max_installments": 600, "max_duration": 36_600,
        "max_reported_errors": 100, "max_record_line_chars": 100_000,
    }


def test_limits_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT_LIMITS.max_rules = 5  # type: ignore[misc]


@pytest.mark.parametrize("value", [0, -1, True, 1.5, "10"])
def test_limit_must_be_positive_int(value: Any) -> None:
    with pytest.raises(ValueError, match="Limits.max_rules must be a whole number of at least 1"):
        Limits(max_rules=value)


def test_nesting_ceiling_enforced() -> None:
    with pytest.raises(ValueError, match="max_nesting 151 is above 150"):
        Limits(max_nesting=151)


def test_amount_digits_ceiling_enforced() -> None:
    with pytest.raises(ValueError, match="max_amount_digits 25 is above 24"):
        Limits(max_amount_digits=25)


def test_replace_rejects_unknown_name() -> None:
    with pytest.raises(ValueError, match="unknown limit 'max_widgets'"):
        DEFAULT_LIMITS.replace(max_widgets=3)


def test_replace_changes_one_bound() -> None:
    changed = DEFAULT_LIMITS.replace(max_rules=5)

    assert changed.max_rules == 5
    assert changed.max_nesting == DEFAULT_LIMITS.max_nesting


# ---------------------------------------------------------------- plan text


def test_plan_size_limit() -> None:
    text = HEADER + bonus() + "# " + "x" * 200 + "\n"
    limits = Limits(max_plan_chars=100)

    messages = plan_messages(text, limits)

    assert messages == [f"the plan is {len(text):,} characters long, more than the limit of"
                        " 100 (max_plan_chars)"]
    assert load_plan(text, limits=Limits(max_plan_chars=len(text))).name == "t"


def test_plan_size_hint_names_option() -> None:
    with pytest.raises(PlanError) as caught:
        load_plan(HEADER + bonus(), limits=Limits(max_plan_chars=10))

    assert caught.value.diagnostics[0].hint == (
        "split the plan into smaller plans; to allow more, raise max_plan_chars with"
        " Limits(max_plan_chars=...) or --limit max_plan_chars=N")


def test_rule_count_limit() -> None:
    text = HEADER + "".join(bonus(f"b{index}") for index in range(4))

    assert plan_messages(text, Limits(max_rules=3)) == [
        "the plan has 4 rules, more than the limit of 3 (max_rules)"]
    assert len(load_plan(text, limits=Limits(max_rules=4)).rules) == 4


def test_rule_count_error_points_at_extra_rule() -> None:
    text = HEADER + "".join(bonus(f"b{index}") for index in range(4))

    with pytest.raises(PlanError) as caught:
        load_plan(text, limits=Limits(max_rules=3))

    assert caught.value.diagnostics[0].source_line == "bonus b3 on contract:"


def test_nesting_limit_raised() -> None:
    text = HEADER + bonus(amount="-" * 120 + "contract.amount")

    assert plan_messages(text) == ["this expression nests more than 100 levels deep (max_nesting)"]
    plan = load_plan(text, limits=Limits(max_nesting=130))
    records = load_records(one_contract("100.00", SIGNED))
    assert plan.evaluate(records, AS_OF).lines[0].amount == Decimal("100.00")


def test_nesting_limit_lowered() -> None:
    text = HEADER + bonus(amount="-" * 11 + "contract.amount")

    assert plan_messages(text, Limits(max_nesting=10)) == [
        "this expression nests more than 10 levels deep (max_nesting)"]


def _signs(levels: int) -> str:
    return "-" * levels + "contract.amount"


def _sums(levels: int) -> str:
    expression = "contract.amount"
    for _ in range(levels):
        expression = f"({expression} + 1)"
    return expression


def _nots(levels: int) -> str:
    # The comparison is one level and each "not" another.
    condition = "contract.amount > 0"
    for _ in range(levels - 1):
        condition = f"not ({condition})"
    return condition


@pytest.mark.parametrize("build", [_signs, _sums])
@pytest.mark.parametrize("limit", [10, 100, 150])
def test_nesting_at_limit_loads(build: Any, limit: int) -> None:
    limits = Limits(max_nesting=limit)
    load_plan(HEADER + bonus(amount=build(limit)), limits=limits)

    assert plan_messages(HEADER + bonus(amount=build(limit + 1)), limits) == [
        f"this expression nests more than {limit} levels deep (max_nesting)"]


def test_nesting_of_conditions_at_limit() -> None:
    rule = "bonus b on contract:\n    paid to contract.rep\n    when {}\n    amount 1.00\n"
    load_plan(HEADER + rule.format(_nots(100)))

    assert plan_messages(HEADER + rule.format(_nots(101))) == [
        "this expression nests more than 100 levels deep (max_nesting)"]


def test_nesting_error_points_at_expression() -> None:
    with pytest.raises(PlanError) as caught:
        load_plan(HEADER + bonus(amount=_signs(101)))
    diagnostic = caught.value.diagnostics[0]

    assert diagnostic.line == 6
    assert diagnostic.column == len("    amount ") + 1


def test_number_digits_limit() -> None:
    text = HEADER + bonus(amount="1" * 31)

    assert plan_messages(text) == [
        "number 11111111111111111111... has 31 digits, more than the limit of 30"
        " (max_number_digits)"]
    assert plan_messages(HEADER + bonus(amount="1" * 6), Limits(max_number_digits=5)) == [
        "number 111111... has 6 digits, more than the limit of 5 (max_number_digits)"]


def test_duration_limit() -> None:
    text = HEADER + ("cohort c on contract:\n    paid to contract.rep\n"
                     "    retained when not fully refunded within 400 days\n"
                     "    amount 1% of total retained.amount\n")

    assert plan_messages(text, Limits(max_duration=365)) == ["400 days is too long"]
    assert load_plan(text).name == "t"


def test_installments_limit_in_plan() -> None:
    assert plan_messages(commission("700")) == [
        "700 is not a whole number of installments from 1 to 600 (max_installments)"]
    plan = load_plan(commission("700"), limits=Limits(max_installments=700, max_term_months=700))
    result = plan.evaluate(load_records(one_contract("7000.00", SIGNED)), AS_OF)
    assert len(result.lines) + len(result.schedule) == 700


def test_installments_limit_at_evaluation() -> None:
    plan = load_plan(commission("contract.term_months * 2"))
    records = load_records(one_contract("1000.00", SIGNED, term_months=400))

    with pytest.raises(EvaluationError) as caught:
        plan.evaluate(records, AS_OF)

    assert str(caught.value) == (
        "rule 'c' asks for 800 installments on contract K1; the count must be a whole"
        " number from 1 to 600 (max_installments); to allow more, raise max_installments"
        " with Limits(max_installments=...) or --limit max_installments=N")


def test_reported_plan_errors_capped() -> None:
    text = HEADER + "".join(bonus(f"b{index}", "contract.amount / 0") for index in range(8))

    with pytest.raises(PlanError) as caught:
        load_plan(text, limits=Limits(max_reported_errors=3))

    assert len(caught.value.diagnostics) == 3
    assert caught.value.omitted == 5
    assert "... and 5 more errors not shown" in str(caught.value)
    assert str(caught.value).endswith("8 errors; the plan cannot run until they are fixed")


def test_reported_plan_errors_default_hundred() -> None:
    text = HEADER + "".join(bonus(f"b{index}", "contract.amount / 0") for index in range(120))

    with pytest.raises(PlanError) as caught:
        load_plan(text)

    assert len(caught.value.diagnostics) == 100
    assert caught.value.omitted == 20


# ---------------------------------------------------------------- records


def test_term_months_limit() -> None:
    rows = one_contract("100.00", SIGNED, term_months=601)

    assert record_messages(rows) == ["term_months 601 is out of range"]
    assert load_records(rows, limits=Limits(max_term_months=601)).contracts["K1"].term_months == 601


def test_term_months_fix_names_limit() -> None:
    rows = one_contract("100.00", SIGNED, term_months=601)

    with pytest.raises(RecordError) as caught:
        load_records(rows)

    assert caught.value.problems[0].fix == (
        "write a whole number of months from 1 to 600; to allow more, raise max_term_months"
        " with Limits(max_term_months=...) or --limit max_term_months=N")


def test_amount_digits_limit() -> None:
    rows = one_contract("1" + "0" * 18, SIGNED)

    assert record_messages(rows) == [
        "amount 1000000000000000000 is too large: it has more than 18 digits before the"
        " point (max_amount_digits)"]
    loaded = load_records(rows, limits=Limits(max_amount_digits=19))
    assert loaded.contracts["K1"].amount == Decimal("1000000000000000000")


@pytest.mark.parametrize(
    ("field", "value", "exponent"),
    [
        pytest.param("amount", Decimal("1E+999999999"), "999999999", id="amount-huge"),
        pytest.param("amount", Decimal("1E-999999999"), "-999999999", id="amount-tiny"),
        pytest.param("term_months", Decimal("1E+999999999"), "999999999", id="term-huge"),
        pytest.param("term_months", Decimal("1E-999999999"), "-999999999", id="term-tiny"),
    ],
)
def test_exponent_limit(field: str, value: Decimal, exponent: str) -> None:
    rows = one_contract("100.00", SIGNED)
    rows[2][field] = value

    assert record_messages(rows) == [
        f"{field} {value} has the exponent {exponent}, outside the limit of -30 to 30"
        " (max_exponent)"]


def test_exponent_limit_raised() -> None:
    rows = one_contract("100.00", SIGNED)
    rows[2]["term_months"] = Decimal("12E+0")
    rows[2]["amount"] = Decimal("1.00000000000000000000000000000000E+2")

    assert record_messages(rows, Limits(max_exponent=40)) == [
        "amount 100.000000000000000000000000000000 has more decimals than CNY allows (2)"]


def test_exponent_in_json_bounded() -> None:
    rows = one_contract("100.00", SIGNED)
    text = jsonl(rows).replace('"term_months": 1', '"term_months": 1e999999999')

    with pytest.raises(RecordError) as caught:
        load_jsonl(text)

    assert caught.value.problems[0].position == "line 3"
    assert "has the exponent 999999999" in caught.value.problems[0].message


def test_record_line_limit() -> None:
    rows = one_contract("100.00", SIGNED)
    rows[0]["name"] = "N" * 300
    text = jsonl(rows)

    with pytest.raises(RecordError) as caught:
        load_jsonl(text, Limits(max_record_line_chars=200))

    line = len(text.split("\n")[0])
    assert [p.render() for p in caught.value.problems] == [
        f"line 1: the line is {line:,} characters long, more than the limit of 200"
        " (max_record_line_chars); write one record per line; to allow more, raise"
        " max_record_line_chars with Limits(max_record_line_chars=...) or"
        " --limit max_record_line_chars=N"]
    assert load_jsonl(text, Limits(max_record_line_chars=line)).reps["R1"].name == "N" * 300


def test_reported_record_errors_capped() -> None:
    rows = one_contract("100.00", SIGNED)
    rows += [{"type": "payment", "id": f"P{index}", "contract": "K9", "amount": "1.00",
              "paid_at": SIGNED} for index in range(10)]

    with pytest.raises(RecordError) as caught:
        load_records(rows, limits=Limits(max_reported_errors=4))

    assert len(caught.value.problems) == 4
    assert caught.value.omitted == 6
    assert "  ... and 6 more not shown" in str(caught.value)


def test_reported_json_errors_capped() -> None:
    text = "not json\n" * 150

    with pytest.raises(RecordError) as caught:
        load_jsonl(text)

    assert len(caught.value.problems) == 100
    assert caught.value.omitted == 50
    assert str(caught.value).startswith("invalid records: 150 problems; nothing was evaluated")


def test_jsonl_rejects_bytes() -> None:
    with pytest.raises(TypeError, match="JSON Lines text must be str"):
        load_jsonl(b"{}")  # type: ignore[arg-type]


# ---------------------------------------------------------------- the command line


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_cli_limit_raises_rule_count(tmp_path: Path) -> None:
    plan = write(tmp_path, "p.plan", HEADER + "".join(bonus(f"b{i}") for i in range(3)))

    rejected = run_cli("check", plan, "--limit", "max_rules=2")
    accepted = run_cli("check", plan, "--limit", "max_rules=3")

    assert rejected.returncode == 1
    assert "the plan has 3 rules, more than the limit of 2 (max_rules)" in rejected.stderr
    assert "Traceback" not in rejected.stderr
    assert accepted.returncode == 0, accepted.stderr


def test_cli_plan_file_too_long(tmp_path: Path) -> None:
    plan = write(tmp_path, "p.plan", HEADER + bonus())

    completed = run_cli("check", plan, "--limit", "max_plan_chars=10")

    assert completed.returncode == 1
    assert completed.stderr == (
        f"commission-engine: error: cannot read {plan}: it is longer than the limit of 10"
        " characters (max_plan_chars); split the plan, or raise max_plan_chars with"
        " Limits(max_plan_chars=...) or --limit max_plan_chars=N\n")


def test_cli_limit_on_records(tmp_path: Path) -> None:
    plan = write(tmp_path, "p.plan", HEADER + bonus())
    records = write(tmp_path, "r.jsonl", jsonl(one_contract("100.00", SIGNED, term_months=700)))

    rejected = run_cli("run", plan, records, "--as-of", "2026-01-01T00:00:00Z")
    accepted = run_cli("run", plan, records, "--as-of", "2026-01-01T00:00:00Z",
                       "--limit", "max_term_months=700", "--format", "json")

    assert rejected.returncode == 1
    assert "term_months 700 is out of range" in rejected.stderr
    assert accepted.returncode == 0, accepted.stderr
    assert json.loads(accepted.stdout)["lines"][0]["amount"] == "1.00"


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        pytest.param("max_widgets=3", "unknown limit 'max_widgets'", id="unknown"),
        pytest.param("max_rules", "'max_rules' is not NAME=N", id="no-value"),
        pytest.param("max_rules=0", "'0' is not a whole number of at least 1", id="zero"),
        pytest.param("max_nesting=500", "max_nesting 500 is above 150", id="ceiling"),
    ],
)
def test_cli_bad_limit_usage(tmp_path: Path, setting: str, message: str) -> None:
    plan = write(tmp_path, "p.plan", HEADER + bonus())

    completed = run_cli("check", plan, "--limit", setting)

    assert completed.returncode == 2
    assert message in completed.stderr
    assert "Traceback" not in completed.stderr
