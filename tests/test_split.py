"""Split credit: exact shares by largest remainder, ties to the smaller payee id."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from commission_engine import load_plan, load_records, money
from commission_engine.strategies import record_sets


@settings(max_examples=300)
@given(
    units=st.integers(-10**9, 10**9),
    weights=st.lists(st.integers(1, 100), min_size=1, max_size=6),
    currency=st.sampled_from(["CNY", "JPY", "KWD"]),
)
def test_split_conserves_amount(units: int, weights: list[int], currency: str) -> None:
    digits = money.minor_digits(currency)
    amount = Decimal(units).scaleb(-digits)
    total = sum(weights)
    shares = [(f"R{index}", Decimal(weight) / Decimal(total)) for index, weight in enumerate(weights)]

    parts = money.split(amount, shares, currency)

    assert sum(parts.values()) == amount
    quantum = Decimal(1).scaleb(-digits)
    for key, fraction in shares:
        exact = amount * fraction
        assert abs(parts[key] - exact) < quantum
        assert parts[key].as_tuple().exponent == -digits


def test_split_tie_goes_to_smaller_id() -> None:
    parts = money.split(Decimal("0.01"), [("R2", Decimal("0.5")), ("R1", Decimal("0.5"))], "CNY")

    assert parts == {"R1": Decimal("0.01"), "R2": Decimal("0.00")}


def test_split_of_field_case() -> None:
    parts = money.split(Decimal("100.01"), [("R1", Decimal("0.6")), ("R2", Decimal("0.4"))], "CNY")

    assert parts == {"R1": Decimal("60.01"), "R2": Decimal("40.00")}


_WHOLE = load_plan('''plan "s" version "1"
currency CNY

commission base on contract:
    paid to contract.rep
    rate 8% of contract.amount
    pay in contract.term_months monthly installments
''')
_SPLIT = load_plan('''plan "s" version "1"
currency CNY

commission base on contract:
    split between contract.rep 60%, customer.owner 25%, customer.owner 15%
    rate 8% of contract.amount
    pay in contract.term_months monthly installments
''')
_AS_OF = datetime.fromisoformat("2030-01-01T00:00:00+08:00")


@settings(max_examples=60, deadline=None)
@given(record_sets(max_reps=3))
def test_split_rule_conserves_each_line(rows: list[dict[str, Any]]) -> None:
    """Through a whole evaluation, a split rule's parts add up to the unsplit lines."""
    records = load_records(rows)
    whole = _WHOLE.evaluate(records, _AS_OF)
    split = _SPLIT.evaluate(records, _AS_OF)

    def by_source(result: Any) -> dict[tuple[str, ...], Decimal]:
        sums: dict[tuple[str, ...], Decimal] = {}
        for line in (*result.lines, *result.schedule):
            sums[line.sources] = sums.get(line.sources, Decimal(0)) + line.amount
        return sums

    assert by_source(split) == {key: value for key, value in by_source(whole).items() if value}
    for line in (*split.lines, *split.schedule):
        assert line.amount.as_tuple().exponent == -2


@settings(max_examples=60, deadline=None)
@given(record_sets(max_reps=3))
def test_split_payee_totals_are_exact_shares(rows: list[dict[str, Any]]) -> None:
    """Over a whole schedule, each payee gets the split of the contract's total."""
    records = load_records(rows)
    whole = _WHOLE.evaluate(records, _AS_OF)
    split = _SPLIT.evaluate(records, _AS_OF)

    totals: dict[str, Decimal] = {}
    for line in (*whole.lines, *whole.schedule):
        totals[line.sources[0]] = totals.get(line.sources[0], Decimal(0)) + line.amount
    credited: dict[tuple[str, str], Decimal] = {}
    for line in (*split.lines, *split.schedule):
        key = (line.sources[0], line.payee)
        credited[key] = credited.get(key, Decimal(0)) + line.amount
    for contract_id, total in totals.items():
        contract = records.contracts[contract_id]
        customer = records.customers[contract.customer]
        shares: dict[str, Decimal] = {}
        for payee, share in ((contract.rep, "0.60"), (customer.owner, "0.25"),
                             (customer.owner, "0.15")):
            shares[payee] = shares.get(payee, Decimal(0)) + Decimal(share)
        expected = money.split(total, sorted(shares.items()), "CNY")
        for payee, amount in expected.items():
            assert credited.get((contract_id, payee), Decimal(0)) == amount, (contract_id, payee)
