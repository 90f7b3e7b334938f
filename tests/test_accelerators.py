"""Accelerators and decelerators: commission multipliers by attainment band."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commission_engine import PlanError, load_plan, load_records

HEADER = '''plan "a" version "1"
currency CNY

quota bookings on contract:
    measure total of contract.amount
    target from records
'''

PLAN = load_plan(HEADER + '''
commission base on contract:
    paid to contract.rep
    rate 8% of contract.amount
    accelerate by bookings attainment:
        0.5x below 50%
        1x up to 100%
        1.5x above
    pay in contract.term_months monthly installments
    on refund:
        stop unpaid installments

commission collected on payment:
    paid to contract.rep
    rate 2% of payment.amount
    accelerate by bookings attainment:
        0x below 25%
        1x below 100%
        2x above
''')

AS_OF = datetime.fromisoformat("2025-12-31T00:00:00+08:00")


def _rows(*contracts: tuple[str, str, str, int], targets: dict[str, str],
          extra: tuple[dict[str, Any], ...] = ()) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {"type": "rep", "id": "R1", "name": "R1", "timezone": "Asia/Shanghai", "kind": "staff",
         "team": "", "region": "", "manager": None},
        {"type": "customer", "id": "C1", "owner": "R1", "referred_by": None,
         "created_at": "2024-12-01T00:00:00+08:00"},
    ]
    for contract_id, amount, signed_at, term in contracts:
        rows.append({"type": "contract", "id": contract_id, "customer": "C1", "rep": "R1",
                     "product": "family", "amount": amount, "currency": "CNY",
                     "signed_at": signed_at, "term_months": term})
    for period, value in targets.items():
        rows.append({"type": "target", "rep": "R1", "period": period, "metric": "bookings",
                     "value": value})
    return [*rows, *extra]


def _amounts(rows: list[dict[str, Any]], rule: str = "base") -> list[tuple[str, str, Decimal]]:
    result = PLAN.evaluate(load_records(rows), AS_OF)
    return [(line.period, line.kind, line.amount) for line in result.lines if line.rule == rule]


def test_band_above_multiplies_installments() -> None:
    rows = _rows(("K1", "3000.00", "2025-01-15T10:00:00+08:00", 2),
                 ("K2", "1500.00", "2025-01-31T10:00:00+08:00", 1),
                 targets={"2025-01": "4000.00"})

    assert _amounts(rows) == [
        ("2025-01", "installment", Decimal("180.00")),
        ("2025-01", "installment", Decimal("180.00")),
        ("2025-02", "installment", Decimal("180.00")),
    ]


def test_band_explained_on_line() -> None:
    rows = _rows(("K1", "3000.00", "2025-01-15T10:00:00+08:00", 1),
                 ("K2", "1500.00", "2025-01-31T10:00:00+08:00", 1),
                 targets={"2025-01": "4000.00"})
    result = PLAN.evaluate(load_records(rows), AS_OF)
    line = next(line for line in result.lines if line.sources == ("K1",))

    assert [step.code for step in line.explanation] == ["rate", "accelerator", "installment"]
    assert line.explanation[0].text == "base rate 8% x 1.5 x 3,000.00 = 360.00"
    assert line.explanation[1].text == (
        "bookings attainment of R1 in 2025-01: 4,500.00 of 4,000.00 = 112.50%, in the band"
        " above 100%: the commission x 1.5 = 360.00")
    values = dict(line.explanation[1].values)
    assert values["attainment"] == "1.125"
    assert values["band"] == "above 100%"
    assert values["multiplier"] == "1.5"


def test_inclusive_edge_stays_in_band() -> None:
    # 4,000.00 of 4,000.00 is exactly 100%: "1x up to 100%" keeps it at 1x.
    rows = _rows(("K1", "4000.00", "2025-01-15T10:00:00+08:00", 1),
                 targets={"2025-01": "4000.00"})

    assert _amounts(rows) == [("2025-01", "installment", Decimal("320.00"))]


def test_exclusive_edge_moves_up() -> None:
    # 1,000.00 of 4,000.00 is exactly 25%: "0x below 25%" leaves it to the 1x band,
    # and 2,000.00 is exactly 50%: "0.5x below 50%" leaves it to the 1x band too.
    rows = _rows(("K1", "2000.00", "2025-01-15T10:00:00+08:00", 1),
                 targets={"2025-01": "4000.00"},
                 extra=({"type": "payment", "id": "P1", "contract": "K1", "amount": "1000.00",
                         "paid_at": "2025-01-20T10:00:00+08:00"},))

    assert _amounts(rows) == [("2025-01", "installment", Decimal("160.00"))]
    assert _amounts(rows, "collected") == [("2025-01", "commission", Decimal("20.00"))]


def test_decelerator_below_half() -> None:
    rows = _rows(("K1", "1234.55", "2025-01-15T10:00:00+08:00", 1),
                 targets={"2025-01": "4000.00"})

    # 8% x 0.5 x 1,234.55 = 49.382, rounded once.
    assert _amounts(rows) == [("2025-01", "installment", Decimal("49.38"))]


def test_zero_multiplier_pays_nothing() -> None:
    rows = _rows(("K1", "9000.00", "2025-02-15T10:00:00+08:00", 1),
                 targets={"2025-02": "9000.00", "2025-03": "10000.00"},
                 extra=({"type": "payment", "id": "P1", "contract": "K1", "amount": "900.00",
                         "paid_at": "2025-03-02T10:00:00+08:00"},))

    # March: 0 signed of 10,000.00 is 0%, so the 0x band takes the payment's commission.
    assert _amounts(rows, "collected") == []
    assert _amounts(rows) == [("2025-02", "installment", Decimal("720.00"))]


def test_missing_target_means_no_multiplier() -> None:
    rows = _rows(("K1", "3000.00", "2025-01-15T10:00:00+08:00", 1), targets={})
    result = PLAN.evaluate(load_records(rows), AS_OF)
    (line,) = [line for line in result.lines if line.rule == "base"]

    assert line.amount == Decimal("240.00")
    assert [step.code for step in line.explanation] == ["rate", "no_attainment", "installment"]
    assert line.explanation[1].text == (
        "R1 has no bookings target in 2025-01, so no attainment and no multiplier applies")
    assert line.explanation[0].text == "base rate 8% x 3,000.00 = 240.00"


def test_refund_respreads_at_accelerated_rate() -> None:
    rows = _rows(("K1", "6000.00", "2025-01-15T10:00:00+08:00", 3),
                 targets={"2025-01": "4000.00"},
                 extra=({"type": "refund", "id": "F1", "contract": "K1", "amount": "3000.00",
                         "refunded_at": "2025-02-20T10:00:00+08:00", "reason": "r"},))

    # 8% x 1.5 x 6,000.00 = 720.00 as 240.00 x 3. After the refund the entitlement is
    # 8% x 1.5 x 3,000.00 = 360.00, of which 480.00 was paid: the last one is cancelled.
    assert _amounts(rows) == [
        ("2025-01", "installment", Decimal("240.00")),
        ("2025-02", "installment", Decimal("240.00")),
    ]


def test_later_deal_raises_period_band() -> None:
    """The band is the whole period's attainment as seen at the as-of time."""
    rows = _rows(("K1", "3000.00", "2025-01-05T10:00:00+08:00", 1),
                 ("K2", "3000.00", "2025-01-25T10:00:00+08:00", 1),
                 targets={"2025-01": "5000.00"})
    early = PLAN.evaluate(load_records(rows), datetime.fromisoformat("2025-01-10T00:00:00+08:00"))
    late = PLAN.evaluate(load_records(rows), AS_OF)

    assert [line.amount for line in early.lines] == [Decimal("240.00")]
    assert [line.amount for line in late.lines if line.rule == "base"] == [
        Decimal("360.00"), Decimal("360.00")]


