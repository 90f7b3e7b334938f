"""commission_engine: sales commissions from plans written in a small rule language.

The flow is one direction: plan text is parsed (``syntax``), checked
(``check``) and compiled (``compile``) into a ``Plan``; records are validated
into a ``RecordSet`` (``records``); ``Plan.evaluate(records, as_of)`` returns
a ``Result`` of payout lines, statements, the schedule and a digest.
"""

from __future__ import annotations

from .closing import ClosedPeriods
from .compile import CompiledPlan as Plan
from .errors import (
    CommissionError,
    Diagnostic,
    EvaluationError,
    PlanError,
    Problem,
    RecordError,
)
from .evaluate import attainments, evaluate
from .jsonl import load_jsonl
from .limits import DEFAULT_LIMITS, Limits
from .quotas import Attainment
from .records import RecordSet, load_records
from .results import PayoutLine, Result, Statement

__all__ = [
    "Attainment",
    "DEFAULT_LIMITS",
    "ClosedPeriods",
    "CommissionError",
    "Diagnostic",
    "EvaluationError",
    "Limits",
    "PayoutLine",
    "Plan",
    "PlanError",
    "Problem",
    "RecordError",
    "RecordSet",
    "Result",
    "Statement",
    "__version__",
    "attainments",
    "evaluate",
    "load_jsonl",
    "load_plan",
    "load_records",
]

__version__ = "0.1.0"


def load_plan(text: str, filename: str = "<plan>", limits: Limits = DEFAULT_LIMITS) -> Plan:
    """Parse, check and compile plan text; raise ``PlanError`` listing every problem.

    The records and expected lines of the plan's examples are checked too, so a
    plan that loads has examples that can run. ``limits`` bounds the text and
    is kept by the plan, whose evaluation applies it too. An error lists at
    most ``limits.max_reported_errors`` diagnostics and counts the rest.
    """
    from decimal import localcontext

    from . import collector
    from .money import EVALUATION_CONTEXT

    # Editors on Windows start UTF-8 files with a byte order mark and end
    # lines with CR LF. Neither is part of the plan: dropping the mark and
    # writing every line end as LF here gives the checker, the examples and
    # the digest the text the command line reads.
    if isinstance(text, str):
        from .syntax import normal_line_ends

        text = normal_line_ends(text.removeprefix("\ufeff"))
    # Loading builds the tree, the checker's tables and the compiled plan:
    # bulk work, with the cyclic collector paused (see collector.py).
    try:
        # Rates are divided by 100 when the plan compiles: in the caller's
        # context, a precision of 2 made 12.345% into 12%.
        with collector.paused(), localcontext(EVALUATION_CONTEXT):
            return _load_plan(text, filename, limits)
    except PlanError as exc:
        if len(exc.diagnostics) <= limits.max_reported_errors:
            raise
        shown = exc.diagnostics[: limits.max_reported_errors]
        # Warnings past the limit are dropped; errors past it are counted.
        rest = exc.diagnostics[limits.max_reported_errors :]
        omitted = sum(1 for d in rest if d.severity == "error")
        raise PlanError(shown, exc.filename, omitted) from None


def _load_plan(text: str, filename: str, limits: Limits) -> Plan:
    from .check import check_plan
    from .compile import compile_plan
    from .examples import check_examples
    from .syntax import parse_partial

    if not isinstance(text, str):
        msg = f"plan text must be str, not {type(text).__name__}; decode the file first"
        raise TypeError(msg)
    outcome = parse_partial(text, limits)
    if outcome.tree is None:
        raise PlanError(outcome.diagnostics, filename)
    checked = check_plan(outcome.tree, text, filename, outcome.diagnostics,
                         outcome.unparsed_rules, outcome.incomplete_rules, limits,
                         nesting_bound=outcome.nesting_bound,
                         has_commission_refs=outcome.has_commission_refs)
    plan = compile_plan(checked)
    problems = check_examples(plan)
    if problems:
        raise PlanError(problems, filename)
    return plan
