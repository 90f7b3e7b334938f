"""Dated exchange rates: contracts in other currencies, converted once per contract."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from helpers import run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

from commission_engine import PlanError, RecordError, load_plan, load_records

JPY_PLAN = load_plan('''plan "x" version "1"
currency JPY
exchange rate USD 150.25 from 2025-01-01
exchange rate USD 155.5 from 2025-04-01

commission base on contract:
    paid to contract.rep
    rate 8% of contract.amount
    pay in contract.term_months monthly installments

commission collected on payment:
    paid to contract.rep
    rate 3% of payment.amount
''')

AS_OF = datetime.fromisoformat("2025-12-31T00:00:00+09:00")


def _rows(zone: str, *contracts: tuple[str, str, str, str, int],
          extra: tuple[dict[str, Any], ...] = ()) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {"type": "rep", "id": "R1", "name": "R1", "timezone": zone, "kind": "staff",
         "team": "", "region": "", "manager": None},
        {"type": "customer", "id": "C1", "owner": "R1", "referred_by": None,
         "created_at": "2024-12-01T00:00:00+09:00"},
    ]
    for contract_id, amount, currency, signed_at, term in contracts:
        rows.append({"type": "contract", "id": contract_id, "customer": "C1", "rep": "R1",
                     "product": "family", "amount": amount, "currency": currency,
                     "signed_at": signed_at, "term_months": term})
    return [*rows, *extra]


TOKYO = _rows(
    "Asia/Tokyo",
    ("K1", "1234.56", "USD", "2025-03-31T20:00:00+09:00", 3),
    ("K2", "120000", "JPY", "2025-04-01T00:00:00+09:00", 1),
    # 16:30 UTC on March 31 is already April 1 in Tokyo: the April rate.
    ("K3", "1000.00", "USD", "2025-03-31T16:30:00Z", 1),
    extra=(
        {"type": "payment", "id": "P1", "contract": "K1", "amount": "100.01",
         "paid_at": "2025-04-10T10:00:00+09:00"},
        {"type": "refund", "id": "F1", "contract": "K1", "amount": "100.01",
         "refunded_at": "2025-05-01T00:00:00+09:00", "reason": "r", "payment": "P1"},
    ),
)


def _lines(rule: str) -> list[tuple[str, tuple[str, ...], Decimal]]:
    result = JPY_PLAN.evaluate(load_records(TOKYO), AS_OF)
    return [(line.period, line.sources, line.amount) for line in result.lines if line.rule == rule]


def test_usd_contract_under_jpy_plan() -> None:
    # 1,234.56 USD x 150.25 = 185,492.64 JPY, and 8% of it is 14,839.4112,
    # rounded once to 14,839 yen in three installments. After F1 the net is
    # (1,234.56 - 100.01) x 150.25 = 170,466.1375, so the entitlement is 13,637.
    assert _lines("base") == [
        ("2025-03", ("K1",), Decimal("4947")),
        ("2025-04", ("K2",), Decimal("9600")),
        ("2025-04", ("K3",), Decimal("12440")),
        ("2025-04", ("K1",), Decimal("4946")),
        ("2025-05", ("K1", "F1"), Decimal("3744")),
    ]


def test_payment_and_refund_use_contract_rate() -> None:
    # 3% of 100.01 x 150.25 = 450.795075, and the refund reverses exactly that.
    assert _lines("collected") == [
        ("2025-04", ("K1", "P1"), Decimal("451")),
        ("2025-05", ("K1", "P1", "F1"), Decimal("-451")),
    ]


def test_explanation_names_rate_and_date() -> None:
    result = JPY_PLAN.evaluate(load_records(TOKYO), AS_OF)
    line = next(line for line in result.lines if line.sources == ("K3",))

    assert line.explanation[0].text == (
        "contract K3 is in USD, converted at 1 USD = 155.5 JPY (the rate from 2025-04-01)")
    assert dict(line.explanation[0].values) == {
        "contract": "K3", "currency": "USD", "rate": "155.5", "from": "2025-04-01",
        "into": "JPY"}
    assert line.explanation[1].text == "base rate 8% x 155,500 = 12,440"


def test_future_contract_not_converted() -> None:
    # K1 is signed in May: an evaluation as of March has no line for it, and
    # one as of December converts it at the April rate.
    rows = _rows("Asia/Tokyo", ("K1", "1000.00", "USD", "2025-05-01T10:00:00+09:00", 1))
    records = load_records(rows)

    march = JPY_PLAN.evaluate(records, datetime.fromisoformat("2025-03-31T00:00:00+09:00"))
    december = JPY_PLAN.evaluate(records, AS_OF)

    assert march.lines == ()
    assert [(line.period, line.amount) for line in december.lines] == [
        ("2025-05", Decimal("12440"))]


def test_kwd_plan_rounds_to_three_decimals() -> None:
    plan = load_plan('''plan "k" version "1"
currency KWD
exchange rate CNY 0.04237 from 2024-01-01

commission base on contract:
    paid to contract.rep
    rate 7.5% of contract.amount
''')
    rows = _rows("Asia/Kuwait", ("K1", "10000.55", "CNY", "2025-02-01T10:00:00+03:00", 1),
                 ("K2", "1.234", "KWD", "2025-02-02T10:00:00+03:00", 1))
    result = plan.evaluate(load_records(rows), AS_OF)

    # 10,000.55 x 0.04237 = 423.7233035 KWD, and 7.5% of it is 31.77924776...,
    # rounded once to 31.779. 7.5% of 1.234 KWD is 0.09255, rounded to 0.093.
    assert [(line.sources, line.amount) for line in result.lines] == [
        (("K1",), Decimal("31.779")), (("K2",), Decimal("0.093"))]
    assert result.to_dict()["lines"][0]["amount"] == "31.779"


def test_currency_without_rate_is_invalid() -> None:
    rows = _rows("Asia/Tokyo", ("K1", "10.00", "EUR", "2025-02-01T10:00:00+09:00", 1))

    with pytest.raises(RecordError) as caught:
        JPY_PLAN.evaluate(load_records(rows), AS_OF)

    (problem,) = caught.value.problems
    assert problem.message == "currency EUR differs from the plan's currency JPY"
    assert problem.fix == ("evaluate it under a plan in EUR, or declare the rate in the plan, as"
                           " in 'exchange rate EUR 7.25 from 2025-01-01'")


def test_signing_before_first_rate_is_invalid() -> None:
    rows = _rows("Asia/Tokyo", ("K1", "10.00", "USD", "2024-12-31T10:00:00+09:00", 1))

    with pytest.raises(RecordError) as caught:
        JPY_PLAN.evaluate(load_records(rows), AS_OF)

    (problem,) = caught.value.problems
    assert problem.record_id == "contract K1"
    assert problem.message == ("no exchange rate of USD is in force on 2024-12-31, its signing"
                               " date (the first is from 2025-01-01)")
    assert problem.fix == "declare a rate of USD from 2024-12-31 or earlier"


def test_attainments_use_converted_amounts() -> None:
    plan = load_plan('''plan "q" version "1"
currency JPY
exchange rate USD 150 from 2025-01-01

quota bookings on contract:
    measure total of contract.amount
    target 300000
''')
    rows = _rows("Asia/Tokyo", ("K1", "1000.00", "USD", "2025-02-01T10:00:00+09:00", 1))

    (found,) = plan.attainments(load_records(rows), AS_OF)

    assert found.measure == Decimal("150000")
    assert found.attainment == Decimal("0.5")


# ---------------------------------------------------------------- check errors


def _errors(rates: str) -> list[tuple[int, str, str | None]]:
    with pytest.raises(PlanError) as caught:
        load_plan(f'''plan "x" version "1"
currency JPY
{rates}
commission base on contract:
    paid to contract.rep
    rate 8% of contract.amount
''')
    return [(d.line, d.message, d.hint) for d in caught.value.diagnostics]


def test_exchange_rate_errors() -> None:
    errors = _errors('''exchange rate USX 150 from 2025-01-01
exchange rate JPY 1 from 2025-01-01
exchange rate USD 0 from 2025-01-01
exchange rate EUR 160 from 2025-01-01
exchange rate EUR 161 from 2025-01-01
''')

    assert errors == [
        (3, "unknown currency 'USX'", "did you mean 'USD'?"),
        (4, "an exchange rate of JPY into itself is always 1",
         "remove the line; exchange rates are for other currencies"),
        (5, "an exchange rate of 0 is not a price",
         "write how many JPY one USD is worth, above 0"),
        (7, "the rate of EUR from 2025-01-01 is given twice (also on line 6)",
         "keep one of the two rates"),
    ]


# ---------------------------------------------------------------- properties


@settings(max_examples=80, deadline=None)
@given(st.integers(1, 10**9), st.integers(1, 10**7))
def test_converted_commission_rounds_once(cents: int, rate_units: int) -> None:
    """The commission is 8% of amount x rate, rounded once to the yen."""
    amount = Decimal(cents).scaleb(-2)
    rate = Decimal(rate_units).scaleb(-4)
    plan = load_plan(f'''plan "x" version "1"
currency JPY
exchange rate USD {rate} from 2025-01-01

commission base on contract:
    paid to contract.rep
    rate 8% of contract.amount
''')
    rows = _rows("Asia/Tokyo", ("K1", str(amount), "USD", "2025-02-01T10:00:00+09:00", 1))
    result = plan.evaluate(load_records(rows), AS_OF)

    expected = (Decimal("0.08") * amount * rate).quantize(Decimal(1), ROUND_HALF_UP)
    assert [line.amount for line in result.lines] == ([expected] if expected else [])


def test_cli_runs_converted_plan(tmp_path: Path) -> None:
    plan = tmp_path / "tokyo.plan"
    plan.write_text('''plan "x" version "1"
currency JPY
exchange rate USD 150.25 from 2025-01-01

commission base on contract:
    paid to contract.rep
    rate 8% of contract.amount
''', encoding="utf-8")
    records = tmp_path / "records.jsonl"
    rows = _rows("Asia/Tokyo", ("K1", "1234.56", "USD", "2025-03-31T20:00:00+09:00", 1))
    records.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")

    completed = run_cli("run", str(plan), str(records), "--as-of", "2025-12-31T00:00:00+09:00",
                        "--format", "json")

    assert completed.returncode == 0, completed.stderr
    (line,) = json.loads(completed.stdout)["lines"]
    assert line["amount"] == "14839"
    assert line["currency"] == "JPY"
    assert line["explanation"][0]["values"]["rate"] == "150.25"


def test_conversion_explained_in_chinese() -> None:
    result = JPY_PLAN.evaluate(load_records(TOKYO), AS_OF)

    assert result.lines[0].explain("zh-CN").startswith(
        "合同 K1 以 USD 计价，按 1 USD = 150.25 JPY 折算（自 2025年1月1日 起的汇率）；")
