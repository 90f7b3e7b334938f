"""Payslips: one payee's statement for one period, as JSON data and CSV text.

A payslip contains the statement's lines with their explanations in one
language, the total, the totals of the last twelve periods for a chart, and,
when the result carries them, the running draw balance and target progress.
The HTML form is in ``payslip_html``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from . import money
from .localize import formatter
from .payslip_text import kind_name
from .periods import shift_period
from .results import PayoutLine, Result, Statement

__all__ = ["HISTORY_MONTHS", "Payslip", "Progress", "build_payslip", "build_payslips",
           "payslip_csv"]

# How many periods the chart shows, ending with the payslip's own period.
HISTORY_MONTHS = 12


@dataclass(frozen=True, slots=True)
class Progress:
    """A payee's progress towards one target in the payslip's period."""

    metric: str
    target: Decimal
    achieved: Decimal

    @property
    def share(self) -> Decimal:
        """The achieved fraction of the target (0 when the target is 0)."""
        if not self.target:
            return Decimal(0)
        return money.EVALUATION_CONTEXT.divide(self.achieved, self.target)


@dataclass(frozen=True, slots=True)
class Payslip:
    """One payee's statement for one period, ready to print in one language."""

    lang: str
    plan_name: str
    plan_version: str
    as_of: str
    digest: str
    # The result's snapshot of its inputs (``Result.inputs``), so that a
    # stored payslip can be verified on its own.
    inputs: dict[str, str]
    statement: Statement
    # (period, total) for the last HISTORY_MONTHS periods, oldest first, with
    # 0 for a period without lines.
    history: tuple[tuple[str, Decimal], ...]
    draw_balance: Decimal | None = None
    progress: tuple[Progress, ...] = ()

    @property
    def currency(self) -> str:
        """The ISO 4217 code of every amount on the payslip."""
        return self.statement.currency

    def line_text(self, line: PayoutLine) -> str:
        """Write one line's explanation in the payslip's language."""
        return line.explain(self.lang)

    def to_dict(self) -> dict[str, Any]:
        """Return the payslip as JSON-ready data, money as exact strings."""
        currency = self.currency
        fmt = formatter(self.lang)
        data: dict[str, Any] = {
            "payee": self.statement.payee,
            "period": self.statement.period,
            "lang": self.lang,
            "plan": {"name": self.plan_name, "version": self.plan_version},
            "as_of": self.as_of,
            "currency": currency,
            "total": money.format_amount(self.statement.total, currency),
            "total_text": fmt.money(self.statement.total, currency),
            "lines": [self._line_dict(line) for line in self.statement.lines],
            "history": [{"period": period, "total": money.format_amount(total, currency)}
                        for period, total in self.history],
            "draw_balance": (None if self.draw_balance is None
                             else money.format_amount(self.draw_balance, currency)),
            "progress": [{"metric": item.metric,
                          "target": format(item.target, "f"),
                          "achieved": format(item.achieved, "f")} for item in self.progress],
            "inputs": self.inputs,
            "digest": self.digest,
        }
        return data

    def _line_dict(self, line: PayoutLine) -> dict[str, Any]:
        data = line.to_dict()
        data["kind_name"] = kind_name(line.kind, self.lang)
        data["amount_text"] = formatter(self.lang).money(line.amount, line.currency)
        data["text"] = self.line_text(line)
        return data


def build_payslip(result: Result, payee: str, period: str, lang: str) -> Payslip | None:
    """Build the payslip of one payee and period, or None when that statement has no lines."""
    statement = result.statement(payee, period)
    if statement is None:
        return None
    return _payslip(result, statement, lang)


def build_payslips(result: Result, lang: str, payee: str | None = None,
                   period: str | None = None) -> tuple[Payslip, ...]:
    """Build the payslip of every statement, or of those of one payee or one period."""
    return tuple(
        _payslip(result, statement, lang)
        for statement in result.statements
        if (payee is None or statement.payee == payee)
        and (period is None or statement.period == period)
    )


def _payslip(result: Result, statement: Statement, lang: str) -> Payslip:
    formatter(lang)  # raises ValueError for an unknown language before any work
    totals = {s.period: s.total for s in result.statements if s.payee == statement.payee}
    history = tuple(
        (month, totals.get(month, Decimal(0)))
        for month in (shift_period(statement.period, -offset)
                      for offset in range(HISTORY_MONTHS - 1, -1, -1))
    )
    return Payslip(
        lang=lang,
        plan_name=result.plan_name,
        plan_version=result.plan_version,
        as_of=result.as_of.isoformat(),
        digest=result.digest,
        inputs=result.inputs,
        statement=statement,
        history=history,
        draw_balance=_draw_balance(statement),
        progress=_progress(result, statement),
    )


def _draw_balance(statement: Statement) -> Decimal | None:
    # NOTE: statements carry no draw balance yet. A statement that gains a
    # ``draw_balance`` attribute (the running balance after the period) is
    # shown without further change here.
    balance = getattr(statement, "draw_balance", None)
    return balance if isinstance(balance, Decimal) else None


def _progress(result: Result, statement: Statement) -> tuple[Progress, ...]:
    # NOTE: results carry no target progress yet. When a result gains a
    # ``progress(payee, period)`` method returning (metric, target, achieved)
    # triples, the payslip shows them.
    method = getattr(result, "progress", None)
    if not callable(method):
        return ()
    return tuple(Progress(metric, target, achieved)
                 for metric, target, achieved in method(statement.payee, statement.period))


CSV_COLUMNS = ("payee", "period", "kind", "kind_name", "rule", "amount", "currency", "due",
               "sources", "explanation")


def payslip_csv(payslips: tuple[Payslip, ...]) -> str:
    """Write the lines of payslips as CSV, one row a line, with a total row per payslip.

    A text cell that a spreadsheet would read as a formula gets a leading
    apostrophe.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for payslip in payslips:
        statement = payslip.statement
        for line in statement.lines:
            writer.writerow([
                _cell(line.payee), line.period, line.kind, kind_name(line.kind, payslip.lang),
                _cell(line.rule), money.format_amount(line.amount, line.currency),
                line.currency, line.due.isoformat(), _cell(" ".join(line.sources)),
                _cell(payslip.line_text(line)),
            ])
        writer.writerow([_cell(statement.payee), statement.period, "total", "", "",
                         money.format_amount(statement.total, statement.currency),
                         statement.currency, "", "", ""])
    return buffer.getvalue()


def _cell(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
