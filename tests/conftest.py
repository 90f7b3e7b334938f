"""Shared fixtures for the tests."""

from __future__ import annotations

import sys
from typing import Any

import pytest
from helpers import REFERENCE_PLAN


@pytest.fixture(scope="session")
def reference_plan():  # type: ignore[no-untyped-def]
    """The compiled reference plan of the counselling example."""
    from commission_engine import load_plan

    return load_plan(REFERENCE_PLAN.read_text(encoding="utf-8"), str(REFERENCE_PLAN))


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("fuzz", "fuzzing of plan texts and records")
    group.addoption("--fuzz-long", action="store_true", default=False,
                    help="run the fuzzing properties with the long budget")
    group.addoption("--fuzz-examples", type=int, default=100_000, metavar="N",
                    help="inputs each fuzzing property draws in a long run (default: 100000)")
    group.addoption("--fuzz-seed", type=int, default=0, metavar="N",
                    help="seed of a long run, so runs in parallel draw different inputs")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    fuzzing = sys.modules.get("fuzzing")
    if fuzzing is None:
        return
    COUNTS = fuzzing.COUNTS  # noqa: N806 - the module's constant
    if COUNTS:
        counts = ", ".join(f"{name} {number:,}" for name, number in sorted(COUNTS.items()))
        terminalreporter.write_line(f"fuzzing inputs: {counts}")
