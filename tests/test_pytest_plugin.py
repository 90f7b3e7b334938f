"""The pytest plugin collects the examples and invariants of plan files."""

from __future__ import annotations

import shutil

import pytest
from helpers import REFERENCE_PLAN

from commission_engine.pytest_plugin import _pattern


@pytest.mark.parametrize(
    ("glob", "path", "matches"),
    [
        ("examples/**/*.plan", "examples/counselling/a.plan", True),
        ("examples/**/*.plan", "examples/a.plan", True),
        ("examples/**/*.plan", "examples/a/b/c.plan", True),
        ("examples/*.plan", "examples/a/b.plan", False),
        ("examples/**/*.plan", "other/a.plan", False),
    ],
)
def test_glob_patterns(glob: str, path: str, matches: bool) -> None:
    assert bool(_pattern(glob).match(path)) is matches


def test_bundled_plans_collected(pytester: pytest.Pytester) -> None:
    target = pytester.path / "examples" / "counselling"
    target.mkdir(parents=True)
    shutil.copy(REFERENCE_PLAN, target / "counselling-2025.plan")
    pytester.makeini("[pytest]\ncommission_plans = examples/**/*.plan\n")

    result = pytester.runpytest_subprocess("-q")

    result.assert_outcomes(passed=14)


def test_failure_shows_lines_side_by_side(pytester: pytest.Pytester) -> None:
    text = REFERENCE_PLAN.read_text(encoding="utf-8").replace(
        "        R4 2025-02 clawback -160.00\n", "        R4 2025-02 clawback -150.00\n", 1)
    (pytester.path / "broken.plan").write_text(text, encoding="utf-8")
    pytester.makeini("[pytest]\ncommission_plans = *.plan\n")

    result = pytester.runpytest_subprocess("-q")

    result.assert_outcomes(passed=13, failed=1)
    result.stdout.fnmatch_lines([
        "*example \"E9: retention at exactly 80 percent\" (line * failed:",
        "payee*period*kind*expected*computed",
        "R4*2025-02*clawback*-150.00*-160.00",
    ])
    assert "Traceback" not in result.stdout.str()


def test_not_collected_without_option(pytester: pytest.Pytester) -> None:
    shutil.copy(REFERENCE_PLAN, pytester.path / "counselling-2025.plan")

    result = pytester.runpytest_subprocess("-q")

    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_invariant_item_reports_counterexample(pytester: pytest.Pytester) -> None:
    from test_invariants import BROKEN

    (pytester.path / "broken.plan").write_text(BROKEN, encoding="utf-8")
    pytester.makeini("[pytest]\ncommission_plans = *.plan\n")

    result = pytester.runpytest_subprocess("-q")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([
        '*invariant "no installment reaches 100.00" failed: line R*',
        "counterexample (as of *), as JSON Lines:",
        '{"type": "rep"*',
    ])


def test_plan_not_utf8_is_failed_item(pytester: pytest.Pytester) -> None:
    (pytester.path / "bad.plan").write_bytes(b'plan "t" version "\xff"\n')
    pytester.makeini("[pytest]\ncommission_plans = *.plan\n")

    result = pytester.runpytest_subprocess("-q")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*not UTF-8 text*"])
