"""A pytest plugin that collects the examples and invariants of plan files.

Enable it in a project's pytest configuration::

    [tool.pytest.ini_options]
    commission_plans = ["examples/**/*.plan"]

Each example and each invariant of a matching plan becomes its own test item.
pytest imports this module early (before assertion rewriting and coverage),
so it imports the engine only inside its hooks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

_OPTION = "commission_plans"


def pytest_addoption(parser: pytest.Parser) -> None:
    """Declare the ini option that lists plan file patterns."""
    parser.addini(_OPTION, type="args", default=[],
                  help="glob patterns, relative to the root folder, of plan files to test")


def _pattern(glob: str) -> re.Pattern[str]:
    """Translate a glob with ``**`` (any folders) into a regular expression."""
    out = []
    index = 0
    while index < len(glob):
        if glob.startswith("**/", index):
            out.append("(?:.*/)?")
            index += 3
        elif glob.startswith("**", index):
            out.append(".*")
            index += 2
        elif glob[index] == "*":
            out.append("[^/]*")
            index += 1
        elif glob[index] == "?":
            out.append("[^/]")
            index += 1
        else:
            out.append(re.escape(glob[index]))
            index += 1
    return re.compile("".join(out) + r"\Z")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """Collect a plan file when its path matches one of the configured patterns."""
    if file_path.suffix != ".plan":
        return None
    patterns = parent.config.getini(_OPTION)
    if not patterns:
        return None
    try:
        relative = file_path.relative_to(parent.config.rootpath).as_posix()
    except ValueError:
        return None
    if any(_pattern(glob).match(relative) for glob in patterns):
        return PlanFile.from_parent(parent, path=file_path)
    return None


class PlanFailure(Exception):
    """An example or invariant of a plan that did not hold; its text is the report."""


class PlanFile(pytest.File):
    """A plan file: one item for each example and each invariant."""

    def collect(self) -> Iterator[pytest.Item]:
        from commission_engine import PlanError, load_plan

        try:
            text = self.path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            yield PlanErrorItem.from_parent(
                self, name="check",
                error=f"{self.path}: not UTF-8 text ({exc.reason} at byte {exc.start});"
                      " save the file as UTF-8")
            return
        try:
            plan = load_plan(text, str(self.path))
        except PlanError as exc:
            yield PlanErrorItem.from_parent(self, name="check", error=str(exc))
            return
        for example in plan.checked.tree.examples:
            yield ExampleItem.from_parent(self, name=example.name, plan=plan, example=example)
        for invariant in plan.invariants:
            yield InvariantItem.from_parent(self, name=f"invariant {invariant.name}", plan=plan,
                                            invariant=invariant)


class _PlanItem(pytest.Item):
    line = 0

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str | Any:
        """Show the plan's own report instead of a traceback."""
        if isinstance(excinfo.value, PlanFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int, str]:
        """Point at the plan file and the line of the example or invariant."""
        return self.path, max(self.line - 1, 0), self.name


class PlanErrorItem(_PlanItem):
    def __init__(self, *, error: str, **kwargs: Any):
        super().__init__(**kwargs)
        self.error = error

    def runtest(self) -> None:
        """Fail with the plan's diagnostics."""
        raise PlanFailure(self.error)


class ExampleItem(_PlanItem):
    def __init__(self, *, plan: Any, example: Any, **kwargs: Any):
        super().__init__(**kwargs)
        self.plan = plan
        self.example = example
        self.line = example.pos.line

    def runtest(self) -> None:
        """Evaluate the example and compare every expected line."""
        from commission_engine.examples import run_example

        outcome = run_example(self.plan, self.example, str(self.path))
        if outcome.error is not None:
            raise PlanFailure(outcome.report(self.plan.currency))
        if not outcome.passed:
            raise PlanFailure(_side_by_side(outcome, self.plan.currency))


class InvariantItem(_PlanItem):
    def __init__(self, *, plan: Any, invariant: Any, **kwargs: Any):
        super().__init__(**kwargs)
        self.plan = plan
        self.invariant = invariant
        self.line = invariant.line

    def runtest(self) -> None:
        """Search generated record sets for a break of the invariant."""
        import json

        from commission_engine.invariants import search

        outcome = search(self.plan, self.invariant)
        if outcome.passed:
            return
        assert outcome.violation is not None and outcome.counterexample is not None
        rows = [json.dumps(record, ensure_ascii=False) for record in outcome.counterexample]
        raise PlanFailure(
            f'invariant "{outcome.name}" failed: {outcome.violation.describe()}\n'
            f"counterexample (as of {outcome.as_of.isoformat()}), as JSON Lines:\n"
            + "\n".join(rows))


def _side_by_side(outcome: Any, currency: str) -> str:
    from commission_engine.money import format_amount

    rows = [("payee", "period", "kind", "expected", "computed")]
    for diff in outcome.differences:
        expected = "-" if diff.expected is None else format_amount(diff.expected, currency)
        computed = "-" if diff.computed is None else format_amount(diff.computed, currency)
        rows.append((diff.payee, diff.period, diff.kind, expected, computed))
    widths = [max(len(row[index]) for row in rows) for index in range(5)]
    table = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
             for row in rows]
    return f'example "{outcome.name}" (line {outcome.line}) failed:\n' + "\n".join(table)
