"""Payslip text of explanations, in English and Simplified Chinese.

Both languages are written from the same structured steps (``explain.Step``):
each step code has one phrase function per language, called with a
``localize.Formatter`` and the step's arguments. Rule names, condition labels
and the words of formulas are the plan's own text and are shown as written, in
either language; the values in a formula take the language's number format.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from .explain import FormulaPieces, Step, formula_text, show_percent
from .localize import Formatter, formatter

__all__ = ["KIND_NAMES", "PHRASES", "SEPARATORS", "kind_name", "render_steps"]

Phrase = Callable[..., str]

# The name of each line kind on a payslip.
KIND_NAMES: dict[str, dict[str, str]] = {
    "en": {
        "commission": "commission", "installment": "installment", "bonus": "bonus",
        "penalty": "penalty", "clawback": "clawback", "referral": "referral",
        "override": "override", "draw": "draw", "adjustment": "adjustment",
    },
    "zh-CN": {
        "commission": "佣金", "installment": "分期佣金", "bonus": "奖金",
        "penalty": "扣款", "clawback": "追回", "referral": "推荐奖励",
        "override": "管理提成", "draw": "预支", "adjustment": "调整",
    },
}

# The separator between the steps of one line.
SEPARATORS: dict[str, str] = {"en": "; ", "zh-CN": "；"}


def kind_name(kind: str, lang: str) -> str:
    """Return a line kind's payslip name; an unknown kind is shown as written."""
    return KIND_NAMES[lang].get(kind, kind)


def render_steps(steps: tuple[Step, ...], lang: str) -> str:
    """Write an explanation's steps as one payslip line in ``lang`` (``en`` or ``zh-CN``)."""
    fmt = formatter(lang)
    phrases = PHRASES[lang]
    parts = []
    for step in steps:
        phrase = phrases.get(step.code)
        if phrase is None:
            msg = f"explanation step {step.code!r} has no {lang} payslip text; add it to PHRASES"
            raise LookupError(msg)
        parts.append(phrase(fmt, *step.args))
    return SEPARATORS[lang].join(parts)


def _percent_of(share: Decimal) -> str:
    return format((share * 100).normalize(), "f") + "%"


# ---------------------------------------------------------------- English


def _en_rate(f: Formatter, rule: str, percent: str, label: str | None, base: Decimal,
             commission: Decimal, currency: str) -> str:
    reason = f" ({label})" if label else ""
    return (f"{rule} rate {percent}{reason} x {f.money(base, currency)}"
            f" = {f.money(commission, currency)}")


def _en_installment(f: Formatter, index: int, count: int, due: str) -> str:
    return f"installment {index + 1} of {count}, due {f.date(due)}"


def _en_respread(f: Formatter, refund_id: str, refunded: Decimal, entitlement: Decimal,
                 paid: Decimal, remaining: int, currency: str) -> str:
    return (f"after refund {refund_id} ({f.money(refunded, currency)} refunded in all)"
            f" the entitlement is {f.money(entitlement, currency)}, of which"
            f" {f.money(paid, currency)} was paid; the rest is spread over"
            f" {remaining} installments")


def _en_clawback(f: Formatter, refund_id: str, entitlement: Decimal, paid: Decimal,
                 amount: Decimal, days: int, currency: str) -> str:
    return (f"refund {refund_id}, {days} days after signing, lowers the entitlement to"
            f" {f.money(entitlement, currency)} while {f.money(paid, currency)} was paid:"
            f" {f.money(amount, currency)} clawed back")


def _en_condition(f: Formatter, label: str) -> str:
    return f"because {label}"


def _en_amount(f: Formatter, kind: str, rule: str, pieces: FormulaPieces, exact: Decimal,
               rounded: Decimal, currency: str) -> str:
    title = rule if rule == kind else f"{rule} {kind}"
    return f"{title} {_formula(f, pieces, currency)}{_rounding_tail(f, exact, rounded, currency)}"


def _rounding_tail(f: Formatter, exact: Decimal, rounded: Decimal, currency: str) -> str:
    if exact != rounded:
        return f" = {f.exact(exact, currency)} → {f.money(rounded, currency)}"
    return f" = {f.money(rounded, currency)}"


def _formula(f: Formatter, pieces: FormulaPieces, currency: str) -> str:
    return formula_text(pieces, lambda amount: f.exact(amount, currency))


def _en_cohort(f: Formatter, period: str, members: int, retained: int,
               retention: Decimal) -> str:
    return (f"cohort of {f.period(period)}: {retained} of {members} contracts retained"
            f" ({_percent_of(retention)})")


