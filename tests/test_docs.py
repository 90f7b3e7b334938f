"""Every plan written in the docs checks, and its examples pass."""

from __future__ import annotations

import re

import pytest
from helpers import ROOT

from commission_engine import load_plan
from commission_engine.examples import run_examples

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
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


_PYTHON = re.compile(r"```python\n(.*?)```", re.DOTALL)
PYTHON_BLOCKS = [
    (path.name, index, text)
    for path in DOCS
    for index, text in enumerate(_PYTHON.findall(path.read_text(encoding="utf-8")), start=1)
]


@pytest.mark.parametrize(("name", "index", "text"), PYTHON_BLOCKS,
                         ids=[f"{name}-python-{index}" for name, index, _ in PYTHON_BLOCKS])
def test_doc_python_runs(name: str, index: int, text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run a Python block from the root folder, then call every test function it defines."""
    monkeypatch.chdir(ROOT)
    namespace: dict[str, object] = {"__name__": f"docs_{index}"}

    exec(compile(text, f"{name} block {index}", "exec"), namespace)  # noqa: S102 - our own docs

    tests = [value for key, value in namespace.items() if key.startswith("test_")]
    for test in tests:
        assert callable(test)
        test()
