"""Payslip text in English and Simplified Chinese, written from the same steps."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from helpers import REFERENCE_PLAN, ROOT, WORKED, one_contract, read_jsonl
from hypothesis import given, settings
from hypothesis import strategies as st

from commission_engine import (
    ClosedPeriods,
    PayoutLine,
    explain,
    load_plan,
    load_records,
)
from commission_engine.localize import formatter
from commission_engine.money import known_currencies, minor_digits
from commission_engine.payslip_text import KIND_NAMES, PHRASES, kind_name, render_steps
from commission_engine.results import LINE_KINDS

REFERENCE = load_plan(REFERENCE_PLAN.read_text(encoding="utf-8"))
AS_OF = datetime.fromisoformat("2026-12-31T00:00:00+08:00")

JPY_PLAN = load_plan('''plan "jp" version "1"
currency JPY

commission base on contract:
    paid to contract.rep
    rate 8% of contract.amount

override managers of base:
    level 1 5%
''')

PAYMENT_PLAN = load_plan('''plan "collected" version "1"
currency CNY

commission collected on payment:
    paid to contract.rep
    rate of payment.amount:
        10% otherwise, until 2024-03-31
        12% otherwise, from 2024-04-01
''')


def jpy_records() -> list[dict[str, Any]]:
    return [
        {"type": "rep", "id": "M1", "name": "M", "timezone": "Asia/Tokyo", "kind": "staff",
         "team": "", "region": "", "manager": None},
        {"type": "rep", "id": "R1", "name": "R", "timezone": "Asia/Tokyo", "kind": "staff",
         "team": "", "region": "", "manager": "M1"},
        {"type": "customer", "id": "C1", "owner": "R1", "referred_by": None,
         "created_at": "2024-01-01T00:00:00+09:00"},
        {"type": "contract", "id": "K1", "customer": "C1", "rep": "R1", "product": "p",
         "amount": "123457", "currency": "JPY", "signed_at": "2025-03-05T10:00:00+09:00",
         "term_months": 1},
    ]


def payment_records(*payments: tuple[str, str, str]) -> list[dict[str, Any]]:
    rows = one_contract("100000.00", "2024-03-01T00:00:00+08:00")
    rows += [{"type": "payment", "id": pid, "contract": "K1", "amount": amount,
              "paid_at": at} for pid, amount, at in payments]
    return rows


def worked_line(case: str, kind: str, payee: str, period: str) -> PayoutLine:
    result = REFERENCE.evaluate(load_records(read_jsonl(WORKED / f"{case}.jsonl")), AS_OF)
    found = [line for line in result.lines
             if (line.kind, line.payee, line.period) == (kind, payee, period)]
    assert len(found) == 1, f"{case}: expected one {kind} line of {payee} in {period}"
    return found[0]


def jpy_line(kind: str) -> PayoutLine:
    result = JPY_PLAN.evaluate(load_records(jpy_records()),
                               datetime.fromisoformat("2025-12-31T00:00:00+09:00"))
    found = [line for line in result.lines if line.kind == kind]
    assert len(found) == 1
    return found[0]


def adjustment_line() -> PayoutLine:
    p1 = ("P1", "10000.00", "2024-03-10T10:00:00+08:00")
    p2 = ("P2", "5000.00", "2024-03-28T10:00:00+08:00")
    paid = PAYMENT_PLAN.evaluate(load_records(payment_records(p1)),
                                 datetime.fromisoformat("2024-03-31T23:00:00+08:00"))
    result = PAYMENT_PLAN.evaluate(load_records(payment_records(p1, p2)), AS_OF,
                                   closed=ClosedPeriods("2024-03", paid.lines))
    found = [line for line in result.lines if line.kind == "adjustment"]
    assert len(found) == 1
    return found[0]


# Each case: how to build the line, its amount, and its English and Chinese text.
LINE_CASES = {
    "installment": (
        lambda: worked_line("E1", "installment", "R1", "2025-01"), "80.00",
        "base rate 8% (new customer) x CN¥12,000.00 = CN¥960.00;"
        " installment 1 of 12, due January 15, 2025",
        "规则“base”费率 8%（new customer） × ¥12,000.00 = ¥960.00；"
        "共 12 期中的第 1 期，到期日 2025年1月15日",
    ),
    "clawback": (
        lambda: worked_line("E5", "clawback", "R1", "2025-04"), "-80.00",
        "base rate 8% (new customer) x CN¥6,000.00 = CN¥480.00; refund F4, 50 days after"
        " signing, lowers the entitlement to CN¥0.00 while CN¥80.00 was paid:"
        " CN¥80.00 clawed back",
        "规则“base”费率 8%（new customer） × ¥6,000.00 = ¥480.00；退款 F4 发生在签约后"
        " 50 天，应得佣金降至 ¥0.00，而已付 ¥80.00：追回 ¥80.00",
    ),
    "bonus": (
        lambda: worked_line("E7", "bonus", "R1", "2025-02"), "100.00",
        "because first survey.score >= 90; satisfaction bonus 2% of 5,000.00"
        " (contract.amount) = CN¥100.00",
        "条件：first survey.score >= 90；规则“satisfaction”奖金 2% of 5,000.00"
        " (contract.amount) = ¥100.00",
    ),
    "retention bonus": (
        lambda: worked_line("E9", "bonus", "R4", "2025-04"), "80.00",
        "cohort of January 2025: 4 of 5 contracts retained (80%); because retention >= 80%;"
        " retention bonus 1% of 8,000.00 (total retained.amount) = CN¥80.00",
        "2025年1月签约批次：5 份合同中保留 4 份（80%）；条件：retention >= 80%；"
        "规则“retention”奖金 1% of 8,000.00 (total retained.amount) = ¥80.00",
    ),
    "penalty": (
        lambda: worked_line("E7", "penalty", "R1", "2025-03"), "-96.00",
        "because first survey.score < 70; dissatisfaction penalty 10% of 960.00"
        " (commission base) = CN¥96.00",
        "条件：first survey.score < 70；规则“dissatisfaction”扣款 10% of 960.00"
        " (commission base) = ¥96.00",
    ),
    "referral": (
        lambda: worked_line("E10", "referral", "R1", "2025-01"), "37.07",
        "because new customer; referral 3% of 1,235.50 (contract.amount)"
        " = 37.065 → CN¥37.07",
        "条件：new customer；推荐奖励 3% of 1,235.50 (contract.amount) = 37.065 → ¥37.07",
    ),
    "commission in JPY": (
        lambda: jpy_line("commission"), "9877",
        "base rate 8% x ¥123,457 = ¥9,877",
        "规则“base”费率 8% × JP¥123,457 = JP¥9,877",
    ),
    "override in JPY": (
        lambda: jpy_line("override"), "494",
        "managers override, level 1: 5% of R1's ¥9,877 = ¥494",
        "规则“managers”管理提成，第 1 级：R1 的 JP¥9,877 × 5% = JP¥494",
    ),
    "adjustment": (
        adjustment_line, "500.00",
        "adjustment for closed period March 2024 (commission, records K1, P2):"
        " recomputed CN¥500.00, paid CN¥0.00, difference CN¥500.00",
        "已结算期间2024年3月的调整（佣金，记录 K1, P2）：重新计算 ¥500.00，"
        "已付 ¥0.00，差额 ¥500.00",
    ),
}


@pytest.mark.parametrize("case", sorted(LINE_CASES))
def test_line_text_both_languages(case: str) -> None:
    build, amount, english, chinese = LINE_CASES[case]
    line = build()
    assert format(line.amount, "f") == amount
    assert line.explain("en") == english
    assert line.explain("zh-CN") == chinese


def test_plain_text_unchanged_without_lang() -> None:
    line = worked_line("E1", "installment", "R1", "2025-01")
    assert line.explain() == ("base rate 8% (new customer) x 12,000.00 = 960.00;"
                              " installment 1 of 12, due 2025-01-15")


STEP_CASES = {
    "payment": (
        explain.payment_step("collected", "10%", None, Decimal("10000.00"),
                             Decimal("1000.0000"), "P1", "P1", "CNY"),
        "collected rate 10% x CN¥10,000.00 (payment P1) = 1,000.00",
        "规则“collected”费率 10% × ¥10,000.00（付款 P1）= 1,000.00",
    ),
    "payment reversed by a refund": (
        explain.payment_step("collected", "10%", None, Decimal("250.00"),
                             Decimal("-25.000"), "P1", "F1", "CNY"),
        "refund F1 reverses CN¥250.00 of payment P1 at its rate 10%: -25.00",
        "退款 F1 中属于付款 P1 的 ¥250.00 按其费率 10% 冲回：-25.00",
    ),
    "running total": (
        explain.running_step(Decimal("61.73"), Decimal("0.00"), Decimal("61.73"), "USD"),
        "running total $61.73 less $0.00 already paid = $61.73",
        "累计应得 US$61.73 减去已付 US$0.00 = US$61.73",
    ),
    "split": (
        explain.split_step("R2", Decimal("0.4"), Decimal("100.01"), Decimal("40.00"), "CNY"),
        "R2's share 40% of CN¥100.01 = CN¥40.00",
        "R2 分得 ¥100.01 的 40% = ¥40.00",
    ),
    "marginal tier": (
        explain.tier_step("marginal", "marginal", "8%", Decimal("70000.00"),
                          Decimal("4100.0000"), "CNY"),
        "marginal tiers (marginal) on the period total CN¥70,000.00,"
        " each band at its own rate = 4,100.00",
        "规则“marginal”阶梯（超额累进），本期累计 ¥70,000.00，各档按各自费率 = 4,100.00",
    ),
    "flat tier": (
        explain.tier_step("flat", "flat", "8%", Decimal("70000.00"), Decimal("5600.00"), "JPY"),
        "flat tiers (flat) on the period total ¥70,000, all of it at 8% = 5,600",
        "规则“flat”阶梯（全额），本期累计 JP¥70,000，全额按 8% = 5,600",
    ),
    "respread": (
        explain.respread_step("F13a", Decimal("3000.00"), Decimal("240.00"),
                              Decimal("80.00"), 10, "CNY"),
        "after refund F13a (CN¥3,000.00 refunded in all) the entitlement is CN¥240.00,"
        " of which CN¥80.00 was paid; the rest is spread over 10 installments",
        "退款 F13a（累计退款 ¥3,000.00）后，应得佣金为 ¥240.00，其中已付 ¥80.00；"
        "其余分摊到剩余的 10 期",
    ),
    "accelerator on money": (
        explain.accelerator_step("signed", "R1", "2025-03", "money", Decimal("120000.00"),
                                 Decimal("100000.00"), Decimal("1.2"), "100% to 150%",
                                 Decimal("1.5"), Decimal("1440.00"), "CNY"),
        "signed attainment of R1 in March 2025: CN¥120,000.00 of CN¥100,000.00 = 120.00%,"
        " in the band 100% to 150%: the commission x 1.5 = CN¥1,440.00",
        "R1 在2025年3月的“signed”完成率：¥120,000.00 / 目标 ¥100,000.00 = 120.00%，"
        "属于区间 100% to 150%：佣金 × 1.5 = ¥1,440.00",
    ),
    "accelerator on a count": (
        explain.accelerator_step("deals", "R1", "2025-03", "count", Decimal("2"),
                                 Decimal("3"), Decimal(2) / Decimal(3), "below 100%",
                                 Decimal("0.5"), Decimal("-40"), "JPY"),
        "deals attainment of R1 in March 2025: 2 of 3 = 66.66…%, in the band below 100%:"
        " the commission x 0.5 = -¥40",
        "R1 在2025年3月的“deals”完成率：2 / 目标 3 = 66.66…%，属于区间 below 100%："
        "佣金 × 0.5 = -JP¥40",
    ),
    "no attainment": (
        explain.no_attainment_step("signed", "R1", "2025-12"),
        "R1 has no signed target in December 2025, so no attainment and no multiplier applies",
        "R1 在2025年12月没有“signed”目标，因此没有完成率，不适用倍数",
    ),
    "cap per contract": (
        explain.limit_step("cap", "contract", Decimal("500.00"), Decimal("537.125"), "CNY"),
        "capped at CN¥500.00 per contract (before: 537.125)",
        "按每份合同上限封顶为 ¥500.00（原为 537.125）",
    ),
    "floor per line": (
        explain.limit_step("floor", "line", Decimal("50"), Decimal("12.5"), "JPY"),
        "raised to the floor at ¥50 per line (before: 12.5)",
        "按每笔下限提高到 JP¥50（原为 12.5）",
    ),
    "period cap": (
        explain.period_limit_step("cap", "base", "2025-03", Decimal("1000.00"),
                                  Decimal("1200.00"), Decimal("-200.00"), "CNY"),
        "base is capped at CN¥1,000.00 per period: the lines of March 2025 so far come to"
        " CN¥1,200.00, so -CN¥200.00 keeps the period's total within the cap",
        "规则“base”每期上限 ¥1,000.00：2025年3月的明细至今合计 ¥1,200.00，"
        "因此以 -¥200.00 使本期合计不超过上限",
    ),
    "period floor": (
        explain.period_limit_step("floor", "base", "2025-03", Decimal("300.00"),
                                  Decimal("120.00"), Decimal("180.00"), "CNY"),
        "base has a floor of CN¥300.00 per period: the lines of March 2025 come to"
        " CN¥120.00, so CN¥180.00 makes up the difference",
        "规则“base”每期下限 ¥300.00：2025年3月的明细合计 ¥120.00，因此补足 ¥180.00",
    ),
    "condition": (
        explain.condition_step("count of complaints where upheld >= 1"),
        "because count of complaints where upheld >= 1",
        "条件：count of complaints where upheld >= 1",
    ),
}


@pytest.mark.parametrize("case", sorted(STEP_CASES))
def test_step_text_both_languages(case: str) -> None:
    step, english, chinese = STEP_CASES[case]
    assert render_steps((step,), "en") == english
    assert render_steps((step,), "zh-CN") == chinese


def test_every_step_code_has_phrases() -> None:
    codes = set(explain._PARTS)
    for lang, phrases in PHRASES.items():
        assert set(phrases) == codes, lang


def test_every_line_kind_has_names() -> None:
    for lang, names in KIND_NAMES.items():
        assert set(names) == set(LINE_KINDS), lang
    assert [kind_name(kind, "zh-CN") for kind in LINE_KINDS] == [
        "佣金", "分期佣金", "奖金", "扣款", "追回", "推荐奖励", "管理提成", "预支", "调整"]


@pytest.mark.parametrize(("lang", "amount", "currency", "expected"), [
    ("en", "-96.00", "CNY", "-CN¥96.00"),
    ("zh-CN", "-96.00", "CNY", "-¥96.00"),
    ("en", "-494", "JPY", "-¥494"),
    ("zh-CN", "-494", "JPY", "-JP¥494"),
    ("en", "1234567.5", "USD", "$1,234,567.50"),
    ("zh-CN", "0", "JPY", "JP¥0"),
    ("en", "-1.234", "KWD", "-KWD1.234"),
    # ISO 4217 gives IDR two decimals; Babel's cash rounding would give none.
    ("en", "1500.5", "IDR", "IDR1,500.50"),
])
def test_money_minor_units(lang: str, amount: str, currency: str, expected: str) -> None:
    assert formatter(lang).money(Decimal(amount), currency) == expected.replace(" ", "\xa0")


@pytest.mark.parametrize(("lang", "period", "expected"), [
    ("en", "2025-01", "January 2025"),
    ("en", "2024-12", "December 2024"),
    ("zh-CN", "2025-01", "2025年1月"),
    ("zh-CN", "2024-12", "2024年12月"),
])
def test_month_names(lang: str, period: str, expected: str) -> None:
    assert formatter(lang).period(period) == expected


def test_dates_by_language() -> None:
    assert formatter("en").date("2024-02-29") == "February 29, 2024"
    assert formatter("zh-CN").date("2024-02-29") == "2024年2月29日"


def test_unknown_language_rejected() -> None:
    with pytest.raises(ValueError, match="language 'fr' is not supported; use one of en, zh-CN"):
        formatter("fr")


def test_cli_lang_ignores_process_locale() -> None:
    """The language comes from --lang alone, whatever LANG and LC_ALL say."""
    env = dict(os.environ, LANG="zh_CN.UTF-8", LC_ALL="zh_CN.UTF-8", LANGUAGE="zh_CN")
    args = [sys.executable, "-m", "commission_engine", "run", str(REFERENCE_PLAN),
            str(WORKED / "E5.jsonl"), "--as-of", "2025-06-01T00:00:00+08:00"]
    english = subprocess.run([*args, "--lang", "en"], capture_output=True, text=True,
                             encoding="utf-8", env=env, check=False, cwd=ROOT, timeout=120)
    chinese = subprocess.run([*args, "--lang", "zh-CN"], capture_output=True, text=True,
                             encoding="utf-8", env=env, check=False, cwd=ROOT, timeout=120)
    assert english.returncode == 0, english.stderr
    assert chinese.returncode == 0, chinese.stderr
    assert "CN¥80.00 clawed back" in english.stdout
    assert "追回" not in english.stdout
    assert "追回 ¥80.00" in chinese.stdout
    assert "到期日 2025年2月10日" in chinese.stdout


@settings(max_examples=200, deadline=None)
@given(st.integers(-10**15, 10**15), st.sampled_from(known_currencies()),
       st.sampled_from(["en", "zh-CN"]))
def test_money_text_round_trips(units: int, currency: str, lang: str) -> None:
    """Formatted money shows exactly the minor digits and reads back as the same amount."""
    digits = minor_digits(currency)
    amount = Decimal(units).scaleb(-digits)
    text = formatter(lang).money(amount, currency)
    number = re.sub(r"[^0-9.\-]", "", text)
    assert Decimal(number) == amount
    fraction = number.partition(".")[2]
    assert len(fraction) == digits
    assert text.startswith("-") == (units < 0)


def test_plain_amount_groups_both_sides() -> None:
    step = explain.amount_step("bonus", "bonus", "1% of 959,260.00", Decimal("9592.6"),
                               Decimal("9593"), "JPY")

    assert step.text == "bonus 1% of 959,260.00 = 9,592.6 -> 9,593"