# ---------------------------------------------------------------- check errors


def _errors(body: str) -> list[tuple[int, int, str, str | None]]:
    with pytest.raises(PlanError) as caught:
        load_plan(HEADER + body)
    return [(d.line, d.column, d.message, d.hint) for d in caught.value.diagnostics
            if d.severity == "error"]


def test_unknown_quota_suggests() -> None:
    errors = _errors('''
commission base on contract:
    paid to contract.rep
    rate 8% of contract.amount
    accelerate by bookngs attainment:
        1x below 100%
        1.5x above
''')

    assert errors == [(11, 19, "no quota is named 'bookngs'", "did you mean 'bookings'?")]


def test_bands_overlap_and_open_end() -> None:
    errors = _errors('''
commission base on contract:
    paid to contract.rep
    rate 8% of contract.amount
    accelerate by bookings attainment:
        1x below 100%
        1.2x up to 80%
        1.5x up to 150%
''')

    assert errors == [
        (13, 9, "the bands overlap: 80% is not above the band before (100%)",
         "list the bands from the lowest bound up"),
        (14, 9, "no band covers attainments above 150%",
         "end the bands with a row such as '1.5x above'"),
    ]


def test_above_band_must_be_last() -> None:
    errors = _errors('''
commission base on contract:
    paid to contract.rep
    rate 8% of contract.amount
    accelerate by bookings attainment:
        1.5x above
        1x below 100%
''')

    assert errors[0] == (12, 9, "only the last band can be 'above'",
                         "give this band an upper bound with 'up to' or 'below'")


