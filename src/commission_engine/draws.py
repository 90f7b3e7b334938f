"""Draws: an amount per period that a payee gets when another rule's lines come to less.

A guaranteed draw tops each period of its window up to the draw and is never
paid back. A clawback of an earlier period's commission is not topped up. A recoverable draw advances the same top-up and keeps the sum
advanced as a balance. Later periods pay it back, at most the recovery limit
a period: inside the window from what the rule pays above the draw, and after
the window from all that the rule pays. The recovered amount never exceeds
the balance, so a draw never recovers more than it advanced.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from decimal import Decimal

from . import explain, periods
from .compile import CompiledDraw
from .context import Context
from .records import RecordSet, Rep
from .results import PayoutLine

__all__ = ["draw_balances", "draw_lines", "rep_draw_lines"]


def draw_lines(draw: CompiledDraw, lines: Iterable[PayoutLine], records: RecordSet,
               as_of: datetime, currency: str) -> list[PayoutLine]:
    """Return the draw lines of every rep the draw applies to, through the as-of period.

    A period's draw line falls due at the start of the next period in the
    rep's zone, when the period's lines are all known.
    """
    earned, left_out = earned_by_period(draw, lines)
    out: list[PayoutLine] = []
    for rep_id in sorted(records.reps):
        out.extend(rep_draw_lines(draw, records.reps[rep_id], earned, left_out, records, as_of,
                                  currency))
    return out


def rep_draw_lines(draw: CompiledDraw, rep: Rep, earned: Mapping[tuple[str, str], Decimal],
                   left_out: Mapping[tuple[str, str], Decimal], records: RecordSet,
                   as_of: datetime, currency: str) -> list[PayoutLine]:
    """Return one rep's draw lines, given ``earned_by_period`` of the drawn rule's lines.

    ``draw_lines`` calls it for every rep, and the incremental engine for
    the reps whose lines of the drawn rule moved.
    """
    if not _applies(draw, rep, records, as_of):
        return []
    return _rep_lines(draw, rep, earned, left_out, as_of, currency)


def earned_by_period(draw: CompiledDraw, lines: Iterable[PayoutLine]
                     ) -> tuple[dict[tuple[str, str], Decimal], dict[tuple[str, str], Decimal]]:
    """Return what the draw's rule earned per payee and period, and the clawbacks left out.

    A clawback counts toward its period only as far as it takes back what the
    same contract earned in that period. The rest takes back commission of
    earlier periods: it stays a line of its own, but a draw does not top it
    up, so a guarantee never turns a clawback into pay.
    """
    earned: dict[tuple[str, str], Decimal] = {}
    positive: dict[tuple[str, str, str], Decimal] = {}
    clawbacks = []
    for line in lines:
        if line.rule != draw.of:
            continue
        if line.kind == "clawback":
            clawbacks.append(line)
            continue
        key = (line.payee, line.period)
        earned[key] = earned.get(key, Decimal(0)) + line.amount
        if line.amount > 0:
            origin = (line.payee, line.period, line.sources[0])
            positive[origin] = positive.get(origin, Decimal(0)) + line.amount
    left_out: dict[tuple[str, str], Decimal] = {}
    # Clawbacks in a fixed order, so the split between counted and left out
    # does not depend on the order of the lines.
    for line in sorted(clawbacks, key=lambda line: (line.payee, line.period, line.due,
                                                    line.sources, line.amount)):
        key = (line.payee, line.period)
        origin = (line.payee, line.period, line.sources[0])
        counted = max(line.amount, -positive.get(origin, Decimal(0)))
        positive[origin] = positive.get(origin, Decimal(0)) + counted
        earned[key] = earned.get(key, Decimal(0)) + counted
        if counted != line.amount:
            left_out[key] = left_out.get(key, Decimal(0)) + line.amount - counted
    return earned, left_out


def _applies(draw: CompiledDraw, rep: Rep, records: RecordSet, as_of: datetime) -> bool:
    if draw.condition is None:
        return True
    ctx = Context(records, None, rep.timezone, as_of)
    ctx.metrics = {"id": rep.id, "name": rep.name, "kind": rep.kind, "team": rep.team,
                   "region": rep.region, "timezone": rep.timezone}
    return draw.condition(ctx) is True


def _periods(start: str, last: str) -> Iterator[str]:
    period = start
    while period <= last:
        yield period
        period = periods.shift_period(period, 1)


def _rep_lines(draw: CompiledDraw, rep: Rep, earned: Mapping[tuple[str, str], Decimal],
               left_out: Mapping[tuple[str, str], Decimal], as_of: datetime,
               currency: str) -> list[PayoutLine]:
    """Walk one rep's periods from the draw's start through the as-of period."""
    out = []
    balance = Decimal(0)
    for period in _periods(draw.start, periods.period_of(as_of, rep.timezone)):
        in_window = draw.end is None or period <= draw.end
        if not in_window and balance == 0:
            break
        paid = earned.get((rep.id, period), Decimal(0))
        following = periods.shift_period(period, 1)
        due = periods.start_of_day(date(int(following[:4]), int(following[5:]), 1), rep.timezone)
        if in_window and paid < draw.amount:
            advance = draw.amount - paid
            if draw.recoverable:
                balance += advance
            step = explain.draw_advance_step(draw.name, draw.of, period, draw.recoverable,
                                             draw.amount, paid, advance, balance, currency,
                                             left_out.get((rep.id, period), Decimal(0)))
            out.append(PayoutLine(rep.id, period, "draw", draw.name, advance, currency,
                                  (rep.id,), (step,), due))
            continue
        excess = paid - draw.amount if in_window else paid
        recovered = min(balance, excess)
        if draw.recover_limit is not None:
            recovered = min(recovered, draw.recover_limit)
        if recovered > 0:
            balance -= recovered
            step = explain.draw_recovery_step(draw.name, draw.of, period, in_window, excess,
                                              draw.recover_limit, recovered, balance, currency)
            out.append(PayoutLine(rep.id, period, "draw", draw.name, -recovered, currency,
                                  (rep.id,), (step,), due))
    return out


def draw_balances(lines: Iterable[PayoutLine], recoverable: frozenset[str]
                  ) -> dict[tuple[str, str], Decimal]:
    """Return each payee's outstanding recoverable draw balance after each period.

    Only periods from a payee's first recoverable draw line on have a
    balance; ``lines`` are sorted by payee and period. An adjustment of a
    closed period's draw changes the balance as the draw line it corrects.
    """
    balances: dict[tuple[str, str], Decimal] = {}
    running: dict[str, Decimal] = {}
    for line in lines:
        if line.kind in ("draw", "adjustment") and line.rule in recoverable:
            running[line.payee] = running.get(line.payee, Decimal(0)) + line.amount
        if line.payee in running:
            balances[(line.payee, line.period)] = running[line.payee]
    return balances
