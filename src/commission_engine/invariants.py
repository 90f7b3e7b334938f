"""Check the invariants written in a plan file, and search for counterexamples.

An invariant states a condition for every line, statement, period or payee of
a result. ``violations`` checks one result; ``search`` lets Hypothesis draw
consistent record sets (``strategies.record_sets``) until one breaks the
invariant, shrinks it, and returns it as records that ``commission-engine
run`` accepts as they are. Hypothesis is imported only by ``search``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal, localcontext
from typing import Any

from . import money, periods
from . import tree as t
from .compile import CompiledInvariant, CompiledPlan
from .context import Context
from .errors import CommissionError, EvaluationError
from .records import RecordSet, load_records
from .results import PayoutLine, Result

__all__ = ["InvariantOutcome", "Violation", "search", "violations"]


@dataclass(frozen=True, slots=True)
class Violation:
    """A place where an invariant failed, and the values it read there."""

    invariant: str
    where: str
    values: tuple[tuple[str, str], ...]

    def describe(self) -> str:
        """Write the place and values, as in ``statement R1 2025-01: payout 96.00, signed 0.00``."""
        shown = ", ".join(f"{name} {value}" for name, value in self.values)
        return f"{self.where}: {shown}"


@dataclass(frozen=True)
class InvariantOutcome:
    name: str
    line: int
    examples: int
    violation: Violation | None
    counterexample: tuple[dict[str, Any], ...] | None
    as_of: datetime

    @property
    def passed(self) -> bool:
        """Tell whether no drawn record set broke the invariant."""
        return self.violation is None


def _lines(result: Result) -> tuple[PayoutLine, ...]:
    # An invariant is about everything a plan pays: lines due and scheduled.
    return result.lines + result.schedule


def _signed(records: RecordSet, key: str) -> dict[tuple[str, str], Decimal]:
    """Sum contract amounts by (payee, period) of signing, in the contract rep's zone."""
    sums: dict[tuple[str, str], list[Decimal]] = {}
    for contract in records.contracts.values():
        zone = records.reps[contract.rep].timezone
        period = periods.period_of(contract.signed_at, zone)
        group = {"statement": (contract.rep, period), "period": ("", period),
                 "payee": (contract.rep, "")}[key]
        sums.setdefault(group, []).append(contract.amount)
    return {group: money.total(amounts) for group, amounts in sums.items()}


