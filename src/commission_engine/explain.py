"""Structured explanations of payout lines, and their English payslip text.

An explanation is a tuple of ``Step`` values: a code naming the kind of step,
the values it used (as exact strings), and the English sentence built from
them. Explanations cite record ids, never customer names or free text.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal, localcontext
from typing import Any

from . import money

__all__ = ["Step", "render", "show_money"]


@dataclass(frozen=True, slots=True)
class Step:
    """One step of an explanation: a code, and the values it used.

    The English text and the formatted values are built only when read, by the
    function registered for the code, so an evaluation whose explanations are
    never read never formats them.
    """

    code: str
    args: tuple[Any, ...]

    def parts(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        """Build the step's English sentence and its values, by name, as exact strings."""
        # Built when read, perhaps long after the evaluation, so in the
        # library's own context, whatever the caller's is by then.
        with localcontext(money.EVALUATION_CONTEXT):
            return _PARTS[self.code](*self.args)


    @property
    def text(self) -> str:
        """The step as an English sentence."""
        return self.parts()[0]

    @property
    def values(self) -> tuple[tuple[str, str], ...]:
        """The values the step used, as exact strings, by name."""
        return self.parts()[1]

    def to_dict(self) -> dict[str, object]:
        """Return the step as JSON-ready data."""
        text, values = self.parts()
        return {"step": self.code, "text": text, "values": dict(values)}


def _direct_step_init() -> Callable[[Step, str, tuple[Any, ...]], None]:
    """Build a ``Step.__init__`` that fills the two slots through their descriptors.

    An evaluation builds a step per installment, and the frozen dataclass's
    own ``__init__`` goes through ``object.__setattr__`` for each field. The
    step stays frozen: assigning to a field still raises.
    """
    set_code, set_args = Step.code.__set__, Step.args.__set__  # type: ignore[attr-defined]

    def __init__(self: Step, code: str, args: tuple[Any, ...]) -> None:  # noqa: N807
        set_code(self, code)
        set_args(self, args)

    return __init__


Step.__init__ = _direct_step_init()  # type: ignore[method-assign]


# The functions that build each step code's text and values; a step holds only
# its code and arguments, so it pickles and compares by value.
_PARTS: dict[str, Callable[..., tuple[str, tuple[tuple[str, str], ...]]]] = {}


def _lazy(*codes: str) -> Callable[[Callable[..., Any]], Callable[..., Step]]:
    """Turn a function that builds a step's text and values into a lazy step builder.

    With several codes, the step's code is the builder's first argument.
    """

    def wrap(parts: Callable[..., Any]) -> Callable[..., Step]:
        for code in codes:
            _PARTS[code] = parts

        if len(codes) == 1:
            code = codes[0]

            @functools.wraps(parts)
            def build(*args: Any) -> Step:
                return Step(code, args)

            return build

        @functools.wraps(parts)
        def build_coded(*args: Any) -> Step:
            return Step(args[0], args)

        return build_coded

    return wrap


def show_money(amount: Decimal, currency: str) -> str:
    """Write an amount for a person: thousands separators and the minor digits.

    An exact amount finer than the minor unit, such as a converted base of
    150.6 yen, keeps every digit, so a step never shows a rounded operand.
    """
    digits = money.minor_digits(currency)
    exponent = amount.normalize(money.EVALUATION_CONTEXT).as_tuple().exponent
    if isinstance(exponent, int) and -exponent > digits:
        return f"{amount.normalize(money.EVALUATION_CONTEXT):,f}"
    return f"{Decimal(money.format_amount(amount, currency)):,.{digits}f}"


def show_percent(fraction: Decimal) -> str:
    """Write a fraction as a percentage to 2 decimals, cut short with "…" when inexact.

    The digits shown are a prefix of the exact value, so 3,000.01 of 3,000.00
    reads 100.00…%, above 100%, and 1,499.99 of 3,000.00 reads 49.99…%, below
    50%: the text never contradicts the band it explains.
    """
    with localcontext(money.EVALUATION_CONTEXT):
        percent = fraction * 100
        shown = percent.quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    return f"{shown}%" if shown == percent else f"{shown}…%"


