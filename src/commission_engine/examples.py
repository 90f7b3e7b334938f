"""Run the examples written inside a plan file and compare their expected lines.

An example lists records in a compact ``type field value ...`` form and the
lines expected at an as-of time. Computed lines are summed by payee, period
and kind and compared with the expected ones as a whole set: a line that is
missing, extra or different fails the example.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from . import money, schema
from . import tree as t
from .closing import ClosedPeriods, closed_after_as_of
from .compile import CompiledPlan
from .errors import Diagnostic, EvaluationError, PlanError, RecordError
from .records import MAX_YEAR, MIN_YEAR, RecordSet, load_records
from .results import LINE_KINDS, Result
from .syntax import plan_lines

_PERIOD = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")

__all__ = ["ExampleOutcome", "LineDifference", "example_records", "run_example", "run_examples"]

# Fields an example may leave out, with the value they take.
_DEFAULTS: dict[str, dict[str, Any]] = {
    "rep": {"kind": "staff", "team": "", "region": "", "manager": None},
    "customer": {"referred_by": None},
    "refund": {"reason": ""},
}


@dataclass(frozen=True, slots=True)
class LineDifference:
    """A (payee, period, kind) whose expected and computed sums differ; None is absent."""

    payee: str
    period: str
    kind: str
    expected: Decimal | None
    computed: Decimal | None


@dataclass(frozen=True, slots=True)
class ExampleOutcome:
    name: str
    line: int
    differences: tuple[LineDifference, ...]
    error: str | None = None

    @property
    def passed(self) -> bool:
        """Tell whether every expected line matched and no other line was computed."""
        return not self.differences and self.error is None

    def report(self, currency: str) -> str:
        """Describe the outcome: ``ok`` or each differing line, expected against computed."""
        if self.error is not None:
            return f'example "{self.name}" (line {self.line}) failed: {self.error}'
        if self.passed:
            return f'example "{self.name}": ok'
        count = len(self.differences)
        noun = "line differs" if count == 1 else "lines differ"
        rows = [f'example "{self.name}" (line {self.line}) failed: {count} {noun}']
        for diff in self.differences:
            expected = "-" if diff.expected is None else money.format_amount(diff.expected, currency)
            computed = "-" if diff.computed is None else money.format_amount(diff.computed, currency)
            rows.append(f"  {diff.payee} {diff.period} {diff.kind}: expected {expected},"
                        f" computed {computed}")
        return "\n".join(rows)


def _value(record_type: str, name: str, value: t.FieldValue) -> Any:
    if value.kind == "null":
        return None
    if value.kind == "boolean":
        return value.text == "true"
    if value.kind == "number":
        field = schema.FIELDS.get(record_type, {}).get(name)
        if field is not None and field.type in ("count", "number"):
            number = Decimal(value.text)
            return int(number) if number == number.to_integral_value() else number
        return value.text
    return value.text


def example_records(plan: CompiledPlan, example: t.Example) -> list[dict[str, Any]]:
    """Turn an example's compact records into canonical record dictionaries."""
    records: list[dict[str, Any]] = []
    for literal in example.records:
        record: dict[str, Any] = {"type": literal.record_type}
        record.update(_DEFAULTS.get(literal.record_type, {}))
        for name, value in literal.fields:
            record[name] = _value(literal.record_type, name, value)
        if literal.record_type == "rep":
            record.setdefault("name", record.get("id", ""))
        if literal.record_type == "contract":
            record.setdefault("currency", plan.currency)
        records.append(record)
    signed: dict[str, str] = {}
    for record in records:
        if record["type"] == "contract" and isinstance(record.get("signed_at"), str):
            customer = record.get("customer")
            if isinstance(customer, str):
                earlier = signed.get(customer)
                if earlier is None or record["signed_at"] < earlier:
                    signed[customer] = record["signed_at"]
    for record in records:
        if record["type"] == "customer" and "created_at" not in record:
            record["created_at"] = signed.get(record.get("id", ""), example.as_of.isoformat())
    return records


def run_example(plan: CompiledPlan, example: t.Example, filename: str = "<plan>") -> ExampleOutcome:
    """Evaluate one example; raise ``PlanError`` when its records are invalid.

    An example that expects invalid input passes when loading or evaluating
    its records raises an error whose message contains the expected text.
    """
    if example.invalid is not None:
        return _run_invalid(plan, example)
    raw = example_records(plan, example)
    try:
        records = load_records(raw, limits=plan.limits)
    except RecordError as exc:
        raise PlanError(_record_diagnostics(plan, example, exc), filename) from None
    try:
        result = _evaluate(plan, example, raw, records)
    except EvaluationError as exc:
        return ExampleOutcome(example.name, example.pos.line, (), str(exc))
    computed = result.totals()
    expected: dict[tuple[str, str, str], Decimal] = {}
    for line in example.expected:
        key = (line.payee, line.period, line.kind)
        expected[key] = money.total((expected.get(key, Decimal(0)), line.amount))
    differences = tuple(
        LineDifference(*key, expected.get(key), computed.get(key))
        for key in sorted(set(expected) | set(computed))
        if expected.get(key) != computed.get(key)
    )
    return ExampleOutcome(example.name, example.pos.line, differences)