def _en_payment(f: Formatter, rule: str, percent: str, label: str | None, base: Decimal,
                exact: Decimal, payment_id: str, record_id: str, currency: str) -> str:
    if record_id != payment_id:
        return (f"refund {record_id} reverses {f.money(base, currency)} of payment {payment_id}"
                f" at its rate {percent}: {f.exact(exact, currency)}")
    reason = f" ({label})" if label else ""
    return (f"{rule} rate {percent}{reason} x {f.money(base, currency)}"
            f" (payment {payment_id}) = {f.exact(exact, currency)}")


def _en_running(f: Formatter, running: Decimal, before: Decimal, amount: Decimal,
                currency: str) -> str:
    return (f"running total {f.money(running, currency)} less {f.money(before, currency)}"
            f" already paid = {f.money(amount, currency)}")


def _en_split(f: Formatter, payee: str, share: Decimal, whole: Decimal, part: Decimal,
              currency: str, before: Decimal | None = None) -> str:
    if before is None:
        return (f"{payee}'s share {_percent_of(share)} of {f.money(whole, currency)}"
                f" = {f.money(part, currency)}")
    return (f"{payee}'s share {_percent_of(share)} of the running total"
            f" {f.money(whole, currency)} is {f.money(before + part, currency)}, less"
            f" {f.money(before, currency)} already credited = {f.money(part, currency)}")


def _en_tier(f: Formatter, rule: str, mode: str, percent: str, total: Decimal,
             exact: Decimal, currency: str) -> str:
    method = "each band at its own rate" if mode == "marginal" else f"all of it at {percent}"
    return (f"{rule} tiers ({mode}) on the period total"
            f" {f.money(total, currency)}, {method} = {f.exact(exact, currency)}")


def _en_adjustment(f: Formatter, period: str, kind: str, sources: tuple[str, ...],
                   paid: Decimal, recomputed: Decimal, difference: Decimal,
                   currency: str) -> str:
    return (f"adjustment for closed period {f.period(period)} ({kind_name(kind, 'en')},"
            f" records {', '.join(sources)}): recomputed {f.money(recomputed, currency)},"
            f" paid {f.money(paid, currency)}, difference {f.money(difference, currency)}")


def _en_override(f: Formatter, rule: str, level: int, percent: str, payee: str,
                 base: Decimal, amount: Decimal, currency: str) -> str:
    return (f"{rule} override, level {level}: {percent} of {payee}'s"
            f" {f.money(base, currency)} = {f.money(amount, currency)}")


def _en_accelerator(f: Formatter, quota: str, payee: str, period: str, unit: str,
                    measure: Decimal, target: Decimal, attainment: Decimal, band: str,
                    multiplier: Decimal, commission: Decimal, currency: str) -> str:
    measured = f"{_measure(f, unit, measure, currency)} of {_measure(f, unit, target, currency)}"
    return (f"{quota} attainment of {payee} in {f.period(period)}: {measured}"
            f" = {_attainment_percent(attainment)}, in the band {band}: the commission"
            f" x {format(multiplier, 'f')} = {f.money(commission, currency)}")


def _en_no_attainment(f: Formatter, quota: str, payee: str, period: str) -> str:
    return (f"{payee} has no {quota} target in {f.period(period)}, so no attainment and no"
            " multiplier applies")


def _en_limit(f: Formatter, kind: str, scope: str, limited: Decimal, amount: Decimal,
              currency: str) -> str:
    word = "capped" if kind == "cap" else "raised to the floor"
    return (f"{word} at {f.money(limited, currency)} per {scope}"
            f" (before: {f.exact(amount, currency)})")


def _en_period_limit(f: Formatter, kind: str, rule: str, period: str, limit: Decimal,
                     earned: Decimal, change: Decimal, currency: str) -> str:
    if kind == "cap":
        return (f"{rule} is capped at {f.money(limit, currency)} per period: the lines of"
                f" {f.period(period)} so far come to {f.money(earned, currency)}, so"
                f" {f.money(change, currency)} keeps the period's total within the cap")
    return (f"{rule} has a floor of {f.money(limit, currency)} per period: the lines of"
            f" {f.period(period)} come to {f.money(earned, currency)}, so"
            f" {f.money(change, currency)} makes up the difference")


