"""Structured explanations of payout lines, and their English payslip text.

An explanation is a tuple of ``Step`` values: a code naming the kind of step,
the values it used (as exact strings), and the English sentence built from
them. Explanations cite record ids, never customer names or free text.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from . import money

__all__ = ["Step", "render", "show_money"]


@dataclass(frozen=True, slots=True)
class Step:
    code: str
    text: str
    values: tuple[tuple[str, str], ...]

    def to_dict(self) -> dict[str, object]:
        """Return the step as JSON-ready data."""
        return {"step": self.code, "text": self.text, "values": dict(self.values)}


def show_money(amount: Decimal, currency: str) -> str:
    """Write an amount for a person: thousands separators and the minor digits."""
    digits = money.minor_digits(currency)
    return f"{Decimal(money.format_amount(amount, currency)):,.{digits}f}"


def render(steps: tuple[Step, ...]) -> str:
    """Join the steps' English text into one payslip line."""
    return "; ".join(step.text for step in steps)


def rate_step(rule: str, percent: str, label: str | None, base: Decimal, commission: Decimal,
              currency: str) -> Step:
    """Explain the rate chosen and the commission it gives, rounded once."""
    reason = f" ({label})" if label else ""
    text = (f"{rule.capitalize()} rate {percent}{reason} x {show_money(base, currency)}"
            f" = {show_money(commission, currency)}")
    values = (("rule", rule), ("rate", percent), ("condition", label or ""),
              ("base", money.format_amount(base, currency)),
              ("commission", money.format_amount(commission, currency)))
    return Step("rate", text, values)


def installment_step(index: int, count: int, due: str) -> Step:
    """Explain which installment of how many, due on which local date."""
    return Step("installment", f"installment {index + 1} of {count}, due {due}",
                (("number", str(index + 1)), ("count", str(count)), ("due", due)))


def respread_step(refund_id: str, refunded: Decimal, entitlement: Decimal, paid: Decimal,
                  remaining: int, currency: str) -> Step:
    """Explain how a refund re-spread the unpaid installments."""
    text = (f"after refund {refund_id} (refunded {show_money(refunded, currency)} in all)"
            f" the entitlement is {show_money(entitlement, currency)}, of which"
            f" {show_money(paid, currency)} was paid; the rest is spread over"
            f" {remaining} installments")
    values = (("refund", refund_id), ("refunded", money.format_amount(refunded, currency)),
              ("entitlement", money.format_amount(entitlement, currency)),
              ("paid", money.format_amount(paid, currency)), ("remaining", str(remaining)))
    return Step("respread", text, values)


def clawback_step(refund_id: str, entitlement: Decimal, paid: Decimal, amount: Decimal,
                  days: int, currency: str) -> Step:
    """Explain an overpayment clawed back after a refund."""
    text = (f"refund {refund_id}, {days} days after signing, lowers the entitlement to"
            f" {show_money(entitlement, currency)} while {show_money(paid, currency)} was paid:"
            f" {show_money(amount, currency)} clawed back")
    values = (("refund", refund_id), ("days_after_signing", str(days)),
              ("entitlement", money.format_amount(entitlement, currency)),
              ("paid", money.format_amount(paid, currency)),
              ("clawback", money.format_amount(amount, currency)))
    return Step("clawback", text, values)


def condition_step(label: str) -> Step:
    """Explain the condition that made a one-time line due."""
    return Step("condition", f"because {label}", (("condition", label),))


def amount_step(kind: str, rule: str, formula: str, exact: Decimal, rounded: Decimal,
                currency: str) -> Step:
    """Explain a bonus, penalty or referral amount and its single rounding.

    ``formula`` is the amount's expression with its values filled in.
    """
    title = kind.capitalize() if rule == kind else f"{rule.capitalize()} {kind}"
    if exact != rounded:
        tail = f" = {format(exact.normalize(), 'f')} -> {show_money(rounded, currency)}"
    else:
        tail = f" = {show_money(rounded, currency)}"
    values = (("rule", rule), ("kind", kind), ("formula", formula),
              ("exact", format(exact, "f")),
              ("amount", money.format_amount(rounded, currency)))
    return Step(kind, f"{title} {formula}{tail}", values)


