"""The same inputs give the same bytes whatever the environment says."""

from __future__ import annotations

import csv
import decimal
import io
import json
import locale
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from helpers import REFERENCE_PLAN, ROOT, WORKED, one_contract, read_jsonl, run_cli

from commission_engine import load_plan, load_records

RECORDS = ROOT / "examples" / "counselling" / "records.jsonl"
AS_OF = "2026-01-01T00:00:00+08:00"


def run_json(env: dict[str, str], output: str = "json") -> str:
    completed = subprocess.run(
        [sys.executable, "-m", "commission_engine", "run", str(REFERENCE_PLAN), str(RECORDS),
         "--as-of", AS_OF, "--format", output],
        capture_output=True, text=True, encoding="utf-8", check=False, timeout=120,
        env={**os.environ, **env},
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


@pytest.fixture(scope="module")
def reference_output() -> str:
    return run_json({"TZ": "UTC", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
                     "PYTHONHASHSEED": "0"})


@pytest.mark.parametrize(
    "env",
    [
        pytest.param({"TZ": "Asia/Shanghai"}, id="tz-shanghai"),
        pytest.param({"TZ": "America/Los_Angeles"}, id="tz-los-angeles"),
        pytest.param({"TZ": "Pacific/Kiritimati"}, id="tz-kiritimati"),
        pytest.param({"LANG": "tr_TR.UTF-8", "LC_ALL": "tr_TR.UTF-8"}, id="locale-tr"),
        pytest.param({"LANG": "zh_CN.UTF-8", "LC_ALL": "zh_CN.UTF-8"}, id="locale-zh"),
        pytest.param({"PYTHONHASHSEED": "12345"}, id="hash-seed"),
        pytest.param({"PYTHONHASHSEED": "random"}, id="hash-random"),
    ],
)
def test_output_ignores_environment(reference_output: str, env: dict[str, str]) -> None:
    assert run_json(env) == reference_output


# Every variable at once, each far from the reference run's value.
HOSTILE_ENV = {"TZ": "Pacific/Chatham", "LANG": "tr_TR.UTF-8", "LC_ALL": "zh_CN.UTF-8",
               "LC_NUMERIC": "de_DE.UTF-8", "PYTHONHASHSEED": "4294967295",
               "PYTHONUTF8": "0", "LANGUAGE": "tr:zh_CN"}


def test_digest_ignores_environment(reference_output: str) -> None:
    digest = json.loads(reference_output)["digest"]

    changed = json.loads(run_json(HOSTILE_ENV))

    assert digest.startswith("sha256:")
    assert changed["digest"] == digest


@pytest.mark.parametrize("output", ["table", "csv"])
def test_text_formats_ignore_environment(output: str) -> None:
    reference = run_json({"TZ": "UTC", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
                          "PYTHONHASHSEED": "0"}, output)

    assert run_json(HOSTILE_ENV, output) == reference


def test_result_ignores_caller_decimal_context(reference_plan) -> None:  # type: ignore[no-untyped-def]
    records = load_records(read_jsonl(RECORDS))
    as_of = datetime.fromisoformat(AS_OF)
    expected = reference_plan.evaluate(records, as_of).to_json()

    with decimal.localcontext() as context:
        context.prec = 5
        context.rounding = decimal.ROUND_FLOOR
        context.traps[decimal.Inexact] = True
        changed = reference_plan.evaluate(records, as_of).to_json()

    assert changed == expected


HOSTILE_CONTEXTS = {
    "two-digits": decimal.Context(prec=2, rounding=decimal.ROUND_DOWN, Emax=3, Emin=-3),
    "every-trap": decimal.Context(
        prec=4, traps=[decimal.Inexact, decimal.Rounded, decimal.Overflow, decimal.Underflow,
                       decimal.Clamped, decimal.Subnormal, decimal.InvalidOperation,
                       decimal.DivisionByZero]),
    "no-traps": decimal.Context(prec=3, rounding=decimal.ROUND_CEILING, traps=[]),
}


@pytest.mark.parametrize("name", list(HOSTILE_CONTEXTS))
def test_whole_pipeline_ignores_decimal_context(name: str) -> None:
    """Loading the plan and records, evaluating and writing JSON, all under the caller's context."""
    text = REFERENCE_PLAN.read_text(encoding="utf-8")
    rows = read_jsonl(WORKED / "E12.jsonl")
    as_of = datetime.fromisoformat(AS_OF)
    expected = load_plan(text).evaluate(load_records(rows), as_of)

    saved = decimal.getcontext()
    decimal.setcontext(HOSTILE_CONTEXTS[name])
    try:
        result = load_plan(text).evaluate(load_records(rows), as_of)
        output, digest = result.to_json(), result.digest
    finally:
        decimal.setcontext(saved)

    assert output == expected.to_json()
    assert digest == expected.digest


def test_rates_exact_in_short_context() -> None:
    text = ('plan "t" version "1"\ncurrency CNY\n\ncommission c on contract:\n'
            "    paid to contract.rep\n    rate 12.345% of contract.amount\n")
    records = load_records(one_contract("1000.00", "2025-01-15T10:00:00+08:00"))

    with decimal.localcontext() as context:
        context.prec = 2
        plan = load_plan(text)
    result = plan.evaluate(records, datetime.fromisoformat(AS_OF))

    assert [line.amount for line in result.lines] == [decimal.Decimal("123.45")]


def test_caller_context_left_unchanged(reference_plan) -> None:  # type: ignore[no-untyped-def]
    records = load_records(read_jsonl(WORKED / "E1.jsonl"))

    with decimal.localcontext() as context:
        context.prec = 7
        context.rounding = decimal.ROUND_05UP
        reference_plan.evaluate(records, datetime.fromisoformat(AS_OF)).to_json()

        assert decimal.getcontext().prec == 7
        assert decimal.getcontext().rounding == decimal.ROUND_05UP


def test_locale_set_in_process(reference_plan) -> None:  # type: ignore[no-untyped-def]
    """A caller that calls setlocale gets the same bytes; skipped where no such locale exists."""
    records = load_records(read_jsonl(RECORDS))
    as_of = datetime.fromisoformat(AS_OF)
    expected = reference_plan.evaluate(records, as_of).to_json()
    saved = locale.setlocale(locale.LC_ALL)
    tried = []
    try:
        for name in ("tr_TR.UTF-8", "zh_CN.UTF-8", "de_DE.UTF-8"):
            try:
                locale.setlocale(locale.LC_ALL, name)
            except locale.Error:
                continue
            tried.append(name)
            assert reference_plan.evaluate(records, as_of).to_json() == expected, name
    finally:
        locale.setlocale(locale.LC_ALL, saved)
    if not tried:
        pytest.skip("none of tr_TR, zh_CN and de_DE is installed on this system")


def test_plan_text_order_of_records_irrelevant() -> None:
    rows = read_jsonl(RECORDS)
    plan = load_plan(REFERENCE_PLAN.read_text(encoding="utf-8"))
    as_of = datetime.fromisoformat(AS_OF)

    forward = plan.evaluate(load_records(rows), as_of)
    backward = plan.evaluate(load_records(list(reversed(rows))), as_of)

    assert forward.digest == backward.digest
    assert forward.to_json() == backward.to_json()


def test_due_column_is_utc_in_json_and_csv(tmp_path: Path) -> None:
    """Every due instant is written in UTC with +00:00, so the column sorts as text."""
    records = one_contract("1200.00", "2025-01-31T23:30:00+09:00", term_months=3)
    records.append({"type": "satisfaction", "id": "S1", "contract": "K1", "score": 50,
                    "surveyed_at": "2025-02-10T10:00:00+09:00"})
    path = tmp_path / "records.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in records), encoding="utf-8")

    plan = tmp_path / "due.plan"
    plan.write_text(
        'plan "due" version "1"\ncurrency CNY\n\n'
        "commission base on contract:\n    paid to contract.rep\n"
        "    rate 10% of contract.amount\n    pay in 3 monthly installments\n\n"
        "penalty low on contract:\n    paid to contract.rep\n"
        "    when first survey.score < 70\n    amount 10% of commission base\n",
        encoding="utf-8")

    as_of = "2025-12-31T00:00:00+09:00"
    result = run_cli("run", str(plan), str(path), "--as-of", as_of, "--format", "json")
    table = run_cli("run", str(plan), str(path), "--as-of", as_of, "--format", "csv")
    assert result.returncode == 0, result.stderr
    assert table.returncode == 0, table.stderr

    dues = [line["due"] for line in json.loads(result.stdout)["lines"]]
    rows = list(csv.DictReader(io.StringIO(table.stdout)))
    kinds = {line["kind"] for line in json.loads(result.stdout)["lines"]}
    assert kinds == {"installment", "penalty"}
    assert all(due.endswith("+00:00") for due in dues)
    assert sorted(row["due"] for row in rows if row["due"]) == sorted(dues)
    assert sorted(dues) == sorted(dues, key=datetime.fromisoformat)

    stored = tmp_path / "result.json"
    stored.write_text(result.stdout, encoding="utf-8")
    verified = run_cli("verify", str(stored), str(plan), str(path))
    assert verified.returncode == 0, verified.stdout + verified.stderr