def _en_count_tier(f: Formatter, rule: str, mode: str, percent: str, count: int,
                   total: Decimal, exact: Decimal, currency: str) -> str:
    if mode == "flat":
        method = f"all of the period total {f.money(total, currency)} at {percent}"
    else:
        method = f"each record at the rate of its place, this one at {percent}"
    return (f"{rule} tiers by count ({mode}): {count} records in the period,"
            f" {method} = {f.exact(exact, currency)}")


def _en_draw_advance(f: Formatter, draw: str, of: str, period: str, recoverable: bool,
                     amount: Decimal, earned: Decimal, paid: Decimal, balance: Decimal,
                     currency: str, left_out: Decimal = Decimal(0)) -> str:
    if recoverable:
        tail = (f"; it is recovered from later commission (balance"
                f" {f.money(balance, currency)})")
    else:
        tail = "; it is guaranteed and never recovered"
    apart = ""
    if left_out:
        apart = f" (not counting {f.money(left_out, currency)} of clawbacks of earlier periods)"
    return (f"{draw}: {of} paid {f.money(earned, currency)} in {f.period(period)}{apart},"
            f" less than the draw of {f.money(amount, currency)}, so the draw pays"
            f" {f.money(paid, currency)}{tail}")


def _en_draw_recovery(f: Formatter, draw: str, of: str, period: str, in_window: bool,
                      excess: Decimal, limit: Decimal | None, recovered: Decimal,
                      balance: Decimal, currency: str) -> str:
    cap = "" if limit is None else f", at most {f.money(limit, currency)} a period"
    where = "above the draw" if in_window else "after the draw ended"
    return (f"{draw}: {of} paid {f.money(excess, currency)} {where} in {f.period(period)},"
            f" so {f.money(recovered, currency)} of the advanced draw is recovered{cap}"
            f" (balance {f.money(balance, currency)})")


def _en_conversion(f: Formatter, contract: str, currency: str, rate: Decimal, start: str,
                   plan_currency: str) -> str:
    return (f"contract {contract} is in {currency}, converted at 1 {currency} ="
            f" {format(rate, 'f')} {plan_currency} (the rate from {f.date(start)})")


def _en_version(f: Formatter, version: str) -> str:
    return f"priced by plan version {version}"


def _measure(f: Formatter, unit: str, value: Decimal, currency: str) -> str:
    return f.money(value, currency) if unit == "money" else format(value, "f")


def _attainment_percent(attainment: Decimal) -> str:
    # Shown to 2 decimals, as in the plain text; the step's values keep it exact.
    return show_percent(attainment)


# ---------------------------------------------------------------- Simplified Chinese


def _zh_rate(f: Formatter, rule: str, percent: str, label: str | None, base: Decimal,
             commission: Decimal, currency: str) -> str:
    reason = f"（{label}）" if label else ""
    return (f"规则“{rule}”费率 {percent}{reason} × {f.money(base, currency)}"
            f" = {f.money(commission, currency)}")


def _zh_installment(f: Formatter, index: int, count: int, due: str) -> str:
    return f"共 {count} 期中的第 {index + 1} 期，到期日 {f.date(due)}"


def _zh_respread(f: Formatter, refund_id: str, refunded: Decimal, entitlement: Decimal,
                 paid: Decimal, remaining: int, currency: str) -> str:
    return (f"退款 {refund_id}（累计退款 {f.money(refunded, currency)}）后，应得佣金为"
            f" {f.money(entitlement, currency)}，其中已付 {f.money(paid, currency)}；"
            f"其余分摊到剩余的 {remaining} 期")


def _zh_clawback(f: Formatter, refund_id: str, entitlement: Decimal, paid: Decimal,
                 amount: Decimal, days: int, currency: str) -> str:
    return (f"退款 {refund_id} 发生在签约后 {days} 天，应得佣金降至"
            f" {f.money(entitlement, currency)}，而已付 {f.money(paid, currency)}："
            f"追回 {f.money(amount, currency)}")


def _zh_condition(f: Formatter, label: str) -> str:
    return f"条件：{label}"


def _zh_amount(f: Formatter, kind: str, rule: str, pieces: FormulaPieces, exact: Decimal,
               rounded: Decimal, currency: str) -> str:
    title = kind_name(kind, "zh-CN")
    if rule != kind:
        title = f"规则“{rule}”{title}"
    return f"{title} {_formula(f, pieces, currency)}{_rounding_tail(f, exact, rounded, currency)}"


def _zh_cohort(f: Formatter, period: str, members: int, retained: int,
               retention: Decimal) -> str:
    return (f"{f.period(period)}签约批次：{members} 份合同中保留 {retained} 份"
            f"（{_percent_of(retention)}）")


