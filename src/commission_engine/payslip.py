"""Payslips: one payee's statement for one period, as JSON data and CSV text.

A payslip contains the statement's lines with their explanations in one
language, the total, the totals of the last twelve periods for a chart, and,
when the result carries them, the running draw balance and target progress.
The HTML form is in ``payslip_html``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from . import money
from .localize import formatter
from .payslip_text import kind_name
from .periods import shift_period
from .quotas import Attainment
from .results import PayoutLine, Result, Statement, utc_instant

__all__ = ["HISTORY_MONTHS", "Payslip", "Progress", "build_payslip", "build_payslips",
           "payslip_csv"]

# How many periods the chart shows, ending with the payslip's own period.
HISTORY_MONTHS = 12


@dataclass(frozen=True, slots=True)
class Progress:
    """A payee's progress towards one quota's target in the payslip's period.

    ``unit`` is ``money`` for a quota that totals amounts and ``count`` for one
    that counts records.
    """

    metric: str
    target: Decimal
    achieved: Decimal
    unit: str = "count"

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
            "progress": [{"metric": item.metric, "unit": item.unit,
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


def build_payslip(result: Result, payee: str, period: str, lang: str,
                  attainments: Iterable[Attainment] = ()) -> Payslip | None:
    """Build the payslip of one payee and period, or None when that statement has no lines.

    ``attainments`` (from ``commission_engine.attainments`` with the same
    plan, records and as-of time) gives the target progress; without it the
    payslip shows none.
    """
    statement = result.statement(payee, period)
    if statement is None:
        return None
    return _payslip(result, statement, lang, tuple(attainments))


def build_payslips(result: Result, lang: str, payee: str | None = None,
                   period: str | None = None,
                   attainments: Iterable[Attainment] = ()) -> tuple[Payslip, ...]:
    """Build the payslip of every statement, or of those of one payee or one period."""
    known = tuple(attainments)
    return tuple(
        _payslip(result, statement, lang, known)
        for statement in result.statements
        if (payee is None or statement.payee == payee)
        and (period is None or statement.period == period)
    )


def _payslip(result: Result, statement: Statement, lang: str,
             attainments: tuple[Attainment, ...]) -> Payslip:
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
        draw_balance=statement.draw_balance,
        progress=tuple(
            Progress(item.quota, item.target, item.measure, item.unit)
            for item in attainments
            if item.payee == statement.payee and item.period == statement.period
            and item.target is not None
        ),
    )


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
                line.currency, utc_instant(line.due), _cell(" ".join(line.sources)),
                _cell(payslip.line_text(line)),
            ])
        writer.writerow([_cell(statement.payee), statement.period, "total", "", "",
                         money.format_amount(statement.total, statement.currency),
                         statement.currency, "", "", ""])
    return buffer.getvalue()


def _cell(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