def _rows(scope: str, records: RecordSet, result: Result,
          currency: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield each place an invariant of the scope is tested at, with its values."""
    lines = _lines(result)
    if scope == "line":
        for line in lines:
            yield (f"line {line.payee} {line.period} {line.kind} (rule {line.rule})",
                   {"amount": line.amount, "kind": line.kind, "payee": line.payee,
                    "period": line.period, "rule": line.rule})
        return
    grouped: dict[tuple[str, str], list[Decimal]] = {}
    for line in lines:
        group = {"statement": (line.payee, line.period), "period": ("", line.period),
                 "payee": (line.payee, "")}[scope]
        grouped.setdefault(group, []).append(line.amount)
    signed = _signed(records, scope)
    zero = Decimal(0)
    for payee, period in sorted(set(grouped) | set(signed)):
        paid = money.total(grouped.get((payee, period), []))
        signed_total = signed.get((payee, period), zero)
        if scope == "statement":
            yield (f"statement {payee} {period}",
                   {"payout": paid, "signed": signed_total, "payee": payee, "period": period})
        elif scope == "period":
            yield (f"period {period}", {"payout": paid, "signed": signed_total, "period": period})
        else:
            yield (f"payee {payee}", {"payout": paid, "signed": signed_total, "payee": payee})


def _show(value: Any, currency: str) -> str:
    if isinstance(value, Decimal):
        return money.format_amount(value, currency)
    return str(value)


def violations(plan: CompiledPlan, invariant: CompiledInvariant, records: RecordSet,
               result: Result) -> list[Violation]:
    """Return every place where ``invariant`` is not true in ``result``."""
    found = []
    ctx = Context(records, None, "UTC", result.as_of)
    for where, values in _rows(invariant.scope, records, result, plan.currency):
        ctx.metrics = values
        with localcontext(money.EVALUATION_CONTEXT):
            try:
                holds = invariant.condition(ctx)
            except ArithmeticError:
                # A division by zero or an amount too large to compute: the
                # invariant cannot hold there, and the counterexample shows why.
                holds = None
        if holds is not True:
            shown = tuple((name, _show(value, plan.currency)) for name, value in values.items()
                          if name not in ("payee", "period"))
            found.append(Violation(invariant.name, where, shown))
    return found


def _plan_dates(plan: CompiledPlan) -> tuple[date, date]:
    """Return the years a search draws records from: around the plan's own dates."""
    dates: list[date] = []
    for rule in plan.checked.tree.rules:
        for effective in (rule.effective, *(row.effective for row in getattr(rule, "rows", ()))):
            if effective is not None:
                dates += [d for d in (effective.start, effective.end) if d is not None]
    if not dates:
        return date(2024, 1, 1), date(2025, 12, 31)
    return date(min(dates).year - 1, 1, 1), date(max(dates).year + 1, 12, 31)


def _plan_texts(plan: CompiledPlan) -> list[str]:
    """Return the text literals of a plan, so drawn products can match its rows."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, t.Text):
            found.add(node.value)
        for name in getattr(node, "__slots__", ()):
            child = getattr(node, name)
            if isinstance(child, tuple):
                for item in child:
                    walk(item)
            elif hasattr(child, "__slots__") and not isinstance(child, t.Pos):
                walk(child)

    for rule in plan.checked.tree.rules:
        walk(rule)
    return sorted(found)


def search(plan: CompiledPlan, invariant: CompiledInvariant, max_examples: int = 100,
           ) -> InvariantOutcome:
    """Draw record sets until one breaks the invariant; shrink and return it.

    The search is derandomized, so the same plan gives the same outcome on
    every run and machine. Every line is evaluated as of three years after the
    last drawn date, so schedules are complete.
    """
    try:
        from hypothesis import HealthCheck, find, settings
        from hypothesis.errors import NoSuchExample
    except ImportError:
        msg = ("checking invariants needs Hypothesis, which is not installed;"
               " install it with: pip install 'commission-engine[test]'")
        raise EvaluationError(msg) from None

    from .strategies import DEFAULT_PRODUCTS, record_sets

    start, end = _plan_dates(plan)
    as_of = datetime(end.year + 3, 1, 1, tzinfo=timezone.utc)
    products = sorted(set(DEFAULT_PRODUCTS) | set(_plan_texts(plan)))
    strategy = record_sets(products=products, start=start, end=end, currency=plan.currency)
    tried = 0
    last: Violation | None = None

    def broken(rows: list[dict[str, Any]]) -> bool:
        nonlocal tried, last
        tried += 1
        try:
            records = load_records(rows)
            result = plan.evaluate(records, as_of)
        except CommissionError as exc:
            last = Violation(invariant.name, "the evaluation failed",
                             (("error", str(exc).splitlines()[0]),))
            return True
        failures = violations(plan, invariant, records, result)
        last = failures[0] if failures else None
        return bool(failures)

    options = settings(max_examples=max(max_examples, 1), database=None, derandomize=True,
                       deadline=None, suppress_health_check=list(HealthCheck))
    try:
        example = find(strategy, broken, settings=options)
    except NoSuchExample:
        return InvariantOutcome(invariant.name, invariant.line, tried, None, None, as_of)
    # Evaluate the shrunk example once more to report its own violation.
    broken(example)
    return InvariantOutcome(invariant.name, invariant.line, tried, last, tuple(example), as_of)