def _zh_payment(f: Formatter, rule: str, percent: str, label: str | None, base: Decimal,
                exact: Decimal, payment_id: str, record_id: str, currency: str) -> str:
    if record_id != payment_id:
        return (f"退款 {record_id} 中属于付款 {payment_id} 的 {f.money(base, currency)}"
                f" 按其费率 {percent} 冲回：{f.exact(exact, currency)}")
    reason = f"（{label}）" if label else ""
    return (f"规则“{rule}”费率 {percent}{reason} × {f.money(base, currency)}"
            f"（付款 {payment_id}）= {f.exact(exact, currency)}")


def _zh_running(f: Formatter, running: Decimal, before: Decimal, amount: Decimal,
                currency: str) -> str:
    return (f"累计应得 {f.money(running, currency)} 减去已付 {f.money(before, currency)}"
            f" = {f.money(amount, currency)}")


def _zh_split(f: Formatter, payee: str, share: Decimal, whole: Decimal, part: Decimal,
              currency: str, before: Decimal | None = None) -> str:
    if before is None:
        return (f"{payee} 分得 {f.money(whole, currency)} 的 {_percent_of(share)}"
                f" = {f.money(part, currency)}")
    return (f"{payee} 分得累计 {f.money(whole, currency)} 的 {_percent_of(share)}，即"
            f" {f.money(before + part, currency)}，减去此前已计 {f.money(before, currency)}"
            f" = {f.money(part, currency)}")


def _zh_tier(f: Formatter, rule: str, mode: str, percent: str, total: Decimal,
             exact: Decimal, currency: str) -> str:
    method = "各档按各自费率" if mode == "marginal" else f"全额按 {percent}"
    mode_name = "超额累进" if mode == "marginal" else "全额"
    return (f"规则“{rule}”阶梯（{mode_name}），本期累计 {f.money(total, currency)}，"
            f"{method} = {f.exact(exact, currency)}")


def _zh_adjustment(f: Formatter, period: str, kind: str, sources: tuple[str, ...],
                   paid: Decimal, recomputed: Decimal, difference: Decimal,
                   currency: str) -> str:
    return (f"已结算期间{f.period(period)}的调整（{kind_name(kind, 'zh-CN')}，"
            f"记录 {', '.join(sources)}）：重新计算 {f.money(recomputed, currency)}，"
            f"已付 {f.money(paid, currency)}，差额 {f.money(difference, currency)}")


def _zh_override(f: Formatter, rule: str, level: int, percent: str, payee: str,
                 base: Decimal, amount: Decimal, currency: str) -> str:
    return (f"规则“{rule}”管理提成，第 {level} 级：{payee} 的 {f.money(base, currency)}"
            f" × {percent} = {f.money(amount, currency)}")


def _zh_accelerator(f: Formatter, quota: str, payee: str, period: str, unit: str,
                    measure: Decimal, target: Decimal, attainment: Decimal, band: str,
                    multiplier: Decimal, commission: Decimal, currency: str) -> str:
    measured = (f"{_measure(f, unit, measure, currency)} / 目标"
                f" {_measure(f, unit, target, currency)}")
    return (f"{payee} 在{f.period(period)}的“{quota}”完成率：{measured}"
            f" = {_attainment_percent(attainment)}，属于区间 {band}：佣金"
            f" × {format(multiplier, 'f')} = {f.money(commission, currency)}")


def _zh_no_attainment(f: Formatter, quota: str, payee: str, period: str) -> str:
    return f"{payee} 在{f.period(period)}没有“{quota}”目标，因此没有完成率，不适用倍数"


# The unit a cap or floor applies to, as a Chinese measure phrase.
_ZH_SCOPES = {"line": "每笔", "contract": "每份合同", "period": "每期"}


def _zh_limit(f: Formatter, kind: str, scope: str, limited: Decimal, amount: Decimal,
              currency: str) -> str:
    where = _ZH_SCOPES.get(scope, f"每{scope}")
    if kind == "cap":
        return f"按{where}上限封顶为 {f.money(limited, currency)}（原为 {f.exact(amount, currency)}）"
    return f"按{where}下限提高到 {f.money(limited, currency)}（原为 {f.exact(amount, currency)}）"


