"""The incremental engine books late refunds under tiers and period limits as evaluate does."""

from __future__ import annotations

import pytest
from helpers import ROOT

from commission_engine import load_plan, load_records
from commission_engine.engine import Engine
from commission_engine.examples import example_records

PLANS = ROOT / "tests" / "plans"
FILES = ["refund-reprices-credited-period.plan", "period-limits-late-refund.plan"]


def _summary(lines) -> list[tuple[str, str, str, str, str]]:
    return sorted((line.payee, line.period, line.kind, line.rule, str(line.amount))
                  for line in lines)


@pytest.mark.parametrize("name", FILES)
def test_engine_matches_evaluate_record_by_record(name: str) -> None:
    plan = load_plan((PLANS / name).read_text(encoding="utf-8"))
    for example in plan.checked.tree.examples:
        rows = example_records(plan, example)
        expected = plan.evaluate(load_records(rows), example.as_of)
        engine = Engine(plan, example.as_of, [])
        for row in rows:
            engine.add(row)

        assert _summary(engine.result().lines) == _summary(expected.lines), example.name
