"""The library's errors: one root class, each leaf also a ``ValueError``.

Problems in user input are collected as values (``Diagnostic`` for plan text,
``Problem`` for records) so that one error reports all of them at once.
"""

from __future__ import annotations

import re
import unicodedata
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


# Characters a message must not send to a terminal as they are: the C0
# controls, DEL, the C1 controls, the line and paragraph separators, and the
# bidirectional marks and controls, which reorder the text after them. A
# message shows each as \uXXXX. A message of several lines keeps its line
# breaks and tabs; a value quoted in a message keeps none.
_HIDDEN_IN_VALUE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029"
                              "\u202a-\u202e\u2066-\u2069]")
_HIDDEN_IN_MESSAGE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028"
                                "\u2029\u202a-\u202e\u2066-\u2069]")
# The characters a plan's text cannot hold, which the parser reports and a
# quoted source line shows as U+FFFD. The right-to-left marks are legitimate there.
HIDDEN_IN_PLAN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029"
                             "\u202a-\u202e\u2066-\u2069]")


def _escaped(found: re.Match[str]) -> str:
    return f"\\u{ord(found.group()):04x}"


def escape_value(text: str) -> str:
    """Write each character of a quoted value that would drive a terminal or reorder text as ``\\uXXXX``."""
    return _HIDDEN_IN_VALUE.sub(_escaped, text)


def escape_hidden(text: str) -> str:
    """Write each character of a message that would drive a terminal or reorder text as ``\\uXXXX``."""
    return _HIDDEN_IN_MESSAGE.sub(_escaped, text)


def shorten(text: str, limit: int) -> str:
    """Cut text longer than ``limit`` characters to its start and its length."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text):,} characters)"


def safe_message(text: str, limit: int = 1000) -> str:
    """Prepare one line of a message that may quote the input: escaped, then shortened.

    Line breaks are escaped too, so a value cannot start a line of its own
    that reads as another problem.
    """
    return shorten(escape_value(text), limit)


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
        parts = [f"{safe_message(filename, 200)}:{self.line}:{self.column}: {self.severity}:"
                 f" {safe_message(self.message, 600)}"]
        if self.source_line is not None:
            parts.extend(self._quoted_line())
        if self.hint:
            parts.append(f"hint: {safe_message(self.hint, 600)}")
        return _printable("\n".join(parts))

    def _quoted_line(self) -> list[str]:
        """Quote the source line, or the part of a long one around the column, and a caret."""
        # U+FFFD takes the place of a hidden character, one column for one,
        # so the caret stays under its place.
        line = HIDDEN_IN_PLAN.sub("\ufffd", str(self.source_line))
        width = 1
        if self.end_column is not None and self.end_column > self.column:
            width = self.end_column - self.column
        start = 0
        prefix = suffix = ""
        if len(line) > _QUOTED_CHARS:
            start = max(0, min(self.column - 1 - _QUOTED_CHARS // 2, len(line) - _QUOTED_CHARS))
            prefix = "..." if start else ""
            suffix = "..." if start + _QUOTED_CHARS < len(line) else ""
            line = line[start:start + _QUOTED_CHARS]
        offset = self.column - 1 - start
        width = max(1, min(width, len(line) - offset))
        return [f"    {prefix}{line}{suffix}",
                "    " + " " * len(prefix) + _caret_indent(line[:offset]) + "^" * width]


def _caret_indent(before: str) -> str:
    """Return the blanks that put a caret under the character after ``before`` in a terminal.

    A tab stays a tab, so both lines reach the same tab stop, and a wide
    character, such as a Chinese one, takes two columns.
    """
    return "".join("\t" if char == "\t"
                   else "  " if unicodedata.east_asian_width(char) in "WF" else " "
                   for char in before)


# The characters of a long source line that a diagnostic quotes around its column.
_QUOTED_CHARS = 160


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
        # Each part can quote the input, so each is escaped and shortened:
        # one bad value must not fill the terminal or drive it.
        where = safe_message(self.position, 120)
        # A record without a position is placed by its label, given once.
        if self.record_id is not None and self.record_id != self.position:
            where += f" ({safe_message(self.record_id, 160)})"
        if self.field:
            where += f", field {safe_message(self.field, 120)}"
        text = f"{where}: {safe_message(self.message)}"
        if self.fix:
            text += f"; {safe_message(self.fix)}"
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
