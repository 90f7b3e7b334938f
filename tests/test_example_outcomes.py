"""Plan examples that expect invalid input, or close periods before late records."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import run_cli

from commission_engine import PlanError, load_plan
from commission_engine.examples import run_examples

HEADER = '''plan "x" version "1"
currency CNY

commission collected on payment:
    paid to contract.rep
    rate of payment.amount:
        10% otherwise, until 2024-03-31
        12% otherwise, from 2024-04-01
'''

RECORDS = '''    records:
        rep id R1 timezone "Asia/Shanghai"
        customer id C1 owner R1
        contract id K1 customer C1 rep R1 product "family" amount 25000.00 signed_at 2024-03-01T10:00:00+08:00 term_months 1
        payment id P1 contract K1 amount 10000.00 paid_at 2024-03-10T10:00:00+08:00
        payment id P2 contract K1 amount 5000.00 paid_at 2024-03-28T10:00:00+08:00
'''


def _outcomes(body: str) -> list[str]:
    plan = load_plan(HEADER + body)
    return [outcome.report(plan.currency) for outcome in run_examples(plan)]


def test_invalid_example_wrong_message_fails() -> None:
    reports = _outcomes('''
example "usd" as of 2025-01-01T00:00:00+08:00:
    records:
        rep id R1 timezone "Asia/Shanghai"
        customer id C1 owner R1
        contract id K1 customer C1 rep R1 product "f" amount 1.00 currency USD signed_at 2024-03-01T10:00:00+08:00 term_months 1
    expect invalid: "differs from the plan's currency EUR"
''')

    assert len(reports) == 1
    assert reports[0].startswith(
        'example "usd" (line 10) failed: expected invalid input with "differs from the'
        " plan's currency EUR\", but the error was: invalid records: 1 problem")


def test_invalid_example_valid_records_fail() -> None:
    reports = _outcomes(f'''
example "valid" as of 2025-01-01T00:00:00+08:00:
{RECORDS}    expect invalid: "duplicate"
''')

    assert reports == [
        ('example "valid" (line 10) failed: expected invalid input with \'duplicate\', but the'
         " records were valid and evaluated")]


def test_closed_example_without_late_record() -> None:
    # Without 'before P2' the closed March already contains P2, so no adjustment.
    reports = _outcomes(f'''
example "closed" as of 2024-06-30T00:00:00+08:00:
{RECORDS}    closed through 2024-03
    expect:
        R1 2024-03 commission 1500.00
''')

    assert reports == ['example "closed": ok']


def test_closed_example_reports_difference() -> None:
    reports = _outcomes(f'''
example "closed" as of 2024-06-30T00:00:00+08:00:
{RECORDS}    closed through 2024-03 before P2
    expect:
        R1 2024-03 commission 1500.00
''')

    assert reports == [
        ('example "closed" (line 10) failed: 2 lines differ\n'
         "  R1 2024-03 commission: expected 1500.00, computed 1000.00\n"
         "  R1 2024-04 adjustment: expected -, computed 500.00")]


def test_closed_before_unknown_record() -> None:
    with pytest.raises(PlanError) as caught:
        load_plan(HEADER + f'''
example "closed" as of 2024-06-30T00:00:00+08:00:
{RECORDS}    closed through 2024-03 before P3, "p2"
    expect:
        R1 2024-03 commission 1000.00
''')
    found = [(d.line, d.message, d.hint) for d in caught.value.diagnostics]

    assert found == [
        (10, ("example 'closed' closes its periods before record 'P3', which is not in its"
              " records"), "name one of the example's records: C1, K1, P1, P2, R1"),
        (10, ("example 'closed' closes its periods before record 'p2', which is not in its"
              " records"), "did you mean 'P2'?"),
    ]


def test_closed_period_not_a_month() -> None:
    with pytest.raises(PlanError) as caught:
        load_plan(HEADER + f'''
example "closed" as of 2024-06-30T00:00:00+08:00:
{RECORDS}    closed through 2024-13
    expect:
        R1 2024-03 commission 1000.00
''')
    found = [(d.line, d.message, d.hint) for d in caught.value.diagnostics]

    assert found == [(10, "closed period 2024-13 is not a month",
                      "write it as YYYY-MM, such as 2024-03")]


def test_cli_runs_field_examples() -> None:
    path = Path(__file__).parent / "plans" / "field-closed-and-invalid.plan"

    completed = run_cli("test", str(path))

    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stdout.endswith(": 4 passed, 0 failed\n")