def test_multiplier_too_large() -> None:
    errors = _errors('''
commission base on contract:
    paid to contract.rep
    rate 8% of contract.amount
    accelerate by bookings attainment:
        1x below 100%
        15x above
''')

    assert errors == [(13, 9, "a multiplier of 15x is above 10x",
                       "check for a missing decimal point, such as 1.5x")]


def test_tiered_rule_cannot_accelerate() -> None:
    errors = _errors('''
commission base on contract:
    paid to contract.rep
    tiers of contract.amount per period, flat:
        8% up to 100,000.00
        10% above
    accelerate by bookings attainment:
        1x below 100%
        1.5x above
''')

    assert errors == [(13, 5, "a tiered rule cannot also have accelerators",
                       "keep the tiers or the accelerator, or put them in two rules")]


# ---------------------------------------------------------------- properties

_MULTIPLIERS = ((Decimal("0.5"), Decimal("0.5"), False), (Decimal(1), Decimal(1), True),
                (None, Decimal("1.5"), False))


def _band(attainment: Decimal) -> Decimal:
    for bound, multiplier, inclusive in _MULTIPLIERS:
        if bound is None or attainment < bound or (inclusive and attainment == bound):
            return multiplier
    raise AssertionError("unreachable")


@settings(max_examples=80, deadline=None)
@given(st.lists(st.integers(1, 2_000_000), min_size=1, max_size=6),
       st.integers(1, 3_000_000))
def test_commission_is_band_times_rate(cents: list[int], target_cents: int) -> None:
    """Each contract earns 8% x its period's band multiplier x its amount, rounded once."""
    amounts = [Decimal(value).scaleb(-2) for value in cents]
    target = Decimal(target_cents).scaleb(-2)
    contracts = tuple((f"K{index}", str(amount), f"2025-03-{index + 1:02d}T10:00:00+08:00", 1)
                      for index, amount in enumerate(amounts))
    rows = _rows(*contracts, targets={"2025-03": str(target)})

    multiplier = _band(sum(amounts) / target)
    expected = [(Decimal("0.08") * multiplier * amount).quantize(Decimal("0.01"), ROUND_HALF_UP)
                for amount in amounts]
    assert [amount for _p, _k, amount in _amounts(rows)] == [a for a in expected if a]


def test_accelerator_reading_own_commission() -> None:
    with pytest.raises(PlanError) as caught:
        load_plan('''plan "a" version "1"
currency CNY

quota earned on contract:
    measure total of commission bonus_base
    target 100.00

commission bonus_base on contract:
    paid to contract.rep
    rate 1% of contract.amount

commission base on contract:
    paid to contract.rep
    rate 8% of contract.amount + commission base2
    accelerate by earned attainment:
        1x below 100%
        1.5x above

commission base2 on contract:
    paid to contract.rep
    rate 1% of contract.amount

quota loop on contract:
    measure total of commission looped
    target 100.00

commission looped on contract:
    paid to contract.rep
    rate 1% of contract.amount
    accelerate by loop attainment:
        1x below 100%
        1.5x above
''')
    errors = [(d.line, d.column, d.message, d.hint) for d in caught.value.diagnostics
              if d.severity == "error"]

    assert errors == [(30, 19, ("the accelerator of looped reads its own commission: rule looped"
                                " -> quota loop -> rule looped"),
                       "measure the quota without this rule's commission")]