def render(steps: tuple[Step, ...]) -> str:
    """Join the steps' English text into one payslip line."""
    return "; ".join(step.text for step in steps)


@_lazy("rate")
def rate_step(rule: str, percent: str, label: str | None, base: Decimal, commission: Decimal,
              currency: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Explain the rate chosen and the commission it gives, rounded once."""
    reason = f" ({label})" if label else ""
    text = (f"{rule} rate {percent}{reason} x {show_money(base, currency)}"
            f" = {show_money(commission, currency)}")
    values = (("rule", rule), ("rate", percent), ("condition", label or ""),
              ("base", money.format_amount(base, currency)),
              ("commission", money.format_amount(commission, currency)))
    return (text, values)


@_lazy("installment")
def installment_step(index: int, count: int, due: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Explain which installment of how many, due on which local date."""
    return (f"installment {index + 1} of {count}, due {due}",
                (("number", str(index + 1)), ("count", str(count)), ("due", due)))


@_lazy("respread")
def respread_step(refund_id: str, refunded: Decimal, entitlement: Decimal, paid: Decimal,
                  remaining: int, currency: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Explain how a refund re-spread the unpaid installments."""
    text = (f"after refund {refund_id} (refunded {show_money(refunded, currency)} in all)"
            f" the entitlement is {show_money(entitlement, currency)}, of which"
            f" {show_money(paid, currency)} was paid; the rest is spread over"
            f" {remaining} installments")
    values = (("refund", refund_id), ("refunded", money.format_amount(refunded, currency)),
              ("entitlement", money.format_amount(entitlement, currency)),
              ("paid", money.format_amount(paid, currency)), ("remaining", str(remaining)))
    return (text, values)


@_lazy("clawback")
def clawback_step(refund_id: str, entitlement: Decimal, paid: Decimal, amount: Decimal,
                  days: int, currency: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Explain an overpayment clawed back after a refund."""
    text = (f"refund {refund_id}, {days} days after signing, lowers the entitlement to"
            f" {show_money(entitlement, currency)} while {show_money(paid, currency)} was paid:"
            f" {show_money(amount, currency)} clawed back")
    values = (("refund", refund_id), ("days_after_signing", str(days)),
              ("entitlement", money.format_amount(entitlement, currency)),
              ("paid", money.format_amount(paid, currency)),
              ("clawback", money.format_amount(amount, currency)))
    return (text, values)


@_lazy("condition")
def condition_step(label: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Explain the condition that made a one-time line due."""
    return (f"because {label}", (("condition", label),))


# A formula with its values filled in, as a compiled plan lists it: text, and
# each money value with its label.
FormulaPieces = tuple["str | tuple[Decimal, str]", ...]


def formula_text(pieces: FormulaPieces, write_money: Callable[[Decimal], str]) -> str:
    """Join a formula's pieces, writing each money value with ``write_money`` before its label."""
    return "".join(piece if isinstance(piece, str) else f"{write_money(piece[0])} ({piece[1]})"
                   for piece in pieces)


@_lazy("bonus", "penalty", "referral")
def amount_step(kind: str, rule: str, pieces: FormulaPieces, exact: Decimal, rounded: Decimal,
                currency: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Explain a bonus, penalty or referral amount and its single rounding.

    ``pieces`` is the amount's formula with its values filled in.
    """
    title = rule if rule == kind else f"{rule} {kind}"
    formula = formula_text(pieces, lambda amount: show_money(amount, currency))
    if exact != rounded:
        tail = f" = {show_money(exact, currency)} -> {show_money(rounded, currency)}"
    else:
        tail = f" = {show_money(rounded, currency)}"
    values = (("rule", rule), ("kind", kind), ("formula", formula),
              ("exact", format(exact, "f")),
              ("amount", money.format_amount(rounded, currency)))
    return (f"{title} {formula}{tail}", values)


@_lazy("cohort")
def cohort_step(period: str, members: int, retained: int, retention: Decimal) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Explain a cohort's size and retention."""
    share = format((retention * 100).normalize(), "f")
    text = (f"cohort of {period}: {retained} of {members} contracts retained ({share}%)")
    values = (("cohort", period), ("members", str(members)), ("retained", str(retained)),
              ("retention", share + "%"))
    return (text, values)


@_lazy("payment")
def payment_step(rule: str, percent: str, label: str | None, base: Decimal, exact: Decimal,
                 payment_id: str, record_id: str, currency: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Explain the commission on one payment, or a refund's reversal at its rate.

    For a reversal, ``base`` is the part of the refund taken back from that payment.
    """
    reason = f" ({label})" if label else ""
    exact_text = format(exact, "f")
    if record_id == payment_id:
        text = (f"{rule} rate {percent}{reason} x {show_money(base, currency)}"
                f" (payment {payment_id}) = {exact_text}")
    else:
        text = (f"refund {record_id} reverses {show_money(base, currency)} of payment"
                f" {payment_id} at its rate {percent}: {exact_text}")
    values = (("rule", rule), ("rate", percent), ("condition", label or ""),
              ("payment", payment_id), ("record", record_id),
              ("base", money.format_amount(base, currency)), ("exact", exact_text))
    return (text, values)


@_lazy("running")
def running_step(running: Decimal, before: Decimal, amount: Decimal, currency: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Explain a line as the change of the rounded running total."""
    text = (f"running total {show_money(running, currency)} less {show_money(before, currency)}"
            f" already paid = {show_money(amount, currency)}")
    values = (("running_total", money.format_amount(running, currency)),
              ("paid_before", money.format_amount(before, currency)),
              ("amount", money.format_amount(amount, currency)))
    return (text, values)


@_lazy("split")
def split_step(payee: str, share: Decimal, whole: Decimal, part: Decimal, currency: str,
               before: Decimal | None = None) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Explain one payee's part of a split line.

    On a contract's first line ``whole`` is the line and ``before`` is None.
    On a later line ``whole`` is the contract's running total, shared as a
    whole, and ``before`` is what the payee was credited on earlier lines.
    """
    percent = format((share * 100).normalize(), "f")
    values: tuple[tuple[str, str], ...] = (
        ("payee", payee), ("share", percent + "%"),
        ("whole", money.format_amount(whole, currency)),
        ("part", money.format_amount(part, currency)))
    if before is None:
        text = (f"{payee}'s share {percent}% of {show_money(whole, currency)}"
                f" = {show_money(part, currency)}")
        return (text, values)
    text = (f"{payee}'s share {percent}% of the running total {show_money(whole, currency)}"
            f" is {show_money(before + part, currency)}, less {show_money(before, currency)}"
            f" already credited = {show_money(part, currency)}")
    return (text, (*values, ("credited_before", money.format_amount(before, currency))))


@_lazy("tier")
def tier_step(rule: str, mode: str, percent: str, total: Decimal, exact: Decimal,
              currency: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Explain the tiered commission on a period's running total."""
    how = "each band at its own rate" if mode == "marginal" else f"all of it at {percent}"
    text = (f"{rule} tiers ({mode}) on the period total"
            f" {show_money(total, currency)}, {how} = {format(exact, 'f')}")
    values = (("rule", rule), ("mode", mode), ("tier", percent),
              ("total", money.format_amount(total, currency)), ("exact", format(exact, "f")))
    return (text, values)


@_lazy("adjustment")
def adjustment_step(period: str, kind: str, sources: tuple[str, ...], paid: Decimal,
                    recomputed: Decimal, difference: Decimal, currency: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Explain a correction of a closed period, paid in the first open one."""
    records = ", ".join(sources)
    text = (f"adjustment for closed period {period} ({kind}, records {records}):"
            f" recomputed {show_money(recomputed, currency)}, paid {show_money(paid, currency)},"
            f" difference {show_money(difference, currency)}")
    values = (("period", period), ("kind", kind), ("records", records),
              ("paid", money.format_amount(paid, currency)),
              ("recomputed", money.format_amount(recomputed, currency)),
              ("difference", money.format_amount(difference, currency)))
    return (text, values)


@_lazy("override")
def override_step(rule: str, level: int, percent: str, payee: str, base: Decimal, amount: Decimal,
                  currency: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Explain a manager's override of one of a payee's lines."""
    text = (f"{rule} override, level {level}: {percent} of {payee}'s"
            f" {show_money(base, currency)} = {show_money(amount, currency)}")
    values = (("rule", rule), ("level", str(level)), ("rate", percent), ("payee", payee),
              ("base", money.format_amount(base, currency)),
              ("override", money.format_amount(amount, currency)))
    return text, values


@_lazy("accelerator")
def accelerator_step(quota: str, payee: str, period: str, unit: str, measure: Decimal,
                     target: Decimal, attainment: Decimal, band: str, multiplier: Decimal,
                     commission: Decimal, currency: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Explain the attainment band of a payee's period and the multiplier it gives."""
    if unit == "money":
        measured = f"{show_money(measure, currency)} of {show_money(target, currency)}"
    else:
        measured = f"{format(measure, 'f')} of {format(target, 'f')}"
    # The text shows the percentage to 2 decimals; the values keep it exact.
    percent = show_percent(attainment)
    text = (f"{quota} attainment of {payee} in {period}: {measured} = {percent}, in the band"
            f" {band}: the commission x {format(multiplier, 'f')} ="
            f" {show_money(commission, currency)}")
    values = (("quota", quota), ("payee", payee), ("period", period),
              ("measure", format(measure, "f")), ("target", format(target, "f")),
              ("attainment", format(attainment, "f")), ("band", band),
              ("multiplier", format(multiplier, "f")),
              ("commission", money.format_amount(commission, currency)))
    return (text, values)


@_lazy("no_attainment")
def no_attainment_step(quota: str, payee: str, period: str
                       ) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Explain that a payee's period has no target, so no multiplier applies."""
    text = (f"{payee} has no {quota} target in {period}, so no attainment and no"
            " multiplier applies")
    return (text, (("quota", quota), ("payee", payee), ("period", period), ("multiplier", "1")))


@_lazy("limit")
def limit_step(kind: str, scope: str, limited: Decimal, amount: Decimal, currency: str
               ) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Explain a cap or floor that changed an amount."""
    word = "capped" if kind == "cap" else "raised to the floor"
    text = (f"{word} at {show_money(limited, currency)} per {scope}"
            f" (before: {show_money(amount, currency)})")
    values = (("limit", kind), ("scope", scope),
              ("amount", money.format_amount(limited, currency)), ("before", format(amount, "f")))
    return (text, values)


@_lazy("period_limit")
def period_limit_step(kind: str, rule: str, period: str, limit: Decimal, earned: Decimal,
                      change: Decimal, currency: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Explain a line that keeps a payee's period total within the rule's cap or floor."""
    if kind == "cap":
        text = (f"{rule} is capped at {show_money(limit, currency)} per period: the lines of"
                f" {period} so far come to {show_money(earned, currency)}, so"
                f" {show_money(change, currency)} keeps the period's total within the cap")
    else:
        text = (f"{rule} has a floor of {show_money(limit, currency)} per period: the lines of"
                f" {period} come to {show_money(earned, currency)}, so"
                f" {show_money(change, currency)} makes up the difference")
    values = (("limit", kind), ("rule", rule), ("period", period),
              ("amount", money.format_amount(limit, currency)),
              ("earned", money.format_amount(earned, currency)),
              ("change", money.format_amount(change, currency)))
    return (text, values)


@_lazy("draw_advance")
def draw_advance_step(draw: str, of: str, period: str, recoverable: bool, amount: Decimal,
                      earned: Decimal, paid: Decimal, balance: Decimal, currency: str,
                      left_out: Decimal = Decimal(0)) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Explain a draw paid because a period's lines came to less than the draw.

    ``left_out`` is the sum of the period's clawbacks of earlier periods'
    commission, which ``earned`` does not count.
    """
    if recoverable:
        tail = f"; it is recovered from later commission (balance {show_money(balance, currency)})"
    else:
        tail = "; it is guaranteed and never recovered"
    apart = ""
    if left_out:
        apart = (f" (not counting {show_money(left_out, currency)} of clawbacks of earlier"
                 " periods)")
    text = (f"{draw}: {of} paid {show_money(earned, currency)} in {period}{apart}, less than"
            f" the draw of {show_money(amount, currency)}, so the draw pays"
            f" {show_money(paid, currency)}{tail}")
    values = (("draw", draw), ("of", of), ("period", period),
              ("kind", "recoverable" if recoverable else "guaranteed"),
              ("amount", money.format_amount(amount, currency)),
              ("earned", money.format_amount(earned, currency)),
              ("paid", money.format_amount(paid, currency)),
              ("balance", money.format_amount(balance, currency)))
    if left_out:
        values = (*values, ("clawbacks_left_out", money.format_amount(left_out, currency)))
    return (text, values)


@_lazy("draw_recovery")
def draw_recovery_step(draw: str, of: str, period: str, in_window: bool, excess: Decimal,
                       limit: Decimal | None, recovered: Decimal, balance: Decimal,
                       currency: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Explain the part of a period's commission that pays back an earlier draw."""
    cap = "" if limit is None else f", at most {show_money(limit, currency)} a period"
    where = "above the draw" if in_window else "after the draw ended"
    text = (f"{draw}: {of} paid {show_money(excess, currency)} {where} in {period}, so"
            f" {show_money(recovered, currency)} of the advanced draw is recovered{cap}"
            f" (balance {show_money(balance, currency)})")
    values = (("draw", draw), ("of", of), ("period", period),
              ("excess", money.format_amount(excess, currency)),
              ("limit", "" if limit is None else money.format_amount(limit, currency)),
              ("recovered", money.format_amount(recovered, currency)),
              ("balance", money.format_amount(balance, currency)))
    return (text, values)


@_lazy("conversion")
def conversion_step(contract: str, currency: str, rate: Decimal, start: str, plan_currency: str
                    ) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Explain the exchange rate a contract in another currency was converted at."""
    text = (f"contract {contract} is in {currency}, converted at 1 {currency} ="
            f" {format(rate, 'f')} {plan_currency} (the rate from {start})")
    values = (("contract", contract), ("currency", currency), ("rate", format(rate, "f")),
              ("from", start), ("into", plan_currency))
    return (text, values)


@_lazy("count_tier")
def count_tier_step(rule: str, mode: str, percent: str, count: int, total: Decimal,
                    exact: Decimal, currency: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Explain tiers chosen by the count of a period's records."""
    if mode == "flat":
        how = f"all of the period total {show_money(total, currency)} at {percent}"
    else:
        how = f"each record at the rate of its place, this one at {percent}"
    text = (f"{rule} tiers by count ({mode}): {count} records in the period, {how}"
            f" = {format(exact, 'f')}")
    values = (("rule", rule), ("mode", mode), ("tier", percent), ("count", str(count)),
              ("total", money.format_amount(total, currency)), ("exact", format(exact, "f")))
    return (text, values)


@_lazy("version")
def version_step(version: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Name the plan version whose rule made the line."""
    return (f"priced by plan version {version}", (("version", version),))
