"""Invariants in plan files: checked, searched with Hypothesis, reproduced by run."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from helpers import ROOT, one_contract, run_cli

from commission_engine import PlanError, load_plan, load_records
from commission_engine.invariants import search, violations

HEADER = 'plan "t" version "1"\ncurrency CNY\n\n'
BASE = (
    "commission base on contract:\n"
    "    paid to contract.rep\n"
    "    rate of contract.amount:\n"
    "        8% when new customer\n"
    "        12% when returning customer\n"
    "    pay in contract.term_months monthly installments\n"
)
# False for any contract of 1,250.00 or more: its first installment is 100.00.
BROKEN = HEADER + BASE + (
    '\ninvariant "no installment reaches 100.00":\n'
    "    for every line: line.kind is not \"installment\" or line.amount < 100.00\n"
)


def test_broken_invariant_found_by_cli_and_reproduced(tmp_path: Path) -> None:
    plan = tmp_path / "broken.plan"
    plan.write_text(BROKEN, encoding="utf-8")

    completed = run_cli("test", str(plan), "--max-examples", "100")

    assert completed.returncode == 1
    out = completed.stdout
    assert 'invariant "no installment reaches 100.00" (line 11) failed: line R' in out
    header, rest = out.split("as JSON Lines (reproduce it with commission-engine run ", 1)
    command, rest = rest.split("):\n", 1)
    as_of = command.split("--as-of ")[1]
    records = rest.split("end of counterexample")[0]
    counterexample = tmp_path / "counterexample.jsonl"
    counterexample.write_text(records, encoding="utf-8")

    rerun = run_cli("run", str(plan), str(counterexample), "--as-of", as_of, "--format", "json")

    assert rerun.returncode == 0, rerun.stderr
    amounts = [line["amount"] for line in json.loads(rerun.stdout)["lines"]
               if line["kind"] == "installment"]
    assert any(Decimal(amount) >= 100 for amount in amounts)


def test_true_invariants_pass() -> None:
    plan = load_plan((ROOT / "tests" / "plans" / "invariants.plan").read_text(encoding="utf-8"))

    outcomes = [search(plan, invariant, max_examples=50) for invariant in plan.invariants]

    assert [o.passed for o in outcomes] == [True, True]
    assert all(o.examples >= 50 for o in outcomes)


def test_search_is_deterministic() -> None:
    plan = load_plan(BROKEN)

    first = search(plan, plan.invariants[0], max_examples=50)
    second = search(plan, plan.invariants[0], max_examples=50)

    assert first.counterexample == second.counterexample
    assert first.violation == second.violation


def test_violations_of_one_result() -> None:
    plan = load_plan(BROKEN)
    records = load_records(one_contract("2600.00", "2025-01-15T10:00:00+08:00", 2,
                                        "2025-01-01T00:00:00+08:00"))
    result = plan.evaluate(records, datetime.fromisoformat("2026-01-01T00:00:00+08:00"))

    found = violations(plan, plan.invariants[0], records, result)

    assert [v.describe() for v in found] == [
        "line R1 2025-01 installment (rule base): amount 104.00, kind installment, rule base",
        "line R1 2025-02 installment (rule base): amount 104.00, kind installment, rule base",
    ]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param('invariant "x":\n    for every invoice: true\n',
                     "an invariant cannot range over 'invoice'", id="unknown-scope"),
        pytest.param('invariant "x":\n    for every line: line.amout >= 0\n',
                     "line has no value 'amout'", id="unknown-value"),
        pytest.param('invariant "x":\n    for every payee: payout + 2%\n',
                     "cannot compute money + percentage", id="type-error"),
        pytest.param('invariant "x":\n    for every line: amount >= 0\n'
                     'invariant "x":\n    for every line: amount >= 0\n',
                     'invariant name "x" is used twice (also on line 4)', id="duplicate"),
    ],
)
def test_invariant_checked(body: str, message: str) -> None:
    with pytest.raises(PlanError) as caught:
        load_plan(HEADER + body)

    assert message in [d.message for d in caught.value.diagnostics]


def test_unknown_value_suggests() -> None:
    with pytest.raises(PlanError) as caught:
        load_plan(HEADER + 'invariant "x":\n    for every line: line.amout >= 0\n')

    assert caught.value.diagnostics[0].hint == "did you mean 'amount'?"
