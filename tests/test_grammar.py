"""The grammar file: conflict-free LALR, shipped in the wheel, parsed to our own nodes."""

from __future__ import annotations

import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

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
