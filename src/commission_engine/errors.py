"""The library's errors: one root class, each leaf also a ``ValueError``.

Problems in user input are collected as values (``Diagnostic`` for plan text,
``Problem`` for records) so that one error reports all of them at once.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CommissionError",
    "Diagnostic",
    "EvaluationError",
    "PlanError",
    "Problem",
    "RecordError",
]


def _printable(text: str) -> str:
    """Escape lone surrogates, which Python strings allow but UTF-8 output cannot hold."""
    if text.isascii():
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class CommissionError(Exception):
    """Root of every error the library raises on purpose."""


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem in a plan file, with its place and a hint for the fix."""

    message: str
    line: int
    column: int
    end_column: int | None = None
    hint: str | None = None
    severity: str = "error"
    source_line: str | None = None

    def render(self, filename: str = "<plan>") -> str:
        """Format as ``FILE:LINE:COL: error: message``, the line, a caret and a hint."""
        parts = [f"{filename}:{self.line}:{self.column}: {self.severity}: {self.message}"]
        if self.source_line is not None:
            width = 1
            if self.end_column is not None and self.end_column > self.column:
                width = self.end_column - self.column
            parts.append(f"    {self.source_line}")
            parts.append("    " + " " * (self.column - 1) + "^" * width)
        if self.hint:
            parts.append(f"hint: {self.hint}")
        return _printable("\n".join(parts))


class PlanError(CommissionError, ValueError):
    """A plan that does not parse or does not type-check; it never runs."""

    def __init__(self, diagnostics: tuple[Diagnostic, ...], filename: str = "<plan>",
                 omitted: int = 0):
        self.diagnostics = diagnostics
        self.filename = filename
        # Errors past ``Limits.max_reported_errors``, counted but not listed.
        self.omitted = omitted
        super().__init__(self.render())

    def render(self) -> str:
        """Format every diagnostic in file order, then the count of errors."""
        blocks = [d.render(self.filename) for d in self.diagnostics]
        if self.omitted:
            noun = "error" if self.omitted == 1 else "errors"
            blocks.append(f"... and {self.omitted} more {noun} not shown")
        errors = sum(1 for d in self.diagnostics if d.severity == "error") + self.omitted
        noun = "error" if errors == 1 else "errors"
        blocks.append(f"{self.filename}: {errors} {noun}; the plan cannot run until"
                      f" {'it is' if errors == 1 else 'they are'} fixed")
        return "\n".join(blocks)


@dataclass(frozen=True, slots=True)
class Problem:
    """One invalid value in the input records."""

    position: str
    record_id: str | None
    field: str | None
    message: str
    fix: str | None = None

    def render(self) -> str:
        """Format as ``line 3 (contract K1), field amount: message; fix``."""
        where = self.position
        # A record without a position is placed by its label, given once.
        if self.record_id is not None and self.record_id != self.position:
            where += f" ({self.record_id})"
        if self.field:
            where += f", field {self.field}"
        text = f"{where}: {self.message}"
        if self.fix:
            text += f"; {self.fix}"
        return _printable(text)


class RecordError(CommissionError, ValueError):
    """Records that failed validation; nothing was evaluated from them."""

    def __init__(self, problems: tuple[Problem, ...], omitted: int = 0):
        self.problems = problems
        self.omitted = omitted
        super().__init__(self.render())

    def render(self) -> str:
        """List every problem, one a line, under a count."""
        total = len(self.problems) + self.omitted
        noun = "problem" if total == 1 else "problems"
        lines = [f"invalid records: {total} {noun}; nothing was evaluated"]
        lines += [f"  {p.render()}" for p in self.problems]
        if self.omitted:
            lines.append(f"  ... and {self.omitted} more not shown")
        return "\n".join(lines)


class EvaluationError(CommissionError, ValueError):
    """Valid records that a plan cannot evaluate, such as a term the plan cannot schedule."""