def _evaluate(plan: CompiledPlan, example: t.Example, raw: list[dict[str, Any]],
              records: RecordSet) -> Result:
    """Evaluate an example, first closing its closed periods without the late records."""
    if example.closed_through is None:
        return plan.evaluate(records, example.as_of, example.rounding)
    late = set(example.closed_before)
    early = load_records([record for record in raw if record.get("id") not in late])
    paid = plan.evaluate(early, example.as_of, example.rounding)
    closed = ClosedPeriods(example.closed_through, tuple(
        line for line in paid.lines if line.period <= example.closed_through))
    return plan.evaluate(records, example.as_of, example.rounding, closed)


def _run_invalid(plan: CompiledPlan, example: t.Example) -> ExampleOutcome:
    """Run an example whose records must be rejected with a message containing a text."""
    expected = example.invalid
    assert expected is not None
    raw = example_records(plan, example)
    try:
        records = load_records(raw)
        _evaluate(plan, example, raw, records)
    except (RecordError, EvaluationError) as exc:
        message = str(exc)
        if expected in message:
            return ExampleOutcome(example.name, example.pos.line, ())
        return ExampleOutcome(example.name, example.pos.line, (),
                              f"expected invalid input with {expected!r}, but the error was:"
                              f" {message}")
    return ExampleOutcome(example.name, example.pos.line, (),
                          f"expected invalid input with {expected!r}, but the records were"
                          " valid and evaluated")


def check_examples(plan: CompiledPlan) -> tuple[Diagnostic, ...]:
    """Check every example's records and expected lines without evaluating it."""
    lines = plan.source.split("\n")
    found: list[Diagnostic] = []
    names: dict[str, int] = {}
    digits = money.minor_digits(plan.currency)

    def report(message: str, pos: t.Pos, hint: str | None) -> None:
        source = lines[pos.line - 1] if 0 < pos.line <= len(lines) else None
        found.append(Diagnostic(message, pos.line, pos.column, None, hint, "error", source))

    for example in plan.checked.tree.examples:
        if example.name in names:
            report(f'example name "{example.name}" is used twice (also on line'
                   f" {names[example.name]})", example.pos, "give every example its own name")
        names.setdefault(example.name, example.pos.line)
        if example.as_of.tzinfo is None:
            report(f"the as-of time of example \"{example.name}\" has no UTC offset",
                   example.pos, "add one, such as 2025-12-31T00:00:00+08:00")
            continue
        if not MIN_YEAR <= example.as_of.year <= MAX_YEAR:
            report(f"the as-of time of example \"{example.name}\" is out of range",
                   example.pos, f"use a year from {MIN_YEAR} to {MAX_YEAR}")
            continue
        closed = example.closed_through
        if closed is not None and not _PERIOD.fullmatch(closed):
            report(f"closed period {closed} is not a month", example.pos,
                   "write it as YYYY-MM, such as 2024-03")
        elif closed is not None:
            problem = closed_after_as_of(closed, example.as_of)
            if problem is not None:
                report(problem, example.pos,
                       "close only months up to the as-of month, or use a later as-of time")
        ids = {value.text for literal in example.records
               for name, value in literal.fields if name == "id"}
        for record_id in example.closed_before:
            if record_id not in ids:
                same_case = [known for known in sorted(ids) if known.lower() == record_id.lower()]
                suggestion = same_case or difflib.get_close_matches(record_id, sorted(ids), n=1)
                report(f"example {example.name!r} closes its periods before record"
                       f" {record_id!r}, which is not in its records", example.pos,
                       f"did you mean {suggestion[0]!r}?" if suggestion
                       else f"name one of the example's records: {', '.join(sorted(ids))}")
        if example.invalid is not None:
            # The records are meant to be invalid, which running the example checks.
            continue
        try:
            records = load_records(example_records(plan, example), limits=plan.limits)
        except RecordError as exc:
            found.extend(_record_diagnostics(plan, example, exc))
        else:
            for index, raw in enumerate(example_records(plan, example)):
                contract = records.contracts.get(str(raw.get("id"))) if raw["type"] == "contract" else None
                if (contract is not None and contract.currency != plan.currency
                        and contract.currency not in plan.exchange_rates):
                    report(f"contract {contract.id} is in {contract.currency}, but the plan's"
                           f" currency is {plan.currency}", example.records[index].pos,
                           f"write the amount in {plan.currency}, or leave the currency out")
        for line in example.expected:
            exponent = line.amount.as_tuple().exponent
            if isinstance(exponent, int) and -exponent > digits:
                report(f"expected amount {line.amount} has more decimals than"
                       f" {plan.currency} allows ({digits})", line.pos,
                       f"write it with {digits} decimals")
            if line.kind not in LINE_KINDS:
                report(f"unknown line kind {line.kind!r}", line.pos,
                       f"use one of {', '.join(LINE_KINDS)}")
    return tuple(found)


def run_examples(plan: CompiledPlan, filename: str = "<plan>") -> list[ExampleOutcome]:
    """Run every example of a plan, in file order."""
    return [run_example(plan, example, filename) for example in plan.checked.tree.examples]


def _record_diagnostics(plan: CompiledPlan, example: t.Example,
                        error: RecordError) -> tuple[Diagnostic, ...]:
    lines = plan_lines(plan.source)
    out = []
    for problem in error.problems:
        pos = example.pos
        if problem.position.startswith("record "):
            index = int(problem.position.split()[1]) - 1
            if 0 <= index < len(example.records):
                pos = example.records[index].pos
        source = lines[pos.line - 1] if 0 < pos.line <= len(lines) else None
        message = f"example {example.name!r}: invalid record: {problem.message}"
        if problem.field:
            message += f" (field {problem.field})"
        out.append(Diagnostic(message, pos.line, pos.column, None, problem.fix, "error", source))
    return tuple(out)
