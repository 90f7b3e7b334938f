"""The progress dashboard as plain text: one block per payee, in rank order.

Deterministic: the same progress data gives the same text, with no colours,
no terminal width detection and no clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, localcontext

from . import money
from .explain import show_money
from .progress import AlertState, PayeeProgress, TargetProgress, TierProgress

__all__ = ["BAR_WIDTH", "render_progress"]

# Characters in a completion bar; each is 5% of the target.
BAR_WIDTH = 20


def render_progress(rows: Sequence[PayeeProgress], plan_name: str, plan_version: str,
                    as_of: datetime, currency: str) -> str:
    """Render every payee's progress as a text dashboard."""
    out = [f"progress of plan {plan_name} version {plan_version},"
           f" as of {as_of.isoformat()}, currency {currency}",
           "rank: by commission owed in the period, highest first; ties by payee id"]
    with localcontext(money.EVALUATION_CONTEXT):
        for row in rows:
            out.append("")
            out.extend(_payee_block(row, currency))
    fired = sum(len(row.fired) for row in rows)
    out.append("")
    out.append(f"{len(rows)} payees, {fired} alerts")
    return "\n".join(out) + "\n"


def _payee_block(row: PayeeProgress, currency: str) -> list[str]:
    lines = [f"#{row.rank_overall} {row.payee} {row.name} (team {row.team},"
             f" #{row.rank_in_team} in team)  {row.period}, {row.days_elapsed} of"
             f" {row.days_in_period} days elapsed in {row.zone}",
             f"  commission owed {show_money(row.owed, currency)}, scheduled"
             f" {show_money(row.scheduled, currency)}, owed to date"
             f" {show_money(row.owed_to_date, currency)}"]
    lines.extend(_target_line(target, currency) for target in row.targets)
    lines.extend(_tier_line(tier, currency) for tier in row.tiers)
    lines.extend(_alert_line(alert, currency) for alert in row.fired)
    return lines


def _show(value: Decimal, unit: str, currency: str) -> str:
    if unit == "count":
        # A pro-rated count is fractional: show it to two decimals, not as a whole number.
        if value == value.to_integral_value():
            return format(value.to_integral_value(), "f")
        return format(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), "f")
    return show_money(money.round_money(value, currency, "half-up"), currency)


def _percent(fraction: Decimal) -> str:
    return format((fraction * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP), "f") + "%"


def _bar(fraction: Decimal) -> str:
    filled = int((fraction * BAR_WIDTH).to_integral_value(rounding=ROUND_DOWN))
    filled = max(0, min(BAR_WIDTH, filled))
    return "[" + "#" * filled + "." * (BAR_WIDTH - filled) + "]"


def _target_line(target: TargetProgress, currency: str) -> str:
    measure = _show(target.measure, target.unit, currency)
    if target.target is None or target.completion is None or target.expected is None:
        return f"  {target.quota:<12} {measure} measured, no target for the period"
    needed = target.needed or Decimal(0)
    rest = ("target reached" if needed == 0
            else f"{_show(needed, target.unit, currency)} to go")
    return (f"  {target.quota:<12} {_bar(target.completion)} {_percent(target.completion):>7}"
            f" of {_show(target.target, target.unit, currency)}"
            f" (pace {_show(target.expected, target.unit, currency)}; {rest})")


def _tier_line(tier: TierProgress, currency: str) -> str:
    total = show_money(money.round_money(tier.total, currency, "half-up"), currency)
    if tier.needed is None:
        return f"  {tier.rule:<12} total {total}, top tier {tier.tier}"
    return (f"  {tier.rule:<12} total {total}, tier {tier.tier};"
            f" {show_money(tier.needed, currency)} more reaches {tier.next_tier}")


def _alert_line(alert: AlertState, currency: str) -> str:
    unit = alert.unit
    measure = _show(alert.measure, unit, currency)
    assert alert.threshold is not None and alert.target is not None
    if alert.kind == "behind":
        assert alert.expected is not None
        reason = (f"{measure} is more than {alert.percent} behind the pro-rated"
               f" {_show(alert.expected, unit, currency)}")
    else:
        reason = (f"{measure} is below {alert.percent} of the target"
               f" {_show(alert.target, unit, currency)}")
    return (f"  ALERT {alert.name}: {alert.quota} {reason};"
            f" {_show(alert.needed, unit, currency)} more clears it")
