"""The grammar file: conflict-free LALR, shipped in the wheel, parsed to our own nodes."""

from __future__ import annotations

import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from helpers import REFERENCE_PLAN, ROOT
from lark import Lark

from commission_engine import tree as t
from commission_engine.syntax import _PlanIndenter, grammar_text, parse_plan

GRAMMAR = ROOT / "grammar" / "commission.lark"


def test_grammar_is_strict_lalr() -> None:
    """No shift/reduce conflicts and no terminal collisions (lark's strict mode)."""
    Lark(GRAMMAR.read_text(encoding="utf-8"), parser="lalr", postlex=_PlanIndenter(),
         strict=True)


def test_loaded_grammar_is_the_file() -> None:
    assert grammar_text() == GRAMMAR.read_text(encoding="utf-8")


def test_wheel_ships_grammar(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation",
         "-q", "-w", str(tmp_path)],
        check=True, capture_output=True, timeout=300,
    )
    wheel = next(tmp_path.glob("commission_engine-*.whl"))

    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        shipped = archive.read("commission_engine/grammar/commission.lark").decode("utf-8")

    assert "commission_engine/py.typed" in names
    assert shipped == GRAMMAR.read_text(encoding="utf-8")


def test_nodes_carry_positions() -> None:
    plan = parse_plan(REFERENCE_PLAN.read_text(encoding="utf-8"))

    base = plan.rules[0]
    assert isinstance(base, t.CommissionRule)
    assert (base.pos.line, base.pos.column) == (8, 1)
    assert (base.name_pos.line, base.name_pos.column) == (8, 12)
    first_row = base.rows[0]
    assert (first_row.rate.pos.line, first_row.rate.pos.column) == (12, 9)
    assert first_row.rate.value == 10
    assert first_row.effective is not None
    assert str(first_row.effective.start) == "2025-03-01"


def test_tree_pickles() -> None:
    plan = parse_plan(REFERENCE_PLAN.read_text(encoding="utf-8"))

    assert pickle.loads(pickle.dumps(plan)) == plan


def test_comments_and_blank_lines() -> None:
    text = (
        "# leading comment\n\nplan \"p\" version \"1\"  # trailing\ncurrency CNY\n"
        "\n# between\ncommission base on contract:\n    paid to contract.rep\n"
        "        # an indented comment\n    rate 8% of contract.amount\n"
    )

    plan = parse_plan(text)

    assert plan.name == "p"
    assert len(plan.rules) == 1


# Parses a plan with one long quoted text and prints how much the peak
# resident size grew, in KiB (ru_maxrss is KiB on Linux, bytes on macOS).
_PEAK_SCRIPT = """
import resource, sys
from commission_engine.syntax import parse_plan
bytes_per_unit = 1 if sys.platform == "darwin" else 1024
text = sys.stdin.read()
parse_plan("plan \\"p\\" version \\"1\\"\\ncurrency CNY\\n")
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
parse_plan(text)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print((after - before) * bytes_per_unit // 1024)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="the resource module is POSIX only")
@pytest.mark.parametrize("body", ["a" * 900_000, "ab\\\\" * 225_000])
def test_long_string_memory_is_small(body: str) -> None:
    text = ("plan \"p\" version \"1\"\ncurrency CNY\n\ncommission base on contract:\n"
            "    paid to contract.rep\n    rate of contract.amount:\n"
            f"        8% when product is \"{body}\"\n")
    completed = subprocess.run([sys.executable, "-c", _PEAK_SCRIPT], input=text,
                               capture_output=True, text=True, check=True, timeout=300)
    growth_mib = int(completed.stdout) / 1024
    # The text is under 1 MB. With one backtracking frame per character the
    # growth was about 450 MiB (measured on Linux with Python 3.11).
    assert growth_mib < 150
