"""Every plan file in the repository checks, and its examples pass."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import REFERENCE_PLAN, ROOT, run_cli

from commission_engine import load_plan
from commission_engine.examples import run_examples

PLAN_FILES = sorted([*ROOT.glob("examples/**/*.plan"), *ROOT.glob("tests/plans/**/*.plan")])


def test_plan_files_found() -> None:
    assert REFERENCE_PLAN in PLAN_FILES


@pytest.mark.parametrize("path", PLAN_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_plan_examples_pass(path: Path) -> None:
    plan = load_plan(path.read_text(encoding="utf-8"), str(path))

    outcomes = run_examples(plan, str(path))

    failures = [outcome.report(plan.currency) for outcome in outcomes if not outcome.passed]
    assert failures == []


def test_reference_plan_has_all_cases() -> None:
    plan = load_plan(REFERENCE_PLAN.read_text(encoding="utf-8"))

    names = [example.name.split(":")[0] for example in plan.checked.tree.examples]

    assert names == ["E1", "E2", "E3", "E4", "E5", "E6", "E7", "E8", "E9", "E9b", "E10",
                     "E10 half-even", "E11", "E12"]


def test_cli_test_passes() -> None:
    completed = run_cli("test", str(REFERENCE_PLAN))

    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stdout.endswith(": 14 passed, 0 failed\n")


def test_cli_test_reports_difference(tmp_path: Path) -> None:
    text = REFERENCE_PLAN.read_text(encoding="utf-8")
    broken = text.replace("        R4 2025-02 clawback -160.00\n", "        R4 2025-02 clawback -150.00\n", 1)
    assert broken != text
    plan = tmp_path / "broken.plan"
    plan.write_text(broken, encoding="utf-8")

    completed = run_cli("test", str(plan))

    assert completed.returncode == 1
    assert 'example "E9: retention at exactly 80 percent"' in completed.stdout
    assert "R4 2025-02 clawback: expected -150.00, computed -160.00" in completed.stdout
    assert completed.stdout.endswith(": 13 passed, 1 failed\n")


def test_cli_check_ok() -> None:
    completed = run_cli("check", str(REFERENCE_PLAN))

    assert completed.returncode == 0
    assert completed.stdout == f"{REFERENCE_PLAN}: ok\n"


def test_plan_with_byte_order_mark(tmp_path):
    """A plan saved with a UTF-8 byte order mark loads, and hashes as the plain text does."""
    from commission_engine import load_plan
    from helpers import REFERENCE_PLAN, run_cli

    text = REFERENCE_PLAN.read_text(encoding="utf-8")
    plan_path = tmp_path / "bom.plan"
    plan_path.write_text("\ufeff" + text, encoding="utf-8")

    completed = run_cli("check", str(plan_path))

    assert completed.returncode == 0, completed.stderr
    assert load_plan("\ufeff" + text).source == load_plan(text).source
