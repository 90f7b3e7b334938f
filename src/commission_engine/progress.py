"""Progress per payee and period: commission to date, targets, tiers, rank and alerts.

Everything here is data computed from a result, the quotas' attainments and
the tiered totals at one as-of time; nothing reads the clock.

Pro-rating. A period is a calendar month in the payee's zone. The days
elapsed are the whole local days of the period completed by the as-of time.
That is 0 at the first instant of the month and 15 at the start of the 16th.
Once the as-of time is in a later month, every day of the month has elapsed.
The expectation is the target times days elapsed over days in the month,
exact.

Rank. Payees are ranked by the commission owed in their period (the lines
due by the as-of time), highest first. Ties are broken by the payee id in
ascending text order, so every payee has its own rank, overall and within
its team.

Amounts needed. An amount still needed is the least amount that, added to
the measure (or the tiered total), reaches the target, clears the alert or
enters the next tier. Money is rounded up to the currency's minor unit, and
a count up to a whole number.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_CEILING, Decimal, localcontext
from typing import Any

from . import money, periods
from .compile import CompiledAlert, CompiledCommission, CompiledPlan, CompiledTiers
from .errors import EvaluationError
from .quotas import QuotaBook
from .records import RecordSet, Rep, check_as_of
from .results import Result

__all__ = [
    "AlertState",
    "PayeeProgress",
    "TargetProgress",
    "TierProgress",
    "days_elapsed",
    "progress",
]


@dataclass(frozen=True, slots=True)
class TargetProgress:
    """One quota of one payee and period: the measure against the target and the pace.

    ``completion`` is measure / target (1 is 100%), ``expected`` the target
    pro-rated for the days elapsed, and ``needed`` the least amount that
    still reaches the target (0 once reached). The last three are None when
    the period has no target.
    """

    quota: str
    unit: str
    measure: Decimal
    target: Decimal | None
    completion: Decimal | None
    expected: Decimal | None
    needed: Decimal | None


@dataclass(frozen=True, slots=True)
class TierProgress:
    """A tiered rule's period total for one payee, its tier, and the distance to the next.

    ``next_bound`` and ``needed`` are None in the top tier.
    """

    rule: str
    total: Decimal
    tier: str
    next_tier: str | None
    next_bound: Decimal | None
    needed: Decimal | None


@dataclass(frozen=True, slots=True)
class AlertState:
    """One declared alert for one payee and period, with the numbers it compared.

    ``threshold`` is the measure at which the alert clears: the pro-rated
    expectation less the allowed share (``behind`` pace) or the share of the
    target (``below``). ``needed`` is the least amount that clears it (0
    when it has not fired). Without a target the alert cannot fire, and
    ``target``, ``expected`` and ``threshold`` are None.
    """

    name: str
    kind: str
    quota: str
    unit: str
    percent: str
    fired: bool
    measure: Decimal
    target: Decimal | None
    expected: Decimal | None
    threshold: Decimal | None
    needed: Decimal


@dataclass(frozen=True, slots=True)
class PayeeProgress:
    """One payee's progress in one period, as seen at the as-of time.

    ``owed`` and ``scheduled`` total the period's lines due by the as-of time
    and after it. ``owed_to_date`` totals the owed lines of every period up
    to and including this one. ``alerts`` lists every declared alert, fired or
    not, and ``fired`` those that fired.
    """

    payee: str
    name: str
    team: str
    zone: str
    period: str
    days_elapsed: int
    days_in_period: int
    owed: Decimal
    scheduled: Decimal
    owed_to_date: Decimal
    targets: tuple[TargetProgress, ...]
    tiers: tuple[TierProgress, ...]
    alerts: tuple[AlertState, ...]
    rank_in_team: int
    rank_overall: int

    @property
    def fired(self) -> tuple[AlertState, ...]:
        """The alerts that fired."""
        return tuple(alert for alert in self.alerts if alert.fired)

    def to_dict(self, currency: str) -> dict[str, Any]:
        """Return the progress as JSON-ready data, every number an exact decimal string."""
        def number(value: Decimal | None) -> str | None:
            return None if value is None else format(value, "f")

        def amount(value: Decimal) -> str:
            return money.format_amount(value, currency)

        return {
            "payee": self.payee, "name": self.name, "team": self.team, "zone": self.zone,
            "period": self.period, "days_elapsed": self.days_elapsed,
            "days_in_period": self.days_in_period, "owed": amount(self.owed),
            "scheduled": amount(self.scheduled), "owed_to_date": amount(self.owed_to_date),
            "rank_in_team": self.rank_in_team, "rank_overall": self.rank_overall,
            "targets": [{"quota": t.quota, "unit": t.unit, "measure": number(t.measure),
                         "target": number(t.target), "completion": number(t.completion),
                         "expected": number(t.expected), "needed": number(t.needed)}
                        for t in self.targets],
            "tiers": [{"rule": t.rule, "total": number(t.total), "tier": t.tier,
                       "next_tier": t.next_tier, "next_bound": number(t.next_bound),
                       "needed": number(t.needed)} for t in self.tiers],
            "alerts": [{"alert": a.name, "kind": a.kind, "quota": a.quota, "unit": a.unit,
                        "percent": a.percent, "fired": a.fired, "measure": number(a.measure),
                        "target": number(a.target), "expected": number(a.expected),
                        "threshold": number(a.threshold), "needed": number(a.needed)}
                       for a in self.alerts],
        }


def days_elapsed(period: str, as_of: datetime, zone: str) -> tuple[int, int]:
    """Return (whole local days of ``period`` completed at ``as_of``, days in the period)."""
    year, month = int(period[:4]), int(period[5:7])
    length = calendar.monthrange(year, month)[1]
    today = periods.local_date(as_of, zone)
    first = date(year, month, 1)
    if today < first:
        return 0, length
    if (today.year, today.month) > (year, month):
        return length, length
    return (today - first).days, length


def progress(plan: CompiledPlan, records: RecordSet, as_of: datetime,
             period: str | None = None, result: Result | None = None
             ) -> tuple[PayeeProgress, ...]:
    """Compute every rep's progress at ``as_of``, sorted by overall rank.

    ``period`` (``YYYY-MM``) is the period for every rep; by default each
    rep's own period of the as-of time, in its zone. Pass the ``result`` of
    the same plan, records and as-of time to skip evaluating again.
    """
    from .currency import convert
    from .evaluate import _check_currencies, _Run, evaluate

    # A result passed in skips evaluate, so as_of is checked here too.
    check_as_of(as_of)
    if result is None:
        result = evaluate(plan, records, as_of)
    conversions = _check_currencies(plan, records)
    with localcontext(money.EVALUATION_CONTEXT):
        # Quotas measure contracts in other currencies converted, as evaluate does.
        visible = convert(records.visible_at(as_of), conversions, plan.currency)
        run = _Run(plan, visible, as_of, plan.rounding)
        book = run.quota_book()
        totals: dict[tuple[str, str, str], Decimal] = {}
        for rule in plan.rules:
            if isinstance(rule, CompiledCommission) and rule.tiers is not None:
                for contract in run.contracts:
                    for payee, credited, _at, _id, change, _sources in run.tier_events(
                            rule, contract):
                        key = (rule.name, payee.id, credited)
                        totals[key] = totals.get(key, Decimal(0)) + change
        return assemble(plan, records.reps, result, book, totals, as_of, period)


def assemble(plan: CompiledPlan, reps: Mapping[str, Rep], result: Result, book: QuotaBook,
             tier_totals: Mapping[tuple[str, str, str], Decimal], as_of: datetime,
             period: str | None) -> tuple[PayeeProgress, ...]:
    """Build each rep's progress from a result, the attainments and the tiered totals."""
    if period is not None and not periods.is_period(period):
        msg = f"period {period!r} is not a month; write it as YYYY-MM, such as 2025-03"
        raise EvaluationError(msg)
    currency = plan.currency
    owed: dict[tuple[str, str], list[Decimal]] = {}
    for line in result.lines:
        owed.setdefault((line.payee, line.period), []).append(line.amount)
    later: dict[tuple[str, str], list[Decimal]] = {}
    for line in result.schedule:
        later.setdefault((line.payee, line.period), []).append(line.amount)
    rows = []
    with localcontext(money.EVALUATION_CONTEXT):
        for rep_id in sorted(reps):
            rep = reps[rep_id]
            own_period = period or periods.period_of(as_of, rep.timezone)
            elapsed, length = days_elapsed(own_period, as_of, rep.timezone)
            targets = tuple(_target(quota.name, book, rep_id, own_period, elapsed, length,
                                    currency) for quota in plan.quotas)
            alerts = tuple(_alert(alert, targets, currency) for alert in plan.alerts)
            tiers = tuple(_tier(rule.name, rule.tiers, tier_totals.get(
                (rule.name, rep_id, own_period), Decimal(0)), currency)
                for rule in plan.rules
                if isinstance(rule, CompiledCommission) and rule.tiers is not None)
            to_date = [amount for (payee, p), amounts in owed.items()
                       if payee == rep_id and p <= own_period for amount in amounts]
            rows.append(PayeeProgress(
                rep_id, rep.name, rep.team, rep.timezone, own_period, elapsed, length,
                money.total(owed.get((rep_id, own_period), ())),
                money.total(later.get((rep_id, own_period), ())),
                money.total(to_date), targets, tiers, alerts, 0, 0))
    return _ranked(rows)


