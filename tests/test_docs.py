"""Every plan written in the docs checks, and its examples pass."""

from __future__ import annotations

import re

import pytest
from helpers import ROOT

from commission_engine import load_plan
from commission_engine.examples import run_examples

DOCS = sorted((ROOT / "docs").glob("*.md"))
_BLOCK = re.compile(r"```plan\n(.*?)```", re.DOTALL)
BLOCKS = [
    (path.name, index, text)
    for path in DOCS
    for index, text in enumerate(_BLOCK.findall(path.read_text(encoding="utf-8")), start=1)
]


def test_docs_have_plans() -> None:
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize(("name", "index", "text"), BLOCKS,
                         ids=[f"{name}-{index}" for name, index, _ in BLOCKS])
def test_doc_plan_checks(name: str, index: int, text: str) -> None:
    plan = load_plan(text, f"{name} block {index}")

    outcomes = run_examples(plan)

    assert [o.report(plan.currency) for o in outcomes if not o.passed] == []
