"""The fast paths of plan parsing and record validation give the slow paths' results."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from commission_engine import PlanError, check, load_plan, syntax
from commission_engine.limits import DEFAULT_LIMITS
from commission_engine.records import FieldError, _parse_timestamp

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.plan_generator import generate_plan  # noqa: E402
PLAN_FILES = sorted(ROOT.glob("examples/**/*.plan")) + sorted(ROOT.glob("tests/plans/*.plan"))

# Parentheses and signs widen the spans that Lark's position propagation
# gives. The bad date and the unknown escape are reported in text order.
TRICKY_PLAN = '''plan "tricky" version "1"
commission a on contract:
    paid to contract.rep
    effective from 2025-02-30
    rate of (contract.amount + 1) * -(2):
        5% when ((product is "a\\q")) and not (product in ["b", "c"])
        1% otherwise
'''


def _two_pass(text: str) -> syntax.ParseOutcome:
    """Build the tree in two passes: a Lark tree with positions, then the Transformer."""
    lines = text.split("\n")
    source = text if text.endswith("\n") else text + "\n"
    builder = syntax._TreeBuilder(lines, limits=DEFAULT_LIMITS)
    plan = syntax._build(builder, syntax._parser().parse(source, start="start"))
    return syntax.ParseOutcome(plan, tuple(builder.diagnostics), frozenset())


def _one_pass(text: str) -> syntax.ParseOutcome | None:
    source = text if text.endswith("\n") else text + "\n"
    return syntax._parse_one_pass(source, text.split("\n"), DEFAULT_LIMITS)


@pytest.mark.parametrize("path", PLAN_FILES, ids=lambda path: path.name)
def test_one_pass_matches_plan_file(path: Path) -> None:
    text = path.read_text(encoding="utf-8").removeprefix("\ufeff")
    assert _one_pass(text) == _two_pass(text)


@pytest.mark.parametrize("path", PLAN_FILES, ids=lambda path: path.name)
def test_one_pass_facts_hold(path: Path) -> None:
    # The checker skips its own walks on these facts, so they must never be wrong.
    text = path.read_text(encoding="utf-8").removeprefix("\ufeff")
    outcome = _one_pass(text)
    if outcome is None:
        return
    assert outcome.nesting_bound is not None
    assert check._deepest(outcome.tree, outcome.nesting_bound) is None
    if check._commission_refs((outcome.tree,)):
        assert outcome.has_commission_refs


def test_one_pass_sees_commission_refs() -> None:
    text = ('plan "refs" version "1"\ncurrency CNY\ncommission a on contract:\n'
            "    paid to contract.rep\n    rate 5% of contract.amount\n"
            "bonus b on contract:\n    paid to contract.rep\n"
            "    when contract.amount > 0\n    amount 10% of commission a\n")
    outcome = _one_pass(text)
    assert outcome is not None
    assert outcome.has_commission_refs
    assert not _one_pass(generate_plan(3)).has_commission_refs


def test_one_pass_matches_generated_plan() -> None:
    text = generate_plan(40)
    assert _one_pass(text) == _two_pass(text)


def test_one_pass_keeps_spans_and_order() -> None:
    outcome = _one_pass(TRICKY_PLAN)
    assert outcome is not None
    assert outcome == _two_pass(TRICKY_PLAN)
    assert [d.message.split(" ")[0] for d in outcome.diagnostics] == ["2025-02-30", "unknown"]


def test_deep_plan_takes_two_pass_path() -> None:
    text = ('plan "deep" version "1"\ncommission a on contract:\n    paid to contract.rep\n'
            "    rate 5% of " + "-" * 150 + "contract.amount\n")
    assert _one_pass(text) is None


def test_syntax_error_takes_two_pass_path() -> None:
    assert _one_pass('plan "x" version "1"\ncommission a on:\n') is None


@pytest.mark.parametrize("offset", ["+08:00", "-05:30"])
def test_known_offset_keeps_messages(offset: str) -> None:
    first = _parse_timestamp(f"2025-03-01T10:00:00{offset}")
    again = _parse_timestamp(f"2025-03-02T10:00:00{offset}")
    assert again.tzinfo is first.tzinfo
    with pytest.raises(FieldError, match="is not a valid date and time"):
        _parse_timestamp(f"2025-02-30T10:00:00{offset}")
    with pytest.raises(FieldError, match="is out of range"):
        _parse_timestamp(f"1800-01-01T10:00:00{offset}")


REPEATED_NAMES = '''plan "names" version "1"
currency CNY
commission on_contract on contract:
    paid to contract.rep
    rate 5% of contract.amount
commission on_payment on payment:
    paid to contract.rep
    rate 5% of contract.amount
bonus first on contract:
    paid to contract.rep
    when contract.amout > 0
    amount 1.00
bonus second on contract:
    paid to contract.rep
    when contract.amout > 0
    amount 1.00
'''


def test_checker_resolves_repeated_names() -> None:
    # The checker reuses a name's resolution within a subject, never across.
    text = REPEATED_NAMES.replace("amout", "amount")
    tree = syntax.parse_plan(text)
    checked = check.check_plan(tree, text)
    on_contract, on_payment = (rule.base for rule in tree.rules[:2])
    assert checked.resolutions[id(on_contract)].steps == ("amount",)
    assert checked.resolutions[id(on_payment)].steps == ("contract", "amount")


def test_checker_reports_each_repeated_error() -> None:
    with pytest.raises(PlanError) as caught:
        load_plan(REPEATED_NAMES)
    lines = [d.line for d in caught.value.diagnostics if "no field 'amout'" in d.message]
    assert lines == [11, 15]