def _ranked(rows: Sequence[PayeeProgress]) -> tuple[PayeeProgress, ...]:
    """Rank by owed commission, highest first, ties by payee id; sort by overall rank."""
    order = sorted(rows, key=lambda row: (-row.owed, row.payee))
    team_counts: dict[str, int] = {}
    ranked = []
    for overall, row in enumerate(order, start=1):
        team_counts[row.team] = team_counts.get(row.team, 0) + 1
        ranked.append(_replace_ranks(row, team_counts[row.team], overall))
    return tuple(ranked)


def _replace_ranks(row: PayeeProgress, in_team: int, overall: int) -> PayeeProgress:
    from dataclasses import replace

    return replace(row, rank_in_team=in_team, rank_overall=overall)


def _round_up(amount: Decimal, unit: str, currency: str) -> Decimal:
    """Round a shortfall up to what can be added: a minor unit of money, or a whole count."""
    if unit == "count":
        return amount.to_integral_value(rounding=ROUND_CEILING) if amount > 0 else Decimal(0)
    quantum = Decimal(1).scaleb(-money.minor_digits(currency))
    # Nothing needed is still money, so it prints as 0.00 like other amounts.
    return (amount if amount > 0 else Decimal(0)).quantize(quantum, rounding=ROUND_CEILING)