def _zh_period_limit(f: Formatter, kind: str, rule: str, period: str, limit: Decimal,
                     earned: Decimal, change: Decimal, currency: str) -> str:
    if kind == "cap":
        return (f"规则“{rule}”每期上限 {f.money(limit, currency)}：{f.period(period)}的明细"
                f"至今合计 {f.money(earned, currency)}，因此以 {f.money(change, currency)}"
                " 使本期合计不超过上限")
    return (f"规则“{rule}”每期下限 {f.money(limit, currency)}：{f.period(period)}的明细"
            f"合计 {f.money(earned, currency)}，因此补足 {f.money(change, currency)}")


def _zh_count_tier(f: Formatter, rule: str, mode: str, percent: str, count: int,
                   total: Decimal, exact: Decimal, currency: str) -> str:
    if mode == "flat":
        method = f"本期累计 {f.money(total, currency)} 全额按 {percent}"
    else:
        method = f"每笔按其序位的费率，本笔按 {percent}"
    mode_name = "超额累进" if mode == "marginal" else "全额"
    return (f"规则“{rule}”按笔数阶梯（{mode_name}）：本期 {count} 笔，{method}"
            f" = {f.exact(exact, currency)}")


def _zh_draw_advance(f: Formatter, draw: str, of: str, period: str, recoverable: bool,
                     amount: Decimal, earned: Decimal, paid: Decimal, balance: Decimal,
                     currency: str, left_out: Decimal = Decimal(0)) -> str:
    if recoverable:
        tail = f"，以后从佣金中收回（余额 {f.money(balance, currency)}）"
    else:
        tail = "，为保底金额，不予收回"
    apart = f"（不计以前各期的追回 {f.money(left_out, currency)}）" if left_out else ""
    return (f"“{draw}”：{f.period(period)}规则“{of}”支付 {f.money(earned, currency)}{apart}，"
            f"低于预支额 {f.money(amount, currency)}，因此预支 {f.money(paid, currency)}{tail}")


def _zh_draw_recovery(f: Formatter, draw: str, of: str, period: str, in_window: bool,
                      excess: Decimal, limit: Decimal | None, recovered: Decimal,
                      balance: Decimal, currency: str) -> str:
    cap = "" if limit is None else f"，每期最多 {f.money(limit, currency)}"
    where = "超出预支额" if in_window else "在预支期结束后"
    return (f"“{draw}”：{f.period(period)}规则“{of}”{where}支付 {f.money(excess, currency)}，"
            f"因此收回已预支的 {f.money(recovered, currency)}{cap}"
            f"（余额 {f.money(balance, currency)}）")


def _zh_conversion(f: Formatter, contract: str, currency: str, rate: Decimal, start: str,
                   plan_currency: str) -> str:
    return (f"合同 {contract} 以 {currency} 计价，按 1 {currency} = {format(rate, 'f')}"
            f" {plan_currency} 折算（自 {f.date(start)} 起的汇率）")


def _zh_version(f: Formatter, version: str) -> str:
    return f"按方案版本 {version} 计算"


PHRASES: dict[str, dict[str, Phrase]] = {
    "en": {
        "rate": _en_rate, "installment": _en_installment, "respread": _en_respread,
        "clawback": _en_clawback, "condition": _en_condition, "bonus": _en_amount,
        "penalty": _en_amount, "referral": _en_amount, "cohort": _en_cohort,
        "payment": _en_payment, "running": _en_running, "split": _en_split,
        "tier": _en_tier, "adjustment": _en_adjustment, "override": _en_override,
        "accelerator": _en_accelerator, "no_attainment": _en_no_attainment,
        "limit": _en_limit, "period_limit": _en_period_limit,
        "count_tier": _en_count_tier, "draw_advance": _en_draw_advance,
        "draw_recovery": _en_draw_recovery, "conversion": _en_conversion,
        "version": _en_version,
    },
    "zh-CN": {
        "rate": _zh_rate, "installment": _zh_installment, "respread": _zh_respread,
        "clawback": _zh_clawback, "condition": _zh_condition, "bonus": _zh_amount,
        "penalty": _zh_amount, "referral": _zh_amount, "cohort": _zh_cohort,
        "payment": _zh_payment, "running": _zh_running, "split": _zh_split,
        "tier": _zh_tier, "adjustment": _zh_adjustment, "override": _zh_override,
        "accelerator": _zh_accelerator, "no_attainment": _zh_no_attainment,
        "limit": _zh_limit, "period_limit": _zh_period_limit,
        "count_tier": _zh_count_tier, "draw_advance": _zh_draw_advance,
        "draw_recovery": _zh_draw_recovery, "conversion": _zh_conversion,
        "version": _zh_version,
    },
}