def cohort_step(period: str, members: int, retained: int, retention: Decimal) -> Step:
    """Explain a cohort's size and retention."""
    share = format((retention * 100).normalize(), "f")
    text = (f"cohort of {period}: {retained} of {members} contracts retained ({share}%)")
    values = (("cohort", period), ("members", str(members)), ("retained", str(retained)),
              ("retention", share + "%"))
    return Step("cohort", text, values)


def payment_step(rule: str, percent: str, label: str | None, base: Decimal, exact: Decimal,
                 payment_id: str, record_id: str, currency: str) -> Step:
    """Explain the commission on one payment, or a refund's reversal at its rate."""
    reason = f" ({label})" if label else ""
    exact_text = format(exact, "f")
    if record_id == payment_id:
        text = (f"{rule.capitalize()} rate {percent}{reason} x {show_money(base, currency)}"
                f" (payment {payment_id}) = {exact_text}")
    else:
        text = (f"refund {record_id} reverses payment {payment_id} at its rate {percent}:"
                f" {exact_text}")
    values = (("rule", rule), ("rate", percent), ("condition", label or ""),
              ("payment", payment_id), ("record", record_id),
              ("base", money.format_amount(base, currency)), ("exact", exact_text))
    return Step("payment", text, values)


def running_step(running: Decimal, before: Decimal, amount: Decimal, currency: str) -> Step:
    """Explain a line as the change of the rounded running total."""
    text = (f"running total {show_money(running, currency)} less {show_money(before, currency)}"
            f" already paid = {show_money(amount, currency)}")
    values = (("running_total", money.format_amount(running, currency)),
              ("paid_before", money.format_amount(before, currency)),
              ("amount", money.format_amount(amount, currency)))
    return Step("running", text, values)


def split_step(payee: str, share: Decimal, whole: Decimal, part: Decimal, currency: str) -> Step:
    """Explain one payee's part of a split line."""
    percent = format((share * 100).normalize(), "f")
    text = (f"{payee}'s share {percent}% of {show_money(whole, currency)}"
            f" = {show_money(part, currency)}")
    values = (("payee", payee), ("share", percent + "%"),
              ("whole", money.format_amount(whole, currency)),
              ("part", money.format_amount(part, currency)))
    return Step("split", text, values)


def tier_step(rule: str, mode: str, percent: str, total: Decimal, exact: Decimal,
              currency: str) -> Step:
    """Explain the tiered commission on a period's running total."""
    how = "each band at its own rate" if mode == "marginal" else f"all of it at {percent}"
    text = (f"{rule.capitalize()} tiers ({mode}) on the period total"
            f" {show_money(total, currency)}, {how} = {format(exact, 'f')}")
    values = (("rule", rule), ("mode", mode), ("tier", percent),
              ("total", money.format_amount(total, currency)), ("exact", format(exact, "f")))
    return Step("tier", text, values)


def adjustment_step(period: str, kind: str, sources: tuple[str, ...], paid: Decimal,
                    recomputed: Decimal, difference: Decimal, currency: str) -> Step:
    """Explain a correction of a closed period, paid in the first open one."""
    records = ", ".join(sources)
    text = (f"adjustment for closed period {period} ({kind}, records {records}):"
            f" recomputed {show_money(recomputed, currency)}, paid {show_money(paid, currency)},"
            f" difference {show_money(difference, currency)}")
    values = (("period", period), ("kind", kind), ("records", records),
              ("paid", money.format_amount(paid, currency)),
              ("recomputed", money.format_amount(recomputed, currency)),
              ("difference", money.format_amount(difference, currency)))
    return Step("adjustment", text, values)
