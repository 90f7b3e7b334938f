"""commission_engine: sales commissions from plans written in a small rule language.

The flow is one direction: plan text is parsed (``syntax``), checked
(``check``) and compiled (``compile``) into a ``Plan``; records are validated
into a ``RecordSet`` (``records``); ``Plan.evaluate(records, as_of)`` returns
a ``Result`` of payout lines, statements, the schedule and a digest.
"""

from __future__ import annotations

from .compile import CompiledPlan as Plan
from .errors import (
    CommissionError,
    Diagnostic,
    EvaluationError,
    PlanError,
    Problem,
    RecordError,
)
from .evaluate import evaluate
from .records import RecordSet, load_records
from .results import PayoutLine, Result, Statement

__all__ = [
    "CommissionError",
    "Diagnostic",
    "EvaluationError",
    "PayoutLine",
    "Plan",
    "PlanError",
    "Problem",
    "RecordError",
    "RecordSet",
    "Result",
    "Statement",
    "__version__",
    "evaluate",
    "load_plan",
    "load_records",
]

__version__ = "0.1.0"


def load_plan(text: str, filename: str = "<plan>") -> Plan:
    """Parse, check and compile plan text; raise ``PlanError`` listing every problem."""
    from .check import check_plan
    from .compile import compile_plan
    from .syntax import parse_partial

    outcome = parse_partial(text)
    if outcome.tree is None:
        raise PlanError(outcome.diagnostics, filename)
    checked = check_plan(outcome.tree, text, filename, outcome.diagnostics,
                         outcome.unparsed_rules, outcome.incomplete_rules)
    return compile_plan(checked)
