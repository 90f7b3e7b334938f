"""Plan names that start with two underscores are rejected by the checker."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import run_cli

import commission_engine as ce

HEADER = 'plan "reserved" version "1"\ncurrency CNY\n\n'

COMMISSION = """commission {name} on contract:
    paid to contract.rep
    rate 8% of contract.amount
"""
BONUS = """bonus {name} on contract:
    paid to contract.rep
    amount 100
"""
PENALTY = """penalty {name} on contract:
    paid to contract.rep
    when contract.amount > 1
    amount 10
"""
QUOTA = """quota {name} on contract:
    measure count of contracts
    target 3
"""
ALERT = """quota deals on contract:
    measure count of contracts
    target 3

alert {name}:
    when deals is below 50% of target
"""


@pytest.mark.parametrize(("template", "kind", "column"), [
    (COMMISSION, "commission", 12), (BONUS, "bonus", 7), (PENALTY, "penalty", 9),
    (QUOTA, "quota", 7), (ALERT, "alert", 7),
])
@pytest.mark.parametrize("name", ["__class__", "__init__", "__x"])
def test_double_underscore_name_rejected(template: str, kind: str, column: int,
                                         name: str) -> None:
    with pytest.raises(ce.PlanError) as caught:
        ce.load_plan(HEADER + template.format(name=name))
    diagnostic = caught.value.diagnostics[0]
    assert diagnostic.message == (f"{kind} name {name!r} starts with two underscores,"
                                  " which are reserved")
    assert diagnostic.column == column
    assert "rename it without the leading underscores" in str(caught.value)


def test_single_underscore_name_loads() -> None:
    ce.load_plan(HEADER + COMMISSION.format(name="_base"))


def test_check_command_rejects_reserved_name(tmp_path: Path) -> None:
    plan = tmp_path / "reserved.plan"
    plan.write_text(HEADER + COMMISSION.format(name="__class__"), encoding="utf-8")
    completed = run_cli("check", str(plan))
    assert completed.returncode == 1
    assert "commission name '__class__' starts with two underscores" in completed.stderr
    assert "Traceback" not in completed.stderr
