"""Every example on docs/errors.md produces the diagnostic or error the page names.

A ``plan-error`` block starts with ``# expect: MESSAGE`` (an error that stops
the plan from loading) or ``# expect warning: MESSAGE`` (a warning of a plan
that loads), and the rest of the block is the plan. The whole block is
loaded, so the line numbers in messages count that comment as line 1. The
``plan`` blocks of the evaluation section load, and raise ``EvaluationError``
over the page's ``jsonl`` records.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from decimal import Decimal

import pytest
from helpers import ROOT

from commission_engine import EvaluationError, PlanError, load_plan, load_records
from commission_engine.syntax_errors import CATALOGUE

PAGE = ROOT / "docs" / "errors.md"
TEXT = PAGE.read_text(encoding="utf-8")

_ERROR_BLOCK = re.compile(r"^```plan-error\n(.*?)^```$", re.DOTALL | re.MULTILINE)
_EXPECT = re.compile(r"# expect(?P<warning> warning)?: (?P<message>.+)")
_PLAN_BLOCK = re.compile(r"^```plan\n(.*?)^```$", re.DOTALL | re.MULTILINE)
_JSONL_BLOCK = re.compile(r"^```jsonl\n(.*?)^```$", re.DOTALL | re.MULTILINE)

# The as-of time of the evaluation examples, as stated on the page.
EVALUATION_AS_OF = datetime.fromisoformat("2025-12-31T00:00:00+08:00")

# Diagnostics about the header or the currency line cannot come from a plan
# that starts with a correct header and 'currency CNY'.
HEADER_DIAGNOSTICS = {
    "the plan has no header line",
    "the plan has no currency",
    "unknown currency 'RMB'",
}


def _parse_blocks() -> list[tuple[str, str, str]]:
    """Return (severity, message, block text) for each plan-error block, in page order."""
    blocks = []
    for body in _ERROR_BLOCK.findall(TEXT):
        first = body.partition("\n")[0]
        match = _EXPECT.fullmatch(first)
        if match is None:
            blocks.append(("malformed", first, body))
            continue
        severity = "warning" if match.group("warning") else "error"
        blocks.append((severity, match.group("message"), body))
    return blocks


def _ids(blocks: list[tuple[str, str, str]]) -> list[str]:
    """Name each block by its message, numbering repeats so every id is unique."""
    seen: dict[str, int] = {}
    ids = []
    for _, message, _ in blocks:
        seen[message] = seen.get(message, 0) + 1
        ids.append(message if seen[message] == 1 else f"{message} ({seen[message]})")
    return ids


BLOCKS = _parse_blocks()
ERRORS = [block for block in BLOCKS if block[0] == "error"]
WARNINGS = [block for block in BLOCKS if block[0] == "warning"]


def _template_pattern(template: str) -> re.Pattern[str]:
    """Turn a catalogue message such as 'unknown word {found}' into a regular expression."""
    parts = re.split(r"\{[a-z_]+\}", template)
    return re.compile(".+?".join(re.escape(part) for part in parts))


def test_page_has_forty_examples() -> None:
    assert len(BLOCKS) >= 40


def test_page_blocks_have_expect_line() -> None:
    malformed = [message for severity, message, _ in BLOCKS if severity == "malformed"]

    assert malformed == []


def test_page_fences_are_bare() -> None:
    fences = [line for line in TEXT.splitlines() if line.startswith("```plan-error")]

    assert fences
    assert [line for line in fences if line != "```plan-error"] == []


@pytest.mark.parametrize(("severity", "message", "plan"), BLOCKS, ids=_ids(BLOCKS))
def test_example_is_whole_plan(severity: str, message: str, plan: str) -> None:
    if message in HEADER_DIAGNOSTICS:
        pytest.skip("the example is about the header or the currency line")
    lines = plan.splitlines()

    assert re.fullmatch(r'plan "[^"]*" version "[^"]*"', lines[1])
    assert lines[2] == "currency CNY"


@pytest.mark.parametrize(("severity", "message", "plan"), ERRORS, ids=_ids(ERRORS))
def test_error_example_fails(severity: str, message: str, plan: str) -> None:
    with pytest.raises(PlanError) as caught:
        load_plan(plan, "errors.md")
    errors = [d.message for d in caught.value.diagnostics if d.severity == "error"]

    assert message in errors


@pytest.mark.parametrize(("severity", "message", "plan"), WARNINGS, ids=_ids(WARNINGS))
def test_warning_example_loads(severity: str, message: str, plan: str) -> None:
    loaded = load_plan(plan, "errors.md")
    warnings = [w.message for w in loaded.checked.warnings]

    assert all(w.severity == "warning" for w in loaded.checked.warnings)
    assert message in warnings


@pytest.mark.parametrize("label", sorted(CATALOGUE))
def test_catalogue_message_documented(label: str) -> None:
    pattern = _template_pattern(CATALOGUE[label].message)
    demonstrated = [message for _, message, _ in ERRORS if pattern.fullmatch(message)]

    assert pattern.search(TEXT), CATALOGUE[label].message
    assert demonstrated, f"no example on the page produces {CATALOGUE[label].message!r}"


def _page_records() -> list[dict[str, object]]:
    (block,) = _JSONL_BLOCK.findall(TEXT)
    return [json.loads(line, parse_float=Decimal) for line in block.splitlines() if line.strip()]


EVALUATION_PLANS = _PLAN_BLOCK.findall(TEXT)


def test_page_has_evaluation_examples() -> None:
    assert len(EVALUATION_PLANS) >= 3


@pytest.mark.parametrize("plan", EVALUATION_PLANS,
                         ids=[f"evaluation-{index}" for index in range(1, len(EVALUATION_PLANS) + 1)])
def test_evaluation_example_fails(plan: str) -> None:
    loaded = load_plan(plan, "errors.md")
    records = load_records(_page_records())

    with pytest.raises(EvaluationError) as caught:
        loaded.evaluate(records, EVALUATION_AS_OF)

    assert str(caught.value) in TEXT