def _target(quota: str, book: QuotaBook, payee: str, period: str, elapsed: int, length: int,
            currency: str) -> TargetProgress:
    found = book.get(quota, payee, period)
    if found is None:
        unit = next((item.unit for item in book if item.quota == quota), "money")
        return TargetProgress(quota, unit, Decimal(0), None, None, None, None)
    if found.target is None:
        return TargetProgress(quota, found.unit, found.measure, None, None, None, None)
    expected = found.target * elapsed / length
    needed = _round_up(found.target - found.measure, found.unit, currency)
    return TargetProgress(quota, found.unit, found.measure, found.target, found.attainment,
                          expected, needed)


def _alert(alert: CompiledAlert, targets: Iterable[TargetProgress],
           currency: str) -> AlertState:
    target = next(t for t in targets if t.quota == alert.quota)
    if target.target is None or target.expected is None:
        return AlertState(alert.name, alert.kind, alert.quota, target.unit, alert.percent_text, False,
                          target.measure, None, None, None, Decimal(0))
    if alert.kind == "behind":
        threshold = target.expected * (1 - alert.fraction)
        expected: Decimal | None = target.expected
    else:
        threshold = target.target * alert.fraction
        expected = None
    fired = target.measure < threshold
    needed = _round_up(threshold - target.measure, target.unit, currency) if fired else Decimal(0)
    return AlertState(alert.name, alert.kind, alert.quota, target.unit, alert.percent_text, fired,
                      target.measure, target.target, expected, threshold, needed)


def _tier(rule: str, tiers: CompiledTiers | None, total: Decimal, currency: str
          ) -> TierProgress:
    assert tiers is not None
    tier = tiers.tier_of(total)
    position = tiers.tiers.index(tier)
    if tier.bound is None or position + 1 >= len(tiers.tiers):
        return TierProgress(rule, total, tier.percent_text, None, None, None)
    following = tiers.tiers[position + 1]
    # "up to X" keeps X in this tier, so the next tier starts one minor unit above it.
    entry = tier.bound + Decimal(1).scaleb(-money.minor_digits(currency)) if tier.inclusive \
        else tier.bound
    needed = max(entry - total, Decimal(0))
    return TierProgress(rule, total, tier.percent_text, following.percent_text, tier.bound,
                        needed)
