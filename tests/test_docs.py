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
# A page's Python blocks are one walk-through: a later block may use the
# names an earlier one defined, as a reader who runs them in order would.
PYTHON_PAGES = [
    (path.name, blocks)
    for path in DOCS
    if (blocks := _PYTHON.findall(path.read_text(encoding="utf-8")))
]


@pytest.mark.parametrize(("name", "blocks"), PYTHON_PAGES,
                         ids=[f"{name}-python" for name, _ in PYTHON_PAGES])
def test_doc_python_runs(name: str, blocks: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Run a page's Python blocks in order from the root folder, then its test functions."""
    monkeypatch.chdir(ROOT)
    namespace: dict[str, object] = {"__name__": f"docs_{name}"}

    for index, text in enumerate(blocks, start=1):
        exec(compile(text, f"{name} block {index}", "exec"), namespace)  # noqa: S102 - our docs

    tests = [value for key, value in namespace.items() if key.startswith("test_")]
    for test in tests:
        assert callable(test)
        test()
